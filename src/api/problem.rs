//! Every error the API returns, as an RFC 9457 `application/problem+json` body with a stable
//! `type` per kind (`urn:lineage:problem:<slug>`, listed in `docs/errors.md`).

use crate::crypto::dsse::EnvelopeError;
use crate::domain::{PayloadError, Refusal};
use crate::ledger::{AppendError, Failed, SubmitError};
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const PROBLEM_PREFIX: &str = "urn:lineage:problem:";

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
    /// Position of the offending envelope in a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// For version conflicts: the version the client expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    /// For version conflicts: the stream's actual version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<u64>,
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
    pub fn new(status: StatusCode, slug: &str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status,
            problem: Box::new(Problem {
                problem_type: format!("{PROBLEM_PREFIX}{slug}"),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: detail.into(),
                field: None,
                index: None,
                expected: None,
                actual: None,
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
        ApiError::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
    pub fn bad_query(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-query", detail)
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
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage-unavailable", e.to_string())
    }
}

impl From<EnvelopeError> for ApiError {
    fn from(e: EnvelopeError) -> Self {
        let (status, slug, field) = match &e {
            EnvelopeError::Json(_) => (StatusCode::BAD_REQUEST, "malformed-json", None),
            EnvelopeError::Field { field, .. } => (StatusCode::BAD_REQUEST, "invalid-envelope", Some(field.clone())),
            EnvelopeError::PayloadType(_) => {
                (StatusCode::BAD_REQUEST, "unsupported-payload-type", Some("payloadType".into()))
            }
            EnvelopeError::Base64(f) => (StatusCode::BAD_REQUEST, "invalid-base64", Some((*f).to_owned())),
            EnvelopeError::SignatureCount(_) => {
                (StatusCode::BAD_REQUEST, "invalid-envelope", Some("signatures".into()))
            }
            EnvelopeError::SignatureLength => {
                (StatusCode::BAD_REQUEST, "invalid-envelope", Some("signatures[0].sig".into()))
            }
            EnvelopeError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large", Some("payload".into()))
            }
        };
        let error = ApiError::new(status, slug, e.to_string());
        match field {
            Some(f) => error.field(f),
            None => error,
        }
    }
}

impl From<PayloadError> for ApiError {
    fn from(e: PayloadError) -> Self {
        let slug = match &e {
            PayloadError::Field { .. } => "invalid-payload",
            PayloadError::UnknownKind(_) => "unknown-kind",
            PayloadError::SchemaVersion { .. } => "unsupported-schema-version",
            PayloadError::SystemKindOutsideSystem { .. } | PayloadError::ProjectKindInSystem { .. } => "wrong-stream",
        };
        let field = e.field_name().map(str::to_owned);
        let error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, slug, format!("{e}"));
        match field.as_deref() {
            Some("") => error.field("payload"),
            Some(f) => error.field(format!("payload.{f}")),
            None => error,
        }
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        match e {
            SubmitError::Envelope(e) => e.into(),
            SubmitError::Payload(e) => e.into(),
        }
    }
}

fn refusal_status(r: &Refusal) -> StatusCode {
    match r {
        Refusal::UnknownKey { .. }
        | Refusal::RevokedKey { .. }
        | Refusal::KeyNotActors { .. }
        | Refusal::RoleNotAllowed { .. } => StatusCode::FORBIDDEN,
        Refusal::ProjectExists { .. } | Refusal::DuplicateId { .. } | Refusal::ActorExists { .. } => {
            StatusCode::CONFLICT
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn refusal_field(r: &Refusal) -> Option<String> {
    match r {
        Refusal::UnknownReference { field, .. }
        | Refusal::DuplicateId { field, .. }
        | Refusal::DigestMismatch { field, .. }
        | Refusal::Invalid { field, .. } => Some(format!("payload.{field}")),
        Refusal::UnknownKey { .. } | Refusal::RevokedKey { .. } => Some("signatures[0].keyid".into()),
        Refusal::KeyNotActors { .. } => Some("payload.actor".into()),
        Refusal::RoleNotAllowed { .. } => Some("payload.kind".into()),
        Refusal::ProjectNotFound { .. } | Refusal::ProjectExists { .. } => Some("payload.project".into()),
        Refusal::AlreadyRetracted { .. } => Some("payload.body.event_id".into()),
        Refusal::UnknownActor { .. } | Refusal::ActorExists { .. } => Some("payload.body.actor_id".into()),
        Refusal::Policy { .. } => Some("payload.body".into()),
    }
}

impl From<Failed> for ApiError {
    fn from(f: Failed) -> Self {
        let error = match f.error {
            AppendError::Refused(r) => {
                let error = ApiError::new(refusal_status(&r), r.slug(), r.to_string());
                match refusal_field(&r) {
                    Some(field) => error.field(field),
                    None => error,
                }
            }
            AppendError::BadSignature { .. } => {
                ApiError::new(StatusCode::FORBIDDEN, "bad-signature", f.error.to_string()).field("signatures[0].sig")
            }
            AppendError::VersionConflict { expected, actual, .. } => {
                let mut e = ApiError::new(StatusCode::CONFLICT, "version-conflict", f.error.to_string())
                    .field("payload.expected_version");
                e.problem.expected = Some(expected);
                e.problem.actual = Some(actual);
                e
            }
            AppendError::EventIdConflict { .. } => {
                ApiError::new(StatusCode::CONFLICT, "event-id-conflict", f.error.to_string()).field("payload.event_id")
            }
            AppendError::Busy | AppendError::ShuttingDown => {
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", f.error.to_string());
                e.retry_after = Some(1);
                return e;
            }
            AppendError::Storage(msg) => {
                let mut e = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage-unavailable", msg);
                e.retry_after = Some(1);
                return e;
            }
        };
        error.at(f.index)
    }
}

/// Every problem type the API returns: slug, status, meaning. `docs/errors.md` is generated from
/// this list and the tests check that every answer's type is in it.
pub const PROBLEM_TYPES: &[(&str, u16, &str)] = &[
    ("malformed-json", 400, "The body is not valid JSON."),
    ("malformed-body", 400, "The request body could not be read."),
    ("invalid-envelope", 400, "The DSSE envelope is missing a field, has an unknown one, or does not carry exactly one well-formed signature."),
    ("unsupported-payload-type", 400, "`payloadType` is not `application/vnd.lineage.event+json`."),
    ("invalid-base64", 400, "`payload` or a signature is not standard base64."),
    ("invalid-batch", 400, "A batch body is not `{\"envelopes\": [...]}`."),
    ("invalid-query", 400, "A query parameter is unknown, malformed or out of range (page sizes are 1 to 1000)."),
    ("invalid-path", 400, "A path segment is malformed (a sequence that is not a number, an id with forbidden characters)."),
    ("invalid-token-request", 400, "A token request names no valid name or an invalid project id."),
    ("bad-request", 400, "Any other malformed request."),
    ("unauthorized", 401, "No bearer token, or one the ledger did not issue."),
    ("forbidden", 403, "The token may not read this project, needs to cover every project, or is not an admin token."),
    ("bad-signature", 403, "The signature does not verify with the named key over PAE(payloadType, payload)."),
    ("unknown-key", 403, "The signature's key id is not registered."),
    ("revoked-key", 403, "The key was revoked (also: revoking a key twice)."),
    ("key-not-actors", 403, "The key belongs to another actor than the payload's `actor`."),
    ("role-not-allowed", 403, "The actor's role may not sign this kind (docs/roles.md)."),
    ("not-found", 404, "No such entry, event, project, actor or route."),
    ("method-not-allowed", 405, "The route exists but not with this method."),
    ("version-conflict", 409, "`expected_version` differs from the stream's version; `expected` and `actual` say both."),
    ("event-id-conflict", 409, "The event id is already in the log with a different payload."),
    ("project-exists", 409, "`project_created` for a project that exists."),
    ("duplicate-id", 409, "A record id the event creates (asset, prompt, generation, ...) already exists in the project."),
    ("actor-exists", 409, "`actor_registered` for an actor that exists."),
    ("body-too-large", 413, "The request body is over the limit (256 KiB for one event, 16 MiB for a batch, by default)."),
    ("payload-too-large", 413, "The decoded payload is over 64 KiB."),
    ("batch-too-large", 413, "A batch holds more envelopes than the limit (1000 by default)."),
    ("unsupported-media-type", 415, "The body is not `application/json`."),
    ("invalid-payload", 422, "The payload is not a valid event: a field is missing, unknown, of the wrong type or out of bounds; `field` names it."),
    ("unknown-kind", 422, "`kind` is not in the catalogue."),
    ("unsupported-schema-version", 422, "`schema_version` is not the kind's current version."),
    ("wrong-stream", 422, "An actor or key event outside the `system` stream, or a project event inside it."),
    ("empty-batch", 422, "A batch with no envelopes."),
    ("project-not-found", 422, "The event names a project that does not exist."),
    ("unknown-reference", 422, "A referenced asset, prompt, model version, pipeline, brief, reference or event does not exist in the same project; `field` names the reference."),
    ("digest-mismatch", 422, "A review or approval names a digest that is not the asset's."),
    ("tree-size-out-of-range", 422, "A proof was asked for a tree size the log has not reached, or that does not contain the entry."),
    ("policy-violation", 422, "The project's workflow policy refuses the approval or delivery; `detail` names the rule and the missing evidence (docs/policies.md)."),
    ("as-of-out-of-range", 422, "`as_of` names a sequence beyond the head of the log or a time in the future."),
    ("already-retracted", 422, "The retracted event was already retracted."),
    ("unknown-actor", 422, "A key event names an actor that is not registered."),
    ("invalid-event", 422, "The event breaks a rule of its kind (an empty list that must not be, an asset both selected and rejected, a reused key id); `field` and `detail` say which."),
    ("internal", 500, "The server failed; nothing was written."),
    ("unavailable", 503, "The writer queue is full or the ledger is stopping; retry after `Retry-After` seconds."),
    ("storage-unavailable", 503, "The store failed; the append was not acknowledged and may be retried."),
];

/// `docs/errors.md`'s table.
pub fn problem_table_markdown() -> String {
    let mut out = String::from("| type | status | meaning |\n|---|---|---|\n");
    for (slug, status, meaning) in PROBLEM_TYPES {
        out.push_str(&format!("| `{PROBLEM_PREFIX}{slug}` | {status} | {meaning} |\n"));
    }
    out
}
