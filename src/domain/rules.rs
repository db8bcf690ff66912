//! The rules checked when an event is appended: `decide` reads the state and the event and either
//! accepts it or names the rule it breaks. It never changes anything.

use super::event::*;
use super::ids::{ActorId, Digest, EventId, Id, KeyId, ProjectId};
use super::roles::may_submit;
use super::state::{Namespace, Record, View};
use std::collections::HashSet;

/// Why an event was refused. Each variant is one stable problem type at the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("key `{key}` is not registered")]
    UnknownKey { key: KeyId },
    #[error("key `{key}` was revoked")]
    RevokedKey { key: KeyId },
    #[error("key `{key}` belongs to actor `{owner}`, but the payload names actor `{actor}`")]
    KeyNotActors {
        key: KeyId,
        owner: ActorId,
        actor: ActorId,
    },
    #[error("role `{role}` may not submit `{kind}` events (see the role matrix)")]
    RoleNotAllowed {
        role: &'static str,
        kind: &'static str,
    },
    #[error("project `{project}` does not exist")]
    ProjectNotFound { project: ProjectId },
    #[error("project `{project}` already exists")]
    ProjectExists { project: ProjectId },
    #[error("`{field}` names {noun} `{id}`, which does not exist in project `{project}`")]
    UnknownReference {
        field: String,
        noun: &'static str,
        id: String,
        project: ProjectId,
    },
    #[error("`{field}`: {noun} `{id}` already exists in project `{project}`")]
    DuplicateId {
        field: String,
        noun: &'static str,
        id: String,
        project: ProjectId,
    },
    #[error("`{field}` is {given}, but asset `{asset}` has digest {actual}")]
    DigestMismatch {
        field: String,
        asset: Id,
        given: Digest,
        actual: Digest,
    },
    #[error("`{field}`: {rule}")]
    Invalid { field: String, rule: &'static str },
    #[error("`body.event_id`: event `{event}` was already retracted")]
    AlreadyRetracted { event: EventId },
    #[error("actor `{actor}` is not registered")]
    UnknownActor { actor: ActorId },
    #[error("actor `{actor}` already exists")]
    ActorExists { actor: ActorId },
}

impl Refusal {
    /// The stable slug of the problem type.
    pub fn slug(&self) -> &'static str {
        match self {
            Refusal::UnknownKey { .. } => "unknown-key",
            Refusal::RevokedKey { .. } => "revoked-key",
            Refusal::KeyNotActors { .. } => "key-not-actors",
            Refusal::RoleNotAllowed { .. } => "role-not-allowed",
            Refusal::ProjectNotFound { .. } => "project-not-found",
            Refusal::ProjectExists { .. } => "project-exists",
            Refusal::UnknownReference { .. } => "unknown-reference",
            Refusal::DuplicateId { .. } => "duplicate-id",
            Refusal::DigestMismatch { .. } => "digest-mismatch",
            Refusal::Invalid { .. } => "invalid-event",
            Refusal::AlreadyRetracted { .. } => "already-retracted",
            Refusal::UnknownActor { .. } => "unknown-actor",
            Refusal::ActorExists { .. } => "actor-exists",
        }
    }
}

/// Checks who signed: the key must be registered to the payload's actor, not revoked, and the
/// actor's role must allow the kind.
pub fn check_signer(view: &View<'_>, payload: &Payload, key: &KeyId) -> Result<(), Refusal> {
    let system = view.system();
    let (owner, actor, key_state) = system
        .key(key)
        .ok_or_else(|| Refusal::UnknownKey { key: key.clone() })?;
    if owner != &payload.actor {
        return Err(Refusal::KeyNotActors {
            key: key.clone(),
            owner: owner.clone(),
            actor: payload.actor.clone(),
        });
    }
    if key_state.revoked {
        return Err(Refusal::RevokedKey { key: key.clone() });
    }
    if !may_submit(actor.role, payload.kind()) {
        return Err(Refusal::RoleNotAllowed {
            role: actor.role.as_str(),
            kind: payload.kind().as_str(),
        });
    }
    Ok(())
}

/// Checks the event against the state: every reference resolves inside its project, every new id
/// is new, digests match the assets they name.
pub fn decide(view: &View<'_>, payload: &Payload) -> Result<(), Refusal> {
    let project = &payload.project;
    if project.is_system() {
        return decide_system(view, &payload.body);
    }
    match &payload.body {
        Body::ProjectCreated(_) => {
            return if view.project_exists(project) {
                Err(Refusal::ProjectExists {
                    project: project.clone(),
                })
            } else {
                Ok(())
            };
        }
        _ if !view.project_exists(project) => {
            return Err(Refusal::ProjectNotFound {
                project: project.clone(),
            })
        }
        _ => {}
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
                return Err(invalid(
                    "body.selected",
                    "a selection selects or rejects at least one asset",
                ));
            }
            refs.all_exist("body.selected", N::Asset, &b.selected)?;
            refs.all_exist("body.rejected", N::Asset, &b.rejected)?;
            let selected: HashSet<&Id> = b.selected.iter().collect();
            if b.rejected.iter().any(|r| selected.contains(r)) {
                return Err(invalid(
                    "body.rejected",
                    "an asset cannot be both selected and rejected",
                ));
            }
        }
        Body::PostEditApplied(b) => {
            non_empty("body.inputs", &b.inputs)?;
            refs.all_exist("body.inputs", N::Asset, &b.inputs)?;
            refs.maybe(
                "body.model_version",
                N::ModelVersion,
                b.model_version.as_ref(),
            )?;
        }
        Body::QcReviewRecorded(b) => {
            refs.digest_matches("body.digest", &b.asset, &b.digest)?;
            non_empty("body.checks", &b.checks)?;
            let mut seen = HashSet::new();
            if !b.checks.iter().all(|c| seen.insert(c.check)) {
                return Err(invalid("body.checks", "each check appears at most once"));
            }
        }
        Body::ApprovalRecorded(b) => refs.digest_matches("body.digest", &b.asset, &b.digest)?,
        Body::DeliveryRecorded(b) => refs.exists("body.master_asset", N::Asset, &b.master_asset)?,
        Body::NoteAdded(b) => refs.all_exist("body.assets", N::Asset, &b.assets)?,
        Body::EventRetracted(b) => {
            if !view.has_event(project, &b.event_id) {
                return Err(Refusal::UnknownReference {
                    field: "body.event_id".into(),
                    noun: "event",
                    id: b.event_id.to_string(),
                    project: project.clone(),
                });
            }
            if view.is_retracted(project, &b.event_id) {
                return Err(Refusal::AlreadyRetracted {
                    event: b.event_id.clone(),
                });
            }
        }
        _ => {}
    }
    Ok(())
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
        Ok(())
    };
    match body {
        Body::ActorRegistered(b) => {
            if system.actor(&b.actor_id).is_some() {
                return Err(Refusal::ActorExists {
                    actor: b.actor_id.clone(),
                });
            }
            non_empty("body.keys", &b.keys)?;
            new_keys(&b.keys.iter().collect::<Vec<_>>())
        }
        Body::KeyAdded(b) => {
            if system.actor(&b.actor_id).is_none() {
                return Err(Refusal::UnknownActor {
                    actor: b.actor_id.clone(),
                });
            }
            new_keys(&[&b.key])
        }
        Body::KeyRevoked(b) => {
            let actor = system
                .actor(&b.actor_id)
                .ok_or_else(|| Refusal::UnknownActor {
                    actor: b.actor_id.clone(),
                })?;
            match actor.keys.get(&b.key_id) {
                None => Err(Refusal::Invalid {
                    field: "body.key_id".into(),
                    rule: "the key must belong to the actor",
                }),
                Some(k) if k.revoked => Err(Refusal::RevokedKey {
                    key: b.key_id.clone(),
                }),
                Some(_) => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

fn invalid(field: &str, rule: &'static str) -> Refusal {
    Refusal::Invalid {
        field: field.into(),
        rule,
    }
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
        self.lookup(field, ns, id).map(|_| ())
    }
    fn lookup(&self, field: &str, ns: Namespace, id: &Id) -> Result<&Record, Refusal> {
        self.view
            .record(self.project, ns, id)
            .ok_or_else(|| Refusal::UnknownReference {
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
        ids.iter()
            .enumerate()
            .try_for_each(|(i, id)| self.exists(&format!("{field}[{i}]"), ns, id))
    }
    fn digest_matches(&self, field: &str, asset: &Id, given: &Digest) -> Result<(), Refusal> {
        match self.lookup("body.asset", Namespace::Asset, asset)? {
            Record::Asset { digest } if digest == given => Ok(()),
            Record::Asset { digest } => Err(Refusal::DigestMismatch {
                field: field.into(),
                asset: asset.clone(),
                given: given.clone(),
                actual: digest.clone(),
            }),
            _ => Ok(()),
        }
    }
    /// Every record the event creates must be new, within the project and within the event.
    fn new_records(&self, body: &Body) -> Result<(), Refusal> {
        let mut seen = HashSet::new();
        for (ns, id, _) in super::state::created_records(body) {
            if self.view.record(self.project, ns, id).is_some() || !seen.insert((ns, id)) {
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
