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
//! Kept whole (about 950 lines): the rule catalogue, the one evaluator and the legacy rule set
//! must change together, and the docs' rule table is generated from here.

use super::event::wire_name as snake;
pub use super::event::RuleSpec;
use super::event::*;
use super::ids::{Digest, EventId, Id, Label, ProjectId};
use super::payload::Payload;
use super::refusal::Refusal;
use super::state::{Namespace, Review, View};
use std::collections::{HashSet, VecDeque};

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
    view.client(project)?;
    let content = view.content_type(project)?;
    let mut rules = base_rules(content);
    let mut amended_by: Vec<EventId> = Vec::new();
    for (event, rule) in view.amendments(project) {
        amend(&mut rules, rule);
        if amended_by.last() != Some(event) {
            amended_by.push(event.clone());
        }
    }
    let version = view.rule_set(project).clamp(2, RULE_SET_VERSION);
    Some(Policy { rule_set: rule_set_at(content, version), rules, amended_by })
}

/// What the policy is asked about: a delivery or an approval about to be recorded.
#[derive(Debug, Clone, Copy)]
pub enum Intent<'a> {
    Delivery { master: &'a Id, medium: DeliveryMedium, format: &'a Label, usage: Usage, occurred_at_us: i64 },
    Approval { asset: &'a Id, digest: &'a Digest, decision: Decision, occurred_at_us: i64 },
}

impl Intent<'_> {
    /// The intent of an approval or delivery event; `None` for other kinds.
    pub fn of(payload: &Payload) -> Option<Intent<'_>> {
        let occurred_at_us = payload.occurred_at.timestamp_micros();
        match &payload.body {
            Body::DeliveryRecorded(b) => Some(Intent::Delivery {
                master: &b.master_asset,
                medium: b.medium,
                format: &b.format,
                usage: b.usage.unwrap_or(Usage::Commercial),
                occurred_at_us,
            }),
            Body::ApprovalRecorded(b) => {
                Some(Intent::Approval { asset: &b.asset, digest: &b.digest, decision: b.decision, occurred_at_us })
            }
            _ => None,
        }
    }
    fn occurred_at_us(&self) -> i64 {
        match self {
            Intent::Delivery { occurred_at_us, .. } | Intent::Approval { occurred_at_us, .. } => *occurred_at_us,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    Passed { evidence: Vec<EventId> },
    Failed { missing: String },
}

/// One rule's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub rule: &'static str,
    pub requires: String,
    pub finding: Finding,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self.finding, Finding::Passed { .. })
    }
}

/// Every rule that applies to an intent, in the order the append checks them.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub rule_set: String,
    pub amended_by: Vec<EventId>,
    pub outcomes: Vec<Outcome>,
}

impl Assessment {
    pub fn first_failure(&self) -> Option<(&'static str, &str)> {
        self.outcomes.iter().find_map(|o| match &o.finding {
            Finding::Failed { missing } => Some((o.rule, missing.as_str())),
            Finding::Passed { .. } => None,
        })
    }
}

/// Checks the policy of an approval or a delivery: refused at the first rule that fails.
pub fn check(view: &View<'_>, payload: &Payload) -> Result<(), Refusal> {
    let Some(intent) = Intent::of(payload) else { return Ok(()) };
    match evaluate(view, &payload.project, intent).first_failure() {
        Some((rule, missing)) => Err(Refusal::Policy { rule, missing: missing.to_owned() }),
        None => Ok(()),
    }
}

/// Every rule of the project's policy that applies to the intent, with its verdict. The
/// delivery's master (or the approval's asset) must exist in the project.
pub fn evaluate(view: &View<'_>, project: &ProjectId, intent: Intent<'_>) -> Assessment {
    let Some(policy) = policy_of(view, project) else {
        return Assessment {
            rule_set: LEGACY_RULE_SET.into(),
            amended_by: vec![],
            outcomes: legacy::evaluate(view, project, intent),
        };
    };
    let judge = Judge {
        view,
        project,
        before_us: intent.occurred_at_us(),
        approvers: Default::default(),
        ancestry: Default::default(),
        follows_bytes: view.rule_set(project) >= 3,
    };
    let mut outcomes = Vec::new();
    for rule in &policy.rules {
        let finding = match (rule, intent) {
            (RuleSpec::NotRetracted, Intent::Delivery { master, .. }) => judge.not_retracted(master),
            (RuleSpec::NotRetracted, Intent::Approval { asset, decision: Decision::Approved, .. }) => {
                judge.not_retracted(asset)
            }
            (RuleSpec::NotRejected, Intent::Delivery { master, .. }) => judge.not_rejected(master),
            (RuleSpec::CommercialRights, Intent::Delivery { master, usage: Usage::Commercial, .. }) => {
                judge.commercial(master)
            }
            (RuleSpec::QcPassed { checks }, Intent::Delivery { master, .. }) => {
                judge.qc_passed(master, &judge.digest(master), &format!("master `{master}`"), checks)
            }
            (RuleSpec::QcBeforeApproval, Intent::Approval { asset, digest, decision: Decision::Approved, .. }) => {
                judge.qc_passed(asset, digest, &format!("asset `{asset}`"), &[])
            }
            (
                RuleSpec::PrintProof { min_scale_percent },
                Intent::Delivery { master, medium: DeliveryMedium::Print, .. },
            ) => judge.proof(master, &[ProofMedium::Print, ProofMedium::LargeFormat], *min_scale_percent),
            (
                RuleSpec::LargeFormatProof { min_scale_percent },
                Intent::Delivery { master, medium: DeliveryMedium::LargeFormat, .. },
            ) => judge.proof(master, &[ProofMedium::LargeFormat], *min_scale_percent),
            (RuleSpec::CreativeDirectorApproval, Intent::Delivery { master, .. }) => {
                judge.approved(master, "a creative director", |a| a.role == Some(Role::CreativeDirector))
            }
            (RuleSpec::ClientApproval, Intent::Delivery { master, .. }) => {
                judge.approved(master, "a client approver of the project's client organisation", |a| {
                    a.role == Some(Role::ClientApprover) && a.of_client
                })
            }
            (RuleSpec::BrandComplianceApproval, Intent::Delivery { master, .. }) => {
                judge.approved(master, "brand compliance", |a| a.role == Some(Role::BrandCompliance))
            }
            (RuleSpec::BriefFormats, Intent::Delivery { format, .. }) => judge.brief_format(format),
            (RuleSpec::CurrentMaster, Intent::Delivery { master, .. }) => judge.current(master),
            _ => continue,
        };
        // Past the work limit nothing that follows is weighed: the rule fails saying so.
        let finding = if super::limits::exhausted() { failed(super::limits::exhausted_message()) } else { finding };
        outcomes.push(Outcome { rule: rule.name(), requires: rule.requires(), finding });
    }
    Assessment { rule_set: policy.rule_set, amended_by: policy.amended_by, outcomes }
}

/// The evidence of one project, as the rules count it for an intent made at `before_us`.
///
/// Everything in the log before the intent is weighed, and log order decides what is latest.
/// The dates events give only ever count against the intent: evidence for it (a pass, an
/// approval, a reinstatement) dated after it does not count, while evidence against it (a
/// failed check, a rejection, a request for changes) counts whatever date it gives — otherwise
/// whoever dates the delivery would choose which verdicts it meets.
struct Judge<'a, 'v> {
    view: &'a View<'v>,
    project: &'a ProjectId,
    /// Evidence for the intent dated after this does not count for it.
    before_us: i64,
    /// The approvers counted so far, with what they counted for: one person's approvals count
    /// for one approval rule of an intent, whatever roles they held over time.
    approvers: std::cell::RefCell<Vec<(super::ids::ActorId, &'static str)>>,
    /// The ancestry of the intent's asset, once walked.
    ancestry: std::cell::RefCell<Option<(Id, std::rc::Rc<Vec<Id>>)>>,
    /// Whether evidence against bytes follows them to every asset recorded with them (rule set
    /// version 3), or stays with the asset it was recorded for (version 2).
    follows_bytes: bool,
}

/// The latest result of each check category among reviews in log order, and the review it comes
/// from. A check found not applicable says nothing of it: it neither clears a failure nor passes.
fn latest_results(reviews: &[Review]) -> Vec<(QcCheck, CheckResult, &Review)> {
    let mut latest: Vec<(QcCheck, CheckResult, &Review)> = Vec::new();
    for review in reviews {
        for (check, result) in review.results.iter().filter(|(_, r)| *r != CheckResult::NotApplicable) {
            match latest.iter_mut().find(|(c, _, _)| c == check) {
                Some(slot) => *slot = (*check, *result, review),
                None => latest.push((*check, *result, review)),
            }
        }
    }
    latest
}

fn passed(evidence: Vec<EventId>) -> Finding {
    Finding::Passed { evidence }
}
fn failed(missing: String) -> Finding {
    Finding::Failed { missing }
}

impl Judge<'_, '_> {
    fn digest(&self, asset: &Id) -> Digest {
        self.view
            .asset(self.project, asset)
            .map(|a| Digest::from_bytes(&a.digest))
            .unwrap_or_else(|| Digest::from_bytes(&[0; 32]))
    }

    /// The asset and every asset it was made from, nearest first, each once: walked once per
    /// evaluation (an intent names one asset), however many rules read it.
    fn ancestry(&self, asset: &Id) -> std::rc::Rc<Vec<Id>> {
        let mut cached = self.ancestry.borrow_mut();
        match cached.as_ref() {
            Some((of, walked)) if of == asset => walked.clone(),
            _ => {
                let walked = std::rc::Rc::new(self.walk_ancestry(asset));
                *cached = Some((asset.clone(), walked.clone()));
                walked
            }
        }
    }

    fn walk_ancestry(&self, asset: &Id) -> Vec<Id> {
        ancestry(self.view, self.project, asset)
    }

    /// The reviews of the asset at the digest, in log order. Evidence is the asset's own: a
    /// review of the same bytes under another asset id counts for that asset only. A review
    /// dated after the intent keeps only what counts against it, its failed checks.
    fn reviews(&self, asset: &Id, digest: &Digest) -> Vec<Review> {
        let mut reviews = self.bytes_reviews(digest);
        reviews.retain(|r| &r.asset == asset);
        reviews
    }

    /// The reviews of these bytes, whatever asset they were recorded for, in log order, as
    /// [`Judge::reviews`] weighs them: what counts against the bytes counts against every asset
    /// recorded with them.
    fn bytes_reviews(&self, digest: &Digest) -> Vec<Review> {
        let mut reviews: Vec<Review> = self.view.reviews(self.project, digest).into_iter().cloned().collect();
        for review in &mut reviews {
            if review.occurred_at_us > self.before_us {
                review.results.retain(|(_, result)| *result == CheckResult::Fail);
            }
        }
        reviews.retain(|r| !(r.occurred_at_us > self.before_us && r.verdict == Verdict::Pass));
        reviews
    }

    fn not_retracted(&self, asset: &Id) -> Finding {
        let mut bytes_seen = HashSet::new();
        for ancestor in self.ancestry(asset).iter() {
            if super::limits::exhausted() {
                return failed(super::limits::exhausted_message());
            }
            let Some(record) = self.view.asset(self.project, ancestor) else { continue };
            let whose = if ancestor == asset { String::new() } else { format!(", in the ancestry of `{asset}`,") };
            if let Some(event) = self.view.retracted_maker(self.project, &record) {
                return failed(format!("asset `{ancestor}`{whose} was made by event `{event}`, which was retracted"));
            }
            // Each bytes once: the ancestry may hold them many times.
            if !bytes_seen.insert(record.digest) {
                continue;
            }
            for other in self.same_bytes(ancestor, &record) {
                if let Some(event) =
                    self.view.asset_at(self.project, &other).and_then(|r| self.view.retracted_maker(self.project, &r))
                {
                    return failed(format!(
                        "the bytes of asset `{ancestor}`{whose} ({}) were also made by event `{event}`, which was retracted",
                        Digest::from_bytes(&record.digest)
                    ));
                }
            }
        }
        passed(vec![])
    }

    /// The other assets recorded with an asset's bytes, when evidence follows bytes.
    fn same_bytes(&self, asset: &Id, record: &super::state::AssetRecord) -> Vec<super::state::IdKey> {
        if !self.follows_bytes {
            return Vec::new();
        }
        let own = super::state::asset_key(asset);
        let mut all = self.view.assets_with_bytes(self.project, &record.digest);
        all.retain(|k| *k != own);
        all
    }

    fn not_rejected(&self, master: &Id) -> Finding {
        let mut bytes_seen = HashSet::new();
        for ancestor in self.ancestry(master).iter() {
            if super::limits::exhausted() {
                return failed(super::limits::exhausted_message());
            }
            let whose = if ancestor == master { String::new() } else { format!(", in the ancestry of `{master}`,") };
            let decisions = self.view.director_decisions(self.project, ancestor);
            let latest = decisions.into_iter().rfind(|d| d.rejected || d.occurred_at_us <= self.before_us);
            if let Some(rejection) = latest.filter(|d| d.rejected) {
                return failed(format!(
                    "asset `{ancestor}`{whose} was rejected by a creative director in selection `{}` (event `{}`) and no later selection of theirs reinstates it",
                    rejection.selection, rejection.event
                ));
            }
            let Some(record) = self.view.asset(self.project, ancestor) else { continue };
            if !bytes_seen.insert(record.digest) {
                continue;
            }
            for other in self.same_bytes(ancestor, &record) {
                let latest = self.view.latest_director_decision_at(self.project, &other, |d| {
                    d.rejected || d.occurred_at_us <= self.before_us
                });
                if let Some(rejection) = latest.filter(|d| d.rejected) {
                    return failed(format!(
                        "the bytes of asset `{ancestor}`{whose} ({}) were rejected by a creative director as another asset, in selection `{}` (event `{}`), and no later selection of theirs reinstates that asset",
                        Digest::from_bytes(&record.digest),
                        rejection.selection,
                        rejection.event
                    ));
                }
            }
        }
        passed(vec![])
    }

    fn commercial(&self, master: &Id) -> Finding {
        // Bytes of a reference-only reference, wherever in the lineage they are recorded, are
        // that reference reproduced.
        if self.follows_bytes {
            for ancestor in self.ancestry(master).iter() {
                let Some(record) = self.view.asset(self.project, ancestor) else { continue };
                if let Some((reference, true)) = self.view.reference_bytes(self.project, &record.digest) {
                    return failed(format!(
                        "the bytes of asset `{ancestor}`, in the lineage of master `{master}`, are those of reference `{reference}`, which is for reference only (no reproduction); a commercial delivery may not use it"
                    ));
                }
            }
        }
        match self.view.restriction(self.project, Namespace::Asset, master) {
            Some(restriction) => failed(format!(
                "the ancestry of master `{master}` holds {}; a commercial delivery may not use it",
                restriction.origin
            )),
            None => passed(vec![]),
        }
    }

    fn qc_passed(&self, asset: &Id, digest: &Digest, what: &str, required: &[QcCheck]) -> Finding {
        let reviews = self.reviews(asset, digest);
        if reviews.is_empty() {
            return failed(format!("no QC review of {what} at {digest} recorded before it"));
        }
        // The latest result of each check category, and the review it comes from: the asset's own
        // for what passes, every review of its bytes for what fails (when evidence follows bytes).
        let latest = latest_results(&reviews);
        let weighed = if self.follows_bytes { self.bytes_reviews(digest) } else { reviews.clone() };
        let against = latest_results(&weighed);
        let of = |review: &Review| {
            if &review.asset == asset {
                String::new()
            } else {
                format!(" of the same bytes recorded as asset `{}`", review.asset)
            }
        };
        if let Some((check, _, review)) = against.iter().find(|(_, r, _)| *r == CheckResult::Fail) {
            return failed(format!(
                "QC check `{}` of {what} at {digest} last failed, in review `{}`{} (event `{}`)",
                snake(check),
                review.review,
                of(review),
                review.event
            ));
        }
        if let Some(review) = weighed.last().filter(|r| r.verdict == Verdict::Fail) {
            return failed(format!(
                "the latest QC review of {what} at {digest}, `{}`{} (event `{}`), failed",
                review.review,
                of(review),
                review.event
            ));
        }
        if latest.is_empty() {
            return failed(format!(
                "no QC review of {what} at {digest} recorded before it passed a check (every check it names was not applicable)"
            ));
        }
        for check in required {
            let passed = latest.iter().any(|(c, r, _)| c == check && *r == CheckResult::Pass);
            if !passed {
                return failed(format!("QC check `{}` of {what} at {digest} has not passed", snake(check)));
            }
        }
        passed(reviews.iter().map(|r| r.event.clone()).collect())
    }

    fn proof(&self, master: &Id, media: &[ProofMedium], min_scale_percent: u16) -> Finding {
        let digest = self.digest(master);
        let reviews = self.reviews(master, &digest);
        // A proof that found every check not applicable proved nothing.
        let proofs: Vec<&Review> = reviews
            .iter()
            .filter(|r| media.contains(&r.medium) && r.results.iter().any(|(_, x)| *x != CheckResult::NotApplicable))
            .collect();
        let adequate: Vec<&Review> =
            proofs.iter().copied().filter(|r| r.scale_percent.is_some_and(|s| s >= min_scale_percent)).collect();
        let names = list(media.iter().map(snake));
        // A failed proof of the same bytes recorded as another asset counts against them.
        if self.follows_bytes {
            let failing = self.bytes_reviews(&digest).into_iter().rfind(|r| {
                media.contains(&r.medium)
                    && r.results.iter().any(|(_, x)| *x != CheckResult::NotApplicable)
                    && r.scale_percent.is_some_and(|s| s >= min_scale_percent)
            });
            if let Some(review) = failing.filter(|r| r.verdict == Verdict::Fail && &r.asset != master) {
                return failed(format!(
                    "the latest {names} proof of the bytes of master `{master}` ({digest}) at {min_scale_percent}% scale or more, review `{}` of the same bytes recorded as asset `{}` (event `{}`), failed",
                    review.review, review.asset, review.event
                ));
            }
        }
        match adequate.last() {
            Some(review) if review.verdict == Verdict::Pass => passed(vec![review.event.clone()]),
            Some(review) => failed(format!(
                "the latest {names} proof of master `{master}` at {digest} at {min_scale_percent}% scale or more, review `{}` (event `{}`), failed",
                review.review, review.event
            )),
            None => {
                let smaller: Vec<String> = proofs
                    .iter()
                    .map(|r| match r.scale_percent {
                        Some(s) => format!("`{}` at {s}%", r.review),
                        None => format!("`{}` at no stated scale", r.review),
                    })
                    .collect();
                let besides =
                    if smaller.is_empty() { String::new() } else { format!(" (only {})", smaller.join(", ")) };
                failed(format!(
                    "no {names} proof of master `{master}` at {digest} at {min_scale_percent}% scale or more{besides}"
                ))
            }
        }
    }

    fn approved(&self, master: &Id, who: &'static str, counts: impl Fn(&super::state::Approval) -> bool) -> Finding {
        let digest = self.digest(master);
        let approvals = self.view.approvals(self.project, &digest);
        // A refusal of the same bytes recorded as another asset, by the same kind of approver,
        // counts against them unless an approval of them came after it.
        if self.follows_bytes {
            let latest = approvals
                .iter()
                .rfind(|a| counts(a) && (a.decision != Decision::Approved || a.occurred_at_us <= self.before_us));
            if let Some(a) = latest.filter(|a| a.decision != Decision::Approved && &a.asset != master) {
                return failed(format!(
                    "the latest decision by {who} on the bytes of master `{master}` ({digest}), approval `{}` of the same bytes recorded as asset `{}` (event `{}`), is {}",
                    a.approval,
                    a.asset,
                    a.event,
                    snake(&a.decision)
                ));
            }
        }
        // The master's own approvals; one dated after the intent counts only if it is not one.
        let latest = approvals.into_iter().rfind(|a| {
            &a.asset == master && counts(a) && (a.decision != Decision::Approved || a.occurred_at_us <= self.before_us)
        });
        match latest {
            Some(a) if a.decision == Decision::Approved => {
                let mut approvers = self.approvers.borrow_mut();
                if let Some((_, first)) = approvers.iter().find(|(actor, _)| actor == &a.actor) {
                    return failed(format!(
                        "the approval by {who} of master `{master}`, `{}` (event `{}`), is by actor `{}`, whose approval already counts as {first}: each approval rule needs another person",
                        a.approval, a.event, a.actor
                    ));
                }
                approvers.push((a.actor.clone(), who));
                passed(vec![a.event.clone()])
            }
            Some(a) => failed(format!(
                "the latest decision by {who} on master `{master}` at {digest}, approval `{}` (event `{}`), is {}",
                a.approval,
                a.event,
                snake(&a.decision)
            )),
            None => failed(format!("no approval by {who} of master `{master}` at {digest} recorded before it")),
        }
    }

    fn brief_format(&self, format: &Label) -> Finding {
        let formats = self.view.brief_formats(self.project);
        if formats.iter().any(|f| f == format) {
            passed(vec![])
        } else {
            let declared: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
            failed(format!("format `{format}` is not among the brief's deliverable formats {declared:?}"))
        }
    }

    fn current(&self, master: &Id) -> Finding {
        match self.view.superseded_by(self.project, master).last() {
            Some(s) => failed(format!(
                "master `{master}` was superseded by post edit `{}` (event `{}`), which made asset `{}`",
                s.edit, s.event, s.output
            )),
            None => passed(vec![]),
        }
    }
}

/// The evidence against an asset's bytes that was recorded for other assets with the same bytes
/// (rule set version 3; none before): their failed QC reviews (a failing verdict or check), their
/// approvals that refused (changes requested, rejected), creative directors' rejections of them,
/// and their making events that were retracted — each event once, in no particular order. The
/// policy weighs these with the asset's own evidence ([`evaluate`]); the provenance summary, the
/// audit trail and the evidence bundle show them.
pub fn against_bytes(view: &View<'_>, project: &ProjectId, asset: &Id) -> Vec<EventId> {
    if view.rule_set(project) < 3 {
        return Vec::new();
    }
    let Some(record) = view.asset(project, asset) else { return Vec::new() };
    let digest = Digest::from_bytes(&record.digest);
    let own = super::state::asset_key(asset);
    let mut out: Vec<EventId> = Vec::new();
    let failed = |r: &&Review| r.verdict == Verdict::Fail || r.results.iter().any(|(_, x)| *x == CheckResult::Fail);
    out.extend(
        view.reviews(project, &digest)
            .into_iter()
            .filter(|r| &r.asset != asset)
            .filter(failed)
            .map(|r| r.event.clone()),
    );
    out.extend(
        view.approvals(project, &digest)
            .into_iter()
            .filter(|a| &a.asset != asset && a.decision != Decision::Approved)
            .map(|a| a.event.clone()),
    );
    for other in view.assets_with_bytes(project, &record.digest).into_iter().filter(|k| *k != own) {
        out.extend(
            view.director_decisions_at(project, &other).into_iter().filter(|d| d.rejected).map(|d| d.event.clone()),
        );
        if let Some(maker) = view.asset_at(project, &other).and_then(|r| view.retracted_maker(project, &r)) {
            out.push(maker.clone());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What stands against bytes wherever they are recorded (rule set version 3): a QC check whose
/// latest result among all reviews of them failed or the latest of those reviews failing, an
/// approver role whose latest decision on them refused, a creative director's latest decision
/// on an asset recorded with them rejecting it, a retracted event that made one. `None` when
/// nothing does. What a delivered variant's bytes, already recorded, are checked for.
pub fn against_these_bytes(view: &View<'_>, project: &ProjectId, digest: &Digest) -> Option<String> {
    let reviews: Vec<Review> = view.reviews(project, digest).into_iter().cloned().collect();
    if let Some((check, _, review)) = latest_results(&reviews).into_iter().find(|(_, r, _)| *r == CheckResult::Fail) {
        return Some(format!(
            "QC check `{}` of these bytes last failed, in review `{}` of asset `{}` (event `{}`)",
            snake(&check),
            review.review,
            review.asset,
            review.event
        ));
    }
    if let Some(review) = reviews.last().filter(|r| r.verdict == Verdict::Fail) {
        return Some(format!(
            "the latest QC review of these bytes, `{}` (event `{}`), failed",
            review.review, review.event
        ));
    }
    let approvals = view.approvals(project, digest);
    let mut latest: Vec<&super::state::Approval> = Vec::new();
    for approval in &approvals {
        latest.retain(|a| a.role != approval.role);
        latest.push(approval);
    }
    if let Some(a) = latest.into_iter().find(|a| a.decision != Decision::Approved) {
        return Some(format!(
            "approval `{}` of these bytes (event `{}`) is {}",
            a.approval,
            a.event,
            snake(&a.decision)
        ));
    }
    for holder in view.assets_with_bytes(project, &digest.bytes()) {
        if let Some(d) = view.latest_director_decision_at(project, &holder, |_| true).filter(|d| d.rejected) {
            return Some(format!(
                "a creative director rejected an asset recorded with these bytes in selection `{}` (event `{}`)",
                d.selection, d.event
            ));
        }
        if let Some(event) = view.asset_at(project, &holder).and_then(|r| view.retracted_maker(project, &r)) {
            return Some(format!("event `{event}`, which made an asset recorded with these bytes, was retracted"));
        }
    }
    None
}

/// The asset and every asset it was made from, nearest first, each once.
pub fn ancestry(view: &View<'_>, project: &ProjectId, asset: &Id) -> Vec<Id> {
    let mut seen: HashSet<Id> = HashSet::new();
    let mut queue: VecDeque<Id> = VecDeque::from([asset.clone()]);
    let mut out = Vec::new();
    while let Some(next) = queue.pop_front() {
        // Past the work limit the walk stops; the rules that read it say so (`exhausted`).
        if super::limits::exhausted() {
            break;
        }
        if !seen.insert(next.clone()) {
            continue;
        }
        queue.extend(view.parents(project, &next).into_iter().cloned());
        out.push(next);
    }
    out
}

/// The evidence against the bytes of an asset and of every asset it was made from
/// ([`against_bytes`] of each), each event once: what the policy weighs of other assets for a
/// delivery of it, and what its evidence bundle carries for that.
pub fn against_lineage(view: &View<'_>, project: &ProjectId, asset: &Id) -> Vec<EventId> {
    let mut out: Vec<EventId> =
        ancestry(view, project, asset).iter().flat_map(|a| against_bytes(view, project, a)).collect();
    out.sort();
    out.dedup();
    out
}

/// An approval whose digest was superseded by a later post edit of its asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub asset: Id,
    pub digest: Digest,
    pub approval: Id,
    pub approval_event: EventId,
    pub role: Option<Role>,
    pub edit: Id,
    pub edit_event: EventId,
    pub superseded_by: Id,
}

/// Every standing approval (the latest decision of its role on its digest approves) of an asset
/// that a later post edit superseded.
pub fn approval_drift(view: &View<'_>, project: &ProjectId) -> Vec<Drift> {
    // The latest decision of each role on each asset, in log order.
    let mut latest: Vec<&super::state::Approval> = Vec::new();
    for approval in view.all_approvals(project) {
        latest.retain(|a| !(a.asset == approval.asset && a.role == approval.role));
        latest.push(approval);
    }
    let standing = latest.into_iter().filter(|a| a.decision == Decision::Approved);
    let mut out = Vec::new();
    for approval in standing {
        if let Some(s) = view.superseded_by(project, &approval.asset).last() {
            let Some(record) = view.asset(project, &approval.asset) else { continue };
            out.push(Drift {
                asset: approval.asset.clone(),
                digest: Digest::from_bytes(&record.digest),
                approval: approval.approval.clone(),
                approval_event: approval.event.clone(),
                role: approval.role,
                edit: s.edit.clone(),
                edit_event: s.event.clone(),
                superseded_by: s.output.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.asset.cmp(&b.asset).then(a.approval.cmp(&b.approval)));
    out
}

/// The rules of legacy projects, exactly as they were checked when their events were written.
pub mod legacy {
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
                        let product_and_colour = passing
                            .iter()
                            .any(|r| r.passed(QcCheck::ProductAccuracy) && r.passed(QcCheck::ColourAccuracy));
                        out.push(outcome(
                            "ecomm.qc-product-and-colour",
                            check(
                                product_and_colour,
                                master_text("no passing QC review with product_accuracy and colour_accuracy passing"),
                            ),
                        ));
                        let missing = [
                            (Role::BrandCompliance, "brand compliance"),
                            (Role::ClientApprover, "the client approver"),
                        ]
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
                    let proofed =
                        passing.iter().any(|r| matches!(r.medium, ProofMedium::Print | ProofMedium::LargeFormat));
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
