//! HTTP handlers under `/v1`.

use super::problem::{ApiError, Problem};
use super::views::*;
use super::AppState;
use crate::domain::ProjectId;
use crate::ledger::Appended;
use crate::store::TokenRecord;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::future::{ready, Ready};

/// The largest page any list returns.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// A valid bearer token and what it grants.
pub struct Reader(TokenRecord);

impl FromRequest for Reader {
    type Error = ApiError;
    type Future = Ready<Result<Reader, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Reader, ApiError> {
    let unauthorized = |detail: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", detail);
    let state = req.app_data::<web::Data<AppState>>().expect("app state is registered");
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("this endpoint needs an `Authorization: Bearer <token>` header"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    state.tokens.check(token.trim()).map(Reader).ok_or_else(|| unauthorized("the bearer token is not valid"))
}

impl Reader {
    fn forbidden(detail: String) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }
    pub fn project(&self, project: &str) -> Result<(), ApiError> {
        match &self.0.projects {
            Some(list) if !list.iter().any(|p| p == project) => {
                Err(Self::forbidden(format!("the token `{}` may not read project `{project}`", self.0.name)))
            }
            _ => Ok(()),
        }
    }
    pub fn everything(&self) -> Result<(), ApiError> {
        match self.0.projects {
            Some(_) => Err(Self::forbidden(format!(
                "the token `{}` is scoped to listed projects; this endpoint needs a token for every project",
                self.0.name
            ))),
            None => Ok(()),
        }
    }
    pub fn admin(&self) -> Result<(), ApiError> {
        if self.0.admin {
            Ok(())
        } else {
            Err(Self::forbidden(format!("the token `{}` is not an admin token", self.0.name)))
        }
    }
}

/// Reads a JSON request body up to the configured limit.
async fn json_body(req: &HttpRequest, mut body: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("the body must be `application/json`, got `{content_type}`"),
        ));
    }
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            format!("the request body is over the limit of {limit} bytes"),
        )
    };
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    // Sized from the declared length (within the limit), so that reading does not copy it again.
    let mut bytes = web::BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed-body", e.to_string()))?;
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "malformed-json", format!("the body is not valid JSON: {e}"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AppendQuery {
    /// Also return each entry's inclusion proof and the checkpoint that covers it.
    pub proof: Option<bool>,
}

/// The inclusion proof of an entry in the latest checkpoint, with that checkpoint.
fn proof_in_checkpoint(state: &AppState, sequence: u64) -> Result<Option<InclusionProof>, ApiError> {
    let Some(signed) = state.ledger.checkpoint() else { return Ok(None) };
    inclusion(state, sequence, signed.checkpoint.size)
}

fn inclusion(state: &AppState, sequence: u64, size: u64) -> Result<Option<InclusionProof>, ApiError> {
    let Some(hashes) = state.ledger.inclusion_proof(sequence, size)? else { return Ok(None) };
    let Some(entry) = state.ledger.entry(sequence)? else { return Ok(None) };
    let root = state.ledger.root(size)?.unwrap_or_default();
    let checkpoint = state.ledger.checkpoint().filter(|c| c.checkpoint.size == size).map(|c| c.note);
    Ok(Some(InclusionProof {
        leaf_index: sequence,
        tree_size: size,
        leaf_hash: hex::encode(entry.leaf_hash()),
        root_hash: hex::encode(root),
        hashes: hashes.iter().map(hex::encode).collect(),
        checkpoint,
    }))
}

fn appended_response(
    state: &AppState,
    appended: Vec<Appended>,
    heads: Vec<Option<EntryHead>>,
    batch: bool,
    with_proof: bool,
) -> Result<HttpResponse, ApiError> {
    let status = if appended.iter().any(|a| a.created) { StatusCode::CREATED } else { StatusCode::OK };
    let mut entries = Vec::with_capacity(appended.len());
    for (a, head) in appended.iter().zip(heads) {
        let inclusion = if with_proof { proof_in_checkpoint(state, a.entry.sequence)? } else { None };
        // A retried event answers with the original entry, whose envelope may differ.
        let entry = match head {
            Some(head) if a.created => EntryView::with_head(&a.entry, head),
            _ => EntryView::of(&a.entry),
        };
        entries.push(AppendedEntry { entry, inclusion });
    }
    let mut response = HttpResponse::build(status);
    // An answer repeats every envelope and payload: its buffer is sized for them up front rather
    // than grown (and copied) by doubling.
    let capacity = appended.iter().map(|a| 2 * a.entry.envelope.len() + 1024).sum();
    Ok(if batch {
        json_answer(response, &BatchResult { entries }, capacity)
    } else {
        let entry = entries.into_iter().next().expect("one envelope, one entry");
        response.insert_header((header::LOCATION, format!("/v1/entries/{}", entry.entry.sequence)));
        json_answer(response, &entry, capacity)
    })
}

fn json_answer(mut response: actix_web::HttpResponseBuilder, value: &impl Serialize, capacity: usize) -> HttpResponse {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => response.content_type("application/json").body(body),
        Err(_) => response.json(value),
    }
}

/// Append one signed event.
///
/// The body is a DSSE envelope. The answer comes once the entry is durable: 201 with the new
/// entry, or 200 with the original entry when the same event id and payload were already
/// appended. No bearer token is needed: the signature is the authentication.
#[utoipa::path(post, path = "/v1/events", tag = "append", request_body = crate::crypto::dsse::Envelope, params(AppendQuery),
    responses(
        (status = 201, description = "Appended and durable", body = AppendedEntry),
        (status = 200, description = "Already appended with the same payload", body = AppendedEntry),
        (status = 400, description = "Malformed JSON or envelope", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signature or signer refused", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Version or id conflict", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Payload breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Writer busy or storage unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn append_event(
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<AppendQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bytes = json_body(&req, body, state.limits.body_bytes).await?;
    let raw: &RawValue = serde_json::from_slice(&bytes).map_err(malformed)?;
    let subs = state.ledger.prepare(vec![raw.get().as_bytes().to_vec()]).map_err(|(_, e)| ApiError::from(e))?;
    let heads = subs.iter().map(EntryHead::of).collect();
    let appended = state.ledger.append(subs).await?;
    appended_response(&state, appended, heads, false, query.proof.unwrap_or(false))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch<'a> {
    #[serde(borrow)]
    envelopes: Vec<&'a RawValue>,
}

/// Append a batch of signed events atomically.
///
/// Either every event is appended or none is; a refusal names the position (`index`) of the
/// first bad envelope.
#[utoipa::path(post, path = "/v1/batches", tag = "append", request_body = BatchRequest, params(AppendQuery),
    responses(
        (status = 201, description = "Appended and durable", body = BatchResult),
        (status = 200, description = "Every event was already appended", body = BatchResult),
        (status = 400, description = "Malformed JSON or envelope", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Signature or signer refused", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Version or id conflict", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body or batch over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty batch, or a payload breaks a rule", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Writer busy or storage unavailable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn append_batch(
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<AppendQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bytes = json_body(&req, body, state.limits.batch_body_bytes).await?;
    let batch: RawBatch = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid-batch",
                format!("the batch must be {{\"envelopes\": [...]}}: {e}"),
            )
            .field("envelopes")
        } else {
            malformed(e)
        }
    })?;
    if batch.envelopes.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty-batch",
            "a batch holds at least one envelope",
        )
        .field("envelopes"));
    }
    if batch.envelopes.len() > state.limits.batch_events {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch-too-large",
            format!(
                "a batch holds at most {} envelopes, this one has {}",
                state.limits.batch_events,
                batch.envelopes.len()
            ),
        )
        .field("envelopes"));
    }
    let raws = batch.envelopes.iter().map(|r| r.get().as_bytes().to_vec()).collect();
    let subs = state.ledger.prepare(raws).map_err(|(i, e)| ApiError::from(e).at(i))?;
    let heads = subs.iter().map(EntryHead::of).collect();
    let appended = state.ledger.append(subs).await?;
    appended_response(&state, appended, heads, true, query.proof.unwrap_or(false))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// First version to return (default 1).
    pub from_version: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// First sequence to return (default 0).
    pub from: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<usize>,
}

fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => {
            Err(ApiError::bad_query(format!("`limit` must be between 1 and {MAX_PAGE}, got {n}")).field("limit"))
        }
    }
}

fn parse_project(raw: &str) -> Result<ProjectId, ApiError> {
    ProjectId::parse(raw).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", format!("project id `{raw}` {e}")).field("project")
    })
}

/// Read a project's stream in order.
#[utoipa::path(get, path = "/v1/projects/{project}/events", tag = "read", params(("project" = String, Path), StreamQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = EntryPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn project_events(
    reader: Reader,
    project: web::Path<String>,
    query: web::Query<StreamQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(project.as_str())?;
    let limit = page_size(query.limit)?;
    let from = query.from_version.unwrap_or(1).max(1);
    let ledger = state.ledger.clone();
    let id = project.to_string();
    let entries = web::block(move || ledger.project_entries(&id, from, limit + 1))
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()))??;
    if entries.is_empty() && from == 1 {
        return Err(ApiError::not_found(format!("project `{project}` does not exist")));
    }
    let next = (entries.len() > limit).then(|| entries[limit].version);
    let entries = entries.iter().take(limit).map(EntryView::of).collect();
    Ok(HttpResponse::Ok().json(EntryPage { entries, next }))
}

/// Read the global feed: every entry, in ledger order.
#[utoipa::path(get, path = "/v1/entries", tag = "read", params(FeedQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = EntryPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn feed(
    reader: Reader,
    query: web::Query<FeedQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    reader.everything()?;
    let limit = page_size(query.limit)?;
    let from = query.from.unwrap_or(0);
    let ledger = state.ledger.clone();
    let entries = web::block(move || ledger.range(from, limit))
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string()))??;
    let next = entries.last().map(|e| e.sequence + 1).filter(|n| *n < state.ledger.len());
    let entries = entries.iter().map(EntryView::of).collect();
    Ok(HttpResponse::Ok().json(EntryPage { entries, next }))
}

fn entry_response(reader: &Reader, entry: Option<crate::entry::Entry>, what: String) -> Result<HttpResponse, ApiError> {
    let entry = entry.ok_or_else(|| ApiError::not_found(format!("{what} is not in the log")))?;
    reader.project(&entry.project)?;
    Ok(HttpResponse::Ok().json(EntryView::of(&entry)))
}

/// One entry by its sequence.
#[utoipa::path(get, path = "/v1/entries/{sequence}", tag = "read", params(("sequence" = u64, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = EntryView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn entry(
    reader: Reader,
    sequence: web::Path<u64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sequence = sequence.into_inner();
    entry_response(&reader, state.ledger.entry(sequence)?, format!("entry {sequence}"))
}

/// One entry by the client's event id.
#[utoipa::path(get, path = "/v1/events/{event_id}", tag = "read", params(("event_id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = EntryView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn event(
    reader: Reader,
    event_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    entry_response(&reader, state.ledger.entry_by_event(&event_id)?, format!("event `{event_id}`"))
}

/// The size of the log and the hash of its last entry.
#[utoipa::path(get, path = "/v1/head", tag = "read", security(("bearer" = [])),
    responses(
        (status = 200, body = Head),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn head(_reader: Reader, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let size = state.ledger.len();
    let last_hash = match size {
        0 => None,
        n => state.ledger.entry(n - 1)?.map(|e| hex::encode(e.hash)),
    };
    Ok(HttpResponse::Ok().json(Head { size, last_hash }))
}

fn actor_view(id: &crate::domain::ActorId, actor: &crate::domain::state::ActorState) -> ActorView {
    ActorView {
        actor_id: id.to_string(),
        display_name: actor.display_name.to_string(),
        role: actor.role.as_str().to_owned(),
        keys: actor
            .keys
            .iter()
            .map(|(k, s)| KeyView { key_id: k.to_string(), public_key: s.public_key.to_base64(), revoked: s.revoked })
            .collect(),
    }
}

/// Every registered actor, with roles and public keys.
#[utoipa::path(get, path = "/v1/actors", tag = "actors", security(("bearer" = [])),
    responses(
        (status = 200, body = ActorList),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn actors(_reader: Reader, state: web::Data<AppState>) -> HttpResponse {
    let system = state.ledger.system();
    let actors = system.actors().map(|(id, a)| actor_view(id, a)).collect();
    HttpResponse::Ok().json(ActorList { actors })
}

/// One actor.
#[utoipa::path(get, path = "/v1/actors/{actor_id}", tag = "actors", params(("actor_id" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = ActorView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn actor(
    _reader: Reader,
    actor_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let system = state.ledger.system();
    let found =
        crate::domain::ActorId::parse(&actor_id).ok().and_then(|id| system.actor(&id).map(|a| actor_view(&id, a)));
    found
        .map(|view| HttpResponse::Ok().json(view))
        .ok_or_else(|| ApiError::not_found(format!("actor `{actor_id}` is not registered")))
}

/// Issue a read token (admin token required).
#[utoipa::path(post, path = "/v1/tokens", tag = "actors", request_body = TokenRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = IssuedToken),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 415, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue_token(
    reader: Reader,
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    reader.admin()?;
    let bytes = json_body(&req, body, 64 * 1024).await?;
    let request: TokenRequest = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid-token-request", e.to_string())
        } else {
            malformed(e)
        }
    })?;
    crate::domain::ids::Label::parse(&request.name).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-token-request", format!("`name` {e}")).field("name")
    })?;
    if let Some(projects) = &request.projects {
        for p in projects {
            parse_project(p).map_err(|e| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid-token-request", e.problem.detail).field("projects")
            })?;
        }
    }
    let issued = state.tokens.issue(&request.name, request.projects, false)?;
    Ok(HttpResponse::Created().json(IssuedToken {
        token: issued.token,
        name: issued.record.name,
        projects: issued.record.projects,
    }))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// Readiness: the log is loaded and the store answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, body = Health),
    (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ledger.store().len()?;
    Ok(HttpResponse::Ok().json(Health { status: "ready".into() }))
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(body)
}

fn blocking_error(e: actix_web::error::BlockingError) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", e.to_string())
}

/// The latest signed checkpoint (C2SP tlog-checkpoint as a signed note); it covers every durable
/// entry.
#[utoipa::path(get, path = "/v1/checkpoint", tag = "transparency",
    responses((status = 200, description = "The signed note", content_type = "text/plain", body = String)))]
pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let signed = state.ledger.checkpoint().ok_or_else(|| ApiError::not_found("the log is empty"))?;
    Ok(text(signed.note))
}

/// The key that verifies checkpoints, as a C2SP note verifier key.
#[utoipa::path(get, path = "/v1/vkey", tag = "transparency",
    responses((status = 200, description = "`<name>+<key hash>+<key>`", content_type = "text/plain", body = String)))]
pub async fn vkey(state: web::Data<AppState>) -> HttpResponse {
    text(format!("{}\n", state.ledger.verifier().vkey()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The entry's sequence (its leaf index); give this or `event_id`.
    pub sequence: Option<u64>,
    /// The entry's event id; give this or `sequence`.
    pub event_id: Option<String>,
    /// The tree size to prove against (default: the latest checkpoint's).
    pub tree_size: Option<u64>,
}

/// Inclusion proof of an entry.
#[utoipa::path(get, path = "/v1/proofs/inclusion", tag = "transparency", params(InclusionQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = InclusionProof),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn inclusion_proof(
    reader: Reader,
    query: web::Query<InclusionQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let entry = match (&query.sequence, &query.event_id) {
        (Some(sequence), None) => state.ledger.entry(*sequence)?,
        (None, Some(id)) => state.ledger.entry_by_event(id)?,
        _ => return Err(ApiError::bad_query("give exactly one of `sequence` and `event_id`")),
    };
    let entry = entry.ok_or_else(|| ApiError::not_found("no such entry in the log"))?;
    reader.project(&entry.project)?;
    let size = match query.tree_size {
        Some(size) => size,
        None => state.ledger.checkpoint().map(|c| c.checkpoint.size).unwrap_or(0),
    };
    let size_error = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tree-size-out-of-range",
            format!(
                "entry {} is not in a tree of {size} entries; the log holds {}",
                entry.sequence,
                state.ledger.len()
            ),
        )
        .field("tree_size")
    };
    if size <= entry.sequence || size > state.ledger.len() {
        return Err(size_error());
    }
    let state2 = state.clone();
    let sequence = entry.sequence;
    let proof = web::block(move || inclusion(&state2, sequence, size)).await.map_err(blocking_error)??;
    Ok(HttpResponse::Ok().json(proof.ok_or_else(size_error)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older tree size (at least 1).
    pub from: u64,
    /// The newer tree size (default: the latest checkpoint's).
    pub to: Option<u64>,
}

/// Consistency proof between two tree sizes: that the newer log extends the older one.
#[utoipa::path(get, path = "/v1/proofs/consistency", tag = "transparency", params(ConsistencyQuery),
    responses(
        (status = 200, body = ConsistencyProof),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn consistency_proof(
    query: web::Query<ConsistencyQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let to = query.to.unwrap_or_else(|| state.ledger.checkpoint().map(|c| c.checkpoint.size).unwrap_or(0));
    let from = query.from;
    let len = state.ledger.len();
    if from == 0 || from > to || to > len {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tree-size-out-of-range",
            format!("a consistency proof needs 1 <= from <= to <= {len}; got from {from}, to {to}"),
        )
        .field("from"));
    }
    let ledger = state.ledger.clone();
    let proof = web::block(move || -> Result<_, crate::store::StoreError> {
        Ok((ledger.consistency_proof(from, to)?, ledger.root(from)?, ledger.root(to)?))
    })
    .await
    .map_err(blocking_error)??;
    let (Some(hashes), Some(from_root), Some(to_root)) = proof else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tree-size-out-of-range",
            "the sizes are beyond the log",
        ));
    };
    Ok(HttpResponse::Ok().json(ConsistencyProof {
        from,
        to,
        from_root: hex::encode(from_root),
        to_root: hex::encode(to_root),
        hashes: hashes.iter().map(hex::encode).collect(),
    }))
}

/// The whole log as JSON Lines (header, entries, checkpoint): see `docs/transparency.md`.
#[utoipa::path(get, path = "/v1/export", tag = "transparency", security(("bearer" = [])),
    responses(
        (status = 200, description = "JSON Lines", content_type = "application/x-ndjson", body = String),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn export(reader: Reader, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    reader.everything()?;
    let signed = state.ledger.checkpoint().ok_or_else(|| ApiError::not_found("the log is empty"))?;
    let verifier = state.ledger.verifier();
    let header = crate::export::ExportHeader {
        format: crate::export::EXPORT_FORMAT.into(),
        version: 1,
        origin: signed.checkpoint.origin.clone(),
        vkey: verifier.vkey(),
        ledger_public_key: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, verifier.key.to_bytes()),
        size: signed.checkpoint.size,
    };
    let mut first = serde_json::to_vec(&header).expect("headers serialize");
    first.push(b'\n');
    let size = signed.checkpoint.size;
    let mut last = serde_json::to_vec(&serde_json::json!({"checkpoint": signed.note})).expect("json serializes");
    last.push(b'\n');
    let ledger = state.ledger.clone();
    // Pages of entries below the checkpoint's size, then the checkpoint line.
    let pages = futures_util::stream::unfold(Some(0u64), move |next| {
        let ledger = ledger.clone();
        async move {
            let from = next?;
            if from >= size {
                return None;
            }
            let limit = (size - from).min(1000) as usize;
            let page = web::block(move || ledger.range(from, limit)).await;
            match page {
                Ok(Ok(entries)) if !entries.is_empty() => {
                    let mut bytes = Vec::new();
                    for entry in &entries {
                        serde_json::to_writer(&mut bytes, &crate::export::EntryRecord::of(entry))
                            .expect("records serialize");
                        bytes.push(b'\n');
                    }
                    Some((Ok::<_, actix_web::Error>(web::Bytes::from(bytes)), Some(from + entries.len() as u64)))
                }
                Ok(Err(e)) => Some((Err(ApiError::from(e).into()), None)),
                _ => Some((
                    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "export interrupted").into()),
                    None,
                )),
            }
        }
    });
    let stream = futures_util::stream::once(async move { Ok(web::Bytes::from(first)) })
        .chain(pages)
        .chain(futures_util::stream::once(async move { Ok(web::Bytes::from(last)) }));
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").streaming(stream))
}

/// The evidence bundle of an asset: its lineage, the system stream, inclusion proofs and the
/// checkpoint, verifiable offline with `lineage verify-evidence`.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/evidence", tag = "transparency",
    params(("project" = String, Path), ("asset" = String, Path)), security(("bearer" = [])),
    responses(
        (status = 200, body = crate::evidence::Bundle),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn evidence(
    reader: Reader,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset_id) = readable_asset(&reader, path.into_inner())?;
    let asset = asset_id.to_string();
    let ledger = state.ledger.clone();
    let project_id = project.to_string();
    let bundle =
        web::block(move || crate::evidence::build(&ledger, &project_id, &asset_id)).await.map_err(blocking_error)??;
    let bundle = bundle.ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))?;
    Ok(HttpResponse::Ok().json(bundle))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    /// See the project as it was: a sequence (entries up to and including it) or an RFC 3339
    /// time (entries received at or before it).
    pub as_of: Option<String>,
}

/// Resolves `as_of` to a number of entries; `None` means now.
fn resolve_as_of(state: &AppState, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let len = state.ledger.len();
    let beyond =
        |detail: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "as-of-out-of-range", detail).field("as_of");
    if let Ok(sequence) = raw.parse::<u64>() {
        if sequence >= len {
            return Err(beyond(format!("sequence {sequence} is beyond the head of the log ({len} entries)")));
        }
        return Ok(Some(sequence + 1));
    }
    let time = chrono::DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            ApiError::bad_query(format!("`as_of` must be a sequence or an RFC 3339 time, got `{raw}`")).field("as_of")
        })?
        .with_timezone(&chrono::Utc);
    if time > chrono::Utc::now() {
        return Err(beyond(format!("{raw} is in the future")));
    }
    Ok(Some(state.ledger.size_at(time)?))
}

/// Runs `f` on the project's projections, now or as of a size, with the log size they reflect.
fn with_project<T>(
    state: &AppState,
    project: &ProjectId,
    size: Option<u64>,
    f: impl FnOnce(&crate::projections::ProjectProjection, u64) -> T,
) -> Result<T, ApiError> {
    let missing = || ApiError::not_found(format!("project `{project}` does not exist"));
    // The system stream holds actors and keys: it has no production to project.
    if project.is_system() {
        return Err(missing());
    }
    match size {
        None => state.ledger.with_project(project, f)?.ok_or_else(missing),
        Some(size) => {
            let folded = state.ledger.project_as_of(project.as_str(), size)?;
            if folded.events.is_empty() {
                return Err(missing());
            }
            Ok(f(&folded, size))
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    pub project: String,
    #[schema(value_type = Option<String>)]
    pub content_type: Option<crate::domain::event::ContentType>,
    /// Entries of the whole log the answer reflects.
    pub log_size: u64,
    pub events: usize,
    pub stages: Vec<crate::projections::stages::StageInfo>,
    /// Stages open at the same time.
    #[schema(value_type = Vec<String>)]
    pub overlapping: Vec<crate::domain::event::Stage>,
}

/// Stage status of a project: the six stages, their state, activity, assets and reopenings.
#[utoipa::path(get, path = "/v1/projects/{project}/status", tag = "projections", params(("project" = String, Path), StatusQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = StatusView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn status(
    reader: Reader,
    project: web::Path<String>,
    query: web::Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(project.as_str())?;
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let view = with_project(&state, &project, size, |p, log_size| StatusView {
        project: project.to_string(),
        content_type: p.content_type,
        log_size,
        events: p.events.len(),
        stages: p.stages.stages.clone(),
        overlapping: p.stages.overlapping(),
    })?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProvenanceQuery {
    /// `ancestors` (default: back to the brief) or `descendants` (forward to every variant and
    /// delivery).
    pub direction: Option<String>,
    /// Most hops from the asset (default 64, at most 100000).
    pub depth: Option<u32>,
    /// `json` (default) or `dot` (Graphviz).
    pub format: Option<String>,
    /// A sequence or an RFC 3339 time, as in the status endpoint.
    pub as_of: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvenanceView {
    pub direction: String,
    pub graph: crate::projections::graph::Subgraph,
    /// For ancestors: the brief, references, prompts, pinned model versions, people, tools,
    /// and the QC reviews and approvals of this exact digest.
    pub summary: Option<crate::projections::summary::Summary>,
}

/// The `{project}/assets/{asset}` of a path, parsed, once the reader may read the project.
fn readable_asset(
    reader: &Reader,
    (project, asset): (String, String),
) -> Result<(ProjectId, crate::domain::Id), ApiError> {
    let project = parse_project(&project)?;
    reader.project(project.as_str())?;
    Ok((project, parse_asset(&asset)?))
}

fn parse_asset(raw: &str) -> Result<crate::domain::Id, ApiError> {
    crate::domain::Id::parse(raw).map_err(|e| {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", format!("asset id `{raw}` {e}")).field("asset")
    })
}

/// The provenance graph of an asset.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/provenance", tag = "projections",
    params(("project" = String, Path), ("asset" = String, Path), ProvenanceQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = ProvenanceView),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn provenance(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: web::Query<ProvenanceQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, path.into_inner())?;
    let up = match query.direction.as_deref() {
        None | Some("ancestors") => true,
        Some("descendants") => false,
        Some(other) => {
            return Err(ApiError::bad_query(format!("`direction` is `ancestors` or `descendants`, not `{other}`"))
                .field("direction"))
        }
    };
    let dot = match query.format.as_deref() {
        None | Some("json") => false,
        Some("dot") => true,
        Some(other) => {
            return Err(ApiError::bad_query(format!("`format` is `json` or `dot`, not `{other}`")).field("format"))
        }
    };
    let depth = query.depth.unwrap_or(64);
    if depth > 100_000 {
        return Err(ApiError::bad_query("`depth` is at most 100000").field("depth"));
    }
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let graph = with_project(&state, &project, size, |p, _| {
        if up {
            p.graph.ancestors(asset.as_str(), depth)
        } else {
            p.graph.descendants(asset.as_str(), depth)
        }
    })?
    .ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))?;
    if dot {
        return Ok(HttpResponse::Ok().content_type("text/vnd.graphviz; charset=utf-8").body(graph.to_dot()));
    }
    let summary = up.then(|| {
        crate::projections::summary::summarize(&graph, |sequence| {
            state.ledger.entry(sequence).ok().flatten().and_then(|e| crate::ledger::open_entry(&e).ok()).map(|(_, p)| p)
        })
    });
    let direction = if up { "ancestors" } else { "descendants" }.to_owned();
    Ok(HttpResponse::Ok().json(ProvenanceView { direction, graph, summary }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub sequence: u64,
    pub version: u64,
    pub event_id: String,
    pub kind: String,
    pub actor: String,
    pub key_id: String,
    pub occurred_at: String,
    pub received_at: String,
    /// Hex entry hash.
    pub hash: String,
    /// `valid`, `valid, key revoked since`, or `invalid`.
    pub signature: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditTrail {
    pub project: String,
    pub asset: String,
    pub entries: Vec<AuditEntry>,
}

/// Every entry that names the asset (as subject, input or output), in ledger order.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/audit", tag = "projections",
    params(("project" = String, Path), ("asset" = String, Path), StatusQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = AuditTrail),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn audit(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: web::Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, path.into_inner())?;
    let size = resolve_as_of(&state, query.as_of.as_deref())?.unwrap_or_else(|| state.ledger.len());
    let system = state.ledger.system();
    let mut entries = Vec::new();
    for sequence in state.ledger.asset_sequences(project.as_str(), asset.as_str())? {
        if sequence >= size {
            break;
        }
        let Some(entry) = state.ledger.entry(sequence)? else { continue };
        let Ok((opened, payload)) = crate::ledger::open_entry(&entry) else { continue };
        let key = system.key(&opened.key_id);
        let verified = key
            .and_then(|(_, _, k)| ed25519_dalek::VerifyingKey::from_bytes(k.public_key.bytes()).ok())
            .is_some_and(|k| opened.verify(&k));
        let signature = match (verified, key.map(|(_, _, k)| k.revoked)) {
            (true, Some(true)) => "valid, key revoked since",
            (true, _) => "valid",
            (false, _) => "invalid",
        };
        entries.push(AuditEntry {
            sequence,
            version: entry.version,
            event_id: payload.event_id.to_string(),
            kind: payload.kind().as_str().to_owned(),
            actor: payload.actor.to_string(),
            key_id: opened.key_id.to_string(),
            occurred_at: payload.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            received_at: entry.received_at().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            hash: hex::encode(entry.hash),
            signature: signature.to_owned(),
        });
    }
    if entries.is_empty() {
        return Err(ApiError::not_found(format!("project `{project}` has no asset `{asset}`")));
    }
    Ok(HttpResponse::Ok().json(AuditTrail { project: project.to_string(), asset: asset.to_string(), entries }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only events of this kind.
    pub kind: Option<String>,
    /// Only events signed by this actor.
    pub actor: Option<String>,
    /// Only events of this stage.
    pub stage: Option<String>,
    /// Only events naming this asset.
    pub asset: Option<String>,
    /// Only events that occurred at or after this RFC 3339 time.
    pub from: Option<String>,
    /// Only events that occurred before this RFC 3339 time.
    pub to: Option<String>,
    /// Cursor: only events after this sequence (the `next` of the previous page).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// A sequence or an RFC 3339 time, as in the status endpoint.
    pub as_of: Option<String>,
}

fn query_time(raw: Option<&str>, field: &str) -> Result<Option<i64>, ApiError> {
    raw.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| d.timestamp_micros())
            .map_err(|_| ApiError::bad_query(format!("`{field}` must be an RFC 3339 time, got `{t}`")).field(field))
    })
    .transpose()
}

/// A project's events, filtered by kind, actor, stage, asset and time, with a cursor.
#[utoipa::path(get, path = "/v1/projects/{project}/history", tag = "projections", params(("project" = String, Path), HistoryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = EntryPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn history(
    reader: Reader,
    project: web::Path<String>,
    query: web::Query<HistoryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(project.as_str())?;
    let limit = page_size(query.limit)?;
    let kind = match &query.kind {
        None => None,
        Some(k) => Some(
            crate::domain::Kind::parse(k)
                .ok_or_else(|| ApiError::bad_query(format!("unknown kind `{k}`")).field("kind"))?,
        ),
    };
    let stage = match &query.stage {
        None => None,
        Some(s) => Some(
            serde_json::from_value::<crate::domain::event::Stage>(serde_json::Value::String(s.clone()))
                .map_err(|_| ApiError::bad_query(format!("unknown stage `{s}`")).field("stage"))?,
        ),
    };
    let (from, to) = (query_time(query.from.as_deref(), "from")?, query_time(query.to.as_deref(), "to")?);
    let assets: Option<std::collections::HashSet<u64>> = match &query.asset {
        None => None,
        Some(a) => {
            Some(state.ledger.asset_sequences(project.as_str(), parse_asset(a)?.as_str())?.into_iter().collect())
        }
    };
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let after = query.after;
    let mut sequences = with_project(&state, &project, size, |p, _| {
        p.events
            .iter()
            .filter(|m| after.is_none_or(|a| m.sequence > a))
            .filter(|m| kind.is_none_or(|k| m.kind == k))
            .filter(|m| stage.is_none_or(|s| m.stage == Some(s)))
            .filter(|m| query.actor.as_deref().is_none_or(|a| p.actor_of(m) == a))
            .filter(|m| from.is_none_or(|f| m.occurred_at_us >= f) && to.is_none_or(|t| m.occurred_at_us < t))
            .filter(|m| assets.as_ref().is_none_or(|set| set.contains(&m.sequence)))
            .map(|m| m.sequence)
            .take(limit + 1)
            .collect::<Vec<u64>>()
    })?;
    let next = (sequences.len() > limit).then(|| sequences[limit - 1]);
    sequences.truncate(limit);
    let mut entries = Vec::with_capacity(sequences.len());
    for sequence in sequences {
        if let Some(entry) = state.ledger.entry(sequence)? {
            entries.push(EntryView::of(&entry));
        }
    }
    Ok(HttpResponse::Ok().json(EntryPage { entries, next }))
}
