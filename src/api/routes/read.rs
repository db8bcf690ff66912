//! `read`: the log as stored — a project's stream, the global feed, one entry, the head.

use crate::api::auth::Reader;
use crate::api::extract::{page_size, parse_project, Query};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::{EntryProblems, FeedProblems, ProjectReadProblems, TokenProblems};
use crate::api::state::AppState;
use crate::api::views::*;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Cursor: only entries after this version (the `next` of the previous page; default: from
    /// the first).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// Cursor: only entries after this sequence (the `next` of the previous page; default: from
    /// the first).
    pub after: Option<u64>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// Long polling: when no entry follows `after` yet, wait up to this many seconds (1 to 60)
    /// for one before answering (an empty page if none came).
    #[param(minimum = 1, maximum = 60)]
    pub wait: Option<u64>,
}

/// Every project the token may read, by id: title, content type, client, entries, last
/// activity.
#[utoipa::path(get, path = "/v1/projects", tag = "read", security(("bearer" = [])),
    responses((status = 200, body = ProjectList), TokenProblems))]
pub async fn projects(reader: Reader, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let listings: Vec<(crate::domain::ProjectId, crate::domain::state::Listing)> =
        state.ledger.with_catalogue(|c| c.iter().map(|(id, l)| (id.clone(), l.clone())).collect());
    let listings: Vec<_> = listings.into_iter().filter(|(id, _)| reader.may_read(&state.ledger, id.as_str())).collect();
    let shared = state.clone();
    // One entry read per project: its first, which created it and gave its title.
    let projects = state
        .reads
        .run(move || {
            let mut projects = Vec::with_capacity(listings.len());
            for (id, listing) in listings {
                let first = shared.ledger.project_entries(id.as_str(), 1, 1)?;
                let title =
                    first.first().and_then(|e| crate::log::open_entry(e).ok()).and_then(|(_, p)| match p.body {
                        crate::domain::event::Body::ProjectCreated(b) => Some(b.title.to_string()),
                        _ => None,
                    });
                projects.push(ProjectListing {
                    project: id.to_string(),
                    title,
                    content_type: listing.content_type.map(|c| crate::domain::event::wire_name(&c)),
                    governed: listing.client.is_some(),
                    client_organization: listing.client.map(|c| c.to_string()),
                    events: listing.events,
                    last_activity: chrono::DateTime::from_timestamp_micros(listing.last_received_us)
                        .unwrap_or_default()
                        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                });
            }
            Ok(projects)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ProjectList { projects }))
}

/// Read a project's stream in order.
#[utoipa::path(get, path = "/v1/projects/{project}/events", tag = "read", params(("project" = String, Path), StreamQuery),
    security(("bearer" = [])),
    responses((status = 200, body = EntryPage), ProjectReadProblems))]
pub async fn project_events(
    reader: Reader,
    project: web::Path<String>,
    query: Query<StreamQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&project)?;
    reader.project(&state.ledger, project.as_str())?;
    let limit = page_size(query.limit)?;
    let from = query.after.unwrap_or(0).saturating_add(1);
    let ledger = state.ledger.clone();
    let id = project.to_string();
    let entries = state
        .reads
        .run(move || {
            let entries = ledger.project_entries(&id, from, limit + 1)?;
            // An empty page past the end of a project that exists; none of one that does not.
            let exists = !entries.is_empty() || (from > 1 && !ledger.project_entries(&id, 1, 1)?.is_empty());
            Ok((entries, exists))
        })
        .await?;
    let (entries, exists) = entries;
    if !exists {
        return Err(ApiError::not_found(format!("project `{project}` does not exist")));
    }
    let next = (entries.len() > limit).then(|| entries[limit - 1].version);
    let entries = entries.iter().take(limit).map(EntryView::of).collect();
    Ok(HttpResponse::Ok().json(EntryPage { entries, next }))
}

/// Read the global feed: every entry, in ledger order. A scoped token reads the entries of the
/// projects it may read among each page's (a page may hold fewer than `limit`; `next` goes on
/// from the last entry looked at); it is never refused.
#[utoipa::path(get, path = "/v1/entries", tag = "read", params(FeedQuery), security(("bearer" = [])),
    responses((status = 200, body = EntryPage), FeedProblems))]
pub async fn feed(
    reader: Reader,
    query: Query<FeedQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let limit = page_size(query.limit)?;
    let from = query.after.map_or(0, |a| a.saturating_add(1));
    if let Some(wait) = query.wait {
        if !(1..=60).contains(&wait) {
            return Err(ApiError::new(ProblemType::InvalidQuery, format!("`wait` is 1 to 60 seconds, got {wait}"))
                .field("wait"));
        }
        // A long poll waits from a cursor the log has: an `after` past its last entry is a
        // cursor of another ledger, or a mistake, and would only wait.
        if query.after.is_some_and(|after| after >= state.ledger.len()) {
            return Err(ApiError::new(
                ProblemType::InvalidQuery,
                format!(
                    "`after` is past the log's last entry ({}): a long poll waits for the entry after one the log holds",
                    state.ledger.len().saturating_sub(1)
                ),
            )
            .field("after"));
        }
        let mut durable = state.ledger.durable();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
        while state.ledger.len() <= from {
            if tokio::time::timeout_at(deadline, durable.changed()).await.map_or(true, |r| r.is_err()) {
                break;
            }
        }
    }
    let ledger = state.ledger.clone();
    let entries = state.reads.run(move || Ok(ledger.range(from, limit)?)).await?;
    let next = entries.last().map(|e| e.sequence).filter(|last| last + 1 < state.ledger.len());
    // A scoped token reads the entries of its projects among those of the page: a page may hold
    // fewer than `limit`, and `next` goes on from the last entry looked at.
    let entries = entries
        .iter()
        .filter(|e| !reader.is_scoped() || reader.may_read(&state.ledger, &e.project))
        .map(EntryView::of)
        .collect();
    Ok(HttpResponse::Ok().json(EntryPage { entries, next }))
}

fn entry_response(
    reader: &Reader,
    state: &AppState,
    entry: Option<crate::log::Entry>,
    what: String,
) -> Result<HttpResponse, ApiError> {
    let entry = reader.entry(&state.ledger, entry, &what)?;
    Ok(HttpResponse::Ok().json(EntryView::of(&entry)))
}

/// One entry by its sequence.
#[utoipa::path(get, path = "/v1/entries/{sequence}", tag = "read", params(("sequence" = u64, Path)), security(("bearer" = [])),
    responses((status = 200, body = EntryView), EntryProblems))]
pub async fn entry(
    reader: Reader,
    sequence: web::Path<u64>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let sequence = sequence.into_inner();
    entry_response(&reader, &state, state.ledger.entry(sequence)?, format!("entry {sequence}"))
}

/// One entry by the client's event id.
#[utoipa::path(get, path = "/v1/events/{event_id}", tag = "read", params(("event_id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = EntryView), EntryProblems))]
pub async fn event(
    reader: Reader,
    event_id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    entry_response(&reader, &state, state.ledger.entry_by_event(&event_id)?, format!("event `{event_id}`"))
}

/// The size of the log and the hash of its last entry.
#[utoipa::path(get, path = "/v1/head", tag = "read", security(("bearer" = [])),
    responses((status = 200, body = Head), TokenProblems))]
pub async fn head(_reader: Reader, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let size = state.ledger.len();
    let last_hash = match size {
        0 => None,
        n => state.ledger.entry(n - 1)?.map(|e| hex::encode(e.hash)),
    };
    Ok(HttpResponse::Ok().json(Head { size, last_hash }))
}
