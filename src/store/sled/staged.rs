//! Journaled commits waiting to be given to sled, and read from here until they are.
//!
//! Journaled commits are applied to sled in groups of about [`STAGED_BYTES`] rather than one by
//! one: every `apply_batch` makes sled seal its current log buffer twice and wake all seven of
//! its I/O threads for each buffer, which cost a quarter of the server's CPU for single events
//! sent by 64 clients. Until applied, their records are read from here. Readers take the
//! current set first and sled after it, and a group is removed from here only once sled holds
//! it, so a record is always found in one or both; every key but the checkpoint's is written
//! once, with the same value in both.

use super::super::StoreError;
use super::layout::io;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// How many bytes of journaled commits wait before they are applied to sled together.
pub const STAGED_BYTES: usize = 1024 * 1024;

/// One set of staged records, as readers see it.
#[derive(Default, Clone)]
pub(super) struct Staged {
    pub pairs: BTreeMap<Vec<u8>, sled::IVec>,
    /// What the pairs hold, keys and values.
    pub bytes: usize,
}

impl Staged {
    /// Every staged record, as one sled batch.
    pub fn batch(&self) -> sled::Batch {
        let mut batch = sled::Batch::default();
        for (key, value) in &self.pairs {
            batch.insert(key.as_slice(), value.clone());
        }
        batch
    }

    /// The last record with a key in `low..=key`.
    pub fn last_in(&self, low: &[u8], key: &[u8]) -> Option<(sled::IVec, sled::IVec)> {
        self.pairs
            .range::<[u8], _>((Bound::Included(low), Bound::Included(key)))
            .next_back()
            .map(|(k, v)| (sled::IVec::from(k.as_slice()), v.clone()))
    }
}

/// The staged set behind its lock. Only the appending thread changes it; readers holding the
/// previous set keep it.
#[derive(Default)]
pub(super) struct StagedCommits(RwLock<Arc<Staged>>);

impl StagedCommits {
    /// The set, held only for a lookup: a read of one record looks here before it reads sled,
    /// without taking the set for longer.
    pub fn now(&self) -> Result<RwLockReadGuard<'_, Arc<Staged>>, StoreError> {
        self.0.read().map_err(|_| io("staged commits lock poisoned"))
    }

    /// The set as it is now, kept by the caller.
    pub fn snapshot(&self) -> Result<Arc<Staged>, StoreError> {
        Ok(self.now()?.clone())
    }

    /// Adds a journaled commit's records.
    pub fn stage(&self, pairs: Vec<(Vec<u8>, Vec<u8>)>) -> Result<(), StoreError> {
        let mut current = self.0.write().map_err(|_| io("staged commits lock poisoned"))?;
        let staged = Arc::make_mut(&mut current);
        for (key, value) in pairs {
            let key_len = key.len();
            staged.bytes += key_len + value.len();
            // The checkpoint's record replaces the previous commit's.
            if let Some(replaced) = staged.pairs.insert(key, sled::IVec::from(value)) {
                staged.bytes -= key_len + replaced.len();
            }
        }
        Ok(())
    }

    /// Forgets every staged record: only once sled holds them.
    pub fn clear(&self) -> Result<(), StoreError> {
        *self.0.write().map_err(|_| io("staged commits lock poisoned"))? = Arc::default();
        Ok(())
    }
}
