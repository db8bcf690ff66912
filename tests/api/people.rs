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
    let table_cases: [(&[&str], &[&str]); 5] = [
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
