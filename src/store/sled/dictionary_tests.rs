//! Entries stored compressed against a dictionary: what is read back, across restarts and
//! crashes, and what damaged compressed bytes, dictionaries and frames are reported as.

use super::dictionary::{self, LARGEST_ENTRY, PREFIX};
use super::layout::COMPRESSED;
use super::*;
use crate::domain::EventId;

/// An entry shaped like the ledger's: a DSSE envelope of a JSON event, as clients send it (even
/// sequences) or in a shape stored as it came (odd ones: escapes in the payload).
fn entry(sequence: u64) -> Entry {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let payload = format!(
        r#"{{"kind":"note_added","project":"acme-client:spring","event_id":"e-{sequence}","data":{{"text":"note number {sequence} on the hero shot"}}}}"#
    );
    let sig = sequence.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes().repeat(8);
    let payload = if sequence.is_multiple_of(2) { b64(payload.as_bytes()) } else { payload.replace('"', "\\\"") };
    let envelope = format!(
        r#"{{"payloadType":"application/vnd.lineage.event+json","payload":"{payload}","signatures":[{{"keyid":"producer-{k}","sig":"{sig}"}}]}}"#,
        k = sequence % 7,
        sig = b64(&sig)
    );
    Entry::new(sequence, "acme-client:spring".into(), sequence + 1, 1, envelope.into_bytes(), [sequence as u8; 32])
}

fn commit(first: u64, count: u64) -> Commit {
    let entries = (first..first + count).map(|s| (entry(s), EventId::parse(&format!("event-{s}")).unwrap())).collect();
    Commit { entries, checkpoint: Some(format!("note {first}")), ..Commit::default() }
}

/// Every stored chunk and dictionary in sled, by key: (first sequence, first byte).
fn chunks(store: &SledStore) -> Vec<(u64, u8)> {
    store.sync_and_empty_journal(&store.database().unwrap()).unwrap();
    let database = store.database().unwrap();
    database
        .log
        .scan_prefix([b'E'])
        .map(|kv| {
            let (key, value) = kv.unwrap();
            (read_u64(&key[1..]).unwrap(), value[0])
        })
        .collect()
}

fn dictionaries(store: &SledStore) -> Vec<u64> {
    store.sync_and_empty_journal(&store.database().unwrap()).unwrap();
    let database = store.database().unwrap();
    database.log.scan_prefix([super::layout::DICTIONARY]).map(|kv| read_u64(&kv.unwrap().0[1..]).unwrap()).collect()
}

/// A new store that compresses entries once `after` were appended (0: never).
fn compressing_after(after: u64) -> (tempfile::TempDir, SledStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.set_compress_after(after).unwrap();
    (dir, store)
}

fn appended(store: &SledStore, from: u64, to: u64, per_commit: u64) -> Vec<Entry> {
    let mut all = Vec::new();
    for first in (from..to).step_by(per_commit as usize) {
        let c = commit(first, per_commit.min(to - first));
        all.extend(c.entries.iter().map(|(e, _)| e.clone()));
        store.append(&c).unwrap();
    }
    all
}

#[test]
fn entries_are_stored_compressed_once_enough_were_appended_and_read_back_the_same() {
    let (dir, store) = compressing_after(100);
    let mut all = appended(&store, 0, 300, 10);
    // The commit at 100 carries the dictionary and the first compressed chunk.
    assert_eq!(dictionaries(&store), vec![100]);
    for (first, byte) in chunks(&store) {
        assert_eq!(byte == COMPRESSED, first >= 100, "chunk at {first}");
    }
    let stored: u64 = store.parts().unwrap().iter().filter(|p| p.name == "entry chunks").map(|p| p.bytes).sum();
    let raw: u64 = all.iter().map(|e| e.encode().len() as u64 + 4).sum();
    assert!(stored * 10 < raw * 6, "compressed to less than 0.6 of the bytes: {stored} of {raw}");
    assert_eq!(store.range(0, 1000).unwrap(), all);
    assert_eq!(store.range(95, 10).unwrap(), all[95..105]);
    for sequence in [0, 99, 100, 101, 299] {
        assert_eq!(store.entry(sequence).unwrap().as_ref(), Some(&all[sequence as usize]));
    }
    // A restart uses the stored dictionary until the entries since it sampled enough for one
    // of their own.
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    store.set_compress_after(100).unwrap();
    assert_eq!(store.range(0, 1000).unwrap(), all);
    all.extend(appended(&store, 300, 450, 10));
    assert_eq!(dictionaries(&store), vec![100, 400]);
    assert!(chunks(&store).iter().all(|(first, byte)| (*byte == COMPRESSED) == (*first >= 100)));
    drop(store);
    let store = SledStore::open(dir.path()).unwrap();
    assert_eq!(store.range(0, 1000).unwrap(), all);
    assert_eq!(store.sequence_of_event("event-420").unwrap(), Some(420));
}

#[test]
fn with_compression_off_entries_are_stored_raw() {
    let (_dir, store) = compressing_after(0);
    let all = appended(&store, 0, 200, 10);
    assert!(dictionaries(&store).is_empty());
    assert!(chunks(&store).iter().all(|(_, byte)| *byte == 0));
    assert_eq!(store.range(0, 1000).unwrap(), all);
}

#[test]
fn compressed_entries_staged_and_journaled_are_read_before_and_after_a_crash() {
    let (dir, store) = compressing_after(20);
    let all = appended(&store, 0, 100, 5);
    // Staged, in the journal, not yet in sled: read from memory.
    assert!(!store.staged.snapshot().unwrap().pairs.is_empty());
    assert_eq!(store.range(0, 1000).unwrap(), all);
    // A copy of the files as they are now is what a crash leaves.
    let crashed = tempfile::tempdir().unwrap();
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let file = file.unwrap();
        if file.file_type().unwrap().is_file() {
            std::fs::copy(file.path(), crashed.path().join(file.file_name())).unwrap();
        }
    }
    drop(store);
    let store = SledStore::open(crashed.path()).unwrap();
    assert_eq!(store.range(0, 1000).unwrap(), all);
    assert_eq!(dictionaries(&store), vec![20]);
}

/// Rewrites the stored chunk holding `sequence` with `change` applied to that entry's stored
/// bytes (which may change their length).
fn rewrite(store: &SledStore, sequence: u64, change: impl Fn(&mut Vec<u8>)) {
    store.sync_and_empty_journal(&store.database().unwrap()).unwrap();
    let database = store.database().unwrap();
    let (key, value) = database.log.range(seq_key(b'E', 0)..=seq_key(b'E', sequence)).next_back().unwrap().unwrap();
    let chunk = chunk_entries(&key, &value).unwrap();
    assert!(chunk.dictionary.is_some(), "the entry is compressed");
    let mut out = value[..13].to_vec();
    for (seq, stored) in chunk.entries {
        let mut bytes = stored.to_vec();
        if seq == sequence {
            change(&mut bytes);
        }
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    database.log.insert(key, out).unwrap();
    database.db.flush().unwrap();
}

fn corrupt_at(result: Result<Option<Entry>, StoreError>) -> (u64, String) {
    match result {
        Err(StoreError::Corrupt { sequence, reason }) => (sequence, reason),
        other => panic!("not reported as corrupt: {other:?}"),
    }
}

#[test]
fn damaged_compressed_entries_are_reported_at_their_sequence_and_their_neighbours_read() {
    type Change = fn(&mut Vec<u8>);
    // (what is done to entry 45's compressed bytes, what the report says)
    let table: [(&str, Change, &str); 5] = [
        ("last byte flipped", |b| *b.last_mut().unwrap() ^= 0x01, ""),
        ("cut short", |b| b.truncate(b.len() - 3), ""),
        ("emptied", |b| b.clear(), "frame that names its size"),
        ("a second frame after the first", |b| b.extend_from_slice(&b.clone()), ""),
        ("a sound frame of other bytes", |b| *b = zstd::bulk::compress(&[0u8; 64], 1).unwrap(), ""),
    ];
    for (case, change, says) in table {
        let (_dir, store) = compressing_after(20);
        let all = appended(&store, 0, 60, 5);
        rewrite(&store, 45, change);
        let (sequence, reason) = corrupt_at(store.entry(45));
        assert_eq!(sequence, 45, "{case}: {reason}");
        assert!(reason.contains(says), "{case}: {reason}");
        assert!(store.range(40, 10).is_err(), "{case}: a range over it fails too");
        assert_eq!(store.entry(44).unwrap().as_ref(), Some(&all[44]), "{case}");
        assert_eq!(store.entry(46).unwrap().as_ref(), Some(&all[46]), "{case}");
    }
}

#[test]
fn a_frame_claiming_more_than_an_entry_holds_is_refused_before_it_is_inflated() {
    // A frame header naming a content size of 2^40 bytes (single segment off, window 1 MiB).
    let mut frame = vec![0x28, 0xB5, 0x2F, 0xFD, 0xC0, 0x50];
    frame.extend_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(zstd::zstd_safe::get_frame_content_size(&frame).unwrap().unwrap() > LARGEST_ENTRY);
    let dictionary = zstd::zstd_safe::DDict::create(PREFIX);
    match dictionary::inflate(7, &frame, &dictionary) {
        Err(StoreError::Corrupt { sequence: 7, reason }) => assert!(reason.contains("more than an entry"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_chunk_naming_a_dictionary_missing_or_damaged_is_reported_corrupt() {
    // (what is done to the dictionary's record, what the report says)
    let table: [(&str, &str); 3] = [
        ("removed", "does not hold"),
        ("zstd's dictionary magic and junk", "damaged"),
        ("one byte flipped", "damaged"),
    ];
    for (case, says) in table {
        let (dir, store) = compressing_after(20);
        appended(&store, 0, 60, 5);
        store.sync_and_empty_journal(&store.database().unwrap()).unwrap();
        drop(store);
        let store = SledStore::open(dir.path()).unwrap();
        {
            let database = store.database().unwrap();
            let key = super::layout::dictionary_key(20);
            let mut record = database.log.get(key).unwrap().unwrap().to_vec();
            match case {
                "removed" => drop(database.log.remove(key).unwrap()),
                "one byte flipped" => {
                    record[1000] ^= 0x01;
                    database.log.insert(key, record).unwrap();
                }
                _ => drop(database.log.insert(key, vec![0x37, 0xA4, 0x30, 0xEC, 1, 2, 3]).unwrap()),
            }
        }
        let (sequence, reason) = corrupt_at(store.entry(30));
        assert_eq!(sequence, 20, "{case}: {reason}");
        assert!(reason.contains(says), "{case}: {reason}");
        assert!(store.entry(10).unwrap().is_some(), "{case}: raw entries before it read");
        // The writer's dictionary is read at open: a damaged one stops the open.
        drop(store);
        if case != "removed" {
            assert!(matches!(SledStore::open(dir.path()), Err(StoreError::Corrupt { sequence: 20, .. })), "{case}");
        }
    }
}

#[test]
fn a_dictionary_is_made_from_the_newest_samples_and_starts_with_the_prefix() {
    let mut writing = dictionary::Writing::new(None).unwrap();
    writing.samples.set_after(64);
    assert_eq!(writing.due(0), None);
    for sequence in 0..200u64 {
        if writing.samples.wants(sequence) {
            writing.samples.keep(&vec![(sequence % 251) as u8; 1000]);
        }
    }
    assert_eq!(writing.due(200), Some(200));
    let bytes = writing.samples.dictionary_bytes();
    assert!(bytes.starts_with(PREFIX));
    assert!(bytes.len() <= PREFIX.len() + dictionary::DICTIONARY_BYTES);
    assert_eq!(*bytes.last().unwrap(), 199, "the newest sample ends it");
    writing.adopt(dictionary::Encoder::new(200, &bytes).unwrap());
    assert_eq!(writing.due(300), None);
    assert_eq!(writing.due(200 + dictionary::RENEW_AFTER), Some(200 + dictionary::RENEW_AFTER));
}
