//! Reading requests: JSON bodies within their limit, query strings into typed values (naming the
//! parameter at fault), path segments into identifiers, page sizes, and `as_of`.

use super::problem::{ApiError, ProblemType};
use super::state::{AppState, Reservation};
use crate::domain::{Id, ProjectId};
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use std::future::{ready, Ready};

/// The largest page any list returns.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

/// A query string read into `T`. A value that does not parse, or a parameter `T` does not know,
/// is a 400 `invalid-query` naming the parameter.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Query<T>, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(Query))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        // An unknown or missing parameter is named by the message, a bad value by the path.
        let named =
            |marker: &str| message.split_once(marker).and_then(|(_, rest)| rest.split('`').next()).map(str::to_owned);
        let field =
            if path != "." { Some(path) } else { named("unknown field `").or_else(|| named("missing field `")) };
        let detail = match &field {
            Some(field) => format!("query parameter `{field}`: {message}"),
            None => format!("the query string is malformed: {message}"),
        };
        let error = ApiError::bad_query(detail);
        match field {
            Some(field) => error.field(field),
            None => error,
        }
    })
}

/// The largest buffer allocated for a body before its bytes arrive.
const PREALLOCATED: usize = 1 << 20;

/// A request body as read, and the share of the body budget it holds until dropped.
pub struct Body<'a> {
    pub bytes: web::Bytes,
    _held: Reservation<'a>,
}

impl std::ops::Deref for Body<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Reads a JSON request body of at most `limit` bytes, within the body deadline and the budget of
/// bytes held across requests.
pub async fn json_body<'a>(
    req: &HttpRequest,
    body: web::Payload,
    limit: usize,
    state: &'a AppState,
) -> Result<Body<'a>, ApiError> {
    read_body(req, body, &["application/json"], limit, state).await.map(|(body, _)| body)
}

/// Reads a request body of one of the media types `accepted`, of at most `limit` bytes, within
/// the body deadline and the budget of bytes held across requests; answers it with its type.
pub async fn read_body<'a>(
    req: &HttpRequest,
    mut body: web::Payload,
    accepted: &[&'static str],
    limit: usize,
    state: &'a AppState,
) -> Result<(Body<'a>, &'static str), ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some(media_type) = accepted.iter().copied().find(|a| essence.eq_ignore_ascii_case(a)) else {
        let names: Vec<String> = accepted.iter().map(|a| format!("`{a}`")).collect();
        return Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            format!("the body must be {}, got `{content_type}`", names.join(" or ")),
        ));
    };
    let too_large =
        || ApiError::new(ProblemType::BodyTooLarge, format!("the request body is over the limit of {limit} bytes"));
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let budget = state.limits.buffered_body_bytes;
    let busy = || {
        ApiError::new(
            ProblemType::Unavailable,
            "the server holds as many request bodies as it may at once; retry after `Retry-After` seconds",
        )
        .retry_after(1)
    };
    // Bytes are taken from the budget as they arrive, so that a slow sender holds only what it
    // has sent; the buffer is sized up front for a declared length up to 1 MiB (taken at once),
    // so that reading most bodies does not copy them again.
    let mut held = state.buffered.reservation();
    let upfront = declared.unwrap_or(0).min(PREALLOCATED);
    if !state.buffered.grow(&mut held, upfront, budget) {
        return Err(busy());
    }
    let mut bytes = web::BytesMut::with_capacity(upfront);
    let deadline = tokio::time::Instant::now() + state.limits.body_timeout;
    loop {
        let chunk = match tokio::time::timeout_at(deadline, body.next()).await {
            Err(_) => {
                return Err(ApiError::new(
                    ProblemType::BodyTimeout,
                    format!("the request body did not arrive within {} s", state.limits.body_timeout.as_secs()),
                ))
            }
            Ok(None) => break,
            Ok(Some(chunk)) => chunk.map_err(|e| ApiError::new(ProblemType::MalformedBody, e.to_string()))?,
        };
        if bytes.len() + chunk.len() > limit {
            return Err(too_large());
        }
        let beyond = (bytes.len() + chunk.len()).saturating_sub(upfront.max(bytes.len()));
        if beyond > 0 && !state.buffered.grow(&mut held, beyond, budget) {
            return Err(busy());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((Body { bytes: bytes.freeze(), _held: held }, media_type))
}

pub fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::new(ProblemType::MalformedJson, format!("the body is not valid JSON: {e}"))
}

/// A page size: 1 to [`MAX_PAGE`], [`DEFAULT_PAGE`] when absent.
pub fn page_size(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => {
            Err(ApiError::bad_query(format!("`limit` must be between 1 and {MAX_PAGE}, got {n}")).field("limit"))
        }
    }
}

pub fn parse_project(raw: &str) -> Result<ProjectId, ApiError> {
    ProjectId::parse(raw)
        .map_err(|e| ApiError::new(ProblemType::InvalidPath, format!("project id `{raw}` {e}")).field("project"))
}

pub fn parse_asset(raw: &str) -> Result<Id, ApiError> {
    Id::parse(raw).map_err(|e| ApiError::new(ProblemType::InvalidPath, format!("asset id `{raw}` {e}")).field("asset"))
}

/// Resolves `as_of` (a sequence, or an RFC 3339 time) to a number of entries; `None` means now.
pub fn resolve_as_of(state: &AppState, raw: Option<&str>) -> Result<Option<u64>, ApiError> {
    let Some(raw) = raw else { return Ok(None) };
    let len = state.ledger.len();
    let beyond = |detail: String| ApiError::new(ProblemType::AsOfOutOfRange, detail).field("as_of");
    if let Ok(sequence) = raw.parse::<u64>() {
        if sequence >= len {
            return Err(beyond(format!("sequence {sequence} is beyond the head of the log ({len} entries)")));
        }
        return Ok(Some(sequence + 1));
    }
    let time = chrono::DateTime::parse_from_rfc3339(raw)
        .map_err(|_| {
            ApiError::bad_query(format!(
                "`as_of` must be a sequence or an RFC 3339 time with its zone (2026-11-27T10:15:00Z), got `{raw}`"
            ))
            .field("as_of")
        })?
        .with_timezone(&chrono::Utc);
    if time > chrono::Utc::now() {
        return Err(beyond(format!("{raw} is in the future")));
    }
    Ok(Some(state.ledger.size_at(time)?))
}

/// An RFC 3339 time given as a query parameter, in microseconds.
pub fn query_time(raw: Option<&str>, field: &str) -> Result<Option<i64>, ApiError> {
    raw.map(|t| {
        chrono::DateTime::parse_from_rfc3339(t).map(|d| d.timestamp_micros()).map_err(|_| {
            ApiError::bad_query(format!(
                "`{field}` must be an RFC 3339 time with its zone (2026-11-27T10:15:00Z), got `{t}`"
            ))
            .field(field)
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        limit: Option<usize>,
        direction: Option<crate::domain::event::Stage>,
        required: Option<u64>,
    }

    #[test]
    fn a_bad_query_names_its_parameter() {
        let cases = [
            ("limit=abc", Some("limit")),
            ("direction=sideways", Some("direction")),
            ("colour=teal", Some("colour")),
            ("limit=5&direction=ideation", None),
        ];
        for (query, field) in cases {
            match (parse_query::<Sample>(query), field) {
                (Ok(_), None) => {}
                (Err(e), Some(field)) => {
                    assert_eq!(e.problem.field.as_deref(), Some(field), "{query}: {}", e.problem.detail);
                    assert_eq!(e.problem.problem_type, "urn:lineage:problem:invalid-query");
                }
                (got, want) => panic!("{query}: {:?} for {want:?}", got.map(|_| ()).map_err(|e| e.to_string())),
            }
        }
    }
}
