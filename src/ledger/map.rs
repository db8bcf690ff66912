//! The subject map's follower: a thread that follows the durable log and keeps, for every
//! subject ([`crate::log::subjects`]), the count and chain of its entries and the map of those
//! chains ([`crate::crypto::map`]), one revision per batch of entries, each signed in a map
//! checkpoint with the log's root at the same size. It never touches the append path: it reads
//! what is already durable, at the lowest CPU priority, so that under load the map lags and
//! appends do not slow; a revision's work is linear in the entries it covers (each subject's
//! state is read from the store, not kept in memory).

use super::published::Published;
use super::writer::CheckpointSigner;
use crate::crypto::checkpoint::{Checkpoint, MapCheckpoint};
use crate::crypto::map::{self, Key, MapNode, MapNodes, Position, Upper};
use crate::crypto::merkle::Hash;
use crate::log::{open_entry, subjects};
use crate::store::{LogStore, MapCommit, MapRevision, StoreError};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The most entries one revision covers: large enough that the map's upper nodes are written
/// once for many entries, small enough that a revision's entries fit in memory at ease.
pub const MAP_BATCH: u64 = 20_000;

/// The most entries a revision covers when it is written in a lull of the log: a lull may end
/// at any moment, and appends resuming then wait for no more than this much of the map's work.
const QUIET_BATCH: u64 = 2_000;

/// How often the follower looks for new durable entries.
const POLL: Duration = Duration::from_millis(25);

/// How long the log must have had no new entry for a revision to be written unasked: writing a
/// revision is a burst of writes to the disk the log's commits sync on, so it waits for a lull.
const QUIET: Duration = Duration::from_millis(500);

/// How long new entries wait at most for a revision, lull or not (a reader waiting for one gets
/// it at once).
const REVISION_EVERY: Duration = Duration::from_secs(60);

/// When a revision is due.
struct Pace {
    /// When the last revision was written (or the map found covering the log).
    last: std::time::Instant,
    /// The log's length at the last look, and since when it has not changed.
    seen: u64,
    quiet_since: std::time::Instant,
}

impl Pace {
    fn new() -> Pace {
        let now = std::time::Instant::now();
        Pace { last: now, seen: 0, quiet_since: now }
    }
}

/// The map as the ledger keeps it: the nodes above the buckets in memory, each bucket's subtree
/// computed from its subjects in the store — for [`map::prove_all`].
pub(super) struct MapView<'a> {
    pub upper: &'a Upper,
    pub store: &'a dyn LogStore,
}

impl MapNodes for MapView<'_> {
    type Error = StoreError;
    fn map_node(&self, at: &Position) -> Result<MapNode, StoreError> {
        if let Some(node) = self.upper.node(at) {
            return Ok(node);
        }
        let bucket = self.store.map_bucket(u16::from_be_bytes([at.1[0], at.1[1]]))?;
        let leaves: Vec<(Key, Hash)> = bucket
            .iter()
            .filter(|(key, _, _)| map::under(key, at))
            .map(|(key, count, head)| (*key, map::leaf_hash(key, *count, head)))
            .collect();
        Ok(map::subtree(&leaves, at.0))
    }
}

/// A subject's count and chain head in the latest revision.
pub(super) fn stored_subject(store: &dyn LogStore, key: &Key) -> Result<Option<(u64, Hash)>, StoreError> {
    let bucket = store.map_bucket(map::bucket_of(key))?;
    Ok(bucket.binary_search_by(|(k, _, _)| k.cmp(key)).ok().map(|i| (bucket[i].1, bucket[i].2)))
}

/// The nodes above the buckets as the store's latest revision left them; a map whose root is not
/// its revision's (which no write leaves, but a damaged file could), or whose subjects were
/// blinded with another secret, is forgotten, to be computed again from the log.
pub(super) fn load(store: &dyn LogStore, blinding: &map::Blinding) -> Result<Upper, StoreError> {
    let mut upper = Upper::default();
    upper.set(&store.map_subtrees()?);
    let revision = store.map_revision()?;
    let keyed = revision.as_ref().is_none_or(|r| r.keying == blinding.keying());
    if !keyed || revision.as_ref().map_or(map::EMPTY, |r| r.root) != upper.root() {
        log::warn!("the subject map does not match its revision or its secret: it is computed again from the log");
        store.reset_map()?;
        return Ok(Upper::default());
    }
    Ok(upper)
}

pub(super) struct Follower {
    pub store: Arc<dyn LogStore>,
    pub published: Arc<Published>,
    pub signer: CheckpointSigner,
    /// The nodes above the buckets, held for writing while a revision is committed, for
    /// reading while a bundle reads one.
    pub lock: Arc<RwLock<Upper>>,
    /// The log size a reader waits for the map to cover: a revision is computed at once.
    pub wanted: Arc<std::sync::atomic::AtomicU64>,
    pub blinding: map::Blinding,
}

/// Entries read from the store at a time: the store's staged commits are shared with the reader
/// for no longer than one such read.
const READ_CHUNK: usize = 1_000;

/// A subject's new entries: (sequence, leaf hash) in ledger order.
type Chained = Vec<(u64, Hash)>;

/// A revision to compute: the map of the first `to` entries from that of the first `from`, with
/// the entries between and the log's root at `to`.
struct Job {
    from: u64,
    to: u64,
    entries: Vec<crate::log::Entry>,
    log_root: Hash,
}

impl Follower {
    /// Runs until `stop`'s sender is dropped (the last clone of the ledger), in two threads: one
    /// at normal priority that reads the log — so that it never holds what an append needs (the
    /// store's staged commits) while waiting for the CPU — and one at the lowest priority that
    /// computes and writes each revision.
    pub fn spawn(self, stop: crossbeam_channel::Receiver<()>) {
        let (jobs, work) = crossbeam_channel::bounded::<Job>(0);
        let (report, done) = crossbeam_channel::bounded::<Result<(), StoreError>>(1);
        let follower = Arc::new(self);
        let computer = follower.clone();
        std::thread::Builder::new()
            .name("lineage-map-compute".into())
            .spawn(move || {
                super::lowest_priority();
                for job in work {
                    let computed = computer.compute(job);
                    // A revision's entries and runs are garbage now: the server's memory is
                    // what it serves with, not the map's last burst.
                    crate::memory::release_freed();
                    if report.send(computed).is_err() {
                        return;
                    }
                }
            })
            .expect("the map thread starts");
        std::thread::Builder::new()
            .name("lineage-map".into())
            .spawn(move || {
                let mut pace = Pace::new();
                loop {
                    match stop.recv_timeout(POLL) {
                        Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    if let Err(e) = follower.next(&mut pace, &jobs, &done) {
                        log::error!("the subject map could not follow the log: {e}");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                }
            })
            .expect("the map thread starts");
    }

    /// Reads the entries of the next revision when one is due — a reader waits for one, the log
    /// has been [`QUIET`], or new entries have waited [`REVISION_EVERY`] — and has it computed.
    fn next(
        &self,
        pace: &mut Pace,
        jobs: &crossbeam_channel::Sender<Job>,
        done: &crossbeam_channel::Receiver<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        let durable = self.published.len();
        let size = self.store.map_revision()?.map_or(0, |r| r.size);
        let now = std::time::Instant::now();
        if durable != pace.seen {
            pace.seen = durable;
            pace.quiet_since = now;
        }
        if durable <= size {
            pace.last = now;
            return Ok(());
        }
        let wanted = self.wanted.load(std::sync::atomic::Ordering::Acquire) > size;
        let quiet = now.duration_since(pace.quiet_since) >= QUIET;
        if !wanted && !quiet && now.duration_since(pace.last) < REVISION_EVERY {
            return Ok(());
        }
        self.store.room()?;
        let batch = if wanted || now.duration_since(pace.last) >= REVISION_EVERY { MAP_BATCH } else { QUIET_BATCH };
        let to = durable.min(size + batch);
        let mut entries = Vec::with_capacity((to - size) as usize);
        while (entries.len() as u64) < to - size {
            let from = size + entries.len() as u64;
            let chunk = self.store.range(from, READ_CHUNK.min((to - from) as usize))?;
            if chunk.is_empty() {
                return Err(StoreError::Vanished { sequence: from });
            }
            entries.extend(chunk);
        }
        let log_root = super::tree::root_of(self.store.as_ref(), to)?;
        let stopped = || StoreError::Malformed("the map's computing thread stopped".into());
        jobs.send(Job { from: size, to, entries, log_root }).map_err(|_| stopped())?;
        done.recv().map_err(|_| stopped())??;
        pace.last = std::time::Instant::now();
        Ok(())
    }

    /// One revision: the map of the first `to` entries, from that of the first `from`.
    fn compute(&self, job: Job) -> Result<(), StoreError> {
        let Job { from, to, entries, log_root } = job;
        let mut changed: BTreeMap<Key, Chained> = BTreeMap::new();
        for (i, entry) in entries.iter().enumerate() {
            if entry.sequence != from + i as u64 {
                return Err(StoreError::Vanished { sequence: from + i as u64 });
            }
            let (_, payload) =
                open_entry(entry).map_err(|source| StoreError::Unopenable { sequence: entry.sequence, source })?;
            let leaf = entry.leaf_hash();
            for subject in subjects::of(&payload) {
                changed.entry(self.blinding.key(&subject)).or_default().push((entry.sequence, leaf));
            }
        }
        let mut by_bucket: BTreeMap<u16, Vec<(Key, Chained)>> = BTreeMap::new();
        for (key, entries) in changed {
            by_bucket.entry(map::bucket_of(&key)).or_default().push((key, entries));
        }
        let mut subtrees = Vec::with_capacity(by_bucket.len());
        let mut changed_subjects = Vec::new();
        for (bucket, changes) in by_bucket {
            let mut subjects: BTreeMap<Key, (u64, Hash)> =
                self.store.map_bucket(bucket)?.into_iter().map(|(k, count, head)| (k, (count, head))).collect();
            for (key, entries) in changes {
                let (count, head) = subjects.entry(key).or_insert((0, map::EMPTY));
                *head = entries.iter().fold(*head, |head, (s, leaf)| map::chain(&head, *s, leaf));
                *count += entries.len() as u64;
                changed_subjects.push((key, *count, *head));
            }
            let leaves: Vec<(Key, Hash)> =
                subjects.iter().map(|(key, (count, head))| (*key, map::leaf_hash(key, *count, head))).collect();
            subtrees.push((bucket, map::subtree(&leaves, map::BUCKET_DEPTH)));
        }
        crate::store::failpoint::hit("map-computed");
        let mut upper = self.lock.write().map_err(|_| StoreError::Malformed("the map lock is poisoned".into()))?;
        let before: Vec<(u16, MapNode)> = subtrees.iter().map(|(b, _)| (*b, upper.bucket(*b))).collect();
        upper.set(&subtrees);
        let root = upper.root();
        let checkpoint = Checkpoint { origin: self.signer.origin.clone(), size: to, root: log_root };
        let note = MapCheckpoint { checkpoint, map_root: root }.sign(&self.signer.origin, &self.signer.key);
        let commit = MapCommit {
            subjects: changed_subjects,
            subtrees,
            revision: MapRevision { size: to, root, keying: self.blinding.keying(), note },
        };
        let written = self.store.commit_map(&commit);
        if written.is_err() {
            upper.set(&before);
        }
        written?;
        drop(upper);
        self.store.tidy_map()
    }
}
