//! Every error the API returns, as an RFC 9457 `application/problem+json` body with a stable
//! `type` per kind (`urn:lineage:problem:<slug>`, listed in `docs/errors.md`). [`ProblemType`]
//! is the one list: each kind's slug, status and meaning, declared once.

use crate::crypto::dsse::EnvelopeError;
use crate::domain::{PayloadError, Refusal};
use crate::ledger::{AppendError, Failed};
use crate::log::OpenError;
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const PROBLEM_PREFIX: &str = "urn:lineage:problem:";

macro_rules! problem_types {
    ($($variant:ident = $slug:literal, $status:ident, $meaning:literal;)*) => {
        /// A kind of error: its slug (the `type` after [`PROBLEM_PREFIX`]), its HTTP status and
        /// what it means. `docs/errors.md` is generated from this list.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ProblemType { $($variant,)* }

        impl ProblemType {
            pub const ALL: &'static [ProblemType] = &[$(ProblemType::$variant,)*];
            pub fn slug(self) -> &'static str {
                match self { $(ProblemType::$variant => $slug,)* }
            }
            pub fn status(self) -> StatusCode {
                match self { $(ProblemType::$variant => StatusCode::$status,)* }
            }
            pub fn meaning(self) -> &'static str {
                match self { $(ProblemType::$variant => $meaning,)* }
            }
            pub fn from_slug(slug: &str) -> Option<ProblemType> {
                match slug { $($slug => Some(ProblemType::$variant),)* _ => None }
            }
        }
    };
}

problem_types! {
    MalformedJson = "malformed-json", BAD_REQUEST, "The body is not valid JSON.";
    MalformedBody = "malformed-body", BAD_REQUEST, "The request body could not be read.";
    InvalidEnvelope = "invalid-envelope", BAD_REQUEST, "The DSSE envelope is missing a field, has an unknown one, or does not carry exactly one well-formed signature.";
    UnsupportedPayloadType = "unsupported-payload-type", BAD_REQUEST, "`payloadType` is not `application/vnd.lineage.event+json`.";
    InvalidBase64 = "invalid-base64", BAD_REQUEST, "`payload` or a signature is not standard base64.";
    InvalidBatch = "invalid-batch", BAD_REQUEST, "A batch body is not `{\"envelopes\": [...]}`.";
    InvalidQuery = "invalid-query", BAD_REQUEST, "A query parameter is unknown, malformed or out of range (page sizes are 1 to 1000).";
    InvalidPath = "invalid-path", BAD_REQUEST, "A path segment is malformed (a sequence that is not a number, an id with forbidden characters).";
    InvalidTokenRequest = "invalid-token-request", BAD_REQUEST, "A token request names no valid name or an invalid project id.";
    BadRequest = "bad-request", BAD_REQUEST, "Any other malformed request.";
    Unauthorized = "unauthorized", UNAUTHORIZED, "No bearer token, or one the ledger did not issue.";
    Forbidden = "forbidden", FORBIDDEN, "The token may not read this project, needs to cover every project, or is not an admin token.";
    BadSignature = "bad-signature", FORBIDDEN, "The signature does not verify with the named key over PAE(payloadType, payload).";
    UnknownKey = "unknown-key", FORBIDDEN, "The signature's key id is not registered.";
    RevokedKey = "revoked-key", FORBIDDEN, "The key was revoked (also: revoking a key twice).";
    KeyNotActors = "key-not-actors", FORBIDDEN, "The key belongs to another actor than the payload's `actor`.";
    LedgerKeyReserved = "ledger-key-reserved", FORBIDDEN, "The ledger's own key signs only the genesis entry; every other event needs an actor's key.";
    RoleNotAllowed = "role-not-allowed", FORBIDDEN, "The actor's role may not sign this kind: in a governed project its project role, elsewhere its registered role (docs/roles.md).";
    NotAMember = "not-a-member", FORBIDDEN, "The actor is not a member of the project, or the project does not exist: the answer is the same, and comes before any check that looks at the project.";
    RetractionNotAllowed = "retraction-not-allowed", FORBIDDEN, "A governed project's creation, membership, policy and retractions are never retracted; a QC review, approval or creative director's selection only by its author.";
    NotFound = "not-found", NOT_FOUND, "No such entry, event, project, actor or route.";
    MethodNotAllowed = "method-not-allowed", METHOD_NOT_ALLOWED, "The route exists but not with this method.";
    BodyTimeout = "body-timeout", REQUEST_TIMEOUT, "The request body did not arrive within the body deadline (30 s by default).";
    VersionConflict = "version-conflict", CONFLICT, "`expected_version` differs from the stream's version; `expected` and `actual` say both.";
    EventIdConflict = "event-id-conflict", CONFLICT, "The event id is already in the log with a different payload.";
    ProjectExists = "project-exists", CONFLICT, "`project_created` for a project that exists.";
    DuplicateId = "duplicate-id", CONFLICT, "A record id the event creates (asset, prompt, generation, ...) already exists in the project.";
    ActorExists = "actor-exists", CONFLICT, "`actor_registered` for an actor that exists.";
    BodyTooLarge = "body-too-large", PAYLOAD_TOO_LARGE, "The request body is over the limit (256 KiB for one event, 16 MiB for a batch, by default).";
    PayloadTooLarge = "payload-too-large", PAYLOAD_TOO_LARGE, "The decoded payload is over 64 KiB.";
    BatchTooLarge = "batch-too-large", PAYLOAD_TOO_LARGE, "A batch holds more envelopes than the limit (1000 by default).";
    UnsupportedMediaType = "unsupported-media-type", UNSUPPORTED_MEDIA_TYPE, "The body is not of a type the route takes: `application/json`, or for signing Content Credentials the asset's own `image/jpeg` or `image/png`.";
    InvalidPayload = "invalid-payload", UNPROCESSABLE_ENTITY, "The payload is not a valid event: a field is missing, unknown, of the wrong type or out of bounds; `field` names it.";
    UnknownKind = "unknown-kind", UNPROCESSABLE_ENTITY, "`kind` is not in the catalogue.";
    UnsupportedSchemaVersion = "unsupported-schema-version", UNPROCESSABLE_ENTITY, "`schema_version` is not the kind's current version.";
    WrongStream = "wrong-stream", UNPROCESSABLE_ENTITY, "An actor or key event outside the `system` stream, or a project event inside it.";
    EmptyBatch = "empty-batch", UNPROCESSABLE_ENTITY, "A batch with no envelopes.";
    ProjectNotFound = "project-not-found", UNPROCESSABLE_ENTITY, "The event names a project that does not exist; answered to an admin, who acts without membership (any other signer gets `not-a-member`, as for a project it is not a member of).";
    UnknownReference = "unknown-reference", UNPROCESSABLE_ENTITY, "A referenced asset, prompt, model version, pipeline, brief, reference or event does not exist in the same project; `field` names the reference.";
    DigestMismatch = "digest-mismatch", UNPROCESSABLE_ENTITY, "A review or approval names a digest that is not the asset's; a file sent to be signed is not the asset's bytes.";
    UnsignableFile = "unsignable-file", UNPROCESSABLE_ENTITY, "The asset's file could not carry Content Credentials: the C2PA SDK could not read it as its media type says.";
    TreeSizeOutOfRange = "tree-size-out-of-range", UNPROCESSABLE_ENTITY, "A proof was asked for a tree size the log has not reached, or that does not contain the entry.";
    PolicyNotStricter = "policy-not-stricter", UNPROCESSABLE_ENTITY, "A policy amendment asks for nothing new, or for less than the policy requires: a policy is only made stricter; `field` names the rule.";
    UnknownOrganization = "unknown-organization", UNPROCESSABLE_ENTITY, "The event names an organisation that is not registered.";
    PolicyViolation = "policy-violation", UNPROCESSABLE_ENTITY, "The project's workflow policy refuses the approval or delivery; `detail` names the rule and the missing evidence (docs/policies.md).";
    AsOfOutOfRange = "as-of-out-of-range", UNPROCESSABLE_ENTITY, "`as_of` names a sequence beyond the head of the log or a time in the future.";
    AlreadyRetracted = "already-retracted", UNPROCESSABLE_ENTITY, "The retracted event was already retracted.";
    UnknownActor = "unknown-actor", UNPROCESSABLE_ENTITY, "A key event names an actor that is not registered.";
    WrongLedger = "wrong-ledger", UNPROCESSABLE_ENTITY, "The payload's `ledger` names another ledger than this one (an event signed for a staging ledger sent to production, say): an event is accepted only by the ledger it was signed for, whose name is the first line of `GET /v1/checkpoint`.";
    LimitExceeded = "limit-exceeded", UNPROCESSABLE_ENTITY, "An entry or a request names more ids than a documented limit allows (names per entry, names per request, derivation links in an asset's lineage); `field` and `detail` name the limit (docs/limits.md).";
    InvalidConfidentialText = "invalid-confidential-text", UNPROCESSABLE_ENTITY, "A clear text sent for a confidential field does not match: the entry holds no commitment at `field`, the salt is not 32 bytes in hex, or text and salt do not hash to the commitment; `field` says which.";
    InvalidWebhook = "invalid-webhook", UNPROCESSABLE_ENTITY, "A webhook registration, change or replay is malformed: a URL that is not http(s), an unknown project, organisation or kind, a `from` past the log's end; `field` names it.";
    WebhookUrlRefused = "webhook-url-refused", UNPROCESSABLE_ENTITY, "A webhook's URL reaches the server's own loopback, link-local, unspecified or multicast addresses, which it does not post to unless its operator allows it (docs/security.md).";
    InvalidEvent = "invalid-event", UNPROCESSABLE_ENTITY, "The event breaks a rule of its kind (an empty list that must not be, an asset both selected and rejected, a reused key id); `field` and `detail` say which.";
    TooManyFeeds = "too-many-feeds", TOO_MANY_REQUESTS, "The token has as many live feeds open as it may (4), or the server as many as it may (64); close one, or retry after `Retry-After` seconds.";
    Erased = "erased", GONE, "The clear text of this commitment was erased by a `confidential_erased` event: it is not kept, and is never taken again.";
    Internal = "internal", INTERNAL_SERVER_ERROR, "The server failed; nothing was written.";
    Unavailable = "unavailable", SERVICE_UNAVAILABLE, "The writer queue is full, the server holds as many request bodies as it may at once (256 MiB by default), or the ledger is stopping; retry after `Retry-After` seconds.";
    SigningNotConfigured = "signing-not-configured", SERVICE_UNAVAILABLE, "The server holds no certificate to sign Content Credentials with (`lineage serve --c2pa-cert --c2pa-key`); `lineage credentials` signs with your own.";
    StorageUnavailable = "storage-unavailable", SERVICE_UNAVAILABLE, "The store failed; the append was not acknowledged and may be retried.";
    InsufficientStorage = "insufficient-storage", INSUFFICIENT_STORAGE, "The disk holding the store is full (or below its reserve, `--min-free-mb`); nothing was written; retry after `Retry-After` seconds. Reads go on.";
}

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:lineage:problem:<slug>`: stable, one per kind of error.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    /// What went wrong, naming the field or rule.
    pub detail: String,
    /// The payload field the problem is about, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Position of the offending envelope in the request (0 for a single append).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// For version conflicts: the version the client expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    /// For version conflicts: the stream's actual version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<u64>,
    /// For policy violations: the rule that refused (docs/policies.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem: Box<Problem>,
    pub retry_after: Option<u32>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.problem.problem_type, self.problem.detail)
    }
}

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> ApiError {
        let status = kind.status();
        ApiError {
            status,
            problem: Box::new(Problem {
                problem_type: format!("{PROBLEM_PREFIX}{}", kind.slug()),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                field: None,
                index: None,
                expected: None,
                actual: None,
                rule: None,
            }),
            retry_after: None,
        }
    }
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.problem.field = Some(field.into());
        self
    }
    pub fn at(mut self, index: usize) -> Self {
        self.problem.index = Some(index);
        self
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(ProblemType::NotFound, detail)
    }
    pub fn bad_query(detail: impl Into<String>) -> Self {
        ApiError::new(ProblemType::InvalidQuery, detail)
    }
    /// The client may retry after this many seconds.
    pub fn retry_after(mut self, seconds: u32) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/problem+json");
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(&*self.problem)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        log::error!("store: {e}");
        match e {
            StoreError::Full { .. } => ApiError::new(ProblemType::InsufficientStorage, e.to_string()).retry_after(5),
            _ => ApiError::new(ProblemType::StorageUnavailable, e.to_string()).retry_after(1),
        }
    }
}

impl From<crate::ledger::evidence::EvidenceError> for ApiError {
    fn from(e: crate::ledger::evidence::EvidenceError) -> Self {
        use crate::ledger::evidence::EvidenceError as E;
        match e {
            E::Store(e) => e.into(),
            E::MapBehind { .. } => ApiError::new(ProblemType::Unavailable, e.to_string()).retry_after(2),
        }
    }
}

impl From<EnvelopeError> for ApiError {
    fn from(e: EnvelopeError) -> Self {
        use ProblemType as P;
        let (kind, field) = match &e {
            EnvelopeError::Json(_) => (P::MalformedJson, None),
            EnvelopeError::Field { field, .. } => (P::InvalidEnvelope, Some(field.clone())),
            EnvelopeError::PayloadType(_) => (P::UnsupportedPayloadType, Some("payloadType".into())),
            EnvelopeError::Base64(f) => (P::InvalidBase64, Some((*f).to_owned())),
            EnvelopeError::SignatureCount(_) => (P::InvalidEnvelope, Some("signatures".into())),
            EnvelopeError::SignatureLength => (P::InvalidEnvelope, Some("signatures[0].sig".into())),
            EnvelopeError::PayloadTooLarge(_) => (P::PayloadTooLarge, Some("payload".into())),
        };
        let error = ApiError::new(kind, e.to_string());
        match field {
            Some(f) => error.field(f),
            None => error,
        }
    }
}

impl From<PayloadError> for ApiError {
    fn from(e: PayloadError) -> Self {
        let kind = match &e {
            PayloadError::Field { .. } => ProblemType::InvalidPayload,
            PayloadError::UnknownKind(_) => ProblemType::UnknownKind,
            PayloadError::SchemaVersion { .. } => ProblemType::UnsupportedSchemaVersion,
            PayloadError::SystemKindOutsideSystem { .. } | PayloadError::ProjectKindInSystem { .. } => {
                ProblemType::WrongStream
            }
        };
        let field = e.field_name().map(str::to_owned);
        let error = ApiError::new(kind, format!("{e}"));
        match field.as_deref() {
            Some("") => error.field("payload"),
            // An element of a payload that is an array: `payload[0]`.
            Some(f) if f.starts_with('[') => error.field(format!("payload{f}")),
            Some(f) => error.field(format!("payload.{f}")),
            None => error,
        }
    }
}

impl From<crate::ledger::PrepareError> for ApiError {
    fn from(e: crate::ledger::PrepareError) -> Self {
        match e {
            crate::ledger::PrepareError::Open(e) => e.into(),
            // Refused where it arrived, for what the writer would refuse it for.
            crate::ledger::PrepareError::Rejected(r) => ApiError::from(Failed { index: 0, error: r.into() }),
        }
    }
}

impl From<OpenError> for ApiError {
    fn from(e: OpenError) -> Self {
        match e {
            OpenError::Envelope(e) => e.into(),
            OpenError::Payload(e) => e.into(),
        }
    }
}

/// The problem type of a refusal: the one its stable slug names.
fn refusal_kind(r: &Refusal) -> ProblemType {
    ProblemType::from_slug(r.slug()).unwrap_or(ProblemType::InvalidEvent)
}

fn refusal_field(r: &Refusal) -> Option<String> {
    match r {
        Refusal::UnknownReference { field, .. }
        | Refusal::DuplicateId { field, .. }
        | Refusal::DigestMismatch { field, .. }
        | Refusal::Invalid { field, .. }
        | Refusal::InvalidBecause { field, .. }
        | Refusal::PolicyNotStricter { field, .. }
        | Refusal::UnknownOrganization { field, .. }
        | Refusal::LimitExceeded { field, .. } => Some(format!("payload.{field}")),
        Refusal::NotAMember { .. } => Some("payload.project".into()),
        Refusal::RetractionNotAllowed { .. } => Some("payload.body.event_id".into()),
        Refusal::UnknownKey { .. } | Refusal::RevokedKey { .. } => Some("signatures[0].keyid".into()),
        Refusal::KeyNotActors { .. } => Some("payload.actor".into()),
        Refusal::LedgerKeyReserved { .. } => Some("signatures[0].keyid".into()),
        Refusal::RoleNotAllowed { .. } => Some("payload.kind".into()),
        Refusal::ProjectNotFound { .. } | Refusal::ProjectExists { .. } => Some("payload.project".into()),
        Refusal::AlreadyRetracted { .. } => Some("payload.body.event_id".into()),
        Refusal::WrongLedger { .. } => Some("payload.ledger".into()),
        Refusal::UnknownActor { .. } | Refusal::ActorExists { .. } => Some("payload.body.actor_id".into()),
        Refusal::Policy { .. } => Some("payload.body".into()),
    }
}

impl From<Failed> for ApiError {
    fn from(f: Failed) -> Self {
        let error = match f.error {
            AppendError::Refused(r) => {
                let mut error = ApiError::new(refusal_kind(&r), r.to_string());
                if let Refusal::Policy { rule, .. } = &r {
                    error.problem.rule = Some((*rule).to_owned());
                }
                match refusal_field(&r) {
                    Some(field) => error.field(field),
                    None => error,
                }
            }
            AppendError::BadSignature { .. } => {
                ApiError::new(ProblemType::BadSignature, f.error.to_string()).field("signatures[0].sig")
            }
            AppendError::VersionConflict { expected, actual, .. } => {
                let mut e =
                    ApiError::new(ProblemType::VersionConflict, f.error.to_string()).field("payload.expected_version");
                e.problem.expected = Some(expected);
                e.problem.actual = Some(actual);
                e
            }
            AppendError::EventIdConflict { .. } => {
                ApiError::new(ProblemType::EventIdConflict, f.error.to_string()).field("payload.event_id")
            }
            AppendError::Busy | AppendError::ShuttingDown => {
                return ApiError::new(ProblemType::Unavailable, f.error.to_string()).retry_after(1)
            }
            AppendError::Lookup(failed) => {
                return ApiError::new(ProblemType::StorageUnavailable, failed.to_string()).retry_after(1)
            }
            AppendError::Storage(cause) => {
                return ApiError::new(ProblemType::StorageUnavailable, cause.to_string()).retry_after(1)
            }
            AppendError::Full(cause) => {
                return ApiError::new(ProblemType::InsufficientStorage, cause.to_string()).retry_after(5)
            }
        };
        error.at(f.index)
    }
}

/// Every problem type the API returns: slug, status, meaning. `docs/errors.md` is generated from
/// this list and the tests check that every answer's type is in it.
/// `docs/errors.md`'s table.
pub fn problem_table_markdown() -> String {
    let mut out = String::from("| type | status | meaning |\n|---|---|---|\n");
    for problem in ProblemType::ALL {
        let (slug, status, meaning) = (problem.slug(), problem.status().as_u16(), problem.meaning());
        out.push_str(&format!("| `{PROBLEM_PREFIX}{slug}` | {status} | {meaning} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ActorId, Digest, EventId, Id, KeyId, ProjectId};

    #[test]
    fn every_refusal_has_a_problem_type_of_its_own_slug() {
        let key = KeyId::parse("k").unwrap();
        let project = ProjectId::parse("p").unwrap();
        let actor = ActorId::parse("a").unwrap();
        let refusals = [
            Refusal::UnknownKey { key: key.clone() },
            Refusal::RevokedKey { key: key.clone() },
            Refusal::KeyNotActors { key: key.clone(), actor: actor.clone() },
            Refusal::LedgerKeyReserved { key },
            Refusal::RoleNotAllowed { role: "r", kind: "k" },
            Refusal::ProjectNotFound { project: project.clone() },
            Refusal::ProjectExists { project: project.clone() },
            Refusal::UnknownReference { field: "f".into(), noun: "n", id: "i".into(), project: project.clone() },
            Refusal::DuplicateId { field: "f".into(), noun: "n", id: "i".into(), project },
            Refusal::DigestMismatch {
                field: "f".into(),
                asset: Id::parse("a").unwrap(),
                given: Digest::of(b"g"),
                actual: Digest::of(b"a"),
            },
            Refusal::Invalid { field: "f".into(), rule: "r" },
            Refusal::InvalidBecause { field: "f".into(), rule: "r", because: "b".into() },
            Refusal::AlreadyRetracted { event: EventId::parse("e").unwrap() },
            Refusal::UnknownActor { actor: actor.clone() },
            Refusal::ActorExists { actor },
            Refusal::Policy { rule: "r", missing: "m".into() },
            Refusal::NotAMember { actor: ActorId::parse("a").unwrap(), project: ProjectId::parse("p").unwrap() },
            Refusal::RetractionNotAllowed { event: EventId::parse("e").unwrap(), why: "w" },
            Refusal::PolicyNotStricter { field: "f".into(), reason: "r".into() },
            Refusal::LimitExceeded { field: "f".into(), limit: "l", max: 1, got: 2 },
            Refusal::WrongLedger { named: "a".into(), this: "b".into() },
            Refusal::UnknownOrganization {
                field: "f".into(),
                organization: crate::domain::OrganizationId::parse("o").unwrap(),
            },
        ];
        for refusal in refusals {
            assert_eq!(refusal_kind(&refusal).slug(), refusal.slug(), "{refusal:?}");
        }
    }
}
