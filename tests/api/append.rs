use crate::helpers::*;
use lineage_ledger::domain::Kind;
use lineage_ledger::log::Entry;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

#[derive(serde::Deserialize)]
struct RawView {
    envelope: Box<serde_json::value::RawValue>,
}

#[derive(serde::Deserialize)]
struct RawPage {
    entries: Vec<RawView>,
}

/// Recomputes an entry's hash from what the API shows, per the documented leaf layout;
/// `envelope` is the envelope's exact bytes as the API returned them.
pub fn recomputed_hash(view: &Value, envelope: &[u8]) -> String {
    let received = chrono::DateTime::parse_from_rfc3339(view["received_at"].as_str().unwrap()).unwrap();
    let prev: [u8; 32] = hex::decode(view["prev_hash"].as_str().unwrap()).unwrap().try_into().unwrap();
    let entry = Entry::new(
        view["sequence"].as_u64().unwrap(),
        view["project"].as_str().unwrap().to_owned(),
        view["version"].as_u64().unwrap(),
        received.timestamp_micros(),
        envelope.to_vec(),
        prev,
    );
    hex::encode(entry.hash)
}

/// Checks every project's chain in a list of entries (in ledger order): versions 1, 2, 3…, each
/// entry's prev_hash is the previous hash, each hash matches the entry's bytes.
pub fn assert_chains(entries: &[(Value, Vec<u8>)]) {
    let mut heads: HashMap<String, (u64, String)> = HashMap::new();
    for (i, (e, envelope)) in entries.iter().enumerate() {
        assert_eq!(e["sequence"].as_u64().unwrap(), i as u64, "sequences are dense");
        let project = e["project"].as_str().unwrap().to_owned();
        let (version, head) = heads.get(&project).cloned().unwrap_or((0, "00".repeat(32)));
        assert_eq!(e["version"].as_u64().unwrap(), version + 1, "entry {i}: version");
        assert_eq!(e["prev_hash"].as_str().unwrap(), head, "entry {i}: prev_hash");
        let hash = e["hash"].as_str().unwrap().to_owned();
        assert_eq!(recomputed_hash(e, envelope), hash, "entry {i}: hash");
        heads.insert(project, (version + 1, hash));
    }
}

/// Every entry, with its envelope's exact bytes.
pub fn all_entries(app: &TestApp) -> Vec<(Value, Vec<u8>)> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = app.get(&format!("/v1/entries?limit=1000{after}"));
        assert_eq!(page.status, 200, "{:?}", page.body);
        let raw: RawPage = serde_json::from_str(&page.text).unwrap();
        let views = page.body["entries"].as_array().unwrap().iter().cloned();
        out.extend(views.zip(raw.entries.into_iter().map(|r| r.envelope.get().as_bytes().to_vec())));
        match page.body["next"].as_u64() {
            Some(next) => after = format!("&after={next}"),
            None => return out,
        }
    }
}

#[test]
fn first_start_writes_private_keys_and_the_genesis_entry() {
    let app = spawn_app();
    let data = app.data();
    for path in [data.ledger_key(), data.admin_key(), data.admin_token()] {
        assert_eq!(mode_of(&path), 0o600, "{}", path.display());
    }
    let genesis = app.get("/v1/entries/0");
    assert_eq!(genesis.status, 200);
    assert_eq!(genesis.body["kind"], "actor_registered");
    assert_eq!(genesis.body["actor"], "ledger");
    assert_eq!(genesis.body["payload"]["body"]["actor_id"], "admin");
    let actors = app.get("/v1/actors");
    let names: Vec<&str> =
        actors.body["actors"].as_array().unwrap().iter().map(|a| a["actor_id"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "ledger"]);
}

#[test]
fn the_demo_records_every_kind_and_reads_back_whole() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    let summary = lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
    let stream = app.stream("aurora-outdoor:aurora");
    assert_eq!(stream.len(), summary.project_events);
    assert!(summary.project_events >= 55, "{}", summary.project_events);
    let entries = all_entries(&app);
    assert_eq!(entries.len(), 1 + summary.system_events + summary.project_events);
    let kinds: BTreeSet<String> = entries.iter().map(|(e, _)| e["kind"].as_str().unwrap().to_owned()).collect();
    // `project_adopted` is for legacy projects, which only logs written before organisations hold.
    let all: BTreeSet<String> =
        Kind::ALL.iter().filter(|k| **k != Kind::ProjectAdopted).map(|k| k.as_str().to_owned()).collect();
    assert_eq!(kinds, all, "every kind of the catalogue is accepted");
    assert_chains(&entries);
    let generations = stream.iter().filter(|e| e["kind"] == "generation_recorded").count();
    assert_eq!(generations, 22);
}

#[test]
fn a_retry_returns_the_original_entry_and_other_bytes_conflict() {
    let p = Production::new();
    let payload = p.producer.payload(&p.project, "note_added", json!({"text": "first"}));
    let envelope = p.producer.sign(&payload);
    let first = p.app.send(&envelope);
    assert_eq!(first.status, 201);
    let head = p.app.head();
    let again = p.app.send(&envelope);
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["sequence"], first.body["sequence"]);
    assert_eq!(again.body["hash"], first.body["hash"]);
    assert_eq!(p.app.head(), head);

    let mut other = payload.clone();
    other["body"]["text"] = json!("second");
    let conflict = p.app.send(&p.producer.sign(&other));
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.body["type"], "urn:lineage:problem:event-id-conflict");
    assert!(!conflict.body["detail"].as_str().unwrap().contains("entry"), "names no entry: {:?}", conflict.body);
    assert_eq!(p.app.head(), head);
    // Twice in one refused batch: no entry is named, none was written.
    let (mut a, mut b) = (payload.clone(), payload.clone());
    for (v, text) in [(&mut a, "a"), (&mut b, "b")] {
        v["event_id"] = json!("twice-in-a-batch");
        v["body"]["text"] = json!(text);
    }
    let twice = p.app.batch(&[p.producer.sign(&a), p.producer.sign(&b)]);
    assert_eq!(twice.status, 409, "{:?}", twice.body);
    assert_eq!(twice.body["index"], 1);
    assert!(!twice.body["detail"].as_str().unwrap().contains("entry"), "{:?}", twice.body);
    assert_eq!(p.app.head(), head);
}

#[test]
fn a_batch_is_atomic() {
    let p = Production::new();
    let head = p.app.head();
    let before = p.app.stream(&p.project).len() as u64;
    let good = |n: u32| p.envelope(&p.producer, "note_added", json!({"text": format!("note {n}")}));
    let bad = p.envelope(
        &p.director,
        "selection_made",
        json!({"selection_id": "s", "round": 1, "selected": ["nope"], "rationale": "r"}),
    );
    let refused = p.app.batch(&[good(1), good(2), bad, good(3)]);
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["type"], "urn:lineage:problem:unknown-reference");
    assert_eq!(refused.body["index"], 2);
    assert_eq!(refused.body["field"], "payload.body.selected[0]");
    assert_eq!(p.app.head(), head, "nothing of the batch was written");

    let accepted = p.app.batch(&[good(4), good(5), good(6)]);
    assert_eq!(accepted.status, 201, "{:?}", accepted.body);
    let versions: Vec<u64> =
        accepted.body["entries"].as_array().unwrap().iter().map(|e| e["version"].as_u64().unwrap()).collect();
    assert_eq!(versions, [before + 1, before + 2, before + 3]);
    assert_eq!(p.app.head(), head + 3);
}

#[test]
fn events_in_one_batch_may_reference_each_other() {
    let app = spawn_app();
    app.organization(AGENCY, "agency");
    app.organization(CLIENT, "client");
    let key = lineage_ledger::crypto::keys::KeyFile::generate("newbie", "newbie-k1");
    let newbie = app.signer(key.clone());
    // The actor is registered and signs in the same batch.
    let batch = [
        app.admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": "newbie", "display_name": "N", "role": "producer", "organization": AGENCY,
            "keys": [{"key_id": key.key_id, "public_key": key.public_key_base64()}]}),
        ),
        newbie.envelope(
            "acme-client:fresh",
            "project_created",
            json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
        ),
        newbie.envelope("acme-client:fresh", "brief_recorded", json!({"brief_id": "b", "title": "t", "text": "x"})),
        newbie.envelope("acme-client:fresh", "brief_revised", json!({"brief_id": "b", "text": "y", "reason": "z"})),
    ];
    let answer = app.batch(&batch);
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(app.stream("acme-client:fresh").len(), 3);
}

#[test]
fn a_batch_may_retract_an_event_it_records_once() {
    let p = Production::new();
    let note = p.producer.payload(&p.project, "note_added", json!({"text": "oops"}));
    let retract = |reason: &str| {
        p.envelope(&p.producer, "event_retracted", json!({"event_id": note["event_id"], "reason": reason}))
    };
    let head = p.app.head();
    let twice = p.app.batch(&[p.producer.sign(&note), retract("typo"), retract("again")]);
    assert_eq!(twice.status, 422, "{:?}", twice.body);
    assert_eq!(twice.body["type"], "urn:lineage:problem:already-retracted");
    assert_eq!(twice.body["index"], 2);
    assert_eq!(p.app.head(), head, "nothing of the batch was written");
    let once = p.app.batch(&[p.producer.sign(&note), retract("typo")]);
    assert_eq!(once.status, 201, "{:?}", once.body);
    assert_eq!(p.app.head(), head + 2);
}

#[test]
fn a_revoked_key_is_refused_from_the_revocation_on() {
    let p = Production::new();
    let note = |s: &str| p.envelope(&p.producer, "note_added", json!({"text": s}));
    assert_eq!(p.app.send(&note("before")).status, 201);
    let actor = p.producer.key.actor.clone();
    let revoke = p.app.send(&p.app.admin.envelope(
        "system",
        "key_revoked",
        json!({"actor_id": actor, "key_id": p.producer.key.key_id, "reason": "laptop lost"}),
    ));
    assert_eq!(revoke.status, 201, "{:?}", revoke.body);
    let head = p.app.head();
    let refused = p.app.send(&note("after"));
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(refused.body["type"], "urn:lineage:problem:revoked-key");
    assert_eq!(p.app.head(), head);

    let key = lineage_ledger::crypto::keys::KeyFile::generate(&actor, &format!("{actor}-k2"));
    let added = p.app.send(&p.app.admin.envelope(
        "system",
        "key_added",
        json!({"actor_id": actor, "key": {"key_id": key.key_id, "public_key": key.public_key_base64()}}),
    ));
    assert_eq!(added.status, 201, "{:?}", added.body);
    let rotated = p.app.signer(key);
    assert_eq!(p.send(&rotated, "note_added", json!({"text": "with the new key"})).status, 201);
    let actor_view = p.app.get(&format!("/v1/actors/{actor}"));
    let revoked: Vec<bool> =
        actor_view.body["keys"].as_array().unwrap().iter().map(|k| k["revoked"].as_bool().unwrap()).collect();
    assert_eq!(revoked, [true, false], "k1 revoked, k2 active");
}

#[test]
fn expected_version_guards_the_stream() {
    let p = Production::new();
    let version = p.app.stream(&p.project).len() as u64;
    let mut payload = p.producer.payload(&p.project, "note_added", json!({"text": "guarded"}));
    payload["expected_version"] = json!(version);
    let ok = p.app.send(&p.producer.sign(&payload));
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    assert_eq!(ok.body["version"], version + 1);
    let mut stale = p.producer.payload(&p.project, "note_added", json!({"text": "stale"}));
    stale["expected_version"] = json!(version);
    let head = p.app.head();
    let conflict = p.app.send(&p.producer.sign(&stale));
    assert_eq!(conflict.status, 409);
    assert_eq!(conflict.body["type"], "urn:lineage:problem:version-conflict");
    assert_eq!(conflict.body["expected"], version);
    assert_eq!(conflict.body["actual"], version + 1);
    assert_eq!(p.app.head(), head);
}

#[test]
fn concurrent_appends_keep_every_chain_whole() {
    let app = spawn_app();
    let producers: Vec<_> = (0..4).map(|i| app.register(&format!("prod-{i}"), "producer")).collect();
    for (i, p) in producers.iter().enumerate() {
        let answer = app.send(&p.envelope(
            &format!("acme-client:proj-{i}"),
            "project_created",
            json!({"content_type": "ecomm", "title": "T", "client_organization": CLIENT}),
        ));
        assert_eq!(answer.status, 201);
        // Every producer works on every project.
        for (j, other) in producers.iter().enumerate().filter(|(j, _)| *j != i) {
            let body = json!({"actor_id": other.key.actor, "role": "producer"});
            let added = app.send(&p.envelope(&format!("acme-client:proj-{i}"), "member_added", body));
            assert_eq!(added.status, 201, "adding prod-{j}: {:?}", added.body);
        }
    }
    std::thread::scope(|s| {
        for (i, p) in producers.iter().enumerate() {
            for t in 0..4 {
                let app = &app;
                s.spawn(move || {
                    for n in 0..25 {
                        let project = format!("acme-client:proj-{}", (i + t) % 4);
                        let answer = app.send(&p.envelope(&project, "note_added", json!({"text": format!("{t}-{n}")})));
                        assert_eq!(answer.status, 201, "{:?}", answer.body);
                    }
                });
            }
        }
    });
    let entries = all_entries(&app);
    // Genesis, two organisations, four producers, four projects of three members added each.
    assert_eq!(entries.len(), 1 + 2 + 4 + 4 * (1 + 3) + 16 * 25);
    assert_chains(&entries);
}
