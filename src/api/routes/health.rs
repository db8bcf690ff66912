//! `health`: liveness and readiness.

use crate::api::problem::ApiError;
use crate::api::responses::ReadinessProblems;
use crate::api::state::AppState;
use crate::api::views::Health;
use actix_web::{web, HttpResponse};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into() })
}

/// Readiness: the log is loaded and the store answers.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health), ReadinessProblems))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ledger.store().len()?;
    Ok(HttpResponse::Ok().json(Health { status: "ready".into() }))
}
