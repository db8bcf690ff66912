//! The checkpoint of the last acknowledged commit, kept beside sled.

use super::super::StoreError;
use super::layout::io;
use std::fs::File;
use std::path::Path;

/// Keeps the checkpoint of the last durable commit outside sled, so that a store which comes
/// back shorter (a damaged or rolled-back file, or a tail sled dropped at recovery) cannot pass
/// for a consistent one.
///
/// It is written after the commit is durable and before the append returns, without a sync:
/// after a crash it can only be older than the store, never newer. The file holds two slots of
/// [`SLOT`] bytes, written in turn in place (a replacing rename cost more than the rest of a
/// small commit): `LACK`, u64 counter, u32 length, the note, SHA-256 of counter, length and note
/// (integers big-endian). A read takes the intact slot with the higher counter, so a torn write
/// leaves the previous note.
pub(super) struct AcknowledgedRecord {
    file: File,
    counter: std::sync::atomic::AtomicU64,
}

/// The size of one slot of the acknowledged-checkpoint file.
const SLOT: usize = 8192;
const SLOT_MAGIC: &[u8; 4] = b"LACK";

fn slot_digest(counter: u64, note: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(counter.to_be_bytes());
    hasher.update((note.len() as u32).to_be_bytes());
    hasher.update(note);
    hasher.finalize().into()
}

/// An intact slot's counter and note.
fn read_slot(slot: &[u8]) -> Option<(u64, String)> {
    if slot.get(..4)? != SLOT_MAGIC {
        return None;
    }
    let counter = u64::from_be_bytes(slot.get(4..12)?.try_into().ok()?);
    let len = u32::from_be_bytes(slot.get(12..16)?.try_into().ok()?) as usize;
    let note = slot.get(16..16 + len)?;
    (slot.get(16 + len..16 + len + 32)? == slot_digest(counter, note)).then_some(())?;
    Some((counter, String::from_utf8(note.to_vec()).ok()?))
}

impl AcknowledgedRecord {
    pub fn path(dir: &Path) -> std::path::PathBuf {
        dir.join("acknowledged-checkpoint")
    }

    /// The newest intact note; a file of one plain note (as stores written before keep it)
    /// reads as that note.
    pub fn read(dir: &Path) -> Result<Option<(u64, String)>, StoreError> {
        Ok(Self::load(dir)?.1)
    }

    /// Whether the file has the two-slot layout, and its newest intact note.
    fn load(dir: &Path) -> Result<(bool, Option<(u64, String)>), StoreError> {
        let bytes = match std::fs::read(Self::path(dir)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((false, None)),
            Err(e) => return Err(io(e)),
        };
        if bytes.len() != 2 * SLOT {
            let note = String::from_utf8(bytes).map_err(|_| io("the acknowledged checkpoint is not UTF-8"))?;
            return Ok((false, Some((0, note))));
        }
        Ok((true, bytes.chunks(SLOT).filter_map(read_slot).max_by_key(|(counter, _)| *counter)))
    }

    /// Opens the record, first rewriting a missing or plain one in the two-slot layout (a
    /// plain note becomes counter 1).
    pub fn open(dir: &Path) -> Result<AcknowledgedRecord, StoreError> {
        let path = Self::path(dir);
        let (laid_out, mut newest) = Self::load(dir)?;
        if !laid_out {
            let mut slots = vec![0u8; 2 * SLOT];
            if let Some((counter, note)) = &mut newest {
                *counter = 1;
                let slot = Self::slot(1, note)?;
                slots[SLOT..SLOT + slot.len()].copy_from_slice(&slot);
            }
            let tmp = dir.join("acknowledged-checkpoint.tmp");
            std::fs::write(&tmp, &slots)
                .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
                .and_then(|_| std::fs::rename(&tmp, &path))
                .and_then(|_| std::fs::File::open(dir)?.sync_all())
                .map_err(io)?;
        }
        let counter = newest.map_or(0, |(counter, _)| counter);
        let file = std::fs::OpenOptions::new().write(true).open(&path).map_err(io)?;
        Ok(AcknowledgedRecord { file, counter: counter.into() })
    }

    fn slot(counter: u64, note: &str) -> Result<Vec<u8>, StoreError> {
        let note = note.as_bytes();
        if 16 + note.len() + 32 > SLOT {
            return Err(io(format!("a checkpoint note of {} bytes does not fit its record", note.len())));
        }
        let mut slot = Vec::with_capacity(16 + note.len() + 32);
        slot.extend_from_slice(SLOT_MAGIC);
        slot.extend_from_slice(&counter.to_be_bytes());
        slot.extend_from_slice(&(note.len() as u32).to_be_bytes());
        slot.extend_from_slice(note);
        slot.extend_from_slice(&slot_digest(counter, note));
        Ok(slot)
    }

    pub fn record(&self, note: &str) -> Result<(), StoreError> {
        use std::os::unix::fs::FileExt as _;
        let counter = self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let at = (counter % 2) * SLOT as u64;
        self.file.write_all_at(&Self::slot(counter, note)?, at).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acknowledged_record_keeps_the_newest_intact_note() {
        let dir = tempfile::tempdir().unwrap();
        let path = AcknowledgedRecord::path(dir.path());
        // A record in the one-note layout is carried over.
        std::fs::write(&path, "note 1").unwrap();
        let record = AcknowledgedRecord::open(dir.path()).unwrap();
        assert_eq!(AcknowledgedRecord::read(dir.path()).unwrap(), Some((1, "note 1".into())));
        record.record("note 2").unwrap();
        record.record("note 3").unwrap();
        assert_eq!(AcknowledgedRecord::read(dir.path()).unwrap(), Some((3, "note 3".into())));
        drop(record);
        // Reopened, it goes on counting; a torn write of the newest slot leaves the one before.
        let record = AcknowledgedRecord::open(dir.path()).unwrap();
        record.record("note 4").unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 2 * SLOT);
        bytes[20] ^= 1; // slot 0 holds counter 4
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(AcknowledgedRecord::read(dir.path()).unwrap(), Some((3, "note 3".into())));
        assert!(record.record(&"x".repeat(SLOT)).is_err(), "a note too long for a slot is refused");
    }
}
