//! The bearer-token extractor: a request's `Authorization: Bearer` token, or on reads a web UI
//! session standing for one, as a [`Reader`].

use super::auth::Reader;
use super::problem::{ApiError, ProblemType};
use super::state::AppState;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

impl FromRequest for Reader {
    type Error = ApiError;
    type Future = Ready<Result<Reader, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Reader, ApiError> {
    let unauthorized = |detail: &str| ApiError::new(ProblemType::Unauthorized, detail);
    let state = req.app_data::<web::Data<AppState>>().expect("app state is registered");
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return session(req, state)
            .ok_or_else(|| unauthorized("this endpoint needs an `Authorization: Bearer <token>` header"))?;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let hash = crate::api::tokens::hash(token.trim());
    state
        .tokens
        .check_hash(&hash)
        .map(|grant| Reader::of_grant(grant, hash))
        .map_err(|refused| unauthorized(&refused.to_string()))
}

/// The reader a browser session stands for: only on reads (`GET`), so that a session cookie
/// never authorises a change, whatever page sends it.
fn session(req: &HttpRequest, state: &AppState) -> Option<Result<Reader, ApiError>> {
    if *req.method() != actix_web::http::Method::GET {
        return None;
    }
    let refused = || ApiError::new(ProblemType::Unauthorized, "the session has ended: sign in again at /ui/sign-in");
    Some(of_session(req, state)?.ok_or_else(refused))
}

/// The reader of the request's session cookie: `None` without one, `Some(None)` for one that
/// ended (closed, expired, or its token revoked or expired). What the API and the pages share.
pub fn of_session(req: &HttpRequest, state: &AppState) -> Option<Option<Reader>> {
    let cookie = req.cookie(super::sessions::COOKIE)?;
    let token = state.sessions.token_of(cookie.value());
    Some(token.and_then(|token| Some(Reader::of_grant(state.tokens.check_hash(&token).ok()?, token))))
}
