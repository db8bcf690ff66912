//! `lineage whence FILE`: where a file comes from, by its bytes — the projects and assets that
//! recorded them, their disclosure and verdict — and, for a file carrying Content Credentials the
//! ledger signed, the asset its manifest names.

use super::{fail, ServerArgs};
use crate::domain::Digest;
use crate::outputs::credentials::LEDGER_ASSERTION;
use serde_json::Value;
use std::path::PathBuf;

/// What `lineage whence` takes.
#[derive(clap::Args)]
pub struct WhenceArgs {
    /// The file.
    file: PathBuf,
    /// Print the server's answer as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    server: ServerArgs,
}

/// What a file's Content Credentials say, when it carries a manifest with the ledger's record.
struct Credentials {
    /// The `lineage.ledger` assertion.
    record: Value,
    /// The C2PA SDK's validation state and the signer, in words.
    state: String,
    /// Whether the manifest validates: its hard binding matches these bytes and its signature
    /// verifies (trusted or not).
    valid: bool,
}

fn credentials_of(bytes: &[u8]) -> Option<Credentials> {
    let format = if bytes.starts_with(b"\x89PNG") { "image/png" } else { "image/jpeg" };
    let reader =
        c2pa::Reader::from_context(c2pa::Context::new()).with_stream(format, std::io::Cursor::new(bytes)).ok()?;
    let manifest = reader.active_manifest()?;
    let signer = [manifest.common_name(), manifest.issuer()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let validation = reader.validation_state();
    let state = format!("{validation:?}, signed by {}", if signer.is_empty() { "an unnamed signer" } else { &signer });
    let record = manifest.assertions().iter().find(|a| a.label() == LEDGER_ASSERTION)?.value().ok()?.clone();
    Some(Credentials { record, state, valid: validation != c2pa::ValidationState::Invalid })
}

fn lookup(server: &ServerArgs, digest: &str) -> Value {
    // A digest a manifest names is the signer's text: sent encoded, as any query value.
    let query: String = form_urlencoded::Serializer::new(String::new()).append_pair("digest", digest).finish();
    let answer = server.client().get(&format!("/v1/assets?{query}")).unwrap_or_else(|e| fail(e));
    if !answer.ok() {
        fail(answer.body["detail"].as_str().unwrap_or(&answer.text));
    }
    answer.body
}

pub(super) fn whence(args: WhenceArgs) {
    let bytes = std::fs::read(&args.file).unwrap_or_else(|e| fail(format!("{}: {e}", args.file.display())));
    let digest = Digest::of(&bytes).to_string();
    let by_bytes = lookup(&args.server, &digest);
    let recorded = by_bytes["assets"].as_array().is_some_and(|a| !a.is_empty());
    // A signed file is the recorded bytes with a manifest inside: when its own bytes are not
    // recorded, what its valid manifest names is looked up — that asset alone.
    let credentials = if recorded { None } else { credentials_of(&bytes) };
    let (found_by, assets, truncated) = match &credentials {
        None => ("bytes", by_bytes["assets"].as_array().cloned().unwrap_or_default(), by_bytes["truncated"] == true),
        Some(c) if !c.valid => ("nothing", vec![], false),
        Some(c) => {
            let named = &c.record["record"];
            let answer = lookup(&args.server, named["digest"].as_str().unwrap_or_default());
            let all = answer["assets"].as_array().cloned().unwrap_or_default();
            let same = |a: &Value| a["project"] == named["project"] && a["asset"] == named["asset"];
            ("credentials", all.into_iter().filter(same).collect(), false)
        }
    };
    if args.json {
        let mut out = serde_json::json!({"file": args.file.display().to_string(), "digest": digest,
            "found_by": if assets.is_empty() { "nothing" } else { found_by }, "assets": assets, "truncated": truncated});
        if let Some(c) = &credentials {
            out["credentials"] =
                serde_json::json!({"validation": c.state, "valid": c.valid, "names": c.record["record"]});
        }
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        if assets.is_empty() {
            std::process::exit(1);
        }
        return;
    }
    println!("{}: {digest}", args.file.display());
    if let Some(c) = &credentials {
        let named = &c.record["record"];
        // What a manifest says is the signer's text: one line, no control character.
        let line = |v: &Value| super::people::one_line(v.as_str().unwrap_or("?"));
        let (project, asset) = (line(&named["project"]), line(&named["asset"]));
        let state = super::people::one_line(&c.state);
        if c.valid {
            println!(
                "  its bytes are not recorded; it carries Content Credentials (the C2PA SDK finds them {}) that name \
                 `{asset}` of `{project}` (entry {}, recorded as {}): the claim of whoever signed them, as far as you \
                 trust that signer. What the ledger holds of that asset:",
                state,
                named["sequence"],
                line(&named["digest"]),
            );
        } else {
            println!(
                "  its bytes are not recorded, and the Content Credentials it carries do not validate ({}): its bytes \
                 changed after signing, or the manifest is not its own. It names `{asset}` of `{project}`; nothing can be \
                 said of this file from that.",
                state
            );
        }
    }
    if assets.is_empty() {
        println!("  not recorded in any project this token may read");
        std::process::exit(1);
    }
    for a in &assets {
        print_asset(&args.server, a);
    }
    if truncated {
        println!("  (more assets hold these bytes than were listed)");
    }
}

/// Prints one asset found: where it is, what made it, its lineage and, delivered, its verdict.
fn print_asset(server: &ServerArgs, a: &Value) {
    println!(
        "  {} / {} ({}), recorded by {} at entry {}",
        super::people::one_line(a["project"].as_str().unwrap_or("?")),
        super::people::one_line(a["asset"].as_str().unwrap_or("?")),
        super::people::one_line(a["media_type"].as_str().unwrap_or("?")),
        a["recorded_by"]["kind"].as_str().unwrap_or("?"),
        a["recorded_by"]["sequence"],
    );
    println!(
        "    {} ({})",
        super::people::one_line(a["disclosure"]["statement"].as_str().unwrap_or("")),
        a["disclosure"]["term"].as_str().unwrap_or("")
    );
    let lineage = &a["lineage"];
    let count = |k: &str| lineage[k].as_array().map_or(0, |l| l.len());
    println!(
        "    made from {} assets, {} prompts, {} model versions: {}",
        count("assets"),
        count("prompts"),
        count("model_versions"),
        lineage["provenance"].as_str().unwrap_or("")
    );
    let verdict = a["verdict"].as_str().map(|path| server.client().get(path).map(|v| v.body));
    if let Some(verdict) = verdict {
        let verdict = verdict.unwrap_or_else(|e| fail(e));
        let failing: Vec<String> = verdict["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["passed"] == false)
            .map(|c| format!("{}: {}", c["check"].as_str().unwrap_or("?"), c["reasons"][0].as_str().unwrap_or("")))
            .collect();
        println!(
            "    compliance verdict: {}{}",
            verdict["verdict"].as_str().unwrap_or("?"),
            if failing.is_empty() { String::new() } else { format!(" — {}", failing.join("; ")) }
        );
    }
}
