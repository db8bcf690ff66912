//! `health`: liveness and readiness.

use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::ReadinessProblems;
use crate::api::state::AppState;
use crate::api::views::{Health, StartCheckView};
use crate::ledger::StartCheck;
use actix_web::{web, HttpResponse};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".into(), start_check: None })
}

/// Readiness: the log is loaded, the store answers and the full check of a start that resumed
/// from the sealed state did not fail.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health), ReadinessProblems))]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.ledger.store().len()?;
    let view = |state: &str, covered, seconds| Some(StartCheckView { state: state.into(), covered, seconds });
    let start_check = match state.ledger.start_check() {
        StartCheck::NotNeeded => None,
        StartCheck::Running { covered } => view("running", covered, None),
        StartCheck::Passed { covered, seconds } => view("passed", covered, Some(seconds)),
        StartCheck::Failed { reason } => {
            let detail = crate::store::StoreError::Unchecked { reason }.to_string();
            return Err(ApiError::new(ProblemType::StorageUnavailable, detail));
        }
    };
    Ok(HttpResponse::Ok().json(Health { status: "ready".into(), start_check }))
}

/// Metrics in the Prometheus text format: appends and refusals by problem type, request and
/// commit sizes, commit and fsync latency, the writer's waiting requests, feed subscribers and
/// webhook deliveries, failures, retries and lag (docs/operations.md).
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain; version=0.0.4", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let stats = &state.webhooks.shared().stats;
    let (active, lag) = state.webhooks.lag();
    let load = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
    let gauges = crate::metrics::Gauges {
        log_entries: state.ledger.len(),
        writer_waiting: state.ledger.waiting_requests(),
        webhook_endpoints_active: active,
        webhook_lag_entries: lag,
        webhook_delivered: load(&stats.delivered),
        webhook_failed: load(&stats.failed),
        webhook_retries: load(&stats.retries),
    };
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(crate::metrics::render(&gauges))
}
