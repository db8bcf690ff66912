//! The store contract, run on every store.

use super::*;
use std::collections::HashMap;

fn commit(entries: Vec<(Entry, EventId)>) -> Commit {
    let mentions = entries.iter().map(|(e, _)| (e.project.clone(), "asset-1".to_owned(), e.sequence)).collect();
    let nodes = entries.iter().map(|(e, _)| ((0u8, e.sequence), e.leaf_hash())).collect();
    Commit { entries, nodes, mentions, checkpoint: Some("note".into()) }
}

fn entry(sequence: u64, project: &str, version: u64) -> (Entry, EventId) {
    let entry = Entry::new(sequence, project.into(), version, 1_700_000_000_000_000, b"{}".to_vec(), [0; 32]);
    (entry, EventId::parse(&format!("ev-{sequence}")).unwrap())
}

/// The behaviour every store must have.
fn contract<S: LogStore + TokenStore>(store: &S) {
    assert_eq!(store.len().unwrap(), 0);
    assert!(store.is_empty().unwrap());
    assert_eq!(store.checkpoint().unwrap(), None);
    store.append(&commit(vec![entry(0, "a", 1), entry(1, "b", 1), entry(2, "a", 2)])).unwrap();
    store.append(&commit(vec![entry(3, "a", 3)])).unwrap();
    assert_eq!(store.len().unwrap(), 4);
    assert!(store.append(&commit(vec![entry(5, "a", 4)])).is_err(), "a gap is refused");
    assert!(store.append(&commit(vec![entry(2, "a", 4)])).is_err(), "an overwrite is refused");
    assert_eq!(store.len().unwrap(), 4, "a refused append writes nothing");
    assert_eq!(store.entry(2).unwrap(), Some(entry(2, "a", 2).0));
    assert_eq!(store.entry(4).unwrap(), None);
    let seqs: Vec<u64> = store.range(1, 2).unwrap().iter().map(|e| e.sequence).collect();
    assert_eq!(seqs, [1, 2]);
    assert_eq!(store.range(9, 10).unwrap(), vec![]);
    assert_eq!(store.project_sequences("a", 1, 10).unwrap(), [0, 2, 3]);
    assert_eq!(store.project_sequences("a", 2, 1).unwrap(), [2]);
    assert_eq!(store.project_sequences("b", 2, 10).unwrap(), Vec::<u64>::new());
    assert_eq!(store.project_sequences("", 1, 10).unwrap(), Vec::<u64>::new());
    assert_eq!(store.sequence_of_event("ev-3").unwrap(), Some(3));
    assert_eq!(store.sequence_of_event("ev-9").unwrap(), None);
    assert_eq!(store.node((0, 3)).unwrap(), Some(entry(3, "a", 3).0.leaf_hash()));
    assert_eq!(store.node((0, 4)).unwrap(), None);
    assert_eq!(store.checkpoint().unwrap().as_deref(), Some("note"));
    assert_eq!(store.asset_sequences("a", "asset-1").unwrap(), [0, 2, 3]);
    assert_eq!(store.asset_sequences("a", "asset").unwrap(), Vec::<u64>::new());
    let record = TokenRecord {
        name: "t".into(),
        projects: Some(vec!["a".into()]),
        admin: false,
        created_at_us: 1,
        expires_at_us: Some(2),
        revoked_at_us: None,
        organization: None,
        confidential: true,
    };
    store.put_token([7; 32], &record).unwrap();
    assert_eq!(store.tokens().unwrap(), vec![([7; 32], record)]);
    assert_eq!(store.sealed_state().unwrap(), None);
    store.seal_state(b"first").unwrap();
    store.seal_state(b"second").unwrap();
    assert_eq!(
        store.sealed_state().unwrap().as_deref(),
        Some(&b"second"[..]),
        "the last sealed state replaces the one before"
    );
}

/// An entry that names an asset twice (as an input and as the reviewed asset, say) is listed
/// once by the asset's index, and again once after a reopen.
fn an_asset_named_twice_is_listed_once(store: &dyn LogStore) {
    let mut first = commit(vec![entry(0, "a", 1)]);
    first.mentions.push(("a".into(), "asset-1".into(), 0));
    first.mentions.push(("a".into(), "asset-2".into(), 0));
    store.append(&first).unwrap();
    store.append(&commit(vec![entry(1, "a", 2)])).unwrap();
    assert_eq!(store.asset_sequences("a", "asset-1").unwrap(), [0, 1]);
    assert_eq!(store.asset_sequences("a", "asset-2").unwrap(), [0]);
}

/// Large commits: reads across the sled store's chunk and run boundaries.
fn large_commits(store: &dyn LogStore) {
    let mut versions = HashMap::new();
    for size in [150u64, 1, 70] {
        let from = store.len().unwrap();
        let batch = (from..from + size)
            .map(|seq| {
                let project = if seq % 3 == 0 { "a" } else { "b" };
                let version = versions.entry(project).and_modify(|v| *v += 1).or_insert(1u64);
                entry(seq, project, *version)
            })
            .collect();
        store.append(&commit(batch)).unwrap();
    }
    assert_eq!(store.len().unwrap(), 221);
    for seq in [0, 63, 64, 127, 128, 149, 150, 151, 220] {
        assert_eq!(store.entry(seq).unwrap().map(|e| e.sequence), Some(seq));
    }
    assert_eq!(store.entry(221).unwrap(), None);
    let page: Vec<u64> = store.range(60, 100).unwrap().iter().map(|e| e.sequence).collect();
    assert_eq!(page, (60..160).collect::<Vec<_>>());
    assert_eq!(store.range(200, 100).unwrap().len(), 21);
    let every_third: Vec<u64> = (0..221).filter(|s| s % 3 == 0).collect();
    assert_eq!(store.project_sequences("a", 1, 1000).unwrap(), every_third);
    assert_eq!(store.project_sequences("a", 50, 3).unwrap(), every_third[49..52]);
    assert_eq!(store.project_sequences("a", 51, 1000).unwrap(), every_third[50..]);
    assert_eq!(store.project_sequences("a", 75, 10).unwrap(), Vec::<u64>::new());
    assert_eq!(store.sequence_of_event("ev-200").unwrap(), Some(200));
}

#[test]
fn a_token_grant_stored_before_expiry_existed_reads_as_never_expiring() {
    #[derive(bincode::Encode)]
    struct Old {
        name: String,
        projects: Option<Vec<String>>,
        admin: bool,
        created_at_us: i64,
    }
    let old = Old { name: "reader".into(), projects: None, admin: true, created_at_us: 5 };
    let bytes = bincode::encode_to_vec(&old, bincode::config::standard()).unwrap();
    let read = TokenRecord::decode(&bytes).unwrap();
    assert_eq!((read.name.as_str(), read.admin, read.expires_at_us, read.revoked_at_us), ("reader", true, None, None));
    let new = TokenRecord { expires_at_us: Some(9), revoked_at_us: Some(7), ..read };
    assert_eq!(TokenRecord::decode(&new.encode()).unwrap(), new);
    let scoped = TokenRecord { organization: Some("acme".into()), ..new.clone() };
    assert_eq!(TokenRecord::decode(&scoped.encode()).unwrap(), scoped);
    let confidential = TokenRecord { confidential: true, ..scoped.clone() };
    assert_eq!(TokenRecord::decode(&confidential.encode()).unwrap(), confidential);
}

#[test]
fn a_token_grant_stored_before_confidential_texts_existed_reads_as_not_granted_them() {
    #[derive(bincode::Encode)]
    struct Before {
        name: String,
        projects: Option<Vec<String>>,
        admin: bool,
        created_at_us: i64,
        expires_at_us: Option<i64>,
        revoked_at_us: Option<i64>,
        organization: Option<String>,
    }
    let before = Before {
        name: "org".into(),
        projects: None,
        admin: false,
        created_at_us: 3,
        expires_at_us: Some(9),
        revoked_at_us: None,
        organization: Some("acme".into()),
    };
    let read = TokenRecord::decode(&bincode::encode_to_vec(&before, bincode::config::standard()).unwrap()).unwrap();
    assert_eq!((read.organization.as_deref(), read.expires_at_us, read.confidential), (Some("acme"), Some(9), false));
}

#[test]
fn a_token_grant_stored_before_organisations_existed_reads_as_unscoped() {
    #[derive(bincode::Encode)]
    struct Before {
        name: String,
        projects: Option<Vec<String>>,
        admin: bool,
        created_at_us: i64,
        expires_at_us: Option<i64>,
        revoked_at_us: Option<i64>,
    }
    let before = Before {
        name: "reader".into(),
        projects: Some(vec!["p".into()]),
        admin: false,
        created_at_us: 5,
        expires_at_us: Some(9),
        revoked_at_us: None,
    };
    let read = TokenRecord::decode(&bincode::encode_to_vec(&before, bincode::config::standard()).unwrap()).unwrap();
    assert_eq!((read.projects, read.expires_at_us, read.organization), (Some(vec!["p".to_owned()]), Some(9), None));
}

/// The subject map's part of the contract: a bucket is its subjects in key order, whichever
/// revisions wrote them; a revision replaces a subject's record and a bucket's subtree, and
/// leaves the others; a reset forgets everything.
fn map_contract(store: &dyn LogStore) -> MapRevision {
    use crate::crypto::map::MapNode;
    let key = |first: u8, second: u8, last: u8| {
        let mut k = [0u8; 32];
        (k[0], k[1], k[31]) = (first, second, last);
        k
    };
    let revision =
        |size: u64| MapRevision { size, root: [size as u8; 32], keying: [9; 32], note: format!("note {size}") };
    assert_eq!(store.map_revision().unwrap(), None);
    assert_eq!(store.map_bucket(1).unwrap(), vec![]);
    let node = MapNode::Node { hash: [5; 32] };
    store
        .commit_map(&MapCommit {
            subjects: vec![(key(0, 1, 9), 1, [1; 32]), (key(0, 1, 2), 2, [2; 32]), (key(0, 2, 0), 1, [3; 32])],
            subtrees: vec![(1, node), (2, MapNode::Leaf { key: key(0, 2, 0), hash: [4; 32] })],
            revision: revision(3),
        })
        .unwrap();
    store
        .commit_map(&MapCommit {
            subjects: vec![(key(0, 1, 9), 2, [6; 32]), (key(1, 1, 0), 1, [7; 32])],
            subtrees: vec![
                (1, MapNode::Node { hash: [8; 32] }),
                (257, MapNode::Leaf { key: key(1, 1, 0), hash: [7; 32] }),
            ],
            revision: revision(5),
        })
        .unwrap();
    assert_eq!(store.map_bucket(1).unwrap(), vec![(key(0, 1, 2), 2, [2; 32]), (key(0, 1, 9), 2, [6; 32])]);
    assert_eq!(store.map_bucket(2).unwrap(), vec![(key(0, 2, 0), 1, [3; 32])]);
    assert_eq!(store.map_bucket(257).unwrap(), vec![(key(1, 1, 0), 1, [7; 32])]);
    assert_eq!(store.map_bucket(3).unwrap(), vec![]);
    let mut subtrees = store.map_subtrees().unwrap();
    subtrees.sort_by_key(|(b, _)| *b);
    assert_eq!(
        subtrees,
        vec![
            (1, MapNode::Node { hash: [8; 32] }),
            (2, MapNode::Leaf { key: key(0, 2, 0), hash: [4; 32] }),
            (257, MapNode::Leaf { key: key(1, 1, 0), hash: [7; 32] })
        ]
    );
    assert_eq!(store.map_revision().unwrap(), Some(revision(5)));
    revision(5)
}

fn map_reset(store: &dyn LogStore) {
    store.reset_map().unwrap();
    assert_eq!(store.map_revision().unwrap(), None);
    assert_eq!(store.map_bucket(1).unwrap(), vec![]);
    assert_eq!(store.map_subtrees().unwrap(), vec![]);
}

#[test]
fn the_stores_keep_the_maps_contract_and_the_sled_store_reopens_with_it() {
    let memory = MemoryStore::new();
    map_contract(&memory);
    map_reset(&memory);
    let dir = tempfile::tempdir().unwrap();
    let written = map_contract(&SledStore::open(dir.path()).unwrap());
    let reopened = SledStore::open(dir.path()).unwrap();
    assert_eq!(reopened.map_revision().unwrap(), Some(written));
    assert_eq!(reopened.map_bucket(1).unwrap().len(), 2);
    map_reset(&reopened);
    drop(reopened);
    assert_eq!(SledStore::open(dir.path()).unwrap().map_revision().unwrap(), None, "the reset is kept");
}

#[test]
fn the_memory_store_keeps_the_contract() {
    contract(&MemoryStore::new());
    large_commits(&MemoryStore::new());
    an_asset_named_twice_is_listed_once(&MemoryStore::new());
}

#[test]
fn the_sled_store_lists_an_asset_named_twice_once() {
    let dir = tempfile::tempdir().unwrap();
    an_asset_named_twice_is_listed_once(&SledStore::open(dir.path()).unwrap());
    let reopened = SledStore::open(dir.path()).unwrap();
    assert_eq!(reopened.asset_sequences("a", "asset-1").unwrap(), [0, 1]);
}

#[test]
fn the_sled_store_reads_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    large_commits(&SledStore::open(dir.path()).unwrap());
    let reopened = SledStore::open(dir.path()).unwrap();
    assert_eq!(reopened.len().unwrap(), 221);
    assert_eq!(reopened.range(219, 5).unwrap().len(), 2);
    let every_third: Vec<u64> = (0..221).filter(|s| s % 3 == 0).collect();
    assert_eq!(reopened.project_sequences("a", 1, 1000).unwrap(), every_third);
    // The indexes built at once when the store opens answer as the ones built entry by entry.
    assert_eq!(reopened.asset_sequences("a", "asset-1").unwrap(), every_third);
    for seq in [0, 1, 149, 150, 220] {
        assert_eq!(reopened.sequence_of_event(&format!("ev-{seq}")).unwrap(), Some(seq));
    }
    assert_eq!(reopened.sequence_of_event("ev-221").unwrap(), None);
}

#[test]
fn opening_a_sled_store_waits_for_the_lock_this_process_is_releasing() {
    let dir = tempfile::tempdir().unwrap();
    let first = SledStore::open(dir.path()).unwrap();
    let closing = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(first);
    });
    let second = SledStore::open(dir.path()).unwrap();
    closing.join().unwrap();
    assert_eq!(second.len().unwrap(), 0);
}

#[test]
fn the_sled_store_reads_and_writes_on_after_releasing_its_cache() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    store.release_cache().unwrap();
    contract(&store);
    store.release_cache().unwrap();
    assert_eq!(store.len().unwrap(), 4);
    assert_eq!(store.entry(3).unwrap(), Some(entry(3, "a", 3).0));
    assert_eq!(store.sequence_of_event("ev-2").unwrap(), Some(2));
    assert_eq!(store.tokens().unwrap().len(), 1);
    store.append(&commit(vec![entry(4, "b", 2)])).unwrap();
    assert_eq!(store.project_sequences("b", 1, 10).unwrap(), [1, 4]);
    drop(store);
    assert_eq!(SledStore::open(dir.path()).unwrap().len().unwrap(), 5);
}

#[test]
fn the_sled_store_releases_its_cache_while_it_is_read_and_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for seq in 0..100 {
                store.append(&commit(vec![entry(seq, "a", seq + 1)])).unwrap();
            }
        });
        s.spawn(|| {
            for _ in 0..10 {
                store.release_cache().unwrap();
            }
        });
        s.spawn(|| {
            for _ in 0..100 {
                let len = store.len().unwrap();
                assert!(store.range(0, 1000).unwrap().len() as u64 >= len, "an entry seen is never lost");
            }
        });
    });
    assert_eq!(store.len().unwrap(), 100);
    assert_eq!(store.range(0, 1000).unwrap(), (0..100).map(|seq| entry(seq, "a", seq + 1).0).collect::<Vec<_>>());
}

#[test]
fn the_sled_store_keeps_the_contract_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SledStore::open(dir.path()).unwrap();
        contract(&store);
    }
    let reopened = SledStore::open(dir.path()).unwrap();
    assert_eq!(reopened.len().unwrap(), 4);
    assert_eq!(reopened.entry(3).unwrap(), Some(entry(3, "a", 3).0));
    assert_eq!(reopened.tokens().unwrap().len(), 1);
    // The in-memory indexes are rebuilt from the stored records.
    assert_eq!(reopened.sequence_of_event("ev-2").unwrap(), Some(2));
    assert_eq!(reopened.sequence_of_event("ev-4").unwrap(), None);
    assert_eq!(reopened.asset_sequences("a", "asset-1").unwrap(), [0, 2, 3]);
    assert_eq!(reopened.asset_sequences("b", "asset-1").unwrap(), [1]);
    assert_eq!(reopened.project_sequences("a", 2, 10).unwrap(), [2, 3]);
    assert_eq!(reopened.project_sequences("b", 1, 10).unwrap(), [1]);
    assert_eq!(reopened.acknowledged_checkpoint().unwrap().as_deref(), Some("note"), "recorded by the closed store");
    assert_eq!(reopened.sealed_state().unwrap().as_deref(), Some(&b"second"[..]));
}
