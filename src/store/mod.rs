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

pub mod confidential;
pub mod failpoint;
pub mod files;
pub mod index;
pub mod map_files;
mod memory;
mod sled;

pub use memory::MemoryStore;
pub use sled::{Part, SledStore, COMPRESS_AFTER, MIN_FREE_BYTES, SEGMENT_SIZE};

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
    /// Each changed subject: (key, count, chain head).
    pub subjects: MapBucket,
    /// Each changed bucket's subtree.
    pub subtrees: Vec<(u16, MapNode)>,
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
    /// The check of a start that resumed from the sealed state failed: appends wait for
    /// `lineage fsck`.
    #[error("{reason}; appends are refused until `lineage fsck` has checked the log (docs/operations.md)")]
    Unchecked { reason: String },
}

/// A replay of the stored log that broke at an entry: the store holds something it should not.
impl From<crate::log::replay::Broken> for StoreError {
    fn from(broken: crate::log::replay::Broken) -> StoreError {
        StoreError::Corrupt { sequence: broken.sequence, reason: broken.reason }
    }
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
    /// Whether it reads the clear texts of confidential fields of the projects it may read.
    pub confidential: bool,
}

/// How grants were stored before they could read confidential clear texts.
#[derive(bincode::Decode)]
struct TokenRecordV3 {
    name: String,
    projects: Option<Vec<String>>,
    admin: bool,
    created_at_us: i64,
    expires_at_us: Option<i64>,
    revoked_at_us: Option<i64>,
    organization: Option<String>,
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

/// Grants stored before expiry existed never expire.
impl From<TokenRecordV1> for TokenRecordV2 {
    fn from(v1: TokenRecordV1) -> Self {
        let TokenRecordV1 { name, projects, admin, created_at_us } = v1;
        TokenRecordV2 { name, projects, admin, created_at_us, expires_at_us: None, revoked_at_us: None }
    }
}

/// Grants stored before organisations existed are not scoped to one.
impl From<TokenRecordV2> for TokenRecordV3 {
    fn from(v2: TokenRecordV2) -> Self {
        let TokenRecordV2 { name, projects, admin, created_at_us, expires_at_us, revoked_at_us } = v2;
        TokenRecordV3 { name, projects, admin, created_at_us, expires_at_us, revoked_at_us, organization: None }
    }
}

/// Grants stored before confidential texts existed are not granted them.
impl From<TokenRecordV3> for TokenRecord {
    fn from(v3: TokenRecordV3) -> Self {
        let TokenRecordV3 { name, projects, admin, created_at_us, expires_at_us, revoked_at_us, organization } = v3;
        TokenRecord {
            name,
            projects,
            admin,
            created_at_us,
            expires_at_us,
            revoked_at_us,
            organization,
            confidential: false,
        }
    }
}

impl TokenRecord {
    /// The record's stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        bincode::encode_to_vec(self, bincode::config::standard()).expect("token records encode")
    }

    /// A stored record, in the current layout or an earlier one (each upcast to the next).
    pub fn decode(bytes: &[u8]) -> Result<TokenRecord, StoreError> {
        fn exactly<T: bincode::Decode<()>>(bytes: &[u8]) -> Option<T> {
            let (value, read) = bincode::decode_from_slice(bytes, bincode::config::standard()).ok()?;
            (read == bytes.len()).then_some(value)
        }
        if let Some(record) = exactly::<TokenRecord>(bytes) {
            return Ok(record);
        }
        if let Some(v3) = exactly::<TokenRecordV3>(bytes) {
            return Ok(v3.into());
        }
        if let Some(v2) = exactly::<TokenRecordV2>(bytes) {
            return Ok(TokenRecordV3::from(v2).into());
        }
        let (v1, _): (TokenRecordV1, _) = bincode::decode_from_slice(bytes, bincode::config::standard())
            .map_err(|e| StoreError::Malformed(format!("a stored token grant is malformed: {e}")))?;
        Ok(TokenRecordV3::from(TokenRecordV2::from(v1)).into())
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
    /// Whether there is room for `bytes` more beside what [`LogStore::room`] keeps free (a
    /// sealed state of about that size, asked before it is encoded).
    fn room_for(&self, bytes: u64) -> Result<(), StoreError> {
        let _ = bytes;
        self.room()
    }
    /// A bucket of the subject map, as the latest revision left it (empty when none was written).
    fn map_bucket(&self, bucket: u16) -> Result<MapBucket, StoreError>;
    /// The subtree of every bucket that holds a subject, as the latest revision left it.
    fn map_subtrees(&self) -> Result<Vec<(u16, MapNode)>, StoreError>;
    /// The latest map revision.
    fn map_revision(&self) -> Result<Option<MapRevision>, StoreError>;
    /// Writes a map revision atomically: after a crash the stored map is one revision or the
    /// one before, never a mix. Not necessarily durable at once (the map is computed again from
    /// the log, to the same root, for a revision a crash took back).
    fn commit_map(&self, commit: &MapCommit) -> Result<(), StoreError>;
    /// Forgets the whole map, so that it is computed again from the log.
    fn reset_map(&self) -> Result<(), StoreError>;
    /// Tidies the stored map (merging what revisions wrote apart) without changing it: reads
    /// see the same map before, during and after. Called off the lock a revision is written
    /// under.
    fn tidy_map(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// The writer's state as last sealed (opaque bytes: `ledger::sealed`), if any.
    fn sealed_state(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replaces the sealed state, durably and atomically: after a crash the store holds the
    /// old bytes or the new ones, never a mix. Called only with a state of durable entries.
    fn seal_state(&self, bytes: &[u8]) -> Result<(), StoreError>;
    /// Sets the sealed state aside as rejected (a start's check found it wrong): starts read
    /// none, and report the rejection, until it is cleared.
    fn reject_sealed_state(&self) -> Result<(), StoreError>;
    fn sealed_state_rejected(&self) -> Result<bool, StoreError>;
    /// Clears a rejection (`lineage fsck`, once the whole log verified).
    fn clear_rejected_sealed_state(&self) -> Result<(), StoreError>;
}

/// Where read tokens' grants live, by the SHA-256 of the token. `put_token` returns once the
/// grant is durable.
pub trait TokenStore: Send + Sync + 'static {
    /// Stores a token grant (durably) under the token's hash.
    fn put_token(&self, hash: [u8; 32], record: &TokenRecord) -> Result<(), StoreError>;
    fn tokens(&self) -> Result<Vec<([u8; 32], TokenRecord)>, StoreError>;
}

/// How many entries [`read_log`] reads between two [`LogStore::release_cache`] calls.
const RELEASE_EVERY: u64 = 1 << 18;
/// Bytes of entries read after which a long read lets go of what it read, whatever their
/// number: a log of large entries is never cached more than this much at once.
const RELEASE_EVERY_BYTES: usize = 128 << 20;
/// Entries read at once by a walk over the log.
const PAGE_ENTRIES: usize = 256;

/// Calls `f` on every stored entry, in order (the start-up replay, the writer's reload after a
/// failed write, `fsck`, `rebuild`): see [`read_log`].
pub fn read_whole_log<E: From<StoreError>>(
    store: &dyn LogStore,
    f: impl FnMut(&Entry) -> Result<(), E>,
) -> Result<(), E> {
    read_log(store, 0..u64::MAX, f)
}

/// Calls `f` on the stored entries whose sequences are in `range`, in order, letting go of what
/// the reads cached every [`RELEASE_EVERY`] entries or [`RELEASE_EVERY_BYTES`] of them, and at
/// the end (when it read any), so that a long walk never holds the log in the cache at once.
pub fn read_log<E: From<StoreError>>(
    store: &dyn LogStore,
    range: std::ops::Range<u64>,
    mut f: impl FnMut(&Entry) -> Result<(), E>,
) -> Result<(), E> {
    // Letting go of the cache needs writes (the journal's commits go to sled first): on a full
    // disk it fails, and the log is read all the same, cached.
    let release = || {
        if let Err(e) = store.release_cache() {
            log::warn!("the store keeps what this read cached: {e}");
        }
    };
    let mut bytes = 0usize;
    let mut next = range.start;
    let mut read_any = false;
    while next < range.end {
        // A page of the largest entries (a payload of 64 KiB) is about 25 MiB.
        let want = usize::try_from(range.end - next).unwrap_or(usize::MAX).min(PAGE_ENTRIES);
        let page = store.range(next, want)?;
        let Some(last) = page.last() else { break };
        next = last.sequence + 1;
        read_any = true;
        for entry in page.iter().filter(|e| e.sequence < range.end) {
            f(entry)?;
            bytes += entry.envelope.len() + entry.project.len() + 80;
            if entry.sequence % RELEASE_EVERY == RELEASE_EVERY - 1 || bytes >= RELEASE_EVERY_BYTES {
                release();
                bytes = 0;
            }
        }
    }
    if read_any {
        release();
    }
    Ok(())
}

#[cfg(test)]
mod tests;
