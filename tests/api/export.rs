//! Exports seen from outside: verified offline with every tampering named, through the real
//! binary (`lineage export`, `verify`, `import`), and nothing accepted after the checkpoint line.

use crate::helpers::*;
use crate::transparency::{checkpoint, verifier, with_notes};
use base64::Engine as _;
use lineage_ledger::crypto::checkpoint::NoteVerifier;
use lineage_ledger::log::export::{verify, VerifyError};
use serde_json::{json, Value};

fn export(app: &TestApp) -> Vec<String> {
    let answer = app.get("/v1/export");
    assert_eq!(answer.status, 200);
    answer.text.lines().map(str::to_owned).collect()
}

fn verify_lines(lines: &[String], vkey: Option<&str>) -> Result<u64, VerifyError> {
    let text = lines.join("\n") + "\n";
    verify(std::io::Cursor::new(text), vkey, false).map(|v| v.size)
}

fn broken_at(result: Result<u64, VerifyError>) -> u64 {
    match result {
        Err(VerifyError::Entry(b)) => b.sequence,
        other => panic!("expected a bad entry, got {other:?}"),
    }
}

#[test]
fn an_export_verifies_offline_and_every_tampering_is_named() {
    let p = with_notes(10);
    let lines = export(&p.app);
    let vkey = verifier(&p.app).vkey();
    let size = verify_lines(&lines, Some(&vkey)).expect("the export verifies");
    assert_eq!(size, p.app.head());
    // Entries' lines, each followed by its new subjects' blinds.
    let line_of =
        |sequence: u64| lines.iter().position(|l| l.starts_with(&format!("{{\"sequence\":{sequence},"))).unwrap();
    assert_eq!(lines.iter().filter(|l| l.starts_with("{\"sequence\":")).count() as u64, size);
    let (twelve, thirteen) = (line_of(12), line_of(13));

    // One byte flipped inside entry 12's envelope.
    let mut flipped = lines.clone();
    let mut record: Value = serde_json::from_str(&flipped[twelve]).unwrap();
    let mut envelope = base64::engine::general_purpose::STANDARD.decode(record["envelope"].as_str().unwrap()).unwrap();
    let at = envelope.len() / 2;
    envelope[at] ^= 0x01;
    record["envelope"] = json!(base64::engine::general_purpose::STANDARD.encode(envelope));
    flipped[twelve] = record.to_string();
    assert_eq!(broken_at(verify_lines(&flipped, Some(&vkey))), 12);

    // Entry 12 removed.
    let mut removed = lines.clone();
    removed.remove(twelve);
    assert_eq!(broken_at(verify_lines(&removed, Some(&vkey))), 12);

    // Entries 12 and 13 swapped.
    let mut swapped = lines.clone();
    swapped.swap(twelve, thirteen);
    assert_eq!(broken_at(verify_lines(&swapped, Some(&vkey))), 12);

    // The checkpoint re-signed with another key: refused against the trusted key.
    let other = ed25519_dalek::SigningKey::from_bytes(&[42; 32]);
    let head = checkpoint(&p.app);
    let mut resigned = lines.clone();
    let last = resigned.len() - 1;
    resigned[last] = json!({"checkpoint": head.sign(&head.origin, &other)}).to_string();
    assert_eq!(broken_at(verify_lines(&resigned, Some(&vkey))), size - 1);

    // A whole forged export, keys and all, is refused against the trusted key.
    let forged_vkey = NoteVerifier { name: head.origin.clone(), key: other.verifying_key() }.vkey();
    assert!(matches!(verify_lines(&lines, Some(&forged_vkey)), Err(VerifyError::Key(_))));
}

/// Runs the real binary.
fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lineage")).args(args).output().unwrap()
}

/// Exports a production's log with the real binary; returns its data directory and the file.
fn exported(p: &Production) -> (std::path::PathBuf, std::path::PathBuf) {
    let data = p.app.dir.path().join("data");
    let file = p.app.dir.path().join("export.jsonl");
    let exported =
        run(&["export", "--url", &p.app.url, "--data", data.to_str().unwrap(), "--out", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    (data, file)
}

#[test]
fn the_cli_exports_verifies_and_imports() {
    let p = with_notes(5);
    let (data, file) = exported(&p);
    let vkey = verifier(&p.app).vkey();
    let verified = run(&["verify", file.to_str().unwrap(), "--vkey", &vkey]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(String::from_utf8_lossy(&verified.stdout).contains(&format!("verified {} entries", p.app.head())));

    // A tampered copy is refused, naming the entry, and cannot be imported.
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // Entry 5 and the blinds of the subjects it names first.
    let at = lines.iter().position(|l| l.starts_with("{\"sequence\":5,")).unwrap();
    lines.remove(at);
    while lines[at].starts_with("{\"subject\":") {
        lines.remove(at);
    }
    let bad = p.app.dir.path().join("bad.jsonl");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let refused = run(&["verify", bad.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("entry 5"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let target = tempfile::tempdir().unwrap();
    let ledger_key = data.join("ledger.key");
    let import_bad = run(&[
        "import",
        bad.to_str().unwrap(),
        "--data",
        target.path().join("data").to_str().unwrap(),
        "--ledger-key",
        ledger_key.to_str().unwrap(),
    ]);
    assert!(!import_bad.status.success());
    assert!(!target.path().join("data").join("store").exists(), "nothing was written");

    // Nor into a directory holding anything already (a stale admin token of another ledger).
    let occupied = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(occupied.path().join("data")).unwrap();
    std::fs::write(occupied.path().join("data/admin.token"), "lin_stale\n").unwrap();
    let into_occupied = run(&[
        "import",
        file.to_str().unwrap(),
        "--data",
        occupied.path().join("data").to_str().unwrap(),
        "--ledger-key",
        ledger_key.to_str().unwrap(),
    ]);
    assert!(!into_occupied.status.success());
    assert!(
        String::from_utf8_lossy(&into_occupied.stderr).contains("is not empty"),
        "{}",
        String::from_utf8_lossy(&into_occupied.stderr)
    );
    assert!(!occupied.path().join("data/store").exists(), "nothing was written");
    // The good one imports, and a server on it serves the same log.
    let imported = run(&[
        "import",
        file.to_str().unwrap(),
        "--data",
        target.path().join("data").to_str().unwrap(),
        "--ledger-key",
        ledger_key.to_str().unwrap(),
    ]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    // The admin's key comes back from the backup (docs/operations.md).
    std::fs::copy(data.join("admin.key"), target.path().join("data/admin.key")).unwrap();
    let (mut child, port) = start_server(target.path());
    let restored = attach(target, port);
    assert_eq!(checkpoint(&restored), checkpoint(&p.app));
    assert_eq!(restored.stream("acme-client:p1").len(), p.app.stream("acme-client:p1").len());
    let again = restored.send(&p.envelope(&p.producer, "note_added", json!({"text": "after the restore"})));
    assert_eq!(again.status, 201, "{:?}", again.body);
    child.kill();
}

#[test]
fn verify_and_import_refuse_whatever_follows_the_checkpoint_line() {
    let p = with_notes(3);
    let (data, file) = exported(&p);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let checkpoint_line = lines.len();
    // An entry line of the log itself, copied after the checkpoint: well formed, signed, and
    // covered by no checkpoint.
    let forged_entry = lines[3];
    // (case, what follows the checkpoint line)
    // The checkpoint line with a line its signed note does not need.
    let mut padded: Value = serde_json::from_str(lines[checkpoint_line - 1]).unwrap();
    padded["checkpoint"] = json!(format!("{}junk\n", padded["checkpoint"].as_str().unwrap()));
    let head: Vec<&str> = lines[..checkpoint_line - 1].to_vec();
    let cases: [(&str, String); 5] = [
        ("an entry line", format!("{text}{forged_entry}\n")),
        ("junk", format!("{text}not even JSON\n")),
        ("an empty line", format!("{text}\n")),
        ("a second checkpoint line", format!("{text}{}\n", lines[checkpoint_line - 1])),
        ("a line inside the signed note", format!("{}\n{padded}\n", head.join("\n"))),
    ];
    for (case, content) in cases {
        let bad = p.app.dir.path().join("trailing.jsonl");
        std::fs::write(&bad, content).unwrap();
        let verified = run(&["verify", bad.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&verified.stderr);
        assert!(!verified.status.success(), "{case}: {}", String::from_utf8_lossy(&verified.stdout));
        assert!(verified.stdout.is_empty(), "{case}: nothing on stdout: {}", String::from_utf8_lossy(&verified.stdout));
        let named = stderr.contains(&format!("line {}", checkpoint_line + 1)) && stderr.contains("nothing may follow");
        assert!(named || stderr.contains("more than the checkpoint and its one signature"), "{case}: {stderr}");
        let target = tempfile::tempdir().unwrap();
        let imported = run(&[
            "import",
            bad.to_str().unwrap(),
            "--data",
            target.path().join("data").to_str().unwrap(),
            "--ledger-key",
            data.join("ledger.key").to_str().unwrap(),
        ]);
        assert!(!imported.status.success(), "{case}");
        assert!(!target.path().join("data").join("store").exists(), "{case}: nothing was written");
    }
}
