//! The OpenAPI 3.1 document, generated from the handlers and committed as `openapi/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "lineage", description = "Event-sourced, tamper-evident ledger of AI-assisted creative production."),
    paths(
        super::handlers::append_event,
        super::handlers::append_batch,
        super::handlers::project_events,
        super::handlers::feed,
        super::handlers::entry,
        super::handlers::event,
        super::handlers::head,
        super::handlers::actors,
        super::handlers::actor,
        super::handlers::issue_token,
        super::handlers::checkpoint,
        super::handlers::vkey,
        super::handlers::inclusion_proof,
        super::handlers::consistency_proof,
        super::handlers::export,
        super::handlers::evidence,
        super::handlers::status,
        super::handlers::provenance,
        super::handlers::audit,
        super::handlers::history,
        super::handlers::healthz,
        super::handlers::readyz,
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

/// The document as committed: pretty JSON with a final newline.
pub fn document_json() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("the OpenAPI document serializes");
    text.push('\n');
    text
}
