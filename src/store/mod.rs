//! Where entries live. Two small traits: [`LogStore`], the log and what it is found by (the
//! writer is its only caller that changes anything), and [`TokenStore`], the read tokens'
//! grants. [`MemoryStore`] and [`SledStore`] implement both and keep their indexes with the one
//! implementation in [`index`].
//!
//! # Failure contract of [`LogStore`]
//! - `append` is atomic: after a crash either every entry of the batch is visible or none is.
//! - `append` returns `Ok` only once the batch is durable (on disk and fsync'd for the sled store).
//! - When `append` returns `Err`, the batch may or may not have become durable. The caller must
//!   not acknowledge it and must re-read its view of the log from the store before writing again.
//! - Reads never return an entry that a crash could take back once `append` has returned `Ok` for
//!   it; they may return entries of an `append` still in progress, so readers clamp to the length
//!   the writer has published.

pub mod failpoint;
pub mod index;
mod memory;
mod sled;

pub use memory::MemoryStore;
pub use sled::{SledStore, MIN_FREE_BYTES, SEGMENT_SIZE};

use crate::crypto::map::{Key as MapKey, MapNode};
use crate::crypto::merkle::{Hash, NodeId};
use crate::domain::EventId;
use crate::log::Entry;

/// A revision of the subject map ([`crate::crypto::map`]): the log's size it covers, the map's
/// root, which secret its subjects are blinded with, and the signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRevision {
    pub size: u64,
    pub root: Hash,
    /// [`crate::crypto::map::Blinding::keying`].
    pub keying: Hash,
    pub note: String,
}

/// A bucket of the subject map: every subject whose key begins with the bucket's bits
/// ([`crate::crypto::map::bucket_of`]), as (key, count, chain head), sorted by key.
pub type MapBucket = Vec<(MapKey, u64, Hash)>;

/// What one revision of the subject map writes, atomically.
#[derive(Debug, Clone)]
pub struct MapCommit {
    /// Each changed bucket: its index, all its subjects, and its subtree.
    pub buckets: Vec<(u16, MapBucket, MapNode)>,
    /// Each changed subject's new entries' sequences.
    pub sequences: Vec<(MapKey, Vec<u64>)>,
    pub revision: MapRevision,
}

/// Everything one group commit writes, atomically.
#[derive(Debug, Default, Clone)]
pub struct Commit {
    /// New entries, each with its event id; their sequences continue the log.
    pub entries: Vec<(Entry, EventId)>,
    /// Merkle nodes the new entries completed.
    pub nodes: Vec<(NodeId, Hash)>,
    /// Which assets each new entry names: (project, asset id, sequence).
    pub mentions: Vec<(String, String, u64)>,
    /// The signed checkpoint of the log after this commit.
    pub checkpoint: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An operation on the store's files failed.
    #[error("storage I/O failed: {what}: {source}")]
    Io { what: &'static str, source: std::io::Error },
    /// sled failed other than in I/O.
    #[error("storage I/O failed: {source}")]
    Sled { source: ::sled::Error },
    /// What the store holds is not what it writes (a record of the wrong length, a malformed
    /// chunk, a lock a panic left poisoned): nothing underneath to name.
    #[error("storage I/O failed: {0}")]
    Malformed(String),
    /// A record could not be encoded (nothing was written).
    #[error("storage I/O failed: {source}")]
    Encode { source: bincode::error::EncodeError },
    #[error("stored entry {sequence} is unreadable: {reason}")]
    Corrupt { sequence: u64, reason: String },
    /// An entry the index names is not in the store.
    #[error("entry {sequence} vanished")]
    Vanished { sequence: u64 },
    /// An entry read back does not open (its envelope or payload).
    #[error("entry {sequence} is unreadable: {source}")]
    Unopenable { sequence: u64, source: crate::log::OpenError },
    /// A failure, with what was being done when it happened.
    #[error("{context}: {source}")]
    While { context: String, source: Box<StoreError> },
    /// A lookup the rules asked of the log failed.
    #[error("storage I/O failed: {0}")]
    Lookup(#[source] crate::domain::LookupFailed),
    /// The file system holding the store is (nearly) full: nothing was written. `source` is
    /// the failure that said so, when one did (not when the free space was found short).
    #[error("the disk holding the store is full: {what}{}", .source.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Full { what: String, source: Option<std::io::Error> },
}

/// A failure of what the store is built on, kept as the cause of the [`StoreError`] it becomes.
pub trait IntoStoreError {
    fn into_store_error(self, what: &'static str) -> StoreError;
}

impl IntoStoreError for std::io::Error {
    fn into_store_error(self, what: &'static str) -> StoreError {
        StoreError::of_io(self, what)
    }
}

impl IntoStoreError for ::sled::Error {
    fn into_store_error(self, what: &'static str) -> StoreError {
        match self {
            ::sled::Error::Io(inner) => StoreError::of_io(inner, what),
            other => StoreError::Sled { source: other },
        }
    }
}

impl IntoStoreError for bincode::error::EncodeError {
    fn into_store_error(self, _: &'static str) -> StoreError {
        StoreError::Encode { source: self }
    }
}

impl IntoStoreError for std::ffi::NulError {
    fn into_store_error(self, what: &'static str) -> StoreError {
        StoreError::of_io(std::io::Error::new(std::io::ErrorKind::InvalidInput, self), what)
    }
}

impl IntoStoreError for &str {
    fn into_store_error(self, _: &'static str) -> StoreError {
        StoreError::Malformed(self.to_owned())
    }
}

impl IntoStoreError for String {
    fn into_store_error(self, what: &'static str) -> StoreError {
        self.as_str().into_store_error(what)
    }
}

impl StoreError {
    /// An I/O failure, told apart as a full disk (ENOSPC, EDQUOT) when that is what it is.
    pub fn of_io(error: std::io::Error, what: &'static str) -> StoreError {
        let full = matches!(error.raw_os_error(), Some(code) if code == libc::ENOSPC || code == libc::EDQUOT)
            || matches!(error.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded);
        if full {
            StoreError::Full { what: what.to_owned(), source: Some(error) }
        } else {
            StoreError::Io { what, source: error }
        }
    }
}

/// A bearer token's grant, stored under the SHA-256 of the token.
#[derive(Debug, Clone, PartialEq, Eq, bincode::Encode, bincode::Decode)]
pub struct TokenRecord {
    pub name: String,
    /// `None`: every project; otherwise only these.
    pub projects: Option<Vec<String>>,
    pub admin: bool,
    pub created_at_us: i64,
    /// `None`: it does not expire.
    pub expires_at_us: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at_us: Option<i64>,
    /// `Some`: only the projects of this organisation (its clients' projects and those it has
    /// members in).
    pub organization: Option<String>,
}

/// How grants were stored before they could be scoped to an organisation.
#[derive(bincode::Decode)]
struct TokenRecordV2 {
    name: String,
    projects: Option<Vec<String>>,
    admin: bool,
    created_at_us: i64,
    expires_at_us: Option<i64>,
    revoked_at_us: Option<i64>,
}

/// How grants were stored before they could expire or be revoked; read as never expiring.
#[derive(bincode::Decode)]
struct TokenRecordV1 {
    name: String,
    projects: Option<Vec<String>>,
    admin: bool,
    created_at_us: i64,
}

impl TokenRecord {
    /// The record's stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).expect("token records encode")
    }

    /// A stored record, in the current layout or an earlier one.
    pub fn decode(bytes: &[u8]) -> Result<TokenRecord, StoreError> {
        let config = bincode::config::standard();
        if let Ok((record, read)) = bincode::decode_from_slice::<TokenRecord, _>(bytes, config) {
            if read == bytes.len() {
                return Ok(record);
            }
        }
        if let Ok((old, read)) = bincode::decode_from_slice::<TokenRecordV2, _>(bytes, config) {
            if read == bytes.len() {
                return Ok(TokenRecord {
                    name: old.name,
                    projects: old.projects,
                    admin: old.admin,
                    created_at_us: old.created_at_us,
                    expires_at_us: old.expires_at_us,
                    revoked_at_us: old.revoked_at_us,
                    organization: None,
                });
            }
        }
        let (old, _): (TokenRecordV1, _) = bincode::decode_from_slice(bytes, config)
            .map_err(|e| StoreError::Malformed(format!("a stored token grant is malformed: {e}")))?;
        Ok(TokenRecord {
            name: old.name,
            projects: old.projects,
            admin: old.admin,
            created_at_us: old.created_at_us,
            expires_at_us: None,
            revoked_at_us: None,
            organization: None,
        })
    }
}

pub trait LogStore: Send + Sync + 'static {
    /// Writes a commit atomically and durably; its entries must continue the log.
    fn append(&self, commit: &Commit) -> Result<(), StoreError>;
    /// Number of entries (the next sequence).
    fn len(&self) -> Result<u64, StoreError>;
    fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }
    fn entry(&self, sequence: u64) -> Result<Option<Entry>, StoreError>;
    /// Entries with `sequence >= from`, in order, at most `limit`.
    fn range(&self, from: u64, limit: usize) -> Result<Vec<Entry>, StoreError>;
    /// Sequences of a project's entries with `version >= from_version`, in order, at most `limit`.
    fn project_sequences(&self, project: &str, from_version: u64, limit: usize) -> Result<Vec<u64>, StoreError>;
    fn sequence_of_event(&self, event_id: &str) -> Result<Option<u64>, StoreError>;
    /// A stored Merkle node (complete subtree).
    fn node(&self, id: NodeId) -> Result<Option<Hash>, StoreError>;
    /// The latest signed checkpoint.
    fn checkpoint(&self) -> Result<Option<String>, StoreError>;
    /// The checkpoint of the last acknowledged commit, as recorded apart from the entries. A
    /// store that holds fewer entries than it signs has lost acknowledged history.
    fn acknowledged_checkpoint(&self) -> Result<Option<String>, StoreError> {
        self.checkpoint()
    }
    /// Sequences of the entries of `project` that name `asset`, in order, each once.
    fn asset_sequences(&self, project: &str, asset: &str) -> Result<Vec<u64>, StoreError>;
    /// Lets go of what reading the whole log once (as the start-up replay does) left cached.
    /// Reads and appends may run alongside; they wait while it works.
    fn release_cache(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether there is room for the next commit; [`StoreError::Full`] when the store's file
    /// system has less free space than it keeps in reserve. Asked before a commit is decided,
    /// so that a full disk refuses appends without writing or deciding anything.
    fn room(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// A bucket of the subject map, as the latest revision left it (empty when none was written).
    fn map_bucket(&self, bucket: u16) -> Result<MapBucket, StoreError>;
    /// The subtree of every bucket that holds a subject, as the latest revision left it.
    fn map_subtrees(&self) -> Result<Vec<(u16, MapNode)>, StoreError>;
    /// The sequences of a subject's entries below `size`, in order.
    fn subject_sequences(&self, key: &MapKey, size: u64) -> Result<Vec<u64>, StoreError>;
    /// The latest map revision.
    fn map_revision(&self) -> Result<Option<MapRevision>, StoreError>;
    /// Writes a map revision atomically: after a crash the stored map is one revision or the
    /// one before, never a mix. Not necessarily durable at once (the map is computed again from
    /// the log, to the same root, for a revision a crash took back).
    fn commit_map(&self, commit: &MapCommit) -> Result<(), StoreError>;
    /// Forgets the whole map, so that it is computed again from the log.
    fn reset_map(&self) -> Result<(), StoreError>;
}

/// Where read tokens' grants live, by the SHA-256 of the token. `put_token` returns once the
/// grant is durable.
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a token grant (durably) under the token's hash.
    fn put_token(&self, hash: [u8; 32], record: &TokenRecord) -> Result<(), StoreError>;
    fn tokens(&self) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError>;
}

/// Calls `f` on every stored entry from sequence `from` on, in order, reading pages of 4096.
pub fn for_each_entry<E: From<StoreError>>(
    store: &dyn LogStore,
    from: u64,
    mut f: impl FnMut(&Entry) -> Result<(), E>,
) -> Result<(), E> {
    let mut next = from;
    loop {
        // A page of the largest entries (a payload of 64 KiB) is about 25 MiB.
        let page = store.range(next, PAGE_ENTRIES)?;
        let Some(last) = page.last() else { return Ok(()) };
        next = last.sequence + 1;
        page.iter().try_for_each(&mut f)?;
    }
}

/// How many entries [`read_whole_log`] reads between two [`Store::release_cache`] calls.
const RELEASE_EVERY: u64 = 1 << 18;
/// Bytes of entries read after which a whole-log read lets go of what it read, whatever their
/// number: a log of large entries is never cached more than this much at once.
const RELEASE_EVERY_BYTES: usize = 128 << 20;
/// Entries read at once by a walk over the log.
const PAGE_ENTRIES: usize = 256;

/// Calls `f` on every stored entry, in order (the start-up replay, the writer's reload after a
/// failed write, `fsck`, `rebuild`): what it read is let go of every [`RELEASE_EVERY`] entries
/// or [`RELEASE_EVERY_BYTES`] of them, and at the end, so that the whole log is never cached at
/// once.
pub fn read_whole_log<E: From<StoreError>>(
    store: &dyn LogStore,
    mut f: impl FnMut(&Entry) -> Result<(), E>,
) -> Result<(), E> {
    // Letting go of the cache needs writes (the journal's commits go to sled first): on a full
    // disk it fails, and the whole log is read all the same, cached.
    let release = || {
        if let Err(e) = store.release_cache() {
            log::warn!("the store keeps what this read cached: {e}");
        }
    };
    let mut bytes = 0usize;
    for_each_entry(store, 0, |entry| -> Result<(), E> {
        f(entry)?;
        bytes += entry.envelope.len() + entry.project.len() + 80;
        if entry.sequence % RELEASE_EVERY == RELEASE_EVERY - 1 || bytes >= RELEASE_EVERY_BYTES {
            release();
            bytes = 0;
        }
        Ok(())
    })?;
    release();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn commit(entries: Vec<(Entry, EventId)>) -> Commit {
        let mentions = entries.iter().map(|(e, _)| (e.project.clone(), "asset-1".to_owned(), e.sequence)).collect();
        let nodes = entries.iter().map(|(e, _)| ((0u8, e.sequence), e.leaf_hash())).collect();
        Commit { entries, nodes, mentions, checkpoint: Some("note".into()) }
    }

    fn entry(sequence: u64, project: &str, version: u64) -> (Entry, EventId) {
        let entry = Entry::new(sequence, project.into(), version, 1_700_000_000_000_000, b"{}".to_vec(), [0; 32]);
        (entry, EventId::parse(&format!("ev-{sequence}")).unwrap())
    }

    /// The behaviour every store must have.
    fn contract<S: LogStore + TokenStore>(store: &S) {
        assert_eq!(store.len().unwrap(), 0);
        assert!(store.is_empty().unwrap());
        assert_eq!(store.checkpoint().unwrap(), None);
        store.append(&commit(vec![entry(0, "a", 1), entry(1, "b", 1), entry(2, "a", 2)])).unwrap();
        store.append(&commit(vec![entry(3, "a", 3)])).unwrap();
        assert_eq!(store.len().unwrap(), 4);
        assert!(store.append(&commit(vec![entry(5, "a", 4)])).is_err(), "a gap is refused");
        assert!(store.append(&commit(vec![entry(2, "a", 4)])).is_err(), "an overwrite is refused");
        assert_eq!(store.len().unwrap(), 4, "a refused append writes nothing");
        assert_eq!(store.entry(2).unwrap(), Some(entry(2, "a", 2).0));
        assert_eq!(store.entry(4).unwrap(), None);
        let seqs: Vec<u64> = store.range(1, 2).unwrap().iter().map(|e| e.sequence).collect();
        assert_eq!(seqs, [1, 2]);
        assert_eq!(store.range(9, 10).unwrap(), vec![]);
        assert_eq!(store.project_sequences("a", 1, 10).unwrap(), [0, 2, 3]);
        assert_eq!(store.project_sequences("a", 2, 1).unwrap(), [2]);
        assert_eq!(store.project_sequences("b", 2, 10).unwrap(), Vec::<u64>::new());
        assert_eq!(store.project_sequences("", 1, 10).unwrap(), Vec::<u64>::new());
        assert_eq!(store.sequence_of_event("ev-3").unwrap(), Some(3));
        assert_eq!(store.sequence_of_event("ev-9").unwrap(), None);
        assert_eq!(store.node((0, 3)).unwrap(), Some(entry(3, "a", 3).0.leaf_hash()));
        assert_eq!(store.node((0, 4)).unwrap(), None);
        assert_eq!(store.checkpoint().unwrap().as_deref(), Some("note"));
        assert_eq!(store.asset_sequences("a", "asset-1").unwrap(), [0, 2, 3]);
        assert_eq!(store.asset_sequences("a", "asset").unwrap(), Vec::<u64>::new());
        let record = TokenRecord {
            name: "t".into(),
            projects: Some(vec!["a".into()]),
            admin: false,
            created_at_us: 1,
            expires_at_us: Some(2),
            revoked_at_us: None,
            organization: None,
        };
        store.put_token([7; 32], &record).unwrap();
        assert_eq!(store.tokens().unwrap(), vec![([7; 32], record)]);
    }

    /// An entry that names an asset twice (as an input and as the reviewed asset, say) is listed
    /// once by the asset's index, and again once after a reopen.
    fn an_asset_named_twice_is_listed_once(store: &dyn LogStore) {
        let mut first = commit(vec![entry(0, "a", 1)]);
        first.mentions.push(("a".into(), "asset-1".into(), 0));
        first.mentions.push(("a".into(), "asset-2".into(), 0));
        store.append(&first).unwrap();
        store.append(&commit(vec![entry(1, "a", 2)])).unwrap();
        assert_eq!(store.asset_sequences("a", "asset-1").unwrap(), [0, 1]);
        assert_eq!(store.asset_sequences("a", "asset-2").unwrap(), [0]);
    }

    /// Large commits: reads across the sled store's chunk and run boundaries.
    fn large_commits(store: &dyn LogStore) {
        let mut versions = HashMap::new();
        for size in [150u64, 1, 70] {
            let from = store.len().unwrap();
            let batch = (from..from + size)
                .map(|seq| {
                    let project = if seq % 3 == 0 { "a" } else { "b" };
                    let version = versions.entry(project).and_modify(|v| *v += 1).or_insert(1u64);
                    entry(seq, project, *version)
                })
                .collect();
            store.append(&commit(batch)).unwrap();
        }
        assert_eq!(store.len().unwrap(), 221);
        for seq in [0, 63, 64, 127, 128, 149, 150, 151, 220] {
            assert_eq!(store.entry(seq).unwrap().map(|e| e.sequence), Some(seq));
        }
        assert_eq!(store.entry(221).unwrap(), None);
        let page: Vec<u64> = store.range(60, 100).unwrap().iter().map(|e| e.sequence).collect();
        assert_eq!(page, (60..160).collect::<Vec<_>>());
        assert_eq!(store.range(200, 100).unwrap().len(), 21);
        let every_third: Vec<u64> = (0..221).filter(|s| s % 3 == 0).collect();
        assert_eq!(store.project_sequences("a", 1, 1000).unwrap(), every_third);
        assert_eq!(store.project_sequences("a", 50, 3).unwrap(), every_third[49..52]);
        assert_eq!(store.project_sequences("a", 51, 1000).unwrap(), every_third[50..]);
        assert_eq!(store.project_sequences("a", 75, 10).unwrap(), Vec::<u64>::new());
        assert_eq!(store.sequence_of_event("ev-200").unwrap(), Some(200));
    }

    #[test]
    fn a_token_grant_stored_before_expiry_existed_reads_as_never_expiring() {
        #[derive(bincode::Encode)]
        struct Old {
            name: String,
            projects: Option<Vec<String>>,
            admin: bool,
            created_at_us: i64,
        }
        let old = Old { name: "reader".into(), projects: None, admin: true, created_at_us: 5 };
        let bytes = bincode::encode_to_vec(&old, bincode::config::standard()).unwrap();
        let read = TokenRecord::decode(&bytes).unwrap();
        assert_eq!(
            (read.name.as_str(), read.admin, read.expires_at_us, read.revoked_at_us),
            ("reader", true, None, None)
        );
        let new = TokenRecord { expires_at_us: Some(9), revoked_at_us: Some(7), ..read };
        assert_eq!(TokenRecord::decode(&new.encode()).unwrap(), new);
        let scoped = TokenRecord { organization: Some("acme".into()), ..new.clone() };
        assert_eq!(TokenRecord::decode(&scoped.encode()).unwrap(), scoped);
    }

    #[test]
    fn a_token_grant_stored_before_organisations_existed_reads_as_unscoped() {
        #[derive(bincode::Encode)]
        struct Before {
            name: String,
            projects: Option<Vec<String>>,
            admin: bool,
            created_at_us: i64,
            expires_at_us: Option<i64>,
            revoked_at_us: Option<i64>,
        }
        let before = Before {
            name: "reader".into(),
            projects: Some(vec!["p".into()]),
            admin: false,
            created_at_us: 5,
            expires_at_us: Some(9),
            revoked_at_us: None,
        };
        let read = TokenRecord::decode(&bincode::encode_to_vec(&before, bincode::config::standard()).unwrap()).unwrap();
        assert_eq!((read.projects, read.expires_at_us, read.organization), (Some(vec!["p".to_owned()]), Some(9), None));
    }

    #[test]
    fn the_memory_store_keeps_the_contract() {
        contract(&MemoryStore::new());
        large_commits(&MemoryStore::new());
        an_asset_named_twice_is_listed_once(&MemoryStore::new());
    }

    #[test]
    fn the_sled_store_lists_an_asset_named_twice_once() {
        let dir = tempfile::tempdir().unwrap();
        an_asset_named_twice_is_listed_once(&SledStore::open(dir.path()).unwrap());
        let reopened = SledStore::open(dir.path()).unwrap();
        assert_eq!(reopened.asset_sequences("a", "asset-1").unwrap(), [0, 1]);
    }

    #[test]
    fn the_sled_store_reads_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        large_commits(&SledStore::open(dir.path()).unwrap());
        let reopened = SledStore::open(dir.path()).unwrap();
        assert_eq!(reopened.len().unwrap(), 221);
        assert_eq!(reopened.range(219, 5).unwrap().len(), 2);
        let every_third: Vec<u64> = (0..221).filter(|s| s % 3 == 0).collect();
        assert_eq!(reopened.project_sequences("a", 1, 1000).unwrap(), every_third);
    }

    #[test]
    fn opening_a_sled_store_waits_for_the_lock_this_process_is_releasing() {
        let dir = tempfile::tempdir().unwrap();
        let first = SledStore::open(dir.path()).unwrap();
        let closing = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        let second = SledStore::open(dir.path()).unwrap();
        closing.join().unwrap();
        assert_eq!(second.len().unwrap(), 0);
    }

    #[test]
    fn the_sled_store_reads_and_writes_on_after_releasing_its_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        store.release_cache().unwrap();
        contract(&store);
        store.release_cache().unwrap();
        assert_eq!(store.len().unwrap(), 4);
        assert_eq!(store.entry(3).unwrap(), Some(entry(3, "a", 3).0));
        assert_eq!(store.sequence_of_event("ev-2").unwrap(), Some(2));
        assert_eq!(store.tokens().unwrap().len(), 1);
        store.append(&commit(vec![entry(4, "b", 2)])).unwrap();
        assert_eq!(store.project_sequences("b", 1, 10).unwrap(), [1, 4]);
        drop(store);
        assert_eq!(SledStore::open(dir.path()).unwrap().len().unwrap(), 5);
    }

    #[test]
    fn the_sled_store_releases_its_cache_while_it_is_read_and_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for seq in 0..100 {
                    store.append(&commit(vec![entry(seq, "a", seq + 1)])).unwrap();
                }
            });
            s.spawn(|| {
                for _ in 0..10 {
                    store.release_cache().unwrap();
                }
            });
            s.spawn(|| {
                for _ in 0..100 {
                    let len = store.len().unwrap();
                    assert!(store.range(0, 1000).unwrap().len() as u64 >= len, "an entry seen is never lost");
                }
            });
        });
        assert_eq!(store.len().unwrap(), 100);
        assert_eq!(store.range(0, 1000).unwrap(), (0..100).map(|seq| entry(seq, "a", seq + 1).0).collect::<Vec<_>>());
    }

    #[test]
    fn the_sled_store_keeps_the_contract_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            contract(&store);
        }
        let reopened = SledStore::open(dir.path()).unwrap();
        assert_eq!(reopened.len().unwrap(), 4);
        assert_eq!(reopened.entry(3).unwrap(), Some(entry(3, "a", 3).0));
        assert_eq!(reopened.tokens().unwrap().len(), 1);
        // The in-memory indexes are rebuilt from the stored records.
        assert_eq!(reopened.sequence_of_event("ev-2").unwrap(), Some(2));
        assert_eq!(reopened.sequence_of_event("ev-4").unwrap(), None);
        assert_eq!(reopened.asset_sequences("a", "asset-1").unwrap(), [0, 2, 3]);
        assert_eq!(reopened.asset_sequences("b", "asset-1").unwrap(), [1]);
        assert_eq!(reopened.project_sequences("a", 2, 10).unwrap(), [2, 3]);
        assert_eq!(reopened.project_sequences("b", 1, 10).unwrap(), [1]);
        assert_eq!(
            reopened.acknowledged_checkpoint().unwrap().as_deref(),
            Some("note"),
            "recorded by the closed store"
        );
    }
}
