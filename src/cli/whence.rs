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

/// The ledger record a file's Content Credentials carry, if it has any the ledger signed, with
/// the SDK's validation state of the file.
fn credentials_of(bytes: &[u8]) -> Option<(Value, String)> {
    let format = if bytes.starts_with(b"\x89PNG") { "image/png" } else { "image/jpeg" };
    let reader =
        c2pa::Reader::from_context(c2pa::Context::new()).with_stream(format, std::io::Cursor::new(bytes)).ok()?;
    let manifest = reader.active_manifest()?;
    let signer = [manifest.common_name(), manifest.issuer()].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let state = format!(
        "{:?}, signed by {}",
        reader.validation_state(),
        if signer.is_empty() { "an unnamed signer" } else { &signer }
    );
    let record = manifest.assertions().iter().find(|a| a.label() == LEDGER_ASSERTION)?.value().ok()?;
    Some((record.clone(), state))
}

fn lookup(server: &ServerArgs, digest: &str) -> Value {
    let answer = server.client().get(&format!("/v1/assets?digest={digest}")).unwrap_or_else(|e| fail(e));
    if !answer.ok() {
        fail(answer.body["detail"].as_str().unwrap_or(&answer.text));
    }
    answer.body
}

pub(super) fn whence(args: WhenceArgs) {
    let bytes = std::fs::read(&args.file).unwrap_or_else(|e| fail(format!("{}: {e}", args.file.display())));
    let digest = Digest::of(&bytes).to_string();
    let mut found = lookup(&args.server, &digest);
    let mut credentials = None;
    if found["assets"].as_array().is_some_and(|a| a.is_empty()) {
        // A signed file is the recorded bytes with a manifest inside: look up the digest its
        // manifest names.
        if let Some((record, state)) = credentials_of(&bytes) {
            if let Some(recorded) = record["record"]["digest"].as_str() {
                found = lookup(&args.server, recorded);
                credentials = Some((record, state));
            }
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&found).unwrap_or_default());
        return;
    }
    println!("{}: {digest}", args.file.display());
    if let Some((record, state)) = &credentials {
        println!(
            "  its bytes are not recorded; it carries Content Credentials (the C2PA SDK finds them {state}) that name \
             `{}` of `{}` (entry {}, recorded as {}): the claim of whoever signed them, as far as you trust that \
             signer. What the ledger holds of that asset:",
            record["record"]["asset"].as_str().unwrap_or("?"),
            record["record"]["project"].as_str().unwrap_or("?"),
            record["record"]["sequence"],
            record["record"]["digest"].as_str().unwrap_or("?"),
        );
    }
    let assets = found["assets"].as_array().cloned().unwrap_or_default();
    if assets.is_empty() {
        println!("  not recorded in any project this token may read");
        std::process::exit(1);
    }
    for a in &assets {
        println!(
            "  {} / {} ({}), recorded by {} at entry {}",
            a["project"].as_str().unwrap_or("?"),
            a["asset"].as_str().unwrap_or("?"),
            a["media_type"].as_str().unwrap_or("?"),
            a["recorded_by"]["kind"].as_str().unwrap_or("?"),
            a["recorded_by"]["sequence"],
        );
        println!(
            "    {} ({})",
            a["disclosure"]["statement"].as_str().unwrap_or(""),
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
        if let Some(verdict) = a.get("verdict") {
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
    if found["truncated"] == true {
        println!("  (more assets hold these bytes than were listed)");
    }
}
