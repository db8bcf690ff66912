//! The subject map on disk, beside the log (`map/`): sorted runs of records and a manifest.
//!
//! A revision writes one **run**, a file of the subjects it changed (key, count, chain head,
//! sorted by key) and the subtrees of the buckets it changed, then a new **manifest** naming the
//! revision and the runs, by write, sync and rename: after a crash the map is one revision or
//! the one before, never a mix. A subject's record is read from the newest run holding it; when
//! the newest runs together hold as many records as the one before them, they are merged into
//! one, bucket by bucket, off the lock readers take (so runs double in size from the newest to
//! the oldest, and a record is rewritten a logarithmic number of times). So a revision writes in proportion to what
//! it changed, in one sequential file, whatever the number of subjects in the map — the random
//! writes of a B-tree, and its space, are what made a key-value store the wrong tool here.
//!
//! ```text
//! run      = "LMR1" || record* || subtree* || footer
//! record   = key[32] || count u64 BE || head[32]                      (sorted by key)
//! subtree  = bucket u16 BE || 0 || key[32] || hash[32]                 (one subject)
//!                          || 1 || hash[32] || 32 zero bytes          (more)
//! footer   = records u64 BE || subtrees u64 BE || SHA-256(all before)
//! manifest = "LMM1" || size u64 BE || root[32] || keying[32] || note length u32 BE || note
//!            || runs u32 BE || (run number u64 BE)* || SHA-256(all before)
//! ```
//!
//! A map whose files do not open or do not check is set aside and computed again from the log,
//! never the other way round: the map is derived from the log.

use super::files::{io, write_synced};
use super::{MapBucket, MapCommit, MapRevision, StoreError};
use crate::crypto::map::{Key, MapNode};
use crate::crypto::merkle::Hash;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

const RUN_MAGIC: &[u8; 4] = b"LMR1";
const MANIFEST_MAGIC: &[u8; 4] = b"LMM1";
const RECORD: usize = 72;
const SUBTREE: usize = 67;
const FOOTER: usize = 48;
const BUCKETS: usize = 1 << 16;

fn damaged(what: &str) -> StoreError {
    StoreError::Malformed(format!("the subject map's {what} does not check"))
}

/// One run: its file, and where each bucket's records begin in it.
struct Run {
    number: u64,
    file: File,
    subtrees: u64,
    /// `index[b]` is the first record of bucket `b` or later; `BUCKETS + 1` entries.
    index: Vec<u32>,
}

impl Run {
    fn records(&self) -> u64 {
        u64::from(self.index[BUCKETS])
    }

    fn bucket(&self, bucket: u16) -> Result<Vec<(Key, u64, Hash)>, StoreError> {
        let (from, to) = (self.index[usize::from(bucket)] as usize, self.index[usize::from(bucket) + 1] as usize);
        let mut bytes = vec![0u8; (to - from) * RECORD];
        self.file.read_exact_at(&mut bytes, (4 + from * RECORD) as u64).map_err(io("reading the subject map"))?;
        Ok(bytes.chunks(RECORD).map(decode_record).collect())
    }

    fn subtrees(&self) -> Result<Vec<(u16, MapNode)>, StoreError> {
        let mut bytes = vec![0u8; self.subtrees as usize * SUBTREE];
        let at = 4 + self.records() as usize * RECORD;
        self.file.read_exact_at(&mut bytes, at as u64).map_err(io("reading the subject map"))?;
        bytes.chunks(SUBTREE).map(decode_subtree).collect()
    }
}

fn decode_record(bytes: &[u8]) -> (Key, u64, Hash) {
    let mut count = [0u8; 8];
    count.copy_from_slice(&bytes[32..40]);
    (bytes[..32].try_into().expect("32 bytes"), u64::from_be_bytes(count), bytes[40..72].try_into().expect("32 bytes"))
}

fn decode_subtree(bytes: &[u8]) -> Result<(u16, MapNode), StoreError> {
    let bucket = u16::from_be_bytes([bytes[0], bytes[1]]);
    let (a, b): (Hash, Hash) =
        (bytes[3..35].try_into().expect("32 bytes"), bytes[35..67].try_into().expect("32 bytes"));
    match bytes[2] {
        0 => Ok((bucket, MapNode::Leaf { key: a, hash: b })),
        1 => Ok((bucket, MapNode::Node { hash: a })),
        _ => Err(damaged("run")),
    }
}

fn encode_subtree(out: &mut Vec<u8>, bucket: u16, node: &MapNode) {
    out.extend_from_slice(&bucket.to_be_bytes());
    match node {
        MapNode::Leaf { key, hash } => out.extend([&[0u8][..], key, hash].concat()),
        MapNode::Node { hash } => out.extend([&[1u8][..], hash, &[0u8; 32]].concat()),
        // A bucket once holding a subject always does: an empty one is never written.
        MapNode::Empty => out.extend([2u8; 65]),
    }
}

fn run_name(number: u64) -> String {
    format!("run-{number:016}")
}

/// Reads a run whole, checking it, and indexes its buckets.
fn open_run(dir: &Path, number: u64) -> Result<Run, StoreError> {
    let mut file = File::open(dir.join(run_name(number))).map_err(io("opening the subject map"))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(io("opening the subject map"))?;
    run_of(dir, number, &bytes)
}

/// A run from its file's bytes, checked and indexed.
fn run_of(dir: &Path, number: u64, bytes: &[u8]) -> Result<Run, StoreError> {
    if bytes.len() < 4 + FOOTER || &bytes[..4] != RUN_MAGIC {
        return Err(damaged("run"));
    }
    let (body, footer) = bytes.split_at(bytes.len() - FOOTER);
    let records = u64::from_be_bytes(footer[..8].try_into().expect("8 bytes")) as usize;
    let subtrees = u64::from_be_bytes(footer[8..16].try_into().expect("8 bytes"));
    let whole = records.checked_mul(RECORD).zip((subtrees as usize).checked_mul(SUBTREE));
    if whole.map(|(r, s)| 4 + r + s) != Some(body.len()) || Sha256::digest(body)[..] != footer[16..] {
        return Err(damaged("run"));
    }
    let mut index = vec![0u32; BUCKETS + 1];
    for record in body[4..4 + records * RECORD].chunks(RECORD) {
        index[usize::from(u16::from_be_bytes([record[0], record[1]])) + 1] += 1;
    }
    for b in 0..BUCKETS {
        index[b + 1] += index[b];
    }
    let file = File::open(dir.join(run_name(number))).map_err(io("opening the subject map"))?;
    Ok(Run { number, file, subtrees, index })
}

/// A run's bytes from records sorted by key and subtrees sorted by bucket.
fn run_bytes(records: &[(Key, u64, Hash)], subtrees: &[(u16, MapNode)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + records.len() * RECORD + subtrees.len() * SUBTREE + FOOTER);
    out.extend_from_slice(RUN_MAGIC);
    for (key, count, head) in records {
        out.extend_from_slice(key);
        out.extend_from_slice(&count.to_be_bytes());
        out.extend_from_slice(head);
    }
    for (bucket, node) in subtrees {
        encode_subtree(&mut out, *bucket, node);
    }
    let digest = Sha256::digest(&out);
    out.extend_from_slice(&(records.len() as u64).to_be_bytes());
    out.extend_from_slice(&(subtrees.len() as u64).to_be_bytes());
    out.extend_from_slice(&digest);
    out
}

#[derive(Default)]
struct State {
    /// Oldest first.
    runs: Vec<Arc<Run>>,
    revision: Option<MapRevision>,
    next: u64,
}

pub struct MapFiles {
    dir: PathBuf,
    state: RwLock<State>,
}

impl MapFiles {
    /// Opens the map in `dir`; one that does not check (or of an earlier layout) is set aside,
    /// to be computed again from the log.
    pub fn open(dir: &Path) -> Result<MapFiles, StoreError> {
        std::fs::create_dir_all(dir).map_err(io("opening the subject map"))?;
        let state = match Self::read(dir) {
            Ok(state) => state,
            Err(e) => {
                if dir.join("manifest").exists() {
                    log::warn!(
                        "the subject map at {} does not open ({e}): it is computed again from the log",
                        dir.display()
                    );
                }
                State::default()
            }
        };
        // Whatever the manifest does not name: a run a crash left unnamed, an earlier layout.
        let kept: Vec<String> = state.runs.iter().map(|r| run_name(r.number)).chain(["manifest".into()]).collect();
        let manifest_kept = state.revision.is_some();
        for entry in std::fs::read_dir(dir).map_err(io("opening the subject map"))? {
            let entry = entry.map_err(io("opening the subject map"))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if kept.contains(&name) && (manifest_kept || name != "manifest") {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(io("clearing the subject map"))?;
        }
        Ok(MapFiles { dir: dir.to_owned(), state: RwLock::new(state) })
    }

    fn read(dir: &Path) -> Result<State, StoreError> {
        let bytes = std::fs::read(dir.join("manifest")).map_err(io("opening the subject map"))?;
        if bytes.len() < 4 + 8 + 64 + 4 + 4 + 32 || &bytes[..4] != MANIFEST_MAGIC {
            return Err(damaged("manifest"));
        }
        let (body, digest) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body)[..] != *digest {
            return Err(damaged("manifest"));
        }
        let mut at = 4;
        let mut take = |n: usize| -> Result<&[u8], StoreError> {
            let part = body.get(at..at + n).ok_or_else(|| damaged("manifest"))?;
            at += n;
            Ok(part)
        };
        let size = u64::from_be_bytes(take(8)?.try_into().expect("8 bytes"));
        let root: Hash = take(32)?.try_into().expect("32 bytes");
        let keying: Hash = take(32)?.try_into().expect("32 bytes");
        let note_length = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes")) as usize;
        let note = String::from_utf8(take(note_length)?.to_vec()).map_err(|_| damaged("manifest"))?;
        let runs = u32::from_be_bytes(take(4)?.try_into().expect("4 bytes"));
        let mut state = State { revision: Some(MapRevision { size, root, keying, note }), ..State::default() };
        for _ in 0..runs {
            let number = u64::from_be_bytes(take(8)?.try_into().expect("8 bytes"));
            state.runs.push(Arc::new(open_run(dir, number)?));
            state.next = state.next.max(number + 1);
        }
        if at != body.len() {
            return Err(damaged("manifest"));
        }
        Ok(state)
    }

    fn write_manifest(&self, revision: &MapRevision, runs: &[Arc<Run>]) -> Result<(), StoreError> {
        let mut out = Vec::with_capacity(128 + revision.note.len() + runs.len() * 8);
        out.extend_from_slice(MANIFEST_MAGIC);
        out.extend_from_slice(&revision.size.to_be_bytes());
        out.extend_from_slice(&revision.root);
        out.extend_from_slice(&revision.keying);
        out.extend_from_slice(&(revision.note.len() as u32).to_be_bytes());
        out.extend_from_slice(revision.note.as_bytes());
        out.extend_from_slice(&(runs.len() as u32).to_be_bytes());
        for run in runs {
            out.extend_from_slice(&run.number.to_be_bytes());
        }
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        write_synced(&self.dir.join("manifest"), &out, "writing the subject map")
    }

    fn runs(&self) -> Result<Vec<Arc<Run>>, StoreError> {
        Ok(self.state.read().map_err(|_| StoreError::Malformed("the map's lock is poisoned".into()))?.runs.clone())
    }

    /// A bucket's subjects, each from the newest run holding it, in key order.
    pub fn bucket(&self, bucket: u16) -> Result<MapBucket, StoreError> {
        merged_bucket(&self.runs()?, bucket)
    }

    pub fn subtrees(&self) -> Result<Vec<(u16, MapNode)>, StoreError> {
        let mut merged = BTreeMap::new();
        for run in self.runs()? {
            merged.extend(run.subtrees()?);
        }
        Ok(merged.into_iter().collect())
    }

    pub fn revision(&self) -> Result<Option<MapRevision>, StoreError> {
        Ok(self.state.read().map_err(|_| StoreError::Malformed("the map's lock is poisoned".into()))?.revision.clone())
    }

    /// Writes a revision's run, then the manifest naming it.
    pub fn commit(&self, commit: &MapCommit) -> Result<(), StoreError> {
        let mut state = self.state.write().map_err(|_| StoreError::Malformed("the map's lock is poisoned".into()))?;
        let mut records = commit.subjects.clone();
        records.sort_by_key(|r| r.0);
        let mut subtrees = commit.subtrees.clone();
        subtrees.sort_by_key(|s| s.0);
        let number = state.next;
        let bytes = run_bytes(&records, &subtrees);
        write_synced(&self.dir.join(run_name(number)), &bytes, "writing the subject map")?;
        let run = Arc::new(run_of(&self.dir, number, &bytes)?);
        let mut runs = state.runs.clone();
        runs.push(run);
        self.write_manifest(&commit.revision, &runs)?;
        *state = State { runs, revision: Some(commit.revision.clone()), next: number + 1 };
        Ok(())
    }

    /// Merges the newest runs into one while together they hold as many records as the run
    /// before them, so that runs at least double in size from the newest to the oldest: a
    /// record is rewritten a number of times logarithmic in the map's size, and a bucket is
    /// read from as many runs. Reads see the runs before or after, both the same map.
    pub fn tidy(&self) -> Result<(), StoreError> {
        let (runs, from, next) = {
            let mut state =
                self.state.write().map_err(|_| StoreError::Malformed("the map's lock is poisoned".into()))?;
            let Some(from) = merge_from(&state.runs) else { return Ok(()) };
            // The merged run's number, taken now: a revision committed meanwhile comes after it.
            state.next += 1;
            (state.runs[from..].to_vec(), from, state.next - 1)
        };
        let name = run_name(next);
        let temporary = self.dir.join(format!("{name}.tmp"));
        let file = File::create(&temporary).map_err(io("merging the subject map"))?;
        let mut out = BufWriter::new(file);
        let mut digest = Sha256::new();
        let mut put = |bytes: &[u8]| -> Result<(), StoreError> {
            digest.update(bytes);
            out.write_all(bytes).map_err(io("merging the subject map"))
        };
        put(RUN_MAGIC)?;
        let mut records = 0u64;
        for bucket in 0..=u16::MAX {
            for (key, count, head) in merged_bucket(&runs, bucket)? {
                put(&[&key[..], &count.to_be_bytes(), &head].concat())?;
                records += 1;
            }
        }
        let mut subtrees = BTreeMap::new();
        for run in &runs {
            subtrees.extend(run.subtrees()?);
        }
        let mut tail = Vec::with_capacity(subtrees.len() * SUBTREE);
        for (bucket, node) in &subtrees {
            encode_subtree(&mut tail, *bucket, node);
        }
        put(&tail)?;
        let digest = digest.finalize();
        let footer = [&records.to_be_bytes()[..], &(subtrees.len() as u64).to_be_bytes(), &digest].concat();
        out.write_all(&footer).map_err(io("merging the subject map"))?;
        let file = out.into_inner().map_err(|e| StoreError::of_io(e.into_error(), "merging the subject map"))?;
        file.sync_all().map_err(io("merging the subject map"))?;
        std::fs::rename(&temporary, self.dir.join(&name)).map_err(io("merging the subject map"))?;
        let merged = Arc::new(open_run(&self.dir, next)?);
        let mut state = self.state.write().map_err(|_| StoreError::Malformed("the map's lock is poisoned".into()))?;
        // The runs before the merged ones stay before it, runs committed meanwhile after it.
        let before = state.runs[..from].iter().cloned();
        let later: Vec<Arc<Run>> = state.runs.iter().filter(|r| r.number > next).cloned().collect();
        let kept: Vec<Arc<Run>> = before.chain(std::iter::once(merged)).chain(later).collect();
        let revision = state.revision.clone().ok_or_else(|| damaged("manifest"))?;
        self.write_manifest(&revision, &kept)?;
        state.runs = kept;
        for run in runs {
            std::fs::remove_file(self.dir.join(run_name(run.number))).map_err(io("merging the subject map"))?;
        }
        Ok(())
    }

    /// Forgets the map: the manifest first, so that a crash midway leaves no map rather than
    /// part of one.
    pub fn reset(&self) -> Result<(), StoreError> {
        let mut state = self.state.write().map_err(|_| StoreError::Malformed("the map's lock is poisoned".into()))?;
        match std::fs::remove_file(self.dir.join("manifest")) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(StoreError::of_io(e, "clearing the subject map"))
            }
            _ => {}
        }
        for run in &state.runs {
            std::fs::remove_file(self.dir.join(run_name(run.number))).map_err(io("clearing the subject map"))?;
        }
        *state = State { next: state.next, ..State::default() };
        Ok(())
    }
}

/// Where the runs to merge begin: the newest runs, while the run before them holds no more
/// records than they do together; `None` when that is the newest alone.
fn merge_from(runs: &[Arc<Run>]) -> Option<usize> {
    let mut from = runs.len().checked_sub(1)?;
    let mut newer = runs[from].records();
    while from > 0 && runs[from - 1].records() <= newer {
        from -= 1;
        newer += runs[from].records();
    }
    (from + 1 < runs.len()).then_some(from)
}

fn merged_bucket(runs: &[Arc<Run>], bucket: u16) -> Result<MapBucket, StoreError> {
    let mut merged = BTreeMap::new();
    for run in runs {
        for (key, count, head) in run.bucket(bucket)? {
            merged.insert(key, (count, head));
        }
    }
    Ok(merged.into_iter().map(|(key, (count, head))| (key, count, head)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(bucket: u16, last: u8) -> Key {
        let mut k = [0u8; 32];
        k[..2].copy_from_slice(&bucket.to_be_bytes());
        k[31] = last;
        k
    }

    fn revision(size: u64) -> MapRevision {
        MapRevision { size, root: [size as u8; 32], keying: [1; 32], note: format!("note {size}\n") }
    }

    /// Revision `i` sets subject (i % 3, i % 5) to count i and bucket i % 3's subtree.
    fn commit(files: &MapFiles, i: u64) {
        let subjects = vec![(key((i % 3) as u16, (i % 5) as u8), i, [i as u8; 32])];
        let subtrees = vec![((i % 3) as u16, MapNode::Node { hash: [i as u8; 32] })];
        files.commit(&MapCommit { subjects, subtrees, revision: revision(i) }).unwrap();
    }

    fn everything(files: &MapFiles) -> (Vec<MapBucket>, Vec<(u16, MapNode)>, Option<MapRevision>) {
        ((0..3).map(|b| files.bucket(b).unwrap()).collect(), files.subtrees().unwrap(), files.revision().unwrap())
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut out: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        out.sort();
        out
    }

    #[test]
    fn the_newest_record_of_a_subject_is_read_before_and_after_runs_are_merged_and_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let files = MapFiles::open(dir.path()).unwrap();
        assert_eq!(everything(&files), (vec![vec![], vec![], vec![]], vec![], None));
        for i in 1..=20 {
            commit(&files, i);
            files.tidy().unwrap();
            let sizes: Vec<u64> = files.runs().unwrap().iter().map(|r| r.records()).collect();
            assert!(sizes.windows(2).all(|w| w[0] > w[1]), "runs shrink from the oldest: {sizes:?}");
        }
        let (buckets, subtrees, latest) = everything(&files);
        assert_eq!(latest, Some(revision(20)));
        // Subject (2, 4) was last set by revision 14, (2, 0) by 20; bucket 2's subtree by 20.
        assert!(buckets[2].contains(&(key(2, 4), 14, [14; 32])));
        assert!(buckets[2].contains(&(key(2, 0), 20, [20; 32])));
        assert_eq!(buckets.iter().map(Vec::len).sum::<usize>(), 15);
        assert!(buckets.iter().all(|b| b.windows(2).all(|w| w[0].0 < w[1].0)), "in key order");
        assert_eq!(subtrees[2], (2, MapNode::Node { hash: [20; 32] }));
        let before = everything(&files);
        drop(files);
        let reopened = MapFiles::open(dir.path()).unwrap();
        assert_eq!(everything(&reopened), before);
        assert_eq!(
            names(dir.path()).len(),
            reopened.runs().unwrap().len() + 1,
            "no file but the runs and the manifest"
        );
    }

    #[test]
    fn a_run_no_manifest_names_is_removed_and_the_revision_before_it_stands() {
        let dir = tempfile::tempdir().unwrap();
        let files = MapFiles::open(dir.path()).unwrap();
        commit(&files, 1);
        let before = everything(&files);
        drop(files);
        // As a crash between writing a run and the manifest leaves it, with a temporary file.
        std::fs::write(dir.path().join(run_name(7)), run_bytes(&[(key(0, 9), 9, [9; 32])], &[])).unwrap();
        std::fs::write(dir.path().join("manifest.tmp"), b"half").unwrap();
        let reopened = MapFiles::open(dir.path()).unwrap();
        assert_eq!(everything(&reopened), before);
        assert_eq!(names(dir.path()), vec!["manifest".to_owned(), run_name(0)]);
    }

    #[test]
    fn a_damaged_map_or_one_of_an_earlier_layout_is_set_aside_to_be_computed_again() {
        for damage in ["flip a run's byte", "cut the manifest", "an earlier layout"] {
            let dir = tempfile::tempdir().unwrap();
            let files = MapFiles::open(dir.path()).unwrap();
            commit(&files, 1);
            commit(&files, 2);
            drop(files);
            match damage {
                "flip a run's byte" => {
                    let path = dir.path().join(run_name(1));
                    let mut bytes = std::fs::read(&path).unwrap();
                    bytes[10] ^= 1;
                    std::fs::write(&path, bytes).unwrap();
                }
                "cut the manifest" => {
                    let path = dir.path().join("manifest");
                    let bytes = std::fs::read(&path).unwrap();
                    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
                }
                _ => {
                    std::fs::remove_file(dir.path().join("manifest")).unwrap();
                    std::fs::create_dir(dir.path().join("blobs")).unwrap();
                    std::fs::write(dir.path().join("conf"), b"sled").unwrap();
                }
            }
            let reopened = MapFiles::open(dir.path()).unwrap();
            assert_eq!(everything(&reopened), (vec![vec![], vec![], vec![]], vec![], None), "{damage}");
            assert!(names(dir.path()).is_empty(), "{damage}: {:?}", names(dir.path()));
            commit(&reopened, 3);
            assert_eq!(reopened.revision().unwrap(), Some(revision(3)), "{damage}: written again");
        }
    }
}
