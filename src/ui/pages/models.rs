//! Which model serves a project: per model version and pipeline, its generations, how many of
//! their outputs were selected, how QC judged what came of them (failures by check), approvals
//! and deliveries — for one project or every project the token reads, two versions side by side.

use super::read;
use crate::api::problem::ApiError;
use crate::api::state::AppState;
use crate::domain::event::{Decision, QcCheck};
use crate::domain::ProjectId;
use crate::ui::facts::ProjectFacts;
use crate::ui::html::{self, esc, table};
use crate::ui::{UiError, Viewer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// At most this many projects are read for the overall figures.
const MAX_PROJECTS: usize = 200;

#[derive(Deserialize)]
pub struct Scope {
    project: Option<String>,
    a: Option<String>,
    b: Option<String>,
}

#[derive(Default, Clone)]
struct Figures {
    generations: BTreeSet<(String, u64)>,
    outputs: u64,
    selected: u64,
    rejected: u64,
    reviews: u64,
    failed_reviews: u64,
    failed_checks: BTreeMap<QcCheck, u64>,
    approvals: u64,
    deliveries: u64,
    projects: BTreeSet<String>,
}

impl Figures {
    fn rate(part: u64, whole: u64) -> String {
        if whole == 0 {
            "—".to_owned()
        } else {
            format!("{:.0}%", part as f64 * 100.0 / whole as f64)
        }
    }

    fn cells(&self) -> Vec<String> {
        let checks: Vec<String> = self
            .failed_checks
            .iter()
            .map(|(c, n)| format!("{} {n}", crate::domain::event::wire_name(c).replace('_', " ")))
            .collect();
        vec![
            self.generations.len().to_string(),
            self.outputs.to_string(),
            Figures::rate(self.selected, self.outputs),
            self.reviews.to_string(),
            Figures::rate(self.failed_reviews, self.reviews),
            esc(&checks.join(", ")),
            self.approvals.to_string(),
            self.deliveries.to_string(),
            self.projects.len().to_string(),
        ]
    }
}

const HEAD: [&str; 11] = [
    "Model version",
    "Pipeline",
    "Generations",
    "Outputs",
    "Selected",
    "QC reviews",
    "QC failed",
    "Failures by check",
    "Approvals",
    "Deliveries",
    "Projects",
];

type Key = (String, String);

fn tally(facts: &ProjectFacts, project: &str, rows: &mut BTreeMap<Key, Figures>, names: &mut BTreeMap<String, String>) {
    names.extend(facts.models.iter().map(|(k, v)| (k.clone(), v.clone())));
    for a in facts.assets.iter().filter(|a| !a.retracted) {
        let Some(model) = &a.model_version else { continue };
        let f = rows.entry((model.clone(), a.pipeline.clone().unwrap_or_default())).or_default();
        f.projects.insert(project.to_owned());
        if a.made_by == "generation" {
            f.generations.insert((project.to_owned(), a.sequence));
            f.outputs += 1;
            f.selected += u64::from(a.selected);
            f.rejected += u64::from(a.rejected);
        }
        if a.master.is_some() {
            f.deliveries += 1;
        }
        for r in a.reviews.iter().filter(|r| !r.retracted) {
            f.reviews += 1;
            f.failed_reviews += u64::from(!r.passed);
            for c in &r.failed {
                *f.failed_checks.entry(*c).or_default() += 1;
            }
        }
        f.approvals += a.approvals.iter().filter(|p| !p.retracted && p.decision == Decision::Approved).count() as u64;
    }
}

pub async fn page(
    viewer: Viewer,
    query: web::Query<Scope>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let readable: Vec<ProjectId> = state.ledger.with_catalogue(|c| c.keys().cloned().collect());
    let readable: Vec<ProjectId> =
        readable.into_iter().filter(|p| viewer.reader.may_read(&state.ledger, p.as_str())).collect();
    let chosen = match query.project.as_deref().filter(|p| !p.is_empty()) {
        Some(raw) => Some(super::readable(&viewer, &state, raw)?),
        None => None,
    };
    let scope: Vec<ProjectId> =
        chosen.clone().map_or_else(|| readable.iter().take(MAX_PROJECTS).cloned().collect(), |p| vec![p]);
    let (rows, names) = read(&state, move |shared| {
        let mut rows = BTreeMap::new();
        let mut names = BTreeMap::new();
        for project in &scope {
            tally(&super::facts_of(shared, project)?, project.as_str(), &mut rows, &mut names);
        }
        Ok::<_, ApiError>((rows, names))
    })
    .await?;
    let mut body = scope_form(&readable, chosen.as_ref(), &rows, &query);
    if chosen.is_none() && readable.len() > MAX_PROJECTS {
        let _ = write!(body, "<p class=\"sub\">Overall figures over the {MAX_PROJECTS} first projects.</p>");
    }
    let label = |m: &str| names.get(m).map_or_else(|| esc(m), |n| format!("{}<br><code>{}</code>", esc(n), esc(m)));
    body.push_str(&table(
        "models",
        &HEAD,
        rows.iter().map(|((m, p), f)| {
            let mut cells = vec![label(m), esc(if p.is_empty() { "—" } else { p })];
            cells.extend(f.cells());
            cells
        }),
    ));
    if let (Some(a), Some(b)) = (query.a.as_deref(), query.b.as_deref()) {
        body.push_str(&side_by_side(&rows, a, b, &label));
    }
    Ok(html::page(StatusCode::OK, "Models", Some(&viewer.header("/ui/models")), &[], &body))
}

fn scope_form(readable: &[ProjectId], chosen: Option<&ProjectId>, rows: &BTreeMap<Key, Figures>, q: &Scope) -> String {
    let mut out = String::from("<form class=\"filters\" method=\"get\" action=\"/ui/models\"><label>Project<select name=\"project\"><option value=\"\">every project</option>");
    for p in readable.iter().take(MAX_PROJECTS) {
        let selected = if chosen == Some(p) { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{0}\"{selected}>{0}</option>", esc(p.as_str()));
    }
    out.push_str("</select></label>");
    let versions: BTreeSet<&str> = rows.keys().map(|(m, _)| m.as_str()).collect();
    for (field, current) in [("a", q.a.as_deref()), ("b", q.b.as_deref())] {
        let _ = write!(out, "<label>Compare {field}<select name=\"{field}\"><option value=\"\">—</option>");
        for v in &versions {
            let selected = if current == Some(*v) { " selected" } else { "" };
            let _ = write!(out, "<option value=\"{0}\"{selected}>{0}</option>", esc(v));
        }
        out.push_str("</select></label>");
    }
    out.push_str("<button type=\"submit\">Show</button></form>");
    out
}

/// Two model versions' figures (every pipeline of each summed), one column each.
fn side_by_side(rows: &BTreeMap<Key, Figures>, a: &str, b: &str, label: &dyn Fn(&str) -> String) -> String {
    let sum = |m: &str| {
        let mut total = Figures::default();
        for ((model, _), f) in rows.iter().filter(|((model, _), _)| model == m) {
            let _ = model;
            total.generations.extend(f.generations.iter().cloned());
            total.outputs += f.outputs;
            total.selected += f.selected;
            total.rejected += f.rejected;
            total.reviews += f.reviews;
            total.failed_reviews += f.failed_reviews;
            for (c, n) in &f.failed_checks {
                *total.failed_checks.entry(*c).or_default() += n;
            }
            total.approvals += f.approvals;
            total.deliveries += f.deliveries;
            total.projects.extend(f.projects.iter().cloned());
        }
        total.cells()
    };
    let (left, right) = (sum(a), sum(b));
    let mut out = String::from("<h2>Side by side</h2>");
    out.push_str(&table(
        "compare",
        &["", "A", "B"],
        std::iter::once(vec!["Model version".to_owned(), label(a), label(b)])
            .chain(HEAD[2..].iter().zip(left.into_iter().zip(right)).map(|(h, (l, r))| vec![esc(h), l, r])),
    ));
    out
}
