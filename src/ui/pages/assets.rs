//! A project's assets as a grid: the image where the server holds its bytes, how it was made,
//! its AI disclosure, QC and approval state, delivered or not.

use super::{read, readable};
use crate::api::problem::ApiError;
use crate::api::routes::projections::with_project;
use crate::api::state::AppState;
use crate::domain::source_type::SourceType;
use crate::domain::{Changes, Id, NoEvents, View};
use crate::ui::facts::Asset;
use crate::ui::html::{self, chip, esc, link};
use crate::ui::{UiError, Viewer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use std::fmt::Write as _;

const PER_PAGE: usize = 60;

#[derive(Deserialize)]
pub struct Filter {
    /// `all` (default), `selected`, `approved`, `delivered`, `rejected`, `failed-qc`.
    show: Option<String>,
    page: Option<usize>,
}

const SHOWS: [(&str, &str); 6] = [
    ("all", "All"),
    ("selected", "Selected"),
    ("approved", "Approved"),
    ("delivered", "Delivered"),
    ("rejected", "Rejected"),
    ("failed-qc", "Failed QC"),
];

fn shown(show: &str, a: &Asset) -> bool {
    match show {
        "selected" => a.selected,
        "approved" => {
            a.approvals.iter().any(|p| !p.retracted && p.decision == crate::domain::event::Decision::Approved)
        }
        "delivered" => !a.delivered_as.is_empty() || a.master.is_some(),
        "rejected" => a.rejected,
        "failed-qc" => a.reviews.iter().any(|r| !r.retracted && !r.passed),
        _ => true,
    }
}

struct Card {
    asset: Asset,
    term: Option<SourceType>,
    has_file: bool,
}

pub async fn page(
    viewer: Viewer,
    path: web::Path<String>,
    query: web::Query<Filter>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let project = readable(&viewer, &state, &path)?;
    let id = project.to_string();
    let show = query.show.clone().filter(|s| SHOWS.iter().any(|(k, _)| k == s)).unwrap_or_else(|| "all".to_owned());
    let page = query.page.unwrap_or(1).clamp(1, super::MAX_PAGE);
    let filter = show.clone();
    let (title, cards, count) = read(&state, move |shared| {
        let facts = super::facts_of(shared, &project)?;
        let matching: Vec<Asset> = facts.assets.iter().filter(|a| shown(&filter, a)).cloned().collect();
        let count = matching.len();
        let page_of: Vec<Asset> = matching.into_iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).collect();
        let terms = with_project(shared, &project, None, |p, _| {
            let changes = Changes::default();
            let view = View { base: &p.rules, changes: &changes, events: &NoEvents };
            page_of
                .iter()
                .map(|asset| Id::parse(&asset.id).ok().and_then(|i| view.asset(&project, &i)).map(|r| r.term))
                .collect::<Vec<_>>()
        })?;
        // The files are looked for after the projection is let go.
        let cards: Vec<Card> = page_of
            .into_iter()
            .zip(terms)
            .map(|(asset, term)| {
                let digest = crate::domain::Digest::parse(&asset.digest).map(|d| d.bytes());
                let has_file = digest.is_ok_and(|d| shared.files.has(project.as_str(), &d));
                Card { asset, term, has_file }
            })
            .collect();
        Ok::<_, ApiError>((facts.title, cards, count))
    })
    .await?;
    let base = html::project_path(&id);
    let mut body = String::from("<p class=\"sub\">");
    for (key, label) in SHOWS {
        if key == show {
            let _ = write!(body, "<b>{label}</b> · ");
        } else {
            let _ = write!(body, "<a href=\"{base}/assets?show={key}\">{label}</a> · ");
        }
    }
    let _ = write!(body, "{count} asset(s)</p><div class=\"grid\">");
    for card in &cards {
        body.push_str(&render(&id, card));
    }
    body.push_str("</div>");
    if count > page * PER_PAGE {
        let _ = write!(
            body,
            "<p class=\"pager\"><a href=\"{base}/assets?show={show}&amp;page={}\">Next page →</a></p>",
            page + 1
        );
    }
    let title = if title.is_empty() { id.clone() } else { title };
    let crumbs = [("Projects", "/ui/".to_owned()), (title.as_str(), base.clone())];
    Ok(html::page(StatusCode::OK, "Assets", Some(&viewer.header("")), &crumbs, &body))
}

fn render(project: &str, card: &Card) -> String {
    let a = &card.asset;
    let file = html::api_asset_path(project, &a.id, "file");
    let thumb = match (card.has_file, html::browser_shows(&a.media_type)) {
        (true, true) => format!("<img src=\"{}\" alt=\"{}\" loading=\"lazy\">", esc(&file), esc(&a.id)),
        (true, false) => format!("{} (no preview): {}", esc(&a.media_type), link(&file, "download")),
        (false, _) => "no file on the server".to_owned(),
    };
    let mut chips = String::new();
    match card.term {
        Some(t) if t.is_synthetic() => chips.push_str(&chip("warn", &format!("AI: {}", t.term()))),
        Some(t) => chips.push_str(&chip("info", t.term())),
        None => {}
    }
    let reviews: Vec<_> = a.reviews.iter().filter(|r| !r.retracted).collect();
    match reviews.last() {
        Some(r) if r.passed => {
            chips.push_str(&chip("good", if r.large_format { "QC pass (large format)" } else { "QC pass" }))
        }
        Some(r) => chips.push_str(&chip("bad", if r.large_format { "QC fail (large format)" } else { "QC fail" })),
        None => {}
    }
    for p in a.approvals.iter().filter(|p| !p.retracted) {
        let (tone, word) = match p.decision {
            crate::domain::event::Decision::Approved => ("good", "approved"),
            crate::domain::event::Decision::ChangesRequested => ("warn", "changes requested"),
            crate::domain::event::Decision::Rejected => ("bad", "rejected"),
        };
        chips.push_str(&chip(tone, word));
    }
    if a.selected {
        chips.push_str(&chip("info", "selected"));
    }
    if a.rejected {
        chips.push_str(&chip("bad", "not selected"));
    }
    if !a.delivered_as.is_empty() {
        chips.push_str(&chip("good", &format!("delivered ×{}", a.delivered_as.len())));
    }
    if let Some(master) = &a.master {
        chips.push_str(&chip("good", &format!("delivery of {master}")));
    }
    if a.retracted {
        chips.push_str(&chip("idle", "retracted"));
    }
    let model = a.model_version.as_deref().map_or_else(String::new, |m| format!(" · {}", esc(m)));
    format!(
        "<div class=\"card{}\"><div class=\"thumb\">{thumb}</div><div class=\"body\"><div class=\"title\">{}</div>\
         <div class=\"sub\">{}{model}</div><div>{chips}</div></div></div>",
        if a.retracted { " retracted" } else { "" },
        link(&html::asset_path(project, &a.id), &a.id),
        esc(a.made_by),
    )
}
