//! Building an asset's evidence bundle from the durable log and the subject map (its format and
//! verification are in [`crate::log::evidence`], what it must hold in
//! [`crate::log::completeness`]).

use super::map::MapView;
use super::Ledger;
use crate::crypto::map;
use crate::crypto::merkle::Hash;
use crate::domain::{Id, Payload};
use crate::log::completeness::{required, step_text, Subject};
use crate::log::evidence::{Bundle, BundleEntry, Disclosure, EVIDENCE_FORMAT, EVIDENCE_VERSION};
use crate::log::{open_entry, Entry};
use crate::projections::lineage::ProjectGraph;
use crate::store::{MapRevision, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long a bundle waits for the subject map to cover what was durable when it was asked.
pub const MAP_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the subject map covers {at} of the log's {durable} entries and has not caught up in {} s: ask again shortly", MAP_WAIT.as_secs())]
    MapBehind { at: u64, durable: u64 },
}

/// Builds the bundle of an asset as of the latest map revision, once that covers every entry
/// durable when it was asked; `None` when the project has no such asset.
pub fn build(ledger: &Ledger, project: &str, asset: &Id) -> Result<Option<Bundle>, EvidenceError> {
    let (revision, upper) = ledger.map_covering(ledger.len())?;
    Ok(build_at(ledger, project, asset, &revision, &upper)?)
}

/// Adds to a bundle the clear texts kept of the commitments its entries hold (not those erased).
pub fn disclose(bundle: &mut Bundle, kept: &crate::store::confidential::ConfidentialStore) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    for item in &bundle.entries {
        let Ok(entry) = item.to_entry() else { continue };
        let Ok((_, payload)) = open_entry(&entry) else { continue };
        for (_, commitment) in payload.body.committed() {
            if !seen.insert(commitment.clone()) {
                continue;
            }
            if let crate::store::confidential::Held::Kept(k) = kept.held(&entry.project, &commitment)? {
                let disclosure = Disclosure { commitment: commitment.to_string(), salt: k.salt, text: k.text };
                bundle.disclosures.push(disclosure);
            }
        }
    }
    Ok(())
}

/// Each subject's entries, in ledger order, among the entries added: a project's subjects'
/// entries are all in its own stream, actors' and organisations' in the system stream
/// ([`crate::log::subjects`]), so that reading those streams lists them whole — no index of
/// subjects is kept beside the log. The map's count and chain head check every list read so.
#[derive(Default)]
pub(super) struct SubjectLists(std::collections::HashMap<String, Vec<u64>>);

/// Entries by sequence, each with its payload.
pub(super) type OpenedEntries = BTreeMap<u64, (Entry, Payload)>;

impl SubjectLists {
    pub fn add(&mut self, sequence: u64, payload: &Payload) {
        for subject in crate::log::subjects::of(payload) {
            self.0.entry(subject).or_default().push(sequence);
        }
    }

    pub fn of(&self, subject: &str) -> Vec<u64> {
        self.0.get(subject).cloned().unwrap_or_default()
    }
}

impl Ledger {
    /// The system stream's entries among the first `size`, opened, and its subjects' lists.
    pub(super) fn system_below(&self, size: u64) -> Result<(OpenedEntries, SubjectLists), StoreError> {
        let mut lists = SubjectLists::default();
        let mut opened = BTreeMap::new();
        for entry in self.stream_below(crate::domain::ids::SYSTEM_PROJECT, size)? {
            let sequence = entry.sequence;
            let (_, payload) = open_entry(&entry).map_err(|source| StoreError::Unopenable { sequence, source })?;
            lists.add(sequence, &payload);
            opened.insert(sequence, (entry, payload));
        }
        Ok((opened, lists))
    }

    /// A subject's list as a bundle discloses it: with its blind, so that its key can be
    /// computed and its proof checked.
    pub(super) fn disclosed(&self, subject: String, sequences: Vec<u64>) -> Subject {
        Subject { blind: hex::encode(self.map_blinding.blind(&subject)), subject, sequences }
    }

    /// A subject's blind in the subject map, which exports disclose for every subject.
    pub fn subject_blind(&self, subject: &str) -> Hash {
        self.map_blinding.blind(subject)
    }

    /// The latest map revision, once it covers the first `size` entries (waiting up to
    /// [`MAP_WAIT`] for the follower), held for reading: the follower writes no other revision
    /// while the guard lives.
    pub fn map_covering(
        &self,
        size: u64,
    ) -> Result<(MapRevision, std::sync::RwLockReadGuard<'_, crate::crypto::map::Upper>), EvidenceError> {
        let began = Instant::now();
        loop {
            let reading = self.map_lock.read().map_err(|_| StoreError::Malformed("the map lock is poisoned".into()))?;
            let at = self.store.map_revision()?;
            match at {
                Some(revision) if revision.size >= size => return Ok((revision, reading)),
                _ if began.elapsed() > MAP_WAIT => {
                    return Err(EvidenceError::MapBehind { at: at.map_or(0, |r| r.size), durable: size })
                }
                _ => {
                    drop(reading);
                    self.map_wanted.fetch_max(size, std::sync::atomic::Ordering::AcqRel);
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
}

fn build_at(
    ledger: &Ledger,
    project: &str,
    asset: &Id,
    revision: &MapRevision,
    upper: &crate::crypto::map::Upper,
) -> Result<Option<Bundle>, StoreError> {
    let size = revision.size;
    // An asset is named by the entry that made it: without one there is nothing to read.
    if !ledger.asset_sequences(project, asset.as_str())?.iter().any(|s| *s < size) {
        return Ok(None);
    }
    let entries = ledger.stream_below(project, size)?;
    let decoded: Vec<_> =
        entries.iter().filter_map(|e| open_entry(e).ok().map(|(_, payload)| (e.sequence, payload))).collect();
    let graph = ProjectGraph::new(&decoded);
    let Some(mut chosen) = graph.lineage(asset) else { return Ok(None) };
    let payloads: BTreeMap<u64, &Payload> = decoded.iter().map(|(s, p)| (*s, p)).collect();
    let (mut whole_system, mut lists) = ledger.system_below(size)?;
    decoded.iter().for_each(|(sequence, payload)| lists.add(*sequence, payload));
    let mut system: BTreeMap<u64, (Entry, Payload)> = BTreeMap::new();
    let mut listed: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut walked = crate::projections::lineage::Walked::default();
    // Each subject's entries can require more subjects (a signer's keys, a variant's history,
    // what an entry was made from): until none is new.
    loop {
        let held = chosen.iter().filter_map(|s| payloads.get(s).copied()).chain(system.values().map(|(_, p)| p));
        let wanted: Vec<String> =
            required(project, asset.as_str(), held).into_iter().filter(|s| !listed.contains_key(s)).collect();
        if wanted.is_empty() {
            break;
        }
        for subject in wanted {
            let sequences = lists.of(&subject);
            for sequence in &sequences {
                if let Some(payload) = payloads.get(sequence) {
                    // What a subject's entry was made from, so that the bundle stays whole backwards.
                    graph.extend_lineage(&payload.body, &mut walked, &mut chosen);
                    chosen.insert(*sequence);
                } else if let Some(held) = whole_system.remove(sequence) {
                    system.insert(*sequence, held);
                }
            }
            listed.insert(subject, sequences);
        }
    }
    let mut leaves: BTreeMap<u64, Hash> = entries.iter().map(|e| (e.sequence, e.leaf_hash())).collect();
    leaves.extend(system.values().map(|(e, _)| (e.sequence, e.leaf_hash())));
    let leaf_of = |sequence: u64| leaves.get(&sequence).copied().ok_or(StoreError::Vanished { sequence });
    let map_proof = map_proof(ledger, upper, &listed, size, &leaf_of)?;
    let mut bundled: Vec<Entry> = entries.into_iter().filter(|e| chosen.contains(&e.sequence)).collect();
    bundled.extend(system.into_values().map(|(entry, _)| entry));
    bundled.sort_by_key(|e| e.sequence);
    let sequences: Vec<u64> = bundled.iter().map(|e| e.sequence).collect();
    let inclusion = ledger
        .multi_inclusion_proof(&sequences, size)?
        .ok_or(StoreError::Corrupt { sequence: size, reason: "no inclusion proof of the bundle's entries".into() })?;
    let mut out = Vec::with_capacity(bundled.len());
    for entry in &bundled {
        let unreadable =
            || StoreError::Corrupt { sequence: entry.sequence, reason: "its envelope is not UTF-8".into() };
        out.push(BundleEntry::of(entry).ok_or_else(unreadable)?);
    }
    let verifier = ledger.verifier();
    Ok(Some(Bundle {
        format: EVIDENCE_FORMAT.into(),
        version: EVIDENCE_VERSION,
        origin: verifier.name.clone(),
        vkey: verifier.vkey(),
        ledger_public_key: B64.encode(verifier.key.to_bytes()),
        project: project.to_owned(),
        asset: asset.to_string(),
        tree_size: size,
        checkpoint: revision.note.clone(),
        subjects: listed.into_iter().map(|(subject, sequences)| ledger.disclosed(subject, sequences)).collect(),
        map_proof,
        entries: out,
        inclusion: inclusion.iter().map(hex::encode).collect(),
        disclosures: Vec::new(),
    }))
}

/// The map's proof of every listed subject, each checked against the map's own count and chain
/// head first (a disagreement is the store's fault, never a bundle that fails to verify).
pub(super) fn map_proof(
    ledger: &Ledger,
    upper: &crate::crypto::map::Upper,
    listed: &BTreeMap<String, Vec<u64>>,
    size: u64,
    leaf_of: &dyn Fn(u64) -> Result<Hash, StoreError>,
) -> Result<Vec<String>, StoreError> {
    let mut keys = Vec::with_capacity(listed.len());
    for (subject, sequences) in listed {
        let key = ledger.map_blinding.key(subject);
        let stored = super::map::stored_subject(ledger.store.as_ref(), &key)?;
        let chain = sequences.iter().map(|s| Ok((*s, leaf_of(*s)?))).collect::<Result<Vec<_>, StoreError>>()?;
        if stored != Some((sequences.len() as u64, map::chain_of(&chain))) {
            let reason = format!("subject `{subject}`: its entries disagree with the map's count and chain");
            return Err(StoreError::Corrupt { sequence: size, reason });
        }
        keys.push(key);
    }
    keys.sort();
    match map::prove_all(&MapView { upper, store: ledger.store.as_ref() }, &keys)? {
        Ok(steps) => Ok(steps.iter().map(step_text).collect()),
        Err(_) => Err(StoreError::Corrupt { sequence: size, reason: "the map does not hold a listed subject".into() }),
    }
}
