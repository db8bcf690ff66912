//! Evidence bundles: everything needed to check, offline and without trusting the server, where
//! an asset came from — the entries of its lineage, every entry of the `system` stream (so that
//! each signer's key can be traced back to the ledger's own key), an inclusion proof of each
//! entry, and the signed checkpoint they are proven against.

use crate::crypto::checkpoint::Checkpoint;
use crate::crypto::merkle::verify_inclusion;
use crate::domain::rules::check_signer;
use crate::domain::state::{created_records, named_assets, Namespace};
use crate::domain::{Changes, Id, LedgerState, View};
use crate::export::{genesis_from, trusted_verifier, EntryRecord, VerifyError};
use crate::ledger::replay::{Broken, Chain};
use crate::ledger::{open_entry, Ledger};
use crate::projections::lineage::ProjectGraph;
use crate::store::StoreError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

pub const EVIDENCE_FORMAT: &str = "lineage-evidence";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceEntry {
    pub entry: EntryRecord,
    /// Hex hashes of the entry's inclusion proof in the tree of `tree_size` entries.
    pub inclusion: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always `lineage-evidence`.
    pub format: String,
    pub version: u32,
    pub origin: String,
    /// The checkpoint verifier key (C2SP vkey); pin it rather than trusting the bundle's copy.
    pub vkey: String,
    /// Standard base64 of the ledger's ed25519 public key.
    pub ledger_public_key: String,
    pub project: String,
    pub asset: String,
    pub tree_size: u64,
    /// The signed checkpoint of `tree_size` entries.
    pub checkpoint: String,
    /// In ledger order: the asset's lineage and the whole `system` stream.
    pub entries: Vec<EvidenceEntry>,
}

/// Builds the bundle of an asset; `None` when the project has no such asset.
pub fn build(ledger: &Ledger, project: &str, asset: &Id) -> Result<Option<Bundle>, StoreError> {
    let Some(signed) = ledger.checkpoint() else { return Ok(None) };
    let size = signed.checkpoint.size;
    let entries = ledger.stream_below(project, size)?;
    let decoded: Vec<_> =
        entries.iter().filter_map(|e| open_entry(e).ok().map(|(_, payload)| (e.sequence, payload))).collect();
    let Some(lineage) = ProjectGraph::new(&decoded).lineage(asset) else { return Ok(None) };
    let mut chosen: Vec<crate::entry::Entry> = entries.into_iter().filter(|e| lineage.contains(&e.sequence)).collect();
    chosen.extend(ledger.stream_below(crate::domain::ids::SYSTEM_PROJECT, size)?);
    chosen.sort_by_key(|e| e.sequence);
    let mut out = Vec::with_capacity(chosen.len());
    for entry in &chosen {
        let proof = ledger.inclusion_proof(entry.sequence, size)?.unwrap_or_default();
        out.push(EvidenceEntry { entry: EntryRecord::of(entry), inclusion: proof.iter().map(hex::encode).collect() });
    }
    let verifier = ledger.verifier();
    Ok(Some(Bundle {
        format: EVIDENCE_FORMAT.into(),
        version: 1,
        origin: signed.checkpoint.origin.clone(),
        vkey: verifier.vkey(),
        ledger_public_key: B64.encode(verifier.key.to_bytes()),
        project: project.to_owned(),
        asset: asset.to_string(),
        tree_size: size,
        checkpoint: signed.note,
        entries: out,
    }))
}

/// What a verified bundle proves.
#[derive(Debug)]
pub struct Proven {
    pub tree_size: u64,
    pub root: [u8; 32],
    /// Entries of the project's lineage (not counting the system stream).
    pub lineage_entries: usize,
    pub system_entries: usize,
}

/// Verifies a bundle offline: the checkpoint's signature, each entry's inclusion in it, each
/// entry's hash and signature by a key the system stream had registered (and not revoked) for
/// an actor whose role may sign the kind, and that the lineage names the asset.
pub fn verify(bundle: &Bundle, pinned_vkey: Option<&str>) -> Result<Proven, VerifyError> {
    if bundle.format != EVIDENCE_FORMAT || bundle.version != 1 {
        return Err(VerifyError::Format { line: 1, reason: format!("not a {EVIDENCE_FORMAT} version 1 bundle") });
    }
    let verifier = trusted_verifier(&bundle.vkey, &bundle.ledger_public_key, pinned_vkey)?;
    let checkpoint = Checkpoint::open(&bundle.checkpoint, &verifier)
        .map_err(|e| Broken { sequence: bundle.tree_size, reason: format!("the checkpoint: {e}") })?;
    if checkpoint.size != bundle.tree_size {
        return Err(Broken { sequence: checkpoint.size, reason: "the checkpoint is not of tree_size".into() }.into());
    }
    let mut state = LedgerState::new(genesis_from(&bundle.ledger_public_key)?);
    let mut system_chain = Chain::default();
    let (mut lineage_entries, mut system_entries, mut names_asset) = (0, 0, false);
    let mut previous: Option<u64> = None;
    for item in &bundle.entries {
        let entry = item.entry.to_entry()?;
        let sequence = entry.sequence;
        let fail = |reason: String| VerifyError::Entry(Broken { sequence, reason });
        if previous.is_some_and(|p| p >= sequence) {
            return Err(fail("entries are not in ledger order".into()));
        }
        previous = Some(sequence);
        if entry.computed_hash() != entry.hash {
            return Err(fail("its hash does not match its bytes".into()));
        }
        let proof: Vec<Vec<u8>> = item.inclusion.iter().map(|h| hex::decode(h).unwrap_or_default()).collect();
        verify_inclusion(sequence, checkpoint.size, &entry.leaf_hash(), &proof, &checkpoint.root)
            .map_err(|e| fail(format!("it is not in the checkpointed log: {e}")))?;
        let (opened, payload) = open_entry(&entry).map_err(|e| fail(e.to_string()))?;
        if payload.project.as_str() != entry.project {
            return Err(fail("its stream differs from its payload's project".into()));
        }
        let changes = Changes::default();
        let view = View { base: &state, changes: &changes, events: &crate::domain::NoEvents };
        check_signer(&view, &payload, &opened.key_id).map_err(|r| fail(format!("signer: {r}")))?;
        let key =
            view.system().key(&opened.key_id).and_then(|(_, _, k)| VerifyingKey::from_bytes(k.public_key.bytes()).ok());
        if !key.is_some_and(|k| opened.verify(&k)) {
            return Err(fail(format!("the signature by key `{}` does not verify", opened.key_id)));
        }
        if payload.project.is_system() {
            if entry.version != system_chain.version + 1 || entry.prev_hash != system_chain.head {
                return Err(fail("the system stream is incomplete or out of order".into()));
            }
            system_chain = Chain { version: entry.version, head: entry.hash };
            state.apply(&payload);
            system_entries += 1;
        } else if payload.project.as_str() == bundle.project {
            lineage_entries += 1;
            let creates = created_records(&payload.body)
                .iter()
                .any(|(ns, id, _)| *ns == Namespace::Asset && id.as_str() == bundle.asset);
            names_asset |= creates || named_assets(&payload.body).iter().any(|a| a.as_str() == bundle.asset);
        } else {
            return Err(fail(format!("it belongs to project `{}`, not `{}`", entry.project, bundle.project)));
        }
    }
    if !names_asset {
        return Err(VerifyError::Format { line: 1, reason: format!("no entry names asset `{}`", bundle.asset) });
    }
    Ok(Proven { tree_size: checkpoint.size, root: checkpoint.root, lineage_entries, system_entries })
}
