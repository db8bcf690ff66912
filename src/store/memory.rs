//! The in-memory store: the same contract without a disk, for tests and benchmarks of the core.
//! Its indexes are the sled store's ([`super::index`]), so both answer every lookup alike.

use super::index::{found_in, Found, SharedIndexes};
use super::{Commit, LogStore, MapBucket, MapCommit, MapRevision, StoreError, TokenRecord, TokenStore};
use crate::crypto::map::{Key as MapKey, MapNode};
use crate::crypto::merkle::{Hash, NodeId};
use crate::log::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
    indexes: SharedIndexes,
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    found: Vec<Found>,
    tokens: BTreeMap<[u8; 32], TokenRecord>,
    nodes: HashMap<NodeId, Hash>,
    checkpoint: Option<String>,
    map_subjects: BTreeMap<MapKey, (u64, Hash)>,
    map_subtrees: BTreeMap<u16, MapNode>,
    map_revision: Option<MapRevision>,
    sealed: Option<Vec<u8>>,
    rejected: bool,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn found(&self, sequence: u64) -> Result<Option<Found>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").found.get(sequence as usize).cloned())
    }
}

impl LogStore for MemoryStore {
    fn append(&self, commit: &Commit) -> Result<(), StoreError> {
        let mut inner = self.inner.write().expect("memory store lock");
        let first = inner.entries.len() as u64;
        for (i, (entry, _)) in commit.entries.iter().enumerate() {
            if entry.sequence != first + i as u64 {
                return Err(StoreError::Malformed(format!("entry {} does not continue the log", entry.sequence)));
            }
        }
        let found = found_in(commit, first)?;
        let mut indexes = self.indexes.write()?;
        for ((entry, _), found) in commit.entries.iter().zip(found) {
            indexes.add(entry.sequence, &found);
            inner.entries.push(entry.clone());
            inner.found.push(found);
        }
        inner.nodes.extend(commit.nodes.iter().copied());
        if let Some(note) = &commit.checkpoint {
            inner.checkpoint = Some(note.clone());
        }
        Ok(())
    }
    fn len(&self) -> Result<u64, StoreError> {
        Ok(self.inner.read().expect("memory store lock").entries.len() as u64)
    }
    fn entry(&self, sequence: u64) -> Result<Option<Entry>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").entries.get(sequence as usize).cloned())
    }
    fn range(&self, from: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        let inner = self.inner.read().expect("memory store lock");
        Ok(inner.entries.iter().skip(from as usize).take(limit).cloned().collect())
    }
    fn project_sequences(&self, project: &str, from_version: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.indexes.project_sequences(project, from_version, limit)
    }
    fn sequence_of_event(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        self.indexes.sequence_of_event(event_id, |sequence| self.found(sequence))
    }
    fn node(&self, id: NodeId) -> Result<Option<Hash>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").nodes.get(&id).copied())
    }
    fn checkpoint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").checkpoint.clone())
    }
    fn asset_sequences(&self, project: &str, asset: &str) -> Result<Vec<u64>, StoreError> {
        self.indexes.asset_sequences(project, asset, |sequence| self.found(sequence))
    }
    fn map_bucket(&self, bucket: u16) -> Result<MapBucket, StoreError> {
        let inner = self.inner.read().expect("memory store lock");
        let [a, b] = bucket.to_be_bytes();
        let mut first = [0u8; 32];
        first[..2].copy_from_slice(&[a, b]);
        let within = inner.map_subjects.range(first..).take_while(|(key, _)| key[..2] == [a, b]);
        Ok(within.map(|(key, (count, head))| (*key, *count, *head)).collect())
    }
    fn map_subtrees(&self) -> Result<Vec<(u16, MapNode)>, StoreError> {
        let inner = self.inner.read().expect("memory store lock");
        Ok(inner.map_subtrees.iter().map(|(i, node)| (*i, *node)).collect())
    }
    fn reset_map(&self) -> Result<(), StoreError> {
        let mut inner = self.inner.write().expect("memory store lock");
        inner.map_subjects.clear();
        inner.map_subtrees.clear();
        inner.map_revision = None;
        Ok(())
    }
    fn map_revision(&self) -> Result<Option<MapRevision>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").map_revision.clone())
    }
    fn commit_map(&self, commit: &MapCommit) -> Result<(), StoreError> {
        let mut inner = self.inner.write().expect("memory store lock");
        for (key, count, head) in &commit.subjects {
            inner.map_subjects.insert(*key, (*count, *head));
        }
        for (bucket, node) in &commit.subtrees {
            inner.map_subtrees.insert(*bucket, *node);
        }
        inner.map_revision = Some(commit.revision.clone());
        Ok(())
    }
    fn sealed_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").sealed.clone())
    }
    fn seal_state(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.write().expect("memory store lock").sealed = Some(bytes.to_vec());
        Ok(())
    }
    fn reject_sealed_state(&self) -> Result<(), StoreError> {
        let mut inner = self.inner.write().expect("memory store lock");
        inner.sealed = None;
        inner.rejected = true;
        Ok(())
    }
    fn sealed_state_rejected(&self) -> Result<bool, StoreError> {
        Ok(self.inner.read().expect("memory store lock").rejected)
    }
    fn clear_rejected_sealed_state(&self) -> Result<(), StoreError> {
        self.inner.write().expect("memory store lock").rejected = false;
        Ok(())
    }
}

impl TokenStore for MemoryStore {
    fn put_token(&self, hash: [u8; 32], record: &TokenRecord) -> Result<(), StoreError> {
        self.inner.write().expect("memory store lock").tokens.insert(hash, record.clone());
        Ok(())
    }
    fn tokens(&self) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").tokens.iter().map(|(h, r)| (*h, r.clone())).collect())
    }
}
