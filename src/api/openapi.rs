//! The OpenAPI 3.1 document, generated from the handlers and committed as `openapi/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "lineage", description = "Event-sourced, tamper-evident ledger of AI-assisted creative production."),
    paths(
        super::routes::append::append_event,
        super::routes::append::append_batch,
        super::routes::read::projects,
        super::routes::read::project_events,
        super::routes::read::feed,
        super::routes::feed::live_feed,
        super::routes::read::entry,
        super::routes::read::event,
        super::routes::read::head,
        super::routes::actors::actors,
        super::routes::actors::actor,
        super::routes::actors::organizations,
        super::routes::actors::issue_token,
        super::routes::actors::list_tokens,
        super::routes::actors::revoke_token,
        super::routes::transparency::checkpoint,
        super::routes::transparency::vkey,
        super::routes::transparency::inclusion_proof,
        super::routes::transparency::consistency_proof,
        super::routes::transparency::export,
        super::routes::transparency::evidence,
        super::routes::transparency::map_checkpoint,
        super::routes::confidential::keep_confidential,
        super::routes::confidential::confidential,
        super::routes::projections::status,
        super::routes::projections::provenance,
        super::routes::projections::audit,
        super::routes::projections::history,
        super::routes::compliance::disclosure,
        super::routes::compliance::prov,
        super::routes::compliance::project_prov,
        super::routes::compliance::c2pa_manifest,
        super::routes::compliance::credentials,
        super::routes::verdicts::verdict,
        super::routes::verdicts::compliance_report,
        super::routes::whence::find_assets,
        super::routes::whence::asset_file,
        super::routes::governance::governance,
        super::routes::governance::readiness,
        super::routes::webhooks::register_webhook,
        super::routes::webhooks::list_webhooks,
        super::routes::webhooks::webhook,
        super::routes::webhooks::change_webhook,
        super::routes::webhooks::delete_webhook,
        super::routes::webhooks::rotate_secret,
        super::routes::webhooks::deliveries,
        super::routes::webhooks::replay,
        super::routes::health::healthz,
        super::routes::health::readyz,
        super::routes::health::metrics,
    ),
    components(schemas(super::problem::Problem)),
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
