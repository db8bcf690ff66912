//! Compliance verdicts: of a delivered asset, and of every delivered asset of a project as a
//! report (JSON, or a printable HTML page). The facts are gathered here; `outputs::verdict`
//! weighs them.

use crate::api::auth::Reader;
use crate::api::extract::Query;
use crate::api::problem::ApiError;
use crate::api::responses::ProjectReadProblems;
use crate::api::routes::projections::{readable_asset, with_project};
use crate::api::state::AppState;
use crate::domain::event::{wire_name, Body, Kind, Usage};
use crate::domain::ids::Id;
use crate::domain::policy::{self, Finding, Intent};
use crate::domain::{Changes, NoEvents, Payload, ProjectId, View};
use crate::outputs::disclosure::{disclose_read, makers, read_entries, terms, Derivation};
use crate::outputs::verdict::{html, judge, DeliveryFacts, Facts, Outcome, Report, Verdict};
use crate::projections::graph::{NodeKind, Subgraph};
use actix_web::{web, HttpResponse};
use serde::Deserialize;

/// What the project's projection says of a delivery.
struct Judged {
    ancestry: Subgraph,
    rules: Option<Vec<String>>,
    drift: Vec<String>,
}

/// The verdict of the delivered asset `variant` (the variant a delivery recorded). Runs off the
/// async workers.
pub(crate) fn verdict_of(shared: &AppState, project: &ProjectId, variant: &Id) -> Result<Verdict, ApiError> {
    let not_delivered = || {
        ApiError::not_found(format!(
            "`{variant}` is not a delivered asset of project `{project}`: a verdict is of the variant a delivery recorded"
        ))
    };
    let judged = with_project(shared, project, None, |p, at| -> Result<Judged, ApiError> {
        let ancestry = p.graph.ancestors(variant.as_str(), u32::MAX, at.events as u32).ok_or_else(not_delivered)?;
        let root = ancestry.nodes.first().and_then(|n| n.sequence).ok_or_else(not_delivered)?;
        let payload = shared.ledger.payload_at(root).ok_or_else(not_delivered)?;
        let Body::DeliveryRecorded(delivery) = &payload.body else { return Err(not_delivered()) };
        let view = View { base: &p.rules, changes: &Changes::default(), events: &NoEvents };
        let version = p.events.iter().find(|e| e.sequence == root).map_or(u64::MAX, |e| e.version);
        let adopted = p.events.iter().find(|e| e.kind == Kind::ProjectAdopted).map(|e| e.sequence);
        let governed = view.is_governed(project) && adopted.is_none_or(|at| at < root);
        let usage = delivery.usage.unwrap_or(Usage::Commercial);
        let rules = governed.then(|| {
            let intent = Intent::Delivery {
                master: &delivery.master_asset,
                medium: delivery.medium,
                format: &delivery.format,
                usage,
                occurred_at_us: payload.occurred_at.timestamp_micros(),
            };
            // The amendments made before the delivery: the rules that were in force when it was
            // appended.
            let in_force = |event: &crate::domain::EventId| {
                view.version_of_event(project, event).ok().flatten().is_some_and(|v| v < version)
            };
            let assessment =
                crate::domain::limits::metered(|| policy::evaluate_under(&view, project, intent, &in_force));
            assessment
                .outcomes
                .iter()
                .filter_map(|o| match &o.finding {
                    Finding::Failed { missing } => Some(format!("{}: {missing}", o.rule)),
                    Finding::Passed { .. } => None,
                })
                .collect()
        });
        let in_lineage =
            |asset: &Id| ancestry.nodes.iter().any(|n| n.kind == NodeKind::Asset && n.id == asset.as_str());
        let drift = policy::approval_drift(&view, project)
            .into_iter()
            .filter(|d| in_lineage(&d.asset))
            .map(|d| {
                format!(
                    "approval `{}` of `{}` stands, but post edit `{}` made `{}` from it since",
                    d.approval, d.asset, d.edit, d.superseded_by
                )
            })
            .collect();
        Ok(Judged { ancestry, rules, drift })
    })??;
    let system = shared.ledger.system();
    let payloads = read_entries(&judged.ancestry, |sequence| shared.ledger.payload_at(sequence));
    let disclosure = disclose_read(&judged.ancestry, &payloads, |actor| system.is_person(actor));
    let rights = match delivery_usage(payloads.get(&root_sequence(&judged.ancestry))) {
        Usage::Commercial => restricted_ancestors(&judged.ancestry, &payloads),
        Usage::NonCommercial => vec![],
    };
    let makers = makers(&judged.ancestry, &payloads);
    let terms = terms(&judged.ancestry, &makers);
    let mut unknown_making: Vec<String> = judged
        .ancestry
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Asset)
        .filter(|n| terms.get(n.id.as_str()).is_none_or(|t| t.1 == Derivation::Unknown))
        .map(|n| n.id.clone())
        .collect();
    unknown_making.sort();
    let retracted = judged
        .ancestry
        .nodes
        .iter()
        .filter(|n| n.retracted)
        .map(|n| format!("{} `{}` was retracted", n.kind.as_str().replace('_', " "), n.id))
        .collect();
    let root = judged.ancestry.nodes.first().and_then(|n| n.sequence).unwrap_or_default();
    let delivery = delivery_facts(payloads.get(&root), root);
    let evidence = evidence_failure(shared, project, variant);
    Ok(judge(Facts {
        project: project.to_string(),
        asset: variant.to_string(),
        delivery,
        rules: judged.rules,
        rights,
        unknown_making,
        disclosure,
        drift: judged.drift,
        retracted,
        evidence,
    }))
}

fn root_sequence(ancestry: &Subgraph) -> u64 {
    ancestry.nodes.first().and_then(|n| n.sequence).unwrap_or_default()
}

fn delivery_usage(payload: Option<&Payload>) -> Usage {
    match payload.map(|p| &p.body) {
        Some(Body::DeliveryRecorded(d)) => d.usage.unwrap_or(Usage::Commercial),
        _ => Usage::Commercial,
    }
}

/// What in the whole ancestry forbids a commercial use, however it is reached (a reference a
/// parent prompt cited, say, which the append's `rights.commercial` does not follow): references
/// and imports for reference only, model versions licensed for non-commercial use.
fn restricted_ancestors(ancestry: &Subgraph, payloads: &std::collections::BTreeMap<u64, Payload>) -> Vec<String> {
    use crate::domain::event::Reproduction;
    let mut out = Vec::new();
    for node in &ancestry.nodes {
        let Some(payload) = node.sequence.and_then(|s| payloads.get(&s)) else { continue };
        let reason = match (&payload.body, node.kind) {
            (Body::ReferenceAdded(b), NodeKind::Reference)
                if b.rights.reproduction == Some(Reproduction::ReferenceOnly) =>
            {
                format!(
                    "reference `{}`, which is for reference only (no reproduction), is in its ancestry",
                    b.reference_id
                )
            }
            (Body::AssetImported(b), NodeKind::Asset) if b.rights.reproduction == Some(Reproduction::ReferenceOnly) => {
                format!(
                    "asset `{}`, imported for reference only (no reproduction), is in its ancestry",
                    b.asset.asset_id
                )
            }
            (Body::ModelVersionRegistered(b), NodeKind::ModelVersion)
                if b.license_use == Some(Usage::NonCommercial) =>
            {
                format!(
                    "model version `{}`, whose licence `{}` is non-commercial, is in its ancestry",
                    b.model_version_id, b.license
                )
            }
            _ => continue,
        };
        out.push(reason);
    }
    out
}

fn delivery_facts(payload: Option<&Payload>, sequence: u64) -> DeliveryFacts {
    let Some((payload, Body::DeliveryRecorded(d))) = payload.map(|p| (p, &p.body)) else {
        return DeliveryFacts {
            delivery_id: String::new(),
            master: String::new(),
            channel: String::new(),
            medium: String::new(),
            format: String::new(),
            usage: String::new(),
            locale: String::new(),
            sequence,
            occurred_at: String::new(),
        };
    };
    DeliveryFacts {
        delivery_id: d.delivery_id.to_string(),
        master: d.master_asset.to_string(),
        channel: d.channel.to_string(),
        medium: wire_name(&d.medium),
        format: d.format.to_string(),
        usage: wire_name(&d.usage.unwrap_or(Usage::Commercial)),
        locale: d.locale.to_string(),
        sequence,
        occurred_at: payload.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

/// Why the asset's evidence bundle does not verify against the ledger's own key, if it does not.
fn evidence_failure(shared: &AppState, project: &ProjectId, asset: &Id) -> Option<String> {
    let vkey = shared.ledger.verifier().vkey();
    match crate::ledger::evidence::build(&shared.ledger, project.as_str(), asset) {
        Ok(Some(bundle)) => crate::log::evidence::verify(&bundle, Some(&vkey)).err().map(|e| e.to_string()),
        Ok(None) => Some("no evidence bundle could be made: no checkpoint covers the asset yet".to_owned()),
        Err(e) => Some(format!("the evidence bundle could not be read: {e}")),
    }
}

/// The compliance verdict of a delivered asset: pass or fail, with each check (the rules in
/// force at delivery judged on the evidence as it stands, rights along the ancestry, the
/// derived disclosure, approval drift, retractions, the evidence bundle verifying) and why
/// (`docs/compliance.md`).
#[utoipa::path(get, path = "/v1/projects/{project}/assets/{asset}/verdict", tag = "compliance",
    params(("project" = String, Path), ("asset" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = Verdict), ProjectReadProblems))]
pub async fn verdict(
    reader: Reader,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, asset) = readable_asset(&reader, &state, path.into_inner())?;
    let shared = state.clone();
    let verdict = state.reads.run(move || verdict_of(&shared, &project, &asset)).await?;
    Ok(HttpResponse::Ok().json(verdict))
}

#[derive(Debug, Default, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    #[default]
    Json,
    Html,
}

/// Most verdicts one page of a report holds by default, and at most: each verifies an evidence
/// bundle, so a page's work is bounded by its size.
const REPORT_PAGE: usize = 20;
const MAX_REPORT_PAGE: usize = 50;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// `json` (default) or `html`: a printable page.
    #[param(value_type = Option<String>)]
    pub format: Option<ReportFormat>,
    /// Deliveries per page (1 to 50, default 20).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
    /// The page after this delivery entry's sequence (a report's `next`).
    pub after: Option<u64>,
}

/// A project's compliance report: the verdict of every delivered asset, in log order, a page of
/// at most `limit` at a time (`next` names the next page's `after`), as JSON or as a
/// printable HTML page (`?format=html`).
#[utoipa::path(get, path = "/v1/projects/{project}/compliance", tag = "compliance",
    params(("project" = String, Path), ReportQuery), security(("bearer" = [])),
    responses((status = 200, body = Report, description = "The report (JSON), or a printable page (`text/html`)"), ProjectReadProblems))]
pub async fn compliance_report(
    reader: Reader,
    project: web::Path<String>,
    query: Query<ReportQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let project = crate::api::extract::parse_project(&project)?;
    let limit = query.limit.unwrap_or(REPORT_PAGE);
    if !(1..=MAX_REPORT_PAGE).contains(&limit) {
        return Err(ApiError::bad_query(format!("`limit` is 1 to {MAX_REPORT_PAGE}")).field("limit"));
    }
    reader.project(&state.ledger, project.as_str())?;
    let shared = state.clone();
    let after = query.after;
    let report = state.reads.run(move || report_of(&shared, &project, after, limit)).await?;
    Ok(match query.format.unwrap_or_default() {
        ReportFormat::Json => HttpResponse::Ok().json(report),
        // A page of the ledger's origin, which a browser session may open: no script, not framed.
        ReportFormat::Html => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header((
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
            ))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .body(html(&report)),
    })
}

/// The verdicts of the variants the project's deliveries recorded, `limit` of them after the
/// delivery entry `after`.
fn report_of(shared: &AppState, project: &ProjectId, after: Option<u64>, limit: usize) -> Result<Report, ApiError> {
    let tree_size = shared.ledger.len();
    let mut deliveries = with_project(shared, project, None, |p, _| {
        let later = |e: &&crate::projections::EventMeta| after.is_none_or(|a| e.sequence > a);
        p.events
            .iter()
            .filter(|e| e.kind == Kind::DeliveryRecorded)
            .filter(later)
            .map(|e| e.sequence)
            .take(limit + 1)
            .collect::<Vec<u64>>()
    })?;
    let more = deliveries.len() > limit;
    deliveries.truncate(limit);
    let next = if more { deliveries.last().copied() } else { None };
    let mut title = String::new();
    if let Some(Body::ProjectCreated(created)) = shared
        .ledger
        .project_entries(project.as_str(), 0, 1)?
        .first()
        .and_then(|e| shared.ledger.payload_at(e.sequence))
        .map(|p| p.body)
    {
        title = created.title.to_string();
    }
    let mut verdicts = Vec::with_capacity(deliveries.len());
    for sequence in deliveries {
        let Some(Body::DeliveryRecorded(d)) = shared.ledger.payload_at(sequence).map(|p| p.body) else { continue };
        verdicts.push(verdict_of(shared, project, &d.variant.asset_id)?);
    }
    let passed = verdicts.iter().filter(|v| v.verdict == Outcome::Pass).count();
    Ok(Report {
        project: project.to_string(),
        title,
        tree_size,
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        passed,
        failed: verdicts.len() - passed,
        deliveries: verdicts,
        next,
    })
}
