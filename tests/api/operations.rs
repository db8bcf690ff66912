//! Running the service as an operator does, with the real binary: backup and restore, the
//! admin's key kept off the server, read tokens that expire and are revoked, file modes.

use crate::helpers::*;
use lineage_ledger::cli::client::{Client, Signer};
use lineage_ledger::crypto::keys::KeyFile;
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn lineage(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lineage")).args(args).output().expect("the binary runs")
}

fn ok(output: std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The number of entries `lineage fsck` says it checked.
fn app_entries(checked: &str) -> u64 {
    checked.split_whitespace().next().unwrap().parse().unwrap()
}

/// The text of `text` between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start} in {text}")) + start.len();
    &text[from..from + text[from..].find(end).unwrap()]
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Asserts that every directory under `root` is 0700 and every file 0600; the number of files.
fn assert_private(root: &Path) -> usize {
    use std::os::unix::fs::PermissionsExt as _;
    let (mut files, mut stack) = (0, vec![root.to_owned()]);
    while let Some(at) = stack.pop() {
        let metadata = std::fs::symlink_metadata(&at).unwrap();
        let mode = metadata.permissions().mode() & 0o777;
        if metadata.is_dir() {
            assert_eq!(mode, 0o700, "{}", at.display());
            stack.extend(std::fs::read_dir(&at).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode, 0o600, "{}", at.display());
            files += 1;
        }
    }
    files
}

#[test]
fn a_log_backed_up_and_restored_keeps_its_admin_and_issues_a_new_admin_token() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server(dir.path());
    let app = attach(dir, port);
    let producer = app.register("backup-prod", "producer");
    assert_eq!(
        app.send(&producer.envelope(
            "acme-client:kept",
            "project_created",
            json!({"content_type": "social", "title": "T", "client_organization": CLIENT})
        ))
        .status,
        201
    );
    let old_token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    // The backup: an export, the ledger's key and the admin's key.
    let backup = tempfile::tempdir().unwrap();
    let export = backup.path().join("ledger.jsonl");
    ok(lineage(&["export", "--url", &app.url, "--data", path(&app.data().root), "--out", path(&export)]));
    std::fs::copy(app.data().ledger_key(), backup.path().join("ledger.key")).unwrap();
    std::fs::copy(app.data().admin_key(), backup.path().join("admin.key")).unwrap();
    server.kill();
    let import_into = |data: &Path| {
        lineage(&[
            "import",
            path(&export),
            "--data",
            path(data),
            "--ledger-key",
            path(&backup.path().join("ledger.key")),
        ])
    };

    // The restore, into a new data directory on another machine.
    let restored = tempfile::tempdir().unwrap();
    let data = restored.path().join("data");
    ok(import_into(&data));
    let (mut server, port) = start_server(restored.path());
    assert!(!data.join("admin.key").exists(), "no admin key the log never registered is made up");
    let token = std::fs::read_to_string(data.join("admin.token")).unwrap();
    let app = TestApp {
        client: Client::new(&format!("http://127.0.0.1:{port}")).with_token(&token),
        anon: Client::new(&format!("http://127.0.0.1:{port}")),
        url: format!("http://127.0.0.1:{port}"),
        dir: restored,
        admin: Signer::new(KeyFile::load(&backup.path().join("admin.key")).unwrap(), &ledger_name(&data)),
        ledger: ledger_name(&data),
    };
    assert_eq!(app.head(), 5, "genesis, two organisations, a registration and a project");
    // The admin's key from the backup signs as before.
    let newcomer = app.register("after-restore", "producer");
    let created = json!({"content_type": "social", "title": "After", "client_organization": CLIENT});
    assert_eq!(app.send(&newcomer.envelope("acme-client:after", "project_created", created)).status, 201);
    // A new admin token was issued; the old one was never part of the backup.
    let new_token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    assert_ne!(new_token, old_token);
    assert_eq!(Client::new(&app.url).with_token(&old_token).get("/v1/head").unwrap().status, 401);
    server.kill();
    let checked = ok(lineage(&["fsck", "--data", path(&app.data().root)]));
    // Where the bytes are: the envelopes, the database's records by kind, the files on disk.
    let entries = app_entries(&checked);
    let chunks: u64 = between(&checked, "entry chunks ", " records)").rsplit('(').next().unwrap().parse().unwrap();
    assert!((entries.div_ceil(16)..=entries).contains(&chunks), "chunks of at most 16 entries: {checked}");
    for part in [
        "sizes: the entries' envelopes",
        "index records",
        "Merkle nodes",
        "token grants",
        "store/db",
        "store/journal",
        "data directory:",
    ] {
        assert!(checked.contains(part), "{part}: {checked}");
    }

    // An import killed part way (here at its first commit, once the journal holds it) is not a
    // first start: `serve` refuses the directory, as a second import into it does, and both say
    // what to do; the restore then goes as before. A finished import leaves the directory its
    // owner's alone.
    let interrupted = tempfile::tempdir().unwrap();
    let data = interrupted.path().join("data");
    let killed = Command::new(env!("CARGO_BIN_EXE_lineage"))
        .args(["import", path(&export), "--data", path(&data), "--ledger-key"])
        .arg(backup.path().join("ledger.key"))
        .env("LINEAGE_FAILPOINT", "journal-synced:1")
        .output()
        .unwrap();
    assert!(!killed.status.success(), "the import was stopped");
    match try_start_server(interrupted.path(), &[], &[]) {
        Ok((mut started, _)) => {
            started.kill();
            panic!("a directory with an unfinished import was served");
        }
        Err(mut exited) => assert!(!exited.0.wait().unwrap().success()),
    }
    let serve = lineage(&["serve", "--addr", "127.0.0.1:0", "--data", path(&data)]);
    let said = String::from_utf8_lossy(&serve.stderr);
    assert!(!serve.status.success() && said.contains("did not finish"), "{said}");
    assert!(!data.join("admin.token").exists() && !data.join("admin.key").exists(), "nothing was made up");
    let again = import_into(&data);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("remove the directory"));
    std::fs::remove_dir_all(&data).unwrap();
    ok(import_into(&data));
    assert_private(&data);
    ok(lineage(&["fsck", "--data", path(&data)]));
}

#[test]
fn the_admin_key_can_live_off_the_server() {
    // Moved away after the first start: not written again, and it still signs.
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _) = start_server(dir.path());
    server.kill();
    let data = dir.path().join("data");
    let offline = tempfile::tempdir().unwrap();
    let admin_key = offline.path().join("admin.key");
    std::fs::rename(data.join("admin.key"), &admin_key).unwrap();
    let (mut server, port) = start_server(dir.path());
    assert!(!data.join("admin.key").exists(), "no admin key is written again");
    let url = format!("http://127.0.0.1:{port}");
    let admin = Signer::new(KeyFile::load(&admin_key).unwrap(), &ledger_name(&data));
    let key = KeyFile::generate("offline-prod", "offline-prod-1");
    let agency = json!({"organization_id": AGENCY, "display_name": "A", "kind": "agency"});
    let answer =
        Client::new(&url).append(&admin.envelope("system", "organization_registered", agency.clone())).unwrap();
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let answer = Client::new(&url)
        .append(&admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": "offline-prod", "display_name": "P", "role": "producer", "organization": AGENCY,
                   "keys": [{"key_id": key.key_id, "public_key": key.public_key_base64()}]}),
        ))
        .unwrap();
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    // The command line signs with it when told where it is.
    let second = offline.path().join("second.key");
    KeyFile::generate("offline-prod", "offline-prod-2").save(&second).unwrap();
    ok(lineage(&[
        "key",
        "add",
        "--actor",
        "offline-prod",
        "--key",
        path(&second),
        "--url",
        &url,
        "--data",
        path(&data),
        "--admin-key",
        path(&admin_key),
    ]));
    server.kill();

    // Or never on the server at all: the first start registers a public key given to it.
    let fresh = tempfile::tempdir().unwrap();
    let elsewhere = KeyFile::generate("admin", "admin-1");
    let (mut server, port) =
        start_server_with(fresh.path(), &["--admin-public-key", &elsewhere.public_key_base64()], &[]);
    assert!(!fresh.path().join("data/admin.key").exists());
    let elsewhere = Signer::new(elsewhere, &ledger_name(&fresh.path().join("data")));
    let answer = Client::new(&format!("http://127.0.0.1:{port}"))
        .append(&elsewhere.envelope("system", "organization_registered", agency))
        .unwrap();
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let answer = Client::new(&format!("http://127.0.0.1:{port}"))
        .append(&elsewhere.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": "p", "display_name": "P", "role": "producer", "organization": AGENCY,
                   "keys": [{"key_id": "p-1", "public_key": key.public_key_base64()}]}),
        ))
        .unwrap();
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    server.kill();
}

#[test]
fn a_start_without_the_ledger_key_of_an_existing_log_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _) = start_server(dir.path());
    server.kill();
    std::fs::remove_file(dir.path().join("data/ledger.key")).unwrap();
    let Err(mut exited) = try_start_server(dir.path(), &[], &[]) else { panic!("it started without its key") };
    assert!(!exited.0.wait().unwrap().success());
    assert!(!dir.path().join("data/ledger.key").exists(), "no new ledger key was made up");
}

#[test]
fn a_ledger_key_without_its_log_is_not_started_but_a_cut_short_first_start_is_finished() {
    // Keys copied without the store: refused, not a second history under the same key.
    let dir = tempfile::tempdir().unwrap();
    let (mut server, _) = start_server(dir.path());
    server.kill();
    let data = dir.path().join("data");
    let key_before = std::fs::read(data.join("ledger.key")).unwrap();
    std::fs::remove_dir_all(data.join("store")).unwrap();
    let serve = lineage(&["serve", "--addr", "127.0.0.1:0", "--data", path(&data)]);
    let said = String::from_utf8_lossy(&serve.stderr);
    assert!(!serve.status.success() && said.contains("holds a ledger key but no log"), "{said}");
    assert_eq!(std::fs::read(data.join("ledger.key")).unwrap(), key_before);
    // A first start that crashed before its genesis entry was durable starts again and finishes.
    let fresh = tempfile::tempdir().unwrap();
    let crashed = Command::new(env!("CARGO_BIN_EXE_lineage"))
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(fresh.path().join("data"))
        .env("LINEAGE_FAILPOINT", "journal-synced:1")
        .output()
        .unwrap();
    assert!(!crashed.status.success(), "the first start was cut short");
    assert!(fresh.path().join("data/ledger.key").exists() && fresh.path().join("data/first-start-unfinished").exists());
    let (mut server, port) = start_server(fresh.path());
    let app = attach(fresh, port);
    assert!(app.head() >= 1, "the genesis entry is there");
    assert!(!app.data().first_start_marker().exists());
    server.kill();
    ok(lineage(&["fsck", "--data", path(&app.data().root)]));
}

#[test]
fn read_tokens_expire_are_revoked_and_the_bootstrap_token_rotates() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server(dir.path());
    let app = attach(dir, port);
    let data = app.data().root;
    // Issued, listed and revoked from the command line.
    let issued = ok(lineage(&[
        "token",
        "issue",
        "--name",
        "dashboard",
        "--expires-in-days",
        "7",
        "--url",
        &app.url,
        "--data",
        path(&data),
    ]));
    let token = issued.trim().to_owned();
    let reader = Client::new(&app.url).with_token(&token);
    assert_eq!(reader.get("/v1/head").unwrap().status, 200);
    let listed = app.get("/v1/tokens");
    let entry = listed.body["tokens"].as_array().unwrap().iter().find(|t| t["name"] == "dashboard").unwrap().clone();
    assert!(entry.get("token").is_none(), "no secret is listed");
    let expires = chrono::DateTime::parse_from_rfc3339(entry["expires_at"].as_str().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((6 * 24..=7 * 24).contains(&days), "expires in 7 days: {days} h");
    let table = ok(lineage(&["token", "list", "--url", &app.url, "--data", path(&data)]));
    assert!(table.contains("dashboard"), "{table}");
    ok(lineage(&["token", "revoke", entry["id"].as_str().unwrap(), "--url", &app.url, "--data", path(&data)]));
    let refused = reader.get("/v1/head").unwrap();
    assert_eq!((refused.status, refused.body["detail"].as_str()), (401, Some("the bearer token was revoked")));
    // Out-of-range expiry is refused, naming the field.
    let bad = app.client.post("/v1/tokens", br#"{"name": "x", "expires_in_days": 0}"#).unwrap();
    assert_eq!((bad.status, bad.body["field"].as_str()), (400, Some("expires_in_days")));
    // Deleting admin.token issues a new one at the next start, and the old one stops working.
    let old = std::fs::read_to_string(app.data().admin_token()).unwrap();
    server.kill();
    std::fs::remove_file(app.data().admin_token()).unwrap();
    let (mut server, port) = start_server(app.dir.path());
    let url = format!("http://127.0.0.1:{port}");
    let new = std::fs::read_to_string(app.data().admin_token()).unwrap();
    assert_eq!(Client::new(&url).with_token(&new).get("/v1/head").unwrap().status, 200);
    assert_eq!(Client::new(&url).with_token(&old).get("/v1/head").unwrap().status, 401);
    server.kill();
}

#[test]
fn every_file_of_a_data_directory_is_its_owners_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server(dir.path());
    let app = attach(dir, port);
    let producer = app.register("mode-prod", "producer");
    app.send(&producer.envelope(
        "acme-client:modes",
        "project_created",
        json!({"content_type": "social", "title": "T", "client_organization": CLIENT}),
    ));
    for i in 0..50 {
        app.send(&producer.envelope(
            "acme-client:modes",
            "note_added",
            json!({"text": format!("{i} {}", "x".repeat(5000))}),
        ));
    }
    server.kill();
    let seen = assert_private(&app.data().root);
    assert!(seen >= 8, "the keys, the token, the origin and the store's files ({seen})");
}

#[test]
fn a_command_whose_reader_goes_away_ends_quietly() {
    use std::io::Read as _;
    let p = Production::new();
    for i in 0..100 {
        p.send(&p.producer, "note_added", json!({"text": format!("{i} {}", "x".repeat(2000))}));
    }
    let token = std::fs::read_to_string(p.app.data().admin_token()).unwrap();
    for args in [
        vec!["export", "--url", p.app.url.as_str(), "--token", token.trim()],
        vec!["status", "acme-client:p1", "--url", p.app.url.as_str(), "--token", token.trim()],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The reader is gone (as `| head -c 1` would be).
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{args:?}: {stderr}");
        assert_ne!(output.status.code(), Some(101), "{args:?}: no panic");
    }
}

/// The name of the ledger in a data directory: its origin file.
fn ledger_name(data: &std::path::Path) -> String {
    std::fs::read_to_string(data.join("origin")).expect("the origin is written").trim().to_owned()
}

#[test]
fn an_export_that_fails_leaves_the_earlier_export_where_it_was() {
    let app = spawn_app();
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("ledger.jsonl");
    ok(lineage(&["export", "--url", &app.url, "--data", path(&app.data().root), "--out", path(&export)]));
    let before = std::fs::read(&export).unwrap();
    assert!(before.len() > 100, "the first export holds the log");
    let refused = lineage(&["export", "--url", &app.url, "--token", "not-a-token", "--out", path(&export)]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("401"), "the refusal is named: {stderr}");
    assert_eq!(std::fs::read(&export).unwrap(), before, "the earlier export is untouched");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("ledger.jsonl")], "no partial file is left behind");
}
