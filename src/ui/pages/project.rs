//! A project: its stages as a board over time (state, overlap, reopenings, durations, activity
//! by day), what blocks delivery (every candidate against the briefs' formats and each medium,
//! by the rules in force), approval drift and who works on it.

use super::{read, readable, stage_name, state_chip, Names};
use crate::api::problem::ApiError;
use crate::api::routes::projections::with_project;
use crate::domain::event::Stage;
use crate::domain::policy;
use crate::domain::{Changes, NoEvents, View};
use crate::projections::stages::{StageInfo, STAGES};
use crate::ui::blockers::{self, medium_name, Candidate};
use crate::ui::facts::ProjectFacts;
use crate::ui::html::{self, chip, esc, link, table};
use crate::ui::svg::{self, StageEvent};
use crate::ui::{UiError, Viewer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use std::collections::BTreeMap;
use std::fmt::Write as _;

struct Board {
    facts: ProjectFacts,
    stages: Vec<StageInfo>,
    events: Vec<StageEvent>,
    candidates: Vec<Candidate>,
    total: usize,
    drift: Vec<String>,
    members: Vec<(String, String)>,
    rule_set: String,
    names: Names,
}

pub async fn page(
    viewer: Viewer,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let project = readable(&viewer, &state, &path)?;
    let id = project.to_string();
    let board = read(&state, move |shared| {
        let facts = super::facts_of(shared, &project)?;
        let board = with_project(shared, &project, None, |p, at| {
            let metas = &p.events[..at.events];
            let events = metas
                .iter()
                .filter(|m| !m.retracted_within(at.events))
                .filter_map(|m| Some(StageEvent { stage: m.stage?, at_us: m.occurred_at_us, mark: m.mark }))
                .collect();
            let (candidates, total) =
                blockers::judge(p, &project, &facts, blockers::MAX_CANDIDATES, &mut blockers::Budget::default());
            let changes = Changes::default();
            let view = View { base: &p.rules, changes: &changes, events: &NoEvents };
            let drift = policy::approval_drift(&view, &project)
                .iter()
                .map(|d| {
                    format!(
                        "{}'s approval {} of {} was superseded by {} (edit {})",
                        d.role.map_or("someone", |r| r.as_str()),
                        d.approval,
                        d.asset,
                        d.superseded_by,
                        d.edit
                    )
                })
                .collect();
            let members: Vec<(String, String)> =
                view.members(&project).into_iter().map(|(a, r)| (a.to_string(), r.as_str().to_owned())).collect();
            let rule_set =
                policy::policy_of(&view, &project).map_or_else(|| policy::LEGACY_RULE_SET.to_owned(), |p| p.rule_set);
            (p.stage_view(at.events), events, candidates, total, drift, members, rule_set)
        })?;
        let (stages, events, candidates, total, drift, members, rule_set) = board;
        let orgs: Vec<String> = facts.client_organization.iter().cloned().collect();
        let names = Names::of(shared, members.iter().map(|(a, _)| a.as_str()), orgs.iter().map(String::as_str));
        Ok::<_, ApiError>(Board { facts, stages, events, candidates, total, drift, members, rule_set, names })
    })
    .await?;
    let title = if board.facts.title.is_empty() { id.clone() } else { board.facts.title.clone() };
    let body = render(&id, &board);
    Ok(html::page(StatusCode::OK, &title, Some(&viewer.header("")), &[("Projects", "/ui/".to_owned())], &body))
}

use crate::api::state::AppState;

fn render(id: &str, b: &Board) -> String {
    let base = html::project_path(id);
    let mut out = format!(
        "<p class=\"sub\"><code>{}</code> · {} · {} · <a href=\"{base}/assets\">Assets</a> · <a href=\"{base}/history\">History</a> · <a href=\"/ui/models?project={}\">Models</a></p>",
        esc(id),
        esc(&b.facts.content_type.map(|c| crate::domain::event::wire_name(&c)).unwrap_or_default()),
        esc(&b.rule_set),
        html::enc(id)
    );
    out.push_str("<dl class=\"facts\">");
    let client = b
        .facts
        .client_organization
        .as_deref()
        .map(|o| b.names.organization(o).to_owned())
        .or(b.facts.client_name.clone());
    let _ = write!(out, "<dt>Client</dt><dd>{}</dd>", esc(client.as_deref().unwrap_or("—")));
    // A list is shown up to 20 items (a brief may name thousands).
    let some = |items: &[String]| {
        let shown: Vec<&str> = items.iter().take(20).map(String::as_str).collect();
        let more = items.len().saturating_sub(20);
        if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        }
    };
    for brief in b.facts.briefs.iter().take(20) {
        let _ = write!(
            out,
            "<dt>Brief</dt><dd>{} — formats {}, channels {}</dd>",
            esc(&brief.title),
            esc(&some(&brief.formats)),
            esc(&some(&brief.channels))
        );
    }
    let _ = write!(
        out,
        "<dt>Entries</dt><dd>{}</dd><dt>Last activity</dt><dd>{}</dd></dl>",
        b.facts.events,
        html::when(b.facts.last_activity_us)
    );
    out.push_str("<h2>Stages over time</h2><div class=\"svgbox\">");
    out.push_str(&svg::stage_board(&b.events));
    out.push_str("</div>");
    let open: Vec<&str> = crate::projections::stages::overlapping(&b.stages).into_iter().map(stage_name).collect();
    if open.len() > 1 {
        let _ = write!(out, "<p>Open at the same time: {}.</p>", esc(&open.join(", ")));
    }
    out.push_str(&stage_table(&b.stages));
    out.push_str("<h2>Activity by day</h2>");
    out.push_str(&activity(&b.events));
    let _ = write!(
        out,
        "<h2>What blocks delivery</h2><p class=\"sub\">{} Each selected or approved asset, judged for the briefs' first {} formats in each medium.</p>",
        super::projects::blocking(&b.candidates, b.total),
        crate::ui::blockers::MAX_FORMATS
    );
    out.push_str(&blocker_table(id, &b.candidates));
    if b.total > b.candidates.len() {
        let _ =
            write!(out, "<p class=\"sub\">and {} more candidates not judged here.</p>", b.total - b.candidates.len());
    }
    out.push_str("<h2>Approval drift</h2>");
    if b.drift.is_empty() {
        out.push_str("<p class=\"sub\">No standing approval was superseded by a later edit.</p>");
    } else {
        out.push_str("<ul>");
        for d in &b.drift {
            let _ = write!(out, "<li>{}</li>", esc(d));
        }
        out.push_str("</ul>");
    }
    out.push_str("<h2>People</h2>");
    out.push_str(&table(
        "members",
        &["Name", "Project role"],
        b.members.iter().map(|(a, r)| {
            vec![format!("{} <code>{}</code>", esc(b.names.actor(a)), esc(a)), esc(&r.replace('_', " "))]
        }),
    ));
    out
}

fn stage_table(stages: &[StageInfo]) -> String {
    let time = |t: &Option<String>| {
        t.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp_micros())
    };
    table(
        "stages",
        &["Stage", "State", "First", "Last", "Duration", "Events", "Reopened", "Assets"],
        stages.iter().map(|s| {
            let (tone, words) = state_chip(s.state);
            let (first, last) = (time(&s.first_activity), time(&s.last_activity));
            vec![
                esc(stage_name(s.stage)),
                chip(tone, words),
                first.map(html::when).unwrap_or_default(),
                last.map(html::when).unwrap_or_default(),
                first.zip(last).map(|(a, b)| html::duration(b - a)).unwrap_or_default(),
                s.event_count.to_string(),
                if s.times_reopened > 0 { chip("warn", &format!("{}×", s.times_reopened)) } else { String::new() },
                s.assets.len().to_string(),
            ]
        }),
    )
}

fn activity(events: &[StageEvent]) -> String {
    let mut days: BTreeMap<chrono::NaiveDate, [u32; 6]> = BTreeMap::new();
    for e in events {
        let day = chrono::DateTime::from_timestamp_micros(e.at_us).unwrap_or_default().date_naive();
        let lane = STAGES.iter().position(|s| *s == e.stage).unwrap_or(0);
        days.entry(day).or_default()[lane] += 1;
    }
    let head: Vec<&str> = std::iter::once("Day").chain(STAGES.iter().map(|s: &Stage| stage_name(*s))).collect();
    table(
        "activity",
        &head,
        days.iter().map(|(day, counts)| {
            std::iter::once(esc(&html::day(*day)))
                .chain(counts.iter().map(|n| if *n == 0 { String::new() } else { n.to_string() }))
                .collect()
        }),
    )
}

fn blocker_table(id: &str, candidates: &[Candidate]) -> String {
    table(
        "blockers",
        &["Asset", "State", "Ready for", "Blocked for"],
        candidates.iter().map(|c| {
            let mut state = String::new();
            for (on, tone, word) in
                [(c.selected, "info", "selected"), (c.approved, "good", "approved"), (c.delivered, "good", "delivered")]
            {
                if on {
                    state.push_str(&chip(tone, word));
                }
            }
            let mut ready = String::new();
            // The ways a candidate is blocked, grouped by what blocks them (most often one rule
            // for every format and medium).
            let mut blocked: Vec<(&str, &str, Vec<String>)> = Vec::new();
            for (format, medium, failure) in &c.ways {
                let way = format!("{format} · {}", medium_name(*medium));
                match failure {
                    None => ready.push_str(&chip("good", &way)),
                    Some((rule, missing)) => match blocked.iter_mut().find(|(r, m, _)| r == rule && m == missing) {
                        Some((_, _, ways)) => ways.push(way),
                        None => blocked.push((rule, missing, vec![way])),
                    },
                }
            }
            let mut blocked: String = blocked
                .iter()
                .map(|(rule, missing, ways)| {
                    let ways: String = ways.iter().map(|w| chip("bad", w)).collect();
                    format!("<div><b>{}</b>: {} {ways}</div>", esc(rule), esc(missing))
                })
                .collect();
            if c.unjudged {
                blocked.push_str(
                    "not judged here: the page's budget of work ran out (<code>lineage readiness</code> judges one asset)",
                );
            } else if c.ways.is_empty() {
                blocked.push_str("no brief names a deliverable format");
            }
            vec![link(&html::asset_path(id, &c.asset), &c.asset), state, ready, blocked]
        }),
    )
}
