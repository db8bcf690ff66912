//! The rules only governed projects have, and who may be a project's client or member.

use super::*;

/// Whether an actor of organisation `own` belongs to a client organisation other than the
/// project's `client`: such an actor is never a member (added, or as the creating producer).
pub(super) fn of_another_client(
    view: &View<'_>,
    own: Option<&OrganizationId>,
    client: Option<&OrganizationId>,
) -> bool {
    own.is_some_and(|own| {
        Some(own) != client && view.system().organization(own).is_some_and(|o| o.kind == OrganizationKind::Client)
    })
}

/// The organisation a project is made for must be registered as a client (or the agency, for
/// its own projects).
pub(super) fn client_organization(view: &View<'_>, field: &str, id: &OrganizationId) -> Result<(), Refusal> {
    match view.system().organization(id) {
        None => Err(Refusal::UnknownOrganization { field: field.into(), organization: id.clone() }),
        Some(org) if org.kind == OrganizationKind::Vendor => {
            Err(invalid(field, "a project is made for a client organisation (or the agency), not a vendor"))
        }
        Some(_) => Ok(()),
    }
}

/// The rules only a governed project has: its clock, membership, policy amendments, QC
/// coherence and who may retract what.
pub(super) fn decide_governed(view: &View<'_>, payload: &Payload, at: Position) -> Result<(), Refusal> {
    let project = &payload.project;
    if payload.occurred_at.timestamp_micros() > at.received_at_us.saturating_add(MAX_CLOCK_AHEAD_US) {
        return Err(invalid(
            "occurred_at",
            "an event may not say it happened more than 5 minutes after the ledger received it",
        ));
    }
    match &payload.body {
        Body::ProjectAdopted(_) => Err(invalid("body", "the project is governed already")),
        Body::MemberAdded(b) => {
            let actor = view.system().actor(&b.actor_id).ok_or_else(|| Refusal::UnknownActor { actor: b.actor_id.clone() })?;
            if b.role == Role::Admin {
                return Err(invalid("body.role", "admin is a ledger-wide role, not a project role"));
            }
            if let Some(Membership::Member(_)) = view.membership(project, &b.actor_id) {
                return Err(invalid("body.actor_id", "the actor is a member already: remove it first to change its role"));
            }
            if b.actor_id.as_str() == crate::domain::genesis::LEDGER_ACTOR {
                return Err(invalid("body.actor_id", "the ledger's actor signs only the genesis entry: it is no member"));
            }
            if b.role == Role::ClientApprover && actor.organization.as_ref() != view.client(project) {
                return Err(invalid("body.role", "a client approver must belong to the project's client organisation"));
            }
            if of_another_client(view, actor.organization.as_ref(), view.client(project)) {
                return Err(invalid(
                    "body.actor_id",
                    "the actor belongs to another client organisation: a project's members are of its client, the agency or a vendor",
                ));
            }
            Ok(())
        }
        Body::MemberRemoved(b) => match view.membership(project, &b.actor_id) {
            Some(Membership::Member(_)) => Ok(()),
            _ => Err(invalid("body.actor_id", "the actor is not a member of the project")),
        },
        Body::PolicyAmended(b) => {
            non_empty("body.rules", &b.rules)?;
            let mut rules = policy_of(view, project).map(|p| p.rules).unwrap_or_default();
            for (i, rule) in b.rules.iter().enumerate() {
                if let RuleSpec::PrintProof { min_scale_percent } | RuleSpec::LargeFormatProof { min_scale_percent } = rule {
                    if !(1..=MAX_SCALE_PERCENT).contains(min_scale_percent) {
                        return Err(invalid(&format!("body.rules[{i}].min_scale_percent"), "a scale is 1 to 1000 percent"));
                    }
                }
                let field = format!("body.rules[{i}]");
                match amend(&mut rules, rule) {
                    Amendment::Adds | Amendment::Raises => {}
                    Amendment::ChangesNothing => {
                        return Err(Refusal::PolicyNotStricter {
                            field,
                            reason: format!("the policy already requires everything rule `{}` asks", rule.name()),
                        })
                    }
                    Amendment::Lowers { current } => {
                        return Err(Refusal::PolicyNotStricter {
                            field,
                            reason: format!("rule `{}` requires {current} already", rule.name()),
                        })
                    }
                }
            }
            Ok(())
        }
        Body::QcReviewRecorded(b) => {
            let any_failed = b.checks.iter().any(|c| c.result == CheckResult::Fail);
            if any_failed != (b.verdict == Verdict::Fail) {
                return Err(invalid("body.verdict", "a QC verdict is `fail` exactly when one of its checks fails"));
            }
            match b.proof_scale_percent {
                None if matches!(b.proof_medium, ProofMedium::Print | ProofMedium::LargeFormat) => {
                    Err(invalid("body.proof_scale_percent", "a print or large-format proof states its scale"))
                }
                Some(scale) if !(1..=MAX_SCALE_PERCENT).contains(&scale) => {
                    Err(invalid("body.proof_scale_percent", "a scale is 1 to 1000 percent"))
                }
                _ => Ok(()),
            }
        }
        Body::EventRetracted(b) => match view.guard(project, &b.event_id) {
            Some(Guard::Governance) => Err(Refusal::RetractionNotAllowed {
                event: b.event_id.clone(),
                why: "the project's creation, membership, policy and retractions are never retracted",
            }),
            Some(Guard::Evidence { author }) if author != &payload.actor => Err(Refusal::RetractionNotAllowed {
                event: b.event_id.clone(),
                why: "only the actor who recorded a QC review, an approval or a creative director's selection may retract it",
            }),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// A delivered variant carries its master's bytes or new ones: bytes recorded as another asset
/// of the project carry that asset's verdicts, and a delivery may not pass them off as a variant
/// of an approved master (rule set version 3).
pub(super) fn variant_bytes(view: &View<'_>, project: &ProjectId, b: &DeliveryRecorded) -> Result<(), Refusal> {
    let master = crate::domain::state::asset_key(&b.master_asset);
    let others = view
        .assets_with_bytes(project, &b.variant.digest.bytes())
        .into_iter()
        .filter(|k| *k != master && view.parents_at(project, k).as_slice() != [&b.master_asset]);
    if others.count() > 0 {
        return Err(invalid(
            "body.variant.digest",
            "the variant's bytes are recorded as another asset of the project than its master or the master's delivered variants: a variant carries its master's bytes or new ones (deliver that asset as the master, and its verdicts count)",
        ));
    }
    // Bytes recorded already (the master's, an earlier variant's) carry their verdicts.
    if let Some(because) = crate::domain::policy::against_these_bytes(view, project, &b.variant.digest) {
        return Err(Refusal::InvalidBecause {
            field: "body.variant.digest".into(),
            rule: "the variant's bytes carry a verdict against them, recorded for them under some asset id",
            because,
        });
    }
    if view.reference_bytes(project, &b.variant.digest.bytes()).is_some() {
        return Err(invalid(
            "body.variant.digest",
            "the variant's bytes are those of a reference of the project: a variant carries its master's bytes or new ones",
        ));
    }
    Ok(())
}
