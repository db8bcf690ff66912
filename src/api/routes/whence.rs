//! Finding an asset by its bytes: which projects the caller may read recorded a file with this
//! digest, as which asset, made how, and — for a delivered variant — its compliance verdict.

use crate::api::auth::Reader;
use crate::api::extract::Query;
use crate::api::problem::ApiError;
use crate::api::responses::FindProblems;
use crate::api::state::AppState;
use crate::domain::ids::Id;
use crate::domain::state::recorded_outputs;
use crate::domain::{Digest, ProjectId};
use crate::outputs::disclosure::{disclose_read, read_entries, Disclosure};
use crate::projections::graph::NodeKind;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

/// Most assets one answer lists by default, and at most.
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FindQuery {
    /// The file's `sha256:` digest (64 lowercase hex digits).
    pub digest: String,
    /// Most assets to list (1 to 100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// The entry that recorded an asset's bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedBy {
    pub sequence: u64,
    pub kind: String,
    pub event_id: String,
}

/// What an asset's ancestry holds, in short (`…/provenance` has it whole).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineageSummary {
    /// The assets it was made from, nearest first.
    pub assets: Vec<String>,
    pub prompts: Vec<String>,
    pub model_versions: Vec<String>,
    pub provenance: String,
}

/// An asset recorded with the bytes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FoundAsset {
    pub project: String,
    pub asset: String,
    pub media_type: String,
    pub recorded_by: RecordedBy,
    pub disclosure: Disclosure,
    pub lineage: LineageSummary,
    /// For a delivered variant, where its compliance verdict is answered (a verdict verifies
    /// the asset's evidence bundle: asked one by one, not for every asset found at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FoundAssets {
    pub digest: String,
    pub assets: Vec<FoundAsset>,
    /// More assets hold these bytes than `limit` lets the answer list.
    pub truncated: bool,
}

/// Every asset recorded with a file's bytes in the projects the token may read: its project,
/// the entry that recorded it, its AI disclosure, a summary of its lineage and, for a delivered
/// variant, where its compliance verdict is answered.
#[utoipa::path(get, path = "/v1/assets", tag = "compliance", params(FindQuery), security(("bearer" = [])),
    responses((status = 200, body = FoundAssets), FindProblems))]
pub async fn find_assets(
    reader: Reader,
    query: Query<FindQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let digest =
        Digest::parse(&query.digest).map_err(|e| ApiError::bad_query(format!("`digest` {e}")).field("digest"))?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::bad_query(format!("`limit` is 1 to {MAX_LIMIT}")).field("limit"));
    }
    // Only the projects the token may read are looked in: others are neither named nor counted.
    let projects: Vec<ProjectId> = state.ledger.with_catalogue(|c| c.keys().cloned().collect());
    let projects: Vec<ProjectId> =
        projects.into_iter().filter(|p| reader.may_read(&state.ledger, p.as_str())).collect();
    let shared = state.clone();
    let found = state.reads.run(move || find(&shared, &projects, &digest, limit)).await?;
    Ok(HttpResponse::Ok().json(found))
}

fn find(shared: &AppState, projects: &[ProjectId], digest: &Digest, limit: usize) -> Result<FoundAssets, ApiError> {
    let key = crate::domain::state::bytes_mention(digest);
    let mut assets = Vec::new();
    let mut truncated = false;
    'projects: for project in projects {
        for sequence in shared.ledger.asset_sequences(project.as_str(), &key)? {
            let Some(payload) = shared.ledger.payload_at(sequence) else { continue };
            for output in recorded_outputs(&payload.body).into_iter().filter(|o| o.digest == *digest) {
                if assets.len() == limit {
                    truncated = true;
                    break 'projects;
                }
                let recorded_by = RecordedBy {
                    sequence,
                    kind: payload.body.kind().as_str().to_owned(),
                    event_id: payload.event_id.to_string(),
                };
                assets.push(describe(shared, project, &output.asset_id, &output.media_type.to_string(), recorded_by)?);
            }
        }
    }
    Ok(FoundAssets { digest: digest.to_string(), assets, truncated })
}

/// An asset found by its bytes: its disclosure, lineage and (when delivered) verdict.
pub(crate) fn describe(
    shared: &AppState,
    project: &ProjectId,
    asset: &Id,
    media_type: &str,
    recorded_by: RecordedBy,
) -> Result<FoundAsset, ApiError> {
    let ancestry = crate::api::routes::projections::with_project(shared, project, None, |p, at| {
        p.graph.ancestors(asset.as_str(), u32::MAX, at.events as u32)
    })?
    .ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))?;
    let system = shared.ledger.system();
    let payloads = read_entries(&ancestry, |sequence| shared.ledger.payload_at(sequence));
    let disclosure = disclose_read(&ancestry, &payloads, |actor| system.is_person(actor));
    let ids = |kind: NodeKind| -> Vec<String> {
        ancestry.nodes.iter().skip(1).filter(|n| n.kind == kind).map(|n| n.id.clone()).collect()
    };
    let lineage = LineageSummary {
        assets: ids(NodeKind::Asset),
        prompts: ids(NodeKind::Prompt),
        model_versions: ids(NodeKind::ModelVersion),
        provenance: format!("/v1/projects/{project}/assets/{asset}/provenance"),
    };
    let verdict =
        (recorded_by.kind == "delivery_recorded").then(|| format!("/v1/projects/{project}/assets/{asset}/verdict"));
    Ok(FoundAsset {
        project: project.to_string(),
        asset: asset.to_string(),
        media_type: media_type.to_owned(),
        recorded_by,
        disclosure,
        lineage,
        verdict,
    })
}

/// The media types a file is served as; any other is sent as `application/octet-stream`.
const SHOWN_AS_IS: [&str; 5] = ["image/jpeg", "image/png", "image/webp", "image/gif", "image/tiff"];

/// The asset's recorded digest and media type, and the entry that made it.
pub(crate) fn recorded_file(
    shared: &AppState,
    project: &ProjectId,
    asset: &Id,
) -> Result<(Digest, String, RecordedBy), ApiError> {
    let missing = || ApiError::not_found(format!("project `{project}` has no asset `{asset}`"));
    let making = crate::api::routes::projections::with_project(shared, project, None, |p, at| {
        p.graph.ancestors(asset.as_str(), 0, at.events as u32).and_then(|g| g.nodes.first().and_then(|n| n.sequence))
    })?
    .ok_or_else(missing)?;
    let payload = shared.ledger.payload_at(making).ok_or_else(missing)?;
    let output = recorded_outputs(&payload.body).into_iter().find(|o| o.asset_id == *asset).ok_or_else(missing)?;
    let recorded_by = RecordedBy {
        sequence: making,
        kind: payload.body.kind().as_str().to_owned(),
        event_id: payload.event_id.to_string(),
    };
    Ok((output.digest.clone(), output.media_type.to_string(), recorded_by))
}

/// The asset's file, when the server holds a file with its recorded digest (`serve --files`):
/// its bytes as recorded, with the recorded media type.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/file", tag = "compliance",
    params(("project" = String, Path), ("asset" = String, Path)), security(("bearer" = [])),
    responses((status = 200, description = "The asset's bytes", content_type = "application/octet-stream", body = Vec<u8>),
        crate::api::responses::ProjectReadProblems))]
pub async fn asset_file(
    req: actix_web::HttpRequest,
    reader: Reader,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = crate::api::routes::projections::readable_asset(&reader, &state, path.into_inner())?;
    let shared = state.clone();
    // The bytes are content-addressed: their digest is their version, and a browser that holds
    // them is answered without reading the file again.
    let held =
        req.headers().get(actix_web::http::header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let answer = state
        .reads
        .run(move || {
            let (digest, media_type, _) = recorded_file(&shared, &project, &asset)?;
            let etag = format!("\"{}\"", digest.as_str().trim_start_matches("sha256:"));
            if held.as_deref() == Some(etag.as_str()) && shared.files.has(project.as_str(), &digest.bytes()) {
                return Ok::<_, ApiError>((None, media_type, etag));
            }
            let bytes = shared.files.read(project.as_str(), &digest.bytes()).ok_or_else(|| {
                ApiError::not_found(format!(
                    "the server holds no file of project `{project}` with asset `{asset}`'s digest {digest} (`serve --files` names where it looks)"
                ))
            })?;
            Ok((Some(bytes), media_type, etag))
        })
        .await?;
    let (bytes, media_type, etag) = answer;
    let mut response = match bytes {
        None => HttpResponse::NotModified(),
        Some(_) => HttpResponse::Ok(),
    };
    response
        .insert_header(("ETag", etag))
        .insert_header(("Cache-Control", "private, max-age=86400"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; sandbox"));
    let Some(bytes) = bytes else { return Ok(response.finish()) };
    // The media type is the signer's claim: only images are served as what they say they are,
    // anything else as a download, so that no recorded file runs as a page of this origin.
    if SHOWN_AS_IS.contains(&media_type.as_str()) {
        response.content_type(media_type);
    } else {
        response.content_type("application/octet-stream").insert_header(("Content-Disposition", "attachment"));
    }
    Ok(response.body(bytes))
}
