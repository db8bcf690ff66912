//! The Merkle log seen from outside: proofs, checkpoints, evidence, tamper detection (exports:
//! `export.rs`).

use crate::helpers::*;
use lineage_ledger::crypto::checkpoint::{Checkpoint, NoteVerifier};
use lineage_ledger::crypto::merkle::{verify_consistency, verify_inclusion};
use serde_json::{json, Value};

fn hexes(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().unwrap().iter().map(|h| hex::decode(h.as_str().unwrap()).unwrap()).collect()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

pub fn verifier(app: &TestApp) -> NoteVerifier {
    let text = app.anon.get("/v1/vkey").unwrap().text;
    NoteVerifier::parse(text.trim()).unwrap()
}

pub fn checkpoint(app: &TestApp) -> Checkpoint {
    let note = app.anon.get("/v1/checkpoint").unwrap().text;
    Checkpoint::open(&note, &verifier(app)).unwrap()
}

/// A project with `n` notes, appended in batches.
pub fn with_notes(n: usize) -> Production {
    let p = Production::new();
    let notes: Vec<Vec<u8>> =
        (0..n).map(|i| p.envelope(&p.producer, "note_added", json!({"text": format!("n{i}")}))).collect();
    for chunk in notes.chunks(37) {
        assert_eq!(p.app.batch(chunk).status, 201);
    }
    p
}

#[test]
fn proofs_from_the_api_verify_for_every_tree_size() {
    let p = with_notes(260);
    let size = p.app.head();
    assert!(size > 250, "{size}");
    let head = checkpoint(&p.app);
    assert_eq!(head.size, size);
    let leaf_hashes: Vec<Vec<u8>> =
        crate::append::all_entries(&p.app).iter().map(|(e, _)| unhex(&e["leaf_hash"])).collect();
    for tree_size in 1..=size {
        let mut indices = vec![0, tree_size - 1, tree_size / 2];
        indices.dedup();
        for index in indices {
            let proof = p.app.get(&format!("/v1/proofs/inclusion?sequence={index}&tree_size={tree_size}"));
            assert_eq!(proof.status, 200, "{index} in {tree_size}: {:?}", proof.body);
            let root = unhex(&proof.body["root_hash"]);
            verify_inclusion(index, tree_size, &leaf_hashes[index as usize], &hexes(&proof.body["hashes"]), &root)
                .unwrap_or_else(|e| panic!("{index} in {tree_size}: {e}"));
        }
        let consistency = p.app.anon.get(&format!("/v1/proofs/consistency?from={tree_size}&to={size}")).unwrap();
        assert_eq!(consistency.status, 200, "{tree_size}: {:?}", consistency.body);
        assert_eq!(unhex(&consistency.body["to_root"]), head.root.to_vec());
        verify_consistency(
            tree_size,
            size,
            &unhex(&consistency.body["from_root"]),
            &head.root,
            &hexes(&consistency.body["hashes"]),
        )
        .unwrap_or_else(|e| panic!("{tree_size} -> {size}: {e}"));
    }
}

#[test]
fn an_append_can_wait_for_its_proof_and_checkpoint() {
    let p = Production::new();
    let envelope = p.envelope(&p.producer, "note_added", json!({"text": "prove it"}));
    let answer = p.app.anon.post("/v1/events?proof=true", &envelope).unwrap();
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let inclusion = &answer.body["inclusion"];
    let note = inclusion["checkpoint"].as_str().unwrap();
    let checkpoint = Checkpoint::open(note, &verifier(&p.app)).unwrap();
    assert_eq!(checkpoint.size, inclusion["tree_size"].as_u64().unwrap());
    assert!(checkpoint.size > answer.body["sequence"].as_u64().unwrap());
    verify_inclusion(
        answer.body["sequence"].as_u64().unwrap(),
        checkpoint.size,
        &unhex(&answer.body["leaf_hash"]),
        &hexes(&inclusion["hashes"]),
        &checkpoint.root,
    )
    .unwrap();
    let batch = p.app.anon.append_batch(&[p.envelope(&p.producer, "note_added", json!({"text": "b"}))]).unwrap();
    assert!(batch.body["entries"][0].get("inclusion").is_none(), "proofs only when asked");
}

#[test]
fn a_later_checkpoint_is_consistent_with_an_earlier_one() {
    let p = Production::new();
    let before = checkpoint(&p.app);
    for i in 0..20 {
        p.send(&p.producer, "note_added", json!({"text": format!("more {i}")}));
    }
    let after = checkpoint(&p.app);
    assert_eq!(after.size, before.size + 20);
    let proof = p.app.anon.get(&format!("/v1/proofs/consistency?from={}&to={}", before.size, after.size)).unwrap();
    verify_consistency(before.size, after.size, &before.root, &after.root, &hexes(&proof.body["hashes"])).unwrap();
}

#[test]
fn proofs_beyond_the_tree_are_refused() {
    let p = Production::new();
    let size = p.app.head();
    let cases = [
        (format!("/v1/proofs/inclusion?sequence=1&tree_size={}", size + 1), 422, "tree-size-out-of-range"),
        ("/v1/proofs/inclusion?sequence=3&tree_size=3".to_owned(), 422, "tree-size-out-of-range"),
        (format!("/v1/proofs/inclusion?sequence={}", size + 5), 404, "not-found"),
        ("/v1/proofs/inclusion?tree_size=3".to_owned(), 400, "invalid-query"),
        ("/v1/proofs/inclusion?sequence=1&event_id=x".to_owned(), 400, "invalid-query"),
        (format!("/v1/proofs/consistency?from=2&to={}", size + 1), 422, "tree-size-out-of-range"),
        ("/v1/proofs/consistency?from=0&to=2".to_owned(), 422, "tree-size-out-of-range"),
        ("/v1/proofs/consistency?from=5&to=2".to_owned(), 422, "tree-size-out-of-range"),
        ("/v1/proofs/consistency".to_owned(), 400, "invalid-query"),
    ];
    for (path, status, problem) in cases {
        let answer = p.app.get(&path);
        assert_eq!(answer.status, status, "{path}: {:?}", answer.body);
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{path}");
    }
}

#[test]
fn evidence_of_a_delivered_asset_verifies_offline() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run(&app.client, admin, "aurora").unwrap();
    let answer = app.get("/v1/projects/aurora-outdoor:aurora/assets/hero-billboard/evidence");
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let bundle: lineage_ledger::log::evidence::Bundle = serde_json::from_str(&answer.text).unwrap();
    let vkey = verifier(&app).vkey();
    let proven = lineage_ledger::log::evidence::verify(&bundle, Some(&vkey)).expect("the bundle verifies");
    let kinds: Vec<String> = bundle
        .entries
        .iter()
        .filter(|e| e.project == "aurora-outdoor:aurora")
        .map(|e| {
            let entry = e.to_entry().unwrap();
            lineage_ledger::log::open_entry(&entry).unwrap().1.kind().as_str().to_owned()
        })
        .collect();
    for kind in [
        "project_created",
        "brief_recorded",
        "brief_revised",
        "reference_added",
        "model_version_registered",
        "pipeline_defined",
        "prompt_authored",
        "generation_recorded",
        "selection_made",
        "asset_imported",
        "post_edit_applied",
        "qc_review_recorded",
        "approval_recorded",
        "delivery_recorded",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "the lineage holds a {kind}: {kinds:?}");
    }
    assert!(proven.lineage_entries < 50, "unrelated generations are left out: {}", proven.lineage_entries);

    // The one inclusion proof of all the entries: a hash short, one changed.
    for change in [0, 1] {
        let mut tampered = bundle.clone();
        if change == 0 {
            tampered.inclusion.pop();
        } else {
            tampered.inclusion[0] = hex::encode([7u8; 32]);
        }
        let said = lineage_ledger::log::evidence::verify(&tampered, Some(&vkey)).unwrap_err().to_string();
        assert!(said.contains("their inclusion proof fails"), "{said}");
    }
    // Every system entry it holds is a signer's key history, which it must hold whole.
    let system: Vec<usize> = (0..bundle.entries.len()).filter(|i| bundle.entries[*i].project == "system").collect();
    assert!(system.len() >= 2, "{system:?}");
    for i in system.into_iter().skip(1) {
        let mut forged = bundle.clone();
        forged.entries.remove(i);
        let said = lineage_ledger::log::evidence::verify(&forged, Some(&vkey)).unwrap_err().to_string();
        assert!(said.contains("of `actor:") && said.contains("is not in the bundle"), "{said}");
    }
    // Leaving out any entry that made something in the lineage is refused, naming the entry
    // whose ancestor went missing (or the asset whose making entry did).
    let kind_of = |e: &lineage_ledger::log::evidence::BundleEntry| {
        lineage_ledger::log::open_entry(&e.to_entry().unwrap()).unwrap().1.kind().as_str().to_owned()
    };
    for kind in [
        "model_version_registered",
        "pipeline_defined",
        "prompt_authored",
        "reference_added",
        "brief_recorded",
        "generation_recorded",
        "asset_imported",
        "post_edit_applied",
    ] {
        let mut omitted = bundle.clone();
        let i =
            omitted.entries.iter().position(|e| e.project == "aurora-outdoor:aurora" && kind_of(e) == kind).unwrap();
        omitted.entries.remove(i);
        match lineage_ledger::log::evidence::verify(&omitted, Some(&vkey)) {
            Err(e) => {
                let said = e.to_string();
                assert!(said.contains("is not in the bundle"), "without its {kind}: {said}");
            }
            Ok(_) => panic!("a bundle without its {kind} verified"),
        }
    }
    assert_eq!(app.get("/v1/projects/aurora-outdoor:aurora/assets/nope/evidence").status, 404);
}

#[test]
fn a_tampered_store_is_refused_at_start_naming_the_entry() {
    // Entries stored raw (the store has fewer than --compress-after's entries), and compressed
    // against a dictionary from the second entry on.
    for args in [&[][..], &["--compress-after", "2"][..]] {
        a_tampered_store_is_refused_at_start(args);
    }
}

fn a_tampered_store_is_refused_at_start(args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start_server_with(dir.path(), args, &[]);
    let app = attach(dir, port);
    let producer = app.register("tamper-prod", "producer");
    app.send(&producer.envelope(
        "acme-client:t",
        "project_created",
        json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
    ));
    for i in 0..5 {
        app.send(&producer.envelope("acme-client:t", "note_added", json!({"text": format!("n{i}")})));
    }
    child.kill();
    let bin = env!("CARGO_BIN_EXE_lineage");
    let data = app.dir.path().join("data");
    let fsck = std::process::Command::new(bin).args(["fsck", "--data", data.to_str().unwrap()]).output().unwrap();
    assert!(fsck.status.success(), "{}", String::from_utf8_lossy(&fsck.stderr));

    // Someone with access to the files rewrites entry 4 with one byte changed.
    assert_eq!(damage_entry(&data, 4), !args.is_empty(), "entry 4 is stored compressed with {args:?}");
    let start = std::process::Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--data", data.to_str().unwrap()])
        .args(args)
        .output()
        .unwrap();
    assert!(!start.status.success(), "{args:?}");
    let stderr = String::from_utf8_lossy(&start.stderr);
    assert!(stderr.contains("entry 4"), "{args:?}: {stderr}");
    let fsck = std::process::Command::new(bin).args(["fsck", "--data", data.to_str().unwrap()]).output().unwrap();
    assert!(!fsck.status.success());
    assert!(String::from_utf8_lossy(&fsck.stderr).contains("entry 4"), "{args:?}");
}

#[test]
fn a_byte_flipped_in_the_store_files_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start_server(dir.path());
    let app = attach(dir, port);
    let producer = app.register("flip-prod", "producer");
    app.send(&producer.envelope(
        "acme-client:f",
        "project_created",
        json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
    ));
    let sent = app.send(&producer.envelope("acme-client:f", "note_added", json!({"text": "the note to flip"})));
    let payload = sent.body["envelope"]["payload"].as_str().unwrap().to_owned();
    child.kill();
    // The entry is in the journal, and in sled's file once sled has written it; sled's log may
    // hold older copies of a page besides the one it reads: flip the byte in every copy.
    let probe = &payload.as_bytes()[40..70];
    let mut flipped = 0;
    for name in ["db", "journal"] {
        let file = app.dir.path().join("data/store").join(name);
        let mut bytes = std::fs::read(&file).unwrap();
        let copies: Vec<usize> =
            (0..bytes.len() - probe.len()).filter(|&i| bytes[i..i + probe.len()] == *probe).collect();
        for &at in &copies {
            bytes[at + 3] = if bytes[at + 3] == b'A' { b'B' } else { b'A' };
        }
        flipped += copies.len();
        std::fs::write(&file, bytes).unwrap();
    }
    assert!(flipped > 0, "the entry is in the store's files");
    let bin = env!("CARGO_BIN_EXE_lineage");
    let data = app.dir.path().join("data");
    let mut start = std::process::Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0", "--data", data.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = start.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            start.kill().ok();
            panic!("the server started on a damaged store");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // Either sled refuses its damaged file or the ledger's own checks name the entry; it never
    // serves the changed history.
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut start.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("entry ") || stderr.contains("sled"), "{stderr}");
}

/// `lineage verify-evidence` with what an auditor asks: the delivered file's bytes, agreement
/// with another bundle or a later checkpoint, and a loud warning when no key is pinned.
#[test]
fn verify_evidence_checks_the_file_and_another_checkpoint_and_warns_without_a_pinned_key() {
    let p = Production::new();
    let dir = p.app.dir.path();
    let bin = env!("CARGO_BIN_EXE_lineage");
    let save = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let bundle = save("first.json", &p.app.get("/v1/projects/acme-client:p1/assets/img-1/evidence").text);
    let vkey = p.app.anon.get("/v1/vkey").unwrap().text.trim().to_owned();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin)
            .arg("verify-evidence")
            .args(args)
            .env_remove("LINEAGE_URL")
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // No key pinned: verified, but said loudly; pinned: no warning.
    let (ok, stdout, stderr) = run(&[&bundle]);
    assert!(ok && stdout.contains("NOT pinned") && stderr.contains("WARNING: no --vkey"), "{stdout} {stderr}");
    let (ok, stdout, stderr) = run(&[&bundle, "--vkey", &vkey]);
    assert!(ok && stdout.contains("(checkpoint key pinned)") && !stderr.contains("WARNING"), "{stdout} {stderr}");
    // The file: the asset's recorded bytes pass, any other bytes fail, naming both digests.
    let right = save("img-1.png", "img-1");
    let (ok, stdout, _) = run(&[&bundle, "--vkey", &vkey, "--file", &right]);
    assert!(ok && stdout.contains("the file is asset `img-1`"), "{stdout}");
    let wrong = save("other.png", "img-1 retouched");
    let (ok, _, stderr) = run(&[&bundle, "--vkey", &vkey, "--file", &wrong]);
    assert!(!ok && stderr.contains("is neither asset `img-1`'s") && stderr.contains(&digest("img-1")), "{stderr}");
    // A later bundle of the same log: consistent, with the proof fetched or given; without either
    // the check says what it needs.
    p.send(&p.producer, "note_added", json!({"text": "later", "assets": ["img-1"]}));
    let later = save("later.json", &p.app.get("/v1/projects/acme-client:p1/assets/img-1/evidence").text);
    let (ok, _, stderr) = run(&[&bundle, "--vkey", &vkey, "--against", &later]);
    assert!(!ok && stderr.contains("give --consistency-proof"), "{stderr}");
    let (ok, stdout, stderr) = run(&[&bundle, "--vkey", &vkey, "--against", &later, "--url", &p.app.url]);
    assert!(!ok && stdout.contains("are one log"), "{stdout} {stderr}");
    assert!(stderr.contains("the bundle is complete as of") && stderr.contains("fetch the bundle again"), "{stderr}");
    let (ok, stdout, stderr) = run(&[&later, "--vkey", &vkey, "--against", &bundle, "--url", &p.app.url]);
    assert!(ok && stdout.contains("are one log"), "{stdout} {stderr}");
    let (from, to) = (
        serde_json::from_str::<Value>(&std::fs::read_to_string(&bundle).unwrap()).unwrap()["tree_size"]
            .as_u64()
            .unwrap(),
        serde_json::from_str::<Value>(&std::fs::read_to_string(&later).unwrap()).unwrap()["tree_size"]
            .as_u64()
            .unwrap(),
    );
    let proof = p.app.anon.get(&format!("/v1/proofs/consistency?from={from}&to={to}")).unwrap();
    let proof_file = save("proof.json", &proof.text);
    let (ok, stdout, stderr) =
        run(&[&later, "--vkey", &vkey, "--against", &bundle, "--consistency-proof", &proof_file]);
    assert!(ok && stdout.contains("are one log"), "{stdout} {stderr}");
    // A proof that was tampered with fails; so does a checkpoint of another ledger.
    let mut bad: Value = proof.body.clone();
    let first = bad["hashes"][0].as_str().unwrap().to_owned();
    bad["hashes"][0] = json!(format!("{}{}", if first.starts_with('0') { "1" } else { "0" }, &first[1..]));
    let bad_file = save("bad-proof.json", &bad.to_string());
    let (ok, _, stderr) = run(&[&bundle, "--vkey", &vkey, "--against", &later, "--consistency-proof", &bad_file]);
    assert!(!ok && stderr.contains("does not extend"), "{stderr}");
    let checkpoint = save("checkpoint.txt", &p.app.anon.get("/v1/checkpoint").unwrap().text);
    let (ok, stdout, stderr) = run(&[&later, "--vkey", &vkey, "--against", &checkpoint, "--url", &p.app.url]);
    assert!(ok && stdout.contains("are one log"), "{stdout} {stderr}");
    let (ok, _, stderr) = run(&[&bundle, "--vkey", &vkey, "--against", &checkpoint, "--url", &p.app.url]);
    assert!(!ok && stderr.contains("fetch the bundle again"), "{stderr}");
    let other = Production::new();
    let foreign = save("foreign.txt", &other.app.anon.get("/v1/checkpoint").unwrap().text);
    let (ok, _, stderr) = run(&[&bundle, "--vkey", &vkey, "--against", &foreign]);
    assert!(!ok && stderr.contains("not a checkpoint of this ledger"), "{stderr}");
}
