//! The command line for people: tables by default, the API's JSON with `--json`, problems on
//! stderr with nothing on stdout — the real binary against the demo.

use crate::helpers::*;
use std::process::Command;

#[test]
fn reads_print_tables_json_on_request_and_problems_on_stderr() {
    let app = spawn_app();
    let admin = lineage_ledger::crypto::keys::KeyFile::load(&app.data().admin_key()).unwrap();
    lineage_ledger::cli::demo::run(&app.client, admin, "aurora").expect("the demo runs");
    let token = std::fs::read_to_string(app.data().admin_token()).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(args)
            .args(["--url", app.url.as_str(), "--token", token.trim()])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let p = "aurora-outdoor:aurora";
    let table_cases: [(&[&str], &[&str]); 6] = [
        (
            &["provenance", p, "hero-billboard"],
            &["asset:hero-billboard\n", "  generated_by → delivery:dl-billboard", "(above)"],
        ),
        (&["projects"], &["PROJECT", "aurora-outdoor:aurora", "campaign"]),
        (&["status", p], &["STAGE", "exploration  completed", "production   completed"]),
        (&["audit", p, "hero-master-v2"], &["SIGNATURE", "post_edit_applied", "valid"]),
        (
            &["history", p, "--kind", "generation_recorded", "--limit", "5"],
            &["generation_recorded", "more: lineage history"],
        ),
        (
            &["readiness", p, "img-15", "--medium", "digital", "--format", "jpeg", "--channel", "web"],
            &["NOT READY", "FAIL  qc.passed"],
        ),
    ];
    for (args, phrases) in table_cases {
        let (code, out, err) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        for phrase in phrases {
            assert!(out.contains(phrase), "{args:?} prints {phrase:?}:\n{out}");
        }
        assert!(!out.trim_start().starts_with('{'), "{args:?} prints a table, not JSON");
        let mut json = args.to_vec();
        json.push("--json");
        let (code, out, _) = run(&json);
        assert_eq!(code, Some(0));
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok(), "{args:?} --json prints the API's JSON");
    }
    let (code, out, err) = run(&["status", "aurora-outdoor:ghost"]);
    assert_eq!(code, Some(1));
    assert_eq!(out, "", "nothing on stdout when the server refuses");
    assert!(err.contains("urn:lineage:problem:not-found") && err.contains("does not exist"), "{err}");
}

/// Operators register an organisation and actors and manage members without writing a payload:
/// each command signs the event and says what it recorded; a refusal names the problem.
#[test]
fn operators_register_organisations_actors_and_members_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, port) = start_server(dir.path());
    let url = format!("http://127.0.0.1:{port}");
    let data = dir.path().join("data");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(args)
            .args(["--url", url.as_str(), "--data", data.to_str().unwrap()])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let keygen = |actor: &str| {
        let file = dir.path().join(format!("{actor}.key"));
        let out = Command::new(env!("CARGO_BIN_EXE_lineage"))
            .args(["keygen", "--actor", actor, "--key-id", &format!("{actor}-1"), "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        file
    };
    let (code, out, err) = run(&["org", "add", "northlight", "--name", "Northlight Creative", "--kind", "agency"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("registered organisation `northlight` (entry "), "{out}");
    run(&["org", "add", "acme", "--name", "Acme", "--kind", "client"]);
    let maya = keygen("maya");
    let lea = keygen("lea");
    for (key, role) in [(&maya, "producer"), (&lea, "ai_artist")] {
        let (code, out, err) = run(&[
            "actor",
            "add",
            "--key",
            key.to_str().unwrap(),
            "--name",
            "Someone",
            "--role",
            role,
            "--organization",
            "northlight",
        ]);
        assert_eq!(code, Some(0), "{err}");
        assert!(out.contains(&format!("({role} of northlight) with key")), "{out}");
    }
    // The producer creates a project (a payload of its own), then adds and removes lea.
    let client = lineage_ledger::cli::client::Client::new(&url);
    let ledger = client.ledger_name().unwrap();
    let producer =
        lineage_ledger::cli::client::Signer::new(lineage_ledger::crypto::keys::KeyFile::load(&maya).unwrap(), &ledger);
    let created = client
        .append(&producer.envelope(
            "acme:launch",
            "project_created",
            serde_json::json!({"content_type": "social", "title": "Launch", "client_organization": "acme"}),
        ))
        .unwrap();
    assert!(created.ok(), "{:?}", created.body);
    let (code, out, err) =
        run(&["member", "add", "acme:launch", "lea", "--role", "ai_artist", "--key", maya.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("added `lea` to `acme:launch` as ai_artist"), "{out}");
    let (code, out, err) =
        run(&["member", "remove", "acme:launch", "lea", "--reason", "wrapped", "--key", maya.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("removed `lea` from `acme:launch`"), "{out}");
    // A refusal: lea is no producer; nothing on stdout, the problem on stderr.
    let (code, out, err) =
        run(&["member", "add", "acme:launch", "maya", "--role", "producer", "--key", lea.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert!(err.contains("adding `maya` to `acme:launch` was refused"), "{err}");
    let (code, _, err) = run(&["org", "add", "acme", "--name", "Acme", "--kind", "client"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("registering organisation `acme` was refused"), "{err}");
}

/// A server that cannot be reached is named once, with how to point the command elsewhere; a
/// missing token file says which option gives one.
#[test]
fn unreachable_servers_and_missing_tokens_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lineage")).current_dir(dir.path()).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(&["status", "acme:p", "--url", "http://127.0.0.1:1", "--token", "lin_x"]);
    assert_eq!((code, out.as_str()), (Some(1), ""));
    assert_eq!(err.matches("http://127.0.0.1:1").count(), 1, "the URL once: {err}");
    assert!(err.contains("cannot reach the server") && err.contains("--url or LINEAGE_URL"), "{err}");
    let (code, _, err) = run(&["projects", "--url", "http://127.0.0.1:1"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no read token: ./data/admin.token"), "{err}");
    assert!(err.contains("--token (or LINEAGE_TOKEN)") && err.contains("--data (or LINEAGE_DATA)"), "{err}");
}
