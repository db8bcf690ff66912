//! Compliance outputs of an asset: its AI disclosure, derived from its ancestry; that ancestry as
//! W3C PROV-JSON; its C2PA manifest, and that manifest signed into the asset's own file.

use crate::api::auth::Reader;
use crate::api::extract::{read_body, resolve_as_of, Query};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::{AsOfReadProblems, CredentialsProblems};
use crate::api::routes::projections::{readable_asset, with_project, StatusQuery};
use crate::api::state::AppState;
use crate::domain::{Digest, ProjectId, SystemState};
use crate::outputs::credentials::{manifest, output_of, LedgerRecord, Sources};
use crate::outputs::disclosure::{disclose, disclose_read, read_entries, Disclosure};
use crate::outputs::signing::{sign, SIGNABLE};
use crate::projections::graph::Subgraph;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

/// The largest file the server signs Content Credentials into.
pub const SIGNABLE_FILE_BYTES: usize = 64 << 20;

/// Runs `f` off the async workers on the whole ancestry of the path's asset (as of `as_of`), with
/// the system state that tells people from services.
async fn with_ancestry<T: Send + 'static>(
    reader: &Reader,
    path: (String, String),
    as_of: Option<&str>,
    state: &web::Data<AppState>,
    f: impl FnOnce(&AppState, &ProjectId, &Subgraph, &SystemState) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (project, asset) = readable_asset(reader, state, path)?;
    let size = resolve_as_of(state, as_of)?;
    let shared = state.clone();
    state
        .reads
        .run(move || {
            let ancestry = with_project(&shared, &project, size, |p, at| {
                p.graph.ancestors(asset.as_str(), u32::MAX, at.events as u32)
            })?
            .ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))?;
            f(&shared, &project, &ancestry, &shared.ledger.system())
        })
        .await
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
    let answer =
        with_ancestry(&reader, path.into_inner(), query.as_of.as_deref(), &state, |shared, _, ancestry, system| {
            Ok(disclose(ancestry, |sequence| shared.ledger.payload_at(sequence), |actor| system.is_person(actor)))
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
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
    let answer = with_ancestry(
        &reader,
        path.into_inner(),
        query.as_of.as_deref(),
        &state,
        |shared, project, ancestry, system| {
            let origin = shared.ledger.origin();
            let load = |sequence| shared.ledger.payload_at(sequence);
            Ok(crate::outputs::prov::document(&origin, project.as_str(), ancestry, load, |actor| {
                system.is_person(actor)
            }))
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

/// The whole project as W3C PROV-JSON: every record, activity and signer of its graph and every
/// relation between them, as the per-asset document has them (`docs/compliance.md`).
#[utoipa::path(get, path = "/v1/projects/{project}/prov", tag = "compliance",
    params(("project" = String, Path), StatusQuery), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "A PROV-JSON document"), AsOfReadProblems))]
pub async fn project_prov(
    reader: Reader,
    project: web::Path<String>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = crate::api::extract::parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let shared = state.clone();
    let document = state
        .reads
        .run(move || {
            let graph = with_project(&shared, &project, size, |p, at| p.graph.whole(at.events as u32))?;
            let (origin, system) = (shared.ledger.origin(), shared.ledger.system());
            let load = |sequence| shared.ledger.payload_at(sequence);
            Ok::<_, ApiError>(crate::outputs::prov::document(&origin, project.as_str(), &graph, load, |actor| {
                system.is_person(actor)
            }))
        })
        .await?;
    Ok(HttpResponse::Ok().json(document))
}

/// An asset's manifest, with the digest and media type its making entry recorded.
struct Derived {
    manifest: Value,
    digest: Option<Digest>,
    media_type: Option<String>,
}

/// Derives the manifest of the ancestry's root, its ledger record proven against the latest
/// checkpoint.
fn derive(
    shared: &AppState,
    project: &ProjectId,
    ancestry: &Subgraph,
    system: &SystemState,
) -> Result<Derived, ApiError> {
    let payloads = read_entries(ancestry, |sequence| shared.ledger.payload_at(sequence));
    let disclosure = disclose_read(ancestry, &payloads, |actor| system.is_person(actor));
    let root = ancestry.nodes.first();
    let maker = root.and_then(|n| payloads.get(&n.sequence?).map(|p| (n.sequence.unwrap_or_default(), p)));
    let output = maker.and_then(|(_, p)| output_of(&p.body, &disclosure.asset));
    let origin = shared.ledger.origin();
    let record = match (maker, output) {
        (Some((sequence, payload)), Some(output)) => {
            ledger_record(shared, project, sequence, payload, &disclosure.asset, &output.digest)?
        }
        _ => None,
    };
    let sources = Sources {
        namespace: format!("urn:lineage:{origin}/{project}/"),
        ancestry,
        payloads: &payloads,
        disclosure: &disclosure,
        record,
    };
    Ok(Derived {
        manifest: manifest(&sources),
        digest: output.map(|o| o.digest.clone()),
        media_type: output.map(|o| o.media_type.to_string()),
    })
}

/// Where the entry that made an asset stands in the log, proven against the latest checkpoint
/// (none while no checkpoint covers it).
fn ledger_record(
    shared: &AppState,
    project: &ProjectId,
    sequence: u64,
    payload: &crate::domain::Payload,
    asset: &str,
    digest: &Digest,
) -> Result<Option<LedgerRecord>, ApiError> {
    let Some(checkpoint) = shared.ledger.checkpoint() else { return Ok(None) };
    let size = checkpoint.checkpoint.size;
    let (Some(proof), Some(entry)) = (shared.ledger.inclusion_proof(sequence, size)?, shared.ledger.entry(sequence)?)
    else {
        return Ok(None);
    };
    let base = format!("/v1/projects/{project}/assets/{asset}");
    Ok(Some(LedgerRecord {
        ledger: shared.ledger.origin(),
        project: project.to_string(),
        asset: asset.to_owned(),
        digest: digest.to_string(),
        sequence,
        event_id: payload.event_id.to_string(),
        kind: payload.body.kind().as_str().to_owned(),
        leaf_hash: hex::encode(entry.leaf_hash()),
        tree_size: size,
        root_hash: hex::encode(checkpoint.checkpoint.root),
        inclusion_proof: proof.iter().map(hex::encode).collect(),
        checkpoint: checkpoint.note,
        audit: format!("{base}/audit"),
        evidence: format!("{base}/evidence"),
    }))
}

/// The C2PA manifest the ledger derives for an asset, as the C2PA SDK's manifest definition:
/// `c2pa.actions.v2` (created assertion) with the actions of the event that made it, its
/// ingredients (`parentOf`, `componentOf`, `inputTo`), `cawg.training-mining` from the briefs
/// it was made under, and `lineage.ledger`: its disclosure and the entry that made it with that
/// entry's inclusion proof and checkpoint (`docs/compliance.md`).
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/c2pa", tag = "compliance",
    params(("project" = String, Path), ("asset" = String, Path), StatusQuery), security(("bearer" = [])),
    responses((status = 200, body = Object, description = "A C2PA manifest definition"), AsOfReadProblems))]
pub async fn c2pa_manifest(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let derived = with_ancestry(&reader, path.into_inner(), query.as_of.as_deref(), &state, derive).await?;
    Ok(HttpResponse::Ok().json(derived.manifest))
}

/// Signs the asset's Content Credentials into its file with the server's certificate: the body is
/// the asset's own bytes (`image/jpeg` or `image/png`, its recorded digest and media type), the
/// answer the same image with the manifest of `/c2pa` embedded and signed.
#[utoipa::path(post, path = "/v1/projects/{project}/assets/{asset}/credentials", tag = "compliance",
    params(("project" = String, Path), ("asset" = String, Path)), security(("bearer" = [])),
    request_body(content = Vec<u8>, description = "The asset's file", content_type = "image/jpeg"),
    responses((status = 200, description = "The file with its Content Credentials", content_type = "image/jpeg", body = Vec<u8>),
        CredentialsProblems))]
pub async fn credentials(
    req: HttpRequest,
    reader: Reader,
    path: web::Path<(String, String)>,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    readable_asset(&reader, &state, path.clone())?;
    let Some(signing) = state.signing.clone() else {
        return Err(ApiError::new(
            ProblemType::SigningNotConfigured,
            "this server holds no certificate to sign Content Credentials with; sign with your own: `lineage credentials PROJECT ASSET --file IN --out OUT --cert CHAIN.pem --key KEY.pem`",
        ));
    };
    let (file, media_type) = read_body(&req, body, &SIGNABLE, SIGNABLE_FILE_BYTES, &state).await?;
    let file = file.bytes.clone();
    let signed = with_ancestry(&reader, path, None, &state, move |shared, project, ancestry, system| {
        let derived = derive(shared, project, ancestry, system)?;
        let sent = Digest::of(&file);
        if derived.digest.as_ref() != Some(&sent) {
            let recorded = derived.digest.map_or_else(|| "no digest".to_owned(), |d| d.to_string());
            return Err(ApiError::new(
                ProblemType::DigestMismatch,
                format!("the file is not the asset's bytes: its digest is {sent}, the asset's is {recorded}"),
            )
            .field("body"));
        }
        if derived.media_type.as_deref() != Some(media_type) {
            return Err(ApiError::new(
                ProblemType::UnsupportedMediaType,
                format!(
                    "the asset is recorded as `{}`, the body was sent as `{media_type}`",
                    derived.media_type.unwrap_or_default()
                ),
            ));
        }
        sign(&derived.manifest, media_type, &file, &signing)
            .map_err(|e| ApiError::new(ProblemType::UnsignableFile, e.to_string()))
    })
    .await?;
    Ok(HttpResponse::Ok().content_type(media_type).body(signed))
}
