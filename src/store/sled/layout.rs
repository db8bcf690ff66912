//! The sled store's key layout: what one tree, `log`, holds and how its keys and values are
//! spelled. A commit is written as few, large values rather than one key per entry and index,
//! because sled's cost is per key (each insert copies and relinks a tree node):
//! - `E` + first sequence (u64 BE) → a chunk of up to [`CHUNK`] consecutive entries: u32 count,
//!   then per entry a u32 length and the bincode entry (read without decoding its neighbours);
//!   or, compressed, [`COMPRESSED`], the dictionary's id (u64 BE), u32 count, then per entry a
//!   u32 length and the entry as one zstd frame against that dictionary;
//! - `D` + first sequence (u64 BE) → a dictionary, kept under the key of the first chunk that
//!   uses it ([`super::dictionary`]);
//! - `M` + first sequence (u64 BE) → what the entries of the chunk are found by: per entry its
//!   event id, project and the assets it names (bincode of [`Found`]);
//! - `n` + level (u8) + index (u64 BE) → Merkle node, for the levels the ledger stores;
//! - `c` → the latest signed checkpoint.
//!
//! Stores written before hold `s` stream records, no longer read; a log under `e` keys is an
//! older layout still, refused at open.

use super::super::index::Found;
use super::super::{Commit, StoreError};
use super::dictionary::{Encoder, Samples};
use super::packed;
use crate::crypto::merkle::NodeId;
use crate::log::Entry;

/// A failure of sled or of the file system as a store error: a full disk is told apart.
pub(super) fn io(e: impl crate::store::IntoStoreError) -> StoreError {
    e.into_store_error("sled")
}

pub(super) fn seq_key(prefix: u8, sequence: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = prefix;
    key[1..].copy_from_slice(&sequence.to_be_bytes());
    key
}

/// Most entries in one stored chunk: a read of one entry copies at most this many.
pub const CHUNK: usize = 16;

/// sled's log segment size. Pages over a quarter of it become blob files; at 2 MiB a leaf of
/// chunks of ordinary entries stays inline.
pub const SEGMENT_SIZE: usize = 2 * 1024 * 1024;

/// The first byte of a chunk whose entries are compressed ([`super::dictionary`]); a raw chunk's
/// first byte is 0, the high byte of its count.
pub const COMPRESSED: u8 = 0xC1;

/// One stored chunk, read without decoding its entries.
pub(super) struct Chunk<'a> {
    /// The dictionary its entries are compressed against; none when they are stored raw.
    pub dictionary: Option<u64>,
    /// Each entry's sequence and stored bytes.
    pub entries: Vec<(u64, &'a [u8])>,
}

/// The entries of one chunk, as (sequence, stored entry), without decoding them.
pub(super) fn chunk_entries<'a>(key: &[u8], value: &'a [u8]) -> Result<Chunk<'a>, StoreError> {
    let bad = |why: &str| StoreError::Malformed(format!("a stored chunk is malformed: {why}"));
    let first = read_u64(&key[1..])?;
    let (dictionary, rest) = match value.first() {
        Some(&COMPRESSED) => {
            let id = value.get(1..9).ok_or_else(|| bad("no dictionary"))?;
            (Some(read_u64(id)?), &value[9..])
        }
        _ => (None, value),
    };
    let count = u32::from_be_bytes(rest.get(..4).ok_or_else(|| bad("no count"))?.try_into().expect("4 bytes"));
    let mut at = 4;
    // Older stores wrote chunks of up to 64 entries: the count is not bounded by [`CHUNK`].
    let mut entries = Vec::with_capacity((count as usize).min(CHUNK));
    for i in 0..u64::from(count) {
        let len = rest.get(at..at + 4).ok_or_else(|| bad("truncated length"))?;
        let len = u32::from_be_bytes(len.try_into().expect("4 bytes")) as usize;
        let stored = rest.get(at + 4..at + 4 + len).ok_or_else(|| bad("truncated entry"))?;
        entries.push((first + i, stored));
        at += 4 + len;
    }
    Ok(Chunk { dictionary, entries })
}

/// The number of entries in sled's log: one past the last sequence of the last chunk.
pub(super) fn log_len(log: &sled::Tree) -> Result<u64, StoreError> {
    match log.scan_prefix([b'E']).next_back() {
        None => Ok(0),
        Some(kv) => {
            let (key, value) = kv.map_err(io)?;
            chunk_end(&key, &value)
        }
    }
}

/// One past the last sequence of a chunk.
pub(super) fn chunk_end(key: &[u8], value: &[u8]) -> Result<u64, StoreError> {
    Ok(chunk_entries(key, value)?.entries.last().map_or(0, |(seq, _)| seq + 1))
}

/// The first byte of a dictionary's key.
pub(super) const DICTIONARY: u8 = b'D';

/// The key a dictionary is kept under: the key of the first chunk that uses it, under `D`.
pub(super) fn dictionary_key(id: u64) -> [u8; 9] {
    seq_key(DICTIONARY, id)
}

/// The key of a stored Merkle node.
pub(super) fn node_key((level, index): NodeId) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = b'n';
    key[1] = level;
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

/// The key of the latest checkpoint.
pub(super) const CHECKPOINT_KEY: &[u8] = b"c";

/// A record as sled stores it: key and value.
pub(super) type Pair = (Vec<u8>, Vec<u8>);

/// Every record a commit writes: its entries' chunks and `M` records, its Merkle nodes and its
/// checkpoint. Entries are packed and compressed with `encoder` when there is one, and stored as
/// they are otherwise; `samples` are offered each entry, packed.
pub(super) fn commit_pairs(
    commit: &Commit,
    found: &[Found],
    mut encoder: Option<&mut Encoder>,
    samples: &mut Samples,
) -> Result<Vec<Pair>, StoreError> {
    let entries = &commit.entries;
    let mut pairs = Vec::with_capacity(2 * entries.len().div_ceil(CHUNK) + commit.nodes.len() + 2);
    for (chunk, found) in entries.chunks(CHUNK).zip(found.chunks(CHUNK)) {
        let record = bincode::encode_to_vec(found, bincode::config::standard()).map_err(io)?;
        pairs.push((seq_key(b'M', chunk[0].0.sequence).to_vec(), record));
        let mut stored = Vec::with_capacity(chunk.len());
        for (entry, _) in chunk {
            let sampled = samples.wants(entry.sequence);
            let packed = (sampled || encoder.is_some()).then(|| packed::pack(entry));
            if let (true, Some(packed)) = (sampled, &packed) {
                samples.keep(packed);
            }
            stored.push(match (encoder.as_deref_mut(), packed) {
                (Some(encoder), Some(packed)) => encoder.compress(&packed)?,
                _ => entry.encode(),
            });
        }
        let mut value = Vec::with_capacity(13 + stored.iter().map(|e| e.len() + 4).sum::<usize>());
        if let Some(encoder) = encoder.as_deref() {
            value.push(COMPRESSED);
            value.extend_from_slice(&encoder.id.to_be_bytes());
        }
        value.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        for e in &stored {
            value.extend_from_slice(&(e.len() as u32).to_be_bytes());
            value.extend_from_slice(e);
        }
        pairs.push((seq_key(b'E', chunk[0].0.sequence).to_vec(), value));
    }
    for (id, hash) in &commit.nodes {
        pairs.push((node_key(*id).to_vec(), hash.to_vec()));
    }
    if let Some(note) = &commit.checkpoint {
        pairs.push((CHECKPOINT_KEY.to_vec(), note.as_bytes().to_vec()));
    }
    Ok(pairs)
}

pub(super) fn decode_found(bytes: &[u8]) -> Result<Vec<Found>, StoreError> {
    bincode::decode_from_slice(bytes, bincode::config::standard())
        .map(|(found, _)| found)
        .map_err(|e| StoreError::Malformed(format!("a stored index record is malformed: {e}")))
}

pub(super) fn read_u64(bytes: &[u8]) -> Result<u64, StoreError> {
    let arr: [u8; 8] = bytes.try_into().map_err(|_| StoreError::Malformed("index value is not 8 bytes".into()))?;
    Ok(u64::from_be_bytes(arr))
}

/// A stored entry, decoded (from its packed form when it was compressed), that must say it is
/// the entry at `sequence`.
pub(super) fn decode_entry(sequence: u64, bytes: &[u8], packed: bool) -> Result<Entry, StoreError> {
    let decoded = if packed { packed::unpack(bytes) } else { Entry::decode(bytes) };
    let entry = decoded.map_err(|e| StoreError::Corrupt { sequence, reason: e.to_string() })?;
    if entry.sequence != sequence {
        return Err(StoreError::Corrupt { sequence, reason: format!("it says it is entry {}", entry.sequence) });
    }
    Ok(entry)
}
