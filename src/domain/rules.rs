//! The rules checked when an event is appended: `decide` reads the state and the event and either
//! accepts it or names the rule it breaks. It never changes anything.
//!
//! About half of its 870 lines is its table of tests (`mod tests`).

use super::event::*;
use super::ids::{Digest, Id, KeyId, OrganizationId, ProjectId};
use super::payload::Payload;
use super::policy::{amend, policy_of, Amendment, RuleSpec, MAX_SCALE_PERCENT};
use super::refusal::{DecideError, Refusal};
use super::roles::may_submit;
use super::state::{Guard, Membership, Namespace, Position, Record, View};
use std::collections::HashSet;

/// How far after the ledger's clock an event may say it happened.
pub const MAX_CLOCK_AHEAD_US: i64 = 5 * 60 * 1_000_000;

/// Checks who signed: the key must be registered to the payload's actor and not revoked, and
/// the role must allow the kind — in a governed project the actor's project role, which only a
/// member has. A signer that is not a member learns nothing about the project: the answer is the
/// same whether the project exists or not, and comes before any check that would look at it.
pub fn check_signer(view: &View<'_>, payload: &Payload, key: &KeyId) -> Result<(), Refusal> {
    let system = view.system();
    let (owner, actor, key_state) = system.key(key).ok_or_else(|| Refusal::UnknownKey { key: key.clone() })?;
    if owner != &payload.actor {
        return Err(Refusal::KeyNotActors { key: key.clone(), actor: payload.actor.clone() });
    }
    if key_state.revoked {
        return Err(Refusal::RevokedKey { key: key.clone() });
    }
    let kind = payload.kind();
    let project = &payload.project;
    let not_allowed = |role: Role| Refusal::RoleNotAllowed { role: role.as_str(), kind: kind.as_str() };
    let as_admin = actor.role == Role::Admin && may_submit(Role::Admin, kind);
    if project.is_system()
        || kind == Kind::ProjectCreated
        || (view.project_exists(project) && !view.is_governed(project))
    {
        // The system stream, a new project and a legacy project go by the registered role.
        return if may_submit(actor.role, kind) { Ok(()) } else { Err(not_allowed(actor.role)) };
    }
    match view.member_role(project, &payload.actor) {
        Some(role) if may_submit(role, kind) || as_admin => Ok(()),
        Some(role) => Err(not_allowed(role)),
        // An admin may act for administration in any project; a project that does not exist
        // is then its to hear of.
        None if as_admin => Ok(()),
        None => Err(Refusal::NotAMember { actor: payload.actor.clone(), project: project.clone() }),
    }
}

/// Checks the event against the state: every reference resolves inside its project, every new id
/// is new, digests match the assets they name, governance events keep the project coherent, and
/// approvals and deliveries follow the project's policy. `at` is where the event would land.
pub fn decide(view: &View<'_>, payload: &Payload, at: Position) -> Result<(), DecideError> {
    let project = &payload.project;
    if project.is_system() {
        return Ok(decide_system(view, &payload.body)?);
    }
    match &payload.body {
        Body::ProjectCreated(b) => {
            if view.project_exists(project) {
                return Err(Refusal::ProjectExists { project: project.clone() }.into());
            }
            if let Some(client) = &b.client_organization {
                client_organization(view, "body.client_organization", client)?;
                // The creating producer becomes the first member: it must be one that could be
                // added (the client's, the agency's or a vendor's).
                let own = view.system().actor(&payload.actor).and_then(|a| a.organization.as_ref());
                if of_another_client(view, own, Some(client)) {
                    return Err(invalid(
                        "body.client_organization",
                        "the creating producer belongs to another client organisation: a project's members are of its client, the agency or a vendor",
                    )
                    .into());
                }
                // Projects are opened by the client or the agency that runs them; a vendor joins
                // as a member. (Events written before the ledger named itself keep their reading.)
                let vendor =
                    own.and_then(|o| view.system().organization(o)).is_some_and(|o| o.kind == OrganizationKind::Vendor);
                if vendor && payload.ledger.is_some() {
                    return Err(invalid(
                        "body.client_organization",
                        "a vendor's producer does not create projects for a client: the client's or an agency's producers do, and add the vendor's people as members",
                    )
                    .into());
                }
            }
            return Ok(());
        }
        _ if !view.project_exists(project) => return Err(Refusal::ProjectNotFound { project: project.clone() }.into()),
        _ => {}
    }
    if view.is_governed(project) {
        decide_governed(view, payload, at)?;
    } else if matches!(payload.body, Body::MemberAdded(_) | Body::MemberRemoved(_) | Body::PolicyAmended(_)) {
        return Err(invalid(
            "project",
            "members and policy amendments exist only in governed projects: adopt the project first (project_adopted)",
        )
        .into());
    }
    let refs = Refs { view, project };
    refs.new_records(&payload.body)?;
    use Namespace as N;
    match &payload.body {
        Body::BriefRevised(b) => refs.exists("body.brief_id", N::Brief, &b.brief_id)?,
        Body::PipelineDefined(b) => {
            non_empty("body.steps", &b.steps)?;
            refs.all_exist("body.model_versions", N::ModelVersion, &b.model_versions)?;
        }
        Body::PromptAuthored(b) => {
            refs.all_exist("body.references", N::Reference, &b.references)?;
            refs.maybe("body.parent_prompt", N::Prompt, b.parent_prompt.as_ref())?;
            refs.maybe("body.brief_id", N::Brief, b.brief_id.as_ref())?;
        }
        Body::GenerationRecorded(b) => {
            refs.exists("body.model_version", N::ModelVersion, &b.model_version)?;
            refs.exists("body.prompt", N::Prompt, &b.prompt)?;
            refs.maybe("body.pipeline", N::Pipeline, b.pipeline.as_ref())?;
            refs.all_exist("body.input_assets", N::Asset, &b.input_assets)?;
            non_empty("body.outputs", &b.outputs)?;
        }
        Body::SelectionMade(b) => {
            if b.selected.is_empty() && b.rejected.is_empty() {
                return Err(invalid("body.selected", "a selection selects or rejects at least one asset").into());
            }
            refs.all_exist("body.selected", N::Asset, &b.selected)?;
            refs.all_exist("body.rejected", N::Asset, &b.rejected)?;
            let selected: HashSet<&Id> = b.selected.iter().collect();
            if b.rejected.iter().any(|r| selected.contains(r)) {
                return Err(invalid("body.rejected", "an asset cannot be both selected and rejected").into());
            }
        }
        Body::PostEditApplied(b) => {
            non_empty("body.inputs", &b.inputs)?;
            refs.all_exist("body.inputs", N::Asset, &b.inputs)?;
            refs.maybe("body.model_version", N::ModelVersion, b.model_version.as_ref())?;
        }
        Body::QcReviewRecorded(b) => {
            refs.digest_matches("body.digest", &b.asset, &b.digest)?;
            non_empty("body.checks", &b.checks)?;
            let mut seen = HashSet::new();
            if !b.checks.iter().all(|c| seen.insert(c.check)) {
                return Err(invalid("body.checks", "each check appears at most once").into());
            }
        }
        Body::ApprovalRecorded(b) => refs.digest_matches("body.digest", &b.asset, &b.digest)?,
        Body::DeliveryRecorded(b) => {
            refs.exists("body.master_asset", N::Asset, &b.master_asset)?;
            if view.rule_set(project) >= 3 {
                variant_bytes(view, project, b)?;
            }
        }
        Body::ProjectAdopted(b) => client_organization(view, "body.client_organization", &b.client_organization)?,
        _ => {}
    }
    super::policy::check(view, payload)?;
    match &payload.body {
        Body::NoteAdded(b) => refs.all_exist("body.assets", N::Asset, &b.assets)?,
        Body::EventRetracted(b) => {
            if !view.has_event(project, &b.event_id)? {
                return Err(Refusal::UnknownReference {
                    field: "body.event_id".into(),
                    noun: "event",
                    id: b.event_id.to_string(),
                    project: project.clone(),
                }
                .into());
            }
            if view.is_retracted(project, &b.event_id) {
                return Err(Refusal::AlreadyRetracted { event: b.event_id.clone() }.into());
            }
        }
        _ => {}
    }
    Ok(())
}

/// Whether an actor of organisation `own` belongs to a client organisation other than the
/// project's `client`: such an actor is never a member (added, or as the creating producer).
fn of_another_client(view: &View<'_>, own: Option<&OrganizationId>, client: Option<&OrganizationId>) -> bool {
    own.is_some_and(|own| {
        Some(own) != client && view.system().organization(own).is_some_and(|o| o.kind == OrganizationKind::Client)
    })
}

/// The organisation a project is made for must be registered as a client (or the agency, for
/// its own projects).
fn client_organization(view: &View<'_>, field: &str, id: &OrganizationId) -> Result<(), Refusal> {
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
fn decide_governed(view: &View<'_>, payload: &Payload, at: Position) -> Result<(), Refusal> {
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
            if b.actor_id.as_str() == super::genesis::LEDGER_ACTOR {
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

fn decide_system(view: &View<'_>, body: &Body) -> Result<(), Refusal> {
    let system = view.system();
    let new_keys = |keys: &[&PublicKey]| -> Result<(), Refusal> {
        let mut seen = HashSet::new();
        for key in keys {
            if system.key_owner(&key.key_id).is_some() || !seen.insert(&key.key_id) {
                return Err(Refusal::Invalid {
                    field: "body.keys".into(),
                    rule: "key ids are unique across the ledger",
                });
            }
        }
        // One public key, one registration: under a new id the ledger's own key would sign as
        // an admin, and another actor's key would make its signatures two actors'.
        for (i, key) in keys.iter().enumerate() {
            let taken = system.actors().any(|(_, actor)| actor.keys.values().any(|k| k.public_key == key.public_key))
                || keys[..i].iter().any(|k| k.public_key == key.public_key);
            if taken {
                return Err(Refusal::Invalid {
                    field: "body.keys".into(),
                    rule: "the public key is registered already (the ledger's own or an actor's): a key is registered once",
                });
            }
        }
        Ok(())
    };
    match body {
        Body::OrganizationRegistered(b) => {
            if system.organization(&b.organization_id).is_some() {
                return Err(invalid("body.organization_id", "an organisation of this id exists already"));
            }
            Ok(())
        }
        Body::ActorRegistered(b) => {
            if system.actor(&b.actor_id).is_some() {
                return Err(Refusal::ActorExists { actor: b.actor_id.clone() });
            }
            if let Some(org) = &b.organization {
                if system.organization(org).is_none() {
                    return Err(Refusal::UnknownOrganization {
                        field: "body.organization".into(),
                        organization: org.clone(),
                    });
                }
            }
            non_empty("body.keys", &b.keys)?;
            new_keys(&b.keys.iter().collect::<Vec<_>>())
        }
        Body::KeyAdded(b) => {
            if system.actor(&b.actor_id).is_none() {
                return Err(Refusal::UnknownActor { actor: b.actor_id.clone() });
            }
            if b.actor_id.as_str() == super::genesis::LEDGER_ACTOR {
                return Err(invalid(
                    "body.actor_id",
                    "the ledger's actor has the genesis key only: its keys sign nothing else",
                ));
            }
            new_keys(&[&b.key])
        }
        Body::KeyRevoked(b) => {
            let actor = system.actor(&b.actor_id).ok_or_else(|| Refusal::UnknownActor { actor: b.actor_id.clone() })?;
            match actor.keys.get(&b.key_id) {
                None => Err(Refusal::Invalid { field: "body.key_id".into(), rule: "the key must belong to the actor" }),
                Some(k) if k.revoked => Err(Refusal::RevokedKey { key: b.key_id.clone() }),
                Some(_) => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// A delivered variant carries its master's bytes or new ones: bytes recorded as another asset
/// of the project carry that asset's verdicts, and a delivery may not pass them off as a variant
/// of an approved master (rule set version 3).
fn variant_bytes(view: &View<'_>, project: &ProjectId, b: &DeliveryRecorded) -> Result<(), Refusal> {
    let master = super::state::asset_key(&b.master_asset);
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
    if let Some(because) = super::policy::against_these_bytes(view, project, &b.variant.digest) {
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

fn invalid(field: &str, rule: &'static str) -> Refusal {
    Refusal::Invalid { field: field.into(), rule }
}

fn non_empty<T>(field: &str, items: &[T]) -> Result<(), Refusal> {
    if items.is_empty() {
        Err(invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

struct Refs<'a, 'v> {
    view: &'a View<'v>,
    project: &'a ProjectId,
}

impl Refs<'_, '_> {
    fn exists(&self, field: &str, ns: Namespace, id: &Id) -> Result<(), Refusal> {
        if self.view.has_record(self.project, ns, id) {
            return Ok(());
        }
        self.lookup(field, ns, id).map(|_| ())
    }
    fn lookup(&self, field: &str, ns: Namespace, id: &Id) -> Result<Record, Refusal> {
        self.view.record(self.project, ns, id).ok_or_else(|| Refusal::UnknownReference {
            field: field.into(),
            noun: ns.noun(),
            id: id.to_string(),
            project: self.project.clone(),
        })
    }
    fn maybe(&self, field: &str, ns: Namespace, id: Option<&Id>) -> Result<(), Refusal> {
        id.map_or(Ok(()), |id| self.exists(field, ns, id))
    }
    fn all_exist(&self, field: &str, ns: Namespace, ids: &[Id]) -> Result<(), Refusal> {
        // The field is named only for the id that is missing: an entry names hundreds.
        match ids.iter().position(|id| !self.view.has_record(self.project, ns, id)) {
            Some(i) => self.exists(&format!("{field}[{i}]"), ns, &ids[i]),
            None => Ok(()),
        }
    }
    fn digest_matches(&self, field: &str, asset: &Id, given: &Digest) -> Result<(), Refusal> {
        match self.lookup("body.asset", Namespace::Asset, asset)? {
            Record::Asset { digest } if digest == *given => Ok(()),
            Record::Asset { digest } => Err(Refusal::DigestMismatch {
                field: field.into(),
                asset: asset.clone(),
                given: given.clone(),
                actual: digest,
            }),
            _ => Ok(()),
        }
    }
    /// Every record the event creates must be new, within the project and within the event.
    fn new_records(&self, body: &Body) -> Result<(), Refusal> {
        let mut seen = HashSet::new();
        for (ns, id, _) in super::state::created_records(body) {
            if self.view.has_record(self.project, ns, id) || !seen.insert((ns, id)) {
                return Err(Refusal::DuplicateId {
                    field: id_field(body, ns).into(),
                    noun: ns.noun(),
                    id: id.to_string(),
                    project: self.project.clone(),
                });
            }
        }
        Ok(())
    }
}

fn id_field(body: &Body, ns: Namespace) -> &'static str {
    match (body, ns) {
        (Body::GenerationRecorded(_), Namespace::Asset) => "body.outputs",
        (Body::PostEditApplied(_), Namespace::Asset) => "body.output.asset_id",
        (Body::DeliveryRecorded(_), Namespace::Asset) => "body.variant.asset_id",
        (Body::BriefRecorded(_), _) => "body.brief_id",
        (Body::ReferenceAdded(_), _) => "body.reference_id",
        (Body::ModelVersionRegistered(_), _) => "body.model_version_id",
        (Body::PipelineDefined(_), _) => "body.pipeline_id",
        (Body::PromptAuthored(_), _) => "body.prompt_id",
        (Body::GenerationRecorded(_), _) => "body.generation_id",
        (Body::SelectionMade(_), _) => "body.selection_id",
        (Body::PostEditApplied(_), _) => "body.edit_id",
        (Body::QcReviewRecorded(_), _) => "body.review_id",
        (Body::ApprovalRecorded(_), _) => "body.approval_id",
        (Body::DeliveryRecorded(_), _) => "body.delivery_id",
        _ => "body",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::PublicKeyBytes;
    use crate::domain::payload::Payload;
    use crate::domain::state::{Changes, Events, Facts, LedgerState, LookupFailed, NoEvents, SystemState};
    use crate::domain::{ActorId, EventId};
    use serde_json::{json, Value};

    const KEY: [u8; 32] = [
        0x3b, 0x6a, 0x27, 0xbc, 0xce, 0xb6, 0xa4, 0x2d, 0x62, 0xa3, 0xa8, 0xd0, 0x2a, 0x6f, 0x0d, 0x73, 0x65, 0x32,
        0x15, 0x77, 0x1d, 0xe2, 0x43, 0xa6, 0x3a, 0xc0, 0x48, 0xa1, 0x8b, 0x59, 0xda, 0x29,
    ];

    fn payload(project: &str, actor: &str, kind: &str, body: Value) -> Payload {
        let json = json!({"event_id": format!("e-{}", rand_id()), "project": project, "kind": kind,
            "schema_version": 1, "actor": actor, "occurred_at": "2026-01-01T00:00:00Z", "body": body});
        // Read as stored: at schema_version 1 the project is a legacy one, whose reference
        // rules are the governed projects' too.
        Payload::read(&serde_json::to_vec(&json).unwrap()).unwrap()
    }

    /// Where an event lands, for rules that do not look at it.
    fn at() -> Position {
        Position { version: 1, received_at_us: 0 }
    }

    /// The refusal of a decision whose lookups cannot fail.
    fn refused(e: DecideError) -> Refusal {
        match e {
            DecideError::Refused(r) => r,
            DecideError::Lookup(e) => panic!("{e}"),
        }
    }

    fn rand_id() -> u64 {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        N.fetch_add(1, Ordering::Relaxed)
    }

    fn asset(id: &str, digest: &str) -> Value {
        json!({"asset_id": id, "digest": format!("sha256:{}", digest.repeat(64)), "media_type": "image/png"})
    }

    /// A project `p` with a brief, a reference, a model version, a prompt and assets `a` and `b`.
    fn state() -> LedgerState {
        let system = SystemState::genesis(
            ActorId::parse("ledger").unwrap(),
            KeyId::parse("ledger").unwrap(),
            PublicKeyBytes::from_bytes(KEY).unwrap(),
        );
        let mut state = LedgerState::new(system);
        for (kind, body) in [
            ("project_created", json!({"content_type": "campaign", "title": "t"})),
            ("brief_recorded", json!({"brief_id": "brief", "title": "t", "text": "t"})),
            (
                "reference_added",
                json!({"reference_id": "ref", "category": "visual", "title": "t", "source": "s", "rights": {"status": "owned"}}),
            ),
            (
                "model_version_registered",
                json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"}),
            ),
            ("prompt_authored", json!({"prompt_id": "pr", "text": "t"})),
            (
                "generation_recorded",
                json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("a", "a"), asset("b", "b")]}),
            ),
        ] {
            let p = payload("p", "x", kind, body);
            let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
            decide(&view, &p, at()).unwrap_or_else(|r| panic!("{kind}: {r}"));
            state.apply(&p, at(), Facts::default());
        }
        state
    }

    type Case = (&'static str, Value, Result<(), (&'static str, &'static str)>);

    /// Decides one event against the fixture; `Ok(())` or the refusal's slug and field.
    fn check(kind: &str, body: Value, expected: Result<(), (&str, &str)>) {
        let state = state();
        let project = if kind.starts_with("actor") || kind.starts_with("key") { "system" } else { "p" };
        let p = payload(project, "x", kind, body.clone());
        let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
        let got = decide(&view, &p, at()).map_err(refused).map_err(|r| {
            let field = match &r {
                Refusal::UnknownReference { field, .. }
                | Refusal::DuplicateId { field, .. }
                | Refusal::DigestMismatch { field, .. }
                | Refusal::Invalid { field, .. } => field.clone(),
                _ => String::new(),
            };
            (r.slug(), field)
        });
        let expected = expected.map_err(|(slug, field)| (slug, field.to_owned()));
        assert_eq!(got, expected, "{kind} {body}");
    }

    #[test]
    fn references_resolve_inside_the_project() {
        let ok = Ok(());
        let unknown = |field| Err(("unknown-reference", field));
        let cases: Vec<Case> = vec![
            (
                "prompt_authored",
                json!({"prompt_id": "pr2", "text": "t", "parent_prompt": "pr", "references": ["ref"], "brief_id": "brief"}),
                ok,
            ),
            (
                "prompt_authored",
                json!({"prompt_id": "pr2", "text": "t", "parent_prompt": "nope"}),
                unknown("body.parent_prompt"),
            ),
            (
                "prompt_authored",
                json!({"prompt_id": "pr2", "text": "t", "references": ["ref", "nope"]}),
                unknown("body.references[1]"),
            ),
            ("prompt_authored", json!({"prompt_id": "pr2", "text": "t", "brief_id": "nope"}), unknown("body.brief_id")),
            (
                "generation_recorded",
                json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "input_assets": ["a"], "outputs": [asset("c", "c")]}),
                ok,
            ),
            (
                "generation_recorded",
                json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "input_assets": ["z"], "outputs": [asset("c", "c")]}),
                unknown("body.input_assets[0]"),
            ),
            (
                "generation_recorded",
                json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "pipeline": "pl", "outputs": [asset("c", "c")]}),
                unknown("body.pipeline"),
            ),
            (
                "pipeline_defined",
                json!({"pipeline_id": "pl", "name": "n", "steps": [{"name": "s", "tool": "t"}], "model_versions": ["mv", "mv9"]}),
                unknown("body.model_versions[1]"),
            ),
            (
                "post_edit_applied",
                json!({"edit_id": "e", "technique": "retouch", "tool": "t", "performed_by": "human", "inputs": ["a", "b"], "output": asset("c", "c")}),
                ok,
            ),
            (
                "post_edit_applied",
                json!({"edit_id": "e", "technique": "upres", "tool": "t", "performed_by": "ai", "inputs": ["a"], "output": asset("c", "c"), "model_version": "mv0"}),
                unknown("body.model_version"),
            ),
            (
                "delivery_recorded",
                json!({"delivery_id": "d", "master_asset": "q", "variant": asset("v", "e"), "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"}),
                unknown("body.master_asset"),
            ),
            (
                "approval_recorded",
                json!({"approval_id": "ap", "asset": "zz", "digest": format!("sha256:{}", "a".repeat(64)), "decision": "approved"}),
                unknown("body.asset"),
            ),
            ("note_added", json!({"text": "t", "assets": ["a", "b"]}), ok),
            ("event_retracted", json!({"event_id": "missing", "reason": "r"}), unknown("body.event_id")),
            ("brief_revised", json!({"brief_id": "brief", "text": "t", "reason": "r"}), ok),
        ];
        for (kind, body, expected) in cases {
            check(kind, body, expected);
        }
    }

    #[test]
    fn new_records_are_new_and_digests_match() {
        let cases: Vec<Case> = vec![
            (
                "generation_recorded",
                json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("c", "c")]}),
                Err(("duplicate-id", "body.generation_id")),
            ),
            (
                "generation_recorded",
                json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "outputs": [asset("a", "c")]}),
                Err(("duplicate-id", "body.outputs")),
            ),
            (
                "generation_recorded",
                json!({"generation_id": "g2", "model_version": "mv", "prompt": "pr", "outputs": []}),
                Err(("invalid-event", "body.outputs")),
            ),
            (
                "post_edit_applied",
                json!({"edit_id": "e", "technique": "cg", "tool": "t", "performed_by": "human", "inputs": [], "output": asset("c", "c")}),
                Err(("invalid-event", "body.inputs")),
            ),
            (
                "post_edit_applied",
                json!({"edit_id": "e", "technique": "cg", "tool": "t", "performed_by": "human", "inputs": ["a"], "output": asset("b", "c")}),
                Err(("duplicate-id", "body.output.asset_id")),
            ),
            (
                "qc_review_recorded",
                json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "a".repeat(64)), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "print", "proof_size": "A3", "verdict": "pass"}),
                Ok(()),
            ),
            (
                "qc_review_recorded",
                json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "b".repeat(64)), "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "print", "proof_size": "A3", "verdict": "pass"}),
                Err(("digest-mismatch", "body.digest")),
            ),
            (
                "qc_review_recorded",
                json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "a".repeat(64)), "checks": [], "proof_medium": "print", "proof_size": "A3", "verdict": "pass"}),
                Err(("invalid-event", "body.checks")),
            ),
            (
                "qc_review_recorded",
                json!({"review_id": "r", "asset": "a", "digest": format!("sha256:{}", "a".repeat(64)), "checks": [{"check": "edges", "result": "pass"}, {"check": "edges", "result": "fail"}], "proof_medium": "print", "proof_size": "A3", "verdict": "fail"}),
                Err(("invalid-event", "body.checks")),
            ),
            (
                "selection_made",
                json!({"selection_id": "s", "round": 1, "selected": [], "rationale": "r"}),
                Err(("invalid-event", "body.selected")),
            ),
            (
                "selection_made",
                json!({"selection_id": "s", "round": 1, "selected": ["a"], "rejected": ["b"], "rationale": "r"}),
                Ok(()),
            ),
            (
                "selection_made",
                json!({"selection_id": "s", "round": 1, "selected": ["a"], "rejected": ["a"], "rationale": "r"}),
                Err(("invalid-event", "body.rejected")),
            ),
            ("prompt_authored", json!({"prompt_id": "pr", "text": "t"}), Err(("duplicate-id", "body.prompt_id"))),
            ("project_created", json!({"content_type": "ecomm", "title": "t"}), Err(("project-exists", ""))),
            (
                "key_added",
                json!({"actor_id": "ghost", "key": {"key_id": "k2", "public_key": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="}}),
                Err(("unknown-actor", "")),
            ),
            (
                "key_revoked",
                json!({"actor_id": "ledger", "key_id": "nope", "reason": "r"}),
                Err(("invalid-event", "body.key_id")),
            ),
            ("key_revoked", json!({"actor_id": "ledger", "key_id": "ledger", "reason": "r"}), Ok(())),
            (
                "actor_registered",
                json!({"actor_id": "ledger", "display_name": "d", "role": "admin", "keys": [{"key_id": "k9", "public_key": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="}]}),
                Err(("actor-exists", "")),
            ),
            (
                "actor_registered",
                json!({"actor_id": "new", "display_name": "d", "role": "admin", "keys": [{"key_id": "ledger", "public_key": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik="}]}),
                Err(("invalid-event", "body.keys")),
            ),
            (
                "actor_registered",
                json!({"actor_id": "new", "display_name": "d", "role": "admin", "keys": []}),
                Err(("invalid-event", "body.keys")),
            ),
        ];
        for (kind, body, expected) in cases {
            check(kind, body, expected);
        }
    }

    #[test]
    fn a_staged_request_sees_its_own_events_and_leaves_no_trace_until_merged() {
        let mut state = state();
        let before = state.clone();
        let mut changes = Changes::default();
        let first = payload("p", "x", "prompt_authored", json!({"prompt_id": "pr2", "text": "t"}));
        let second =
            payload("p", "x", "prompt_authored", json!({"prompt_id": "pr3", "text": "t", "parent_prompt": "pr2"}));
        for p in [&first, &second] {
            let view = View { base: &state, changes: &changes, events: &NoEvents };
            decide(&view, p, at()).unwrap();
            changes.stage(&state, p, at(), Facts::default());
        }
        assert_eq!(state, before, "staging changes nothing");
        state.merge(changes);
        let again = payload("p", "x", "prompt_authored", json!({"prompt_id": "pr3", "text": "t"}));
        let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
        assert_eq!(refused(decide(&view, &again, at()).unwrap_err()).slug(), "duplicate-id");
    }

    #[test]
    fn the_signer_must_own_an_active_key_and_a_role_that_allows_the_kind() {
        let state = state();
        let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
        let key = KeyId::parse("ledger").unwrap();
        let note = payload("p", "ledger", "note_added", json!({"text": "t"}));
        assert_eq!(check_signer(&view, &note, &key), Ok(()));
        let brief = payload("p", "ledger", "brief_recorded", json!({"brief_id": "b2", "title": "t", "text": "t"}));
        assert_eq!(check_signer(&view, &brief, &key).unwrap_err().slug(), "role-not-allowed");
        let someone = payload("p", "someone", "note_added", json!({"text": "t"}));
        assert_eq!(check_signer(&view, &someone, &key).unwrap_err().slug(), "key-not-actors");
        assert_eq!(check_signer(&view, &note, &KeyId::parse("other").unwrap()).unwrap_err().slug(), "unknown-key");
        let mut revoked = state.clone();
        revoked.apply(
            &payload(
                "system",
                "ledger",
                "key_revoked",
                json!({"actor_id": "ledger", "key_id": "ledger", "reason": "r"}),
            ),
            at(),
            Facts::default(),
        );
        let view = View { base: &revoked, changes: &Changes::default(), events: &NoEvents };
        assert_eq!(check_signer(&view, &note, &key).unwrap_err().slug(), "revoked-key");
    }

    /// Events the log holds, by (project, event id).
    struct Logged(Vec<(&'static str, String)>);

    impl Events for Logged {
        fn version_in_project(&self, project: &ProjectId, event: &EventId) -> Result<Option<u64>, LookupFailed> {
            Ok(self.0.iter().position(|(p, e)| *p == project.as_str() && e == event.as_str()).map(|i| i as u64 + 1))
        }
    }

    #[test]
    fn a_retraction_names_an_event_of_its_project_not_yet_retracted() {
        let base = state();
        let note = payload("p", "x", "note_added", json!({"text": "t"}));
        let logged = Logged(vec![("p", "in-p".into()), ("q", "in-q".into())]);
        let retract = |id: &str| payload("p", "x", "event_retracted", json!({"event_id": id, "reason": "r"}));
        // (staged before it in the same request, target, expected refusal slug)
        let cases: [(&[&Payload], String, Option<&str>); 5] = [
            (&[], "in-p".into(), None),
            (&[], "in-q".into(), Some("unknown-reference")),
            (&[], "nowhere".into(), Some("unknown-reference")),
            (&[&note], note.event_id.to_string(), None),
            (&[&retract("in-p")], "in-p".into(), Some("already-retracted")),
        ];
        for (i, (staged, target, expected)) in cases.into_iter().enumerate() {
            let mut changes = Changes::default();
            for earlier in staged {
                let view = View { base: &base, changes: &changes, events: &logged };
                decide(&view, earlier, at()).unwrap_or_else(|r| panic!("case {i}: {r}"));
                changes.stage(&base, earlier, at(), Facts::default());
            }
            let view = View { base: &base, changes: &changes, events: &logged };
            assert_eq!(decide(&view, &retract(&target), at()).err().map(|r| refused(r).slug()), expected, "case {i}");
        }
    }

    /// A delivery whose variant claims another asset's bytes: refused in a project of rule set
    /// version 3 (created by an event that names its ledger), accepted in one created before.
    #[test]
    fn a_variant_carries_its_masters_bytes_in_a_project_of_the_current_rule_set() {
        let variant_of_b = json!({"delivery_id": "d", "master_asset": "a", "variant": asset("v", "b"), "format": "jpeg",
            "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"});
        let own_bytes = json!({"delivery_id": "d", "master_asset": "a", "variant": asset("v", "a"), "format": "jpeg",
            "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en"});
        for (named, refused) in [(false, false), (true, true)] {
            let mut state = state();
            // The project as if created now (its creation names its ledger), or before.
            let mut json = json!({"event_id": "e-created", "project": "q", "kind": "project_created",
                "schema_version": 1, "actor": "x", "occurred_at": "2026-01-01T00:00:00Z",
                "body": {"content_type": "social", "title": "t"}});
            if named {
                json["ledger"] = json!("l");
            }
            let created = Payload::read(&serde_json::to_vec(&json).unwrap()).unwrap();
            state.apply(&created, at(), Facts::default());
            for (kind, body) in [
                (
                    "model_version_registered",
                    json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"}),
                ),
                ("prompt_authored", json!({"prompt_id": "pr", "text": "t"})),
                (
                    "generation_recorded",
                    json!({"generation_id": "g", "model_version": "mv", "prompt": "pr", "outputs": [asset("a", "a"), asset("b", "b")]}),
                ),
            ] {
                state.apply(&payload("q", "x", kind, body), at(), Facts::default());
            }
            let project = "q";
            let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
            let got = decide(&view, &payload(project, "x", "delivery_recorded", variant_of_b.clone()), at());
            assert_eq!(got.is_err(), refused, "named {named}: {got:?}");
            if let Err(e) = got {
                assert!(matches!(refused_of(e), Refusal::Invalid { field, .. } if field == "body.variant.digest"));
            }
            let own = decide(&view, &payload(project, "x", "delivery_recorded", own_bytes.clone()), at());
            assert!(own.is_ok(), "named {named}: the master's own bytes: {own:?}");
        }
    }

    fn refused_of(e: DecideError) -> Refusal {
        refused(e)
    }

    /// Past the work limit the rules stop weighing: every rule then says so, and the limit
    /// refuses the entry; unmetered reads (views) are never cut short.
    #[test]
    fn past_the_work_limit_the_rules_stop_and_say_so() {
        use crate::domain::limits::{check_work, metered, tick, MAX_WORK_PER_REQUEST};
        use crate::domain::policy::{ancestry, evaluate, Intent};
        let state = state();
        let view = View { base: &state, changes: &Changes::default(), events: &NoEvents };
        let project = ProjectId::parse("p").unwrap();
        let (a, format) = (Id::parse("a").unwrap(), crate::domain::ids::Label::parse("jpeg").unwrap());
        let intent = Intent::Delivery {
            master: &a,
            medium: DeliveryMedium::Digital,
            format: &format,
            usage: Usage::Commercial,
            occurred_at_us: 0,
        };
        let (assessment, refused) = metered(|| {
            tick(MAX_WORK_PER_REQUEST as usize + 1);
            (evaluate(&view, &project, intent), check_work())
        });
        assert!(matches!(refused, Err(Refusal::LimitExceeded { .. })));
        assert!(assessment.outcomes.iter().all(|o| !o.passed()), "{assessment:?}");
        // Not metered: a walk is whole, and nothing is refused.
        tick(MAX_WORK_PER_REQUEST as usize + 1);
        assert_eq!(ancestry(&view, &project, &a), vec![a.clone()]);
        assert!(check_work().is_ok());
    }
}
