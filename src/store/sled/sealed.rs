//! The writer's sealed state beside the database: `sealed-state`, written whole under a
//! temporary name, synced and renamed; `sealed-state.rejected` once a start's check found it
//! wrong, until `lineage fsck` clears it.

use super::reserve::free_bytes;
use super::SledStore;
use crate::store::files::{io, sync_folder, write_synced_at};
use crate::store::StoreError;

pub(super) const SEALED_STATE: &str = "sealed-state";
pub(super) const REJECTED: &str = "sealed-state.rejected";
/// What a write left when it did not finish (a crash, a full disk).
pub(super) const UNFINISHED: &str = "sealed-state.tmp";

/// Moves whatever is at `path` (not a file a seal wrote) to `<path>.set-aside`, for the operator
/// to look at; logged, and best effort.
pub(super) fn set_aside(path: &std::path::Path) {
    let mut aside = path.as_os_str().to_owned();
    aside.push(".set-aside");
    match std::fs::rename(path, &aside) {
        Ok(()) => log::warn!("{} was not a file a seal wrote: moved to {}", path.display(), aside.to_string_lossy()),
        Err(e) => log::warn!("{} is in the sealed state's way and could not be moved: {e}", path.display()),
    }
}

/// Room a sealed state may take beyond the database's own size: the rules' state is a fraction
/// of the log, so a larger file is not one the writer sealed.
const LARGER_THAN_THE_DATABASE: u64 = 64 << 20;

impl SledStore {
    /// The sealed state's bytes: a regular file no larger than the database (and some), read
    /// whole; anything else is refused, naming why, so that a start sets it aside.
    pub(super) fn read_sealed_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.dir.join(SEALED_STATE);
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::of_io(e, "reading the sealed state")),
        };
        if !metadata.is_file() {
            // Moved out of the way, so that the next seal can take its place.
            set_aside(&path);
            return Err(StoreError::Malformed(format!("{} is not a regular file", path.display())));
        }
        // The log's bytes are in the database and, until sled takes them, the journal.
        let size = |name: &str| std::fs::metadata(self.dir.join(name)).map(|m| m.len()).unwrap_or(0);
        let database = size("db") + size("journal");
        if metadata.len() > database + LARGER_THAN_THE_DATABASE {
            return Err(StoreError::Malformed(format!(
                "{} holds {} bytes, more than a state of the database's {database} could",
                path.display(),
                metadata.len()
            )));
        }
        std::fs::read(&path).map(Some).map_err(io("reading the sealed state"))
    }

    /// Replaces the sealed state, when the file system has room for it beside what appends keep
    /// free (`--min-free-mb`); what a failed write left is removed.
    pub(super) fn write_sealed_state(&self, bytes: &[u8]) -> Result<(), StoreError> {
        let wanted = self.min_free_bytes.load(std::sync::atomic::Ordering::Relaxed) + bytes.len() as u64;
        let free = free_bytes(&self.dir)?;
        if free < wanted {
            return Err(StoreError::Full {
                what: format!(
                    "{} has {free} bytes free; a sealed state of {} needs {wanted}",
                    self.dir.display(),
                    bytes.len()
                ),
                source: None,
            });
        }
        let path = self.dir.join(SEALED_STATE);
        write_synced_at(&path, bytes, "sealing the state", ["seal-written", "seal-renamed"]).inspect_err(|_| {
            // Best effort: what is left is removed at the next open too.
            let _ = std::fs::remove_file(self.dir.join(UNFINISHED));
        })
    }

    /// Moves the sealed state aside as rejected (a marker when there is none).
    pub(super) fn set_sealed_state_aside(&self) -> Result<(), StoreError> {
        let (path, rejected) = (self.dir.join(SEALED_STATE), self.dir.join(REJECTED));
        match std::fs::rename(&path, &rejected) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::write(&rejected, b"").map_err(io("rejecting the sealed state"))?
            }
            Err(e) => return Err(StoreError::of_io(e, "rejecting the sealed state")),
        }
        sync_folder(&rejected, "rejecting the sealed state")
    }

    pub(super) fn clear_rejection(&self) -> Result<(), StoreError> {
        let rejected = self.dir.join(REJECTED);
        match std::fs::remove_file(&rejected) {
            Ok(()) => sync_folder(&rejected, "clearing the rejected sealed state"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::of_io(e, "clearing the rejected sealed state")),
        }
    }
}
