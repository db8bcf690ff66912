//! The Merkle tree as the store keeps it: nodes from level [`LOWEST_STORED_LEVEL`] up, lower
//! ones hashed again from the entries they cover, and the proofs read from them.

use super::Ledger;
use crate::crypto::merkle::{self, Frontier, Hash, NodeId, Nodes};
use crate::domain::Payload;
use crate::log::Entry;
use crate::store::{Commit, LogStore, StoreError};

/// The lowest level of the Merkle tree written to the store. Nodes below it cover at most eight
/// entries and are hashed again from those entries when a proof needs them: a proof then reads a
/// few more entries, and the store holds one node per sixteen entries instead of one per entry.
pub const LOWEST_STORED_LEVEL: u8 = 4;

/// Adds to a commit the Merkle nodes the entries complete (advancing `frontier`), the assets
/// each entry's payload names and the bytes it records.
pub fn index_entries<'a>(
    entries: impl Iterator<Item = (&'a Entry, &'a Payload)>,
    frontier: &mut Frontier,
    commit: &mut Commit,
) {
    for (entry, payload) in entries {
        commit.nodes.extend(
            frontier.push(entry.leaf_hash()).into_iter().filter(|((level, _), _)| *level >= LOWEST_STORED_LEVEL),
        );
        // Each asset once, however often the entry names it (a set: an entry may name hundreds).
        let mut named = std::collections::HashSet::new();
        for asset in crate::domain::state::named_assets(&payload.body) {
            if named.insert(asset) {
                commit.mentions.push((entry.project.clone(), asset.to_string(), entry.sequence));
            }
        }
        // And the bytes it records, so that an asset is found by its file (`GET /v1/assets`);
        // the store keeps a key an entry names twice once (`store::index::found_in`).
        for output in crate::domain::state::recorded_outputs(&payload.body) {
            let key = crate::domain::state::bytes_mention(&output.digest);
            commit.mentions.push((entry.project.clone(), key, entry.sequence));
        }
    }
}

/// A node of the tree: low levels hashed from the entries they cover, higher levels as stored.
pub fn stored_node(store: &dyn LogStore, (level, index): NodeId) -> Result<Option<Hash>, StoreError> {
    if level >= LOWEST_STORED_LEVEL {
        return store.node((level, index));
    }
    let width = 1u64 << level;
    let entries = store.range(index * width, width as usize)?;
    if entries.len() as u64 != width {
        return Ok(None);
    }
    let mut hashes: Vec<Hash> = entries.iter().map(|e| e.leaf_hash()).collect();
    while hashes.len() > 1 {
        hashes = hashes.chunks(2).map(|pair| merkle::node_hash(&pair[0], &pair[1])).collect();
    }
    Ok(hashes.pop())
}

/// The stored tree of a log's durable entries, as proofs read it: a node that cannot be read is
/// an error, and so is one that is missing (the proofs only ask for nodes of durable entries),
/// never a wrong proof.
struct Stored<'a>(&'a dyn LogStore);

impl Nodes for Stored<'_> {
    type Error = StoreError;
    fn node(&self, id: NodeId) -> Result<Option<Hash>, StoreError> {
        match stored_node(self.0, id)? {
            Some(hash) => Ok(Some(hash)),
            None => {
                Err(StoreError::Corrupt { sequence: id.1 << id.0, reason: format!("Merkle node {id:?} is missing") })
            }
        }
    }
}

/// The root of the stored tree of the first `size` entries, which must be durable.
pub(super) fn root_of(store: &dyn LogStore, size: u64) -> Result<Hash, StoreError> {
    merkle::subtree(&Stored(store), 0, size)?
        .ok_or_else(|| StoreError::Corrupt { sequence: size, reason: "the tree has no root at this size".into() })
}

impl Ledger {
    /// Inclusion proof of entry `sequence` in the tree of `size` entries.
    pub fn inclusion_proof(&self, sequence: u64, size: u64) -> Result<Option<Vec<Hash>>, StoreError> {
        if size > self.len() {
            return Ok(None);
        }
        merkle::inclusion_proof(&Stored(self.store.as_ref()), sequence, size)
    }

    /// One inclusion proof of the entries at `sequences` (ascending) in the tree of `size`.
    pub fn multi_inclusion_proof(&self, sequences: &[u64], size: u64) -> Result<Option<Vec<Hash>>, StoreError> {
        if size > self.len() {
            return Ok(None);
        }
        crate::crypto::multiproof::prove(&Stored(self.store.as_ref()), sequences, size)
    }

    /// Consistency proof between the trees of `old` and `new` entries.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Option<Vec<Hash>>, StoreError> {
        if new > self.len() {
            return Ok(None);
        }
        merkle::consistency_proof(&Stored(self.store.as_ref()), old, new)
    }

    /// The root of the tree of the first `size` entries.
    pub fn root(&self, size: u64) -> Result<Option<Hash>, StoreError> {
        if size > self.len() {
            return Ok(None);
        }
        merkle::subtree(&Stored(self.store.as_ref()), 0, size)
    }
}
