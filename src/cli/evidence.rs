//! `lineage verify-evidence`: an asset's evidence bundle checked offline, a delivered file against
//! it, and its checkpoint against another's of the same log.

use super::{client, fail, open_file};
use std::path::PathBuf;

/// What to check an evidence bundle with.
#[derive(clap::Args)]
pub struct VerifyEvidenceArgs {
    /// The bundle (`GET /v1/projects/{project}/assets/{asset}/evidence`).
    pub bundle: PathBuf,
    /// The checkpoint key you trust (`GET /v1/vkey`); without it the bundle's own key is
    /// used, and a warning says so.
    #[arg(long)]
    pub vkey: Option<String>,
    /// A delivered file: its bytes must be the asset's recorded digest, or a variant's
    /// delivered from it.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Another bundle, or a signed checkpoint (`GET /v1/checkpoint`), of the same log: their
    /// checkpoints must agree (the same root at the same size, or the later extending the
    /// earlier), and the bundle must not be the older (it would not show what happened since).
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// The consistency proof between the two checkpoints (the JSON of
    /// `GET /v1/proofs/consistency?from=&to=`); fetched from `--url` when not given.
    #[arg(long)]
    pub consistency_proof: Option<PathBuf>,
    /// A server to fetch the consistency proof from (untrusted: the proof is checked against
    /// both signed checkpoints).
    #[arg(long, env = "LINEAGE_URL")]
    pub url: Option<String>,
}

pub(super) fn verify_evidence(args: VerifyEvidenceArgs) {
    let VerifyEvidenceArgs { bundle: path, vkey, file, against, consistency_proof, url } = args;
    let bundle = read_bundle(&path);
    if vkey.is_none() {
        eprintln!(
            "lineage: WARNING: no --vkey given, so the bundle is checked against the key it carries itself ({}). Anyone can make a bundle that verifies under a key of their own: pin the ledger's key with --vkey \"$(curl -s URL/v1/vkey)\".",
            bundle.vkey
        );
    }
    let proven = crate::log::evidence::verify(&bundle, vkey.as_deref())
        .unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
    // A file that is not the asset's fails before anything is said to be verified.
    let file_said = file.map(|file| {
        let bytes = std::fs::read(&file).unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
        let digest = crate::domain::Digest::of(&bytes);
        match proven.file_matches(&bundle.asset, &digest) {
            Ok(said) => format!("{}: {said}", file.display()),
            Err(why) => fail(format!("{}: {why}", file.display())),
        }
    });
    println!(
        "verified the evidence of asset `{}` in `{}`: {} lineage entries and {} system entries, included in the log of {} entries with root {}{}",
        bundle.asset,
        bundle.project,
        proven.lineage_entries,
        proven.system_entries,
        proven.checkpoint.size,
        hex::encode(proven.checkpoint.root),
        if vkey.is_some() { " (checkpoint key pinned)" } else { " (checkpoint key NOT pinned)" }
    );
    if let Some(said) = file_said {
        println!("{said}");
    }
    if proven.disclosed > 0 {
        println!("{} disclosed confidential texts match their commitments", proven.disclosed);
    }
    if let Some(other) = against {
        check_against(&bundle, &proven, vkey.as_deref(), &other, consistency_proof.as_deref(), url.as_deref());
    }
}

/// Reads an evidence bundle, or ends with what is wrong with the file.
fn read_bundle(path: &std::path::Path) -> crate::log::evidence::Bundle {
    serde_json::from_reader(open_file(path))
        .unwrap_or_else(|e| fail(format!("{}: not an evidence bundle: {e}", path.display())))
}

/// Checks that `other` (a bundle or a signed checkpoint of the same log) and the bundle's
/// checkpoint are of one log.
fn check_against(
    bundle: &crate::log::evidence::Bundle,
    proven: &crate::log::evidence::Proven,
    vkey: Option<&str>,
    other: &std::path::Path,
    consistency_proof: Option<&std::path::Path>,
    url: Option<&str>,
) {
    let text = std::fs::read_to_string(other).unwrap_or_else(|e| fail(format!("{}: {e}", other.display())));
    let verifier =
        crate::log::export::trusted_verifier(&bundle.vkey, &bundle.ledger_public_key, vkey).unwrap_or_else(|e| fail(e));
    let theirs = if text.trim_start().starts_with('{') {
        let later = read_bundle(other);
        crate::log::evidence::verify(&later, Some(&verifier.vkey()))
            .unwrap_or_else(|e| fail(format!("{}: {e}", other.display())))
            .checkpoint
    } else {
        crate::crypto::checkpoint::Checkpoint::open(&text, &verifier)
            .unwrap_or_else(|e| fail(format!("{}: not a checkpoint of this ledger: {e}", other.display())))
    };
    let ours = &proven.checkpoint;
    let proof = (ours.size != theirs.size).then(|| {
        consistency_proof_between(ours.size.min(theirs.size), ours.size.max(theirs.size), consistency_proof, url)
    });
    match crate::log::evidence::consistent(ours, &theirs, proof.as_deref()) {
        Ok(()) => println!(
            "consistent with {}: the log of {} entries and the log of {} entries are one log",
            other.display(),
            ours.size.min(theirs.size),
            ours.size.max(theirs.size)
        ),
        Err(why) => fail(format!("{}: {why}", other.display())),
    }
    // The bundle proves what happened up to its own checkpoint: against a later one it is an
    // older state, which must not pass for the latest.
    if theirs.size > ours.size {
        let outdated = crate::log::evidence::Inconsistent::Outdated { bundle: ours.size, later: theirs.size };
        fail(format!("{}: {outdated}", other.display()));
    }
}

/// The consistency proof from `from` to `to` entries: from the file given, or fetched from the
/// server (untrusted: it is checked against both signed checkpoints).
fn consistency_proof_between(from: u64, to: u64, file: Option<&std::path::Path>, url: Option<&str>) -> Vec<Vec<u8>> {
    let json: serde_json::Value = match (file, url) {
        (Some(file), _) => serde_json::from_reader(open_file(file))
            .unwrap_or_else(|e| fail(format!("{}: not a consistency proof: {e}", file.display()))),
        (None, Some(url)) => {
            let answer = client::Client::new(url)
                .get(&format!("/v1/proofs/consistency?from={from}&to={to}"))
                .unwrap_or_else(|e| fail(e));
            if answer.status != 200 {
                fail(format!("{url}: no consistency proof from {from} to {to}: {}", answer.text));
            }
            answer.body
        }
        (None, None) => fail(format!(
            "the checkpoints are of {from} and {to} entries: give --consistency-proof (GET /v1/proofs/consistency?from={from}&to={to}) or --url"
        )),
    };
    let hashes: Vec<Vec<u8>> = json["hashes"]
        .as_array()
        .map(|list| list.iter().map(|h| hex::decode(h.as_str().unwrap_or_default()).unwrap_or_default()).collect())
        .unwrap_or_else(|| fail("the consistency proof has no `hashes` list of hex hashes"));
    if json["from"] != from || json["to"] != to {
        fail(format!("the consistency proof is not from {from} to {to}"));
    }
    hashes
}
