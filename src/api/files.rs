//! The files of recorded assets that the server may show: a folder the operator names
//! (`serve --files`, `DATA/files` by default) holding each project's files under
//! `<client>/<name>/` (its id's two parts), indexed by the SHA-256 of each file's bytes. The
//! ledger holds digests, never bytes; a file is shown only for an asset of the project whose
//! folder holds it and whose recorded digest it matches — a member who records another project's
//! digest gets nothing of that project's files. A file whose size or modification time changed
//! since it was hashed is hashed again before it is served.

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
    /// One index per project folder looked at.
    indexes: Mutex<HashMap<PathBuf, Index>>,
}

/// A project's folder under the files folder: `<client>/<name>`, neither part hidden (so that
/// no id reaches outside its own folder).
fn folder(project: &str) -> Option<PathBuf> {
    let (client, name) = project.split_once(':')?;
    let safe = |part: &str| !part.is_empty() && !part.starts_with('.') && !part.contains('/');
    (safe(client) && safe(name)).then(|| Path::new(client).join(name))
}

impl AssetFiles {
    pub fn new(dir: Option<PathBuf>) -> AssetFiles {
        AssetFiles { dir, indexes: Mutex::new(HashMap::new()) }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The path of the project's file with these bytes, looking at its folder again (at most
    /// every few seconds) when none is known.
    fn find(&self, project: &str, digest: &[u8; 32]) -> Option<(PathBuf, u64, Option<SystemTime>)> {
        let dir = self.dir.as_deref()?.join(folder(project)?);
        let mut indexes = self.indexes.lock().expect("file index lock");
        let index = indexes.entry(dir.clone()).or_default();
        if !index.by_digest.contains_key(digest) && index.scanned.is_none_or(|at| at.elapsed() >= RESCAN_EVERY) {
            scan(&dir, index);
        }
        let path = index.by_digest.get(digest)?;
        let (size, modified, _) = index.seen.get(path)?;
        Some((path.clone(), *size, *modified))
    }

    /// Whether the project's folder holds a file with these bytes: what a page asks before
    /// linking a thumbnail.
    pub fn has(&self, project: &str, digest: &[u8; 32]) -> bool {
        self.find(project, digest).is_some()
    }

    /// The bytes of the project's file whose SHA-256 is `digest`, if its folder holds one (hashed
    /// again when the file changed since it was indexed). Blocking: call it off the async
    /// workers.
    pub fn read(&self, project: &str, digest: &[u8; 32]) -> Option<Vec<u8>> {
        let (path, size, modified) = self.find(project, digest)?;
        let meta = std::fs::metadata(&path).ok()?;
        let bytes = std::fs::read(&path).ok()?;
        let unchanged = meta.len() == size && meta.modified().ok() == modified && bytes.len() as u64 == size;
        if bytes.len() as u64 > MAX_FILE_BYTES || (!unchanged && <[u8; 32]>::from(Sha256::digest(&bytes)) != *digest) {
            // Changed since it was indexed: forgotten until the next look.
            let mut indexes = self.indexes.lock().expect("file index lock");
            for index in indexes.values_mut() {
                index.by_digest.retain(|_, p| *p != path);
                index.seen.remove(&path);
            }
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
    fn a_file_is_found_by_its_bytes_in_its_project_folder_and_only_while_they_match() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("acme/p1/sub")).unwrap();
        std::fs::write(dir.path().join("acme/p1/sub/a.png"), b"first").unwrap();
        let files = AssetFiles::new(Some(dir.path().to_owned()));
        let digest: [u8; 32] = Sha256::digest(b"first").into();
        assert_eq!(files.read("acme:p1", &digest).as_deref(), Some(&b"first"[..]));
        // Another project, whatever digest it recorded, never reads this folder.
        assert_eq!(files.read("acme:p2", &digest), None);
        assert!(!files.has("acme:..", &digest) && !files.has("..:p1", &digest) && !files.has("acme", &digest));
        std::fs::write(dir.path().join("acme/p1/sub/a.png"), b"changed").unwrap();
        assert_eq!(files.read("acme:p1", &digest), None);
        assert_eq!(AssetFiles::new(None).read("acme:p1", &digest), None);
    }
}
