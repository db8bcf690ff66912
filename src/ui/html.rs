//! The pages' frame and the small pieces they are made of: escaping, times, chips, tables. Every
//! text that comes from the ledger goes through [`esc`]; the pages carry no script at all.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use std::fmt::Write as _;

pub use crate::outputs::verdict::escape as esc;

/// The style sheet every page links (`/ui/style.css`).
pub const STYLE: &str = include_str!("style.css");

/// Content-Security-Policy of every page: its own style sheet and images, nothing else, no
/// script, not framed.
const POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Who is signed in, shown in the header of every page.
pub struct Header<'a> {
    pub token: &'a str,
    /// The path of the page (the navigation marks where one is).
    pub here: &'a str,
}

/// A page: the frame, the header with the navigation, a breadcrumb trail and the body.
pub fn page(
    status: StatusCode,
    title: &str,
    header: Option<&Header<'_>>,
    crumbs: &[(&str, String)],
    body: &str,
) -> HttpResponse {
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} · lineage</title><link rel=\"stylesheet\" href=\"/ui/style.css\"></head><body>\n<header><a class=\"brand\" href=\"/ui/\">lineage</a>",
        esc(title)
    );
    if let Some(h) = header {
        let nav = [("/ui/", "Projects"), ("/ui/models", "Models")];
        for (href, label) in nav {
            let current = if h.here == href { " aria-current=\"page\"" } else { "" };
            let _ = write!(out, "<a href=\"{href}\"{current}>{label}</a>");
        }
        let _ = write!(
            out,
            "<span class=\"who\">signed in with <b>{}</b></span><form method=\"post\" action=\"/ui/sign-out\"><button>Sign out</button></form>",
            esc(h.token)
        );
    }
    out.push_str("</header>\n<main>");
    if !crumbs.is_empty() {
        out.push_str("<nav class=\"crumbs\">");
        for (label, href) in crumbs {
            let _ = write!(out, "<a href=\"{}\">{}</a> / ", esc(href), esc(label));
        }
        out.push_str("</nav>");
    }
    let _ = write!(out, "<h1>{}</h1>\n{body}</main></body></html>\n", esc(title));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", POLICY))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "same-origin"))
        .insert_header(("Cache-Control", "no-store"))
        .body(out)
}

/// A time as a producer reads it: `2026-11-27 10:15 UTC`.
pub fn when(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us).map_or_else(String::new, |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// A day: `Fri 27 Nov`.
pub fn day(date: chrono::NaiveDate) -> String {
    date.format("%a %-d %b").to_string()
}

/// A duration in days and hours, or minutes when shorter than an hour.
pub fn duration(us: i64) -> String {
    let minutes = us.max(0) / 60_000_000;
    match (minutes / 1440, (minutes % 1440) / 60) {
        (0, 0) => format!("{minutes} min"),
        (0, h) => format!("{h} h"),
        (d, 0) => format!("{d} d"),
        (d, h) => format!("{d} d {h} h"),
    }
}

/// A word in a coloured chip; `tone` is one of the style sheet's (`good`, `bad`, `warn`, `idle`,
/// `info`).
pub fn chip(tone: &str, text: &str) -> String {
    format!("<span class=\"chip {tone}\">{}</span>", esc(text))
}

/// A table: the header cells as given (plain text), each row's cells as HTML already made.
pub fn table(class: &str, head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = format!("<table class=\"{class}\"><thead><tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    let mut any = false;
    for row in rows {
        any = true;
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    if !any {
        let _ = write!(out, "<tr><td colspan=\"{}\" class=\"empty\">nothing yet</td></tr>", head.len());
    }
    out.push_str("</tbody></table>");
    out
}

/// A link, its text escaped.
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// A path segment or query value, percent-encoded.
pub fn enc(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

// Ids are letters, digits and `.`, `_`, `:`, `-` (`domain::ids`): they go into paths as they are.

/// The UI path of a project.
pub fn project_path(project: &str) -> String {
    format!("/ui/projects/{project}")
}

/// The UI path of an asset.
pub fn asset_path(project: &str, asset: &str) -> String {
    format!("/ui/projects/{project}/assets/{asset}")
}

/// The API path of an asset's resource (`file`, `evidence`, `c2pa`…), which a session may read.
pub fn api_asset_path(project: &str, asset: &str, what: &str) -> String {
    format!("/v1/projects/{project}/assets/{asset}/{what}")
}

/// Whether a browser shows images of this media type (a TIFF it does not).
pub fn browser_shows(media_type: &str) -> bool {
    matches!(media_type, "image/jpeg" | "image/png" | "image/webp" | "image/gif")
}
