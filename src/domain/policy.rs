//! Workflow policies, chosen by the project's content type (documented in `docs/policies.md`).
//! An approval or delivery that breaks its policy is refused, naming the rule and the evidence
//! that is missing.

use super::event::*;
use super::payload::Payload;
use super::refusal::Refusal;
use super::state::{Namespace, Record, View};

/// Every rule: its name, the content types it applies to ("any" for all), what it requires.
pub const RULES: &[(&str, &str, &str)] = &[
    ("campaign.creative-director-approval", "campaign", "A delivery needs the master's exact digest approved by a creative director (their latest decision on it)."),
    ("social.qc-before-approval", "social", "An approval that approves needs a passing QC review of the exact digest first."),
    ("ecomm.qc-product-and-colour", "ecomm", "A delivery needs a passing QC review of the master's exact digest in which product_accuracy and colour_accuracy pass."),
    ("ecomm.brand-and-client-approval", "ecomm", "A delivery needs the master's exact digest approved by brand compliance and by the client approver (each one's latest decision on it)."),
    ("ecomm.brief-formats", "ecomm", "A delivery's format must be one the project's briefs declare in deliverable_formats (as last revised)."),
    ("print.proof", "any", "A print or large-format delivery needs a passing QC review of the master's exact digest at print or large-format proof size."),
];

fn refuse(rule: &'static str, missing: String) -> Result<(), Refusal> {
    Err(Refusal::Policy { rule, missing })
}

/// Checks the policy that applies to an approval or a delivery.
pub fn check(view: &View<'_>, payload: &Payload) -> Result<(), Refusal> {
    let project = &payload.project;
    let Some(content) = view.content_type(project) else { return Ok(()) };
    match &payload.body {
        Body::ApprovalRecorded(b) if content == ContentType::Social && b.decision == Decision::Approved => {
            let passing = view.reviews(project, &b.digest).iter().any(|r| r.verdict == Verdict::Pass);
            if !passing {
                return refuse(
                    "social.qc-before-approval",
                    format!("no passing QC review of asset `{}` at {}", b.asset, b.digest),
                );
            }
        }
        Body::DeliveryRecorded(b) => {
            let Some(Record::Asset { digest }) = view.record(project, Namespace::Asset, &b.master_asset) else {
                return Ok(());
            };
            let digest = &digest;
            let passing: Vec<&super::state::Review> =
                view.reviews(project, digest).into_iter().filter(|r| r.verdict == Verdict::Pass).collect();
            let approved_by = |role: Role| {
                view.approvals(project, digest).iter().rev().find(|a| a.role == Some(role)).map(|a| a.decision)
                    == Some(Decision::Approved)
            };
            let master = |what: &str| format!("{what} of master `{}` at {digest}", b.master_asset);
            match content {
                ContentType::Campaign if !approved_by(Role::CreativeDirector) => {
                    return refuse("campaign.creative-director-approval", master("no approval by a creative director"));
                }
                ContentType::Ecomm => {
                    let product_and_colour = passing.iter().any(|r| {
                        r.passed.contains(&QcCheck::ProductAccuracy) && r.passed.contains(&QcCheck::ColourAccuracy)
                    });
                    if !product_and_colour {
                        return refuse(
                            "ecomm.qc-product-and-colour",
                            master("no passing QC review with product_accuracy and colour_accuracy passing"),
                        );
                    }
                    for (role, who) in
                        [(Role::BrandCompliance, "brand compliance"), (Role::ClientApprover, "the client approver")]
                    {
                        if !approved_by(role) {
                            return refuse("ecomm.brand-and-client-approval", master(&format!("no approval by {who}")));
                        }
                    }
                    let formats = view.brief_formats(project);
                    if !formats.iter().any(|f| f == &b.format) {
                        let declared: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
                        return refuse(
                            "ecomm.brief-formats",
                            format!("format `{}` is not among the brief's deliverable formats {declared:?}", b.format),
                        );
                    }
                }
                _ => {}
            }
            if matches!(b.medium, DeliveryMedium::Print | DeliveryMedium::LargeFormat) {
                let proofed = passing.iter().any(|r| matches!(r.medium, ProofMedium::Print | ProofMedium::LargeFormat));
                if !proofed {
                    return refuse("print.proof", master("no passing QC review at print or large-format proof size"));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The rules as a Markdown table, for `docs/policies.md`.
pub fn rules_markdown() -> String {
    let mut out = String::from("| rule | applies to | requires |\n|---|---|---|\n");
    for (rule, applies, requires) in RULES {
        out.push_str(&format!("| `{rule}` | {applies} | {requires} |\n"));
    }
    out
}
