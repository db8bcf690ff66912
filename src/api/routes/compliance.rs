//! Compliance outputs of an asset: its AI disclosure, derived from its ancestry, and that
//! ancestry as W3C PROV-JSON.

use crate::api::auth::Reader;
use crate::api::extract::{resolve_as_of, Query};
use crate::api::problem::ApiError;
use crate::api::responses::AsOfReadProblems;
use crate::api::routes::projections::{readable_asset, with_project, StatusQuery};
use crate::api::state::AppState;
use crate::domain::{ProjectId, SystemState};
use crate::outputs::disclosure::{disclose, Disclosure};
use crate::projections::graph::Subgraph;
use actix_web::{web, HttpResponse};

/// Runs `f` off the async workers on the whole ancestry of the path's asset (as of `as_of`), with
/// a reader of the payloads of its entries and the system state that tells people from services.
async fn with_ancestry<T: serde::Serialize + Send + 'static>(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
    f: impl FnOnce(&AppState, &ProjectId, &Subgraph, &SystemState) -> T + Send + 'static,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, &state, path.into_inner())?;
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let shared = state.clone();
    let answer = state
        .reads
        .run(move || {
            let ancestry = with_project(&shared, &project, size, |p, at| {
                p.graph.ancestors(asset.as_str(), u32::MAX, at.events as u32)
            })?
            .ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))?;
            Ok::<_, ApiError>(f(&shared, &project, &ancestry, &shared.ledger.system()))
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The AI disclosure of an asset, derived from its whole ancestry: its IPTC digital source type
/// (full URI), the derivation-table row that gave it, whether AI made some of its pixels, the
/// model versions that did, what people did, and a statement (`docs/compliance.md`).
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/disclosure", tag = "compliance",
    params(("project" = String, Path), ("asset" = String, Path), StatusQuery), security(("bearer" = [])),
    responses((status = 200, body = Disclosure), AsOfReadProblems))]
pub async fn disclosure(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    with_ancestry(reader, path, query, state, |shared, _, ancestry, system| {
        disclose(ancestry, |sequence| shared.ledger.payload_at(sequence), |actor| system.is_person(actor))
    })
    .await
}

/// An asset's whole ancestry as W3C PROV-JSON (`application/json`): entities, activities and
/// agents, with `wasGeneratedBy`, `used`, `wasDerivedFrom`, `wasAssociatedWith`,
/// `wasAttributedTo` and `wasInfluencedBy` (`docs/compliance.md`).
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/prov", tag = "compliance",
    params(("project" = String, Path), ("asset" = String, Path), StatusQuery), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "A PROV-JSON document"), AsOfReadProblems))]
pub async fn prov(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    with_ancestry(reader, path, query, state, |shared, project, ancestry, system| {
        let origin = shared.ledger.origin();
        let load = |sequence| shared.ledger.payload_at(sequence);
        crate::outputs::prov::document(&origin, project.as_str(), ancestry, load, |actor| system.is_person(actor))
    })
    .await
}
