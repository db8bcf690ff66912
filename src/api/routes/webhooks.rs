//! Webhook endpoints (Standard Webhooks, docs/integrations.md): registered by a token for what it
//! may read, managed by that token (or an admin), delivered by [`crate::api::webhooks`].

use crate::api::auth::Reader;
use crate::api::extract::{json_body, malformed, parse_project, Query};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::{WebhookProblems, WebhooksProblems};
use crate::api::state::AppState;
use crate::api::views::rfc3339;
use crate::api::webhooks::endpoint::{Attempt, Live, Status};
use crate::api::webhooks::guard::{self, UrlRefused};
use crate::api::webhooks::{NewEndpoint, WebhookError, Webhooks};
use crate::domain::event::Kind;
use crate::domain::OrganizationId;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// An endpoint to register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where deliveries are posted: http or https; not the server's own loopback or link-local
    /// addresses unless its operator allows them.
    pub url: String,
    /// Only this project's entries.
    pub project: Option<String>,
    /// Only the entries of this organisation's projects (an admin's or unscoped token's choice;
    /// a token scoped to an organisation delivers its organisation's entries anyway).
    pub organization: Option<String>,
    /// Only entries of these kinds; every kind if absent or empty.
    pub kinds: Option<Vec<String>>,
    /// A line saying what the endpoint is for.
    pub description: Option<String>,
    /// The first sequence to deliver; by default only entries appended from now on.
    pub from: Option<u64>,
}

/// An endpoint, as its token sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub url: String,
    pub project: Option<String>,
    pub organization: Option<String>,
    pub kinds: Vec<String>,
    pub description: Option<String>,
    /// The id of the token that registered it: deliveries carry what it may read, and stop if
    /// it is revoked or expires.
    pub token: String,
    pub status: Status,
    /// Why the server disabled it.
    pub reason: Option<String>,
    pub created_at: String,
    /// The sequence of the next entry to deliver.
    pub next_sequence: u64,
    /// Entries of the log past `next_sequence` (some may not be for this endpoint).
    pub behind: u64,
    /// The entry being retried, if one is.
    pub failing: Option<FailingView>,
    /// Until when deliveries are also signed with the secret the last rotation replaced.
    pub previous_secret_until: Option<String>,
    /// The signing secret (`whsec_…`): only in the answer to a registration or a rotation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FailingView {
    pub since: String,
    pub attempts: u32,
    pub next_attempt_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    /// The newest first; an endpoint keeps its last 1,000 attempts.
    pub deliveries: Vec<Attempt>,
}

/// A change of an endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookChange {
    /// `active` (resumes a paused or disabled endpoint at the entry it stopped at) or `paused`.
    pub status: String,
}

/// A replay.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Replay {
    /// Deliver again from this sequence on.
    pub from: u64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Most attempts to list, 1 to 1000 (100 by default).
    pub limit: Option<usize>,
    /// Only the attempts of this entry.
    pub sequence: Option<u64>,
}

fn view(live: Live, len: u64, secret: Option<String>) -> WebhookView {
    let r = live.record;
    WebhookView {
        id: r.id,
        url: r.url,
        project: r.project,
        organization: r.organization,
        kinds: r.kinds,
        description: r.description,
        token: r.token,
        status: r.status,
        reason: r.reason,
        created_at: r.created_at,
        next_sequence: live.cursor,
        behind: len.saturating_sub(live.cursor),
        failing: live.failing.map(|f| FailingView {
            since: rfc3339(f.since_us),
            attempts: f.attempts,
            next_attempt_at: rfc3339(f.next_at_us),
        }),
        previous_secret_until: r.previous_until_us.map(rfc3339),
        secret,
    }
}

fn invalid(field: &str, detail: impl Into<String>) -> ApiError {
    ApiError::new(ProblemType::InvalidWebhook, detail).field(field)
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Store(e) => e.into(),
            WebhookError::NotFound(_) => ApiError::not_found(e.to_string()),
            WebhookError::TooMany | WebhookError::TooManyOfToken(_) => {
                ApiError::new(ProblemType::LimitExceeded, e.to_string()).field("url")
            }
            WebhookError::PastTheEnd { .. } => invalid("from", e.to_string()),
        }
    }
}

/// Runs `work` on the endpoint `path` names, as `reader` may, off the async workers (a change
/// syncs the endpoint's files before it is answered).
async fn on_endpoint<T: Send + 'static>(
    state: &AppState,
    reader: &Reader,
    path: web::Path<String>,
    work: impl FnOnce(&Webhooks, &str, Option<&str>) -> Result<T, WebhookError> + Send + 'static,
) -> Result<T, ApiError> {
    let (webhooks, owner, id) = (state.webhooks.clone(), owner(reader), path.into_inner());
    state.reads.run(move || Ok(work(&webhooks, &id, owner.as_deref())?)).await
}

/// Whose endpoints a token manages: its own, or every one for an admin.
fn owner(reader: &Reader) -> Option<String> {
    (!reader.is_admin()).then(|| reader.token().1)
}

/// Checks a registration against what the token may read.
fn check(reader: &Reader, state: &AppState, request: WebhookRequest) -> Result<NewEndpoint, ApiError> {
    let url = guard::parse(&request.url).map_err(refused)?;
    let project = match &request.project {
        Some(p) => {
            let project = parse_project(p).map_err(|e| invalid("project", e.problem.detail))?;
            reader.project(&state.ledger, project.as_str()).map_err(|e| e.field("project"))?;
            if !state.ledger.with_catalogue(|c| c.contains_key(&project)) && !project.is_system() {
                return Err(invalid("project", format!("project `{project}` does not exist")));
            }
            Some(project.to_string())
        }
        None => None,
    };
    let organization = match &request.organization {
        Some(_) if project.is_some() => {
            return Err(invalid("organization", "give `project` or `organization`, not both"))
        }
        Some(o) => {
            let known = OrganizationId::parse(o)
                .ok()
                .is_some_and(|id| state.ledger.with_system(|s| s.organization(&id).is_some()));
            if !known {
                return Err(invalid("organization", format!("organisation `{}` is not registered", truncated(o))));
            }
            if reader.is_scoped() && reader.organization() != Some(o.as_str()) {
                return Err(ApiError::new(
                    ProblemType::Forbidden,
                    format!("the token `{}` may not read organisation `{o}`'s projects", reader.name()),
                )
                .field("organization"));
            }
            Some(o.clone())
        }
        None => None,
    };
    let mut kinds = Vec::new();
    for (index, k) in request.kinds.unwrap_or_default().iter().enumerate() {
        let kind = Kind::parse(k)
            .ok_or_else(|| invalid(&format!("kinds/{index}"), format!("`{}` is not in the catalogue", truncated(k))))?;
        if !kinds.contains(&kind.as_str().to_owned()) {
            kinds.push(kind.as_str().to_owned());
        }
    }
    if let Some(d) = &request.description {
        crate::domain::ids::Label::parse_new(d).map_err(|e| invalid("description", format!("`description` {e}")))?;
    }
    let (token_hash, token) = reader.token();
    Ok(NewEndpoint {
        url,
        project,
        organization,
        kinds,
        description: request.description,
        from: request.from,
        token,
        token_name: reader.name().to_owned(),
        token_hash,
        admin: reader.is_admin(),
    })
}

fn refused(e: UrlRefused) -> ApiError {
    match e {
        UrlRefused::Local { .. } => ApiError::new(ProblemType::WebhookUrlRefused, e.to_string()).field("url"),
        e => invalid("url", e.to_string()),
    }
}

fn truncated(text: &str) -> String {
    text.chars().take(60).collect()
}

async fn body_of<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: web::Payload,
    state: &AppState,
    shape: &str,
) -> Result<T, ApiError> {
    let bytes = json_body(req, body, state.limits.small_body_bytes, state).await?;
    let mut reading = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut reading).map_err(|e| {
        let path = e.path().to_string();
        let e = e.into_inner();
        if !e.is_data() {
            return malformed(e);
        }
        // The field at fault: where the error is, or the one an object misses or should not have.
        let text = e.to_string();
        let named =
            text.split('`').nth(1).filter(|_| text.starts_with("unknown field") || text.starts_with("missing field"));
        let field = match named {
            Some(name) if path == "." => name.to_owned(),
            Some(name) if path != name && !path.ends_with(&format!(".{name}")) => format!("{path}.{name}"),
            _ => path.replace(['.', '['], "/").replace(']', ""),
        };
        ApiError::new(ProblemType::InvalidWebhook, format!("the body must be {shape}: {text}")).field(field)
    })
}

/// Register a webhook endpoint for entries the token may read (of a project, an organisation,
/// some kinds). The answer carries the signing secret, shown this once.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = WebhookRequest, security(("bearer" = [])),
    responses((status = 201, body = WebhookView), WebhooksProblems))]
pub async fn register_webhook(
    reader: Reader,
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let request: WebhookRequest =
        body_of(&req, body, &state, "{url, project?, organization?, kinds?, description?, from?}").await?;
    let new = check(&reader, &state, request)?;
    let webhooks = state.webhooks.clone();
    let allow_local = webhooks.shared().config.allow_local;
    // Off the async workers: resolving the host may wait.
    let (live, secret) = state
        .reads
        .run(move || {
            guard::admit(&new.url, allow_local).map_err(refused)?;
            Ok(webhooks.register(new)?)
        })
        .await?;
    let id = live.record.id.clone();
    Ok(HttpResponse::Created().insert_header(("Location", format!("/v1/webhooks/{id}"))).json(view(
        live,
        state.ledger.len(),
        Some(secret),
    )))
}

/// The endpoints the token registered (every one for an admin token).
#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = WebhookList), WebhookProblems))]
pub async fn list_webhooks(reader: Reader, state: web::Data<AppState>) -> HttpResponse {
    let len = state.ledger.len();
    let webhooks = state.webhooks.list(owner(&reader).as_deref()).into_iter().map(|l| view(l, len, None)).collect();
    HttpResponse::Ok().json(WebhookList { webhooks })
}

/// One endpoint.
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookView), WebhookProblems))]
pub async fn webhook(
    reader: Reader,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let live = state.webhooks.get(&path, owner(&reader).as_deref())?;
    Ok(HttpResponse::Ok().json(view(live, state.ledger.len(), None)))
}

/// Pause or resume an endpoint (`{"status": "paused"}` / `{"status": "active"}`).
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), request_body = WebhookChange,
    security(("bearer" = [])), responses((status = 200, body = WebhookView), WebhooksProblems))]
pub async fn change_webhook(
    reader: Reader,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let change: WebhookChange = body_of(&req, body, &state, "{status}").await?;
    let active = match change.status.as_str() {
        "active" => true,
        "paused" => false,
        other => {
            return Err(invalid("status", format!("`status` is `active` or `paused`, not `{}`", truncated(other))))
        }
    };
    let live = on_endpoint(&state, &reader, path, move |w, id, owner| w.set_status(id, owner, active)).await?;
    Ok(HttpResponse::Ok().json(view(live, state.ledger.len(), None)))
}

/// Delete an endpoint: nothing more is sent to it.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), WebhookProblems))]
pub async fn delete_webhook(
    reader: Reader,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    on_endpoint(&state, &reader, path, |w, id, owner| w.delete(id, owner)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate an endpoint's secret: the answer carries the new one; for 24 hours deliveries are
/// signed with both, so that a receiver can switch without missing one.
#[utoipa::path(post, path = "/v1/webhooks/{id}/secret", tag = "webhooks", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = WebhookView), WebhookProblems))]
pub async fn rotate_secret(
    reader: Reader,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (live, secret) = on_endpoint(&state, &reader, path, |w, id, owner| w.rotate(id, owner)).await?;
    Ok(HttpResponse::Ok().json(view(live, state.ledger.len(), Some(secret))))
}

/// An endpoint's delivery log: its last attempts, the newest first.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), DeliveriesQuery),
    security(("bearer" = [])), responses((status = 200, body = DeliveryList), WebhookProblems))]
pub async fn deliveries(
    reader: Reader,
    path: web::Path<String>,
    query: Query<DeliveriesQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::api::extract::page_size(query.0.limit.or(Some(100)))?;
    let deliveries = state.webhooks.attempts(&path, owner(&reader).as_deref(), limit, query.0.sequence)?;
    Ok(HttpResponse::Ok().json(DeliveryList { deliveries }))
}

/// Deliver again from a sequence on, in order, each entry with the `webhook-id` it had.
#[utoipa::path(post, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path)), request_body = Replay,
    security(("bearer" = [])), responses((status = 202, body = WebhookView), WebhooksProblems))]
pub async fn replay(
    reader: Reader,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let replay: Replay = body_of(&req, body, &state, "{from}").await?;
    let live = on_endpoint(&state, &reader, path, move |w, id, owner| w.replay(id, owner, replay.from)).await?;
    Ok(HttpResponse::Accepted().json(view(live, state.ledger.len(), None)))
}
