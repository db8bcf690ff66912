//! The sled store's durability: blob files synced, the journal replayed as a redo log, staged
//! commits read before, across and after being applied, large and full-journal commits.

use super::*;
use crate::domain::EventId;
use journal::CAPACITY;

#[test]
fn blob_files_of_oversized_pages_are_synced_with_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let big = Entry::new(0, "p".into(), 1, 1, vec![b'x'; SEGMENT_SIZE], [0; 32]);
    let commit = Commit { entries: vec![(big.clone(), EventId::parse("big").unwrap())], ..Commit::default() };
    store.append(&commit).unwrap();
    store.sync(&store.database().unwrap()).unwrap();
    let blobs: Vec<u64> = std::fs::read_dir(dir.path().join("blobs"))
        .unwrap()
        .filter_map(|f| f.unwrap().file_name().to_str()?.parse().ok())
        .collect();
    assert!(!blobs.is_empty(), "the page went to a blob file");
    let synced = store.synced_blobs.lock().unwrap();
    assert!(blobs.iter().all(|b| synced.contains(b)), "{blobs:?} synced: {synced:?}");
    drop(synced);
    assert_eq!(store.entry(0).unwrap(), Some(big));
}

fn commit(first: u64, count: u64, note: &str) -> Commit {
    let entries = (first..first + count)
        .map(|s| {
            let entry = Entry::new(s, "p".into(), s + 1, 1, format!("payload {s}").into_bytes(), [s as u8; 32]);
            (entry, EventId::parse(&format!("event-{s}")).unwrap())
        })
        .collect();
    Commit { entries, checkpoint: Some(note.into()), ..Commit::default() }
}

fn journal_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(Journal::path(dir)).unwrap()
}

#[test]
fn every_key_of_the_journal_is_written_again_whatever_sled_kept_of_it() {
    let commits = [commit(0, 3, "one"), commit(3, 20, "two"), commit(23, 1, "three")];
    let whole = tempfile::tempdir().unwrap();
    let store = SledStore::open(whole.path()).unwrap();
    for c in &commits {
        store.append(c).unwrap();
    }
    let journal = journal_bytes(whole.path());
    drop(store);
    // A store whose sled kept the first commit and the entries of the third but nothing of
    // the second, with the journal of all three: the replay assumes nothing of what sled
    // brings back.
    let lost = tempfile::tempdir().unwrap();
    drop(SledStore::open(lost.path()).unwrap());
    let store = SledStore::open(lost.path()).unwrap();
    store.append(&commits[0]).unwrap();
    let third = Journal::open(whole.path()).unwrap().1.remove(2);
    let (key, value) = third.pairs.into_iter().find(|(k, _)| k[0] == b'E').unwrap();
    store.database().unwrap().log.insert(key, value).unwrap();
    drop(store);
    std::fs::write(Journal::path(lost.path()), &journal).unwrap();
    let store = SledStore::open(lost.path()).unwrap();
    assert_eq!(store.len().unwrap(), 24);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("three"));
    let all: Vec<Entry> = commits.iter().flat_map(|c| c.entries.iter().map(|(e, _)| e.clone())).collect();
    assert_eq!(store.range(0, 100).unwrap(), all);
    assert_eq!(store.sequence_of_event("event-17").unwrap(), Some(17));
    assert_eq!(store.project_sequences("p", 1, 100).unwrap(), (0..24).collect::<Vec<_>>());
    // Opening empties the journal once sled holds it all.
    drop(store);
    assert!(!Journal::open(lost.path()).unwrap().0.holds_records().unwrap());
}

/// Commits of three entries of 50 KB each: about seven are staged before sled is given them.
fn wide_commit(first: u64) -> Commit {
    let mut commit = commit(first, 3, &format!("note {first}"));
    for (entry, _) in &mut commit.entries {
        *entry = Entry::new(entry.sequence, "p".into(), entry.version, 1, vec![b'w'; 50_000], [0; 32]);
    }
    commit
}

#[test]
fn staged_commits_are_read_like_sleds_before_across_and_after_being_applied() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let mut all = Vec::new();
    let mut seen = (false, false);
    for first in (0..60).step_by(3) {
        let commit = wide_commit(first);
        all.extend(commit.entries.iter().map(|(e, _)| e.clone()));
        store.append(&commit).unwrap();
        let in_sled = log_len(&store.database().unwrap().log).unwrap();
        let waiting = store.staged.snapshot().unwrap();
        let counted: usize = waiting.pairs.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert_eq!(waiting.bytes, counted, "the staged bytes are those of the records held");
        let staged = !waiting.pairs.is_empty();
        seen = (seen.0 || (staged && in_sled > 0), seen.1 || (!staged || in_sled == 0));
        let len = all.len() as u64;
        assert_eq!(store.len().unwrap(), len, "after {first}");
        assert_eq!(store.range(0, 1000).unwrap(), all, "after {first}");
        assert_eq!(store.range(len / 2, 1000).unwrap(), all[len as usize / 2..], "after {first}");
        assert_eq!(store.range(1, 2).unwrap(), all[1..3], "after {first}");
        assert_eq!(store.entry(len - 1).unwrap().as_ref(), all.last(), "after {first}");
        assert_eq!(store.entry(len).unwrap(), None);
        assert_eq!(store.checkpoint().unwrap(), Some(format!("note {first}")));
        assert_eq!(store.sequence_of_event(&format!("event-{}", len - 2)).unwrap(), Some(len - 2));
    }
    assert_eq!(seen, (true, true), "reads were checked with commits both in sled and staged");
    // A reader that took the staged commits just before sled was given them finds their
    // chunks in both: each is read once.
    let staged = store.staged.snapshot().unwrap();
    store.database().unwrap().log.apply_batch(staged.batch()).unwrap();
    assert_eq!(store.range(0, 1000).unwrap(), all);
    assert_eq!(store.len().unwrap(), 60);
    // What was staged at the end is in the journal, and in sled after a restart.
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert!(store.staged.snapshot().unwrap().pairs.is_empty());
    assert_eq!(store.range(0, 1000).unwrap(), all);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("note 57"));
}

#[test]
fn a_journal_that_does_not_continue_the_stored_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.append(&commit(0, 2, "one")).unwrap();
    // Reading the whole log makes sled durable and empties the journal first.
    store.release_cache().unwrap();
    store.append(&commit(2, 2, "two")).unwrap();
    let journal = journal_bytes(dir.path());
    drop(store);
    let empty = tempfile::tempdir().unwrap();
    drop(SledStore::open(empty.path()).unwrap());
    std::fs::write(Journal::path(empty.path()), &journal).unwrap();
    let refused = SledStore::open(empty.path()).err().expect("a gap is refused").to_string();
    assert_eq!(
        refused,
        "storage I/O failed: the journal's commit of entries 2 to 4 does not continue the stored log of 0 entries"
    );
    assert_eq!(journal_bytes(empty.path()), journal, "the journal is left as it was");
}

#[test]
fn a_large_commit_is_written_to_sled_durably_and_the_journal_starts_again_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.append(&commit(0, 1, "small")).unwrap();
    let big: Vec<Entry> =
        (1..4).map(|s| Entry::new(s, "p".into(), s + 1, 1, vec![b'y'; LARGEST_RECORD], [1; 32])).collect();
    let large = Commit {
        entries: big.iter().map(|e| (e.clone(), EventId::parse(&format!("huge-{}", e.sequence)).unwrap())).collect(),
        checkpoint: Some("big".into()),
        ..Commit::default()
    };
    store.append(&large).unwrap();
    store.append(&commit(4, 1, "after")).unwrap();
    let journaled: Vec<(u64, u64)> =
        Journal::open(dir.path()).unwrap().1.iter().map(|r| (r.first, r.entries)).collect();
    assert_eq!(journaled, [(4, 1)], "the journal holds what came after the large commit");
    assert_eq!(store.range(1, 3).unwrap(), big);
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.len().unwrap(), 5);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("after"));
}

#[test]
fn a_full_journal_is_emptied_once_sled_is_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let payload = LARGEST_RECORD - 1024;
    let commits = CAPACITY as usize / payload + 10;
    let mut entries = Vec::new();
    for s in 0..commits as u64 {
        let entry = Entry::new(s, "p".into(), s + 1, 1, vec![s as u8; payload], [0; 32]);
        let id = EventId::parse(&format!("e-{s}")).unwrap();
        store
            .append(&Commit {
                entries: vec![(entry.clone(), id)],
                checkpoint: Some(format!("{s}")),
                ..Default::default()
            })
            .unwrap();
        entries.push(entry);
    }
    let journaled: Vec<u64> = Journal::open(dir.path()).unwrap().1.iter().map(|r| r.first).collect();
    assert!(!journaled.is_empty() && journaled.len() < commits, "{journaled:?}");
    assert_eq!(journaled, (journaled[0]..commits as u64).collect::<Vec<_>>(), "the newest commits, in order");
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.range(0, commits).unwrap(), entries);
    assert_eq!(store.checkpoint().unwrap(), Some(format!("{}", commits - 1)));
}

#[test]
fn a_crash_after_sled_holds_a_large_commit_but_before_the_journal_is_emptied_keeps_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.append(&commit(0, 3, "small one")).unwrap();
    store.append(&commit(3, 2, "small two")).unwrap();
    // The journal as it was when the large commit reached sled, not yet emptied after it.
    let journal = journal_bytes(dir.path());
    let big: Vec<Entry> =
        (5..8).map(|s| Entry::new(s, "p".into(), s + 1, 1, vec![b'z'; LARGEST_RECORD], [2; 32])).collect();
    let large = Commit {
        entries: big.iter().map(|e| (e.clone(), EventId::parse(&format!("big-{}", e.sequence)).unwrap())).collect(),
        checkpoint: Some("large".into()),
        ..Commit::default()
    };
    store.append(&large).unwrap();
    drop(store);
    std::fs::write(Journal::path(dir.path()), &journal).unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.len().unwrap(), 8);
    assert_eq!(
        store.checkpoint().unwrap().as_deref(),
        Some("large"),
        "the journal's older checkpoint is not written over the longer log's"
    );
    assert_eq!(store.range(5, 3).unwrap(), big);
}
