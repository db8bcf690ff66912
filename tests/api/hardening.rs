//! The threats of `docs/security.md`, each tried against the real server: a forged or replayed
//! signature, the ledger's own key used past the genesis, probing the log without a valid
//! signature, keys other verifiers reject.

use crate::helpers::*;
use base64::Engine as _;
use lineage_ledger::cli::client::Answer;
use lineage_ledger::crypto::checkpoint::{Checkpoint, NoteVerifier};
use lineage_ledger::crypto::keys::KeyFile;
use lineage_ledger::crypto::merkle::Frontier;
use lineage_ledger::log::export::{verify, EntryRecord, VerifyError};
use lineage_ledger::log::Entry;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An envelope whose signature is 64 bytes of garbage under `key_id`.
fn forged(payload: &Value, key_id: &str) -> Vec<u8> {
    let bytes = serde_json::to_vec(payload).unwrap();
    serde_json::to_vec(&json!({
        "payloadType": "application/vnd.lineage.event+json",
        "payload": B64.encode(&bytes),
        "signatures": [{"keyid": key_id, "sig": B64.encode([7u8; 64])}],
    }))
    .unwrap()
}

fn problem(answer: &lineage_ledger::cli::client::Answer) -> String {
    answer.body["type"].as_str().unwrap_or_default().trim_start_matches("urn:lineage:problem:").to_owned()
}

#[test]
fn a_batch_of_forged_signatures_is_refused_at_the_first_one() {
    let p = Production::new();
    let head = p.app.head();
    // A thousand well-formed events under the bootstrap admin's key id, every signature wrong.
    let forgeries: Vec<Vec<u8>> = (0..1000)
        .map(|i| forged(&p.producer.payload(&p.project, "note_added", json!({"text": format!("n{i}")})), "admin-1"))
        .collect();
    let answer = p.app.batch(&forgeries);
    assert_eq!((answer.status, problem(&answer).as_str()), (403, "bad-signature"), "{:?}", answer.body);
    assert_eq!(answer.body["index"], 0);
    // Honest events first, then a forged one: refused at the forged one.
    let mut mixed: Vec<Vec<u8>> =
        (0..700).map(|i| p.envelope(&p.producer, "note_added", json!({"text": format!("honest {i}")}))).collect();
    mixed.push(forged(&p.producer.payload(&p.project, "note_added", json!({"text": "x"})), &p.producer.key.key_id));
    mixed.extend(forgeries[..10].iter().cloned());
    let answer = p.app.batch(&mixed);
    assert_eq!(
        (answer.status, problem(&answer).as_str(), answer.body["index"].as_u64()),
        (403, "bad-signature", Some(700))
    );
    // Envelopes already in the log, replayed as they are, with a forged one last: refused at the
    // forged one (the stored ones cost a lookup, not a check: `lineage bench --attack-clients`);
    // replayed alone they are answered with their entries.
    assert_eq!(p.app.head(), head, "nothing was written");
    let stored: Vec<Vec<u8>> =
        (0..20).map(|i| p.envelope(&p.producer, "note_added", json!({"text": format!("stored {i}")}))).collect();
    let first = p.app.batch(&stored);
    assert_eq!(first.status, 201, "{:?}", first.body);
    let mut replayed = stored.clone();
    replayed.push(forgeries[0].clone());
    let answer = p.app.batch(&replayed);
    assert_eq!(
        (answer.status, problem(&answer).as_str(), answer.body["index"].as_u64()),
        (403, "bad-signature", Some(20))
    );
    let again = p.app.batch(&stored);
    assert_eq!(again.status, 200, "a retry: {:?}", again.body);
    assert_eq!(again.body["entries"], first.body["entries"]);
    let head = p.app.head();
    // A key nobody registered, in a request that registers no key: refused at it.
    let stranger = p.app.signer(KeyFile::generate("stranger", "stranger-1"));
    let mut unknown: Vec<Vec<u8>> = mixed[..3].to_vec();
    unknown.push(stranger.envelope(&p.project, "note_added", json!({"text": "who"})));
    let answer = p.app.batch(&unknown);
    assert_eq!(
        (answer.status, problem(&answer).as_str(), answer.body["index"].as_u64()),
        (403, "unknown-key", Some(3))
    );
    assert_eq!(p.app.head(), head, "nothing was written");
}

#[test]
fn a_key_registered_earlier_in_the_same_batch_signs_later_events_of_it() {
    let p = Production::new();
    let newcomer = KeyFile::generate("newcomer", "newcomer-1");
    let registration = p.app.admin.envelope(
        "system",
        "actor_registered",
        json!({"actor_id": "newcomer", "display_name": "N", "role": "producer", "organization": AGENCY,
               "keys": [{"key_id": newcomer.key_id, "public_key": newcomer.public_key_base64()}]}),
    );
    let newcomer = p.app.signer(newcomer);
    let member = p.producer.envelope(&p.project, "member_added", json!({"actor_id": "newcomer", "role": "producer"}));
    let note = newcomer.envelope(&p.project, "note_added", json!({"text": "hello"}));
    let answer = p.app.batch(&[registration, member, note]);
    assert_eq!(answer.status, 201, "{:?}", answer.body);
}

#[test]
fn a_retried_payload_with_a_wrong_signature_learns_nothing_from_the_log() {
    let p = Production::new();
    let payload = p.producer.payload(&p.project, "note_added", json!({"text": "stored"}));
    let stored = p.app.send(&p.producer.sign(&payload));
    assert_eq!(stored.status, 201);
    let head = p.app.head();
    // The same payload, its signature zeroed: not the stored entry, not its proof.
    let zeroed = forged(&payload, &p.producer.key.key_id);
    for path in ["/v1/events", "/v1/events?proof=true"] {
        let answer = p.app.anon.post(path, &zeroed).unwrap();
        assert_eq!((answer.status, problem(&answer).as_str()), (403, "bad-signature"), "{path}: {:?}", answer.body);
        assert!(answer.body.get("sequence").is_none() && answer.body.get("inclusion").is_none());
    }
    // Probing event ids: an id in the log and one that is not get the same answer.
    let mut absent = payload.clone();
    absent["event_id"] = json!("never-appended");
    let (a, b) = (p.app.send(&zeroed), p.app.send(&forged(&absent, &p.producer.key.key_id)));
    assert_eq!((a.status, &a.body["type"], &a.body["detail"]), (b.status, &b.body["type"], &b.body["detail"]));
    // A signer refused after its signature verified is not told whose key it used.
    let director_signing_as_producer =
        p.director.sign(&p.producer.payload(&p.project, "note_added", json!({"text": "x"})));
    let answer = p.app.send(&director_signing_as_producer);
    assert_eq!(problem(&answer), "key-not-actors");
    let owner = format!("actor `{}`", p.director.key.actor);
    assert!(!answer.body["detail"].as_str().unwrap().contains(&owner), "{:?}", answer.body);
    assert_eq!(p.app.head(), head, "nothing was written");
}

/// The ledger's own key, from the data directory.
fn ledger_key(app: &TestApp) -> KeyFile {
    KeyFile::load(&app.data().ledger_key()).unwrap()
}

#[test]
fn the_ledger_key_signs_the_genesis_entry_and_nothing_else() {
    let p = Production::new();
    let key = ledger_key(&p.app);
    let ledger = p.app.signer(KeyFile::from_seed("ledger", "ledger", key.key.to_bytes()));
    let rogue = KeyFile::generate("rogue", "rogue-1");
    let head = p.app.head();
    let attempts = [
        ledger.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": "rogue", "display_name": "R", "role": "admin", "organization": AGENCY,
                   "keys": [{"key_id": rogue.key_id, "public_key": rogue.public_key_base64()}]}),
        ),
        ledger.envelope(
            "system",
            "key_added",
            json!({"actor_id": "ledger", "key": {"key_id": "ledger-2", "public_key": rogue.public_key_base64()}}),
        ),
        ledger.envelope(&p.project, "note_added", json!({"text": "the ledger speaks"})),
    ];
    for attempt in &attempts {
        let answer = p.app.send(attempt);
        assert_eq!((answer.status, problem(&answer).as_str()), (403, "ledger-key-reserved"), "{:?}", answer.body);
        assert_eq!(answer.body["field"], "signatures[0].keyid");
    }
    assert_eq!(p.app.head(), head, "nothing was written");
    // Nor does the ledger's public key get a second registration, under a new key id or as
    // another actor's key: it would sign as them.
    let ledger_public = key.public_key_base64();
    for (what, field, attempt) in [
        ("as a new key of an admin", "payload.body.key", p.app.admin.envelope("system", "key_added", json!({"actor_id": "admin", "key": {"key_id": "admin-from-ledger", "public_key": ledger_public}}))),
        ("as a new actor's key", "payload.body.keys", p.app.admin.envelope("system", "actor_registered", json!({"actor_id": "shadow", "display_name": "S", "role": "admin", "organization": AGENCY, "keys": [{"key_id": "shadow-1", "public_key": ledger_public}]}))),
        ("as another actor's key again", "payload.body.keys", p.app.admin.envelope("system", "actor_registered", json!({"actor_id": "twin", "display_name": "T", "role": "producer", "organization": AGENCY, "keys": [{"key_id": "twin-1", "public_key": p.producer.key.public_key_base64()}]}))),
    ] {
        let answer = p.app.send(&attempt);
        assert_eq!((answer.status, problem(&answer).as_str()), (422, "invalid-event"), "{what}: {:?}", answer.body);
        assert_eq!(answer.body["field"], field, "{what}");
        assert!(answer.body["detail"].as_str().unwrap().contains("registered already"), "{what}");
    }
    assert_eq!(p.app.head(), head, "nothing was written");

    // Offline: an export in which the ledger key signed a later entry, its chain, tree and
    // checkpoint all made right by whoever holds that key, is refused at that entry.
    let lines: Vec<String> = p.app.get("/v1/export").text.lines().map(str::to_owned).collect();
    let vkey = p.app.anon.get("/v1/vkey").unwrap().text.trim().to_owned();
    let mut entries: Vec<Entry> = lines[1..lines.len() - 1]
        .iter()
        .filter(|l| l.starts_with("{\"sequence\":"))
        .map(|l| serde_json::from_str::<EntryRecord>(l).unwrap().to_entry().unwrap())
        .collect();
    let system_head = entries.iter().rev().find(|e| e.project == "system").unwrap().clone();
    let forged = Entry::new(
        entries.len() as u64,
        "system".into(),
        system_head.version + 1,
        system_head.received_at_us + 1,
        attempts[0].clone(),
        system_head.hash,
    );
    entries.push(forged);
    let mut frontier = Frontier::default();
    for e in &entries {
        frontier.push(e.leaf_hash());
    }
    let verifier = NoteVerifier::parse(&vkey).unwrap();
    let checkpoint = Checkpoint { origin: verifier.name.clone(), size: frontier.size(), root: frontier.root() };
    let mut header: Value = serde_json::from_str(&lines[0]).unwrap();
    header["size"] = json!(frontier.size());
    // The export's lines as they were (entries and subjects' blinds), then the forged entry.
    let mut file = vec![header.to_string()];
    file.extend(lines[1..lines.len() - 1].iter().cloned());
    file.push(serde_json::to_string(&EntryRecord::of(entries.last().unwrap())).unwrap());
    file.push(json!({"checkpoint": checkpoint.sign(&checkpoint.origin, &key.key)}).to_string());
    let text = file.join("\n") + "\n";
    match verify(std::io::Cursor::new(text.clone()), Some(&vkey), false) {
        Err(VerifyError::Entry(broken)) => {
            assert_eq!(broken.sequence, entries.len() as u64 - 1);
            assert!(broken.reason.contains("the ledger's own"), "{}", broken.reason);
        }
        other => panic!("the forged export verified: {other:?}"),
    }
    // The command line and an import refuse it too.
    let path = p.app.dir.path().join("forged.jsonl");
    std::fs::write(&path, text).unwrap();
    let bin = env!("CARGO_BIN_EXE_lineage");
    let verified =
        std::process::Command::new(bin).args(["verify", path.to_str().unwrap(), "--vkey", &vkey]).output().unwrap();
    assert!(!verified.status.success(), "lineage verify refuses it");
    let target = p.app.dir.path().join("restored");
    let ledger_key_path = p.app.data().ledger_key();
    let imported = std::process::Command::new(bin)
        .args(["import", path.to_str().unwrap(), "--data", target.to_str().unwrap(), "--ledger-key"])
        .arg(&ledger_key_path)
        .output()
        .unwrap();
    assert!(!imported.status.success(), "lineage import refuses it");
}

/// Sends a request head declaring `length` bytes and `sent` of them, and keeps the connection.
fn trickle(app: &TestApp, path: &str, length: usize, sent: usize) -> std::net::TcpStream {
    use std::io::Write as _;
    let address = app.url.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&vec![b' '; sent]).unwrap();
    stream
}

/// The status and problem type of the answer on a raw connection.
fn raw_answer(stream: &mut std::net::TcpStream) -> (u16, String, Option<String>) {
    use std::io::Read as _;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        text.extend_from_slice(&buf[..n]);
        if let Some(end) = text.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&text[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            if text.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                let body: Value = serde_json::from_slice(&text[end + 4..end + 4 + length]).unwrap_or(Value::Null);
                let retry = head.lines().find_map(|l| l.strip_prefix("retry-after: ").map(str::to_owned));
                return (status, body["type"].as_str().unwrap_or_default().to_owned(), retry);
            }
        }
    }
    panic!("no answer: {}", String::from_utf8_lossy(&text));
}

#[test]
fn a_body_that_trickles_in_is_cut_off_at_the_deadline() {
    let app = spawn_app_with(|s| s.limits.body_timeout = std::time::Duration::from_secs(1));
    let head = app.head();
    let mut slow = trickle(&app, "/v1/events", 2000, 10);
    let (status, kind, _) = raw_answer(&mut slow);
    assert_eq!((status, kind.as_str()), (408, "urn:lineage:problem:body-timeout"));
    assert_eq!(app.head(), head);
}

#[test]
fn bodies_held_at_once_are_bounded_across_requests() {
    let app = spawn_app_with(|s| s.limits.buffered_body_bytes = 1 << 20);
    let producer = app.register("budget-prod", "producer");
    // Two slow batches of 400 KB hold 800 KB of the 1 MiB; a third is over the budget.
    let mut holders: Vec<_> = (0..2).map(|_| trickle(&app, "/v1/batches", 400_000, 300_000)).collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for holder in &mut holders {
        holder.set_read_timeout(Some(std::time::Duration::from_millis(200))).unwrap();
        let mut byte = [0u8; 1];
        let waiting = std::io::Read::read(holder, &mut byte);
        assert!(waiting.is_err(), "a holder within the budget is still being read, not answered");
    }
    let mut third = trickle(&app, "/v1/batches", 400_000, 300_000);
    let (status, kind, retry) = raw_answer(&mut third);
    assert_eq!((status, kind.as_str()), (503, "urn:lineage:problem:unavailable"));
    assert_eq!(retry.as_deref(), Some("1"));
    // Once they are gone the budget is free again.
    drop(holders);
    let mut accepted = false;
    for _ in 0..50 {
        let answer = app.send(&producer.envelope(
            "acme-client:budget",
            "project_created",
            json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
        ));
        if answer.status == 201 {
            accepted = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(accepted, "appends go through once the slow bodies are gone");
}

#[test]
fn keys_other_verifiers_reject_are_refused_at_registration() {
    use curve25519_dalek::constants::EIGHT_TORSION;
    let p = Production::new();
    let head = p.app.head();
    let honest = KeyFile::generate("torsion", "torsion-1");
    // The honest key plus a point of order 8: the ledger's cofactored rule would accept all its
    // signatures, OpenSSL and libsodium about one in eight (docs/signing.md).
    let torsioned = (honest.key.verifying_key().to_edwards() + EIGHT_TORSION[1]).compress().to_bytes();
    // y = 3 + p: a point of the curve, written with y above p.
    let mut noncanonical = [0u8; 32];
    noncanonical[0] = 0xf0;
    noncanonical[1..31].fill(0xff);
    noncanonical[31] = 0x7f;
    let small_order = EIGHT_TORSION[3].compress().to_bytes();
    let register = |key: &[u8; 32]| {
        p.app.admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": "torsion", "display_name": "T", "role": "producer", "organization": AGENCY,
                   "keys": [{"key_id": "torsion-1", "public_key": B64.encode(key)}]}),
        )
    };
    let add = |key: &[u8; 32]| {
        p.app.admin.envelope(
            "system",
            "key_added",
            json!({"actor_id": p.producer.key.actor, "key": {"key_id": "torsion-2", "public_key": B64.encode(key)}}),
        )
    };
    let cases: [(&str, Vec<u8>, &str, &str); 5] = [
        ("a small-order component", register(&torsioned), "payload.body.keys[0].public_key", "small-order component"),
        ("a small-order component, added", add(&torsioned), "payload.body.key.public_key", "small-order component"),
        ("y written above p", register(&noncanonical), "payload.body.keys[0].public_key", "canonical"),
        ("y written above p, added", add(&noncanonical), "payload.body.key.public_key", "canonical"),
        ("a key of small order", register(&small_order), "payload.body.keys[0].public_key", "is of small order"),
    ];
    for (case, envelope, field, says) in cases {
        let answer = p.app.send(&envelope);
        assert_eq!((answer.status, problem(&answer).as_str()), (422, "invalid-payload"), "{case}: {:?}", answer.body);
        assert_eq!(answer.body["field"], field, "{case}");
        assert!(answer.body["detail"].as_str().unwrap().contains(says), "{case}: {:?}", answer.body["detail"]);
    }
    assert_eq!(p.app.head(), head, "nothing was written");
    // The honest key itself is welcome.
    assert_eq!(p.app.send(&register(&honest.key.verifying_key().to_bytes())).status, 201);
}

/// An unverified refusal, and a batch that writes nothing (a retry, or stored envelopes
/// replayed), are answered only after `--unverified-refusal-delay-ms`; what they say is as
/// without it.
#[test]
fn refusals_to_unverified_callers_and_batches_that_write_nothing_wait() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server_with(dir.path(), &["--unverified-refusal-delay-ms", "1500"], &[]);
    let app = attach(dir, port);
    let producer = app.register("wait-prod", "producer");
    let created = app.send(&producer.envelope(
        "acme-client:wait",
        "project_created",
        json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
    ));
    assert_eq!(created.status, 201);
    let stored: Vec<Vec<u8>> =
        (0..5).map(|i| producer.envelope("acme-client:wait", "note_added", json!({"text": format!("n{i}")}))).collect();
    assert_eq!(app.batch(&stored).status, 201);
    let timed = |f: &dyn Fn() -> Answer| {
        let started = std::time::Instant::now();
        let answer = f();
        (answer, started.elapsed())
    };
    let (again, waited) = timed(&|| app.batch(&stored));
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert!(waited >= std::time::Duration::from_millis(1500), "a batch that writes nothing waits ({waited:?})");
    let forged =
        forged(&producer.payload("acme-client:wait", "note_added", json!({"text": "x"})), &producer.key.key_id);
    let (refused, waited) = timed(&|| app.send(&forged));
    assert_eq!((refused.status, problem(&refused).as_str()), (403, "bad-signature"));
    assert!(waited >= std::time::Duration::from_millis(1500), "an unverified refusal waits ({waited:?})");
    server.kill();
}
