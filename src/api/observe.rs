//! What every request leaves behind: a request id (the client's `X-Request-Id` when it is a
//! plain token of at most 64 characters, else a new one), answered in `X-Request-Id`; a JSON log
//! line (target `lineage::http`: at `info` for problems and requests slower than a second, at
//! `debug` for the rest, so that logging every request is the operator's choice); and the counts
//! `/metrics` shows (problems by type, appends by outcome).

use super::problem::{ApiError, ProblemType};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use rand_core::RngCore as _;
use std::time::{Duration, Instant};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn request_id(req: &ServiceRequest) -> String {
    let given = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).filter(|v| {
        (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
    });
    given.map(str::to_owned).unwrap_or_else(|| {
        // A random prefix drawn once per process and a counter: unique, and no system call per
        // request (a checkpoint read costs a few microseconds in all).
        static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let prefix = *PREFIX.get_or_init(|| rand_core::OsRng.next_u32());
        format!("{prefix:08x}{:08x}", COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    })
}

/// The problem type a handler answered, as its slug.
fn problem_of<B>(res: &ServiceResponse<B>) -> Option<&'static str> {
    let error = res.response().error()?.as_error::<ApiError>()?;
    let slug = error.problem.problem_type.rsplit(':').next()?;
    ProblemType::ALL.iter().map(|k| k.slug()).find(|s| *s == slug)
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.path().to_owned();
    let is_append = method == actix_web::http::Method::POST && (path == "/v1/events" || path == "/v1/batches");
    let mut res = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    let problem = problem_of(&res);
    let status = res.status();
    if let Some(slug) = problem {
        crate::metrics::PROBLEMS.add(slug, 1);
    }
    if is_append {
        let outcome = match problem {
            Some(slug) => slug,
            None if status.is_success() => "accepted",
            None => "other",
        };
        crate::metrics::APPEND_REQUESTS.add(outcome, 1);
    }
    let took = started.elapsed();
    let level = if problem.is_some() || status.is_server_error() || took > Duration::from_secs(1) {
        log::Level::Info
    } else {
        log::Level::Debug
    };
    if log::log_enabled!(target: "lineage::http", level) {
        let line = serde_json::json!({
            "request_id": id,
            "method": method.as_str(),
            "path": path,
            "status": status.as_u16(),
            "ms": took.as_secs_f64() * 1000.0,
            "problem": problem,
        });
        log::log!(target: "lineage::http", level, "{line}");
    }
    Ok(res)
}
