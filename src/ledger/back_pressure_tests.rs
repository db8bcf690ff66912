//! Back pressure: a full writer queue refuses at once instead of growing.

use super::tests::root_of_trust;
use super::tests::Flaky;
use super::*;
use crate::store::MemoryStore;

#[test]
fn a_full_queue_answers_busy_instead_of_growing() {
    let (key, genesis, signer) = root_of_trust();
    let writer = WriterConfig { queue_capacity: 1, max_batch_events: 1, ..WriterConfig::default() };
    let config = LedgerConfig { writer, ..LedgerConfig::default() };
    // Appends that take a while, so that requests pile up behind the writer.
    let slow = Flaky {
        inner: MemoryStore::new(),
        fail_next: Default::default(),
        delay: std::time::Duration::from_millis(300),
    };
    let ledger = Ledger::start(Arc::new(slow), genesis, signer, config).unwrap();
    let envelope = |i: usize| {
        let payload = crate::ledger::tests::payload(
            &format!("p{i}"),
            &format!("client-org:p{i}"),
            "root",
            "project_created",
            serde_json::json!({"content_type": "social", "title": "t"}),
        );
        Envelope::sign(&serde_json::to_vec(&payload).unwrap(), "root-key", &key.key).to_json()
    };
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let results: Vec<Result<Vec<Appended>, Failed>> = runtime.block_on(async {
        let tasks: Vec<_> = (0..6)
            .map(|i| {
                let ledger = ledger.clone();
                let subs = ledger.prepare(vec![envelope(i)]).map_err(|(_, e)| e).unwrap();
                tokio::spawn(async move { ledger.append(subs).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let busy = results.iter().filter(|r| matches!(r, Err(Failed { error: AppendError::Busy, .. }))).count();
    let appended = results.iter().filter(|r| r.is_ok()).count();
    assert!(busy >= 1, "a full queue refuses at once");
    assert_eq!(busy + appended, 6, "every request is answered: {results:?}");
    assert_eq!(ledger.len(), appended as u64);
}
