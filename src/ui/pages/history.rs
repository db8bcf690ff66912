//! A project's history: its events filtered by kind, person, stage, asset and day, a page at a
//! time, each with who did it (by name), when, and what it says.

use super::{read, readable, stage_name, Names};
use crate::api::problem::ApiError;
use crate::api::routes::projections::{history_sequences, HistoryFilter};
use crate::api::state::AppState;
use crate::domain::event::{Body, Kind, Stage};
use crate::domain::{Changes, NoEvents, Payload, View};
use crate::log::open_entry;
use crate::projections::stages::STAGES;
use crate::ui::html::{self, esc, link};
use crate::ui::{UiError, Viewer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use std::fmt::Write as _;

const PER_PAGE: usize = 50;

#[derive(Deserialize, Default, Clone)]
pub struct Filters {
    kind: Option<String>,
    actor: Option<String>,
    stage: Option<String>,
    asset: Option<String>,
    /// Days, `YYYY-MM-DD` (UTC), both included.
    from: Option<String>,
    to: Option<String>,
    after: Option<u64>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The filters as the history query takes them, or the problem with one of them.
fn parse(f: &Filters, state: &AppState, project: &str) -> Result<HistoryFilter, ApiError> {
    let bad = |field: &str, what: String| ApiError::bad_query(what).field(field);
    let kind = given(&f.kind)
        .map(|k| Kind::parse(k).ok_or_else(|| bad("kind", format!("`{k}` is not a kind of event"))))
        .transpose()?;
    let stage = given(&f.stage)
        .map(|s| {
            STAGES
                .iter()
                .copied()
                .find(|x| crate::domain::event::wire_name(x) == s)
                .ok_or_else(|| bad("stage", format!("`{s}` is not a stage")))
        })
        .transpose()?;
    let day = |raw: &str, field: &str| {
        chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_micros())
            .map_err(|_| bad(field, format!("`{field}` is a day, YYYY-MM-DD (UTC): `{raw}` is not")))
    };
    let from = given(&f.from).map(|d| day(d, "from")).transpose()?;
    let to = given(&f.to).map(|d| day(d, "to").map(|t| t + 86_400_000_000)).transpose()?;
    let assets = match given(&f.asset) {
        None => None,
        Some(a) => {
            let id = crate::api::extract::parse_asset(a)?;
            Some(state.ledger.asset_sequences(project, id.as_str())?.into_iter().collect())
        }
    };
    Ok(HistoryFilter { kind, stage, actor: given(&f.actor).map(str::to_owned), from, to, assets, after: f.after })
}

struct Row {
    sequence: u64,
    stage: Option<Stage>,
    payload: Payload,
}

pub async fn page(
    viewer: Viewer,
    path: web::Path<String>,
    query: web::Query<Filters>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let project = readable(&viewer, &state, &path)?;
    let id = project.to_string();
    let filters = query.into_inner();
    let asked = filters.clone();
    let (rows, next, members, names) = read(&state, move |shared| {
        let filter = parse(&asked, shared, project.as_str())?;
        let (sequences, next) = history_sequences(shared, &project, None, &filter, PER_PAGE)?;
        let (stages, members) = crate::api::routes::projections::with_project(shared, &project, None, |p, _| {
            let stages: Vec<Option<Stage>> = sequences
                .iter()
                .map(|s| p.events.binary_search_by_key(s, |m| m.sequence).ok().and_then(|i| p.events[i].stage))
                .collect();
            let changes = Changes::default();
            let view = View { base: &p.rules, changes: &changes, events: &NoEvents };
            let members: Vec<String> = view.members(&project).into_iter().map(|(a, _)| a.to_string()).collect();
            (stages, members)
        })?;
        let mut rows = Vec::with_capacity(sequences.len());
        for (sequence, stage) in sequences.into_iter().zip(stages) {
            let Some(entry) = shared.ledger.entry(sequence)? else { continue };
            let Ok((_, payload)) = open_entry(&entry) else { continue };
            rows.push(Row { sequence, stage, payload });
        }
        let names = Names::of(
            shared,
            rows.iter().map(|r| r.payload.actor.as_str()).chain(members.iter().map(String::as_str)),
            [],
        );
        Ok::<_, ApiError>((rows, next, members, names))
    })
    .await?;
    let base = html::project_path(&id);
    let mut body = form(&base, &filters, &members, &names);
    body.push_str("<table class=\"history\"><thead><tr><th>#</th><th>When</th><th>What</th><th>Who</th><th>Stage</th><th>What it says</th></tr></thead><tbody>");
    for r in &rows {
        let _ = write!(
            body,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><span title=\"{}\">{}</span></td><td>{}</td><td>{}</td></tr>",
            link(&format!("/v1/entries/{}", r.sequence), &r.sequence.to_string()),
            esc(&html::when(r.payload.occurred_at.timestamp_micros())),
            esc(&r.payload.kind().as_str().replace('_', " ")),
            esc(r.payload.actor.as_str()),
            esc(names.actor(r.payload.actor.as_str())),
            r.stage.map(stage_name).unwrap_or(""),
            says(&id, &r.payload, &names),
        );
    }
    if rows.is_empty() {
        body.push_str("<tr><td colspan=\"6\" class=\"empty\">no event matches</td></tr>");
    }
    body.push_str("</tbody></table>");
    if let Some(next) = next {
        let mut again = filters.clone();
        again.after = Some(next);
        let _ = write!(
            body,
            "<p class=\"pager\"><a href=\"{base}/history?{}\">Next page →</a></p>",
            esc(&query_of(&again))
        );
    }
    let crumbs = [("Projects", "/ui/".to_owned()), (id.as_str(), base.clone())];
    Ok(html::page(StatusCode::OK, "History", Some(&viewer.header("")), &crumbs, &body))
}

fn query_of(f: &Filters) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("kind", &f.kind),
        ("actor", &f.actor),
        ("stage", &f.stage),
        ("asset", &f.asset),
        ("from", &f.from),
        ("to", &f.to),
    ] {
        if let Some(v) = given(v) {
            q.append_pair(k, v);
        }
    }
    if let Some(after) = f.after {
        q.append_pair("after", &after.to_string());
    }
    q.finish()
}

fn form(base: &str, f: &Filters, members: &[String], names: &Names) -> String {
    let option = |value: &str, label: &str, current: Option<&str>| {
        let selected = if current == Some(value) { " selected" } else { "" };
        format!("<option value=\"{}\"{selected}>{}</option>", esc(value), esc(label))
    };
    let mut out = format!("<form class=\"filters\" method=\"get\" action=\"{base}/history\"><label>Kind<select name=\"kind\"><option value=\"\">any</option>");
    for k in Kind::ALL.iter().filter(|k| !k.is_system()) {
        out.push_str(&option(k.as_str(), &k.as_str().replace('_', " "), given(&f.kind)));
    }
    out.push_str("</select></label><label>Who<select name=\"actor\"><option value=\"\">anyone</option>");
    for m in members {
        out.push_str(&option(m, names.actor(m), given(&f.actor)));
    }
    out.push_str("</select></label><label>Stage<select name=\"stage\"><option value=\"\">any</option>");
    for s in STAGES {
        out.push_str(&option(&crate::domain::event::wire_name(&s), stage_name(s), given(&f.stage)));
    }
    let value = |v: &Option<String>| esc(given(v).unwrap_or(""));
    let _ = write!(
        out,
        "</select></label><label>Asset<input name=\"asset\" value=\"{}\" placeholder=\"hero-master-v2\"></label>\
         <label>From<input type=\"date\" name=\"from\" value=\"{}\"></label><label>To<input type=\"date\" name=\"to\" value=\"{}\"></label>\
         <button type=\"submit\">Filter</button></form>",
        value(&f.asset),
        value(&f.from),
        value(&f.to)
    );
    out
}

/// What an event says, in a line; assets it names link to their pages.
fn says(project: &str, p: &Payload, names: &Names) -> String {
    let a = |id: &str| link(&html::asset_path(project, id), id);
    let list = |ids: &[crate::domain::Id]| ids.iter().map(|i| a(i.as_str())).collect::<Vec<_>>().join(", ");
    match &p.body {
        Body::ProjectCreated(b) => format!("created “{}”", esc(b.title.as_str())),
        Body::BriefRecorded(b) => format!(
            "brief “{}”: {}",
            esc(b.title.as_str()),
            esc(&b.deliverable_formats.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", "))
        ),
        Body::BriefRevised(b) => format!("revised the brief: {}", esc(b.reason.as_str())),
        Body::ReferenceAdded(b) => format!("reference “{}”", esc(b.title.as_str())),
        Body::ModelVersionRegistered(b) => {
            format!("{} {} {}", esc(b.provider.as_str()), esc(b.family.as_str()), esc(b.version.as_str()))
        }
        Body::PipelineDefined(b) => format!("pipeline “{}”", esc(b.name.as_str())),
        Body::PromptAuthored(b) => format!("prompt {}", esc(b.prompt_id.as_str())),
        Body::AssetImported(b) => format!("imported {} from {}", a(b.asset.asset_id.as_str()), esc(b.source.as_str())),
        Body::GenerationRecorded(b) => format!(
            "{} output(s) with {}: {}",
            b.outputs.len(),
            esc(b.model_version.as_str()),
            b.outputs.iter().take(6).map(|o| a(o.asset_id.as_str())).collect::<Vec<_>>().join(", ")
        ),
        Body::SelectionMade(b) => format!(
            "selected {}{}",
            list(&b.selected),
            if b.rejected.is_empty() { String::new() } else { format!("; not {}", list(&b.rejected)) }
        ),
        Body::PostEditApplied(b) => format!(
            "{} of {} → {}",
            esc(&crate::domain::event::wire_name(&b.technique)),
            list(&b.inputs),
            a(b.output.asset_id.as_str())
        ),
        Body::QcReviewRecorded(b) => format!(
            "QC {} of {} ({})",
            esc(&crate::domain::event::wire_name(&b.verdict)),
            a(b.asset.as_str()),
            esc(&crate::domain::event::wire_name(&b.proof_medium).replace('_', " "))
        ),
        Body::ApprovalRecorded(b) => {
            format!("{} {}", esc(&crate::domain::event::wire_name(&b.decision).replace('_', " ")), a(b.asset.as_str()))
        }
        Body::DeliveryRecorded(b) => format!(
            "delivered {} as {} ({}, {})",
            a(b.master_asset.as_str()),
            a(b.variant.asset_id.as_str()),
            esc(b.format.as_str()),
            esc(b.channel.as_str())
        ),
        Body::StageMarked(b) => {
            format!("{} {}", esc(stage_name(b.stage)), esc(&crate::domain::event::wire_name(&b.mark)))
        }
        Body::NoteAdded(b) => esc(&b.text.as_str().chars().take(280).collect::<String>()),
        Body::EventRetracted(b) => format!("retracted {}: {}", esc(b.event_id.as_str()), esc(b.reason.as_str())),
        Body::ConfidentialErased(b) => {
            format!("erased a confidential text of {}: {}", esc(b.event_id.as_str()), esc(b.reason.as_str()))
        }
        Body::MemberAdded(b) => {
            format!("added {} as {}", esc(names.actor(b.actor_id.as_str())), esc(&b.role.as_str().replace('_', " ")))
        }
        Body::MemberRemoved(b) => {
            format!("removed {}: {}", esc(names.actor(b.actor_id.as_str())), esc(b.reason.as_str()))
        }
        Body::PolicyAmended(_) => "made the policy stricter".to_owned(),
        Body::ProjectAdopted(b) => format!("adopted for {}", esc(b.client_organization.as_str())),
        _ => String::new(),
    }
}
