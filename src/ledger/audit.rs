//! An asset's audit trail: every entry that names it, the evidence against its bytes recorded as
//! other assets, the retractions that took any of them back and the revocations of its signers'
//! keys, each with its signature's standing and what it says of the asset — read from the log,
//! the project's projection and the subject map, as the evidence bundle is
//! ([`super::evidence`]), with the lists that show it left nothing out.

use super::Ledger;
use crate::domain::{Id, ProjectId};
use crate::log::admission::signature_holds;
use crate::log::{open_entry, subjects};
use crate::projections::ProjectProjection;
use crate::store::StoreError;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub sequence: u64,
    pub version: u64,
    pub event_id: String,
    pub kind: String,
    pub actor: String,
    pub key_id: String,
    pub occurred_at: String,
    pub received_at: String,
    /// Hex entry hash.
    pub hash: String,
    /// Hex leaf hash (the entry's hash in the Merkle tree, `docs/formats.md`).
    pub leaf_hash: String,
    /// `sha256:` of the payload bytes the signature covers.
    pub payload_digest: String,
    /// Where to fetch the entry's inclusion proof.
    pub proof: String,
    /// `valid`, `valid, key revoked since`, or `invalid`.
    pub signature: String,
    /// Whether the signing key was revoked after this entry (the entry stays valid).
    pub key_revoked_since: bool,
    /// What the event says about the asset: a review's verdict and failed checks, an approval's
    /// decision, a selection's, which event made the asset or took it as an input.
    pub says: String,
    /// Whether an entry of the log as it is now retracted this event (its evidence no longer
    /// counts).
    pub retracted: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditTrail {
    pub project: String,
    pub asset: String,
    pub entries: Vec<AuditEntry>,
    /// For the trail of the latest map revision (not one `as_of` an earlier size): the lists of
    /// the asset's subject and of each signer's keys, with their proof in the subject map of
    /// the map checkpoint (`docs/transparency.md`, "The audit trail").
    pub completeness: Option<Completeness>,
}

/// What shows that an audit trail left nothing out: as an evidence bundle's lists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Completeness {
    pub tree_size: u64,
    /// The signed map checkpoint of `tree_size` entries.
    pub checkpoint: String,
    pub subjects: Vec<crate::log::completeness::Subject>,
    pub map_proof: Vec<String>,
}

/// The evidence against an asset's bytes recorded as other assets, as the policy counts it
/// ([`crate::domain::policy::against_bytes`]), in the project as the projection holds it.
pub fn against_bytes(p: &ProjectProjection, project: &ProjectId, asset: &Id) -> Vec<crate::domain::EventId> {
    let changes = crate::domain::Changes::default();
    let view = crate::domain::View { base: &p.rules, changes: &changes, events: &crate::domain::NoEvents };
    crate::domain::policy::against_bytes(&view, project, asset)
}

/// The entries of events among the first `size` entries of the log, in log order.
pub fn against_entries(
    ledger: &Ledger,
    events: &[crate::domain::EventId],
    size: u64,
) -> Result<Vec<crate::log::Entry>, StoreError> {
    let mut out = Vec::new();
    for event in events {
        if let Some(entry) = ledger.entry_by_event(event.as_str())?.filter(|e| e.sequence < size) {
            out.push(entry);
        }
    }
    out.sort_by_key(|e| e.sequence);
    Ok(out)
}

/// The audit trail of an asset among the first `size` entries of the log: every entry naming
/// it, the evidence against its bytes recorded as other assets, and the retractions that took
/// any of them back, in log order.
pub fn trail(
    ledger: &Ledger,
    project: &ProjectId,
    asset: &Id,
    as_of: Option<u64>,
) -> Result<Option<AuditTrail>, super::evidence::EvidenceError> {
    let (revision, upper) = ledger.map_covering(as_of.unwrap_or_else(|| ledger.len()))?;
    let size = as_of.unwrap_or(revision.size);
    let Some(mut trail) = trail_at(ledger, project, asset, size)? else { return Ok(None) };
    // Each signer's key revocations, the entries themselves.
    let system = ledger.system();
    let mut listed = std::collections::BTreeMap::new();
    listed.insert(subjects::asset(project.as_str(), asset.as_str()), Vec::new());
    for entry in &trail.entries {
        if entry.actor != crate::domain::genesis::LEDGER_ACTOR {
            listed.insert(subjects::actor(&entry.actor), Vec::new());
        }
    }
    let (_, mut lists) = ledger.system_below(size)?;
    for sequence in ledger.asset_sequences(project.as_str(), asset.as_str())? {
        if let Some(entry) = ledger.entry(sequence)?.filter(|e| e.sequence < size) {
            if let Ok((_, payload)) = open_entry(&entry) {
                lists.add(sequence, &payload);
            }
        }
    }
    for (subject, sequences) in listed.iter_mut() {
        *sequences = lists.of(subject);
        if !subject.starts_with("actor:") {
            continue;
        }
        for sequence in sequences.iter() {
            let Some(entry) = ledger.entry(*sequence)? else { continue };
            let revokes = open_entry(&entry).is_ok_and(|(_, p)| p.kind() == crate::domain::Kind::KeyRevoked);
            if revokes && !trail.entries.iter().any(|e| e.sequence == *sequence) {
                trail.entries.extend(audit_entry(&system, &entry, asset, None).map(|(audited, _)| audited));
            }
        }
    }
    trail.entries.sort_by_key(|e| e.sequence);
    if size == revision.size {
        let leaf_of =
            |sequence: u64| ledger.entry(sequence)?.map(|e| e.leaf_hash()).ok_or(StoreError::Vanished { sequence });
        let map_proof = super::evidence::map_proof(ledger, &upper, &listed, size, &leaf_of)?;
        let subjects = listed.into_iter().map(|(subject, sequences)| ledger.disclosed(subject, sequences)).collect();
        trail.completeness = Some(Completeness { tree_size: size, checkpoint: revision.note, subjects, map_proof });
    }
    Ok(Some(trail))
}

fn trail_at(ledger: &Ledger, project: &ProjectId, asset: &Id, size: u64) -> Result<Option<AuditTrail>, StoreError> {
    let system = ledger.system();
    let mut entries = Vec::new();
    let mut events = Vec::new();
    for sequence in ledger.asset_sequences(project.as_str(), asset.as_str())? {
        if sequence >= size {
            break;
        }
        let Some(entry) = ledger.entry(sequence)? else { continue };
        if let Some((audited, event)) = audit_entry(&system, &entry, asset, None) {
            entries.push(audited);
            events.push(event);
        }
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let (against, digest) = ledger
        .with_project(project, |p, _| {
            let changes = crate::domain::Changes::default();
            let view = crate::domain::View { base: &p.rules, changes: &changes, events: &crate::domain::NoEvents };
            let digest = view.asset(project, asset).map(|r| crate::domain::Digest::from_bytes(&r.digest));
            (against_bytes(p, project, asset), digest)
        })?
        .unwrap_or_default();
    for entry in against_entries(ledger, &against, size)? {
        if let Some((audited, event)) = audit_entry(&system, &entry, asset, digest.as_ref()) {
            entries.push(audited);
            events.push(event);
        }
    }
    let (retracted, retractions): (Vec<bool>, Vec<u64>) = ledger
        .with_project(project, |p, _| {
            let changes = crate::domain::Changes::default();
            let view = crate::domain::View { base: &p.rules, changes: &changes, events: &crate::domain::NoEvents };
            let flags: Vec<bool> = events.iter().map(|id| view.is_retracted(project, id)).collect();
            // The entries of the retractions that took them back (the projection knows where
            // each retraction stands among the project's events).
            let mut by: Vec<u64> = entries
                .iter()
                .zip(&flags)
                .filter(|(_, retracted)| **retracted)
                .filter_map(|(e, _)| p.events.get(usize::try_from(e.version).ok()?.checked_sub(1)?)?.retracted_at)
                .filter_map(|at| p.events.get(at as usize).map(|m| m.sequence))
                .filter(|sequence| *sequence < size)
                .collect();
            by.sort_unstable();
            by.dedup();
            (flags, by)
        })?
        .unwrap_or_default();
    for (entry, retracted) in entries.iter_mut().zip(retracted) {
        entry.retracted = retracted;
    }
    for sequence in retractions {
        if let Some((audited, _)) = ledger.entry(sequence)?.and_then(|e| audit_entry(&system, &e, asset, None)) {
            entries.push(audited);
        }
    }
    entries.sort_by_key(|e| e.sequence);
    Ok(Some(AuditTrail { project: project.to_string(), asset: asset.to_string(), entries, completeness: None }))
}

/// One entry of an audit trail, and its event id; `against` the asset's digest, for evidence
/// against its bytes recorded as another asset.
fn audit_entry(
    system: &crate::domain::SystemState,
    entry: &crate::log::Entry,
    asset: &Id,
    against: Option<&crate::domain::Digest>,
) -> Option<(AuditEntry, crate::domain::EventId)> {
    let (opened, payload) = open_entry(entry).ok()?;
    let revoked = system.key(&opened.key_id).map(|(_, _, k)| k.revoked);
    let signature = match (signature_holds(system, &opened), revoked) {
        (true, Some(true)) => "valid, key revoked since",
        (true, _) => "valid",
        (false, _) => "invalid",
    };
    let says = match against {
        Some(digest) => crate::projections::audit::what_it_says_of_bytes(&payload, digest),
        None => crate::projections::audit::what_it_says(&payload, asset),
    };
    let sequence = entry.sequence;
    let audited = AuditEntry {
        sequence,
        version: entry.version,
        event_id: payload.event_id.to_string(),
        kind: payload.kind().as_str().to_owned(),
        actor: payload.actor.to_string(),
        key_id: opened.key_id.to_string(),
        occurred_at: payload.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        received_at: entry.received_at().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        hash: hex::encode(entry.hash),
        leaf_hash: hex::encode(entry.leaf_hash()),
        payload_digest: crate::domain::Digest::of(&opened.payload).to_string(),
        proof: format!("/v1/proofs/inclusion?sequence={sequence}"),
        signature: signature.to_owned(),
        key_revoked_since: revoked == Some(true),
        says,
        retracted: false,
    };
    Some((audited, payload.event_id))
}
