//! The in-memory store: the same contract without a disk, for tests and benchmarks of the core.

use super::{Commit, Store, StoreError, TokenRecord};
use crate::crypto::merkle::{Hash, NodeId};
use crate::entry::Entry;
use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: Vec<Entry>,
    events: HashMap<String, u64>,
    streams: BTreeMap<Vec<u8>, u64>,
    tokens: BTreeMap<[u8; 32], TokenRecord>,
    nodes: HashMap<NodeId, Hash>,
    mentions: BTreeMap<Vec<u8>, ()>,
    checkpoint: Option<String>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store for MemoryStore {
    fn append(&self, commit: &Commit) -> Result<(), StoreError> {
        let mut inner = self.inner.write().expect("memory store lock");
        let batch = &commit.entries;
        for (i, (entry, _)) in batch.iter().enumerate() {
            if entry.sequence != (inner.entries.len() + i) as u64 {
                return Err(StoreError::Io(format!("entry {} does not continue the log", entry.sequence)));
            }
        }
        for (entry, id) in batch {
            inner.events.insert(id.to_string(), entry.sequence);
            inner.streams.insert(stream_key(&entry.project, entry.version), entry.sequence);
            inner.entries.push(entry.clone());
        }
        inner.nodes.extend(commit.nodes.iter().copied());
        for (project, asset, sequence) in &commit.mentions {
            let mut key = mention_key(project, asset);
            key.extend_from_slice(&sequence.to_be_bytes());
            inner.mentions.insert(key, ());
        }
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
        let inner = self.inner.read().expect("memory store lock");
        let start = stream_key(project, from_version);
        let end = stream_key(project, u64::MAX);
        Ok(inner.streams.range(start..=end).take(limit).map(|(_, s)| *s).collect())
    }
    fn sequence_of_event(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").events.get(event_id).copied())
    }
    fn node(&self, id: NodeId) -> Result<Option<Hash>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").nodes.get(&id).copied())
    }
    fn checkpoint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").checkpoint.clone())
    }
    fn asset_sequences(&self, project: &str, asset: &str) -> Result<Vec<u64>, StoreError> {
        let inner = self.inner.read().expect("memory store lock");
        let prefix = mention_key(project, asset);
        Ok(inner
            .mentions
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| k[prefix.len()..].try_into().ok().map(u64::from_be_bytes))
            .collect())
    }
    fn put_token(&self, hash: [u8; 32], record: &TokenRecord) -> Result<(), StoreError> {
        self.inner.write().expect("memory store lock").tokens.insert(hash, record.clone());
        Ok(())
    }
    fn tokens(&self) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError> {
        Ok(self.inner.read().expect("memory store lock").tokens.iter().map(|(h, r)| (*h, r.clone())).collect())
    }
}

/// Project, NUL, version (u64 BE): a project's entries sort by version.
fn stream_key(project: &str, version: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(project.len() + 9);
    key.extend_from_slice(project.as_bytes());
    key.push(0);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// Project, NUL, asset id, NUL: the entries naming an asset sort together.
fn mention_key(project: &str, asset: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(project.len() + asset.len() + 2);
    key.extend_from_slice(project.as_bytes());
    key.push(0);
    key.extend_from_slice(asset.as_bytes());
    key.push(0);
    key
}
