//! The two drawings: a project's stages over time, and an asset's lineage as a layered graph.
//! Plain SVG written as text, every label escaped.

use super::html::esc;
use crate::domain::event::{Stage, StageMark};
use crate::projections::graph::{EdgeKind, NodeKind, Subgraph};
use crate::projections::stages::STAGES;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// One event of a stage: when it happened and the mark it set, if it was a mark.
pub struct StageEvent {
    pub stage: Stage,
    pub at_us: i64,
    pub mark: Option<StageMark>,
}

const DAY_US: i64 = 86_400_000_000;

/// The six stages as lanes over the project's days: a bar from each stage's first to last
/// event, a cell per day shaded by how many events it had, ○ where a stage was opened, ✓ where
/// completed, ↺ where reopened.
pub fn stage_board(events: &[StageEvent]) -> String {
    let (Some(first), Some(last)) = (events.iter().map(|e| e.at_us).min(), events.iter().map(|e| e.at_us).max()) else {
        return "<p class=\"sub\">No stage has any activity yet.</p>".to_owned();
    };
    let day0 = first.div_euclid(DAY_US);
    let days = (last.div_euclid(DAY_US) - day0 + 1).clamp(1, 366) as usize;
    let (label_w, lane_h, top) = (170.0, 34.0, 26.0);
    let day_w = (760.0 / days as f64).clamp(6.0, 90.0);
    let width = label_w + day_w * days as f64 + 20.0;
    let height = top + lane_h * 6.0 + 8.0;
    let x = |us: i64| label_w + (us - day0 * DAY_US) as f64 / DAY_US as f64 * day_w;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" font-family=\"system-ui, sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"stages over time\">"
    );
    for d in 0..days {
        let date = chrono::DateTime::from_timestamp_micros((day0 + d as i64) * DAY_US).unwrap_or_default().date_naive();
        let dx = label_w + d as f64 * day_w;
        let _ = write!(
            out,
            "<line x1=\"{dx:.1}\" y1=\"{top}\" x2=\"{dx:.1}\" y2=\"{:.0}\" stroke=\"#e3e6ec\"/>",
            height - 8.0
        );
        if day_w >= 70.0 || d % (70.0 / day_w).ceil() as usize == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"16\" fill=\"#5b6474\">{}</text>",
                dx + 2.0,
                esc(&super::html::day(date))
            );
        }
    }
    for (lane, stage) in STAGES.iter().enumerate() {
        let y = top + lane as f64 * lane_h;
        let _ = write!(
            out,
            "<text x=\"4\" y=\"{:.1}\" fill=\"#1d2330\">{}</text>",
            y + 20.0,
            esc(super::pages::stage_name(*stage))
        );
        let mine: Vec<&StageEvent> = events.iter().filter(|e| e.stage == *stage).collect();
        let (Some(a), Some(b)) = (mine.iter().map(|e| e.at_us).min(), mine.iter().map(|e| e.at_us).max()) else {
            continue;
        };
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"18\" rx=\"4\" fill=\"#dbe5ff\" stroke=\"#9db4f0\"><title>{}: first {} — last {}</title></rect>",
            x(a),
            y + 7.0,
            (x(b) - x(a)).max(3.0),
            esc(super::pages::stage_name(*stage)),
            super::html::when(a),
            super::html::when(b)
        );
        let mut per_day: BTreeMap<i64, u32> = BTreeMap::new();
        for e in &mine {
            *per_day.entry(e.at_us.div_euclid(DAY_US)).or_default() += 1;
        }
        for (d, n) in per_day {
            let opacity = (0.25 + (n as f64).ln_1p() / 5.0).min(0.95);
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"6\" fill=\"#2f5bd3\" fill-opacity=\"{opacity:.2}\"><title>{n} event(s)</title></rect>",
                label_w + (d - day0) as f64 * day_w + 1.0,
                y + 27.0,
                (day_w - 2.0).max(2.0)
            );
        }
        for e in mine.iter().filter(|e| e.mark.is_some()) {
            let (glyph, colour, words) = match e.mark {
                Some(StageMark::Opened) => ("○", "#2f5bd3", "opened"),
                Some(StageMark::Completed) => ("✓", "#1f7a45", "completed"),
                _ => ("↺", "#b42318", "reopened"),
            };
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\" font-size=\"13\" font-weight=\"700\">{glyph}<title>{words} {}</title></text>",
                x(e.at_us) - 4.0,
                y + 20.0,
                super::html::when(e.at_us)
            );
        }
    }
    out.push_str("</svg>");
    out
}

fn colour(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Brief | NodeKind::Reference => "#fde7c8",
        NodeKind::ModelVersion | NodeKind::Pipeline => "#e6dcff",
        NodeKind::Prompt => "#fff3b0",
        NodeKind::Asset => "#d7f0ff",
        NodeKind::Generation => "#e2f7e1",
        NodeKind::Selection => "#f0f0f0",
        NodeKind::PostEdit => "#ffe0ea",
        NodeKind::QcReview | NodeKind::Approval => "#e8f5e9",
        NodeKind::Delivery => "#d9f2ec",
        NodeKind::Actor => "#eeeeee",
    }
}

/// The lineage as layers by distance from the asset (the asset on the left, the brief on the
/// right): nodes coloured by kind, retracted ones dashed and grey, rejections in red. People
/// are left out (the audit trail names who signed what).
pub fn lineage(graph: &Subgraph, hrefs: &HashMap<String, String>) -> String {
    let nodes: Vec<_> = graph.nodes.iter().filter(|n| n.kind != NodeKind::Actor).collect();
    let mut layers: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        layers.entry(n.depth).or_default().push(i);
    }
    let (col_w, row_h, box_w, box_h) = (190.0, 46.0, 160.0, 34.0);
    let mut at: HashMap<&str, (f64, f64)> = HashMap::new();
    let rows = layers.values().map(Vec::len).max().unwrap_or(1);
    for (c, members) in layers.values().enumerate() {
        for (r, &i) in members.iter().enumerate() {
            at.insert(&nodes[i].key, (10.0 + c as f64 * col_w, 10.0 + r as f64 * row_h));
        }
    }
    let width = 20.0 + layers.len() as f64 * col_w;
    let height = 20.0 + rows as f64 * row_h;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" font-family=\"system-ui, sans-serif\" font-size=\"11\" role=\"img\" aria-label=\"lineage\">"
    );
    for e in &graph.edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (at.get(&*e.from), at.get(&*e.to)) else { continue };
        let (stroke, dash) = match e.kind {
            EdgeKind::RejectedIn => ("#b42318", " stroke-dasharray=\"4 3\""),
            _ => ("#9aa3b2", ""),
        };
        let (x1, x2) = if x1 <= x2 { (x1 + box_w, x2) } else { (x1, x2 + box_w) };
        let _ = write!(
            out,
            "<line x1=\"{x1:.1}\" y1=\"{:.1}\" x2=\"{x2:.1}\" y2=\"{:.1}\" stroke=\"{stroke}\"{dash}><title>{}</title></line>",
            y1 + box_h / 2.0,
            y2 + box_h / 2.0,
            e.kind.as_str()
        );
    }
    for n in &nodes {
        let (x, y) = at[&*n.key];
        let (fill, stroke, dash) = if n.retracted {
            ("#f4f4f4", "#9aa3b2", " stroke-dasharray=\"4 3\"")
        } else {
            (colour(n.kind), "#6b7385", "")
        };
        let label: String = n.id.chars().take(24).collect();
        let shape = format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{box_w}\" height=\"{box_h}\" rx=\"5\" fill=\"{fill}\" stroke=\"{stroke}\"{dash}/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#5b6474\" font-size=\"9\">{}{}</text><text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1d2330\">{}</text>",
            x + 6.0,
            y + 12.0,
            n.kind.as_str().replace('_', " "),
            if n.retracted { " · retracted" } else { "" },
            x + 6.0,
            y + 27.0,
            esc(&label)
        );
        match hrefs.get(&*n.key) {
            Some(href) => {
                let _ = write!(out, "<a href=\"{}\"><title>{}</title>{shape}</a>", esc(href), esc(&n.key));
            }
            None => {
                let _ = write!(out, "<g><title>{}</title>{shape}</g>", esc(&n.key));
            }
        }
    }
    out.push_str("</svg>");
    out
}
