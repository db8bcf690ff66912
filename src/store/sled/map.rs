//! The subject map, in a sled database of its own (`map/` beside the log's), written by the
//! ledger's map follower in one atomic batch per revision, never synced: sled writes it out in
//! the background, and a revision a crash takes back is computed again from the log. A database
//! of its own because sled applies a batch under a lock of the whole database: the log's
//! commits never wait for a revision, written at the lowest CPU priority.
//!
//! Keys: `b` + bucket (u16 BE) → its subjects, each key + count (u64 BE) + chain head, sorted
//! by key; `h` + bucket → its subtree (`0` + key + hash for one subject, `1` + hash for more);
//! `q` + subject key + sequence (u64 BE) → nothing, one per entry of the subject; `r` → the
//! revision: size (u64 BE) + root + keying + the signed note.

use super::*;
use crate::crypto::map::{Key, MapNode};
use crate::store::{MapBucket, MapCommit, MapRevision};

fn bucket_key(tag: u8, bucket: u16) -> [u8; 3] {
    let [a, b] = bucket.to_be_bytes();
    [tag, a, b]
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

fn encode_bucket(subjects: &MapBucket) -> Vec<u8> {
    let mut out = Vec::with_capacity(subjects.len() * 72);
    for (key, count, head) in subjects {
        out.extend_from_slice(key);
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(head);
    }
    out
}

fn decode_bucket(bytes: &[u8]) -> Result<MapBucket, StoreError> {
    if !bytes.len().is_multiple_of(72) {
        return Err(StoreError::Malformed("a subject map bucket is not whole".into()));
    }
    bytes.chunks(72).map(|c| Ok((hash_at(c, 0)?, u64_at(&c[32..])?, hash_at(c, 40)?))).collect()
}

/// The map's database and its one tree.
pub(super) struct MapDatabase {
    _db: sled::Db,
    pub(super) tree: sled::Tree,
}

impl MapDatabase {
    /// Opens the map's database. One that does not open (its files damaged) is set aside and
    /// started again: the map is computed from the log, never the other way round, so a store
    /// is never refused for its map.
    pub(super) fn open(dir: &Path) -> Result<MapDatabase, StoreError> {
        let opened = Self::open_as_is(dir);
        let Err(e) = opened else { return opened };
        if e.to_string().contains("could not acquire lock") {
            return Err(e);
        }
        log::warn!("the subject map at {} does not open ({e}): it is computed again from the log", dir.display());
        std::fs::remove_dir_all(dir).map_err(io)?;
        Self::open_as_is(dir)
    }

    fn open_as_is(dir: &Path) -> Result<MapDatabase, StoreError> {
        super::database::discard_interrupted_snapshots(dir)?;
        let config = sled::Config::new().path(dir).cache_capacity(16 * 1024 * 1024).mode(sled::Mode::HighThroughput);
        let db = super::database::open_waiting(&config)?;
        let tree = db.open_tree("map").map_err(io)?;
        Ok(MapDatabase { _db: db, tree })
    }
}

impl SledStore {
    pub(super) fn read_map_bucket(&self, bucket: u16) -> Result<MapBucket, StoreError> {
        match self.map.tree.get(bucket_key(b'b', bucket)).map_err(io)? {
            None => Ok(Vec::new()),
            Some(bytes) => decode_bucket(&bytes),
        }
    }

    pub(super) fn read_map_subtrees(&self) -> Result<Vec<(u16, MapNode)>, StoreError> {
        let mut out = Vec::new();
        for kv in self.map.tree.scan_prefix([b'h']) {
            let (key, value) = kv.map_err(io)?;
            let bucket = u16::from_be_bytes([key[1], key[2]]);
            out.push((bucket, decode_node(&value)?));
        }
        Ok(out)
    }

    pub(super) fn read_subject_sequences(&self, key: &Key, size: u64) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for kv in self.map.tree.scan_prefix(subject_key(b'q', key)) {
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
        let Some(bytes) = self.map.tree.get([b'r']).map_err(io)? else { return Ok(None) };
        // A revision written before subjects were blinded had its note at 40: its keying is
        // read from the note's bytes, matches no secret, and the map is computed again.
        let note = String::from_utf8_lossy(bytes.get(72..).unwrap_or_default()).into_owned();
        Ok(Some(MapRevision { size: u64_at(&bytes)?, root: hash_at(&bytes, 8)?, keying: hash_at(&bytes, 40)?, note }))
    }

    pub(super) fn write_map(&self, commit: &MapCommit) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (bucket, subjects, node) in &commit.buckets {
            batch.insert(&bucket_key(b'b', *bucket), encode_bucket(subjects));
            batch.insert(&bucket_key(b'h', *bucket), encode_node(node));
        }
        for (key, sequences) in &commit.sequences {
            for sequence in sequences {
                batch.insert([&subject_key(b'q', key)[..], &sequence.to_be_bytes()].concat(), &[]);
            }
        }
        let revision = &commit.revision;
        let record =
            [&revision.size.to_be_bytes()[..], &revision.root, &revision.keying, revision.note.as_bytes()].concat();
        batch.insert(b"r", record);
        self.map.tree.apply_batch(batch).map_err(io)?;
        crate::store::failpoint::hit("map-applied");
        Ok(())
    }
}
