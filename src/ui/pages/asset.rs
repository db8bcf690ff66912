//! An asset: its image, how it was made and its AI disclosure, its lineage as a graph, its audit
//! trail with each entry's verification and proof, its compliance verdict (for a delivered
//! variant), and links to its Content Credentials, PROV and evidence bundle.

use super::{read, readable, Names};
use crate::api::problem::ApiError;
use crate::api::routes::projections::with_project;
use crate::api::routes::whence::{describe, recorded_file, FoundAsset};
use crate::api::state::AppState;
use crate::ledger::audit::AuditTrail;
use crate::outputs::verdict::{Outcome, Verdict};
use crate::projections::graph::{NodeKind, Subgraph};
use crate::ui::html::{self, chip, esc, link, table};
use crate::ui::{svg, UiError, Viewer};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Hops of the lineage drawn, and the most nodes drawn (the whole ancestry is in
/// `…/provenance`).
const DRAWN_DEPTH: u32 = 12;
const DRAWN_NODES: usize = 240;

struct Shown {
    found: FoundAsset,
    digest: String,
    has_file: bool,
    graph: Subgraph,
    cut: bool,
    trail: AuditTrail,
    verdict: Option<Verdict>,
    names: Names,
}

pub async fn page(
    viewer: Viewer,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, UiError> {
    let (raw_project, raw_asset) = path.into_inner();
    let project = readable(&viewer, &state, &raw_project)?;
    let asset = crate::api::extract::parse_asset(&raw_asset)?;
    let (p, a) = (project.to_string(), asset.to_string());
    let scoped = viewer.reader.is_scoped();
    let shown = read(&state, move |shared| {
        let (digest, media_type, recorded_by) = recorded_file(shared, &project, &asset)?;
        let missing = || ApiError::not_found(format!("project `{project}` has no asset `{asset}`"));
        let graph_whole = with_project(shared, &project, None, |p, at| {
            p.graph.ancestors(asset.as_str(), DRAWN_DEPTH, at.events as u32)
        })?
        .ok_or_else(missing)?;
        let delivered = recorded_by.kind == "delivery_recorded";
        let found = describe(shared, &project, &asset, &media_type, recorded_by)?;
        let trail = crate::ledger::audit::trail(&shared.ledger, &project, &asset, None)?.ok_or_else(missing)?;
        let verdict =
            if delivered { Some(crate::api::routes::verdicts::verdict_of(shared, &project, &asset)?) } else { None };
        let (graph, cut) = cut(graph_whole);
        let names = Names::of(shared, trail.entries.iter().map(|e| e.actor.as_str()), []);
        let has_file = shared.files.has(project.as_str(), &digest.bytes());
        Ok::<_, ApiError>(Shown { found, digest: digest.to_string(), has_file, graph, cut, trail, verdict, names })
    })
    .await?;
    let body = render(&p, &a, &shown, scoped);
    let crumbs = [
        ("Projects", "/ui/".to_owned()),
        (p.as_str(), html::project_path(&p)),
        ("Assets", format!("{}/assets", html::project_path(&p))),
    ];
    Ok(html::page(StatusCode::OK, &a, Some(&viewer.header("")), &crumbs, &body))
}

/// The graph cut to the nodes nearest the asset, when it has more than can be drawn.
fn cut(mut graph: Subgraph) -> (Subgraph, bool) {
    if graph.nodes.len() <= DRAWN_NODES {
        return (graph, false);
    }
    graph.nodes.sort_by_key(|n| n.depth);
    graph.nodes.truncate(DRAWN_NODES);
    let kept: std::collections::HashSet<String> = graph.nodes.iter().map(|n| n.key.to_string()).collect();
    graph.edges.retain(|e| kept.contains(&*e.from) && kept.contains(&*e.to));
    (graph, true)
}

fn render(project: &str, asset: &str, s: &Shown, scoped: bool) -> String {
    let d = &s.found.disclosure;
    let mut out = String::from("<div class=\"cols\"><div class=\"hero\">");
    let file = html::api_asset_path(project, asset, "file");
    if s.has_file && html::browser_shows(&s.found.media_type) {
        let _ = write!(out, "<img src=\"{}\" alt=\"{}\">", esc(&file), esc(asset));
    } else if s.has_file {
        let _ = write!(out, "<p>{} (no preview): {}</p>", esc(&s.found.media_type), link(&file, "download the file"));
    } else {
        out.push_str("<p class=\"sub\">The server holds no file with this asset's digest.</p>");
    }
    let ai = if d.ai_generated { chip("warn", "AI-generated pixels") } else { chip("info", "no AI-generated pixels") };
    let _ = write!(
        out,
        "</div><dl class=\"facts\"><dt>Made by</dt><dd>{} <code>{}</code> (entry {})</dd><dt>Media type</dt><dd>{}</dd>\
         <dt>Digest</dt><dd><code>{}</code></dd><dt>Disclosure</dt><dd>{ai} <code>{}</code><br>{}</dd><dt>Models</dt><dd>{}</dd>\
         <dt>Made from</dt><dd>{}</dd></dl></div>",
        esc(&s.found.recorded_by.kind.replace('_', " ")),
        esc(&s.found.recorded_by.event_id),
        s.found.recorded_by.sequence,
        esc(&s.found.media_type),
        esc(&s.digest),
        esc(d.term.term()),
        esc(&d.statement),
        esc(&d.models.join(", ")),
        made_from(project, &s.found.lineage.assets),
    );
    out.push_str("<h2>Outputs</h2><p>");
    let outputs = [
        ("c2pa", "Content Credentials (C2PA manifest definition)"),
        ("prov", "W3C PROV-JSON"),
        ("disclosure", "AI disclosure (JSON)"),
        ("provenance?format=dot", "Lineage as Graphviz DOT"),
    ];
    for (what, label) in outputs {
        let _ = write!(out, "{} · ", link(&html::api_asset_path(project, asset, what), label));
    }
    if scoped {
        out.push_str("the evidence bundle needs a token for every project</p>");
    } else {
        let _ = write!(
            out,
            "<a href=\"{}\" download=\"{}.evidence.json\">Download the evidence bundle</a></p>",
            esc(&html::api_asset_path(project, asset, "evidence")),
            esc(asset)
        );
    }
    if let Some(v) = &s.verdict {
        out.push_str(&verdict(v));
    }
    let _ = write!(
        out,
        "<h2>Lineage</h2><p class=\"sub\">Back to the brief, {} hops at most{}.</p><div class=\"svgbox\">",
        DRAWN_DEPTH,
        if s.cut { ", nearest nodes only" } else { "" }
    );
    let hrefs: HashMap<String, String> = s
        .graph
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Asset)
        .map(|n| (n.key.to_string(), html::asset_path(project, &n.id)))
        .collect();
    out.push_str(&svg::lineage(&s.graph, &hrefs));
    out.push_str("</div><h2>Audit trail</h2>");
    out.push_str(&audit(s));
    out
}

/// The assets it was made from, nearest first: the first 50 linked (a long lineage has
/// thousands; `…/provenance` has them all).
fn made_from(project: &str, assets: &[String]) -> String {
    let mut out: Vec<String> = assets.iter().take(50).map(|a| link(&html::asset_path(project, a), a)).collect();
    if assets.len() > 50 {
        out.push(format!("and {} more", assets.len() - 50));
    }
    out.join(", ")
}

fn verdict(v: &Verdict) -> String {
    let passed = v.verdict == Outcome::Pass;
    let mut out = format!(
        "<h2>Compliance verdict</h2><p>{} for {} · {} · {} (delivery {})</p>",
        if passed { chip("good", "PASS") } else { chip("bad", "FAIL") },
        esc(&v.delivery.channel),
        esc(&v.delivery.format),
        esc(&v.delivery.medium.replace('_', " ")),
        esc(&v.delivery.delivery_id)
    );
    out.push_str(&table(
        "verdict",
        &["Check", "Result", "Why not"],
        v.checks.iter().map(|c| {
            let name =
                serde_json::to_value(c.check).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            vec![
                esc(&name.replace('_', " ")),
                if c.passed { chip("good", "pass") } else { chip("bad", "fail") },
                esc(&c.reasons.join(" ")),
            ]
        }),
    ));
    out
}

fn audit(s: &Shown) -> String {
    let mut out = String::from("<table class=\"audit\"><thead><tr><th>#</th><th>When</th><th>What</th><th>Who</th><th>What it says</th><th>Signature</th><th>Proof</th></tr></thead><tbody>");
    for e in &s.trail.entries {
        let signature = match e.signature.as_str() {
            "valid" => chip("good", "valid"),
            "invalid" => chip("bad", "invalid"),
            other => chip("warn", other),
        };
        let retracted = if e.retracted { " · retracted" } else { "" };
        let _ = write!(
            out,
            "<tr{}><td class=\"num\">{}</td><td>{}</td><td>{}{retracted}</td><td>{}</td><td>{}</td><td>{signature}</td><td>{}</td></tr>",
            if e.retracted { " class=\"retracted-row\"" } else { "" },
            e.sequence,
            esc(&e.occurred_at.replace('T', " ")),
            esc(&e.kind.replace('_', " ")),
            esc(s.names.actor(&e.actor)),
            esc(&e.says),
            link(&e.proof, "inclusion proof")
        );
    }
    out.push_str("</tbody></table>");
    out
}
