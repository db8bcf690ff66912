//! The compliance verdict of a delivered asset: pass or fail, with each check and its reasons
//! (`docs/compliance.md`, "Compliance verdicts"). Pure: the facts are gathered by the caller
//! from the log, the projections and the evidence bundle; [`judge`] only weighs them.

use crate::outputs::disclosure::Disclosure;
use serde::Serialize;

/// The checks of a verdict, in the order they are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// The project's workflow policy as it stood when the delivery was appended (its content
    /// type's rule set and the amendments made before it), judged on the evidence as it stands.
    RulesAtDelivery,
    /// No rights along the ancestry forbid the delivery's use: no reference-only input, no model
    /// version whose licence is not commercial, for a commercial delivery.
    Rights,
    /// The disclosure is derived from entries the ledger holds for every asset of the ancestry,
    /// and tells AI-made pixels with the models that made them.
    Disclosure,
    /// No standing approval in the ancestry was of an asset a later edit superseded.
    ApprovalDrift,
    /// Nothing of the ancestry — the delivery itself, what made its master, the reviews and
    /// approvals that judged them — has been retracted.
    NotRetracted,
    /// The asset's evidence bundle verifies against the ledger's own key.
    Evidence,
}

/// One check: passed or not, and why not.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Check {
    pub check: CheckName,
    pub passed: bool,
    /// What fails it, one sentence each; empty when it passed.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
}

/// The delivery a verdict is about.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeliveryFacts {
    pub delivery_id: String,
    pub master: String,
    pub channel: String,
    pub medium: String,
    pub format: String,
    pub usage: String,
    pub locale: String,
    /// The delivery entry's sequence.
    pub sequence: u64,
    pub occurred_at: String,
}

/// A delivered asset's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Verdict {
    pub project: String,
    pub asset: String,
    pub delivery: DeliveryFacts,
    pub verdict: Outcome,
    pub checks: Vec<Check>,
    pub disclosure: Disclosure,
}

/// What a verdict is judged on; every list holds the failing findings, each a sentence.
pub struct Facts {
    pub project: String,
    pub asset: String,
    pub delivery: DeliveryFacts,
    /// The rules in force at delivery that fail today, as `rule: what is missing`; `None` when
    /// no workflow policy judged the delivery (a legacy project, or one adopted after it).
    pub rules: Option<Vec<String>>,
    pub rights: Vec<String>,
    /// Assets of the ancestry whose making entry the ledger does not hold.
    pub unknown_making: Vec<String>,
    pub disclosure: Disclosure,
    pub drift: Vec<String>,
    pub retracted: Vec<String>,
    /// Why the evidence bundle does not verify.
    pub evidence: Option<String>,
}

/// Weighs the facts: the verdict passes when every check does.
pub fn judge(facts: Facts) -> Verdict {
    let check = |check, reasons: Vec<String>| Check { check, passed: reasons.is_empty(), reasons };
    let rules = facts.rules.unwrap_or_else(|| {
        vec!["no workflow policy judged the delivery: the project was not governed when it was appended".to_owned()]
    });
    let mut disclosure =
        facts.unknown_making.iter().map(|a| format!("the making of `{a}` is not in the ledger")).collect::<Vec<_>>();
    if facts.disclosure.ai_generated && facts.disclosure.models.is_empty() {
        disclosure.push("AI made some of its pixels, but no model version is named in its ancestry".to_owned());
    }
    let checks = vec![
        check(CheckName::RulesAtDelivery, rules),
        check(CheckName::Rights, facts.rights),
        check(CheckName::Disclosure, disclosure),
        check(CheckName::ApprovalDrift, facts.drift),
        check(CheckName::NotRetracted, facts.retracted),
        check(CheckName::Evidence, facts.evidence.into_iter().collect()),
    ];
    let verdict = if checks.iter().all(|c| c.passed) { Outcome::Pass } else { Outcome::Fail };
    Verdict {
        project: facts.project,
        asset: facts.asset,
        delivery: facts.delivery,
        verdict,
        checks,
        disclosure: facts.disclosure,
    }
}

/// A project's compliance report: the verdict of every delivered asset.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub project: String,
    pub title: String,
    /// The log's size when the report was made.
    pub tree_size: u64,
    pub generated_at: String,
    pub passed: usize,
    pub failed: usize,
    pub deliveries: Vec<Verdict>,
    /// More deliveries follow: ask again with `after` this sequence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// The report as a printable HTML page (no script, no external resource).
pub fn html(report: &Report) -> String {
    let e = escape;
    let mut out = String::new();
    out.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    out.push_str(&format!("<title>Compliance report — {}</title>", e(&report.title)));
    out.push_str(
        "<style>body{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse;width:100%}\
         td,th{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}.pass{color:#064}.fail{color:#a00}\
         @media print{body{margin:0}section{break-inside:avoid}}</style></head><body>\n",
    );
    out.push_str(&format!(
        "<h1>Compliance report</h1>\n<p><b>{}</b> (<code>{}</code>) — {} delivered assets: {} pass, {} fail. \
         Log size {}, generated {}.{}</p>\n",
        e(&report.title),
        e(&report.project),
        report.deliveries.len(),
        report.passed,
        report.failed,
        report.tree_size,
        e(&report.generated_at),
        report
            .next
            .map(|a| format!(" More deliveries follow: the next page is <code>?after={a}</code>."))
            .unwrap_or_default()
    ));
    for v in &report.deliveries {
        let (class, word) = match v.verdict {
            Outcome::Pass => ("pass", "PASS"),
            Outcome::Fail => ("fail", "FAIL"),
        };
        let d = &v.delivery;
        out.push_str(&format!(
            "<section><h2><code>{}</code> — <span class=\"{class}\">{word}</span></h2>\n<p>Delivery <code>{}</code> of \
             <code>{}</code> for {} ({}, {}, {}, {}), entry {} at {}.</p>\n<p>{} <small>({})</small></p>\n\
             <table><tr><th>check</th><th>result</th><th>reasons</th></tr>\n",
            e(&v.asset),
            e(&d.delivery_id),
            e(&d.master),
            e(&d.channel),
            e(&d.medium),
            e(&d.format),
            e(&d.usage),
            e(&d.locale),
            d.sequence,
            e(&d.occurred_at),
            e(&v.disclosure.statement),
            e(&v.disclosure.digital_source_type),
        ));
        for c in &v.checks {
            let name =
                serde_json::to_value(c.check).ok().and_then(|n| n.as_str().map(str::to_owned)).unwrap_or_default();
            let (class, word) = if c.passed { ("pass", "pass") } else { ("fail", "fail") };
            let reasons: Vec<String> = c.reasons.iter().map(|r| e(r)).collect();
            out.push_str(&format!(
                "<tr><td>{}</td><td class=\"{class}\">{word}</td><td>{}</td></tr>\n",
                e(&name.replace('_', " ")),
                reasons.join("<br>")
            ));
        }
        out.push_str("</table></section>\n");
    }
    out.push_str("</body></html>\n");
    out
}

/// Text as HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outputs::disclosure::{Derivation, SourceType};

    fn facts() -> Facts {
        Facts {
            project: "c:p".into(),
            asset: "v".into(),
            delivery: DeliveryFacts {
                delivery_id: "dl".into(),
                master: "m".into(),
                channel: "web".into(),
                medium: "digital".into(),
                format: "jpeg".into(),
                usage: "commercial".into(),
                locale: "en".into(),
                sequence: 9,
                occurred_at: "2026-12-07T00:00:00.000Z".into(),
            },
            rules: Some(vec![]),
            rights: vec![],
            unknown_making: vec![],
            disclosure: Disclosure {
                asset: "v".into(),
                digital_source_type: SourceType::TrainedAlgorithmicMedia.uri(),
                term: SourceType::TrainedAlgorithmicMedia,
                derivation: Derivation::Delivered,
                ai_generated: true,
                models: vec!["mv".into()],
                human: vec![],
                statement: "Generated by AI.".into(),
            },
            drift: vec![],
            retracted: vec![],
            evidence: None,
        }
    }

    /// Each way a delivery fails: what is set, the check it fails, a word of the reason.
    #[test]
    fn each_finding_fails_its_own_check_and_the_verdict() {
        type Spoil = fn(&mut Facts);
        let cases: [(&str, Spoil, CheckName, &str); 7] = [
            ("not governed", |f| f.rules = None, CheckName::RulesAtDelivery, "not governed"),
            (
                "a rule fails",
                |f| f.rules = Some(vec!["qc.passed: no review".into()]),
                CheckName::RulesAtDelivery,
                "qc.passed",
            ),
            ("a reference-only ancestor", |f| f.rights = vec!["reference `r`".into()], CheckName::Rights, "reference"),
            (
                "an asset of unknown making",
                |f| f.unknown_making = vec!["x".into()],
                CheckName::Disclosure,
                "`x` is not in the ledger",
            ),
            ("AI without a model", |f| f.disclosure.models.clear(), CheckName::Disclosure, "no model version"),
            (
                "a retraction",
                |f| f.retracted = vec!["generation `g` was retracted".into()],
                CheckName::NotRetracted,
                "generation",
            ),
            (
                "a bundle that does not verify",
                |f| f.evidence = Some("entry 3: bad signature".into()),
                CheckName::Evidence,
                "bad signature",
            ),
        ];
        assert_eq!(judge(facts()).verdict, Outcome::Pass, "nothing found: a pass");
        for (name, spoil, check, word) in cases {
            let mut f = facts();
            spoil(&mut f);
            let verdict = judge(f);
            assert_eq!(verdict.verdict, Outcome::Fail, "{name}");
            let failed: Vec<&Check> = verdict.checks.iter().filter(|c| !c.passed).collect();
            assert_eq!(failed.len(), 1, "{name}: {failed:?}");
            assert_eq!(failed[0].check, check, "{name}");
            assert!(failed[0].reasons.iter().any(|r| r.contains(word)), "{name}: {:?}", failed[0].reasons);
        }
    }

    #[test]
    fn the_page_escapes_what_people_wrote() {
        let mut verdict = judge(facts());
        verdict.asset = "<script>alert(1)</script>".into();
        let report = Report {
            project: "c:p".into(),
            title: "A & B".into(),
            tree_size: 10,
            generated_at: "now".into(),
            passed: 1,
            failed: 0,
            deliveries: vec![verdict],
            next: None,
        };
        let page = html(&report);
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;") && page.contains("A &amp; B"));
    }
}
