//! The sealed state on the memory store: a start whose check finds the sealed state wrong reads
//! the whole log again (what readers see included) and refuses appends.

use super::sealed::{open, seal_body, Point, SealKey};
use super::tests::{payload, root_of_trust};
use super::*;
use crate::crypto::dsse::Envelope;
use crate::store::MemoryStore;
use std::time::{Duration, Instant};

/// The sealed state of the first `len` entries, once the writer has sealed it.
pub(super) fn sealed_of(store: &dyn LogStore, key: &SealKey, len: u64) -> sealed::Unsealing {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(sealed) = store.sealed_state().unwrap().and_then(|b| open(key, &b).ok()) {
            if sealed.next == len {
                return sealed;
            }
        }
        assert!(Instant::now() < deadline, "the state of {len} entries was sealed");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The start check's verdict once it ran.
pub(super) fn checked(ledger: &Ledger) -> StartCheck {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ledger.start_check() {
            StartCheck::Running { .. } if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            other => return other,
        }
    }
}

#[test]
fn a_start_whose_check_fails_reads_the_whole_log_again_and_refuses_appends() {
    let (root, genesis, signer) = root_of_trust();
    let store = Arc::new(MemoryStore::new());
    let writer = WriterConfig { seal_idle_entries: 1, ..WriterConfig::default() };
    let ledger = Ledger::start(
        store.clone(),
        genesis.clone(),
        signer.clone(),
        LedgerConfig { writer, ..LedgerConfig::default() },
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let envelope = |id: &str, kind: &str, body: serde_json::Value| {
        let payload = payload(id, "client-org:p", "root", kind, body);
        Envelope::sign(&serde_json::to_vec(&payload).unwrap(), "root-key", &root.key).to_json()
    };
    let append = |ledger: &Ledger, envelope: Vec<u8>| {
        runtime.block_on(ledger.append(ledger.prepare(vec![envelope]).map_err(|(_, e)| e).unwrap()))
    };
    append(&ledger, envelope("e1", "project_created", serde_json::json!({"content_type": "social", "title": "t"})))
        .unwrap();
    append(&ledger, envelope("e2", "note_added", serde_json::json!({"text": "n"}))).unwrap();
    let key = SealKey::of_seed(&signer.key.to_bytes());
    let sealed = sealed_of(store.as_ref(), &key, ledger.len());
    drop(ledger);
    // A wrong state, authenticated as the writer would: the project one version longer.
    let project = crate::domain::ProjectId::parse("client-org:p").unwrap();
    let mut chains = sealed.chains.clone();
    chains.get_mut(&project).unwrap().version += 1;
    let wrong = Point {
        next: sealed.next,
        last_leaf: sealed.last_leaf,
        root: sealed.root,
        last_received: sealed.last_received,
        chains: &chains,
        ledger: &sealed.ledger,
    };
    store.seal_state(&seal_body(&key, wrong, 0)).unwrap();

    let restarted = Ledger::start(store.clone(), genesis.clone(), signer.clone(), LedgerConfig::default()).unwrap();
    assert!(matches!(checked(&restarted), StartCheck::Failed { .. }));
    assert!(store.sealed_state_rejected().unwrap(), "the rejection is kept for the next start");
    let refused = append(&restarted, envelope("e3", "note_added", serde_json::json!({"text": "refused"})));
    assert!(
        matches!(&refused, Err(Failed { error: AppendError::Storage(cause), .. }) if matches!(**cause, StoreError::Unchecked { .. })),
        "{refused:?}"
    );
    // Readers see the log's state again once it was replayed: the project's two entries.
    let deadline = Instant::now() + Duration::from_secs(20);
    while restarted.with_catalogue(|c| c.get(&project).map(|l| l.events)) != Some(2) {
        assert!(Instant::now() < deadline, "the state was read again");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(restarted.len(), 2);
    // The next start reads no sealed state and refuses appends too.
    drop(restarted);
    let again = Ledger::start(store, genesis, signer, LedgerConfig::default()).unwrap();
    assert!(matches!(again.start_check(), StartCheck::Failed { .. }));
    assert_eq!(again.with_catalogue(|c| c.get(&project).map(|l| l.events)), Some(2));
}
