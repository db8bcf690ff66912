//! `append`: signed events in, one at a time or as an atomic batch.

use super::transparency::inclusion;
use crate::api::extract::{json_body, malformed, Query};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::AppendProblems;
use crate::api::state::AppState;
use crate::api::views::*;
use crate::ledger::Appended;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AppendQuery {
    /// Also return each entry's inclusion proof and the checkpoint that covers it.
    pub proof: Option<bool>,
}

/// The inclusion proof of an entry in the latest checkpoint, with that checkpoint.
fn proof_in_checkpoint(state: &AppState, sequence: u64) -> Result<Option<InclusionProof>, ApiError> {
    let Some(signed) = state.ledger.checkpoint() else { return Ok(None) };
    inclusion(state, sequence, signed.checkpoint.size)
}

fn appended_response(
    state: &AppState,
    appended: Vec<Appended>,
    heads: Vec<Option<EntryHead>>,
    batch: bool,
    with_proof: bool,
) -> Result<HttpResponse, ApiError> {
    let status = if appended.iter().any(|a| a.created) { StatusCode::CREATED } else { StatusCode::OK };
    let mut entries = Vec::with_capacity(appended.len());
    for (a, head) in appended.iter().zip(heads) {
        let inclusion = if with_proof { proof_in_checkpoint(state, a.entry.sequence)? } else { None };
        // A retried event answers with the original entry, whose envelope may differ.
        let entry = match head {
            Some(head) if a.created => EntryView::with_head(&a.entry, head),
            _ => EntryView::of(&a.entry),
        };
        entries.push(AppendedEntry { entry, inclusion });
    }
    let mut response = HttpResponse::build(status);
    // An answer repeats every envelope and payload: its buffer is sized for them up front rather
    // than grown (and copied) by doubling.
    let capacity = appended.iter().map(|a| 2 * a.entry.envelope.len() + 1024).sum();
    Ok(if batch {
        json_answer(response, &BatchResult { entries }, capacity)
    } else {
        let entry = entries.into_iter().next().expect("one envelope, one entry");
        response.insert_header((header::LOCATION, format!("/v1/entries/{}", entry.entry.sequence)));
        json_answer(response, &entry, capacity)
    })
}

fn json_answer(mut response: actix_web::HttpResponseBuilder, value: &impl Serialize, capacity: usize) -> HttpResponse {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => response.content_type("application/json").body(body),
        Err(_) => response.json(value),
    }
}

/// Append one signed event.
///
/// The body is a DSSE envelope. The answer comes once the entry is durable: 201 with the new
/// entry, or 200 with the original entry when the same event id and payload were already
/// appended. No bearer token is needed: the signature is the authentication.
#[utoipa::path(post, path = "/v1/events", tag = "append", request_body = crate::crypto::dsse::Envelope, params(AppendQuery),
    responses(
        (status = 201, description = "Appended and durable", body = AppendedEntry),
        (status = 200, description = "Already appended with the same payload", body = AppendedEntry),
        AppendProblems,
    ))]
pub async fn append_event(
    req: HttpRequest,
    body: web::Payload,
    query: Query<AppendQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bytes = json_body(&req, body, state.limits.body_bytes, &state).await?;
    let raw: &RawValue = serde_json::from_slice(&bytes).map_err(|e| malformed(e).at(0))?;
    submit(&state, vec![raw.get().as_bytes().to_vec()], false, query.proof.unwrap_or(false)).await
}

/// Prepares the envelopes, appends them as one request and answers with the entries; a batch's
/// refusal names the envelope's position.
async fn submit(state: &AppState, raws: Vec<Vec<u8>>, batch: bool, with_proof: bool) -> Result<HttpResponse, ApiError> {
    crate::metrics::REQUEST_ENVELOPES.observe(raws.len() as f64);
    // A batch's signatures and payloads take milliseconds to check: off the async workers.
    let prepared = if batch {
        let ledger = state.ledger.clone();
        web::block(move || ledger.prepare(raws))
            .await
            .map_err(|e| ApiError::new(ProblemType::Unavailable, e.to_string()))?
    } else {
        state.ledger.prepare(raws)
    };
    let subs = match prepared {
        Ok(subs) => subs,
        Err((i, e)) => {
            let error = ApiError::from(e);
            // A single append's envelope is the request's envelope 0.
            return Err(unverified_delay(state, error.at(i)).await);
        }
    };
    let heads = subs.iter().map(EntryHead::of).collect();
    let erasures = begin_erasures(state, &subs)?;
    let appended = match state.ledger.append(subs).await {
        Ok(appended) => appended,
        Err(failed) => {
            for (project, commitment) in &erasures {
                state.confidential.abandon_erasure(project, commitment).map_err(ApiError::from)?;
            }
            return Err(unverified_delay(state, failed.into()).await);
        }
    };
    if !erasures.is_empty() {
        crate::store::failpoint::hit("erasure-appended");
    }
    for (project, commitment) in &erasures {
        state.confidential.finish_erasure(project, commitment).map_err(ApiError::from)?;
    }
    // A batch that writes nothing (each of its events already in the log) is a retry, or
    // stored envelopes replayed to make the server read and send them again: its answer waits
    // as an unverified refusal does, so that one connection gets a few a second.
    if batch && appended.iter().all(|a| !a.created) {
        hold(state).await;
    }
    appended_response(state, appended, heads, batch, with_proof)
}

/// Marks each erasure of a confidential text in the request begun, before its event is
/// appended: the text is destroyed once the event is durable, or at the next start if the
/// server stops between ([`crate::store::confidential`]).
fn begin_erasures(
    state: &AppState,
    subs: &[crate::ledger::Submission],
) -> Result<Vec<(String, crate::domain::Digest)>, ApiError> {
    let mut erasures: Vec<(String, crate::domain::Digest)> = Vec::new();
    for (i, sub) in subs.iter().enumerate() {
        if let crate::domain::event::Body::ConfidentialErased(b) = &sub.payload.body {
            let project = sub.payload.project.as_str();
            let same_request = subs[..i].iter().any(|earlier| earlier.payload.event_id == b.event_id);
            let erased = state.confidential.held(project, &b.commitment)? == crate::store::confidential::Held::Erased;
            if same_request || erased || !holds_commitment(state, project, b.event_id.as_str(), &b.commitment)? {
                let refused = ApiError::new(
                    ProblemType::InvalidEvent,
                    format!(
                        "{}: an erasure names an event already in the log whose confidential field holds the commitment, not yet erased",
                        if erased {
                            format!("the clear text of {} in project `{project}` is erased already", b.commitment)
                        } else {
                            format!("event `{}` of project `{project}` holds no confidential field committed to {} in the log", b.event_id, b.commitment)
                        }
                    ),
                );
                for (p, c) in &erasures {
                    state.confidential.abandon_erasure(p, c)?;
                }
                return Err(refused.field("body.commitment").at(i));
            }
            state.confidential.begin_erasure(project, &b.commitment, sub.payload.event_id.as_str())?;
            erasures.push((project.to_owned(), b.commitment.clone()));
        }
    }
    Ok(erasures)
}

/// Whether the event `event_id` of `project`, already in the log, holds a confidential field
/// committed to `commitment` (the rules check the event is the project's; an unknown one
/// is refused there).
fn holds_commitment(
    state: &AppState,
    project: &str,
    event_id: &str,
    commitment: &crate::domain::Digest,
) -> Result<bool, ApiError> {
    // An event not in the log is refused by the rules (unknown, or of the same request: an
    // erasure names an event already appended).
    let Some(sequence) = state.ledger.store().sequence_of_event(event_id)? else { return Ok(true) };
    let Some(entry) = state.ledger.entry(sequence)?.filter(|e| e.project == project) else { return Ok(true) };
    let Ok((_, payload)) = crate::log::open_entry(&entry) else { return Ok(false) };
    Ok(payload.body.committed().iter().any(|(_, c)| c == commitment))
}

/// A refusal for a bad signature or an unknown key, sent after [`Limits::unverified_refusal_delay`].
///
/// [`Limits::unverified_refusal_delay`]: crate::api::state::Limits::unverified_refusal_delay
async fn unverified_delay(state: &AppState, error: ApiError) -> ApiError {
    let unverified = [ProblemType::BadSignature, ProblemType::UnknownKey]
        .iter()
        .any(|kind| error.problem.problem_type.ends_with(kind.slug()));
    if unverified {
        hold(state).await;
    }
    error
}

/// Waits [`Limits::unverified_refusal_delay`] before an answer that cost the caller nothing.
///
/// [`Limits::unverified_refusal_delay`]: crate::api::state::Limits::unverified_refusal_delay
async fn hold(state: &AppState) {
    tokio::time::sleep(state.limits.unverified_refusal_delay).await;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBatch<'a> {
    #[serde(borrow)]
    envelopes: Vec<&'a RawValue>,
}

/// Append a batch of signed events atomically.
///
/// Either every event is appended or none is; a refusal names the position (`index`) of the
/// first bad envelope.
#[utoipa::path(post, path = "/v1/batches", tag = "append", request_body = BatchRequest, params(AppendQuery),
    responses(
        (status = 201, description = "Appended and durable", body = BatchResult),
        (status = 200, description = "Every event was already appended", body = BatchResult),
        AppendProblems,
    ))]
pub async fn append_batch(
    req: HttpRequest,
    body: web::Payload,
    query: Query<AppendQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let bytes = json_body(&req, body, state.limits.batch_body_bytes, &state).await?;
    let batch: RawBatch = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::new(ProblemType::InvalidBatch, format!("the batch must be {{\"envelopes\": [...]}}: {e}"))
                .field("envelopes")
        } else {
            malformed(e)
        }
    })?;
    if batch.envelopes.is_empty() {
        return Err(ApiError::new(ProblemType::EmptyBatch, "a batch holds at least one envelope").field("envelopes"));
    }
    if batch.envelopes.len() > state.limits.batch_events {
        return Err(ApiError::new(
            ProblemType::BatchTooLarge,
            format!(
                "a batch holds at most {} envelopes, this one has {}",
                state.limits.batch_events,
                batch.envelopes.len()
            ),
        )
        .field("envelopes"));
    }
    let raws = batch.envelopes.iter().map(|r| r.get().as_bytes().to_vec()).collect();
    submit(&state, raws, true, query.proof.unwrap_or(false)).await
}
