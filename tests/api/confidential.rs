//! Confidential fields (docs/confidential.md): a prompt recorded by its salted commitment keeps
//! its clear text apart from the log; only what hashes to the commitment is kept; tokens granted
//! confidential texts read it and bundles disclose it, checked against the commitment; a
//! `confidential_erased` event destroys it for good, found nowhere under the data directory,
//! while every signature, proof and bundle still verifies.

use crate::helpers::*;
use lineage_ledger::domain::confidential::commitment_of;
use lineage_ledger::log::evidence::{verify, Bundle};
use serde_json::{json, Value};

const PROMPT: &str = "Jane Doe running at dawn, backlit, Aurora trainers";
const NEGATIVE: &str = "no rival logos, no Jane Doe close-ups";

/// Every file under `dir` whose bytes hold `needle`.
fn files_holding(dir: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_owned()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if std::fs::read(&path).unwrap().windows(needle.len()).any(|w| w == needle.as_bytes()) {
                found.push(path);
            }
        }
    }
    found
}

/// A prompt of committed texts and the generation made from it; the prompt's sequence.
fn committed_prompt(p: &Production) -> u64 {
    let prompt = json!({"prompt_id": "pr-secret", "text": {"commitment": commitment_of(&p.project, &[3; 32], PROMPT)},
                        "negative_prompt": {"commitment": commitment_of(&p.project, &[4; 32], NEGATIVE)}, "brief_id": "brief-1"});
    let answer = p.send(&p.artist, "prompt_authored", prompt);
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let generation = json!({"generation_id": "gen-secret", "model_version": "mv-1", "prompt": "pr-secret",
                            "outputs": [{"asset_id": "img-secret", "digest": digest("img-secret"), "media_type": "image/png"}]});
    assert_eq!(p.send(&p.integration, "generation_recorded", generation).status, 201);
    answer.body["sequence"].as_u64().unwrap()
}

fn kept(sequence: u64, field: &str, salt: u8, text: &str) -> Vec<u8> {
    json!({"sequence": sequence, "field": field, "salt": hex::encode([salt; 32]), "text": text})
        .to_string()
        .into_bytes()
}

#[test]
fn only_a_clear_text_that_hashes_to_its_commitment_is_kept_and_only_granted_tokens_read_it() {
    let p = Production::new();
    let sequence = committed_prompt(&p);
    let data = p.app.dir.path().join("data");
    assert!(files_holding(&data, PROMPT).is_empty(), "the log holds no clear text");
    let path = format!("/v1/projects/{}/confidential", p.project);
    // The ways around: another text, another salt, a field holding no commitment, another
    // entry, an entry of another project, a malformed salt.
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("another text", kept(sequence, "/body/text", 3, "Jane Roe"), 422, "invalid-confidential-text", "text"),
        ("another salt", kept(sequence, "/body/text", 5, PROMPT), 422, "invalid-confidential-text", "text"),
        ("a clear field", kept(sequence, "/body/prompt_id", 3, PROMPT), 422, "invalid-confidential-text", "field"),
        ("no such field", kept(sequence, "/body/talent/0", 3, PROMPT), 422, "invalid-confidential-text", "field"),
        ("another entry", kept(sequence + 1, "/body/text", 3, PROMPT), 422, "invalid-confidential-text", "field"),
        ("an entry of another project", kept(0, "/body/text", 3, PROMPT), 404, "not-found", ""),
        (
            "a short salt",
            json!({"sequence": sequence, "field": "/body/text", "salt": "abcd", "text": PROMPT})
                .to_string()
                .into_bytes(),
            422,
            "invalid-confidential-text",
            "salt",
        ),
    ];
    for (what, body, status, problem, field) in cases {
        let answer = p.app.client.put(&path, &body).unwrap();
        assert_eq!(answer.status, status, "{what}: {:?}", answer.body);
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{what}");
        if !field.is_empty() {
            assert_eq!(answer.body["field"], field, "{what}");
        }
        assert!(files_holding(&data, "Jane").is_empty(), "{what}: nothing was kept");
    }
    let answer = p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).unwrap();
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).unwrap().status, 200, "kept already");
    let commitment = commitment_of(&p.project, &[3; 32], PROMPT);
    let read = format!("/v1/projects/{}/confidential/{commitment}", p.project);
    p.create(&pid("other"), "social");
    let plain = p.app.reader(json!({"name": "plain", "organization": CLIENT}));
    let granted = p.app.reader(json!({"name": "granted", "organization": CLIENT, "confidential": true}));
    let rival = p.app.reader(json!({"name": "rival", "projects": [pid("other")], "confidential": true}));
    assert_eq!(plain.get(&read).unwrap().status, 403);
    assert_eq!(rival.get(&read).unwrap().status, 403);
    let answer = granted.get(&read).unwrap();
    assert_eq!((answer.status, answer.body["text"].as_str()), (200, Some(PROMPT)), "{:?}", answer.body);
    // A bundle discloses only to a granted token, and the auditor checks each text.
    let evidence = format!("/v1/projects/{}/assets/img-secret/evidence?disclose=true", p.project);
    assert_eq!(plain.get(&evidence).unwrap().status, 403);
    let answer = granted.get(&evidence).unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let bundle: Bundle = serde_json::from_str(&answer.text).unwrap();
    let vkey = p.app.get("/v1/vkey").text.trim().to_owned();
    let proven = verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    assert_eq!(proven.disclosed, 1, "the negative prompt's text was never given");
    for (what, change, said) in [
        ("another text", json!({"text": "Jane Roe running"}), "do not hash to it"),
        ("another salt", json!({"salt": hex::encode([9u8; 32])}), "do not hash to it"),
        (
            "a commitment of no entry",
            json!({"commitment": commitment_of(&p.project, &[1; 32], "x"), "salt": hex::encode([1u8; 32]), "text": "x"}),
            "no confidential field of an entry of the bundle holds",
        ),
    ] {
        let mut changed = serde_json::to_value(&bundle).unwrap();
        for (k, v) in change.as_object().unwrap() {
            changed["disclosures"][0][k] = v.clone();
        }
        let changed: Bundle = serde_json::from_value(changed).unwrap();
        let error = verify(&changed, Some(&vkey)).unwrap_err().to_string();
        assert!(error.contains(said), "{what}: {error}");
    }
}

#[test]
fn an_erasure_destroys_the_clear_text_for_good_and_everything_still_verifies() {
    let p = Production::new();
    let sequence = committed_prompt(&p);
    let path = format!("/v1/projects/{}/confidential", p.project);
    assert_eq!(p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).unwrap().status, 201);
    let commitment = commitment_of(&p.project, &[3; 32], PROMPT);
    let prompt_event = p.app.get(&format!("/v1/entries/{sequence}")).body["event_id"].as_str().unwrap().to_owned();
    let erase = json!({"event_id": prompt_event, "commitment": commitment, "reason": "the talent withdrew consent"});
    // A role that may not erase is refused, and nothing is erased.
    let head = p.app.head();
    let refused = p.send(&p.artist, "confidential_erased", erase.clone());
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(refused.body["type"], "urn:lineage:problem:role-not-allowed");
    assert_eq!(p.app.head(), head, "nothing was written");
    let data = p.app.dir.path().join("data");
    assert_eq!(files_holding(&data, PROMPT).len(), 1, "the text is kept still");
    let erased = p.send(&p.producer, "confidential_erased", erase);
    assert_eq!(erased.status, 201, "{:?}", erased.body);
    assert!(files_holding(&data, PROMPT).is_empty(), "the erased text is nowhere under the data directory");
    let read = format!("/v1/projects/{}/confidential/{commitment}", p.project);
    assert_eq!(p.app.get(&read).status, 410);
    let again = p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).unwrap();
    assert_eq!((again.status, again.body["type"].as_str()), (410, Some("urn:lineage:problem:erased")));
    assert!(files_holding(&data, PROMPT).is_empty(), "nor taken again");
    // The log, its proofs and the bundle verify as before; the erasure is in the bundle.
    let answer = p.app.get(&format!("/v1/projects/{}/assets/img-secret/evidence?disclose=true", p.project));
    let bundle: Bundle = serde_json::from_str(&answer.text).unwrap();
    let vkey = p.app.get("/v1/vkey").text.trim().to_owned();
    let proven = verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    assert_eq!(proven.disclosed, 0);
    let kinds: Vec<String> = bundle
        .entries
        .iter()
        .map(|e| lineage_ledger::log::open_entry(&e.to_entry().unwrap()).unwrap().1.kind().as_str().to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k == "confidential_erased"), "the erasure is in the bundle: {kinds:?}");
    let export = p.app.get("/v1/export").text;
    lineage_ledger::log::export::verify(std::io::Cursor::new(export), Some(&vkey), false).expect("the log verifies");
}

#[test]
fn lineage_sign_commits_to_the_fields_it_is_told_and_writes_their_clear_texts_apart() {
    let p = Production::new();
    let dir = p.app.dir.path();
    let payload = p.artist.payload(
        &p.project,
        "prompt_authored",
        json!({"prompt_id": "pr-cli", "text": PROMPT, "negative_prompt": NEGATIVE}),
    );
    std::fs::write(dir.join("payload.json"), payload.to_string()).unwrap();
    let key = dir.join("artist.key");
    p.artist.key.save(&key).unwrap();
    let run = |args: &[&str]| std::process::Command::new(env!("CARGO_BIN_EXE_lineage")).args(args).output().unwrap();
    let signed = run(&[
        "sign",
        "--key",
        key.to_str().unwrap(),
        dir.join("payload.json").to_str().unwrap(),
        "--confidential",
        "/body/text",
        "--confidential",
        "/body/negative_prompt",
        "--disclosures",
        dir.join("texts.json").to_str().unwrap(),
    ]);
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    assert!(!String::from_utf8_lossy(&signed.stdout).contains("Jane"), "the envelope holds commitments only");
    let appended = p.app.send(&signed.stdout);
    assert_eq!(appended.status, 201, "{:?}", appended.body);
    let sequence = appended.body["sequence"].as_u64().unwrap();
    let texts: Vec<Value> = serde_json::from_slice(&std::fs::read(dir.join("texts.json")).unwrap()).unwrap();
    for text in texts {
        let body = json!({"sequence": sequence, "field": text["field"], "salt": text["salt"], "text": text["text"]});
        let answer =
            p.app.client.put(&format!("/v1/projects/{}/confidential", p.project), body.to_string().as_bytes()).unwrap();
        assert_eq!(answer.status, 201, "{:?}", answer.body);
    }
    // A field that is not a text is refused, on stderr, and nothing is printed.
    let refused = run(&[
        "sign",
        "--key",
        key.to_str().unwrap(),
        dir.join("payload.json").to_str().unwrap(),
        "--confidential",
        "/body/parameters",
        "--disclosures",
        dir.join("other.json").to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(refused.stdout.is_empty());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`/body/parameters` is not a text field"));
}

/// The two writes of the confidential texts' routes, each crashed after: a kept text stays kept;
/// an erasure whose event is durable is finished at the next start.
#[test]
fn a_crash_after_keeping_or_after_an_erasures_event_loses_nothing_and_erases_at_the_next_start() {
    for point in ["confidential-kept", "erasure-appended"] {
        let dir = tempfile::tempdir().unwrap();
        let (mut server, port) = start_server_with(dir.path(), &[], &[("LINEAGE_FAILPOINT", &format!("{point}:1"))]);
        let p = Production::on(attach(dir, port), "p1");
        let sequence = committed_prompt(&p);
        let path = format!("/v1/projects/{}/confidential", p.project);
        let commitment = commitment_of(&p.project, &[3; 32], PROMPT);
        if point == "erasure-appended" {
            assert_eq!(p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).unwrap().status, 201);
            let event = p.app.get(&format!("/v1/entries/{sequence}")).body["event_id"].as_str().unwrap().to_owned();
            let erase = json!({"event_id": event, "commitment": commitment, "reason": "consent withdrawn"});
            assert!(p.app.anon.append(&p.envelope(&p.producer, "confidential_erased", erase)).is_err(), "{point}");
        } else {
            assert!(p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).is_err(), "{point}");
        }
        assert!(!server.0.wait().unwrap().success(), "{point}: the server crashed");
        let data = p.app.dir.path().join("data");
        assert_eq!(files_holding(&data, PROMPT).len(), 1, "{point}: the text was kept before the crash");
        let (_restarted, port) = start_server(p.app.dir.path());
        let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
        let client =
            lineage_ledger::cli::client::Client::new(&format!("http://127.0.0.1:{port}")).with_token(token.trim());
        let read = client.get(&format!("/v1/projects/{}/confidential/{commitment}", p.project)).unwrap();
        if point == "erasure-appended" {
            assert_eq!(read.status, 410, "{point}: {:?}", read.body);
            assert!(files_holding(&data, PROMPT).is_empty(), "{point}: erased at the start");
        } else {
            assert_eq!((read.status, read.body["text"].as_str()), (200, Some(PROMPT)), "{point}");
        }
    }
}

/// What an independent review found, kept as tests: a clear text for a field that is not a
/// confidential one, or not a text a payload could hold; an erasure naming an event that does
/// not hold the commitment; a commitment copied into another project; a bundle that
/// discloses an erased text, or one text twice.
#[test]
fn the_ways_around_the_confidential_texts_are_refused() {
    let p = Production::new();
    let sequence = committed_prompt(&p);
    let path = format!("/v1/projects/{}/confidential", p.project);
    // An object of the same shape in free-form parameters is no confidential field.
    let planted = commitment_of(&p.project, &[6; 32], "planted");
    let generation = json!({"generation_id": "gen-planted", "model_version": "mv-1", "prompt": "pr-1",
        "parameters": {"c": {"commitment": planted}},
        "outputs": [{"asset_id": "img-planted", "digest": digest("img-planted"), "media_type": "image/png"}]});
    let planted_at = p.send(&p.integration, "generation_recorded", generation).body["sequence"].as_u64().unwrap();
    let bodies = [
        ("not a confidential field", kept(planted_at, "/body/parameters/c", 6, "planted"), 422, "field"),
        ("a NUL", kept(sequence, "/body/text", 3, "Jane\u{0}Doe"), 422, "text"),
        ("an escape sequence", kept(sequence, "/body/text", 3, "\u{1b}[31mJane"), 422, "text"),
        ("a bidirectional override", kept(sequence, "/body/text", 3, "Jane\u{202e}Doe"), 422, "text"),
        ("longer than a payload's text", kept(sequence, "/body/text", 3, &"J".repeat(20_001)), 422, "text"),
        ("a field missing", json!({"sequence": sequence, "field": "/body/text"}).to_string().into_bytes(), 400, ""),
    ];
    for (what, body, status, field) in bodies {
        let answer = p.app.client.put(&path, &body).unwrap();
        assert_eq!(answer.status, status, "{what}: {:?}", answer.body);
        if !field.is_empty() {
            assert_eq!(answer.body["field"], field, "{what}");
        }
    }
    assert_eq!(p.app.client.put(&path, &kept(sequence, "/body/text", 3, PROMPT)).unwrap().status, 201);
    let commitment = commitment_of(&p.project, &[3; 32], PROMPT);
    // An erasure naming an event that does not hold the commitment: refused, nothing erased.
    let created = p.app.get(&format!("/v1/projects/{}/events?limit=1", p.project)).body["entries"][0]["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let head = p.app.head();
    let wrong = json!({"event_id": created, "commitment": commitment, "reason": "r"});
    let refused = p.send(&p.producer, "confidential_erased", wrong);
    assert_eq!((refused.status, refused.body["field"].as_str()), (422, Some("body.commitment")), "{:?}", refused.body);
    assert_eq!(p.app.head(), head, "nothing was written");
    let data = p.app.dir.path().join("data");
    assert_eq!(files_holding(&data, PROMPT).len(), 1, "nothing was erased");
    // The bundle before the erasure, with its disclosure.
    let evidence = format!("/v1/projects/{}/assets/img-secret/evidence?disclose=true", p.project);
    let before: Bundle = serde_json::from_str(&p.app.get(&evidence).text).unwrap();
    let vkey = p.app.get("/v1/vkey").text.trim().to_owned();
    let mut twice = before.clone();
    twice.disclosures.push(twice.disclosures[0].clone());
    assert!(verify(&twice, Some(&vkey)).unwrap_err().to_string().contains("disclosed twice"));
    // Another project copies the commitment: it is bound to this project, so no text meets it
    // there, and an erasure there touches nothing of this project's.
    let other = pid("p2");
    p.create(&other, "campaign");
    let copied = json!({"prompt_id": "pr-copy", "text": {"commitment": commitment}});
    let copied = p.app.send(&p.artist.envelope(&other, "prompt_authored", copied));
    assert_eq!(copied.status, 201, "{:?}", copied.body);
    let (copy_at, copy_event) = (copied.body["sequence"].as_u64().unwrap(), copied.body["event_id"].clone());
    let there = format!("/v1/projects/{other}/confidential");
    let refused = p.app.client.put(&there, &kept(copy_at, "/body/text", 3, PROMPT)).unwrap();
    assert_eq!((refused.status, refused.body["field"].as_str()), (422, Some("text")), "{:?}", refused.body);
    let erase_copy = json!({"event_id": copy_event, "commitment": commitment, "reason": "r"});
    assert_eq!(p.app.send(&p.producer.envelope(&other, "confidential_erased", erase_copy)).status, 201);
    let read = format!("/v1/projects/{}/confidential/{commitment}", p.project);
    assert_eq!(p.app.get(&read).status, 200, "this project's text is its own");
    assert_eq!(files_holding(&data, PROMPT).len(), 1);
    // An erasure in the same request as the event it names, then the erasure, then again.
    let prompt_event = p.app.get(&format!("/v1/entries/{sequence}")).body["event_id"].as_str().unwrap().to_owned();
    let erase = json!({"event_id": prompt_event, "commitment": commitment, "reason": "consent withdrawn"});
    let fresh = commitment_of(&p.project, &[8; 32], "fresh");
    let together = vec![
        p.envelope(&p.artist, "prompt_authored", json!({"prompt_id": "pr-together", "text": {"commitment": fresh}})),
        p.envelope(
            &p.producer,
            "confidential_erased",
            json!({"event_id": "evt-none", "commitment": fresh, "reason": "r"}),
        ),
    ];
    let batch = p.app.batch(&together);
    assert_eq!((batch.status, batch.body["index"].as_u64()), (422, Some(1)), "{:?}", batch.body);
    assert_eq!(p.send(&p.producer, "confidential_erased", erase.clone()).status, 201);
    let twice = p.send(&p.producer, "confidential_erased", erase);
    assert_eq!((twice.status, twice.body["field"].as_str()), (422, Some("body.commitment")), "{:?}", twice.body);
    // A bundle after the erasure that discloses the text anyway (whoever kept it) is refused.
    let mut after: Bundle = serde_json::from_str(&p.app.get(&evidence).text).unwrap();
    after.disclosures = before.disclosures.clone();
    let said = verify(&after, Some(&vkey)).unwrap_err().to_string();
    assert!(said.contains("was erased"), "{said}");
    assert!(files_holding(&data, PROMPT).is_empty());
    // A disclosure of a text no payload could hold, though it hashes to a commitment an entry
    // holds, is refused too.
    let bad = "bad\u{1}text";
    let prompt = json!({"prompt_id": "pr-bad", "text": "t", "negative_prompt": {"commitment": commitment_of(&p.project, &[9; 32], bad)}});
    assert_eq!(p.send(&p.artist, "prompt_authored", prompt).status, 201);
    let generation = json!({"generation_id": "gen-bad", "model_version": "mv-1", "prompt": "pr-bad",
        "outputs": [{"asset_id": "img-bad", "digest": digest("img-bad"), "media_type": "image/png"}]});
    assert_eq!(p.send(&p.integration, "generation_recorded", generation).status, 201);
    let path = format!("/v1/projects/{}/assets/img-bad/evidence", p.project);
    let mut bundle: Bundle = serde_json::from_str(&p.app.get(&path).text).unwrap();
    bundle.disclosures.push(lineage_ledger::log::evidence::Disclosure {
        commitment: commitment_of(&p.project, &[9; 32], bad).to_string(),
        salt: hex::encode([9u8; 32]),
        text: bad.into(),
    });
    let said = verify(&bundle, Some(&vkey)).unwrap_err().to_string();
    assert!(said.contains("no confidential field may hold it"), "{said}");
}
