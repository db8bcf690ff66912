//! Reads for people: the API's answers as tables a producer reads without `jq` (`--json` for the
//! API's JSON as it is) — projects, stage status, history, an asset's audit trail, readiness.

use super::client::Answer;
use super::{fail, ServerArgs};
use serde_json::Value;

#[derive(clap::Args)]
pub struct ProjectsArgs {
    #[command(flatten)]
    server: ServerArgs,
    /// The API's JSON, as it is.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct HistoryArgs {
    project: String,
    /// Only events of this kind (`qc_review_recorded`, …).
    #[arg(long)]
    kind: Option<String>,
    /// Only events signed by this actor id.
    #[arg(long)]
    actor: Option<String>,
    /// Only events of this stage (`ideation`, `rnd`, `exploration`, `production`, `refinement`,
    /// `delivery`).
    #[arg(long)]
    stage: Option<String>,
    /// Only events naming this asset.
    #[arg(long)]
    asset: Option<String>,
    /// Only events that happened at or after this RFC 3339 time.
    #[arg(long)]
    from: Option<String>,
    /// Only events that happened before this RFC 3339 time.
    #[arg(long)]
    to: Option<String>,
    /// Go on after this sequence (the `next` a page printed).
    #[arg(long)]
    after: Option<u64>,
    /// Events per page, 1 to 1000.
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[command(flatten)]
    server: ServerArgs,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct ReadinessArgs {
    project: String,
    asset: String,
    /// `digital`, `print` or `large_format`.
    #[arg(long)]
    medium: String,
    /// The delivery's format, e.g. `jpeg`.
    #[arg(long)]
    format: String,
    /// The channel it goes to, e.g. `instagram`.
    #[arg(long)]
    channel: String,
    #[command(flatten)]
    server: ServerArgs,
    #[arg(long)]
    json: bool,
}

/// Prints an answer: the JSON when asked or when the server refused (to stderr, then exits 1),
/// else what `render` makes of it.
pub fn print(answer: Answer, json: bool, render: impl FnOnce(&Value) -> String) {
    if !answer.ok() {
        let text = if answer.body.is_null() { answer.text } else { pretty(&answer.body) };
        eprintln!("{text}");
        std::process::exit(1);
    }
    if json || answer.body.is_null() {
        if answer.body.is_null() {
            print!("{}", answer.text);
        } else {
            println!("{}", pretty(&answer.body));
        }
    } else {
        print!("{}", render(&answer.body));
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("JSON serializes")
}

/// A value as one line of a table: line breaks and tabs become spaces, and any other control
/// character (an escape sequence a log written before the strict profile could hold) is shown
/// as U+FFFD, so that what the ledger holds never drives the terminal.
fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => one_line(s),
        other => other.to_string(),
    }
}

/// Text as one line a terminal shows as it is (see [`s`]).
pub(super) fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// A text table: columns as wide as their widest cell (at most 60 characters).
pub fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let cut = |c: &str| -> String {
        if c.chars().count() > 60 {
            c.chars().take(59).chain(std::iter::once('…')).collect()
        } else {
            c.to_owned()
        }
    };
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| cut(c)).collect()).collect();
    let widths: Vec<usize> = (0..head.len())
        .map(|i| {
            rows.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).chain([head[i].len()]).max().unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(head.to_vec());
    out.push_str(&line(widths.iter().map(|w| "─".repeat(*w)).collect::<Vec<_>>().iter().map(String::as_str).collect()));
    for r in &rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out
}

pub fn projects(args: ProjectsArgs) {
    let answer = args.server.client().get("/v1/projects").unwrap_or_else(|e| fail(e));
    print(answer, args.json, |body| {
        let rows: Vec<Vec<String>> = body["projects"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                vec![
                    s(&p["project"]),
                    s(&p["title"]),
                    s(&p["content_type"]),
                    s(&p["client_organization"]),
                    s(&p["events"]),
                    s(&p["last_activity"]).chars().take(16).collect::<String>().replace('T', " "),
                ]
            })
            .collect();
        table(&["PROJECT", "TITLE", "TYPE", "CLIENT", "ENTRIES", "LAST ACTIVITY (UTC)"], &rows)
    });
}

/// The stage status as a table, with the stages open together.
pub fn status(body: &Value) -> String {
    let day = |v: &Value| s(v).chars().take(16).collect::<String>().replace('T', " ");
    let rows: Vec<Vec<String>> = body["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|st| {
            vec![
                s(&st["stage"]),
                s(&st["state"]).replace('_', " "),
                day(&st["first_activity"]),
                day(&st["last_activity"]),
                s(&st["event_count"]),
                s(&st["times_reopened"]),
                st["assets"].as_array().map_or(0, Vec::len).to_string(),
            ]
        })
        .collect();
    let mut out = format!("{} ({}), {} events\n\n", s(&body["project"]), s(&body["content_type"]), s(&body["events"]));
    out.push_str(&table(&["STAGE", "STATE", "FIRST", "LAST", "EVENTS", "REOPENED", "ASSETS"], &rows));
    let open: Vec<String> = body["overlapping"].as_array().into_iter().flatten().map(s).collect();
    if open.len() > 1 {
        out.push_str(&format!("\nopen at the same time: {}\n", open.join(", ")));
    }
    out
}

/// An asset's audit trail: one line per entry with its verification.
pub fn audit(body: &Value) -> String {
    let rows: Vec<Vec<String>> = body["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let retracted = if e["retracted"] == true { " (retracted)" } else { "" };
            vec![
                s(&e["sequence"]),
                s(&e["occurred_at"]).chars().take(16).collect::<String>().replace('T', " "),
                format!("{}{retracted}", s(&e["kind"])),
                s(&e["actor"]),
                s(&e["signature"]),
                s(&e["says"]),
            ]
        })
        .collect();
    let mut out = format!("{} in {}\n\n", s(&body["asset"]), s(&body["project"]));
    out.push_str(&table(&["SEQ", "WHEN (UTC)", "KIND", "ACTOR", "SIGNATURE", "WHAT IT SAYS"], &rows));
    out
}

pub fn history(args: HistoryArgs) {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let filters = [
        ("kind", &args.kind),
        ("actor", &args.actor),
        ("stage", &args.stage),
        ("asset", &args.asset),
        ("from", &args.from),
        ("to", &args.to),
    ];
    for (name, value) in filters {
        if let Some(v) = value {
            query.append_pair(name, v);
        }
    }
    if let Some(after) = args.after {
        query.append_pair("after", &after.to_string());
    }
    query.append_pair("limit", &args.limit.to_string());
    let path = format!("/v1/projects/{}/history?{}", args.project, query.finish());
    let answer = args.server.client().get(&path).unwrap_or_else(|e| fail(e));
    print(answer, args.json, |body| {
        let rows: Vec<Vec<String>> = body["entries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let p = &e["payload"];
                vec![
                    s(&e["sequence"]),
                    s(&p["occurred_at"]).chars().take(16).collect::<String>().replace('T', " "),
                    s(&p["kind"]),
                    s(&p["actor"]),
                    s(&e["event_id"]),
                ]
            })
            .collect();
        let mut out = table(&["SEQ", "WHEN (UTC)", "KIND", "ACTOR", "EVENT"], &rows);
        if let Some(next) = body["next"].as_u64() {
            out.push_str(&format!("\nmore: lineage history {} --after {next}\n", args.project));
        }
        out
    });
}

pub fn readiness(args: ReadinessArgs) {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("medium", &args.medium).append_pair("format", &args.format).append_pair("channel", &args.channel);
    let path = format!("/v1/projects/{}/assets/{}/readiness?{}", args.project, args.asset, query.finish());
    let answer = args.server.client().get(&path).unwrap_or_else(|e| fail(e));
    print(answer, args.json, |body| {
        let ready = if body["ready"] == true { "READY" } else { "NOT READY" };
        let mut out = format!(
            "{ready}: {} as {} {} for {} under {}\n\n",
            s(&body["asset"]),
            s(&body["medium"]),
            s(&body["format"]),
            s(&body["channel"]),
            s(&body["rule_set"])
        );
        let rows: Vec<Vec<String>> = body["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                let passed = r["passed"] == true;
                let evidence: Vec<String> = r["evidence"].as_array().into_iter().flatten().map(s).collect();
                let why = if passed { evidence.join(", ") } else { s(&r["missing"]) };
                vec![if passed { "pass" } else { "FAIL" }.to_owned(), s(&r["rule"]), why]
            })
            .collect();
        out.push_str(&table(&["", "RULE", "EVIDENCE OR WHAT IS MISSING"], &rows));
        out
    });
}

/// A provenance graph as a tree from the asset: each node under the one that depends on it, a
/// node reached again marked `(above)` rather than repeated; people are left out (the audit
/// trail names who signed what).
pub fn provenance(body: &Value) -> String {
    use std::collections::{HashMap, HashSet};
    let graph = &body["graph"];
    let root = s(&graph["root"]);
    // Each child once under its parent, with every kind of edge between them.
    let mut children: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let descendants = body["direction"] == "descendants";
    for e in graph["edges"].as_array().into_iter().flatten() {
        let (from, to, kind) = (s(&e["from"]), s(&e["to"]), s(&e["kind"]));
        if from.starts_with("actor:") || to.starts_with("actor:") {
            continue;
        }
        let (parent, child) = if descendants { (to, from) } else { (from, to) };
        let list = children.entry(parent).or_default();
        match list.iter_mut().find(|(_, c)| *c == child) {
            Some((kinds, _)) => kinds.push_str(&format!(", {kind}")),
            None => list.push((kind, child)),
        }
    }
    let retracted: HashSet<String> = graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["retracted"] == true)
        .map(|n| s(&n["key"]))
        .collect();
    let mut out = String::new();
    let mut seen = HashSet::new();
    // An explicit stack: a deep lineage draws without deep recursion.
    let mut stack = vec![(root.clone(), String::new(), 0usize)];
    while let Some((node, via, depth)) = stack.pop() {
        let indent = "  ".repeat(depth);
        let mark = if retracted.contains(&node) { " (retracted)" } else { "" };
        // Ancestors: how the node above depends on this one; descendants: how this one depends
        // on the node above.
        let (arrow, after) = match (via.is_empty(), descendants) {
            (true, _) => (String::new(), String::new()),
            (false, false) => (format!("{via} → "), String::new()),
            (false, true) => (String::new(), format!(" ({via} it)")),
        };
        if !seen.insert(node.clone()) {
            out.push_str(&format!("{indent}{arrow}{node}{after} (above)\n"));
            continue;
        }
        out.push_str(&format!("{indent}{arrow}{node}{after}{mark}\n"));
        for (kind, child) in children.get(&node).into_iter().flatten().rev() {
            stack.push((child.clone(), kind.clone(), depth + 1));
        }
    }
    if body["truncated"] == true {
        out.push_str("… cut at --depth; ask again with a larger one\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_is_one_line_and_never_an_escape_sequence() {
        let v = Value::String("a\nb\u{1b}[31mred\u{9b}".to_owned());
        assert_eq!(s(&v), "a b\u{FFFD}[31mred\u{FFFD}");
        assert_eq!(s(&Value::Null), "");
        assert_eq!(s(&serde_json::json!(7)), "7");
    }
}
