//! `transparency`: what lets anyone check the log without trusting the server — checkpoints,
//! the verifier key, inclusion and consistency proofs, the export, evidence bundles.

use crate::api::auth::Reader;
use crate::api::extract::{parse_asset, parse_project, Query};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::{ConsistencyProblems, ExportProblems, InclusionProblems, ProjectReadProblems};
use crate::api::state::AppState;
use crate::api::views::*;
use crate::log::export::{checkpoint_line, header_line, push_entry_line, BlindLines, ExportHeader};
use actix_web::{web, HttpResponse};
use futures_util::StreamExt as _;
use serde::Deserialize;

/// The inclusion proof of an entry in the tree of `size` entries, with that tree's checkpoint
/// when it is the latest.
pub(super) fn inclusion(state: &AppState, sequence: u64, size: u64) -> Result<Option<InclusionProof>, ApiError> {
    let Some(hashes) = state.ledger.inclusion_proof(sequence, size)? else { return Ok(None) };
    let Some(entry) = state.ledger.entry(sequence)? else { return Ok(None) };
    let root = state.ledger.root(size)?.unwrap_or_default();
    let checkpoint = state.ledger.checkpoint().filter(|c| c.checkpoint.size == size).map(|c| c.note);
    Ok(Some(InclusionProof {
        leaf_index: sequence,
        tree_size: size,
        leaf_hash: hex::encode(entry.leaf_hash()),
        root_hash: hex::encode(root),
        hashes: hashes.iter().map(hex::encode).collect(),
        checkpoint,
    }))
}

fn text(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(body)
}

/// The latest signed checkpoint (C2SP tlog-checkpoint as a signed note); it covers every durable
/// entry.
#[utoipa::path(get, path = "/v1/checkpoint", tag = "transparency",
    responses((status = 200, description = "The signed note", content_type = "text/plain", body = String)))]
pub async fn checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let signed = state.ledger.checkpoint().ok_or_else(|| ApiError::not_found("the log is empty"))?;
    Ok(text(signed.note))
}

/// The latest map checkpoint: the subject map's root with the log's root at the same size (it
/// follows the log off the append path, so it may be of fewer entries than `/v1/checkpoint`).
#[utoipa::path(get, path = "/v1/map-checkpoint", tag = "transparency",
    responses((status = 200, description = "The signed note", content_type = "text/plain", body = String),
        (status = 404, description = "No map revision yet", body = crate::api::problem::Problem, content_type = "application/problem+json")))]
pub async fn map_checkpoint(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let revision = state.ledger.store().map_revision()?;
    let revision = revision.ok_or_else(|| ApiError::not_found("the subject map has no revision yet"))?;
    Ok(text(revision.note))
}

/// The key that verifies checkpoints, as a C2SP note verifier key.
#[utoipa::path(get, path = "/v1/vkey", tag = "transparency",
    responses((status = 200, description = "`<name>+<key hash>+<key>`", content_type = "text/plain", body = String)))]
pub async fn vkey(state: web::Data<AppState>) -> HttpResponse {
    text(format!("{}\n", state.ledger.verifier().vkey()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InclusionQuery {
    /// The entry's sequence (its leaf index); give this or `event_id`.
    pub sequence: Option<u64>,
    /// The entry's event id; give this or `sequence`.
    pub event_id: Option<String>,
    /// The tree size to prove against (default: the latest checkpoint's).
    pub tree_size: Option<u64>,
}

/// Inclusion proof of an entry.
#[utoipa::path(get, path = "/v1/proofs/inclusion", tag = "transparency", params(InclusionQuery), security(("bearer" = [])),
    responses((status = 200, body = InclusionProof), InclusionProblems))]
pub async fn inclusion_proof(
    reader: Reader,
    query: Query<InclusionQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let entry = match (&query.sequence, &query.event_id) {
        (Some(sequence), None) => state.ledger.entry(*sequence)?,
        (None, Some(id)) => state.ledger.entry_by_event(id)?,
        _ => return Err(ApiError::bad_query("give exactly one of `sequence` and `event_id`")),
    };
    let entry = reader.entry(&state.ledger, entry, "the entry")?;
    let size = match query.tree_size {
        Some(size) => size,
        None => state.ledger.checkpoint().map(|c| c.checkpoint.size).unwrap_or(0),
    };
    let len = state.ledger.len();
    let sequence = entry.sequence;
    let size_error = move || {
        ApiError::new(
            ProblemType::TreeSizeOutOfRange,
            format!("entry {sequence} is not in a tree of {size} entries; the log holds {len}"),
        )
        .field("tree_size")
    };
    if size <= sequence || size > len {
        return Err(size_error());
    }
    let shared = state.clone();
    let proof = state.reads.run(move || inclusion(&shared, sequence, size)).await?;
    Ok(HttpResponse::Ok().json(proof.ok_or_else(size_error)?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EvidenceQuery {
    /// With `true`, the bundle discloses the clear texts kept of its entries' confidential
    /// fields (a token granted confidential texts).
    pub disclose: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    /// The older tree size (at least 1).
    pub from: u64,
    /// The newer tree size (default: the latest checkpoint's).
    pub to: Option<u64>,
}

/// Consistency proof between two tree sizes: that the newer log extends the older one.
#[utoipa::path(get, path = "/v1/proofs/consistency", tag = "transparency", params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyProof), ConsistencyProblems))]
pub async fn consistency_proof(
    query: Query<ConsistencyQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let to = query.to.unwrap_or_else(|| state.ledger.checkpoint().map(|c| c.checkpoint.size).unwrap_or(0));
    let from = query.from;
    let len = state.ledger.len();
    let out_of_range = |detail: String| ApiError::new(ProblemType::TreeSizeOutOfRange, detail);
    if from == 0 || from > to || to > len {
        return Err(out_of_range(format!(
            "a consistency proof needs 1 <= from <= to <= {len}; got from {from}, to {to}"
        ))
        .field("from"));
    }
    let ledger = state.ledger.clone();
    let proof = state
        .reads
        .run(move || Ok((ledger.consistency_proof(from, to)?, ledger.root(from)?, ledger.root(to)?)))
        .await?;
    let (Some(hashes), Some(from_root), Some(to_root)) = proof else {
        return Err(out_of_range("the sizes are beyond the log".into()));
    };
    Ok(HttpResponse::Ok().json(ConsistencyProof {
        from,
        to,
        from_root: hex::encode(from_root),
        to_root: hex::encode(to_root),
        hashes: hashes.iter().map(hex::encode).collect(),
    }))
}

/// The whole log as JSON Lines (header, entries, checkpoint): see `docs/transparency.md`.
#[utoipa::path(get, path = "/v1/export", tag = "transparency", security(("bearer" = [])),
    responses(
        (status = 200, description = "JSON Lines", content_type = "application/x-ndjson", body = String),
        ExportProblems,
    ))]
pub async fn export(reader: Reader, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    reader.everything()?;
    let signed = state.ledger.checkpoint().ok_or_else(|| ApiError::not_found("the log is empty"))?;
    let first = header_line(&ExportHeader::of(&signed.checkpoint, state.ledger.verifier()));
    let last = checkpoint_line(&signed.note);
    let size = signed.checkpoint.size;
    let shared = state.clone();
    // Pages of entries below the checkpoint's size, each entry followed by the blinds of the
    // subjects it names first, then the checkpoint line.
    let pages = futures_util::stream::unfold(Some((0u64, BlindLines::default())), move |next| {
        let state = shared.clone();
        async move {
            let (from, mut blinds) = next?;
            if from >= size {
                return None;
            }
            let limit = (size - from).min(1000) as usize;
            let ledger = state.ledger.clone();
            let page = state
                .reads
                .run(move || {
                    let entries = ledger.range(from, limit)?;
                    let mut bytes = Vec::new();
                    for entry in &entries {
                        push_entry_line(&mut bytes, entry);
                        let (_, payload) = crate::log::open_entry(entry).map_err(|source| {
                            crate::store::StoreError::Unopenable { sequence: entry.sequence, source }
                        })?;
                        blinds.push(&mut bytes, &payload, |subject| ledger.subject_blind(subject));
                    }
                    Ok((entries.len() as u64, bytes, blinds))
                })
                .await;
            match page {
                Ok((read, bytes, blinds)) if read > 0 => {
                    Some((Ok::<_, actix_web::Error>(web::Bytes::from(bytes)), Some((from + read, blinds))))
                }
                Ok(_) => Some((Err(ApiError::new(ProblemType::Unavailable, "export interrupted").into()), None)),
                Err(e) => Some((Err(e.into()), None)),
            }
        }
    });
    let stream = futures_util::stream::once(async move { Ok(web::Bytes::from(first)) })
        .chain(pages)
        .chain(futures_util::stream::once(async move { Ok(web::Bytes::from(last)) }));
    Ok(HttpResponse::Ok().content_type("application/x-ndjson").streaming(stream))
}

/// The evidence bundle of an asset: its lineage, the system stream, inclusion proofs and the
/// checkpoint, verifiable offline with `lineage verify-evidence`.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/evidence", tag = "transparency",
    params(("project" = String, Path), ("asset" = String, Path), EvidenceQuery), security(("bearer" = [])),
    responses((status = 200, body = crate::log::evidence::Bundle), ProjectReadProblems))]
pub async fn evidence(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<EvidenceQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = path.into_inner();
    let project = parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    let disclose = query.disclose.unwrap_or(false);
    if disclose {
        reader.confidential(&state.ledger, project.as_str())?;
    }
    let asset = parse_asset(&asset)?;
    let missing = format!("project `{project}` has no asset `{asset}`");
    let ledger = state.ledger.clone();
    let kept = state.confidential.clone();
    let bundle = state
        .reads
        .run(move || {
            let mut bundle = crate::ledger::evidence::build(&ledger, project.as_str(), &asset)?;
            if let (Some(bundle), true) = (bundle.as_mut(), disclose) {
                crate::ledger::evidence::disclose(bundle, &kept)?;
            }
            Ok(bundle)
        })
        .await?;
    Ok(HttpResponse::Ok().json(bundle.ok_or_else(|| ApiError::not_found(missing))?))
}
