//! Content Credentials: the C2PA manifest the ledger derives, signed into the demo's own files by
//! the command line (the user's certificate) and by the server (the operator's), read back by an
//! independent reader, c2pa-python (`tests/c2pa_check.py`), with a test CA made here as its only
//! trust anchor.

use crate::helpers::*;
use lineage_ledger::outputs::signing::SigningCredentials;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const PROJECT: &str = "aurora-outdoor:aurora";

/// Installs c2pa-python 0.38.1 when it is missing (as `.ci/run` does), once.
fn reader_installed() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let present = Command::new("python3").args(["-c", "import c2pa, cryptography"]).status();
        if !present.is_ok_and(|s| s.success()) {
            let installed = Command::new("python3")
                .args(["-m", "pip", "install", "--quiet", "c2pa-python==0.38.1", "cryptography"])
                .status()
                .expect("python3 runs");
            assert!(installed.success(), "pip installs c2pa-python 0.38.1");
        }
    });
}

/// A test CA and an end-entity certificate it issued, made now: `ca.pem`, `chain.pem`, `key.pem`.
fn certificates(dir: &Path, alg: &str) -> PathBuf {
    reader_installed();
    let dir = dir.join(alg);
    std::fs::create_dir_all(&dir).unwrap();
    let made = Command::new("python3").arg("tests/c2pa_check.py").arg("certs").arg(&dir).arg(alg).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    dir
}

/// What c2pa-python reads of a file, trusting only `ca`.
fn read_back(file: &Path, ca: &Path) -> Value {
    let output = Command::new("python3").arg("tests/c2pa_check.py").arg("read").arg(file).arg(ca).output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&said).unwrap_or_else(|_| panic!("{said}{}", String::from_utf8_lossy(&output.stderr)))
}

/// Signs through the server's route; answers the status and the body.
fn post_file(app: &TestApp, asset: &str, media_type: &str, bytes: &[u8]) -> (u16, Vec<u8>) {
    let token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    let url = format!("{}/v1/projects/{PROJECT}/assets/{asset}/credentials", app.url);
    let answer = ureq::post(&url)
        .set("Authorization", &format!("Bearer {}", token.trim()))
        .set("Content-Type", media_type)
        .send_bytes(bytes);
    let response = match answer {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("{e}"),
    };
    let status = response.status();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut response.into_reader(), &mut body).unwrap();
    (status, body)
}

/// The actions of a manifest (the ledger's, or as read back), each as its name, source type and
/// software agent: what both must agree on (the SDK turns ingredient ids into hashed links).
fn actions(actions: &Value) -> Vec<Value> {
    actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| json!([a["action"], a["digitalSourceType"], a["softwareAgent"], a["description"]]))
        .collect()
}

fn ingredients(ingredients: &Value) -> Vec<Value> {
    ingredients
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!([i["title"], i["relationship"], i["instance_id"], i["metadata"]["digitalSourceType"]]))
        .collect()
}

/// A file read back is the ledger's manifest, trusted, and its ledger record verifies.
fn check_read_back(app: &TestApp, asset: &str, read: &Value) {
    assert_eq!(read["validation_state"], "Trusted", "{read}");
    assert_eq!(read["failures"], json!([]), "{read}");
    let manifest = app.get(&format!("/v1/projects/{PROJECT}/assets/{asset}/c2pa")).body;
    let created = &manifest["assertions"][0];
    assert_eq!(created["label"], "c2pa.actions.v2");
    assert_eq!(actions(&read["actions"]), actions(&created["data"]["actions"]), "{asset}");
    assert_eq!(ingredients(&read["ingredients"]), ingredients(&manifest["ingredients"]), "{asset}");
    let ledger = &read["assertions"]["lineage.ledger"];
    let disclosure = app.get(&format!("/v1/projects/{PROJECT}/assets/{asset}/disclosure")).body;
    assert_eq!(ledger["disclosure"], disclosure, "the disclosure travels with the file");
    // The record's entry is in the log under the checkpoint it carries.
    let record = &ledger["record"];
    let hex = |v: &Value| hex::decode(v.as_str().unwrap()).unwrap();
    let proof: Vec<Vec<u8>> = record["inclusion_proof"].as_array().unwrap().iter().map(hex).collect();
    let (sequence, size) = (record["sequence"].as_u64().unwrap(), record["tree_size"].as_u64().unwrap());
    lineage_ledger::crypto::merkle::verify_inclusion(
        sequence,
        size,
        &hex(&record["leaf_hash"]),
        &proof,
        &hex(&record["root_hash"]),
    )
    .expect("the inclusion proof verifies");
    let checkpoint = record["checkpoint"].as_str().unwrap();
    assert!(checkpoint.contains(&format!("\n{size}\n")), "{checkpoint}");
    let entry = app.get(&format!("/v1/entries/{sequence}")).body;
    assert_eq!(entry["leaf_hash"], record["leaf_hash"], "{entry}");
}

#[test]
fn the_demo_files_carry_content_credentials_that_c2pa_python_reads_back_as_the_ledger_derived() {
    let dir = tempfile::tempdir().unwrap();
    let (es256, ed25519) = (certificates(dir.path(), "es256"), certificates(dir.path(), "ed25519"));
    let operator = SigningCredentials::load(&ed25519.join("chain.pem"), &ed25519.join("key.pem")).unwrap();
    let app = spawn_app_with(|s| s.signing = Some(operator));
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    let summary = lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
    let files = dir.path().join("files");
    summary.files.write(&files).unwrap();

    // The billboard, signed on the user's machine with the user's ES256 certificate.
    let token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    let signed = dir.path().join("billboard-signed.jpg");
    let cli = |file: &Path, out: &Path| {
        Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(["credentials", PROJECT, "hero-billboard", "--url", app.url.as_str(), "--token", token.trim()])
            .arg("--file")
            .arg(file)
            .arg("--out")
            .arg(out)
            .arg("--cert")
            .arg(es256.join("chain.pem"))
            .arg("--key")
            .arg(es256.join("key.pem"))
            .output()
            .unwrap()
    };
    let run = cli(&files.join("hero-billboard.jpg"), &signed);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("compositeSynthetic"));
    let read = read_back(&signed, &es256.join("ca.pem"));
    check_read_back(&app, "hero-billboard", &read);
    let names: Vec<&str> = read["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(names, ["c2pa.opened", "c2pa.resized", "c2pa.transcoded", "c2pa.published"]);
    assert_eq!(read["ingredients"][0]["relationship"], "parentOf");
    assert_eq!(
        read["ingredients"][0]["metadata"]["digitalSourceType"],
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic"
    );
    assert_eq!(
        read["assertions"]["cawg.training-mining"]["entries"]["cawg.ai_generative_training"]["use"], "notAllowed",
        "the brief's choices travel with the file"
    );
    assert_eq!(read["assertions"]["cawg.training-mining"]["entries"]["cawg.ai_inference"]["use"], "constrained");
    // `whence` finds the delivered file by its bytes, and the signed one by what its manifest names.
    let whence = |file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(["whence", "--url", app.url.as_str(), "--token", token.trim()])
            .arg(file)
            .output()
            .unwrap()
    };
    let plain = whence(&files.join("hero-billboard.jpg"));
    let said = String::from_utf8_lossy(&plain.stdout);
    assert!(plain.status.success() && said.contains("aurora-outdoor:aurora / hero-billboard"), "{said}");
    assert!(said.contains("compliance verdict: pass") && said.contains("compositeSynthetic"), "{said}");
    let from_manifest = whence(&signed);
    let said = String::from_utf8_lossy(&from_manifest.stdout);
    assert!(from_manifest.status.success(), "{said}");
    assert!(
        said.contains("its bytes are not recorded; it carries Content Credentials")
            && said.contains("signed by lineage test signer"),
        "{said}"
    );
    assert!(said.contains("aurora-outdoor:aurora / hero-billboard"), "{said}");
    let json = Command::new(env!("CARGO_BIN_EXE_lineage"))
        .args(["whence", "--json", "--url", app.url.as_str(), "--token", token.trim()])
        .arg(&signed)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (json["found_by"].as_str(), json["credentials"]["valid"].as_bool()),
        (Some("credentials"), Some(true)),
        "{json}"
    );
    assert_ne!(json["digest"], json["credentials"]["names"]["digest"], "the file's own digest, not the recorded one");
    let names: Vec<&str> = json["assets"].as_array().unwrap().iter().map(|a| a["asset"].as_str().unwrap()).collect();
    assert_eq!(names, ["hero-billboard"], "the asset the manifest names, alone");
    let unknown = whence(&es256.join("ca.pem"));
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stdout).contains("not recorded in any project this token may read"));
    // Another CA is not trusted; a byte changed after signing fails the hard binding.
    let untrusted = read_back(&signed, &ed25519.join("ca.pem"));
    assert_ne!(untrusted["validation_state"], "Trusted", "{untrusted}");
    let mut tampered = std::fs::read(&signed).unwrap();
    let last = tampered.len() - 200;
    tampered[last] ^= 0xff;
    let tampered_file = dir.path().join("tampered.jpg");
    std::fs::write(&tampered_file, tampered).unwrap();
    let broken = read_back(&tampered_file, &es256.join("ca.pem"));
    assert_eq!(broken["validation_state"], "Invalid", "{broken}");
    // whence will not vouch for it by what its manifest names.
    let forged = whence(&tampered_file);
    assert_eq!(forged.status.code(), Some(1), "{}", String::from_utf8_lossy(&forged.stdout));
    assert!(String::from_utf8_lossy(&forged.stdout).contains("do not validate"));
    assert!(broken["failures"].as_array().unwrap().iter().any(|f| f == "assertion.dataHash.mismatch"), "{broken}");
    // A file that is not the asset's bytes is refused, and nothing is written.
    let wrong = dir.path().join("wrong.jpg");
    let refused = cli(&files.join("hero-ig-4x5.jpg"), &wrong);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not the asset's bytes"));
    assert!(refused.stdout.is_empty() && !wrong.exists());

    // The server signs with the operator's Ed25519 certificate: a post edit (PNG), a generation
    // and an imported packshot (JPEG).
    for (asset, file, media_type, first) in [
        ("hero-master-v2", "hero-master-v2.png", "image/png", "c2pa.opened"),
        ("img-12", "img-12.png", "image/png", "c2pa.created"),
        ("shoe-packshot", "shoe-packshot.jpg", "image/jpeg", "c2pa.created"),
    ] {
        let (status, body) = post_file(&app, asset, media_type, &std::fs::read(files.join(file)).unwrap());
        assert_eq!(status, 200, "{asset}: {}", String::from_utf8_lossy(&body));
        let out = dir.path().join(format!("server-{file}"));
        std::fs::write(&out, body).unwrap();
        let read = read_back(&out, &ed25519.join("ca.pem"));
        check_read_back(&app, asset, &read);
        assert_eq!(read["actions"][0]["action"], first, "{asset}");
    }
    let generated = read_back(&dir.path().join("server-img-12.png"), &ed25519.join("ca.pem"));
    let created = &generated["actions"][0];
    assert_eq!(created["digitalSourceType"], "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia");
    assert_eq!(
        created["softwareAgent"],
        json!({"name": "in-house SDXL LoRA (mv-aurora-lora-3)", "version": "3"}),
        "{created}"
    );
    let relationships: Vec<&str> =
        generated["ingredients"].as_array().unwrap().iter().map(|i| i["relationship"].as_str().unwrap()).collect();
    assert!(relationships.iter().all(|r| *r == "inputTo"), "a prompt and models are inputs: {relationships:?}");
    let packshot = read_back(&dir.path().join("server-shoe-packshot.jpg"), &ed25519.join("ca.pem"));
    assert_eq!(
        packshot["actions"][0]["digitalSourceType"],
        "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    );
}

#[test]
fn signing_refuses_what_is_not_the_assets_file_and_a_server_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ed25519 = certificates(dir.path(), "ed25519");
    let operator = SigningCredentials::load(&ed25519.join("chain.pem"), &ed25519.join("key.pem")).unwrap();
    let app = spawn_app_with(|s| s.signing = Some(operator));
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    let summary = lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
    let files = dir.path().join("files");
    summary.files.write(&files).unwrap();
    let master = std::fs::read(files.join("hero-master-v2.png")).unwrap();
    let head = app.head();
    let problem = |(status, body): (u16, Vec<u8>)| {
        let body: Value = serde_json::from_slice(&body).unwrap();
        (status, body["type"].as_str().unwrap().trim_start_matches("urn:lineage:problem:").to_owned(), body)
    };
    let cases = [
        ("another asset's bytes", "hero-master-v2", "image/png", files.join("hero-master.png"), 422, "digest-mismatch"),
        (
            "the asset's bytes as another type",
            "hero-master-v2",
            "image/jpeg",
            files.join("hero-master-v2.png"),
            415,
            "unsupported-media-type",
        ),
        (
            "a type that cannot be signed",
            "hero-master-v2",
            "image/tiff",
            files.join("hero-print-a4.tif"),
            415,
            "unsupported-media-type",
        ),
        (
            "an asset the project does not have",
            "ghost",
            "image/png",
            files.join("hero-master-v2.png"),
            404,
            "not-found",
        ),
    ];
    for (name, asset, media_type, file, status, slug) in cases {
        let (got, got_slug, body) = problem(post_file(&app, asset, media_type, &std::fs::read(file).unwrap()));
        assert_eq!((got, got_slug.as_str()), (status, slug), "{name}: {body}");
        assert!(!body["detail"].as_str().unwrap().is_empty(), "{name}");
    }
    let (status, slug, body) = problem(post_file(&app, "hero-master-v2", "image/png", &[]));
    assert_eq!((status, slug.as_str()), (422, "digest-mismatch"), "an empty body: {body}");
    assert_eq!(app.head(), head, "signing writes nothing to the log");
    // Without a token; then a server that holds no certificate.
    let anonymous = ureq::post(&format!("{}/v1/projects/{PROJECT}/assets/hero-master-v2/credentials", app.url))
        .set("Content-Type", "image/png")
        .send_bytes(&master);
    assert!(matches!(anonymous, Err(ureq::Error::Status(401, _))));
    let bare = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&bare.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run(&bare.client, admin, "aurora").expect("the demo runs");
    let (status, slug, body) = problem(post_file(&bare, "hero-master-v2", "image/png", &master));
    assert_eq!((status, slug.as_str()), (503, "signing-not-configured"), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("lineage credentials"), "{body}");
    // The CLI refuses a key it cannot sign with before it asks the server anything.
    std::fs::write(dir.path().join("bad.pem"), "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        .unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_lineage"))
        .args(["credentials", PROJECT, "hero-master-v2", "--url", "http://127.0.0.1:9", "--token", "t"])
        .arg("--file")
        .arg(files.join("hero-master-v2.png"))
        .args(["--out", "/nonexistent/out.png", "--cert"])
        .arg(ed25519.join("chain.pem"))
        .arg("--key")
        .arg(dir.path().join("bad.pem"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("neither Ed25519 nor ECDSA P-256"), "{run:?}");
}
