//! The subject map's follower: a thread that follows the durable log and keeps, for every
//! subject ([`crate::log::subjects`]), the chain of its entries' sequences and the map of those
//! chains ([`crate::crypto::map`]), one revision per batch of entries, each signed in a map
//! checkpoint with the log's root at the same size. It never touches the append path: it reads
//! what is already durable, at the lowest CPU priority, so that under load the map lags and
//! appends do not slow; a revision's work is linear in the entries it covers (each subject's
//! state is read from the store, not kept in memory).

use super::published::Published;
use super::writer::CheckpointSigner;
use crate::crypto::checkpoint::{Checkpoint, MapCheckpoint};
use crate::crypto::map::{self, Key, MapNode, MapNodes, Position};
use crate::crypto::merkle::Hash;
use crate::log::{open_entry, subjects};
use crate::store::{LogStore, MapCommit, MapRevision, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The most entries one revision covers: large enough that the map's upper nodes are written
/// once for many entries, small enough that a revision's entries fit in memory at ease.
pub const MAP_BATCH: u64 = 20_000;

/// How often the follower looks for new durable entries.
const POLL: Duration = Duration::from_millis(25);

/// The map as the store holds it, for [`map::update`] and [`map::prove`].
pub(super) struct StoredMap<'a>(pub &'a dyn LogStore);

impl MapNodes for StoredMap<'_> {
    type Error = StoreError;
    fn map_node(&self, at: &Position) -> Result<MapNode, StoreError> {
        self.0.map_node(at)
    }
}

pub(super) struct Follower {
    pub store: Arc<dyn LogStore>,
    pub published: Arc<Published>,
    pub signer: CheckpointSigner,
    /// Held for writing while a revision is committed, for reading while a bundle reads one.
    pub lock: Arc<RwLock<()>>,
}

impl Follower {
    /// Runs until `stop`'s sender is dropped (the last clone of the ledger).
    pub fn spawn(self, stop: crossbeam_channel::Receiver<()>) {
        std::thread::Builder::new()
            .name("lineage-map".into())
            .spawn(move || {
                lowest_priority();
                loop {
                    match stop.recv_timeout(POLL) {
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    if let Err(e) = self.catch_up() {
                        log::error!("the subject map could not follow the log: {e}");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            })
            .expect("the map thread starts");
    }

    /// Computes revisions until the map covers every durable entry.
    fn catch_up(&self) -> Result<(), StoreError> {
        loop {
            let durable = self.published.len();
            let size = self.store.map_revision()?.map_or(0, |r| r.size);
            if durable <= size {
                return Ok(());
            }
            self.store.room()?;
            self.advance(size, durable.min(size + MAP_BATCH))?;
        }
    }

    /// One revision: the map of the first `to` entries, from that of the first `from`.
    fn advance(&self, from: u64, to: u64) -> Result<(), StoreError> {
        let mut changed: BTreeMap<Key, Vec<u64>> = BTreeMap::new();
        for entry in self.store.range(from, (to - from) as usize)? {
            let (_, payload) =
                open_entry(&entry).map_err(|source| StoreError::Unopenable { sequence: entry.sequence, source })?;
            for subject in subjects::of(&payload) {
                changed.entry(map::key_of(&subject)).or_default().push(entry.sequence);
            }
        }
        let mut states = Vec::with_capacity(changed.len());
        let mut leaves = Vec::with_capacity(changed.len());
        for (key, sequences) in changed {
            let (count, head) = self.store.subject(&key)?.unwrap_or((0, map::EMPTY));
            let head = sequences.iter().fold(head, |head, s| map::chain(&head, *s));
            let count = count + sequences.len() as u64;
            leaves.push((key, map::leaf_hash(&key, count, &head)));
            states.push((key, count, head, sequences));
        }
        let (root, nodes) = map::update(&StoredMap(self.store.as_ref()), &leaves)?;
        let log_root: Hash = super::tree::root_of(self.store.as_ref(), to)?;
        let checkpoint = Checkpoint { origin: self.signer.origin.clone(), size: to, root: log_root };
        let note = MapCheckpoint { checkpoint, map_root: root }.sign(&self.signer.origin, &self.signer.key);
        let commit = MapCommit { subjects: states, nodes, revision: MapRevision { size: to, root, note } };
        let _writing = self.lock.write().map_err(|_| StoreError::Malformed("the map lock is poisoned".into()))?;
        self.store.commit_map(&commit)
    }
}

/// Gives the calling thread the lowest CPU priority (Linux sets it per thread): the map waits
/// for the writer, never the other way round.
fn lowest_priority() {
    // SAFETY: setpriority(2) on this thread's own id; a failure only leaves the priority as is.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 19);
    }
}
