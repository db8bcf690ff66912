//! The web UI under `/ui/`: server-rendered pages for producers — projects, a project's stages
//! and blockers, its assets, an asset's lineage and evidence, models, history. A read token is
//! exchanged once for a session cookie (HttpOnly, SameSite=Strict); every page then reads as that
//! token would through the API, with the same scope checks and the same queries. No page carries
//! a script; links to evidence, proofs and files go to the API, which takes the session on reads.

mod blockers;
mod facts;
mod html;
mod pages;
mod session;
mod svg;

use crate::api::auth::Reader;
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use std::future::{ready, Ready};

/// The formats a project page judges each candidate for, at most.
pub const MAX_FORMATS_JUDGED: usize = blockers::MAX_FORMATS;

/// Registers `/`, `/ui` and every page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(index)).route("/ui", web::get().to(|| async { see_other("/ui/") })).service(
        web::scope("/ui")
            // A query or path a page cannot read is answered as a page naming it.
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| UiError::from(ApiError::bad_query(format!("the page's query: {e}"))).into()),
            )
            .app_data(
                web::FormConfig::default()
                    .error_handler(|e, _| UiError::from(ApiError::bad_query(format!("the form: {e}"))).into()),
            )
            .route("/", web::get().to(pages::projects::page))
            .route("/style.css", web::get().to(style))
            .route("/sign-in", web::get().to(session::form))
            .route("/sign-in", web::post().to(session::sign_in))
            .route("/sign-out", web::post().to(session::sign_out))
            .route("/models", web::get().to(pages::models::page))
            .route("/projects/{project}", web::get().to(pages::project::page))
            .route("/projects/{project}/assets", web::get().to(pages::assets::page))
            .route("/projects/{project}/assets/{asset}", web::get().to(pages::asset::page))
            .route("/projects/{project}/history", web::get().to(pages::history::page))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(UiError::from(ApiError::not_found("no page here")))
            })),
    );
}

async fn index() -> HttpResponse {
    html::page(
        StatusCode::OK,
        "lineage",
        None,
        &[],
        "<p>A ledger of AI-assisted creative production.</p><ul>\
         <li><a href=\"/ui/\">The web UI</a>: projects, stages, assets, lineage, models, history.</li>\
         <li><a href=\"/docs/\">The REST API</a> (OpenAPI at <a href=\"/openapi.json\">/openapi.json</a>).</li></ul>",
    )
}

async fn style() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=300"))
        .body(html::STYLE)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

/// The reader a page is shown to: the session's token. Without a live session, the page is the
/// sign-in form.
pub struct Viewer {
    pub reader: Reader,
    pub token_name: String,
}

impl FromRequest for Viewer {
    type Error = UiError;
    type Future = Ready<Result<Viewer, UiError>>;
    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(viewer(req))
    }
}

fn viewer(req: &HttpRequest) -> Result<Viewer, UiError> {
    let state = req.app_data::<web::Data<AppState>>().expect("app state is registered");
    let sign_in = || UiError::SignIn { next: req.uri().path_and_query().map_or("/ui/", |p| p.as_str()).to_owned() };
    let reader = crate::api::bearer::of_session(req, state).flatten().ok_or_else(sign_in)?;
    Ok(Viewer { token_name: reader.name().to_owned(), reader })
}

impl Viewer {
    pub fn header<'a>(&'a self, here: &'a str) -> html::Header<'a> {
        html::Header { token: &self.token_name, here }
    }
}

/// Why a page is not shown: no session (the sign-in form, then back), or what the API would
/// answer, as a page.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("sign in first")]
    SignIn { next: String },
    #[error("{0}")]
    Api(ApiError),
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> UiError {
        UiError::Api(e)
    }
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        match self {
            UiError::SignIn { .. } => StatusCode::SEE_OTHER,
            UiError::Api(e) => e.status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            UiError::SignIn { next } => see_other(&format!("/ui/sign-in?next={}", html::enc(next))),
            UiError::Api(e) => {
                let body = format!(
                    "<div class=\"problem\"><p>{}</p><p class=\"sub\"><code>{}</code></p></div><p><a href=\"/ui/\">Back to the projects</a></p>",
                    html::esc(&e.problem.detail),
                    html::esc(&e.problem.problem_type)
                );
                html::page(e.status, &e.problem.title, None, &[], &body)
            }
        }
    }
}
