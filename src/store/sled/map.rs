//! The subject map, in a tree of its own (`map`), written by the ledger's map follower in one
//! batch per revision, without a sync of its own: sled's next sync (every commit's) makes it
//! durable, and a revision a crash takes back is computed again from the log.
//!
//! Keys: `n` + depth (u16 BE) + the prefix's first `ceil(depth / 8)` bytes → a node (`0` + key +
//! hash for a leaf, `1` + hash for a node); `s` + subject key → count (u64 BE) + head;
//! `q` + subject key + sequence (u64 BE) → nothing, one per entry of the subject; `r` → the
//! revision: size (u64 BE) + root + the signed note.

use super::*;
use crate::crypto::map::{Key, MapNode, Position};
use crate::store::{MapCommit, MapRevision};

fn node_key((depth, prefix): &Position) -> Vec<u8> {
    let mut key = vec![b'n'];
    key.extend_from_slice(&depth.to_be_bytes());
    key.extend_from_slice(&prefix[..usize::from(depth.div_ceil(8))]);
    key
}

fn subject_key(tag: u8, key: &Key) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(key);
    out
}

fn u64_at(bytes: &[u8]) -> Result<u64, StoreError> {
    read_u64(bytes.get(..8).ok_or_else(|| StoreError::Malformed("a subject map record is too short".into()))?)
}

fn hash_at(bytes: &[u8], at: usize) -> Result<Hash, StoreError> {
    bytes
        .get(at..at + 32)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| StoreError::Malformed("a subject map record is too short".into()))
}

fn decode_node(bytes: &[u8]) -> Result<MapNode, StoreError> {
    match bytes.first() {
        Some(0) => Ok(MapNode::Leaf { key: hash_at(bytes, 1)?, hash: hash_at(bytes, 33)? }),
        Some(1) => Ok(MapNode::Node { hash: hash_at(bytes, 1)? }),
        _ => Err(StoreError::Malformed("a subject map node of an unknown kind".into())),
    }
}

fn encode_node(node: &MapNode) -> Vec<u8> {
    match node {
        MapNode::Empty => vec![],
        MapNode::Leaf { key, hash } => [&[0u8][..], key, hash].concat(),
        MapNode::Node { hash } => [&[1u8][..], hash].concat(),
    }
}

impl SledStore {
    pub(super) fn read_map_node(&self, at: &Position) -> Result<MapNode, StoreError> {
        match self.database()?.map.get(node_key(at)).map_err(io)? {
            None => Ok(MapNode::Empty),
            Some(bytes) => decode_node(&bytes),
        }
    }

    pub(super) fn read_subject(&self, key: &Key) -> Result<Option<(u64, Hash)>, StoreError> {
        let Some(bytes) = self.database()?.map.get(subject_key(b's', key)).map_err(io)? else { return Ok(None) };
        Ok(Some((u64_at(&bytes)?, hash_at(&bytes, 8)?)))
    }

    pub(super) fn read_subject_sequences(&self, key: &Key, size: u64) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for kv in self.database()?.map.scan_prefix(subject_key(b'q', key)) {
            let (k, _) = kv.map_err(io)?;
            let sequence = u64_at(&k[33..])?;
            if sequence >= size {
                break;
            }
            out.push(sequence);
        }
        Ok(out)
    }

    pub(super) fn read_map_revision(&self) -> Result<Option<MapRevision>, StoreError> {
        let Some(bytes) = self.database()?.map.get([b'r']).map_err(io)? else { return Ok(None) };
        let note = std::str::from_utf8(bytes.get(40..).unwrap_or_default())
            .map_err(|_| StoreError::Malformed("the subject map's revision note is not UTF-8".into()))?;
        Ok(Some(MapRevision { size: u64_at(&bytes)?, root: hash_at(&bytes, 8)?, note: note.to_owned() }))
    }

    pub(super) fn write_map(&self, commit: &MapCommit) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (key, count, head, sequences) in &commit.subjects {
            batch.insert(subject_key(b's', key), [&count.to_be_bytes()[..], head].concat());
            for sequence in sequences {
                batch.insert([&subject_key(b'q', key)[..], &sequence.to_be_bytes()].concat(), &[]);
            }
        }
        for (at, node) in &commit.nodes {
            batch.insert(node_key(at), encode_node(node));
        }
        let revision = &commit.revision;
        let record = [&revision.size.to_be_bytes()[..], &revision.root, revision.note.as_bytes()].concat();
        batch.insert(b"r", record);
        let written = (|| {
            let database = self.database()?;
            self.poison_on_err(database.map.apply_batch(batch).map_err(io))
        })();
        self.after_failure(written)
    }
}
