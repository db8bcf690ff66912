//! What the writer publishes to readers once a commit is durable: the durable length, the
//! checkpoint that covers it, the system state and the keys it registers. Readers never see
//! anything the writer has not published.

use super::projection_cache::ProjectionCache;
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::crypto::dsse::Opened;
use crate::domain::{KeyId, SystemState};
use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;

/// A checkpoint and its signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: String,
}

pub(super) struct Published {
    /// Entries below this sequence are durable; readers see nothing at or past it.
    committed: AtomicU64,
    /// Every key ever registered, decoded. Revocation is checked by the writer.
    keys: RwLock<HashMap<KeyId, VerifyingKey>>,
    system: RwLock<SystemState>,
    /// The checkpoint of the durable log.
    checkpoint: RwLock<Option<SignedCheckpoint>>,
    pub verifier: NoteVerifier,
    /// The read models of recently queried projects, folded from durable entries on demand.
    pub projections: ProjectionCache,
}

/// Every key the system state registers, by key id.
fn all_keys(system: &SystemState) -> HashMap<KeyId, VerifyingKey> {
    let mut keys = HashMap::new();
    for (_, actor) in system.actors() {
        for (id, key) in &actor.keys {
            keys.insert(id.clone(), *key.public_key.key());
        }
    }
    keys
}

impl Published {
    pub fn new(
        len: u64,
        system: SystemState,
        checkpoint: Option<SignedCheckpoint>,
        verifier: NoteVerifier,
        projection_cache_bytes: usize,
    ) -> Published {
        Published {
            committed: AtomicU64::new(len),
            keys: RwLock::new(all_keys(&system)),
            system: RwLock::new(system),
            checkpoint: RwLock::new(checkpoint),
            verifier,
            projections: ProjectionCache::new(projection_cache_bytes),
        }
    }

    /// The number of durable entries.
    pub fn len(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    pub fn system(&self) -> SystemState {
        self.system.read().expect("system lock").clone()
    }

    pub fn checkpoint(&self) -> Option<SignedCheckpoint> {
        self.checkpoint.read().expect("checkpoint lock").clone()
    }

    /// Publishes a durable commit: its checkpoint, then the length readers may see, and the
    /// system state when the commit changed it.
    pub fn publish(&self, checkpoint: Option<SignedCheckpoint>, len: u64, system: Option<SystemState>) {
        *self.checkpoint.write().expect("checkpoint lock") = checkpoint;
        self.committed.store(len, Ordering::Release);
        if let Some(system) = system {
            *self.keys.write().expect("key cache lock") = all_keys(&system);
            *self.system.write().expect("system lock") = system;
        }
    }

    /// After a failed write: the log as read back from the store, and no cached projection.
    pub fn reset(&self, checkpoint: Option<SignedCheckpoint>, len: u64) {
        *self.checkpoint.write().expect("checkpoint lock") = checkpoint;
        self.projections.clear();
        self.committed.store(len, Ordering::Release);
    }

    /// Verifies, as one batch, the signatures whose keys are known; `verified` is set for each
    /// that holds and left false for the others (a failure, or a key registered since), which
    /// the writer then checks against the keys as they stand.
    pub fn verify_known<'a>(&self, subs: impl Iterator<Item = (&'a Opened, &'a mut bool)>) {
        let keys = self.keys.read().expect("key cache lock");
        let mut waiting: Vec<(&Opened, &mut bool, &VerifyingKey)> = subs
            .filter(|(_, verified)| !**verified)
            .filter_map(|(o, v)| keys.get(&o.key_id).map(|k| (o, v, k)))
            .collect();
        let pairs: Vec<(&Opened, &VerifyingKey)> = waiting.iter().map(|(o, _, k)| (*o, *k)).collect();
        let verdicts = crate::crypto::dsse::verify_each(&pairs);
        drop(pairs);
        for ((_, verified, _), ok) in waiting.iter_mut().zip(verdicts) {
            **verified = ok;
        }
    }
}
