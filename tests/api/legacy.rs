//! A log written by the release before organisations (`tests/data/legacy-v1`): it verifies,
//! imports and starts under this one, its schema_version 1 events read as they were written, its
//! project keeps the rules it was accepted under, and an admin can adopt it into governance.

use crate::helpers::*;
use lineage_ledger::crypto::keys::KeyFile;
use serde_json::json;
use std::path::Path;
use std::process::Command;

const FIXTURE: &str = "tests/data/legacy-v1";
const PROJECT: &str = "aurora-legacy";

fn lineage(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lineage")).args(args).output().expect("the binary runs")
}

fn fixture(name: &str) -> String {
    let path = Path::new(FIXTURE).join(name);
    assert!(path.exists(), "the fixture {} is part of the repository", path.display());
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_log_of_the_release_before_organisations_verifies_imports_serves_and_can_be_adopted() {
    let vkey = std::fs::read_to_string(fixture("vkey")).unwrap().trim().to_owned();
    let verified = lineage(&["verify", "--vkey", &vkey, &fixture("export.jsonl")]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("verified 70 entries"));

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let imported = lineage(&[
        "import",
        "--data",
        data.to_str().unwrap(),
        "--ledger-key",
        &fixture("ledger.key"),
        &fixture("export.jsonl"),
    ]);
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    std::fs::copy(fixture("admin.key"), data.join("admin.key")).unwrap();
    let (_server, port) = start_server(dir.path());
    let app = attach(dir, port);
    assert_eq!(app.head(), 70);

    // The project reads as it was: a legacy project under the legacy rule set.
    let status = app.get(&format!("/v1/projects/{PROJECT}/status"));
    assert_eq!(status.status, 200, "{:?}", status.body);
    assert_eq!(status.body["events"], 59);
    let governance = app.get(&format!("/v1/projects/{PROJECT}/governance")).body;
    assert_eq!((governance["governed"].clone(), governance["rule_set"].clone()), (json!(false), json!("legacy@1")));
    let evidence = app.get(&format!("/v1/projects/{PROJECT}/assets/hero-billboard/evidence"));
    assert_eq!(evidence.status, 200);
    let bundle: lineage_ledger::log::evidence::Bundle = serde_json::from_str(&evidence.text).unwrap();
    let proven = lineage_ledger::log::evidence::verify(&bundle, Some(&vkey)).expect("a legacy bundle verifies");
    // No workflow policy judged its deliveries: their verdict says so; their bytes find them.
    let verdict = app.get(&format!("/v1/projects/{PROJECT}/assets/hero-billboard/verdict")).body;
    assert_eq!(verdict["verdict"], "fail", "{verdict}");
    assert_eq!(verdict["checks"][0]["check"], "rules_at_delivery");
    assert!(verdict["checks"][0]["reasons"][0].as_str().unwrap().contains("not governed"), "{verdict}");
    let (_, _, digest) = proven.deliveries.iter().find(|(_, variant, _)| variant.as_str() == "hero-billboard").unwrap();
    let found = app.get(&format!("/v1/assets?digest={digest}")).body;
    assert_eq!(found["assets"][0]["asset"], "hero-billboard", "{found}");
    let readiness = app.get(&format!(
        "/v1/projects/{PROJECT}/assets/hero-master-v2/readiness?medium=large_format&format=pdf-x4&channel=billboard"
    ));
    assert_eq!(readiness.body["rule_set"], "legacy@1", "{:?}", readiness.body);
    assert_eq!(readiness.body["ready"], true, "it was delivered so under its rules: {:?}", readiness.body);

    // Its actors go on signing there by their registered roles; new events are of this release.
    let admin = app.signer(KeyFile::load(&app.data().admin_key()).unwrap());
    let note = app.send(&admin.envelope(PROJECT, "note_added", json!({"text": "read under the new release"})));
    assert_eq!(note.status, 201, "{:?}", note.body);
    let members = app.send(&admin.envelope(PROJECT, "member_added", json!({"actor_id": "admin", "role": "producer"})));
    assert_eq!(members.status, 422, "no members before adoption: {:?}", members.body);
    assert_eq!(members.body["field"], "payload.project");

    // Adopted for its client, it is governed from then on.
    app.organization(CLIENT, "client");
    let adopted = app.send(&admin.envelope(
        PROJECT,
        "project_adopted",
        json!({"client_organization": CLIENT, "reason": "under organisations from now on"}),
    ));
    assert_eq!(adopted.status, 201, "{:?}", adopted.body);
    let governance = app.get(&format!("/v1/projects/{PROJECT}/governance")).body;
    assert_eq!(governance["governed"], true);
    assert_eq!(governance["rule_set"], "campaign@3", "adopted now, it is judged by the current rule set");
    let again =
        app.send(&admin.envelope(PROJECT, "project_adopted", json!({"client_organization": CLIENT, "reason": "r"})));
    assert_eq!((again.status, again.body["field"].clone()), (422, json!("payload.body")), "{:?}", again.body);
    let newcomer = app.register("new-producer", "producer");
    let refused = app.send(&newcomer.envelope(PROJECT, "note_added", json!({"text": "hello"})));
    assert_eq!(refused.body["type"], "urn:lineage:problem:not-a-member", "{:?}", refused.body);
    let added =
        app.send(&admin.envelope(PROJECT, "member_added", json!({"actor_id": "new-producer", "role": "producer"})));
    assert_eq!(added.status, 201, "{:?}", added.body);
    assert_eq!(app.send(&newcomer.envelope(PROJECT, "note_added", json!({"text": "hello"}))).status, 201);

    // The whole log, old entries and new, verifies offline.
    let export = app.dir.path().join("after.jsonl");
    let data = app.data().root;
    let exported =
        lineage(&["export", "--url", &app.url, "--data", data.to_str().unwrap(), "--out", export.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let verified = lineage(&["verify", "--vkey", &vkey, export.to_str().unwrap()]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
}
