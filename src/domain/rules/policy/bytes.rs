//! The evidence for some bytes: what every asset recorded with them, and what they were made
//! from, says of them — one definition for the append, readiness, the provenance summary, the
//! audit trail and the evidence bundle.

use super::*;

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
    let own = crate::domain::state::asset_key(asset);
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
    let mut latest: Vec<&crate::domain::state::Approval> = Vec::new();
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
        if crate::domain::limits::exhausted() {
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
    let mut latest: Vec<&crate::domain::state::Approval> = Vec::new();
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
