//! The sled store: one directory, no server.
//!
//! One tree, `log`, holds everything a commit writes, in the key layout of [`layout`]; tokens
//! live in a tree of their own. The subject map is kept in files of its own, `map/`
//! ([`crate::store::map_files`]), written at the lowest priority: never in the log's database,
//! whose commits would otherwise wait for a revision's writes. The event-id, asset and project-stream indexes are kept in
//! memory ([`super::index`]), built from the `M` records when the store opens, so that an entry
//! costs no index key of its own: with many projects appending at once, one key per project
//! and commit was a third of the cost of a commit.
//!
//! An append is made durable by the [journal](journal): the commit's records are written
//! there and `fdatasync`'d, then [staged](staged) in memory and read from there until about
//! [`STAGED_BYTES`] of them are given to sled together, as one batch, without a flush. At open,
//! every key the journal's commits wrote is set again to the value of the last one that wrote it,
//! whatever sled kept of them. A commit over [`LARGEST_RECORD`] skips the journal: the staged
//! commits and it are applied, sled is synced at once and the journal emptied after it. The
//! journal is emptied only after sled has been made durable ("synced"): sled 0.34's `flush`
//! writes its buffers with `sync_file_range`, which does not make them durable, so after the
//! flush the database file is `fdatasync`'d through a handle of our own (fsync acts on the file,
//! whichever descriptor calls it). A page larger than a quarter of a log segment goes to a file
//! of its own under `blobs/`, which sled writes without any sync: every blob file new since the
//! last sync is `fdatasync`'d, and the directory synced, before the database file. The
//! checkpoint of the last acknowledged commit is kept beside sled ([`acknowledged`]).
//!
//! sled 0.34 keeps nearly every page a scan reads: its LRU takes note of an access only once 64
//! more have queued in the same of its 256 shards. Reads of the whole log (the start-up replay,
//! `fsck`, `rebuild`: [`super::read_whole_log`]) therefore reopen the database every 2^18
//! entries and at their end ([`LogStore::release_cache`]); after a start on 1,000,000 entries
//! that is the difference between 1.8 GB and 0.8 GB resident.
//!
//! The write path (journal, staging, full-disk recovery) is here, so that its crash windows can
//! be read together; the database handle, the disk's reserve, the reads, the tokens, the key
//! layout, the journal, the staging and the acknowledged record are in their own files.

mod acknowledged;
mod database;
mod dictionary;
mod journal;
mod layout;
mod packed;
mod reads;
mod reserve;
mod sealed;
mod sizes;
mod staged;
mod tokens;

use database::{Database, Opened};
pub use dictionary::DEFAULT_AFTER as COMPRESS_AFTER;
pub use reserve::MIN_FREE_BYTES;
use reserve::{free_bytes, Reserve, RECOVERY_ROOM};
pub use sizes::Part;

use super::failpoint;
use super::index::{found_in, Found, SharedIndexes};
use super::{Commit, LogStore, StoreError, TokenRecord, TokenStore};
use crate::crypto::merkle::{Hash, NodeId};
use crate::log::Entry;
use acknowledged::AcknowledgedRecord;
use dictionary::Encoder;
use journal::{Journal, Record, LARGEST_RECORD};
pub use layout::SEGMENT_SIZE;
use layout::{
    chunk_end, chunk_entries, commit_pairs, decode_entry, decode_found, io, log_len, node_key, read_u64, seq_key,
};
use staged::StagedCommits;
pub use staged::STAGED_BYTES;
use std::fs::File;
use std::path::Path;

pub struct SledStore {
    dir: std::path::PathBuf,
    /// `None` only while `release_cache` reopens it, or after reopening failed.
    database: std::sync::RwLock<Option<Database>>,
    file: File,
    /// Blob files (sled names them by log sequence number) already synced and still present.
    synced_blobs: std::sync::Mutex<std::collections::HashSet<u64>>,
    indexes: SharedIndexes,
    acknowledged: AcknowledgedRecord,
    journal: Journal,
    /// Commits the journal has made durable that sled has not been given yet.
    staged: StagedCommits,
    /// Free space below which appends are refused ([`LogStore::room`]).
    min_free_bytes: std::sync::atomic::AtomicU64,
    /// Room kept for sled to recover in after a write fails on a full disk.
    reserve: Reserve,
    /// Set when sled could not take or sync a commit (a full disk, an I/O error): sled then
    /// holds an error of its own for good, and a sync that seems to succeed later may have lost
    /// the pages the failed one dropped. The next append reopens sled and gives it the journal
    /// again before anything else ([`SledStore::recover`]).
    poisoned: std::sync::atomic::AtomicBool,
    /// The subject map's files (`map/`).
    map: crate::store::map_files::MapFiles,
    /// The dictionary entries are compressed with, and samples for the next.
    writing: std::sync::Mutex<dictionary::Writing>,
    /// The dictionaries entries are inflated with, as read.
    decoders: dictionary::Decoders,
}

fn batch_of(record: Record) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (key, value) in record.pairs {
        batch.insert(key, value);
    }
    batch
}

/// Applies the journal's commits again, in order, as a redo log: every key of every record is set
/// to the value the last record gave it, whatever sled kept of them, so that recovery does not
/// depend on which of its unflushed batches sled brings back.
///
/// Every key but the checkpoint's is written once, with one value, so setting it again cannot
/// take anything back. The checkpoint is the exception: when sled already holds entries past the
/// journal's last commit — a commit too large for the journal, written to sled directly and
/// crashed before the journal was emptied — sled's checkpoint is the one of that longer log
/// (written in the same atomic batch as its entries), and the journal's older one must not
/// replace it.
fn replay(log: &sled::Tree, records: Vec<Record>, all: bool) -> Result<(), StoreError> {
    let (Some(first), Some(last)) = (records.first(), records.last()) else { return Ok(()) };
    // What came before the journal's first commit was made durable before it was written.
    let len = log_len(log)?;
    if first.first > len {
        return Err(StoreError::Malformed(format!(
            "the journal's commit of entries {} to {} does not continue the stored log of {len} entries",
            first.first,
            first.first + first.entries
        )));
    }
    let sled_is_longer = len > last.first + last.entries;
    let mut next = first.first;
    for record in records {
        if record.first != next {
            return Err(StoreError::Malformed(format!(
                "the journal's commit of entries {} to {} does not follow the one before it, which ends at {next}",
                record.first,
                record.first + record.entries
            )));
        }
        next = record.first + record.entries;
        for (key, value) in record.pairs {
            if sled_is_longer && key == layout::CHECKPOINT_KEY {
                continue;
            }
            if all || log.get(&key).map_err(io)?.as_deref() != Some(&value[..]) {
                log.insert(key, value).map_err(io)?;
            }
        }
    }
    Ok(())
}

impl SledStore {
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(io)?;
        let database = Database::open(dir)?;
        if database.log.scan_prefix([b'e']).next().is_some() {
            return Err(StoreError::Malformed(format!(
                "{} holds a log in an older storage layout: export it with the version that wrote it and import it",
                dir.display()
            )));
        }
        let file = File::open(dir.join("db")).map_err(io)?;
        let (journal, records) = Journal::open(dir)?;
        replay(&database.log, records, false)?;
        let current = match database.log.scan_prefix([layout::DICTIONARY]).next_back() {
            Some(kv) => {
                let (key, value) = kv.map_err(io)?;
                Some((read_u64(&key[1..])?, value.to_vec()))
            }
            None => None,
        };
        let store = SledStore {
            dir: dir.to_owned(),
            database: std::sync::RwLock::new(Some(database)),
            file,
            synced_blobs: Default::default(),
            indexes: SharedIndexes::default(),
            acknowledged: AcknowledgedRecord::open(dir)?,
            journal,
            staged: StagedCommits::default(),
            min_free_bytes: MIN_FREE_BYTES.into(),
            poisoned: false.into(),
            reserve: Reserve { path: dir.join("reserve") },
            map: crate::store::map_files::MapFiles::open(&dir.join("map"))?,
            writing: std::sync::Mutex::new(dictionary::Writing::new(current)?),
            decoders: dictionary::Decoders::default(),
        };
        store.reserve.take();
        // A sealed state whose write did not finish (anything else by that name is moved aside:
        // the sealed state is not the log, and never stops a start).
        let unfinished = dir.join(sealed::UNFINISHED);
        match std::fs::symlink_metadata(&unfinished) {
            Ok(m) if m.is_file() => {
                if let Err(e) = std::fs::remove_file(&unfinished) {
                    log::warn!("{} could not be removed: {e}", unfinished.display());
                }
            }
            Ok(_) => sealed::set_aside(&unfinished),
            Err(_) => {}
        }
        store.sync_and_empty_journal(&*store.database()?)?;
        store.load_indexes()?;
        // The directory entry of a new database file must be durable too.
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        Ok(store)
    }

    /// Sets how many entries are appended before the first dictionary is made; 0 stores
    /// entries raw ([`dictionary`]).
    pub fn set_compress_after(&self, entries: u64) -> Result<(), StoreError> {
        self.writing.lock().map_err(|_| io("dictionary lock poisoned"))?.samples.set_after(entries);
        Ok(())
    }

    /// Sets the free space below which appends are refused.
    pub fn set_min_free_bytes(&self, bytes: u64) {
        self.min_free_bytes.store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Notes that sled failed to take or sync what it was given: see `poisoned`.
    fn poison_on_err<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_err() {
            self.poisoned.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        result
    }

    /// After sled failed a write it holds the error for good, reads included: it is reopened at
    /// once, from its files alone, and every journaled commit is staged in memory again (those
    /// sled took but never wrote are read from there). Nothing is written, so this works on a
    /// full disk; sled is given the journal once there is room ([`SledStore::recover`]).
    fn reopen_for_reads(&self) -> Result<(), StoreError> {
        let mut database = self.database.write().map_err(|_| io("database lock poisoned"))?;
        drop(database.take());
        // sled's recovery of the log it failed to write needs room of its own: the reserve kept
        // for it is given up now, and taken again once the store is writable.
        self.reserve.release();
        let reopened = Database::open(&self.dir)?;
        // A dictionary read from sled's memory of a write that failed may not be there again.
        self.decoders.clear()?;
        self.staged.clear()?;
        for record in self.journal.records()? {
            self.staged.stage(record.pairs)?;
        }
        *database = Some(reopened);
        log::warn!("the store was reopened after a failed write; appends wait for room to write again");
        Ok(())
    }

    /// Gives sled every journaled commit again (all of them are staged since the failure), syncs
    /// it and empties the journal: after a failure, nothing sled said it had is trusted until it
    /// has been written again and synced.
    fn recover(&self) -> Result<(), StoreError> {
        // Applying and syncing write: on a disk still full they would fail halfway.
        let free = free_bytes(&self.dir)?;
        if free < RECOVERY_ROOM {
            return Err(StoreError::Full {
                what: format!(
                    "{} has {free} bytes free; the store needs {RECOVERY_ROOM} to recover from a failed write",
                    self.dir.display()
                ),
                source: None,
            });
        }
        let database = self.database()?;
        if !self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let staged = self.staged.snapshot()?;
        database.log.apply_batch(staged.batch()).map_err(io)?;
        self.sync(&database)?;
        self.journal.empty()?;
        self.staged.clear()?;
        self.poisoned.store(false, std::sync::atomic::Ordering::SeqCst);
        self.reserve.take();
        log::warn!("the store is writable again");
        Ok(())
    }

    /// After a write that failed, sled is reopened for reads (see `reopen_for_reads`). A full
    /// disk counts as sled's failure even when the journal met it first: sled writes its
    /// buffers in the background and will meet it next.
    fn after_failure<T>(&self, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if matches!(result, Err(StoreError::Full { .. })) {
            self.poisoned.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if result.is_err() && self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            if let Err(e) = self.reopen_for_reads() {
                log::error!("the store could not be reopened after a failed write: {e}");
            }
        }
        result
    }

    /// The open database. One that could not be reopened (after `release_cache`, or a recovery
    /// on a disk still full) is opened again here, so that reads come back as soon as it can be.
    fn database(&self) -> Result<Opened<'_>, StoreError> {
        let guard = self.database.read().map_err(|_| io("database lock poisoned"))?;
        if guard.is_some() {
            return Ok(Opened(guard));
        }
        drop(guard);
        {
            let mut database = self.database.write().map_err(|_| io("database lock poisoned"))?;
            if database.is_none() {
                let reopened = Database::open(&self.dir)
                    .map_err(|e| io(format!("{} could not be reopened: {e}", self.dir.display())))?;
                // What sled held before is not trusted: the journal is read from memory, and goes
                // to sled again before anything else.
                self.poisoned.store(true, std::sync::atomic::Ordering::SeqCst);
                self.decoders.clear()?;
                self.staged.clear()?;
                for record in self.journal.records()? {
                    self.staged.stage(record.pairs)?;
                }
                *database = Some(reopened);
            }
        }
        let guard = self.database.read().map_err(|_| io("database lock poisoned"))?;
        if guard.is_none() {
            return Err(io(format!("{} could not be reopened", self.dir.display())));
        }
        Ok(Opened(guard))
    }

    fn load_indexes(&self) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let mut builder = super::index::IndexBuilder::default();
        for kv in self.database()?.log.scan_prefix([b'M']) {
            let (key, value) = kv.map_err(io)?;
            let first = read_u64(&key[1..])?;
            for (i, found) in decode_found(&value)?.iter().enumerate() {
                builder.push(first + i as u64, found);
            }
        }
        *self.indexes.write()? = builder.finish();
        log::debug!("the indexes built in {:?}", started.elapsed());
        Ok(())
    }

    /// The last record with a key in `low..=key`: the chunk or run holding the position `key`
    /// names, as those records are keyed by their first position.
    fn holding(&self, low: &[u8], key: &[u8]) -> Result<Option<(sled::IVec, sled::IVec)>, StoreError> {
        let waiting = self.staged.now()?.last_in(low, key);
        let stored = self.database()?.log.range(low..=key).next_back().transpose().map_err(io)?;
        Ok(match (stored, waiting) {
            (Some(stored), Some(waiting)) => Some(if stored.0 >= waiting.0 { stored } else { waiting }),
            (stored, waiting) => stored.or(waiting),
        })
    }

    /// The value of one key, staged or in sled.
    fn value(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        self.value_in(&*self.database()?, key)
    }

    /// The value of one key, staged or in `database`, held by the caller.
    fn value_in(&self, database: &Database, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        let waiting = self.staged.now()?.pairs.get(key).cloned();
        match waiting {
            Some(value) => Ok(Some(value)),
            None => database.log.get(key).map_err(io),
        }
    }

    /// The number of entries, counting the staged ones.
    fn len_in(&self, database: &Database) -> Result<u64, StoreError> {
        let staged_end = match self.staged.now()?.last_in(&seq_key(b'E', 0), &seq_key(b'E', u64::MAX)) {
            Some((key, value)) => chunk_end(&key, &value)?,
            None => 0,
        };
        Ok(log_len(&database.log)?.max(staged_end))
    }

    /// Gives sled every staged commit in one batch, then forgets them.
    fn apply_staged(&self, database: &Database) -> Result<(), StoreError> {
        let staged = self.staged.snapshot()?;
        if staged.pairs.is_empty() {
            return Ok(());
        }
        database.log.apply_batch(staged.batch()).map_err(io)?;
        failpoint::hit("staged-applied");
        self.staged.clear()
    }

    /// What the entry at `sequence` is found by, from its chunk's record.
    fn found(&self, sequence: u64) -> Result<Option<Found>, StoreError> {
        let Some((key, value)) = self.holding(&seq_key(b'M', 0), &seq_key(b'M', sequence))? else {
            return Ok(None);
        };
        let first = read_u64(&key[1..])?;
        Ok(decode_found(&value)?.into_iter().nth((sequence - first) as usize))
    }

    fn sync(&self, database: &Database) -> Result<(), StoreError> {
        database.db.flush().map_err(io)?;
        self.sync_new_blobs()?;
        self.file.sync_data().map_err(io)
    }

    /// Makes sled hold every journaled commit durably, and then the journal's records needless:
    /// the order is what lets a crash between the two replay records sled holds already.
    fn sync_and_empty_journal(&self, database: &Database) -> Result<(), StoreError> {
        if self.poisoned.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(io("the store failed a write and must be reopened before it syncs again"));
        }
        self.poison_on_err(self.apply_staged(database))?;
        self.poison_on_err(self.sync(database))?;
        failpoint::hit("sled-synced");
        self.journal.empty()
    }

    fn sync_new_blobs(&self) -> Result<(), StoreError> {
        let mut synced =
            self.synced_blobs.lock().map_err(|_| StoreError::Malformed("blob sync lock poisoned".into()))?;
        let dir = self.dir.join("blobs");
        let listing = match std::fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(e)),
        };
        let mut present = std::collections::HashSet::with_capacity(synced.len() + 4);
        let mut any_new = false;
        for item in listing {
            let item = item.map_err(io)?;
            let Some(lsn) = item.file_name().to_str().and_then(|n| n.parse::<u64>().ok()) else { continue };
            if !synced.contains(&lsn) {
                match File::open(item.path()) {
                    Ok(file) => file.sync_data().map_err(io)?,
                    // sled removes blobs it no longer needs; a removed blob needs no sync.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(io(e)),
                }
                any_new = true;
            }
            present.insert(lsn);
        }
        if any_new {
            File::open(&dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        *synced = present;
        Ok(())
    }
}

#[cfg(test)]
mod dictionary_tests;
#[cfg(test)]
mod tests;
