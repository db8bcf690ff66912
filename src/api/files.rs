//! The files of recorded assets that the server may show: a folder the operator names
//! (`serve --files`, `DATA/files` by default), indexed by the SHA-256 of each file's bytes. The
//! ledger holds digests, never bytes; a file is shown only for an asset whose recorded digest it
//! matches, checked again on every read, so that a file changed since it was indexed is never
//! shown as the asset.

use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Files larger than this are not indexed (nor served).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// At most this many files are indexed.
pub const MAX_FILES: usize = 100_000;
/// A digest not in the index makes the folder be looked at again at most this often.
const RESCAN_EVERY: Duration = Duration::from_secs(5);
/// How deep under the folder files are looked for.
const MAX_DEPTH: usize = 4;

#[derive(Default)]
struct Index {
    by_digest: HashMap<[u8; 32], PathBuf>,
    /// What each file hashed to, by path, size and modification time: a rescan hashes only
    /// files that are new or changed.
    seen: HashMap<PathBuf, (u64, Option<SystemTime>, [u8; 32])>,
    scanned: Option<Instant>,
}

pub struct AssetFiles {
    dir: Option<PathBuf>,
    index: Mutex<Index>,
}

impl AssetFiles {
    pub fn new(dir: Option<PathBuf>) -> AssetFiles {
        AssetFiles { dir, index: Mutex::new(Index::default()) }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether a file with these bytes was found (the folder is looked at again, at most every
    /// few seconds, when one is not): what a page asks before linking a thumbnail.
    pub fn has(&self, digest: &[u8; 32]) -> bool {
        let Some(dir) = self.dir.as_deref() else { return false };
        let mut index = self.index.lock().expect("file index lock");
        if !index.by_digest.contains_key(digest) && index.scanned.is_none_or(|at| at.elapsed() >= RESCAN_EVERY) {
            scan(dir, &mut index);
        }
        index.by_digest.contains_key(digest)
    }

    /// The bytes of the file whose SHA-256 is `digest`, if the folder holds one (read and
    /// checked now). Blocking: call it off the async workers.
    pub fn read(&self, digest: &[u8; 32]) -> Option<Vec<u8>> {
        let dir = self.dir.as_deref()?;
        let mut index = self.index.lock().expect("file index lock");
        let stale = index.scanned.is_none_or(|at| at.elapsed() >= RESCAN_EVERY);
        if !index.by_digest.contains_key(digest) && stale {
            scan(dir, &mut index);
        }
        let path = index.by_digest.get(digest)?.clone();
        drop(index);
        let bytes = std::fs::read(&path).ok()?;
        if bytes.len() as u64 > MAX_FILE_BYTES || <[u8; 32]>::from(Sha256::digest(&bytes)) != *digest {
            // Changed since it was indexed: forgotten until the next look.
            let mut index = self.index.lock().expect("file index lock");
            index.by_digest.remove(digest);
            index.seen.remove(&path);
            return None;
        }
        Some(bytes)
    }
}

fn scan(dir: &Path, index: &mut Index) {
    index.scanned = Some(Instant::now());
    let mut found = Vec::new();
    walk(dir, 0, &mut found);
    let mut seen = HashMap::with_capacity(found.len());
    let mut by_digest = HashMap::with_capacity(found.len());
    for (path, size, modified) in found.into_iter().take(MAX_FILES) {
        let digest = match index.seen.get(&path) {
            Some(&(s, m, d)) if s == size && m == modified => d,
            _ => match std::fs::read(&path) {
                Ok(bytes) => Sha256::digest(&bytes).into(),
                Err(_) => continue,
            },
        };
        by_digest.entry(digest).or_insert_with(|| path.clone());
        seen.insert(path, (size, modified, digest));
    }
    index.seen = seen;
    index.by_digest = by_digest;
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if found.len() >= MAX_FILES {
            return;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() && depth < MAX_DEPTH {
            walk(&entry.path(), depth + 1, found);
        } else if meta.is_file() && meta.len() <= MAX_FILE_BYTES {
            found.push((entry.path(), meta.len(), meta.modified().ok()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_found_by_its_bytes_and_only_while_they_match() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.png"), b"first").unwrap();
        let files = AssetFiles::new(Some(dir.path().to_owned()));
        let digest: [u8; 32] = Sha256::digest(b"first").into();
        assert_eq!(files.read(&digest).as_deref(), Some(&b"first"[..]));
        std::fs::write(dir.path().join("sub/a.png"), b"changed").unwrap();
        assert_eq!(files.read(&digest), None);
        assert_eq!(AssetFiles::new(None).read(&digest), None);
    }
}
