//! `projections`: what producers and compliance teams ask of a project — stage status,
//! provenance, an asset's audit trail, filtered history — now or as of an earlier point.

use crate::api::auth::Reader;
use crate::api::extract::{page_size, parse_asset, parse_project, query_time, resolve_as_of, Query};
use crate::api::problem::ApiError;
use crate::api::responses::AsOfReadProblems;
use crate::api::state::AppState;
use crate::api::views::*;
use crate::domain::event::{ContentType, Kind, Stage};
use crate::domain::{Id, ProjectId};
use crate::log::open_entry;
use crate::projections::graph::Subgraph;
use crate::projections::stages::StageInfo;
use crate::projections::summary::Summary;
use crate::projections::ProjectProjection;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    /// See the project as it was: a sequence (entries up to and including it) or an RFC 3339
    /// time (entries received at or before it).
    pub as_of: Option<String>,
}

/// Where a view of a project stands: the log size it reflects, and how many of the project's
/// events that size covers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub log_size: u64,
    pub events: usize,
}

/// Runs `f` on the project's projections as of a log size (now when `None`). Blocking: handlers
/// call it through [`AppState::reads`]. An `as_of` reads the same cached projection, up to the
/// events it covers; nothing is folded again.
pub(crate) fn with_project<T>(
    state: &AppState,
    project: &ProjectId,
    size: Option<u64>,
    f: impl FnOnce(&ProjectProjection, At) -> T,
) -> Result<T, ApiError> {
    let missing = || ApiError::not_found(format!("project `{project}` does not exist"));
    // The system stream holds actors and keys: it has no production to project.
    if project.is_system() {
        return Err(missing());
    }
    let answer = state.ledger.with_project(project, |p, now| {
        let log_size = size.unwrap_or(now).min(now);
        let events = p.visible(log_size);
        if events == 0 {
            return Err(ApiError::not_found(format!(
                "project `{project}` was created after `as_of` (it has no entry among the first {log_size} of the log)"
            ))
            .field("as_of"));
        }
        Ok(f(p, At { log_size, events }))
    })?;
    answer.ok_or_else(missing)?
}

/// The `{project}/assets/{asset}` of a path, parsed, once the reader may read the project.
pub(crate) fn readable_asset(
    reader: &Reader,
    state: &AppState,
    (project, asset): (String, String),
) -> Result<(ProjectId, Id), ApiError> {
    let project = parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    Ok((project, parse_asset(&asset)?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatusView {
    pub project: String,
    #[schema(value_type = Option<String>)]
    pub content_type: Option<ContentType>,
    /// Entries of the whole log the answer reflects.
    pub log_size: u64,
    pub events: usize,
    pub stages: Vec<StageInfo>,
    /// Stages open at the same time.
    #[schema(value_type = Vec<String>)]
    pub overlapping: Vec<Stage>,
}

/// Stage status of a project: the six stages, their state, activity, assets and reopenings.
#[utoipa::path(get, path = "/v1/projects/{project}/status", tag = "projections", params(("project" = String, Path), StatusQuery),
    security(("bearer" = [])),
    responses((status = 200, body = StatusView), AsOfReadProblems))]
pub async fn status(
    reader: Reader,
    project: web::Path<String>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let shared = state.clone();
    let view = state
        .reads
        .run(move || {
            with_project(&shared, &project, size, |p, at| {
                let stages = p.stage_view(at.events);
                StatusView {
                    project: project.to_string(),
                    content_type: p.content_type,
                    log_size: at.log_size,
                    events: at.events,
                    overlapping: crate::projections::stages::overlapping(&stages),
                    stages,
                }
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Which way a provenance walk goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Back to the brief.
    #[default]
    Ancestors,
    /// Forward to every variant and delivery.
    Descendants,
}

/// How a provenance graph is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GraphFormat {
    #[default]
    Json,
    /// Graphviz DOT.
    Dot,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProvenanceQuery {
    /// `ancestors` (default: back to the brief) or `descendants` (forward to every variant and
    /// delivery).
    pub direction: Option<Direction>,
    /// Most hops from the asset (default 64, at most 100000).
    pub depth: Option<u32>,
    /// `json` (default) or `dot` (Graphviz).
    pub format: Option<GraphFormat>,
    /// A sequence or an RFC 3339 time, as in the status endpoint.
    pub as_of: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProvenanceView {
    pub direction: String,
    pub graph: Subgraph,
    /// Whether the walk stopped at `depth` with nodes at that depth, beyond which there may be
    /// more (ask again with a larger `depth`).
    pub truncated: bool,
    /// For ancestors: the brief, references, prompts, pinned model versions, people, tools,
    /// and the QC reviews and approvals the policy weighs — of the whole ancestry, whatever
    /// `depth` the graph was cut at.
    pub summary: Option<Summary>,
}

/// The provenance graph of an asset.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/provenance", tag = "projections",
    params(("project" = String, Path), ("asset" = String, Path), ProvenanceQuery), security(("bearer" = [])),
    responses((status = 200, body = ProvenanceView), AsOfReadProblems))]
pub async fn provenance(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<ProvenanceQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, &state, path.into_inner())?;
    let up = query.direction.unwrap_or_default() == Direction::Ancestors;
    let dot = query.format.unwrap_or_default() == GraphFormat::Dot;
    let depth = query.depth.unwrap_or(64);
    if depth > 100_000 {
        return Err(ApiError::bad_query("`depth` is at most 100000").field("depth"));
    }
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let shared = state.clone();
    let answer = state
        .reads
        .run(move || {
            let (graph, whole, against, log_size) = with_project(&shared, &project, size, |p, at| {
                let within = at.events as u32;
                let graph = if up {
                    p.graph.ancestors(asset.as_str(), depth, within)
                } else {
                    p.graph.descendants(asset.as_str(), depth, within)
                };
                // The summary reads the whole ancestry (at most the lineage limit's links).
                let whole = up.then(|| p.graph.ancestors(asset.as_str(), u32::MAX, within)).flatten();
                (graph, whole, crate::ledger::audit::against_bytes(p, &project, &asset), at.log_size)
            })?;
            let graph =
                graph.ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))?;
            if dot {
                return Ok(Err(graph.to_dot()));
            }
            let load = |sequence: u64| shared.ledger.payload_at(sequence);
            let summary = whole.map(|whole| {
                let against: Vec<crate::domain::Payload> =
                    crate::ledger::audit::against_entries(&shared.ledger, &against, log_size)?
                        .iter()
                        .filter_map(|e| open_entry(e).ok().map(|(_, p)| p))
                        .collect();
                Ok::<_, ApiError>(crate::projections::summary::summarize(&whole, load, &against))
            });
            let summary = summary.transpose()?;
            let direction = if up { "ancestors" } else { "descendants" }.to_owned();
            let truncated = graph.nodes.iter().any(|n| n.depth >= depth);
            Ok(Ok(ProvenanceView { direction, graph, truncated, summary }))
        })
        .await?;
    Ok(match answer {
        Ok(view) => HttpResponse::Ok().json(view),
        Err(dot) => HttpResponse::Ok().content_type("text/vnd.graphviz; charset=utf-8").body(dot),
    })
}

/// Every entry that names the asset (as subject, input or output), the retractions that took any
/// of them back and the revocations of its signers' keys, in ledger order, with the lists that
/// show it left nothing out.
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/audit", tag = "projections",
    params(("project" = String, Path), ("asset" = String, Path), StatusQuery), security(("bearer" = [])),
    responses((status = 200, body = crate::ledger::audit::AuditTrail), AsOfReadProblems))]
pub async fn audit(
    reader: Reader,
    path: web::Path<(String, String)>,
    query: Query<StatusQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, &state, path.into_inner())?;
    let as_of = resolve_as_of(&state, query.as_of.as_deref())?;
    let shared = state.clone();
    let trail = state
        .reads
        .run(move || {
            crate::ledger::audit::trail(&shared.ledger, &project, &asset, as_of)?
                .ok_or_else(|| ApiError::not_found(format!("project `{project}` has no asset `{asset}`")))
        })
        .await?;
    Ok(HttpResponse::Ok().json(trail))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only events of this kind.
    #[param(value_type = Option<String>)]
    pub kind: Option<Kind>,
    /// Only events signed by this actor.
    pub actor: Option<String>,
    /// Only events of this stage.
    #[param(value_type = Option<String>)]
    pub stage: Option<Stage>,
    /// Only events naming this asset.
    pub asset: Option<String>,
    /// Only events that occurred at or after this RFC 3339 time.
    pub from: Option<String>,
    /// Only events that occurred before this RFC 3339 time.
    pub to: Option<String>,
    /// Cursor: only events after this sequence (the `next` of the previous page).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// A sequence or an RFC 3339 time, as in the status endpoint.
    pub as_of: Option<String>,
}

/// A project's events, filtered by kind, actor, stage, asset and time, with a cursor.
#[utoipa::path(get, path = "/v1/projects/{project}/history", tag = "projections", params(("project" = String, Path), HistoryQuery),
    security(("bearer" = [])),
    responses((status = 200, body = EntryPage), AsOfReadProblems))]
pub async fn history(
    reader: Reader,
    project: web::Path<String>,
    query: Query<HistoryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    let limit = page_size(query.limit)?;
    let (kind, stage) = (query.kind, query.stage);
    let (from, to) = (query_time(query.from.as_deref(), "from")?, query_time(query.to.as_deref(), "to")?);
    let assets: Option<std::collections::HashSet<u64>> = match &query.asset {
        None => None,
        Some(a) => {
            Some(state.ledger.asset_sequences(project.as_str(), parse_asset(a)?.as_str())?.into_iter().collect())
        }
    };
    let size = resolve_as_of(&state, query.as_of.as_deref())?;
    let shared = state.clone();
    let filter = HistoryFilter { kind, stage, actor: query.actor.clone(), from, to, assets, after: query.after };
    let page = state
        .reads
        .run(move || {
            let (sequences, next) = history_sequences(&shared, &project, size, &filter, limit)?;
            let mut entries = Vec::with_capacity(sequences.len());
            for sequence in sequences {
                if let Some(entry) = shared.ledger.entry(sequence)? {
                    entries.push(EntryView::of(&entry));
                }
            }
            Ok(EntryPage { entries, next })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// What a history query keeps of a project's events.
#[derive(Debug, Default)]
pub(crate) struct HistoryFilter {
    pub kind: Option<Kind>,
    pub stage: Option<Stage>,
    pub actor: Option<String>,
    /// `occurred_at` at or after, and before (microseconds).
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// The sequences of the entries naming an asset, when one is asked for.
    pub assets: Option<std::collections::HashSet<u64>>,
    /// Only events after this sequence.
    pub after: Option<u64>,
}

/// The sequences of a page of a project's history (at most `limit`), and the cursor of the next
/// page when there is one. Blocking.
pub(crate) fn history_sequences(
    shared: &AppState,
    project: &ProjectId,
    size: Option<u64>,
    filter: &HistoryFilter,
    limit: usize,
) -> Result<(Vec<u64>, Option<u64>), ApiError> {
    let f = filter;
    let mut sequences = with_project(shared, project, size, |p, at| {
        p.events[..at.events]
            .iter()
            .filter(|m| f.after.is_none_or(|a| m.sequence > a))
            .filter(|m| f.kind.is_none_or(|k| m.kind == k))
            .filter(|m| f.stage.is_none_or(|s| m.stage == Some(s)))
            .filter(|m| f.actor.as_deref().is_none_or(|a| p.actor_of(m) == a))
            .filter(|m| f.from.is_none_or(|t| m.occurred_at_us >= t) && f.to.is_none_or(|t| m.occurred_at_us < t))
            .filter(|m| f.assets.as_ref().is_none_or(|set| set.contains(&m.sequence)))
            .map(|m| m.sequence)
            .take(limit + 1)
            .collect::<Vec<u64>>()
    })?;
    let next = (sequences.len() > limit).then(|| sequences[limit - 1]);
    sequences.truncate(limit);
    Ok((sequences, next))
}
