//! The clear texts of confidential fields, kept apart from the log (`DATA/confidential/`) so
//! that they can be erased for good (`docs/confidential.md`). The log holds only commitments;
//! this holds, per project, one file per commitment with its salt and text, never in sled,
//! whose log-structured files would keep copies no one can reach to erase.
//!
//! An erasure is made safe across a crash with a marker written before its event is appended:
//! `<commitment>.erasing` names the event; once the event is durable the text file is
//! overwritten, synced and removed, and the tombstone `<commitment>.erased` refuses the text ever
//! after. A commitment is bound to its project (`commitment_of`): another project's copy of it is
//! one no text there meets, so an erasure, a tombstone and a kept text are each one project's
//! alone. At start, a marker whose event is in the log is finished, one whose event is not (the
//! append failed, or never came) is dropped.

use super::files::{io, sync_folder, write_synced};
use super::StoreError;
use crate::domain::confidential::commitment_of;
use crate::domain::Digest;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A clear text as kept: its salt (hex) and the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kept {
    pub salt: String,
    pub text: String,
}

/// What is kept of a commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Held {
    Kept(Kept),
    Erased,
    Missing,
}

pub struct ConfidentialStore {
    dir: PathBuf,
}

impl ConfidentialStore {
    pub fn open(dir: &Path) -> Result<ConfidentialStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(io("opening the confidential texts"))?;
        Ok(ConfidentialStore { dir: dir.to_owned() })
    }

    /// A project's folder: the hex SHA-256 of its id (ids may hold `:`).
    fn folder(&self, project: &str) -> PathBuf {
        self.dir.join(hex::encode(Sha256::digest(project.as_bytes())))
    }

    fn path(&self, project: &str, commitment: &Digest, suffix: &str) -> PathBuf {
        self.folder(project).join(format!("{}{suffix}", &commitment.as_str()[7..]))
    }

    pub fn held(&self, project: &str, commitment: &Digest) -> Result<Held, StoreError> {
        if self.path(project, commitment, ".erased").exists() {
            return Ok(Held::Erased);
        }
        match std::fs::read(self.path(project, commitment, ".json")) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Held::Kept)
                .map_err(|e| StoreError::Malformed(format!("a kept confidential text is malformed: {e}"))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Held::Missing),
            Err(e) => Err(StoreError::of_io(e, "reading a confidential text")),
        }
    }

    /// Keeps a clear text of a commitment, durably; the caller has checked it matches.
    pub fn keep(&self, project: &str, commitment: &Digest, salt: &[u8; 32], text: &str) -> Result<(), StoreError> {
        debug_assert_eq!(&commitment_of(project, salt, text), commitment);
        std::fs::create_dir_all(self.folder(project)).map_err(io("writing a confidential text"))?;
        let kept = Kept { salt: hex::encode(salt), text: text.to_owned() };
        write_synced(
            &self.path(project, commitment, ".json"),
            &serde_json::to_vec(&kept).expect("kept texts serialize"),
            "writing a confidential text",
        )?;
        crate::store::failpoint::hit("confidential-kept");
        Ok(())
    }

    /// Marks an erasure begun, before its event is appended.
    pub fn begin_erasure(&self, project: &str, commitment: &Digest, event_id: &str) -> Result<(), StoreError> {
        std::fs::create_dir_all(self.folder(project)).map_err(io("erasing a confidential text"))?;
        write_synced(&self.path(project, commitment, ".erasing"), event_id.as_bytes(), "erasing a confidential text")
    }

    /// Drops a begun erasure whose event was not appended.
    pub fn abandon_erasure(&self, project: &str, commitment: &Digest) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(project, commitment, ".erasing")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StoreError::of_io(e, "erasing a confidential text"))
            }
            _ => Ok(()),
        }
    }

    /// Destroys the clear text, once the erasure's event is durable.
    pub fn finish_erasure(&self, project: &str, commitment: &Digest) -> Result<(), StoreError> {
        let [text, marker, tombstone] = [".json", ".erasing", ".erased"].map(|s| self.path(project, commitment, s));
        destroy(&text, &marker, &tombstone)
    }

    /// At start: finishes each begun erasure whose event `logged` finds in the log, drops the
    /// others. Linear in the erasures begun and not finished, not in the texts kept.
    pub fn recover(&self, logged: impl Fn(&str) -> Result<bool, StoreError>) -> Result<usize, StoreError> {
        let mut finished = 0;
        for folder in std::fs::read_dir(&self.dir).map_err(io("opening the confidential texts"))? {
            let folder = folder.map_err(io("opening the confidential texts"))?.path();
            if !folder.is_dir() {
                continue;
            }
            for file in std::fs::read_dir(&folder).map_err(io("opening the confidential texts"))? {
                let path = file.map_err(io("opening the confidential texts"))?.path();
                if path.extension().is_none_or(|e| e != "erasing") {
                    continue;
                }
                let event = std::fs::read_to_string(&path).map_err(io("opening the confidential texts"))?;
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                let Ok(commitment) = Digest::parse(&format!("sha256:{stem}")) else { continue };
                if logged(&event)? {
                    let hex = &commitment.as_str()[7..];
                    let [text, tombstone] = [".json", ".erased"].map(|s| folder.join(format!("{hex}{s}")));
                    destroy(&text, &path, &tombstone)?;
                    finished += 1;
                } else {
                    std::fs::remove_file(&path).map_err(io("erasing a confidential text"))?;
                }
            }
        }
        Ok(finished)
    }
}

/// Overwrites the clear text, syncs and removes it; then writes the tombstone and drops the
/// marker.
fn destroy(text: &Path, marker: &Path, tombstone: &Path) -> Result<(), StoreError> {
    if let Ok(meta) = std::fs::metadata(text) {
        let mut file = std::fs::OpenOptions::new().write(true).open(text).map_err(io("erasing a confidential text"))?;
        file.write_all(&vec![0u8; meta.len() as usize])
            .and_then(|()| file.sync_all())
            .map_err(io("erasing a confidential text"))?;
        std::fs::remove_file(text).map_err(io("erasing a confidential text"))?;
    }
    write_synced(tombstone, b"", "writing a confidential text")?;
    match std::fs::remove_file(marker) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::of_io(e, "erasing a confidential text")),
        _ => sync_folder(marker, "erasing a confidential text"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_begun_erasure_is_finished_when_its_event_is_logged_and_dropped_when_it_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let store = ConfidentialStore::open(dir.path()).unwrap();
        let texts: Vec<(Digest, &str)> =
            ["kept", "erased", "abandoned"].iter().map(|t| (commitment_of("p", &[1; 32], t), *t)).collect();
        for (commitment, text) in &texts {
            store.keep("p", commitment, &[1; 32], text).unwrap();
        }
        store.begin_erasure("p", &texts[1].0, "evt-logged").unwrap();
        store.begin_erasure("p", &texts[2].0, "evt-lost").unwrap();
        let reopened = ConfidentialStore::open(dir.path()).unwrap();
        assert_eq!(reopened.recover(|event| Ok(event == "evt-logged")).unwrap(), 1);
        assert!(matches!(reopened.held("p", &texts[0].0).unwrap(), Held::Kept(_)));
        assert_eq!(reopened.held("p", &texts[1].0).unwrap(), Held::Erased);
        assert!(matches!(reopened.held("p", &texts[2].0).unwrap(), Held::Kept(_)), "its event never came");
        assert_eq!(reopened.recover(|_| Ok(true)).unwrap(), 0, "nothing is left begun");
        assert_eq!(reopened.held("q", &texts[0].0).unwrap(), Held::Missing, "another project keeps nothing of it");
        assert_eq!(reopened.held("q", &texts[1].0).unwrap(), Held::Missing, "an erasure is its own project's alone");
    }
}
