//! The one evaluator: every rule that applies to an intended delivery or approval, with the
//! evidence it counted or what is missing.

use super::*;

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
    pub(super) fn occurred_at_us(&self) -> i64 {
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
    evaluate_under(view, project, intent, &|_| true)
}

/// [`evaluate`] under the policy with only the amendments `in_force` keeps
/// ([`super::policy_under`]).
pub fn evaluate_under(
    view: &View<'_>,
    project: &ProjectId,
    intent: Intent<'_>,
    in_force: &dyn Fn(&EventId) -> bool,
) -> Assessment {
    let Some(policy) = super::policy_under(view, project, in_force) else {
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
        let finding = if crate::domain::limits::exhausted() {
            failed(crate::domain::limits::exhausted_message())
        } else {
            finding
        };
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
pub(super) struct Judge<'a, 'v> {
    pub(super) view: &'a View<'v>,
    pub(super) project: &'a ProjectId,
    /// Evidence for the intent dated after this does not count for it.
    pub(super) before_us: i64,
    /// The approvers counted so far, with what they counted for: one person's approvals count
    /// for one approval rule of an intent, whatever roles they held over time.
    pub(super) approvers: std::cell::RefCell<Vec<(crate::domain::ids::ActorId, &'static str)>>,
    /// The ancestry of the intent's asset, once walked.
    pub(super) ancestry: std::cell::RefCell<Option<(Id, std::rc::Rc<Vec<Id>>)>>,
    /// Whether evidence against bytes follows them to every asset recorded with them (rule set
    /// version 3), or stays with the asset it was recorded for (version 2).
    pub(super) follows_bytes: bool,
}

/// The latest result of each check category among reviews in log order, and the review it comes
/// from. A check found not applicable says nothing of it: it neither clears a failure nor passes.
pub(super) fn latest_results(reviews: &[Review]) -> Vec<(QcCheck, CheckResult, &Review)> {
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

pub(super) fn passed(evidence: Vec<EventId>) -> Finding {
    Finding::Passed { evidence }
}
pub(super) fn failed(missing: String) -> Finding {
    Finding::Failed { missing }
}

impl Judge<'_, '_> {
    pub(super) fn digest(&self, asset: &Id) -> Digest {
        self.view
            .asset(self.project, asset)
            .map(|a| Digest::from_bytes(&a.digest))
            .unwrap_or_else(|| Digest::from_bytes(&[0; 32]))
    }

    /// The asset and every asset it was made from, nearest first, each once: walked once per
    /// evaluation (an intent names one asset), however many rules read it.
    pub(super) fn ancestry(&self, asset: &Id) -> std::rc::Rc<Vec<Id>> {
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

    pub(super) fn walk_ancestry(&self, asset: &Id) -> Vec<Id> {
        ancestry(self.view, self.project, asset)
    }

    /// The reviews of the asset at the digest, in log order. Evidence is the asset's own: a
    /// review of the same bytes under another asset id counts for that asset only. A review
    /// dated after the intent keeps only what counts against it, its failed checks.
    pub(super) fn reviews(&self, asset: &Id, digest: &Digest) -> Vec<Review> {
        let mut reviews = self.bytes_reviews(digest);
        reviews.retain(|r| &r.asset == asset);
        reviews
    }

    /// The reviews of these bytes, whatever asset they were recorded for, in log order, as
    /// [`Judge::reviews`] weighs them: what counts against the bytes counts against every asset
    /// recorded with them.
    pub(super) fn bytes_reviews(&self, digest: &Digest) -> Vec<Review> {
        let mut reviews: Vec<Review> = self.view.reviews(self.project, digest).into_iter().cloned().collect();
        for review in &mut reviews {
            if review.occurred_at_us > self.before_us {
                review.results.retain(|(_, result)| *result == CheckResult::Fail);
            }
        }
        reviews.retain(|r| !(r.occurred_at_us > self.before_us && r.verdict == Verdict::Pass));
        reviews
    }

    pub(super) fn not_retracted(&self, asset: &Id) -> Finding {
        let mut bytes_seen = HashSet::new();
        for ancestor in self.ancestry(asset).iter() {
            if crate::domain::limits::exhausted() {
                return failed(crate::domain::limits::exhausted_message());
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
    pub(super) fn same_bytes(
        &self,
        asset: &Id,
        record: &crate::domain::state::AssetRecord,
    ) -> Vec<crate::domain::state::IdKey> {
        if !self.follows_bytes {
            return Vec::new();
        }
        let own = crate::domain::state::asset_key(asset);
        let mut all = self.view.assets_with_bytes(self.project, &record.digest);
        all.retain(|k| *k != own);
        all
    }

    pub(super) fn not_rejected(&self, master: &Id) -> Finding {
        let mut bytes_seen = HashSet::new();
        for ancestor in self.ancestry(master).iter() {
            if crate::domain::limits::exhausted() {
                return failed(crate::domain::limits::exhausted_message());
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

    pub(super) fn commercial(&self, master: &Id) -> Finding {
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

    pub(super) fn qc_passed(&self, asset: &Id, digest: &Digest, what: &str, required: &[QcCheck]) -> Finding {
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

    pub(super) fn proof(&self, master: &Id, media: &[ProofMedium], min_scale_percent: u16) -> Finding {
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

    pub(super) fn approved(
        &self,
        master: &Id,
        who: &'static str,
        counts: impl Fn(&crate::domain::state::Approval) -> bool,
    ) -> Finding {
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

    pub(super) fn brief_format(&self, format: &Label) -> Finding {
        let formats = self.view.brief_formats(self.project);
        if formats.iter().any(|f| f == format) {
            passed(vec![])
        } else {
            let declared: Vec<&str> = formats.iter().map(|f| f.as_str()).collect();
            failed(format!("format `{format}` is not among the brief's deliverable formats {declared:?}"))
        }
    }

    pub(super) fn current(&self, master: &Id) -> Finding {
        match self.view.superseded_by(self.project, master).last() {
            Some(s) => failed(format!(
                "master `{master}` was superseded by post edit `{}` (event `{}`), which made asset `{}`",
                s.edit, s.event, s.output
            )),
            None => passed(vec![]),
        }
    }
}
