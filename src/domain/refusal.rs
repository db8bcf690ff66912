//! Why an event was refused: one variant per stable problem type at the API. Shared by the
//! rules (`rules/`) and the workflow policies (`rules/policy/`), which both refuse with it.

use super::ids::{ActorId, Digest, EventId, Id, KeyId, OrganizationId, ProjectId};

/// Why an event was refused. Each variant is one stable problem type at the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("key `{key}` is not registered")]
    UnknownKey { key: KeyId },
    #[error("key `{key}` was revoked")]
    RevokedKey { key: KeyId },
    #[error("key `{key}` is not a key of actor `{actor}`, whom the payload names")]
    KeyNotActors { key: KeyId, actor: ActorId },
    #[error("key `{key}` is the ledger's own: it signs only the genesis entry")]
    LedgerKeyReserved { key: KeyId },
    #[error("role `{role}` may not submit `{kind}` events (see the role matrix)")]
    RoleNotAllowed { role: &'static str, kind: &'static str },
    /// The same answer whether the project exists or not: it tells nothing about the project.
    #[error("actor `{actor}` is not a member of project `{project}`")]
    NotAMember { actor: ActorId, project: ProjectId },
    #[error("`body.event_id`: event `{event}` may not be retracted: {why}")]
    RetractionNotAllowed { event: EventId, why: &'static str },
    #[error("`{field}`: {reason}; a policy amendment may only make the policy stricter")]
    PolicyNotStricter { field: String, reason: String },
    #[error("project `{project}` does not exist")]
    ProjectNotFound { project: ProjectId },
    #[error("project `{project}` already exists")]
    ProjectExists { project: ProjectId },
    #[error("`{field}` names {noun} `{id}`, which does not exist in project `{project}`")]
    UnknownReference { field: String, noun: &'static str, id: String, project: ProjectId },
    #[error("`{field}`: {noun} `{id}` already exists in project `{project}`")]
    DuplicateId { field: String, noun: &'static str, id: String, project: ProjectId },
    #[error("`{field}` is {given}, but asset `{asset}` has digest {actual}")]
    DigestMismatch { field: String, asset: Id, given: Digest, actual: Digest },
    #[error("`{field}`: {rule}")]
    Invalid { field: String, rule: &'static str },
    /// As [`Refusal::Invalid`], with what in the log breaks the rule.
    #[error("`{field}`: {rule}: {because}")]
    InvalidBecause { field: String, rule: &'static str, because: String },
    #[error("`body.event_id`: event `{event}` was already retracted")]
    AlreadyRetracted { event: EventId },
    #[error("`{field}` names organisation `{organization}`, which is not registered")]
    UnknownOrganization { field: String, organization: OrganizationId },
    #[error("actor `{actor}` is not registered")]
    UnknownActor { actor: ActorId },
    #[error("actor `{actor}` already exists")]
    ActorExists { actor: ActorId },
    #[error("workflow policy `{rule}`: {missing}")]
    Policy { rule: &'static str, missing: String },
    /// The payload names another ledger than the one it was sent to.
    #[error("`ledger`: the event was signed for ledger `{named}`; this ledger is `{this}` (the first line of GET /v1/checkpoint)")]
    WrongLedger { named: String, this: String },
    /// A documented bound on what one submission may ask (docs/limits.md).
    #[error("`{field}`: {got} {limit}, over the limit of {max} (docs/limits.md)")]
    LimitExceeded { field: String, limit: &'static str, max: usize, got: usize },
}

impl Refusal {
    /// The stable slug of the problem type.
    pub fn slug(&self) -> &'static str {
        match self {
            Refusal::UnknownKey { .. } => "unknown-key",
            Refusal::RevokedKey { .. } => "revoked-key",
            Refusal::KeyNotActors { .. } => "key-not-actors",
            Refusal::LedgerKeyReserved { .. } => "ledger-key-reserved",
            Refusal::RoleNotAllowed { .. } => "role-not-allowed",
            Refusal::NotAMember { .. } => "not-a-member",
            Refusal::RetractionNotAllowed { .. } => "retraction-not-allowed",
            Refusal::PolicyNotStricter { .. } => "policy-not-stricter",
            Refusal::ProjectNotFound { .. } => "project-not-found",
            Refusal::ProjectExists { .. } => "project-exists",
            Refusal::UnknownReference { .. } => "unknown-reference",
            Refusal::DuplicateId { .. } => "duplicate-id",
            Refusal::DigestMismatch { .. } => "digest-mismatch",
            Refusal::Invalid { .. } | Refusal::InvalidBecause { .. } => "invalid-event",
            Refusal::AlreadyRetracted { .. } => "already-retracted",
            Refusal::UnknownOrganization { .. } => "unknown-organization",
            Refusal::UnknownActor { .. } => "unknown-actor",
            Refusal::ActorExists { .. } => "actor-exists",
            Refusal::Policy { .. } => "policy-violation",
            Refusal::LimitExceeded { .. } => "limit-exceeded",
            Refusal::WrongLedger { .. } => "wrong-ledger",
        }
    }
}

/// What `decide` answers when it does not accept: a refusal, or a lookup of the log that failed
/// (which is the store's failure, not the event's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Lookup(#[from] LookupFailed),
}

/// A lookup of the log that could not be answered (the store failed to read): a decision that
/// needed it is neither an acceptance nor a refusal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the log could not be read: {0}")]
pub struct LookupFailed(pub String);
