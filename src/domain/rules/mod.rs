//! The rules checked when an event is appended: `decide` reads the state and the event and either
//! accepts it or names the rule it breaks. It never changes anything.
//!
//! A folder by subject: the system stream's rules, a governed project's, the workflow policies;
//! what every project's events must satisfy is here.

use super::event::*;
use super::ids::{Digest, Id, KeyId, OrganizationId, ProjectId};
use super::payload::Payload;
use super::refusal::{DecideError, Refusal};
use super::roles::may_submit;
use super::state::{Guard, Membership, Namespace, Position, Record, View};
use policy::{amend, policy_of, Amendment, RuleSpec, MAX_SCALE_PERCENT};
use std::collections::HashSet;

mod governed;
pub mod policy;
mod source_types;
mod system;
#[cfg(test)]
mod tests;

use governed::{client_organization, decide_governed, of_another_client, variant_bytes};
use system::decide_system;

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
        Body::ProjectCreated(b) => return Ok(decide_creation(view, payload, b)?),
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
    decide_references(&refs, &payload.body)?;
    super::policy::check(view, payload)?;
    decide_after_policy(&refs, &payload.body)
}

/// A new project: its id is free, and its client one the creating producer may work for.
fn decide_creation(view: &View<'_>, payload: &Payload, b: &ProjectCreated) -> Result<(), Refusal> {
    let project = &payload.project;
    if view.project_exists(project) {
        return Err(Refusal::ProjectExists { project: project.clone() });
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
            ));
        }
        // Projects are opened by the client or the agency that runs them; a vendor joins
        // as a member. (Events written before the ledger named itself keep their reading.)
        let vendor =
            own.and_then(|o| view.system().organization(o)).is_some_and(|o| o.kind == OrganizationKind::Vendor);
        if vendor && payload.ledger.is_some() {
            return Err(invalid(
                "body.client_organization",
                "a vendor's producer does not create projects for a client: the client's or an agency's producers do, and add the vendor's people as members",
            ));
        }
    }
    Ok(())
}

/// Every new id is new, every id it names resolves inside the project, digests match the assets
/// they name.
fn decide_references(refs: &Refs<'_, '_>, body: &Body) -> Result<(), DecideError> {
    let (view, project) = (refs.view, refs.project);
    refs.new_records(body)?;
    use Namespace as N;
    match body {
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
            for (i, output) in b.outputs.iter().enumerate() {
                not_imported(view, project, format!("body.outputs[{i}].digest"), &output.digest)?;
            }
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
            if b.generative == Some(true) && b.model_version.is_none() {
                return Err(invalid(
                    "body.model_version",
                    "a generative edit names the model version that made its pixels (generative: true)",
                )
                .into());
            }
            non_empty("body.inputs", &b.inputs)?;
            refs.all_exist("body.inputs", N::Asset, &b.inputs)?;
            not_imported(view, project, "body.output.digest".into(), &b.output.digest)?;
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
        // An import says how its pixels were made: bytes the project already holds as an asset
        // (a generation's output, say) cannot be imported again as a photograph.
        Body::AssetImported(b) if !view.assets_with_bytes(project, &b.asset.digest.bytes()).is_empty() => {
            return Err(invalid(
                "body.asset.digest",
                "these bytes are already recorded in the project as an asset: an import brings bytes the project does not hold, and what made them is what that asset's entry says",
            )
            .into());
        }
        _ => {}
    }
    source_types::check(view, project, body)
}

/// What is checked once the policy passed: the assets a note names, the event a retraction
/// takes back.
fn decide_after_policy(refs: &Refs<'_, '_>, body: &Body) -> Result<(), DecideError> {
    let (view, project) = (refs.view, refs.project);
    use Namespace as N;
    match body {
        Body::NoteAdded(b) => refs.all_exist("body.assets", N::Asset, &b.assets)?,
        // A retraction and an erasure name an event of the project.
        Body::ConfidentialErased(ConfidentialErased { event_id, .. })
        | Body::EventRetracted(EventRetracted { event_id, .. })
            if !view.has_event(project, event_id)? =>
        {
            return Err(Refusal::UnknownReference {
                field: "body.event_id".into(),
                noun: "event",
                id: event_id.to_string(),
                project: project.clone(),
            }
            .into());
        }
        Body::EventRetracted(b) if view.is_retracted(project, &b.event_id) => {
            return Err(Refusal::AlreadyRetracted { event: b.event_id.clone() }.into());
        }
        _ => {}
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

/// What a generation or an edit makes is not bytes the project holds as imported: those a
/// camera, a scanner or a person made, and the disclosure says so of them.
fn not_imported(
    view: &View<'_>,
    project: &ProjectId,
    field: String,
    digest: &crate::domain::Digest,
) -> Result<(), Refusal> {
    match view.imported_bytes(project, &digest.bytes()) {
        Some(asset) => Err(Refusal::InvalidBecause {
            field,
            rule:
                "a generation or an edit makes bytes of its own: imported bytes keep the origin their import gave them",
            because: format!("these bytes are those of imported asset `{asset}`"),
        }),
        None => Ok(()),
    }
}

fn id_field(body: &Body, ns: Namespace) -> &'static str {
    match (body, ns) {
        (Body::GenerationRecorded(_), Namespace::Asset) => "body.outputs",
        (Body::PostEditApplied(_), Namespace::Asset) => "body.output.asset_id",
        (Body::DeliveryRecorded(_), Namespace::Asset) => "body.variant.asset_id",
        (Body::BriefRecorded(_), _) => "body.brief_id",
        (Body::ReferenceAdded(_), _) => "body.reference_id",
        (Body::AssetImported(_), _) => "body.asset.asset_id",
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
