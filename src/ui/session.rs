//! Signing in and out: a read token, typed once into a form, becomes a session cookie.

use super::html;
use crate::api::sessions::{COOKIE, LIFETIME_SECS};
use crate::api::state::AppState;
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
    next: Option<String>,
}

/// Where to go after signing in: a page of the UI, never elsewhere.
fn destination(next: Option<&str>) -> &str {
    match next {
        // A path of the UI, in printable ASCII without spaces: nothing a header may not hold,
        // nothing a browser reads as another host.
        Some(n)
            if n.starts_with("/ui/")
                && !n.starts_with("/ui//")
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/ui/",
    }
}

pub async fn form(query: web::Query<Next>) -> HttpResponse {
    sign_in_page(StatusCode::OK, destination(query.next.as_deref()), None)
}

fn sign_in_page(status: StatusCode, next: &str, problem: Option<&str>) -> HttpResponse {
    let problem = problem.map_or_else(String::new, |p| format!("<p class=\"problem\">{}</p>", html::esc(p)));
    let body = format!(
        "{problem}<form class=\"signin\" method=\"post\" action=\"/ui/sign-in\">\
         <p>Paste a read token: <code>data/admin.token</code> on the server's machine, or one issued with \
         <code>lineage token issue</code>. You will see what the token may read, nothing more.</p>\
         <label for=\"token\">Read token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required>\
         <input type=\"hidden\" name=\"next\" value=\"{}\"><button type=\"submit\">Sign in</button></form>",
        html::esc(next)
    );
    html::page(status, "Sign in", None, &[], &body)
}

pub async fn sign_in(req: HttpRequest, form: web::Form<SignIn>, state: web::Data<AppState>) -> HttpResponse {
    let next = destination(form.next.as_deref()).to_owned();
    let token = form.token.trim();
    let record = match state.tokens.check(token) {
        Ok(record) => record,
        Err(refused) => return sign_in_page(StatusCode::UNAUTHORIZED, &next, Some(&refused.to_string())),
    };
    let id = state.sessions.open(crate::api::tokens::hash(token), record.expires_at_us);
    let secure = req.connection_info().scheme() == "https";
    let cookie = Cookie::build(COOKIE, id)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(Duration::seconds(LIFETIME_SECS))
        .finish();
    HttpResponse::SeeOther().insert_header((header::LOCATION, next)).cookie(cookie).finish()
}

pub async fn sign_out(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    // Only a request that carries the session (the cookie is SameSite=Strict: never one another
    // site sends) ends it: a form elsewhere cannot sign anyone out.
    let Some(cookie) = req.cookie(COOKIE) else {
        return HttpResponse::SeeOther().insert_header((header::LOCATION, "/ui/")).finish();
    };
    state.sessions.close(cookie.value());
    let mut gone = Cookie::build(COOKIE, "").path("/").http_only(true).same_site(SameSite::Strict).finish();
    gone.make_removal();
    HttpResponse::SeeOther().insert_header((header::LOCATION, "/ui/sign-in")).cookie(gone).finish()
}
