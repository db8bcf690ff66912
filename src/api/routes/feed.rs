//! The live feed: `GET /v1/feed` as Server-Sent Events — every durable entry once, in log
//! order, each event's `id` its sequence; from `Last-Event-ID` (or `after`) it catches up on
//! what it missed, then follows the log as commits land, with no gap and no duplicate across the
//! switch: it reads by sequence, from where it stopped, whether the entries were stored before
//! it connected or after. It never slows an append: it reads committed entries and waits on
//! the writer's published length, which the writer sets without waiting for anyone.

use crate::api::auth::Reader;
use crate::api::extract::{parse_project, Query};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::LiveFeedProblems;
use crate::api::state::AppState;
use crate::domain::event::Kind;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::time::Duration;

/// A comment line sent on an idle feed this often, so that proxies keep the stream open and a
/// client notices a dead one.
/// Also how soon a feed whose client has gone is noticed (on the write that fails) and gives its
/// place back.
pub const HEARTBEAT: Duration = Duration::from_secs(5);

/// Entries read from the store at a time.
const PAGE: u64 = 500;
/// Reads of at most this many entries are made on the worker itself.
const LIVE_READ: usize = 32;

/// One event of the feed, as an SSE reader parses it: `id` the entry's sequence, `event`
/// `entry`, `data` the entry as `GET /v1/entries/{sequence}` answers it (JSON); the first event
/// carries only `retry`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct FeedEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<u64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LiveQuery {
    /// Start after this sequence; a `Last-Event-ID` header, as a reconnecting client sends,
    /// takes precedence. Default: from the first entry.
    pub after: Option<u64>,
    /// Only the entries of this project.
    pub project: Option<String>,
    /// Only the entries of this kind.
    pub kind: Option<String>,
}

/// What a feed sends: the entries its token may read, of its project and kind if it asked.
struct Filter {
    reader: Reader,
    project: Option<String>,
    kind: Option<Kind>,
}

impl Filter {
    fn event(&self, state: &AppState, entry: &crate::log::Entry) -> Option<Vec<u8>> {
        if self.project.as_deref().is_some_and(|p| p != entry.project) {
            return None;
        }
        if self.reader.is_scoped() && !self.reader.may_read(&state.ledger, &entry.project) {
            return None;
        }
        let rendered = state.rendered.get(entry);
        if self.kind.is_some_and(|k| k.as_str() != rendered.kind) {
            return None;
        }
        Some(format!("id: {}\nevent: entry\ndata: {}\n\n", entry.sequence, rendered.json).into_bytes())
    }
}

struct Following {
    state: web::Data<AppState>,
    /// The browser session the feed was opened with, if it was.
    session: Option<String>,
    filter: Filter,
    next: u64,
    durable: tokio::sync::watch::Receiver<u64>,
}

/// A feed's place among those open, from its answer until its stream is dropped (it counts
/// among `/metrics`' subscribers meanwhile).
struct Subscribed {
    state: web::Data<AppState>,
    token: String,
}

impl Subscribed {
    fn take(state: &web::Data<AppState>, reader: &Reader) -> Result<Subscribed, ApiError> {
        let token = reader.token().1;
        state.feeds.take(&token).map_err(|own| {
            let detail = match own {
                Some(own) => {
                    format!("the token `{}` has {own} feeds open, the most a token may; close one first", reader.name())
                }
                None => "the server has as many feeds open as it may; retry later".to_owned(),
            };
            ApiError::new(ProblemType::TooManyFeeds, detail).retry_after(5)
        })?;
        crate::metrics::FEED_SUBSCRIBERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Subscribed { state: state.clone(), token })
    }
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.state.feeds.give_back(&self.token);
        crate::metrics::FEED_SUBSCRIBERS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The id a reconnecting client gives: the last event it received.
fn last_event_id(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = req.headers().get("Last-Event-ID") else { return Ok(None) };
    let text = value.to_str().unwrap_or_default().trim();
    text.parse().map(Some).map_err(|_| {
        ApiError::new(ProblemType::InvalidQuery, format!("`Last-Event-ID` must be an entry's sequence, got `{text}`"))
            .field("Last-Event-ID")
    })
}

/// Follow the log live (Server-Sent Events): each entry the token may read, in log order, `id`
/// its sequence; resume with `Last-Event-ID`. A comment line every 15 s while idle.
#[utoipa::path(get, path = "/v1/feed", tag = "read", params(LiveQuery), security(("bearer" = [])),
    responses((status = 200, description = "`text/event-stream`: `id: <sequence>`, `event: entry`, `data: <entry as GET /v1/entries/{sequence} answers it>`", content_type = "text/event-stream", body = FeedEvent), LiveFeedProblems))]
pub async fn live_feed(
    reader: Reader,
    req: HttpRequest,
    query: Query<LiveQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let after = last_event_id(&req)?.or(query.after);
    // A feed from past the last entry would only wait, for a cursor of another ledger or a
    // mistake: refused, as long polling refuses it.
    if let Some(after) = after.filter(|a| *a >= state.ledger.len()) {
        let field = if req.headers().contains_key("Last-Event-ID") { "Last-Event-ID" } else { "after" };
        return Err(ApiError::new(
            ProblemType::InvalidQuery,
            format!("`{field}` {after} is past the log's last entry ({} entries)", state.ledger.len()),
        )
        .field(field));
    }
    // A feed opened with a browser session ends with the session (signed out, expired, evicted).
    let session = (!req.headers().contains_key(actix_web::http::header::AUTHORIZATION))
        .then(|| req.cookie(crate::api::sessions::COOKIE).map(|c| c.value().to_owned()))
        .flatten();
    let project = match &query.project {
        Some(p) => {
            let project = parse_project(p)
                .map_err(|e| ApiError::new(ProblemType::InvalidQuery, e.problem.detail).field("project"))?;
            reader.project(&state.ledger, project.as_str())?;
            if !project.is_system() && !state.ledger.with_catalogue(|c| c.contains_key(&project)) {
                return Err(ApiError::not_found(format!("project `{project}` does not exist")).field("project"));
            }
            Some(project.to_string())
        }
        None => None,
    };
    let kind = match &query.kind {
        Some(k) => Some(Kind::parse(k).ok_or_else(|| {
            ApiError::new(ProblemType::InvalidQuery, format!("`kind` `{k}` is not in the catalogue")).field("kind")
        })?),
        None => None,
    };
    let following = Following {
        session,
        durable: state.ledger.durable(),
        state: state.clone(),
        filter: Filter { reader, project, kind },
        next: after.map_or(0, |a| a.saturating_add(1)),
    };
    // A client reconnects a second after the stream breaks.
    let opening =
        futures_util::stream::once(async { Ok::<_, actix_web::Error>(web::Bytes::from_static(b"retry: 1000\n\n")) });
    let subscribed = Subscribed::take(&state, &following.filter.reader)?;
    let events = futures_util::stream::unfold(Some((following, subscribed)), |following| async move {
        let (mut following, subscribed) = following?;
        match following.step().await {
            Ok(bytes) => Some((Ok::<_, actix_web::Error>(web::Bytes::from(bytes)), Some((following, subscribed)))),
            // The stream ends; the client comes back with its last event's id.
            Err(()) => None,
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(futures_util::StreamExt::chain(opening, events)))
}

impl Following {
    /// The next bytes to send: events of the next page of entries that has any, or a heartbeat
    /// after waiting [`HEARTBEAT`] for a commit. `Err` ends the stream (the ledger stopping, a
    /// read failing).
    async fn step(&mut self) -> Result<Vec<u8>, ()> {
        loop {
            // A token revoked or expired, or a session ended, while its feed is open ends the feed.
            let token = self.filter.reader.token().0;
            if self.state.tokens.check_hash(&token).is_err() {
                return Err(());
            }
            if self.session.as_ref().is_some_and(|s| self.state.sessions.token_of(s) != Some(token)) {
                return Err(());
            }
            let len = self.state.ledger.len();
            if self.next < len {
                let (from, limit) = (self.next, (len - self.next).min(PAGE) as usize);
                let ledger = self.state.ledger.clone();
                // A live feed reads the few entries each commit adds: the last commits, still in
                // memory or in the store's cache, read at once; a catch-up's pages take a read
                // slot, off the workers.
                let entries = if limit <= LIVE_READ {
                    ledger.range(from, limit).map_err(|_| ())?
                } else {
                    self.state.reads.run(move || Ok(ledger.range(from, limit)?)).await.map_err(|_| ())?
                };
                let Some(last) = entries.last() else { return Err(()) };
                self.next = last.sequence + 1;
                let bytes: Vec<u8> =
                    entries.iter().filter_map(|e| self.filter.event(&self.state, e)).flatten().collect();
                if !bytes.is_empty() {
                    return Ok(bytes);
                }
                continue;
            }
            match tokio::time::timeout(HEARTBEAT, self.durable.changed()).await {
                Ok(Ok(())) => continue,
                Ok(Err(_)) => return Err(()),
                Err(_) => return Ok(b": heartbeat\n\n".to_vec()),
            }
        }
    }
}
