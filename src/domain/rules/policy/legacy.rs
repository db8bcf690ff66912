//! The rules of legacy projects, exactly as they were checked when their events were written.

use super::*;

/// Every legacy rule: its name, the content types it applies to, what it requires.
pub const RULES: &[(&str, &str, &str)] = &[
    ("campaign.creative-director-approval", "campaign", "A delivery needs the master's exact digest approved by a creative director (their latest decision on it)."),
    ("social.qc-before-approval", "social", "An approval that approves needs a passing QC review of the exact digest first."),
    ("ecomm.qc-product-and-colour", "ecomm", "A delivery needs a passing QC review of the master's exact digest in which product_accuracy and colour_accuracy pass."),
    ("ecomm.brand-and-client-approval", "ecomm", "A delivery needs the master's exact digest approved by brand compliance and by the client approver (each one's latest decision on it)."),
    ("ecomm.brief-formats", "ecomm", "A delivery's format must be one the project's briefs declare in deliverable_formats (as last revised)."),
    ("print.proof", "any", "A print or large-format delivery needs a passing QC review of the master's exact digest at print or large-format proof size."),
];

fn requires(rule: &str) -> String {
    RULES.iter().find(|(r, _, _)| *r == rule).map(|(_, _, text)| (*text).to_owned()).unwrap_or_default()
}

fn outcome(rule: &'static str, finding: Finding) -> Outcome {
    Outcome { rule, requires: requires(rule), finding }
}

pub fn evaluate(view: &View<'_>, project: &ProjectId, intent: Intent<'_>) -> Vec<Outcome> {
    let Some(content) = view.content_type(project) else { return vec![] };
    let mut out = Vec::new();
    match intent {
        Intent::Approval { asset, digest, decision: Decision::Approved, .. } if content == ContentType::Social => {
            let passing = view.reviews(project, digest).iter().any(|r| r.verdict == Verdict::Pass);
            let finding = if passing {
                passed(vec![])
            } else {
                failed(format!("no passing QC review of asset `{asset}` at {digest}"))
            };
            out.push(outcome("social.qc-before-approval", finding));
        }
        Intent::Delivery { master, medium, format, .. } => {
            let Some(record) = view.asset(project, master) else { return out };
            let digest = &Digest::from_bytes(&record.digest);
            let passing: Vec<&Review> =
                view.reviews(project, digest).into_iter().filter(|r| r.verdict == Verdict::Pass).collect();
            let approved_by = |role: Role| {
                view.approvals(project, digest).iter().rev().find(|a| a.role == Some(role)).map(|a| a.decision)
                    == Some(Decision::Approved)
            };
            let master_text = |what: &str| format!("{what} of master `{master}` at {digest}");
            let check = |ok: bool, missing: String| if ok { passed(vec![]) } else { failed(missing) };
            match content {
                ContentType::Campaign => out.push(outcome(
                    "campaign.creative-director-approval",
                    check(approved_by(Role::CreativeDirector), master_text("no approval by a creative director")),
                )),
                ContentType::Ecomm => {
                    let product_and_colour =
                        passing.iter().any(|r| r.passed(QcCheck::ProductAccuracy) && r.passed(QcCheck::ColourAccuracy));
                    out.push(outcome(
                        "ecomm.qc-product-and-colour",
                        check(
                            product_and_colour,
                            master_text("no passing QC review with product_accuracy and colour_accuracy passing"),
                        ),
                    ));
                    let missing =
                        [(Role::BrandCompliance, "brand compliance"), (Role::ClientApprover, "the client approver")]
                            .into_iter()
                            .find(|(role, _)| !approved_by(*role));
                    out.push(outcome(
                        "ecomm.brand-and-client-approval",
                        match missing {
                            Some((_, who)) => failed(master_text(&format!("no approval by {who}"))),
                            None => passed(vec![]),
                        },
                    ));
                    let formats = view.brief_formats(project);
                    let declared: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
                    out.push(outcome(
                        "ecomm.brief-formats",
                        check(
                            formats.iter().any(|f| f == format),
                            format!("format `{format}` is not among the brief's deliverable formats {declared:?}"),
                        ),
                    ));
                }
                ContentType::Social => {}
            }
            if matches!(medium, DeliveryMedium::Print | DeliveryMedium::LargeFormat) {
                let proofed = passing.iter().any(|r| matches!(r.medium, ProofMedium::Print | ProofMedium::LargeFormat));
                out.push(outcome(
                    "print.proof",
                    check(proofed, master_text("no passing QC review at print or large-format proof size")),
                ));
            }
        }
        _ => {}
    }
    out
}
