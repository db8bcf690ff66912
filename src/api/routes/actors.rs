//! `actors`: who is registered, with which role and keys; read tokens.

use crate::api::auth::Reader;
use crate::api::extract::{json_body, malformed, parse_project};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::{ActorProblems, AdminItemProblems, AdminProblems, IssueProblems, TokenProblems};
use crate::api::state::AppState;
use crate::api::tokens::ReadScope;
use crate::api::views::*;
use crate::domain::state::ActorState;
use crate::domain::{ActorId, OrganizationId};
use actix_web::{web, HttpRequest, HttpResponse};

fn actor_view(id: &ActorId, actor: &ActorState) -> ActorView {
    ActorView {
        actor_id: id.to_string(),
        display_name: actor.display_name.to_string(),
        role: actor.role.as_str().to_owned(),
        organization: actor.organization.as_ref().map(|o| o.to_string()),
        keys: actor
            .keys
            .iter()
            .map(|(k, s)| KeyView { key_id: k.to_string(), public_key: s.public_key.to_base64(), revoked: s.revoked })
            .collect(),
    }
}

/// Every registered actor, with organisation, role and public keys. A scoped token sees the
/// actors of its organisation and the members of the projects it may read.
#[utoipa::path(get, path = "/v1/actors", tag = "actors", security(("bearer" = [])),
    responses((status = 200, body = ActorList), TokenProblems))]
pub async fn actors(reader: Reader, state: web::Data<AppState>) -> HttpResponse {
    let system = state.ledger.system();
    let actors = system
        .actors()
        .filter(|(id, a)| reader.may_see_actor(&state.ledger, id, a))
        .map(|(id, a)| actor_view(id, a))
        .collect();
    HttpResponse::Ok().json(ActorList { actors })
}

/// One actor (for a scoped token, one it may see; any other is not found).
#[utoipa::path(get, path = "/v1/actors/{actor_id}", tag = "actors", params(("actor_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ActorView), ActorProblems))]
pub async fn actor(
    reader: Reader,
    actor_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let system = state.ledger.system();
    let found = ActorId::parse(&actor_id).ok().and_then(|id| {
        system.actor(&id).filter(|a| reader.may_see_actor(&state.ledger, &id, a)).map(|a| actor_view(&id, a))
    });
    found
        .map(|view| HttpResponse::Ok().json(view))
        .ok_or_else(|| ApiError::not_found(format!("actor `{actor_id}` is not registered")))
}

/// Every registered organisation (for a scoped token: its own, and those of the actors and
/// clients of the projects it may read).
#[utoipa::path(get, path = "/v1/organizations", tag = "actors", security(("bearer" = [])),
    responses((status = 200, body = OrganizationList), TokenProblems))]
pub async fn organizations(reader: Reader, state: web::Data<AppState>) -> HttpResponse {
    let system = state.ledger.system();
    let directory = state.ledger.directory();
    let visible = |id: &OrganizationId| -> bool {
        if !reader.is_scoped() || reader.organization() == Some(id.as_str()) {
            return true;
        }
        let client_of =
            directory.iter().any(|(p, g)| g.client.as_ref() == Some(id) && reader.may_read(&state.ledger, p.as_str()));
        client_of
            || system.actors().any(|(actor_id, a)| {
                a.organization.as_ref() == Some(id) && reader.may_see_actor(&state.ledger, actor_id, a)
            })
    };
    let organizations = system
        .organizations()
        .filter(|(id, _)| visible(id))
        .map(|(id, o)| OrganizationView {
            organization_id: id.to_string(),
            display_name: o.display_name.to_string(),
            kind: o.kind.as_str().to_owned(),
        })
        .collect();
    HttpResponse::Ok().json(OrganizationList { organizations })
}

/// Days a token issued without `expires_in_days` lasts.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

/// Issue a read token (admin token required). It expires after `expires_in_days` (90 by default).
#[utoipa::path(post, path = "/v1/tokens", tag = "actors", request_body = TokenRequest, security(("bearer" = [])),
    responses((status = 201, body = IssuedToken), IssueProblems))]
pub async fn issue_token(
    reader: Reader,
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    reader.admin()?;
    let bytes = json_body(&req, body, state.limits.small_body_bytes, &state).await?;
    let invalid = |detail: String| ApiError::new(ProblemType::InvalidTokenRequest, detail);
    let request: TokenRequest =
        serde_json::from_slice(&bytes).map_err(|e| if e.is_data() { invalid(e.to_string()) } else { malformed(e) })?;
    crate::domain::ids::Label::parse_new(&request.name).map_err(|e| invalid(format!("`name` {e}")).field("name"))?;
    if let Some(projects) = &request.projects {
        for p in projects {
            let project = parse_project(p).map_err(|e| invalid(e.problem.detail).field("projects"))?;
            // The system stream names every organisation's actors and keys: it is read with a
            // token for everything, never with one scoped to some projects.
            if project.is_system() {
                return Err(invalid(
                    "`system` is the ledger's own stream, not a project: a token that reads it reads everything".into(),
                )
                .field("projects"));
            }
            // A token names what exists: a project created later under a named id would be read
            // by whoever holds the token, whoever created it.
            if !state.ledger.with_catalogue(|catalogue| catalogue.contains_key(&project)) {
                return Err(invalid(format!(
                    "project `{project}` does not exist: a token is scoped to projects once they are created"
                ))
                .field("projects"));
            }
        }
    }
    let scope = match (request.projects, request.organization) {
        (Some(_), Some(_)) => {
            return Err(invalid("give `projects` or `organization`, not both".into()).field("organization"))
        }
        (Some(projects), None) => ReadScope::Projects(projects),
        (None, Some(organization)) => {
            let known = OrganizationId::parse(&organization)
                .ok()
                .is_some_and(|id| state.ledger.with_system(|s| s.organization(&id).is_some()));
            if !known {
                return Err(invalid(format!("organisation `{organization}` is not registered")).field("organization"));
            }
            ReadScope::Organization(organization)
        }
        (None, None) => ReadScope::Everything,
    };
    let days = request.expires_in_days.unwrap_or(DEFAULT_TOKEN_DAYS);
    if !(1..=3650).contains(&days) {
        return Err(invalid(format!("`expires_in_days` is 1 to 3650, got {days}")).field("expires_in_days"));
    }
    let expires = chrono::Utc::now() + chrono::Duration::days(i64::from(days));
    let grant = crate::api::tokens::Grant { admin: false, confidential: request.confidential };
    let issued = state.tokens.issue(&request.name, scope, grant, Some(expires.timestamp_micros()))?;
    Ok(HttpResponse::Created().json(IssuedToken {
        token: issued.token,
        id: issued.id,
        name: issued.record.name,
        projects: issued.record.projects,
        organization: issued.record.organization,
        confidential: issued.record.confidential,
        expires_at: issued.record.expires_at_us.map(rfc3339),
    }))
}

/// Every token issued, revoked and expired ones too, never their secrets (admin token required).
#[utoipa::path(get, path = "/v1/tokens", tag = "actors", security(("bearer" = [])),
    responses((status = 200, body = TokenList), AdminProblems))]
pub async fn list_tokens(reader: Reader, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    reader.admin()?;
    let tokens = state.tokens.list().into_iter().map(|(id, record)| TokenView::of(id, &record)).collect();
    Ok(HttpResponse::Ok().json(TokenList { tokens }))
}

/// Revoke a token by its id, for good (admin token required).
#[utoipa::path(delete, path = "/v1/tokens/{id}", tag = "actors", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = TokenView), AdminItemProblems))]
pub async fn revoke_token(
    reader: Reader,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    reader.admin()?;
    let revoked = state.tokens.revoke(&id)?.ok_or_else(|| ApiError::not_found(format!("no token has id `{id}`")))?;
    Ok(HttpResponse::Ok().json(TokenView::of(id.into_inner(), &revoked)))
}
