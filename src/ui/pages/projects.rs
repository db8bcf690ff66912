//! The projects the session's token may read: title, client, content type, the six stages,
//! last activity and what blocks delivery — most recently active first.

use super::{read, stage_name, state_chip, Names};
use crate::api::problem::ApiError;
use crate::api::routes::projections::with_project;
use crate::api::state::AppState;
use crate::domain::ProjectId;
use crate::ui::blockers::{self, Candidate};
use crate::ui::facts::ProjectFacts;
use crate::ui::html::{self, chip, esc, link, table};
use crate::ui::{UiError, Viewer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// Projects per page.
const PER_PAGE: usize = 25;

#[derive(Deserialize)]
pub struct Paging {
    page: Option<usize>,
}

struct Row {
    project: ProjectId,
    facts: ProjectFacts,
    stages: Vec<crate::projections::stages::StageInfo>,
    candidates: Vec<Candidate>,
    total: usize,
}

pub async fn page(
    viewer: Viewer,
    query: web::Query<Paging>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let mut listed: Vec<(ProjectId, i64)> =
        state.ledger.with_catalogue(|c| c.iter().map(|(id, l)| (id.clone(), l.last_received_us)).collect());
    listed.retain(|(id, _)| viewer.reader.may_read(&state.ledger, id.as_str()));
    listed.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let count = listed.len();
    let page = query.page.unwrap_or(1).clamp(1, super::MAX_PAGE);
    let shown: Vec<ProjectId> =
        listed.into_iter().skip((page - 1) * PER_PAGE).take(PER_PAGE).map(|(id, _)| id).collect();
    let (rows, names) = read(&state, move |shared| {
        let mut rows = Vec::with_capacity(shown.len());
        // One budget of work for every project the page judges.
        let mut budget = blockers::Budget::default();
        for project in shown {
            let facts = super::facts_of(shared, &project)?;
            let (stages, (candidates, total)) = with_project(shared, &project, None, |p, at| {
                (
                    p.stage_view(at.events),
                    blockers::judge(p, &project, &facts, blockers::LISTED_CANDIDATES, &mut budget),
                )
            })?;
            rows.push(Row { project, facts, stages, candidates, total });
        }
        let orgs: Vec<String> = rows.iter().filter_map(|r| r.facts.client_organization.clone()).collect();
        let names = Names::of(shared, [], orgs.iter().map(String::as_str));
        Ok::<_, ApiError>((rows, names))
    })
    .await?;
    let table = table(
        "projects",
        &["Project", "Client", "Type", "Stages", "Last activity", "What blocks delivery"],
        rows.iter().map(|r| row(r, &names)),
    );
    let mut body = format!("<p class=\"sub\">{count} project(s) this token may read.</p>{table}");
    if count > page * PER_PAGE {
        body.push_str(&format!("<p class=\"pager\"><a href=\"/ui/?page={}\">Next page →</a></p>", page + 1));
    }
    Ok(html::page(StatusCode::OK, "Projects", Some(&viewer.header("/ui/")), &[], &body))
}

fn row(r: &Row, names: &Names) -> Vec<String> {
    let id = r.project.as_str();
    let title = if r.facts.title.is_empty() { id } else { &r.facts.title };
    let client = match (&r.facts.client_name, &r.facts.client_organization) {
        (_, Some(org)) => esc(names.organization(org)),
        (Some(name), None) => esc(name),
        (None, None) => "—".to_owned(),
    };
    let stages: String = r
        .stages
        .iter()
        .map(|s| {
            let (tone, words) = state_chip(s.state);
            chip(tone, &format!("{}: {words}", stage_name(s.stage)))
        })
        .collect();
    vec![
        format!("{}<br><code>{}</code>", link(&html::project_path(id), title), esc(id)),
        client,
        esc(&r.facts.content_type.map(|c| crate::domain::event::wire_name(&c)).unwrap_or_default()),
        stages,
        esc(&html::when(r.facts.last_activity_us)),
        blocking(&r.candidates, r.total),
    ]
}

/// The candidates for delivery in a few words: how many are ready some way, and the rules that
/// block the others.
pub fn blocking(candidates: &[Candidate], total: usize) -> String {
    if total == 0 {
        return chip("idle", "nothing selected or approved yet");
    }
    let ready = candidates.iter().filter(|c| c.ready_somewhere()).count();
    let unjudged = candidates.iter().filter(|c| c.unjudged && !c.ready_somewhere()).count();
    let mut out =
        chip(if ready == candidates.len() { "good" } else { "warn" }, &format!("{ready} of {total} ready to deliver"));
    let mut rules: Vec<&str> = candidates
        .iter()
        .filter(|c| !c.ready_somewhere() && !c.unjudged)
        .flat_map(|c| c.ways.iter().filter_map(|(_, _, f)| f.as_ref().map(|(rule, _)| rule.as_str())))
        .collect();
    rules.sort();
    rules.dedup();
    for rule in rules {
        out.push_str(&chip("bad", rule));
    }
    if unjudged > 0 {
        out.push_str(&chip("idle", &format!("{unjudged} not judged here")));
    }
    out
}
