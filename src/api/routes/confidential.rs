//! The clear texts of confidential fields (`docs/confidential.md`): given once an entry holding
//! their commitment is in the log, read by tokens granted them, erased by a
//! `confidential_erased` event (see [`super::append`]).

use crate::api::auth::Reader;
use crate::api::extract::{json_body, malformed, parse_project};
use crate::api::problem::{ApiError, ProblemType};
use crate::api::responses::{ConfidentialProblems, KeepConfidentialProblems};
use crate::api::state::AppState;
use crate::domain::confidential::commitment_of;
use crate::domain::Digest;
use crate::store::confidential::Held;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

/// A confidential field's clear text, for the entry that committed to it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfidentialText {
    /// The entry whose payload holds the commitment.
    pub sequence: u64,
    /// Where in the payload, as a JSON Pointer (RFC 6901): `/body/text`, `/body/talent/0`.
    pub field: String,
    /// The 32-byte salt, hex.
    pub salt: String,
    pub text: String,
}

/// A clear text as kept.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct KeptText {
    pub commitment: String,
    /// The salt, hex.
    pub salt: String,
    pub text: String,
}

fn invalid(field: &str, detail: String) -> ApiError {
    ApiError::new(ProblemType::InvalidConfidentialText, detail).field(field)
}

/// Keep the clear text of a confidential field of an entry (a token that reads the project).
///
/// The text is kept apart from the log, only if it and the salt hash to the commitment the
/// entry's payload holds at `field`: 201 when kept, 200 when it was already.
#[utoipa::path(put, path = "/v1/projects/{project}/confidential", tag = "confidential",
    params(("project" = String, Path)), request_body = ConfidentialText, security(("bearer" = [])),
    responses((status = 201, body = KeptText), (status = 200, body = KeptText), KeepConfidentialProblems))]
pub async fn keep_confidential(
    reader: Reader,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = parse_project(&path.into_inner())?;
    reader.project(&state.ledger, project.as_str())?;
    let bytes = json_body(&req, body, state.limits.body_bytes, &state).await?;
    let given: ConfidentialText = serde_json::from_slice(&bytes).map_err(|e| {
        if e.is_data() {
            ApiError::new(ProblemType::BadRequest, format!("the body must be {{sequence, field, salt, text}}: {e}"))
        } else {
            malformed(e)
        }
    })?;
    let missing = || ApiError::not_found(format!("project `{project}` has no entry {}", given.sequence));
    let entry = state.ledger.entry(given.sequence)?.filter(|e| e.project == project.as_str()).ok_or_else(missing)?;
    let unreadable =
        |e: String| ApiError::new(ProblemType::Internal, format!("entry {} is unreadable: {e}", entry.sequence));
    let (_, payload) = crate::log::open_entry(&entry).map_err(|e| unreadable(e.to_string()))?;
    let fields = payload.body.committed();
    let Some((_, commitment)) = fields.into_iter().find(|(field, _)| *field == given.field) else {
        let shown: String = given.field.chars().take(100).collect();
        return Err(invalid(
            "field",
            format!(
                "entry {} holds no committed confidential field at `{shown}` (a prompt's /body/text and /body/negative_prompt, a brief's /body/text and /body/talent/N)",
                given.sequence
            ),
        ));
    };
    crate::domain::confidential::check_clear_text(&given.text).map_err(|e| invalid("text", e.to_string()))?;
    let salt: [u8; 32] = hex::decode(&given.salt)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("salt", "`salt` must be 32 bytes in hex (64 digits)".into()))?;
    if commitment_of(project.as_str(), &salt, &given.text) != commitment {
        return Err(invalid(
            "text",
            format!("the text and salt do not hash to the commitment {commitment} at `{}`", given.field),
        ));
    }
    let kept = KeptText { commitment: commitment.to_string(), salt: given.salt, text: given.text };
    let store = state.confidential.clone();
    let project_id = project.to_string();
    let text = kept.text.clone();
    let answer = state
        .reads
        .run(move || match store.held(&project_id, &commitment)? {
            Held::Erased => Ok(None),
            Held::Kept(_) => Ok(Some(false)),
            Held::Missing => {
                store.keep(&project_id, &commitment, &salt, &text).map(|()| Some(true)).map_err(Into::into)
            }
        })
        .await?;
    match answer {
        None => Err(erased(&kept.commitment)),
        Some(true) => Ok(HttpResponse::Created().json(kept)),
        Some(false) => Ok(HttpResponse::Ok().json(kept)),
    }
}

fn erased(commitment: &str) -> ApiError {
    ApiError::new(
        ProblemType::Erased,
        format!("the clear text of {commitment} was erased (a `confidential_erased` event): it is kept no more, and never again"),
    )
}

/// The clear text of a commitment (a token granted confidential texts of the project).
#[utoipa::path(get, path = "/v1/projects/{project}/confidential/{commitment}", tag = "confidential",
    params(("project" = String, Path), ("commitment" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = KeptText), ConfidentialProblems))]
pub async fn confidential(
    reader: Reader,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, commitment) = path.into_inner();
    let project = parse_project(&project)?;
    reader.confidential(&state.ledger, project.as_str())?;
    let commitment = Digest::parse(&commitment)
        .map_err(|e| ApiError::new(ProblemType::InvalidPath, format!("`{commitment}` is not a commitment: {e}")))?;
    match state.confidential.held(project.as_str(), &commitment)? {
        Held::Kept(kept) => Ok(HttpResponse::Ok().json(KeptText {
            commitment: commitment.to_string(),
            salt: kept.salt,
            text: kept.text,
        })),
        Held::Erased => Err(erased(commitment.as_str())),
        Held::Missing => Err(ApiError::not_found(format!("project `{project}` keeps no clear text of {commitment}"))),
    }
}
