//! The REST API (actix-web): routes (one file per OpenAPI tag under `routes/`), the shared state,
//! authentication, request extraction, errors as problem documents, response views, and the
//! generated OpenAPI document and JSON Schemas. Handlers parse, check the reader's scope and
//! call the ledger; the rules live in `domain`, never here.

pub mod auth;
pub mod bearer;
pub mod extract;
pub mod files;
pub mod observe;
pub mod open_feeds;
pub mod openapi;
pub mod problem;
pub mod rendered;
pub mod responses;
pub mod routes;
pub mod schema;
pub mod sessions;
pub mod state;
pub mod tokens;
pub mod views;
pub mod webhooks;

pub use state::{AppState, Limits};

use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpRequest, HttpResponse};
use problem::{ApiError, ProblemType};

/// Registers every route on an actix app.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use routes::{
        actors::*, append::*, compliance::*, confidential::*, feed::*, governance::*, health::*, projections::*,
        read::*, transparency::*, verdicts::*, webhooks::*, whence::*,
    };
    let openapi = openapi::document();
    cfg.app_data(
        web::PathConfig::default().error_handler(|e, _| ApiError::new(ProblemType::InvalidPath, e.to_string()).into()),
    )
    .service(resource("/healthz").route(web::get().to(healthz)))
    .service(resource("/readyz").route(web::get().to(readyz)))
    .service(resource("/metrics").route(web::get().to(metrics)))
    .route(
        "/openapi.json",
        web::get().to(move || {
            let doc = openapi.clone();
            async move { HttpResponse::Ok().json(doc) }
        }),
    )
    .service(utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}").url("/docs/openapi.json", openapi::document()))
    .route(
        "/docs",
        web::get()
            .to(|| async { HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish() }),
    )
    .service(
        web::scope("/v1")
            .service(resource("/events").route(web::post().to(append_event)))
            .service(resource("/batches").route(web::post().to(append_batch)))
            .service(resource("/events/{event_id}").route(web::get().to(event)))
            .service(resource("/entries").route(web::get().to(feed)))
            .service(resource("/feed").route(web::get().to(live_feed)))
            .service(resource("/entries/{sequence}").route(web::get().to(entry)))
            .service(resource("/projects").route(web::get().to(projects)))
            .service(resource("/assets").route(web::get().to(find_assets)))
            .service(resource("/projects/{project}/events").route(web::get().to(project_events)))
            .service(resource("/head").route(web::get().to(head)))
            .service(resource("/actors").route(web::get().to(actors)))
            .service(resource("/actors/{actor_id}").route(web::get().to(actor)))
            .service(resource("/organizations").route(web::get().to(organizations)))
            .service(resource("/tokens").route(web::post().to(issue_token)).route(web::get().to(list_tokens)))
            .service(resource("/webhooks").route(web::post().to(register_webhook)).route(web::get().to(list_webhooks)))
            .service(
                resource("/webhooks/{id}")
                    .route(web::get().to(webhook))
                    .route(web::patch().to(change_webhook))
                    .route(web::delete().to(delete_webhook)),
            )
            .service(resource("/webhooks/{id}/secret").route(web::post().to(rotate_secret)))
            .service(
                resource("/webhooks/{id}/deliveries").route(web::get().to(deliveries)).route(web::post().to(replay)),
            )
            .service(resource("/tokens/{id}").route(web::delete().to(revoke_token)))
            .service(resource("/checkpoint").route(web::get().to(checkpoint)))
            .service(resource("/map-checkpoint").route(web::get().to(map_checkpoint)))
            .service(resource("/vkey").route(web::get().to(vkey)))
            .service(resource("/proofs/inclusion").route(web::get().to(inclusion_proof)))
            .service(resource("/proofs/consistency").route(web::get().to(consistency_proof)))
            .service(resource("/export").route(web::get().to(export)))
            .service(resource("/projects/{project}/assets/{asset}/evidence").route(web::get().to(evidence)))
            .service(resource("/projects/{project}/confidential").route(web::put().to(keep_confidential)))
            .service(resource("/projects/{project}/confidential/{commitment}").route(web::get().to(confidential)))
            .service(resource("/projects/{project}/assets/{asset}/provenance").route(web::get().to(provenance)))
            .service(resource("/projects/{project}/assets/{asset}/audit").route(web::get().to(audit)))
            .service(resource("/projects/{project}/assets/{asset}/disclosure").route(web::get().to(disclosure)))
            .service(resource("/projects/{project}/assets/{asset}/prov").route(web::get().to(prov)))
            .service(resource("/projects/{project}/assets/{asset}/c2pa").route(web::get().to(c2pa_manifest)))
            .service(resource("/projects/{project}/assets/{asset}/credentials").route(web::post().to(credentials)))
            .service(resource("/projects/{project}/assets/{asset}/file").route(web::get().to(asset_file)))
            .service(resource("/projects/{project}/assets/{asset}/verdict").route(web::get().to(verdict)))
            .service(resource("/projects/{project}/compliance").route(web::get().to(compliance_report)))
            .service(resource("/projects/{project}/prov").route(web::get().to(project_prov)))
            .service(resource("/projects/{project}/status").route(web::get().to(status)))
            .service(resource("/projects/{project}/history").route(web::get().to(history)))
            .service(resource("/projects/{project}/governance").route(web::get().to(governance)))
            .service(resource("/projects/{project}/assets/{asset}/readiness").route(web::get().to(readiness))),
    );
}

/// A resource that answers 405 (as a problem) to methods it has no route for.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|req: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::new(
            ProblemType::MethodNotAllowed,
            format!("{} is not allowed on `{}`", req.method(), req.path()),
        ))
    }))
}

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!("no resource at `{}`", req.path())))
}

/// Turns any error response that is not already a problem document (actix's own 404 and 405,
/// extractor errors) into one, so that every error the API sends is `application/problem+json`.
pub fn problem_responses<B: actix_web::body::MessageBody + 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(|res: ServiceResponse<B>| {
        let is_problem = res.response().headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
        });
        if is_problem {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let (kind, detail) = match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                (ProblemType::MethodNotAllowed, format!("{} is not allowed here", res.request().method()))
            }
            StatusCode::NOT_FOUND => (ProblemType::NotFound, format!("no resource at `{}`", res.request().path())),
            s if s.is_server_error() => (ProblemType::Internal, "the server failed to answer".to_owned()),
            _ => (ProblemType::BadRequest, status.canonical_reason().unwrap_or("error").to_owned()),
        };
        let mut error = ApiError::new(kind, detail);
        // The answer keeps the status actix chose (a 413 of its own, say), under the nearest type.
        error.status = status;
        error.problem.status = status.as_u16();
        error.problem.title = status.canonical_reason().unwrap_or("Error").to_owned();
        let (req, _) = res.into_parts();
        let response: HttpResponse<BoxBody> = actix_web::ResponseError::error_response(&error);
        Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
    })
}
