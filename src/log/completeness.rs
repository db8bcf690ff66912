//! Completeness of an evidence bundle: the subjects ([`super::subjects`]) a bundle of an asset
//! must prove it holds every entry of, and the check of those proofs against the subject map's
//! root (`crate::crypto::map`, `docs/transparency.md`, "Completeness").
//!
//! For each subject the bundle lists the sequences of its entries up to the checkpoint, and one
//! proof for them all that the map holds each subject with exactly that many entries and that
//! chain of them; the verifier then holds each listed entry, and finds no entry of the subject
//! left off the list. Which subjects are required follows from the entries themselves, so that a bundle
//! cannot leave out a subject by leaving out the entries that would require it: every entry
//! requiring more is itself in a subject proven complete.

use super::subjects;
use crate::crypto::map;
use crate::crypto::merkle::Hash;
use crate::domain::event::Body;
use crate::domain::state::{created_records, derivation_refs, Namespace, Record};
use crate::domain::Payload;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A subject's entries up to the bundle's checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub subject: String,
    /// Hex of the subject's blind, from which its key in the map is computed.
    pub blind: String,
    /// The sequences of every entry of the subject, in ledger order.
    pub sequences: Vec<u64>,
}

/// Why a bundle is not shown complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Incomplete {
    #[error("the bundle does not prove the entries of `{subject}` complete: it lists no entries for it")]
    Unproven { subject: String },
    #[error("the ledger's subject map does not hold the bundle's lists of entries (first listed: `{first}`): a list is not the ledger's as of the checkpoint (an entry left off it, or taken from another revision)")]
    NotInMap { first: String },
    #[error("entry {sequence} of `{subject}` is not in the bundle: the ledger lists it, the bundle leaves it out")]
    Missing { subject: String, sequence: u64 },
    #[error("entry {sequence} is of `{subject}`, whose list in the bundle does not hold it")]
    Unlisted { subject: String, sequence: u64 },
    #[error("the subjects' lists are malformed: {0}")]
    Malformed(String),
}

/// A step of `map_proof` as a bundle writes it: `node`, `leaf`, or a subtree's hex hash.
pub fn step_text(step: &map::Step) -> String {
    match step {
        map::Step::Node => "node".into(),
        map::Step::Leaf => "leaf".into(),
        map::Step::Hash(hash) => hex::encode(hash),
    }
}

fn step_of(text: &str) -> Option<map::Step> {
    match text {
        "node" => Some(map::Step::Node),
        "leaf" => Some(map::Step::Leaf),
        hex_hash => hex::decode(hex_hash).ok().and_then(|b| <Hash>::try_from(b).ok()).map(map::Step::Hash),
    }
}

/// The subjects a bundle of `asset` in `project` must prove complete, given its entries: the
/// project's governance; the asset and every asset it was made from (the inputs of each entry
/// that made something), with their bytes (from the entries that made them) and every asset
/// recorded with those bytes; the variants delivered from the asset; the project's briefs; and
/// the actor of every signer (but the ledger's own).
pub fn required<'a>(
    project: &str,
    asset: &str,
    payloads: impl Iterator<Item = &'a Payload> + Clone,
) -> BTreeSet<String> {
    let mut required = BTreeSet::from([subjects::governance(project), subjects::briefs(project)]);
    let mut lineage: BTreeSet<String> = BTreeSet::from([asset.to_owned()]);
    let ours = || payloads.clone().filter(|p| p.project.as_str() == project);
    for payload in payloads.clone() {
        // The ledger's own actor signs the genesis entry alone (admission refuses it anything
        // else) with the key every verifier starts from: it has no keys to look up.
        if payload.actor.as_str() != crate::domain::genesis::LEDGER_ACTOR {
            required.insert(subjects::actor(payload.actor.as_str()));
        }
    }
    for payload in ours() {
        let makes = !created_records(&payload.body).is_empty();
        for (ns, id) in derivation_refs(&payload.body) {
            if ns == Namespace::Asset && makes {
                lineage.insert(id.to_string());
            }
        }
        if let Body::DeliveryRecorded(d) = &payload.body {
            if d.master_asset.as_str() == asset {
                required.insert(subjects::asset(project, d.variant.asset_id.as_str()));
            }
        }
    }
    let mut digests = BTreeSet::new();
    for payload in ours() {
        for (ns, id, record) in created_records(&payload.body) {
            if let (Namespace::Asset, Record::Asset { digest }) = (ns, record) {
                if lineage.contains(id.as_str()) {
                    digests.insert(digest);
                }
            }
        }
    }
    for payload in ours() {
        for output in crate::domain::state::recorded_outputs(&payload.body) {
            if digests.contains(&output.digest) {
                required.insert(subjects::asset(project, output.asset_id.as_str()));
            }
        }
    }
    required.extend(lineage.iter().map(|a| subjects::asset(project, a)));
    required.extend(digests.iter().map(|d| subjects::bytes(project, d)));
    required
}

/// Checks the subjects' lists against the map's root (one proof for all, `map_proof`) and the
/// bundle's entries (sequence and payload, each proven in the log), and that every subject
/// `required` names is listed.
pub fn check(
    map_root: &Hash,
    listed: &[Subject],
    map_proof: &[String],
    entries: &[(u64, Hash, &Payload)],
    project: &str,
    asset: &str,
) -> Result<(), Incomplete> {
    let mut proven: BTreeMap<&str, &[u64]> = BTreeMap::new();
    for item in listed {
        if proven.insert(&item.subject, &item.sequences).is_some() {
            return Err(Incomplete::Malformed(format!("`{}` is listed twice", item.subject)));
        }
        if item.sequences.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Incomplete::Malformed(format!("the sequences of `{}` are not in ledger order", item.subject)));
        }
    }
    // Each listed entry is held (its leaf hash is part of its subject's chain).
    let held: BTreeMap<u64, Hash> = entries.iter().map(|(s, leaf, _)| (*s, *leaf)).collect();
    for item in listed {
        if let Some(sequence) = item.sequences.iter().find(|s| !held.contains_key(s)) {
            return Err(Incomplete::Missing { subject: item.subject.clone(), sequence: *sequence });
        }
    }
    let mut leaves = Vec::with_capacity(listed.len());
    for item in listed {
        let blind: Hash = hex::decode(&item.blind)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| Incomplete::Malformed(format!("the blind of `{}` is not 32 bytes in hex", item.subject)))?;
        let key = map::key_of(&item.subject, &blind);
        let chain: Vec<(u64, Hash)> = item.sequences.iter().map(|s| (*s, held[s])).collect();
        leaves.push((key, map::leaf_hash(&key, chain.len() as u64, &map::chain_of(&chain))));
    }
    leaves.sort_by_key(|l| l.0);
    let steps: Vec<map::Step> =
        map_proof.iter().map(|t| step_of(t)).collect::<Option<_>>().ok_or_else(|| {
            Incomplete::Malformed("a step of map_proof is neither `node`, `leaf` nor a hex hash".into())
        })?;
    if map::root_from_all(&leaves, &steps).as_ref() != Some(map_root) {
        let first = listed.first().map(|s| s.subject.clone()).unwrap_or_default();
        return Err(Incomplete::NotInMap { first });
    }
    for (sequence, _, payload) in entries {
        for subject in subjects::of(payload) {
            if proven.get(subject.as_str()).is_some_and(|list| list.binary_search(sequence).is_err()) {
                return Err(Incomplete::Unlisted { subject, sequence: *sequence });
            }
        }
    }
    let required = required(project, asset, entries.iter().map(|(_, _, p)| *p));
    match required.into_iter().find(|s| !proven.contains_key(s.as_str())) {
        Some(subject) => Err(Incomplete::Unproven { subject }),
        None => Ok(()),
    }
}
