//! What the writer publishes to readers once a commit is durable: the durable length, the
//! checkpoint that covers it, the system state and the keys it registers. Readers never see
//! anything the writer has not published.

use super::projection_cache::ProjectionCache;
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::crypto::dsse::{batch_verifies, Opened};
use crate::domain::state::{Directory, Listing};
use crate::domain::{KeyId, ProjectId, SystemState};
use crate::log::admission::SignatureCheck;
use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
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
    /// The governance of every governed project, as of the durable log.
    directory: RwLock<Arc<Directory>>,
    /// The checkpoint of the durable log.
    checkpoint: RwLock<Option<SignedCheckpoint>>,
    /// What the list of projects shows of each, as of the durable log.
    catalogue: RwLock<Catalogue>,
    pub verifier: NoteVerifier,
    /// The read models of recently queried projects, folded from durable entries on demand.
    pub projections: ProjectionCache,
    /// Key ids with a bad signature lately, and when it was seen.
    suspects: std::sync::Mutex<HashMap<KeyId, std::time::Instant>>,
    /// The durable length, for readers that wait for it to grow (the live feed, long polls):
    /// the writer sends it with each commit, never waiting for them.
    durable: tokio::sync::watch::Sender<u64>,
    /// The verdict of the full check of a start that resumed from a sealed state.
    pub start_check: std::sync::Mutex<StartCheck>,
}

/// The full check a start that resumed from a sealed state runs in the background: a replay of
/// every entry the sealed state covers, whose state must be the sealed one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartCheck {
    /// The start replayed the whole log itself.
    NotNeeded,
    /// Replaying the first `covered` entries.
    Running { covered: u64 },
    /// The replay of the first `covered` entries reached the sealed state.
    Passed { covered: u64, seconds: u64 },
    /// It did not (in this start or an earlier one): appends are refused.
    Failed { reason: String },
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

/// Every project's listing, by id.
pub type Catalogue = std::collections::BTreeMap<ProjectId, Listing>;

impl Published {
    pub fn start_check(&self) -> StartCheck {
        self.start_check.lock().map(|c| c.clone()).unwrap_or(StartCheck::NotNeeded)
    }

    pub fn set_start_check(&self, check: StartCheck) {
        if let Ok(mut slot) = self.start_check.lock() {
            *slot = check;
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn new(
        len: u64,
        system: SystemState,
        directory: Arc<Directory>,
        catalogue: Catalogue,
        checkpoint: Option<SignedCheckpoint>,
        verifier: NoteVerifier,
        projection_cache_bytes: usize,
    ) -> Published {
        Published {
            committed: AtomicU64::new(len),
            keys: RwLock::new(all_keys(&system)),
            system: RwLock::new(system),
            directory: RwLock::new(directory),
            checkpoint: RwLock::new(checkpoint),
            catalogue: RwLock::new(catalogue),
            verifier,
            projections: ProjectionCache::new(projection_cache_bytes),
            suspects: Default::default(),
            start_check: std::sync::Mutex::new(StartCheck::NotNeeded),
            durable: tokio::sync::watch::Sender::new(len),
        }
    }

    /// The durable length as it changes.
    pub fn durable(&self) -> tokio::sync::watch::Receiver<u64> {
        self.durable.subscribe()
    }

    /// The number of durable entries.
    pub fn len(&self) -> u64 {
        self.committed.load(Ordering::Acquire)
    }

    pub fn system(&self) -> SystemState {
        self.system.read().expect("system lock").clone()
    }

    pub fn with_system<T>(&self, f: impl FnOnce(&SystemState) -> T) -> T {
        f(&self.system.read().expect("system lock"))
    }

    pub fn checkpoint(&self) -> Option<SignedCheckpoint> {
        self.checkpoint.read().expect("checkpoint lock").clone()
    }

    /// Runs `f` on the listing of every project, as of the durable log.
    pub fn with_catalogue<T>(&self, f: impl FnOnce(&Catalogue) -> T) -> T {
        f(&self.catalogue.read().expect("catalogue lock"))
    }

    pub fn directory(&self) -> Arc<Directory> {
        self.directory.read().expect("directory lock").clone()
    }

    /// Publishes a durable commit: its checkpoint, then the length readers may see, and the
    /// system state and the projects' governance when the commit changed them.
    pub fn publish(
        &self,
        checkpoint: Option<SignedCheckpoint>,
        len: u64,
        system: Option<SystemState>,
        directory: Option<Arc<Directory>>,
        listings: Vec<(ProjectId, Listing)>,
    ) {
        if !listings.is_empty() {
            self.catalogue.write().expect("catalogue lock").extend(listings);
        }
        // Governance first: a reader that sees the new length sees who may read it.
        if let Some(directory) = directory {
            *self.directory.write().expect("directory lock") = directory;
        }
        if let Some(system) = system {
            *self.keys.write().expect("key cache lock") = all_keys(&system);
            *self.system.write().expect("system lock") = system;
        }
        *self.checkpoint.write().expect("checkpoint lock") = checkpoint;
        self.committed.store(len, Ordering::Release);
        self.durable.send_replace(len);
    }

    /// After a failed write: the log as read back from the store, and no cached projection.
    pub fn reset(
        &self,
        checkpoint: Option<SignedCheckpoint>,
        len: u64,
        system: SystemState,
        directory: Arc<Directory>,
        catalogue: Catalogue,
    ) {
        *self.catalogue.write().expect("catalogue lock") = catalogue;
        *self.directory.write().expect("directory lock") = directory;
        *self.keys.write().expect("key cache lock") = all_keys(&system);
        *self.system.write().expect("system lock") = system;
        *self.checkpoint.write().expect("checkpoint lock") = checkpoint;
        self.projections.clear();
        self.committed.store(len, Ordering::Release);
        self.durable.send_replace(len);
    }

    /// The key registered under a key id, decoded.
    pub fn key(&self, id: &KeyId) -> Option<VerifyingKey> {
        self.keys.read().expect("key cache lock").get(id).copied()
    }

    /// Whether a bad signature under this key id was seen in the last [`SUSPECT_FOR`]: its
    /// single events are then checked where they arrive, not in the writer's batch.
    pub fn is_suspect(&self, id: &KeyId) -> bool {
        let suspects = self.suspects.lock().expect("suspect lock");
        suspects.get(id).is_some_and(|since| since.elapsed() < SUSPECT_FOR)
    }

    fn suspect(&self, id: &KeyId) {
        let mut suspects = self.suspects.lock().expect("suspect lock");
        suspects.retain(|_, since| since.elapsed() < SUSPECT_FOR);
        suspects.insert(id.clone(), std::time::Instant::now());
    }

    /// Checks the unchecked signatures whose keys are known, setting each verdict: all of them
    /// as one batch; when that fails, each key's as a batch, and one by one only within a key
    /// whose batch failed. A key with a bad signature becomes a suspect. Signatures whose keys
    /// are not known yet stay unchecked for the writer to check against the keys as they stand.
    pub fn verify_known<'a>(&self, subs: impl Iterator<Item = (&'a Opened, &'a mut SignatureCheck)>) {
        let mut waiting: Vec<(&Opened, &mut SignatureCheck, VerifyingKey)> = {
            let keys = self.keys.read().expect("key cache lock");
            subs.filter(|(_, check)| **check == SignatureCheck::Unchecked)
                .filter_map(|(o, c)| keys.get(&o.key_id).map(|k| (o, c, *k)))
                .collect()
        };
        let all: Vec<(&Opened, &VerifyingKey)> = waiting.iter().map(|(o, _, k)| (*o, k)).collect();
        if batch_verifies(&all) {
            drop(all);
            for (_, check, _) in &mut waiting {
                **check = SignatureCheck::Verified;
            }
            return;
        }
        drop(all);
        let mut by_key: HashMap<KeyId, Vec<usize>> = HashMap::new();
        for (i, (opened, _, _)) in waiting.iter().enumerate() {
            by_key.entry(opened.key_id.clone()).or_default().push(i);
        }
        for (key_id, members) in by_key {
            let items: Vec<(&Opened, &VerifyingKey)> = members.iter().map(|&i| (waiting[i].0, &waiting[i].2)).collect();
            let verdicts = if batch_verifies(&items) {
                vec![true; items.len()]
            } else {
                items.iter().map(|(opened, key)| opened.verify(key)).collect()
            };
            drop(items);
            if verdicts.contains(&false) {
                self.suspect(&key_id);
            }
            for (&i, ok) in members.iter().zip(verdicts) {
                *waiting[i].1 = if ok { SignatureCheck::Verified } else { SignatureCheck::Refuted };
            }
        }
    }
}

/// How long a key id stays a suspect after a bad signature.
pub const SUSPECT_FOR: std::time::Duration = std::time::Duration::from_secs(60);
