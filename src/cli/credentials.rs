//! `lineage credentials`: an asset's Content Credentials signed into its file with the user's
//! own certificate and key, on the user's machine: the manifest comes from the server, the key
//! never leaves.

use super::{fail, ServerArgs};
use crate::domain::Digest;
use crate::outputs::credentials::LEDGER_ASSERTION;
use crate::outputs::signing::{sign, SigningCredentials};
use serde_json::Value;
use std::path::PathBuf;

/// What `lineage credentials` takes.
#[derive(clap::Args)]
pub struct CredentialsArgs {
    project: String,
    asset: String,
    /// The asset's file (JPEG or PNG): its bytes must be the asset's recorded digest.
    #[arg(long)]
    file: PathBuf,
    /// Where the signed file is written.
    #[arg(long)]
    out: PathBuf,
    /// Certificate chain, PEM, end-entity first (digitalSignature key usage, an extended key usage
    /// C2PA allows, issued by a CA).
    #[arg(long)]
    cert: PathBuf,
    /// Private key of the end-entity certificate, PKCS#8 PEM (Ed25519 or ECDSA P-256).
    #[arg(long)]
    key: PathBuf,
    #[command(flatten)]
    server: ServerArgs,
}

/// The ledger's record in a manifest: the digest and the entry.
fn record(manifest: &Value) -> Option<&Value> {
    manifest["assertions"].as_array()?.iter().find(|a| a["label"] == LEDGER_ASSERTION).map(|a| &a["data"]["record"])
}

pub(super) fn credentials(args: CredentialsArgs) {
    let signing = SigningCredentials::load(&args.cert, &args.key).unwrap_or_else(|e| fail(e));
    let file = std::fs::read(&args.file).unwrap_or_else(|e| fail(format!("{}: {e}", args.file.display())));
    let path = format!("/v1/projects/{}/assets/{}/c2pa", args.project, args.asset);
    let answer = args.server.client().get(&path).unwrap_or_else(|e| fail(e));
    if !answer.ok() {
        fail(answer.body["detail"].as_str().unwrap_or(&answer.text));
    }
    let manifest = answer.body;
    let Some(record) = record(&manifest).filter(|r| r.is_object()) else {
        fail(format!(
            "the server's manifest of `{}` carries no ledger record yet (no checkpoint covers it)",
            args.asset
        ))
    };
    let recorded = record["digest"].as_str().unwrap_or_default();
    let digest = Digest::of(&file).to_string();
    if digest != recorded {
        fail(format!(
            "{} is not the asset's bytes: its digest is {digest}, `{}` is recorded as {recorded}",
            args.file.display(),
            args.asset
        ));
    }
    let media_type = manifest["format"].as_str().unwrap_or_default();
    let signed = sign(&manifest, media_type, &file, &signing).unwrap_or_else(|e| fail(e));
    // Written beside the target and renamed over it: a reader never sees half a file.
    let partial = args.out.with_extension("partial");
    std::fs::write(&partial, &signed)
        .and_then(|()| std::fs::rename(&partial, &args.out))
        .unwrap_or_else(|e| fail(format!("{}: {e}", args.out.display())));
    let term = manifest["assertions"]
        .as_array()
        .and_then(|all| all.iter().find(|a| a["label"] == LEDGER_ASSERTION))
        .and_then(|a| a["data"]["disclosure"]["term"].as_str())
        .unwrap_or("unknown");
    println!(
        "signed the Content Credentials of `{}` into {} ({} bytes): {term}, {} ingredients, entry {} in a tree of {}",
        args.asset,
        args.out.display(),
        signed.len(),
        manifest["ingredients"].as_array().map_or(0, |i| i.len()),
        record["sequence"],
        record["tree_size"],
    );
}
