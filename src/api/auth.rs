//! The bearer-token extractor: who reads, and what the token lets it read.

use super::problem::{ApiError, ProblemType};
use super::state::AppState;
use crate::store::TokenRecord;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use std::future::{ready, Ready};

/// A valid bearer token and what it grants.
pub struct Reader(TokenRecord);

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
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("this endpoint needs an `Authorization: Bearer <token>` header"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
    state.tokens.check(token.trim()).map(Reader).map_err(|refused| unauthorized(&refused.to_string()))
}

impl Reader {
    fn forbidden(detail: String) -> ApiError {
        ApiError::new(ProblemType::Forbidden, detail)
    }
    pub fn project(&self, project: &str) -> Result<(), ApiError> {
        match &self.0.projects {
            Some(list) if !list.iter().any(|p| p == project) => {
                Err(Self::forbidden(format!("the token `{}` may not read project `{project}`", self.0.name)))
            }
            _ => Ok(()),
        }
    }
    pub fn everything(&self) -> Result<(), ApiError> {
        match self.0.projects {
            Some(_) => Err(Self::forbidden(format!(
                "the token `{}` is scoped to listed projects; this endpoint needs a token for every project",
                self.0.name
            ))),
            None => Ok(()),
        }
    }
    pub fn admin(&self) -> Result<(), ApiError> {
        if self.0.admin {
            Ok(())
        } else {
            Err(Self::forbidden(format!("the token `{}` is not an admin token", self.0.name)))
        }
    }
}
