//! The ledger facade end to end, on memory and sled stores: failed writes, overlap with the
//! persisting thread, retractions of events not written yet, rolled-back stores, back pressure,
//! and projections folded incrementally against ones rebuilt.

use super::*;
use crate::crypto::dsse::Envelope;
use crate::crypto::keys::KeyFile;
use crate::crypto::merkle::{Hash, NodeId};
use crate::domain::ids::PublicKeyBytes;
use crate::domain::{ActorId, KeyId};
use crate::log::Entry;
use crate::store::MemoryStore;
use crate::store::StoreError;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;

/// The client organisation the tests' genesis state knows, for their projects.
pub(super) const CLIENT: &str = "client-org";

/// A payload at its kind's current schema version; a project is created for [`CLIENT`] and an
/// actor registered in it.
pub(super) fn payload(
    event_id: &str,
    project: &str,
    actor: &str,
    kind: &str,
    mut body: serde_json::Value,
) -> serde_json::Value {
    match kind {
        "project_created" => body["client_organization"] = CLIENT.into(),
        "actor_registered" => body["organization"] = CLIENT.into(),
        _ => {}
    }
    let version = crate::domain::Kind::parse(kind).map_or(1, |k| k.current_version());
    serde_json::json!({"event_id": event_id, "project": project, "kind": kind, "schema_version": version,
        "actor": actor, "occurred_at": "2026-01-01T00:00:00Z", "ledger": ORIGIN, "body": body})
}

/// The name of the test ledgers.
pub(super) const ORIGIN: &str = "test/log";

/// A ledger key `root-key` of the admin actor `root`: the genesis state and checkpoint signer.
pub(super) fn root_of_trust() -> (KeyFile, SystemState, CheckpointSigner) {
    let key = KeyFile::generate("root", "root-key");
    let genesis = SystemState::genesis(
        ActorId::parse("root").unwrap(),
        KeyId::parse("root-key").unwrap(),
        PublicKeyBytes::from_key(key.key.verifying_key()),
    )
    .with_organization(CLIENT, crate::domain::event::OrganizationKind::Client);
    let signer = CheckpointSigner { origin: ORIGIN.into(), key: key.key.clone() };
    (key, genesis, signer)
}

/// A memory store whose next append fails when asked to.
pub(super) struct Flaky {
    pub inner: MemoryStore,
    pub fail_next: AtomicBool,
    pub delay: std::time::Duration,
}

impl LogStore for Flaky {
    fn append(&self, commit: &crate::store::Commit) -> Result<(), StoreError> {
        std::thread::sleep(self.delay);
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Io { what: "append", source: std::io::Error::other("disk on fire") });
        }
        self.inner.append(commit)
    }
    fn len(&self) -> Result<u64, StoreError> {
        self.inner.len()
    }
    fn entry(&self, sequence: u64) -> Result<Option<Entry>, StoreError> {
        self.inner.entry(sequence)
    }
    fn range(&self, from: u64, limit: usize) -> Result<Vec<Entry>, StoreError> {
        self.inner.range(from, limit)
    }
    fn project_sequences(&self, project: &str, from: u64, limit: usize) -> Result<Vec<u64>, StoreError> {
        self.inner.project_sequences(project, from, limit)
    }
    fn sequence_of_event(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        self.inner.sequence_of_event(event_id)
    }
    fn node(&self, id: NodeId) -> Result<Option<Hash>, StoreError> {
        self.inner.node(id)
    }
    fn checkpoint(&self) -> Result<Option<String>, StoreError> {
        self.inner.checkpoint()
    }
    fn asset_sequences(&self, project: &str, asset: &str) -> Result<Vec<u64>, StoreError> {
        self.inner.asset_sequences(project, asset)
    }
    fn map_bucket(&self, bucket: u16) -> Result<crate::store::MapBucket, StoreError> {
        self.inner.map_bucket(bucket)
    }
    fn map_subtrees(&self) -> Result<Vec<(u16, crate::crypto::map::MapNode)>, StoreError> {
        self.inner.map_subtrees()
    }
    fn reset_map(&self) -> Result<(), StoreError> {
        self.inner.reset_map()
    }
    fn map_revision(&self) -> Result<Option<crate::store::MapRevision>, StoreError> {
        self.inner.map_revision()
    }
    fn commit_map(&self, commit: &crate::store::MapCommit) -> Result<(), StoreError> {
        self.inner.commit_map(commit)
    }
    fn sealed_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.sealed_state()
    }
    fn seal_state(&self, bytes: &[u8]) -> Result<(), StoreError> {
        self.inner.seal_state(bytes)
    }
    fn reject_sealed_state(&self) -> Result<(), StoreError> {
        self.inner.reject_sealed_state()
    }
    fn sealed_state_rejected(&self) -> Result<bool, StoreError> {
        self.inner.sealed_state_rejected()
    }
    fn clear_rejected_sealed_state(&self) -> Result<(), StoreError> {
        self.inner.clear_rejected_sealed_state()
    }
}

fn envelope(key: &KeyFile, event_id: &str, kind: &str, body: serde_json::Value) -> Vec<u8> {
    let project = if kind.starts_with("actor") || kind.starts_with("key") { "system" } else { "client-org:p" };
    let payload = payload(event_id, project, &key.actor, kind, body);
    Envelope::sign(&serde_json::to_vec(&payload).unwrap(), &key.key_id, &key.key).to_json()
}

#[test]
fn a_failed_write_is_not_acknowledged_and_leaves_no_trace() {
    let (key, genesis, signer) = root_of_trust();
    let store =
        Arc::new(Flaky { inner: MemoryStore::new(), fail_next: AtomicBool::new(false), delay: Default::default() });
    let ledger = Ledger::start(store.clone(), genesis, signer, LedgerConfig::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let append = |raw: Vec<u8>| runtime.block_on(ledger.append(ledger.prepare(vec![raw]).map_err(|(_, e)| e).unwrap()));
    let created = envelope(&key, "e1", "project_created", serde_json::json!({"content_type": "social", "title": "t"}));
    append(created).unwrap();
    store.fail_next.store(true, Ordering::SeqCst);
    let note = envelope(&key, "e2", "note_added", serde_json::json!({"text": "t"}));
    let failed = append(note.clone()).unwrap_err();
    assert!(matches!(failed.error, AppendError::Storage(_)), "{failed:?}");
    assert_eq!(ledger.len(), 1, "nothing is acknowledged or visible");
    let retried = append(note).unwrap();
    assert_eq!((retried[0].entry.sequence, retried[0].entry.version), (1, 2), "the retry takes the same place");
    assert!(retried[0].created);
    let checkpoint = ledger.checkpoint().unwrap().checkpoint;
    assert_eq!(checkpoint.size, 2, "the failed commit's checkpoint was never published");
    assert_eq!(Some(checkpoint.root), ledger.root(2).unwrap());
}

/// Appends `first` on one thread and, 50 ms later, `second` on another: with a store that
/// takes 200 ms per commit, the second is decided while the first is being written.
fn overlapping(
    ledger: &Ledger,
    first: Vec<u8>,
    second: Vec<u8>,
) -> (Result<Vec<Appended>, Failed>, Result<Vec<Appended>, Failed>) {
    let mut answers = staggered(ledger, vec![(first, 0), (second, 50)]).into_iter();
    (answers.next().unwrap(), answers.next().unwrap())
}

/// Appends each envelope on its own thread, that many milliseconds after the start.
fn staggered(ledger: &Ledger, sends: Vec<(Vec<u8>, u64)>) -> Vec<Result<Vec<Appended>, Failed>> {
    let threads: Vec<_> = sends
        .into_iter()
        .map(|(raw, wait)| {
            let ledger = ledger.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(wait));
                let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
                runtime.block_on(ledger.append(ledger.prepare(vec![raw]).map_err(|(_, e)| e).unwrap()))
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn a_retraction_finds_events_not_written_yet() {
    let (key, _store, ledger) = slow_ledger();
    let producer = KeyFile::generate("prod", "prod-1");
    let registered = envelope(
        &key,
        "reg",
        "actor_registered",
        serde_json::json!({"actor_id": "prod", "display_name": "P", "role": "producer",
                 "keys": [{"key_id": "prod-1", "public_key": producer.public_key_base64()}]}),
    );
    assert!(staggered(&ledger, vec![(registered, 0)])[0].is_ok());
    let member = envelope(&key, "mem", "member_added", serde_json::json!({"actor_id": "prod", "role": "producer"}));
    assert!(staggered(&ledger, vec![(member, 0)])[0].is_ok());
    let note = |id: &str| envelope(&key, id, "note_added", serde_json::json!({"text": "t"}));
    let retract = |id: &str, of: &str| {
        envelope(&producer, id, "event_retracted", serde_json::json!({"event_id": of, "reason": "r"}))
    };
    // With 200 ms per commit: e2 is being written when its retraction e3 is decided; e5 and
    // its retraction e6 wait behind e4 and are decided in one batch, e5 not written yet (both
    // the producer's: the writer keeps one tenant's requests in the order they came).
    let producers_note = envelope(&producer, "e5", "note_added", serde_json::json!({"text": "t"}));
    let answers = staggered(
        &ledger,
        vec![
            (note("e2"), 0),
            (retract("e3", "e2"), 50),
            (note("e4"), 250),
            (producers_note, 300),
            (retract("e6", "e5"), 320),
        ],
    );
    for (i, answer) in answers.iter().enumerate() {
        assert!(answer.is_ok(), "request {i}: {answer:?}");
    }
    let refused = staggered(&ledger, vec![(retract("e7", "e5"), 0)]).remove(0);
    assert!(
        matches!(&refused, Err(Failed { error: AppendError::Refused(r), .. }) if r.slug() == "already-retracted"),
        "{refused:?}"
    );
}

fn slow_ledger() -> (KeyFile, Arc<Flaky>, Ledger) {
    let (key, genesis, signer) = root_of_trust();
    let store = Arc::new(Flaky {
        inner: MemoryStore::new(),
        fail_next: AtomicBool::new(false),
        delay: std::time::Duration::from_millis(200),
    });
    // Every commit handed to the persisting thread, however small.
    let writer = WriterConfig { overlap_events: 1, ..WriterConfig::default() };
    let ledger =
        Ledger::start(store.clone(), genesis, signer, LedgerConfig { writer, ..LedgerConfig::default() }).unwrap();
    let created = envelope(&key, "e1", "project_created", serde_json::json!({"content_type": "social", "title": "t"}));
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    runtime.block_on(ledger.append(ledger.prepare(vec![created]).map_err(|(_, e)| e).unwrap())).unwrap();
    (key, store, ledger)
}

#[test]
fn an_event_sent_again_while_its_commit_is_written_gets_the_same_entry() {
    let (key, _store, ledger) = slow_ledger();
    let note = envelope(&key, "e2", "note_added", serde_json::json!({"text": "t"}));
    let (first, second) = overlapping(&ledger, note.clone(), note);
    let (first, second) = (&first.unwrap()[0], &second.unwrap()[0]);
    assert!(first.created && !second.created, "{first:?} {second:?}");
    assert_eq!(first.entry, second.entry);
    assert_eq!(ledger.len(), 2, "written once");
}

#[test]
fn a_batch_decided_on_a_commit_that_then_fails_is_decided_again() {
    let (key, store, ledger) = slow_ledger();
    store.fail_next.store(true, Ordering::SeqCst);
    let failing = envelope(&key, "e2", "note_added", serde_json::json!({"text": "t"}));
    let next = envelope(&key, "e3", "note_added", serde_json::json!({"text": "u"}));
    let (failed, appended) = overlapping(&ledger, failing, next);
    assert!(matches!(failed, Err(Failed { error: AppendError::Storage(_), .. })), "{failed:?}");
    let appended = &appended.unwrap()[0];
    assert_eq!((appended.entry.sequence, appended.entry.version), (1, 2), "it takes the failed one's place");
    assert_eq!(ledger.len(), 2);
    let checkpoint = ledger.checkpoint().unwrap().checkpoint;
    assert_eq!((checkpoint.size, Some(checkpoint.root)), (2, ledger.root(2).unwrap()));
    assert_eq!(ledger.entry(1).unwrap().as_ref(), Some(&appended.entry));
}

/// Starts a ledger on a sled store, appends, and waits until the writer has let go of the
/// store, so that everything it records is on disk.
fn append_and_close(dir: &std::path::Path, raws: Vec<Vec<u8>>) {
    let (_, genesis, signer) = ROOT.with(|r| r.clone());
    let store = Arc::new(crate::store::SledStore::open(dir).unwrap());
    let ledger = Ledger::start(store.clone(), genesis, signer, LedgerConfig::default()).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    for raw in raws {
        runtime.block_on(ledger.append(ledger.prepare(vec![raw]).map_err(|(_, e)| e).unwrap())).unwrap();
    }
    drop(ledger);
    while Arc::strong_count(&store) > 1 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

thread_local! {
    static ROOT: (KeyFile, SystemState, CheckpointSigner) = root_of_trust();
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &to.join(item.file_name()));
        } else {
            std::fs::copy(item.path(), to.join(item.file_name())).unwrap();
        }
    }
}

#[test]
fn a_store_that_comes_back_shorter_than_acknowledged_is_refused() {
    let key = ROOT.with(|r| r.0.clone());
    let dir = tempfile::tempdir().unwrap();
    let (data, earlier) = (dir.path().join("data"), dir.path().join("earlier"));
    let created = envelope(&key, "e1", "project_created", serde_json::json!({"content_type": "social", "title": "t"}));
    append_and_close(&data, vec![created]);
    copy_dir(&data, &earlier);
    append_and_close(&data, vec![envelope(&key, "e2", "note_added", serde_json::json!({"text": "t"}))]);
    // The database rolled back to its copy, the record of what was acknowledged kept.
    std::fs::copy(data.join("acknowledged-checkpoint"), earlier.join("acknowledged-checkpoint")).unwrap();

    let (_, genesis, signer) = ROOT.with(|r| r.clone());
    let start = |dir: &std::path::Path| {
        let store = Arc::new(crate::store::SledStore::open(dir).unwrap());
        Ledger::start(store, genesis.clone(), signer.clone(), LedgerConfig::default())
    };
    match start(&earlier) {
        Err(StoreError::Corrupt { sequence, reason }) => {
            assert_eq!((sequence, reason.as_str()), (1, "missing: 2 entries were acknowledged, the store holds 1"))
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("a rolled-back store was served"),
    }
    assert_eq!(start(&data).unwrap().len(), 2, "the store itself opens");
}

mod projection_properties {
    //! Random but valid productions: the projections caught up query by query equal the ones
    //! folded from all the stored entries at once, and the ones a restart folds.
    use crate::crypto::keys::KeyFile;
    use crate::ledger::sealed_tests::{checked, sealed_of};
    use crate::ledger::tests::root_of_trust;
    use crate::ledger::*;
    use crate::store::MemoryStore;
    use proptest::prelude::*;
    use serde_json::{json, Value};

    struct Crew {
        keys: Vec<(KeyFile, &'static str)>,
        counter: std::cell::Cell<u64>,
    }

    impl Crew {
        fn sign(&self, role: &str, project: &str, kind: &str, body: Value) -> (Vec<u8>, String) {
            let key = &self.keys.iter().find(|(_, r)| *r == role).expect("a key per role").0;
            let n = self.counter.get();
            self.counter.set(n + 1);
            let event_id = format!("e{n}");
            let payload = crate::ledger::tests::payload(&event_id, project, &key.actor, kind, body);
            (Envelope::sign(&serde_json::to_vec(&payload).unwrap(), &key.key_id, &key.key).to_json(), event_id)
        }
    }

    fn asset(id: &str) -> Value {
        json!({"asset_id": id, "digest": crate::domain::Digest::of(id.as_bytes()).to_string(), "media_type": "image/png"})
    }

    /// Turns random choices into a valid production of a governed social project: each op is
    /// (what, a, b). Approvals and deliveries come after a passing QC review of their asset and
    /// only for assets whose ancestry holds no retracted event, as the policy requires.
    fn production(crew: &Crew, ops: &[(u8, usize, usize)]) -> Vec<Vec<u8>> {
        let p = "client-org:prop";
        let mut out =
            vec![crew.sign("producer", p, "project_created", json!({"content_type": "social", "title": "t"})).0];
        for role in ["creative_director", "ai_artist", "post_artist", "qc_reviewer", "integration"] {
            let actor = &crew.keys.iter().find(|(_, r)| *r == role).expect("a key per role").0.actor;
            out.push(crew.sign("producer", p, "member_added", json!({"actor_id": actor, "role": role})).0);
        }
        out.extend([
            crew.sign("producer", p, "brief_recorded", json!({"brief_id": "b", "title": "t", "text": "t"})).0,
            crew.sign("ai_artist", p, "model_version_registered", json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"})).0,
            crew.sign("ai_artist", p, "prompt_authored", json!({"prompt_id": "pr0", "text": "t", "brief_id": "b"})).0,
        ]);
        let (mut prompts, mut assets, mut approved) = (1usize, Vec::<String>::new(), Vec::<String>::new());
        // Events a producer may retract, with the assets each made; and each asset's inputs.
        let mut events: Vec<(String, Vec<String>)> = Vec::new();
        let mut inputs_of: std::collections::HashMap<String, Vec<String>> = Default::default();
        let mut retracted_outputs = std::collections::HashSet::<String>::new();
        let mut retracted = std::collections::HashSet::new();
        let tainted = |asset: &str,
                       inputs_of: &std::collections::HashMap<String, Vec<String>>,
                       retracted_outputs: &std::collections::HashSet<String>| {
            let mut queue = vec![asset.to_owned()];
            while let Some(next) = queue.pop() {
                if retracted_outputs.contains(&next) {
                    return true;
                }
                queue.extend(inputs_of.get(&next).cloned().unwrap_or_default());
            }
            false
        };
        let passing_qc = |i: usize, target: &str| {
            let digest = crate::domain::Digest::of(target.as_bytes()).to_string();
            crew.sign("qc_reviewer", p, "qc_review_recorded", json!({"review_id": format!("qp{i}"), "asset": target, "digest": digest, "checks": [{"check": "edges", "result": "pass"}], "proof_medium": "screen", "proof_size": "1", "verdict": "pass"})).0
        };
        for (i, &(what, a, b)) in ops.iter().enumerate() {
            let pick = |list: &[String], k: usize| list.get(k % list.len().max(1)).cloned();
            let mut made: Vec<String> = Vec::new();
            let (envelope, id) = match what % 9 {
                0 => {
                    prompts += 1;
                    crew.sign("ai_artist", p, "prompt_authored", json!({"prompt_id": format!("pr{}", prompts - 1), "text": "t", "parent_prompt": format!("pr{}", a % (prompts - 1))}))
                }
                1 | 2 => {
                    let inputs: Vec<String> = pick(&assets, a).into_iter().collect();
                    let outputs: Vec<Value> = (0..1 + b % 3).map(|k| asset(&format!("g{i}-{k}"))).collect();
                    made = (0..1 + b % 3).map(|k| format!("g{i}-{k}")).collect();
                    for m in &made {
                        inputs_of.insert(m.clone(), inputs.clone());
                    }
                    assets.extend(made.iter().cloned());
                    crew.sign("integration", p, "generation_recorded", json!({"generation_id": format!("gen{i}"), "model_version": "mv", "prompt": format!("pr{}", a % prompts), "input_assets": inputs, "outputs": outputs}))
                }
                3 if !assets.is_empty() => {
                    let input = pick(&assets, a).unwrap();
                    let technique = ["retouch", "cg", "compositing", "upres", "colour", "cleanup"][b % 6];
                    made = vec![format!("e{i}")];
                    inputs_of.insert(format!("e{i}"), vec![input.clone()]);
                    assets.push(format!("e{i}"));
                    crew.sign("post_artist", p, "post_edit_applied", json!({"edit_id": format!("ed{i}"), "technique": technique, "tool": "t", "performed_by": "human", "generative": false, "inputs": [input], "output": asset(&format!("e{i}"))}))
                }
                4 if !assets.is_empty() => {
                    let target = pick(&assets, a).unwrap();
                    let digest = crate::domain::Digest::of(target.as_bytes()).to_string();
                    let (result, verdict) = if b % 2 == 0 { ("pass", "pass") } else { ("fail", "fail") };
                    let signed = crew.sign("qc_reviewer", p, "qc_review_recorded", json!({"review_id": format!("q{i}"), "asset": target, "digest": digest, "checks": [{"check": "edges", "result": result}], "proof_medium": "screen", "proof_size": "1", "verdict": verdict}));
                    // Only its author may retract a review: not offered to the producer.
                    out.push(signed.0);
                    continue;
                }
                5 if assets.iter().any(|x| !tainted(x, &inputs_of, &retracted_outputs)) => {
                    let clean: Vec<String> =
                        assets.iter().filter(|x| !tainted(x, &inputs_of, &retracted_outputs)).cloned().collect();
                    let target = pick(&clean, a).unwrap();
                    approved.push(target.clone());
                    out.push(passing_qc(i, &target));
                    let digest = crate::domain::Digest::of(target.as_bytes()).to_string();
                    out.push(crew.sign("creative_director", p, "approval_recorded", json!({"approval_id": format!("a{i}"), "asset": target, "digest": digest, "decision": "approved"})).0);
                    continue;
                }
                6 => {
                    let stage = ["ideation", "rnd", "exploration", "production", "refinement", "delivery"][a % 6];
                    let mark = ["opened", "completed", "reopened"][b % 3];
                    crew.sign("producer", p, "stage_marked", json!({"stage": stage, "mark": mark}))
                }
                7 if !events.is_empty() => {
                    let (target, outputs) = events[a % events.len()].clone();
                    if !retracted.insert(target.clone()) {
                        continue;
                    }
                    retracted_outputs.extend(outputs);
                    // A retraction is never retracted: not offered again.
                    out.push(crew.sign("producer", p, "event_retracted", json!({"event_id": target, "reason": "r"})).0);
                    continue;
                }
                8 if approved.iter().any(|x| !tainted(x, &inputs_of, &retracted_outputs)) => {
                    let clean: Vec<String> =
                        approved.iter().filter(|x| !tainted(x, &inputs_of, &retracted_outputs)).cloned().collect();
                    let master = pick(&clean, a).unwrap();
                    inputs_of.insert(format!("v{i}"), vec![master.clone()]);
                    assets.push(format!("v{i}"));
                    out.push(passing_qc(i, &master));
                    made = vec![format!("v{i}")];
                    crew.sign("integration", p, "delivery_recorded", json!({"delivery_id": format!("d{i}"), "master_asset": master, "variant": asset(&format!("v{i}")), "format": "jpeg", "channel": "web", "medium": "digital", "dimensions": {"width": 1, "height": 1}, "locale": "en", "usage": "commercial"}))
                }
                _ => crew.sign(
                    "producer",
                    p,
                    "note_added",
                    json!({"text": "n", "assets": pick(&assets, b).into_iter().collect::<Vec<_>>()}),
                ),
            };
            events.push((id, made));
            out.push(envelope);
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
        #[test]
        fn incremental_projections_equal_rebuilt_ones(
            ops in proptest::collection::vec((0u8..9, 0usize..50, 0usize..50), 1..60),
            splits in proptest::collection::vec(1usize..7, 1..40),
        ) {
            let (root, genesis, signer) = root_of_trust();
            let store = Arc::new(MemoryStore::new());
            // The state sealed whenever appends pause.
            let config = LedgerConfig { writer: WriterConfig { seal_idle_entries: 1, ..WriterConfig::default() }, ..LedgerConfig::default() };
            let ledger = Ledger::start(store.clone(), genesis.clone(), signer.clone(), config).unwrap();
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let roles = ["producer", "creative_director", "ai_artist", "post_artist", "qc_reviewer", "integration"];
            let crew = Crew { keys: roles.iter().map(|r| (KeyFile::generate(r, &format!("{r}-k")), *r)).collect(), counter: 0.into() };
            let registrations: Vec<Vec<u8>> = crew.keys.iter().map(|(k, role)| {
                let payload = crate::ledger::tests::payload(&format!("reg-{role}"), "system", "root", "actor_registered",
                    json!({"actor_id": k.actor, "display_name": "x", "role": role, "keys": [{"key_id": k.key_id, "public_key": k.public_key_base64()}]}));
                Envelope::sign(&serde_json::to_vec(&payload).unwrap(), "root-key", &root.key).to_json()
            }).collect();
            runtime.block_on(ledger.append(ledger.prepare(registrations).map_err(|(_, e)| e).unwrap())).unwrap();
            let envelopes = production(&crew, &ops);
            let project = crate::domain::ProjectId::parse("client-org:prop").unwrap();
            let mut rest = envelopes.as_slice();
            let mut i = 0;
            while !rest.is_empty() {
                let n = splits[i % splits.len()].min(rest.len());
                i += 1;
                let subs = ledger.prepare(rest[..n].to_vec()).map_err(|(_, e)| e).unwrap();
                let result = runtime.block_on(ledger.append(subs));
                prop_assert!(result.is_ok(), "{:?}", result.err());
                rest = &rest[n..];
                // Queried now and then, so that the projection is caught up in steps.
                if splits[i % splits.len()] % 2 == 0 {
                    let reflected = ledger.with_project(&project, |_, size| size).unwrap();
                    prop_assert_eq!(reflected, Some(ledger.len()));
                }
            }
            let incremental = ledger.with_project(&project, |p, _| p.clone()).unwrap().unwrap();
            let rebuilt = ledger.fold_anew("client-org:prop", ledger.len()).unwrap();
            prop_assert_eq!(&incremental, &rebuilt);
            // As of every earlier size, the one projection read up to the events it covers
            // answers what a fold of only those entries does.
            for size in 1..=ledger.len() {
                let anew = ledger.fold_anew("client-org:prop", size).unwrap();
                let at = incremental.visible(size);
                prop_assert_eq!(at, anew.events.len(), "events as of {}", size);
                // A retraction after that point is not yet one.
                let then: Vec<_> = incremental.events[..at]
                    .iter()
                    .cloned()
                    .map(|mut m| {
                        m.retracted_at = m.retracted_at.filter(|r| (*r as usize) < at);
                        m
                    })
                    .collect();
                prop_assert_eq!(&then[..], &anew.events[..], "history as of {}", size);
                prop_assert_eq!(incremental.stage_view(at), anew.stage_view(anew.events.len()), "stages as of {}", size);
                for asset in (0..ops.len()).flat_map(|i| [format!("g{i}-0"), format!("e{i}"), format!("v{i}")]) {
                    for walk in [crate::projections::graph::Graph::ancestors, crate::projections::graph::Graph::descendants] {
                        let then = walk(&incremental.graph, &asset, 100, at as u32).map(|g| serde_json::to_string(&g).unwrap());
                        let fresh = walk(&anew.graph, &asset, 100, u32::MAX).map(|g| serde_json::to_string(&g).unwrap());
                        prop_assert_eq!(then, fresh, "the graph of {} as of {}", asset, size);
                    }
                }
            }
            // Once appends pause, the writer seals its state of the whole log; read back, it
            // encodes to the same bytes.
            let key = crate::ledger::sealed::SealKey::of_seed(&signer.key.to_bytes());
            let sealed = sealed_of(store.as_ref(), &key, ledger.len());
            let again = crate::ledger::sealed::Point {
                next: sealed.next,
                last_leaf: sealed.last_leaf,
                root: sealed.root,
                last_received: sealed.last_received,
                chains: &sealed.chains,
                ledger: &sealed.ledger,
            };
            prop_assert_eq!(crate::ledger::sealed::digest(&key, &again.body()), sealed.digest);
            // A start reads it, and its check replays the log to the very same state.
            let restarted = Ledger::start(store, genesis, signer, LedgerConfig::default()).unwrap();
            prop_assert_eq!(restarted.with_project(&project, |p, _| p.clone()).unwrap().unwrap(), incremental);
            let covered = ledger.len();
            prop_assert_eq!(checked(&restarted), StartCheck::Passed { covered, seconds: 0 });
        }
    }
}
