//! Workflow policies (documented in `docs/policies.md`, generated from this file).
//!
//! A governed project's policy is data: the rule set of its content type at
//! [`RULE_SET_VERSION`], made stricter by the project's `policy_amended` events — never looser.
//! One evaluator, [`evaluate`], answers every rule that applies to an intended delivery or
//! approval, with the evidence it counted or what is missing; the append refuses at the first
//! rule that fails ([`check`]) and the readiness endpoint reports them all, so the two cannot
//! disagree. Legacy projects (created before organisations, without a client organisation) keep
//! the rule set their events were accepted under, [`LEGACY_RULE_SET`], so that their logs verify
//! as they were written.
//!
//! Evidence counts when it is about the exact digest, was recorded before the event it is
//! evidence for (in log order, and not claiming to have happened after it), and was not
//! retracted. For QC, the latest result of each check category counts; for approvals, the
//! latest decision of each approver role.
//!
//! The rule catalogue and its amendments are here, the evaluator in `judge`, the evidence for
//! some bytes in `bytes`, the legacy rule set in `legacy`; the docs' rule table is generated from
//! here.

use crate::domain::event::wire_name as snake;
pub use crate::domain::event::RuleSpec;
use crate::domain::event::*;
use crate::domain::ids::{Digest, EventId, Id, Label, ProjectId};
use crate::domain::payload::Payload;
use crate::domain::refusal::Refusal;
use crate::domain::state::{Namespace, Review, View};
use std::collections::{HashSet, VecDeque};

mod bytes;
mod judge;
pub mod legacy;

pub use bytes::*;
pub use judge::*;

/// The version of the rule sets below, for projects created (or adopted) now. Version 3 weighs
/// evidence against bytes wherever the bytes are recorded (a failed check, a refusal, a
/// rejection, a retracted maker of the same bytes under another asset id), and a delivered
/// variant carries its master's bytes or new ones; version 2, which projects created before keep
/// for good (their logs verify as written), weighs each asset's own evidence only. Both have the
/// same rules.
pub const RULE_SET_VERSION: u32 = 3;
/// The rule set of legacy projects.
pub const LEGACY_RULE_SET: &str = "legacy@1";

/// The largest proof scale a rule may ask for, in percent.
pub const MAX_SCALE_PERCENT: u16 = 1000;

impl RuleSpec {
    pub fn name(&self) -> &'static str {
        match self {
            RuleSpec::NotRetracted => "ancestry.not-retracted",
            RuleSpec::NotRejected => "selection.not-rejected",
            RuleSpec::CommercialRights => "rights.commercial",
            RuleSpec::QcPassed { .. } => "qc.passed",
            RuleSpec::QcBeforeApproval => "qc.before-approval",
            RuleSpec::PrintProof { .. } => "proof.print",
            RuleSpec::LargeFormatProof { .. } => "proof.large-format",
            RuleSpec::CreativeDirectorApproval => "approval.creative-director",
            RuleSpec::ClientApproval => "approval.client",
            RuleSpec::BrandComplianceApproval => "approval.brand-compliance",
            RuleSpec::BriefFormats => "brief.formats",
            RuleSpec::CurrentMaster => "master.current",
        }
    }

    /// What the rule requires, in words, with its parameters.
    pub fn requires(&self) -> String {
        match self {
            RuleSpec::NotRetracted => "no generation or post edit in the asset's ancestry was retracted (deliveries and approvals)".into(),
            RuleSpec::NotRejected => "no asset in the master's ancestry was rejected by a creative director in a selection without a later selection of theirs reinstating it".into(),
            RuleSpec::CommercialRights => "a commercial delivery has no model version licensed for non-commercial use and no reference-only reference in its ancestry".into(),
            RuleSpec::QcPassed { checks } if checks.is_empty() => "the master's exact digest was QC-reviewed and no check category's latest result failed".into(),
            RuleSpec::QcPassed { checks } => format!(
                "the master's exact digest was QC-reviewed, no check category's latest result failed, and the latest results of {} passed",
                list(checks.iter().map(snake))
            ),
            RuleSpec::QcBeforeApproval => "an approval that approves needs its exact digest to have passed QC (as for qc.passed) first".into(),
            RuleSpec::PrintProof { min_scale_percent } => format!(
                "a print delivery needs the latest print or large-format proof of the master's digest at {min_scale_percent}% scale or more to have passed"
            ),
            RuleSpec::LargeFormatProof { min_scale_percent } => format!(
                "a large-format delivery needs the latest large-format proof of the master's digest at {min_scale_percent}% scale or more to have passed"
            ),
            RuleSpec::CreativeDirectorApproval => "the master's exact digest approved by a creative director (the role's latest decision on it)".into(),
            RuleSpec::ClientApproval => "the master's exact digest approved by a client approver of the project's client organisation (the latest such decision)".into(),
            RuleSpec::BrandComplianceApproval => "the master's exact digest approved by brand compliance (the role's latest decision on it)".into(),
            RuleSpec::BriefFormats => "the delivery's format is one of the deliverable formats the project's briefs declare (as last revised)".into(),
            RuleSpec::CurrentMaster => "the master was not superseded by a later post edit made on it (approval drift)".into(),
        }
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// The rule set of a content type at [`RULE_SET_VERSION`], in the order the append checks them.
pub fn base_rules(content: ContentType) -> Vec<RuleSpec> {
    use RuleSpec::*;
    let qc = match content {
        ContentType::Ecomm => vec![QcCheck::ProductAccuracy, QcCheck::ColourAccuracy],
        _ => vec![],
    };
    let mut rules = vec![
        NotRetracted,
        NotRejected,
        CommercialRights,
        QcPassed { checks: qc },
        PrintProof { min_scale_percent: 100 },
        LargeFormatProof { min_scale_percent: 50 },
    ];
    match content {
        ContentType::Campaign => rules.extend([CreativeDirectorApproval, ClientApproval, CurrentMaster]),
        ContentType::Social => rules.push(QcBeforeApproval),
        ContentType::Ecomm => rules.extend([BrandComplianceApproval, ClientApproval, BriefFormats, CurrentMaster]),
    }
    rules
}

pub fn rule_set_name(content: ContentType) -> String {
    rule_set_at(content, RULE_SET_VERSION)
}

/// The name of a content type's rule set at a version.
pub fn rule_set_at(content: ContentType, version: u32) -> String {
    format!("{}@{version}", snake(&content))
}

/// What an amendment does to a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Amendment {
    Adds,
    Raises,
    /// It asks for nothing the policy does not ask for already.
    ChangesNothing,
    /// It asks for less than the policy does: refused, a policy is never relaxed by an event.
    Lowers {
        current: String,
    },
}

/// Makes `rules` stricter by one rule: adds it, or merges it into the rule of the same name
/// (the union of required checks, the higher scale).
pub fn amend(rules: &mut Vec<RuleSpec>, add: &RuleSpec) -> Amendment {
    let Some(existing) = rules.iter_mut().find(|r| r.name() == add.name()) else {
        rules.push(add.clone());
        return Amendment::Adds;
    };
    match (existing, add) {
        (RuleSpec::QcPassed { checks }, RuleSpec::QcPassed { checks: more }) => {
            let new: Vec<QcCheck> = more.iter().filter(|c| !checks.contains(c)).copied().collect();
            if new.is_empty() {
                return Amendment::ChangesNothing;
            }
            checks.extend(new);
            Amendment::Raises
        }
        (
            RuleSpec::PrintProof { min_scale_percent: current }
            | RuleSpec::LargeFormatProof { min_scale_percent: current },
            RuleSpec::PrintProof { min_scale_percent: asked } | RuleSpec::LargeFormatProof { min_scale_percent: asked },
        ) => match asked.cmp(current) {
            std::cmp::Ordering::Greater => {
                *current = *asked;
                Amendment::Raises
            }
            std::cmp::Ordering::Equal => Amendment::ChangesNothing,
            std::cmp::Ordering::Less => Amendment::Lowers { current: format!("{current}%") },
        },
        _ => Amendment::ChangesNothing,
    }
}

/// A governed project's policy in force.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub rule_set: String,
    pub rules: Vec<RuleSpec>,
    /// The `policy_amended` events that made it stricter, in log order.
    pub amended_by: Vec<EventId>,
}

/// The policy in force in a governed project; `None` for a legacy project or none.
pub fn policy_of(view: &View<'_>, project: &ProjectId) -> Option<Policy> {
    policy_under(view, project, &|_| true)
}

/// The project's policy with only the amendments `in_force` keeps (those before a delivery, for
/// the rules that were in force when it was made).
pub fn policy_under(view: &View<'_>, project: &ProjectId, in_force: &dyn Fn(&EventId) -> bool) -> Option<Policy> {
    view.client(project)?;
    let content = view.content_type(project)?;
    let mut rules = base_rules(content);
    let mut amended_by: Vec<EventId> = Vec::new();
    for (event, rule) in view.amendments(project).into_iter().filter(|(event, _)| in_force(event)) {
        amend(&mut rules, rule);
        if amended_by.last() != Some(event) {
            amended_by.push(event.clone());
        }
    }
    let version = view.rule_set(project).clamp(2, RULE_SET_VERSION);
    Some(Policy { rule_set: rule_set_at(content, version), rules, amended_by })
}

/// The rule sets as a Markdown table, for `docs/policies.md`: each rule, where it applies with
/// its default parameters, and what it requires.
pub fn rules_markdown() -> String {
    let contents = [ContentType::Campaign, ContentType::Social, ContentType::Ecomm];
    let sets: Vec<Vec<RuleSpec>> = contents.iter().map(|c| base_rules(*c)).collect();
    let mut names: Vec<&'static str> = Vec::new();
    for rule in sets.iter().flatten() {
        if !names.contains(&rule.name()) {
            names.push(rule.name());
        }
    }
    let mut out = format!(
        "| rule | {} | {} | {} | requires |\n|---|---|---|---|---|\n",
        rule_set_name(contents[0]),
        rule_set_name(contents[1]),
        rule_set_name(contents[2])
    );
    for name in names {
        let mut cells = Vec::new();
        let mut requires = String::new();
        for set in &sets {
            match set.iter().find(|r| r.name() == name) {
                Some(rule) => {
                    cells.push(match rule {
                        RuleSpec::QcPassed { checks } if !checks.is_empty() => {
                            format!("✔ {}", list(checks.iter().map(snake)))
                        }
                        RuleSpec::PrintProof { min_scale_percent }
                        | RuleSpec::LargeFormatProof { min_scale_percent } => {
                            format!("✔ {min_scale_percent}%")
                        }
                        _ => "✔".into(),
                    });
                    if requires.is_empty() {
                        requires = rule.requires();
                    }
                }
                None => cells.push(String::new()),
            }
        }
        let requires = match name {
            "qc.passed" => RuleSpec::QcPassed { checks: vec![] }.requires() + " (and the listed checks' latest results passed)",
            "proof.print" => "a print delivery needs the latest print or large-format proof of the master's digest at the listed scale or more to have passed".into(),
            "proof.large-format" => "a large-format delivery needs the latest large-format proof of the master's digest at the listed scale or more to have passed".into(),
            _ => requires,
        };
        out.push_str(&format!("| `{name}` | {} | {requires} |\n", cells.join(" | ")));
    }
    out
}

/// The legacy rules as a Markdown table.
pub fn legacy_rules_markdown() -> String {
    let mut out = String::from("| rule | applies to | requires |\n|---|---|---|\n");
    for (rule, applies, requires) in legacy::RULES {
        out.push_str(&format!("| `{rule}` | {applies} | {requires} |\n"));
    }
    out
}

/// Every rule name of the current rule sets, for the documentation test.
pub fn rule_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    for content in [ContentType::Campaign, ContentType::Social, ContentType::Ecomm] {
        for rule in base_rules(content) {
            if !names.contains(&rule.name()) {
                names.push(rule.name());
            }
        }
    }
    names
}
