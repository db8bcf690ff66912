//! The sled store's commit journal: what makes an append durable without flushing sled.
//!
//! Flushing sled costs two buffer writes through its I/O threads, each waited for, and then an
//! `fdatasync` of its file: three device round trips per commit. Instead each commit's records
//! are first written to this file and `fdatasync`'d (one round trip), then given to sled, in
//! groups of commits, without a flush; sled writes its buffers in the background. After a crash
//! every key of the journal's records is set again to its last value (a redo log), whatever sled
//! kept of them.
//! The journal is only emptied once sled has been flushed and its files synced: when it is full,
//! after a commit too large for it, before the database is reopened, and at open after replaying
//! it.
//!
//! The file is `journal` beside sled's: a header at offset 0, commit records from
//! [`RECORDS_AT`] on, never more than [`CAPACITY`] bytes. It is not truncated when emptied but
//! given a new generation, so that later commits overwrite the old records in place, which costs
//! the device no metadata update; records of another generation are not read.
//! - header: `LJNL`, u32 version 1, u64 generation, SHA-256 of those 16 bytes;
//! - record: `LREC`, u64 generation, u64 first sequence, u64 entry count, u64 body length, the
//!   body (u32 pair count, then per pair u32 key length, key, u32 value length, value), SHA-256
//!   of everything before it in the record.
//!
//! Integers are big-endian. Reading stops at the first record that is torn, of another
//! generation or fails its digest: records are only ever appended after intact ones.

use super::StoreError;
use sha2::{Digest as _, Sha256};
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Most bytes the journal file holds.
pub const CAPACITY: u64 = 32 * 1024 * 1024;
/// The largest record the sled store journals. A larger commit is written to sled and synced
/// directly: sled's flush costs less than writing its many entries twice (measured with 100-event
/// requests: about 10% fewer events per second when every commit was journaled).
pub const LARGEST_RECORD: usize = 256 * 1024;
/// Where the first record starts: the header's page is written only when the journal is emptied.
pub const RECORDS_AT: u64 = 4096;
/// The file is grown by writing zeros in steps of this size, so that most commits overwrite
/// allocated blocks and their `fdatasync` has no file size to record.
const GROW_BY: u64 = 1024 * 1024;

const HEADER_MAGIC: &[u8; 4] = b"LJNL";
const RECORD_MAGIC: &[u8; 4] = b"LREC";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 16 + 32;
/// Magic, generation, first sequence, entry count, body length.
const RECORD_HEAD: usize = 4 + 8 + 8 + 8 + 8;

/// One commit as the journal holds it: the key/value pairs of the sled batch, and which entries
/// they add, so that a replay can check that the commits follow each other and the stored log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub first: u64,
    pub entries: u64,
    pub pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Record {
    fn body_len(&self) -> usize {
        4 + self.pairs.iter().map(|(k, v)| 8 + k.len() + v.len()).sum::<usize>()
    }

    /// The length of the record as written.
    pub fn encoded_len(&self) -> usize {
        RECORD_HEAD + self.body_len() + 32
    }

    fn encode(&self, generation: u64) -> Vec<u8> {
        let body_len = self.body_len();
        let mut out = Vec::with_capacity(RECORD_HEAD + body_len + 32);
        out.extend_from_slice(RECORD_MAGIC);
        for n in [generation, self.first, self.entries, body_len as u64] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        out.extend_from_slice(&(self.pairs.len() as u32).to_be_bytes());
        for (key, value) in &self.pairs {
            out.extend_from_slice(&(key.len() as u32).to_be_bytes());
            out.extend_from_slice(key);
            out.extend_from_slice(&(value.len() as u32).to_be_bytes());
            out.extend_from_slice(value);
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// The record at `at`, or `None` where reading stops.
    fn read(file: &File, at: u64, generation: u64) -> Option<(Record, u64)> {
        let mut head = [0u8; RECORD_HEAD];
        file.read_exact_at(&mut head, at).ok()?;
        let number = |i: usize| u64::from_be_bytes(head[4 + 8 * i..12 + 8 * i].try_into().expect("8 bytes"));
        if &head[..4] != RECORD_MAGIC || number(0) != generation {
            return None;
        }
        let body_len = number(3);
        let end = at.checked_add(RECORD_HEAD as u64)?.checked_add(body_len)?.checked_add(32)?;
        if end > CAPACITY {
            return None;
        }
        let mut rest = vec![0u8; body_len as usize + 32];
        file.read_exact_at(&mut rest, at + RECORD_HEAD as u64).ok()?;
        let (body, digest) = rest.split_at(body_len as usize);
        let mut hasher = Sha256::new();
        hasher.update(head);
        hasher.update(body);
        if hasher.finalize()[..] != digest[..] {
            return None;
        }
        let pairs = decode_pairs(body)?;
        Some((Record { first: number(1), entries: number(2), pairs }, end))
    }
}

fn decode_pairs(body: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    struct Reader<'a>(&'a [u8]);
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Option<&'a [u8]> {
            let (taken, rest) = self.0.split_at_checked(n)?;
            self.0 = rest;
            Some(taken)
        }
        fn length(&mut self) -> Option<usize> {
            Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?) as usize)
        }
        fn field(&mut self) -> Option<Vec<u8>> {
            let len = self.length()?;
            self.take(len).map(<[u8]>::to_vec)
        }
    }
    let mut reader = Reader(body);
    let count = reader.length()?;
    // The count is only trusted as far as the body holds pairs.
    let mut pairs = Vec::with_capacity(count.min(body.len() / 8));
    for _ in 0..count {
        pairs.push((reader.field()?, reader.field()?));
    }
    Some(pairs)
}

struct Cursor {
    generation: u64,
    /// Where the next record goes.
    end: u64,
    /// How far the file is known to extend.
    allocated: u64,
}

pub struct Journal {
    file: File,
    cursor: Mutex<Cursor>,
}

/// A record written and synced but not yet counted: dropped without [`Written::keep`] (the
/// commit did not reach sled), the next record overwrites it.
pub struct Written<'a> {
    cursor: MutexGuard<'a, Cursor>,
    end: u64,
}

impl Written<'_> {
    pub fn keep(mut self) {
        self.cursor.end = self.end;
    }
}

fn io(e: impl crate::store::IntoStoreError) -> StoreError {
    e.into_store_error("journal")
}

impl Journal {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("journal")
    }

    /// Opens (or creates) the journal and reads the records of its current generation, in order.
    /// A missing or unreadable header reads as an empty journal: it is only rewritten once sled
    /// holds everything durably.
    pub fn open(dir: &Path) -> Result<(Journal, Vec<Record>), StoreError> {
        let path = Self::path(dir);
        let created = !path.exists();
        let file = File::options().read(true).write(true).create(true).truncate(false).open(&path).map_err(io)?;
        if created {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        let allocated = file.metadata().map_err(io)?.len();
        let mut header = [0u8; HEADER_LEN];
        let generation = match file.read_exact_at(&mut header, 0) {
            Ok(()) if &header[..4] == HEADER_MAGIC && Sha256::digest(&header[..16])[..] == header[16..] => {
                Some(u64::from_be_bytes(header[8..16].try_into().expect("8 bytes")))
            }
            _ => None,
        };
        let mut records = Vec::new();
        let mut end = RECORDS_AT;
        if let Some(generation) = generation {
            while let Some((record, next)) = Record::read(&file, end, generation) {
                records.push(record);
                end = next;
            }
        }
        let cursor = Cursor { generation: generation.unwrap_or(0), end, allocated };
        Ok((Journal { file, cursor: Mutex::new(cursor) }, records))
    }

    fn cursor(&self) -> Result<MutexGuard<'_, Cursor>, StoreError> {
        self.cursor.lock().map_err(|_| io("lock poisoned"))
    }

    /// Writes `record` after the ones before it and syncs it. `None` when it does not fit in
    /// what is left: the caller makes sled durable, [`empties`](Self::empty) the journal and
    /// tries again.
    pub fn write(&self, record: &Record) -> Result<Option<Written<'_>>, StoreError> {
        let mut cursor = self.cursor()?;
        let bytes = record.encode(cursor.generation);
        let end = cursor.end + bytes.len() as u64;
        if end > CAPACITY {
            return Ok(None);
        }
        if end > cursor.allocated {
            let grown = end.div_ceil(GROW_BY).saturating_mul(GROW_BY).min(CAPACITY);
            let zeros = vec![0u8; (grown - cursor.allocated) as usize];
            self.file.write_all_at(&zeros, cursor.allocated).map_err(io)?;
            cursor.allocated = grown;
        }
        self.file.write_all_at(&bytes, cursor.end).map_err(io)?;
        super::super::failpoint::hit("journal-written");
        let syncing = std::time::Instant::now();
        self.file.sync_data().map_err(io)?;
        crate::metrics::FSYNC_SECONDS.observe_duration(syncing.elapsed());
        Ok(Some(Written { cursor, end }))
    }

    /// Starts a new generation, leaving no record to replay. Only once every record written is
    /// durable in sled.
    pub fn empty(&self) -> Result<(), StoreError> {
        let mut cursor = self.cursor()?;
        let generation = cursor.generation + 1;
        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(HEADER_MAGIC);
        header[4..8].copy_from_slice(&VERSION.to_be_bytes());
        header[8..16].copy_from_slice(&generation.to_be_bytes());
        let digest = Sha256::digest(&header[..16]);
        header[16..].copy_from_slice(&digest);
        self.file.write_all_at(&header, 0).map_err(io)?;
        super::super::failpoint::hit("journal-emptied");
        if cursor.allocated < RECORDS_AT {
            self.file.set_len(RECORDS_AT).map_err(io)?;
            cursor.allocated = RECORDS_AT;
        }
        self.file.sync_data().map_err(io)?;
        cursor.generation = generation;
        cursor.end = RECORDS_AT;
        Ok(())
    }

    /// The records of the current generation, read from the file again: what a store that
    /// could not make sled durable gives sled again after reopening it.
    pub fn records(&self) -> Result<Vec<Record>, StoreError> {
        let cursor = self.cursor()?;
        let mut records = Vec::new();
        let mut at = RECORDS_AT;
        while at < cursor.end {
            let Some((record, next)) = Record::read(&self.file, at, cursor.generation) else {
                return Err(io(format!(
                    "the record at {at} of a journal that holds records up to {} is unreadable",
                    cursor.end
                )));
            };
            records.push(record);
            at = next;
        }
        Ok(records)
    }

    /// Whether a record has been written since the journal was last emptied.
    #[cfg(test)]
    pub fn holds_records(&self) -> Result<bool, StoreError> {
        Ok(self.cursor()?.end > RECORDS_AT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new journal in a directory of its own, emptied as the store does at open.
    fn emptied() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let (journal, records) = Journal::open(dir.path()).unwrap();
        assert!(records.is_empty());
        journal.empty().unwrap();
        (dir, journal)
    }

    fn record(first: u64, size: usize) -> Record {
        Record {
            first,
            entries: 2,
            pairs: vec![(b"E1".to_vec(), vec![7; size]), (b"c".to_vec(), b"note".to_vec()), (vec![], vec![])],
        }
    }

    #[test]
    fn records_read_back_in_order_until_the_first_torn_one() {
        let (dir, journal) = emptied();
        let written: Vec<Record> = (0..3).map(|i| record(2 * i, 100 + i as usize)).collect();
        for r in &written {
            journal.write(r).unwrap().unwrap().keep();
        }
        drop(journal);
        assert_eq!(Journal::open(dir.path()).unwrap().1, written);
        // The last record torn: the two before it are read.
        let path = Journal::path(dir.path());
        let file = File::options().write(true).open(&path).unwrap();
        let third_at = RECORDS_AT + (written[0].encode(1).len() + written[1].encode(1).len()) as u64;
        file.write_all_at(&[0xff], third_at + 50).unwrap();
        assert_eq!(Journal::open(dir.path()).unwrap().1, written[..2]);
    }

    #[test]
    fn an_emptied_journal_reads_no_record_and_overwrites_the_old_ones() {
        let (dir, journal) = emptied();
        journal.write(&record(0, 500)).unwrap().unwrap().keep();
        journal.write(&record(2, 500)).unwrap().unwrap().keep();
        assert!(journal.holds_records().unwrap());
        journal.empty().unwrap();
        assert!(!journal.holds_records().unwrap());
        drop(journal);
        let (journal, records) = Journal::open(dir.path()).unwrap();
        assert!(records.is_empty(), "records of the previous generation are not read");
        // A shorter record over the old ones: reading stops after it, in the old bytes.
        journal.write(&record(4, 10)).unwrap().unwrap().keep();
        drop(journal);
        assert_eq!(Journal::open(dir.path()).unwrap().1, [record(4, 10)]);
    }

    #[test]
    fn a_record_not_kept_is_overwritten_by_the_next() {
        let (dir, journal) = emptied();
        drop(journal.write(&record(0, 900)).unwrap().unwrap());
        assert!(!journal.holds_records().unwrap());
        journal.write(&record(0, 20)).unwrap().unwrap().keep();
        drop(journal);
        assert_eq!(Journal::open(dir.path()).unwrap().1, [record(0, 20)]);
    }

    #[test]
    fn a_record_that_does_not_fit_is_not_written() {
        let (dir, journal) = emptied();
        assert!(journal.write(&record(0, CAPACITY as usize)).unwrap().is_none());
        assert!(!journal.holds_records().unwrap());
        let len = std::fs::metadata(Journal::path(dir.path())).unwrap().len();
        assert_eq!(len, RECORDS_AT, "nothing was written");
    }

    #[test]
    fn a_damaged_header_reads_as_an_empty_journal() {
        let (dir, journal) = emptied();
        journal.write(&record(0, 10)).unwrap().unwrap().keep();
        drop(journal);
        let file = File::options().write(true).open(Journal::path(dir.path())).unwrap();
        file.write_all_at(&[0xff], 9).unwrap();
        assert!(Journal::open(dir.path()).unwrap().1.is_empty());
    }
}
