//! Building an asset's evidence bundle from the durable log (its format and verification are
//! in [`crate::log::evidence`]).

use super::Ledger;
use crate::domain::ids::SYSTEM_PROJECT;
use crate::domain::Id;
use crate::log::evidence::{Bundle, EvidenceEntry, EVIDENCE_FORMAT};
use crate::log::export::EntryRecord;
use crate::log::{open_entry, Entry};
use crate::projections::lineage::ProjectGraph;
use crate::store::StoreError;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// Builds the bundle of an asset; `None` when the project has no such asset.
pub fn build(ledger: &Ledger, project: &str, asset: &Id) -> Result<Option<Bundle>, StoreError> {
    let Some(signed) = ledger.checkpoint() else { return Ok(None) };
    // An asset is named by the entry that made it: without one there is nothing to read.
    if ledger.asset_sequences(project, asset.as_str())?.is_empty() {
        return Ok(None);
    }
    let size = signed.checkpoint.size;
    let entries = ledger.stream_below(project, size)?;
    let decoded: Vec<_> =
        entries.iter().filter_map(|e| open_entry(e).ok().map(|(_, payload)| (e.sequence, payload))).collect();
    let graph = ProjectGraph::new(&decoded);
    let Some(mut lineage) = graph.lineage(asset) else { return Ok(None) };
    // The project's governance too: who was a member with which role, and its policy.
    lineage.extend(decoded.iter().filter(|(_, p)| p.kind().is_governance()).map(|(sequence, _)| *sequence));
    // And what counts against the bytes of the lineage's assets recorded as other assets, with
    // the retractions of those entries, as the policy weighs them.
    let project_id = crate::domain::ProjectId::parse(project).map_err(|e| StoreError::Malformed(e.to_string()))?;
    let against = ledger
        .with_project(&project_id, |p, _| {
            let changes = crate::domain::Changes::default();
            let view = crate::domain::View { base: &p.rules, changes: &changes, events: &crate::domain::NoEvents };
            crate::domain::policy::against_lineage(&view, &project_id, asset)
        })?
        .unwrap_or_default();
    let against: Vec<u64> = against.iter().filter_map(|id| graph.sequence_of(id)).filter(|s| *s < size).collect();
    lineage.extend(graph.retractions_of(&against));
    // Each with what it was made from, so that the bundle stays whole backwards.
    let bodies: std::collections::HashMap<u64, &crate::domain::Body> =
        decoded.iter().map(|(s, p)| (*s, &p.body)).collect();
    for sequence in &against {
        if let Some(body) = bodies.get(sequence) {
            lineage.extend(graph.lineage_of_entry(body));
        }
    }
    lineage.extend(against);
    let mut chosen: Vec<Entry> = entries.into_iter().filter(|e| lineage.contains(&e.sequence)).collect();
    chosen.extend(ledger.stream_below(SYSTEM_PROJECT, size)?);
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
