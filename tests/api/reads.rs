use crate::helpers::*;
use lineage_ledger::cli::client::Client;
use serde_json::{json, Value};

#[test]
fn the_project_stream_pages_with_a_cursor() {
    let p = Production::new();
    let first = p.app.get("/v1/projects/acme-client:p1/events?limit=3");
    assert_eq!(first.status, 200);
    let versions: Vec<u64> =
        first.body["entries"].as_array().unwrap().iter().map(|e| e["version"].as_u64().unwrap()).collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(first.body["next"], 3, "the cursor of the next page: the last version of this one");
    let length = p.app.stream("acme-client:p1").len() as u64;
    let last = p.app.get(&format!("/v1/projects/acme-client:p1/events?after={}&limit=3", length - 2));
    let versions: Vec<u64> =
        last.body["entries"].as_array().unwrap().iter().map(|e| e["version"].as_u64().unwrap()).collect();
    assert_eq!(versions, [length - 1, length]);
    assert!(last.body["next"].is_null());
    assert_eq!(p.app.get("/v1/projects/acme-client:nope/events?after=3").status, 404, "past the end of nothing");
    let past = p.app.get("/v1/projects/acme-client:p1/events?after=99");
    assert_eq!(past.status, 200);
    assert_eq!(past.body["entries"].as_array().unwrap().len(), 0);
}

#[test]
fn the_feed_pages_in_ledger_order() {
    let p = Production::new();
    let page = p.app.get("/v1/entries?after=1&limit=5");
    let seqs: Vec<u64> =
        page.body["entries"].as_array().unwrap().iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [2, 3, 4, 5, 6]);
    assert_eq!(page.body["next"], 6);
    let again = p.app.get("/v1/entries?after=6&limit=1");
    assert_eq!(again.body["entries"][0]["sequence"], 7, "the next page starts after the cursor");
    let head = p.app.head();
    let end = p.app.get(&format!("/v1/entries?after={}", head - 2));
    assert_eq!(end.body["entries"].as_array().unwrap().len(), 1);
    assert!(end.body["next"].is_null());
}

#[test]
fn bad_reads_are_problems() {
    let p = Production::new();
    let cases: &[(&str, u16, &str)] = &[
        ("/v1/entries?limit=0", 400, "invalid-query"),
        ("/v1/entries?limit=1001", 400, "invalid-query"),
        ("/v1/entries?limit=abc", 400, "invalid-query"),
        ("/v1/entries?after=-1", 400, "invalid-query"),
        ("/v1/entries?from=2", 400, "invalid-query"),
        ("/v1/projects/acme-client:p1/events?from_version=2", 400, "invalid-query"),
        ("/v1/entries?colour=teal", 400, "invalid-query"),
        ("/v1/projects/acme-client:p1/events?limit=5000", 400, "invalid-query"),
        ("/v1/entries/abc", 400, "invalid-path"),
        ("/v1/entries/999999", 404, "not-found"),
        ("/v1/events/no-such-event", 404, "not-found"),
        ("/v1/projects/nowhere/events", 404, "not-found"),
        ("/v1/projects/a%2Fb/events", 400, "invalid-path"),
        ("/v1/actors/nobody", 404, "not-found"),
        ("/v1/nothing-here", 404, "not-found"),
    ];
    for (path, status, problem) in cases {
        let answer = p.app.get(path);
        assert_eq!(answer.status, *status, "{path}: {:?}", answer.body);
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{path}");
    }
}

#[test]
fn reads_need_a_token_scoped_to_the_project() {
    let p = Production::new();
    let answer = |client: &Client, path: &str| client.get(path).unwrap();
    for path in [
        "/v1/entries",
        "/v1/entries/0",
        "/v1/head",
        "/v1/actors",
        "/v1/projects/acme-client:p1/events",
        "/v1/events/genesis-admin",
    ] {
        let anon = answer(&p.app.anon, path);
        assert_eq!(anon.status, 401, "{path}");
        assert_eq!(anon.body["type"], "urn:lineage:problem:unauthorized");
        let bad = answer(&Client::new(&p.app.url).with_token("lin_0000"), path);
        assert_eq!(bad.status, 401, "{path}");
    }
    let issued = p
        .app
        .client
        .post("/v1/tokens", json!({"name": "dam", "projects": ["acme-client:p1"]}).to_string().as_bytes())
        .unwrap();
    assert_eq!(issued.status, 201, "{:?}", issued.body);
    let scoped = Client::new(&p.app.url).with_token(issued.body["token"].as_str().unwrap());
    assert_eq!(answer(&scoped, "/v1/projects/acme-client:p1/events").status, 200);
    let in_p1 = p.app.stream("acme-client:p1")[0]["sequence"].as_u64().unwrap();
    assert_eq!(answer(&scoped, &format!("/v1/entries/{in_p1}")).status, 200, "an entry of p1");
    let hidden = answer(&scoped, "/v1/entries/0");
    assert_eq!(hidden.status, 404, "the genesis entry is in the system stream, answered as a missing entry");
    assert_eq!(hidden.body["type"], "urn:lineage:problem:not-found");
    let feed = answer(&scoped, "/v1/entries?limit=1000");
    assert_eq!(feed.status, 200, "the feed shows a scoped token its projects");
    let projects: Vec<&str> =
        feed.body["entries"].as_array().unwrap().iter().map(|e| e["project"].as_str().unwrap()).collect();
    assert!(!projects.is_empty() && projects.iter().all(|p| *p == "acme-client:p1"), "{projects:?}");
    assert_eq!(answer(&scoped, "/v1/projects/acme-client:p2/events").status, 403);
    let not_admin = scoped.post("/v1/tokens", br#"{"name": "x"}"#).unwrap();
    assert_eq!(not_admin.status, 403);
    let bad_request = p.app.client.post("/v1/tokens", br#"{"name": "x", "projects": ["a/b"]}"#).unwrap();
    assert_eq!(bad_request.status, 400);
    assert_eq!(bad_request.body["type"], "urn:lineage:problem:invalid-token-request");
    // The system stream is never a scoped token's: it names every organisation's actors.
    let head = p.app.head();
    let system =
        p.app.client.post("/v1/tokens", br#"{"name": "x", "projects": ["acme-client:p1", "system"]}"#).unwrap();
    assert_eq!(system.status, 400, "{:?}", system.body);
    assert_eq!(system.body["type"], "urn:lineage:problem:invalid-token-request");
    assert_eq!(system.body["field"], "projects");
    assert_eq!(answer(&scoped, "/v1/projects/system/events").status, 403);
    assert_eq!(p.app.head(), head);
}

#[test]
fn an_event_is_found_by_its_id() {
    let p = Production::new();
    let sent = p.send(&p.producer, "note_added", json!({"text": "find me"}));
    let id = sent.body["event_id"].as_str().unwrap();
    let found = p.app.get(&format!("/v1/events/{id}"));
    assert_eq!(found.status, 200);
    assert_eq!(found.body["sequence"], sent.body["sequence"]);
    assert_eq!(found.body["payload"]["body"]["text"], "find me");
}

#[test]
fn health_and_docs_are_open() {
    let app = spawn_app();
    assert_eq!(app.anon.get("/healthz").unwrap().status, 200);
    assert_eq!(app.anon.get("/readyz").unwrap().status, 200);
    let served = app.anon.get("/openapi.json").unwrap();
    assert_eq!(served.status, 200);
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("openapi/openapi.json").unwrap()).unwrap();
    assert_eq!(served.body, committed, "the served document is the committed one");
    let docs = ureq::get(&format!("{}/docs/", app.url)).call().unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.into_string().unwrap().contains("swagger"), "the docs page is served offline");
}

#[test]
fn a_wrong_method_is_a_problem() {
    let app = spawn_app();
    let response = ureq::request("DELETE", &format!("{}/v1/entries", app.url)).call();
    let response = match response {
        Err(ureq::Error::Status(_, r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(response.status(), 405);
    assert_eq!(response.content_type(), "application/problem+json");
}

#[test]
fn keygen_sign_and_append_from_the_command_line() {
    let app = spawn_app();
    let bin = env!("CARGO_BIN_EXE_lineage");
    let run = |args: &[&str]| std::process::Command::new(bin).args(args).output().unwrap();
    let dir = app.dir.path();
    let key_path = dir.join("lea.key");
    let keygen = run(&["keygen", "--actor", "lea", "--key-id", "lea-1", "--out", key_path.to_str().unwrap()]);
    assert!(keygen.status.success());
    assert_eq!(mode_of(&key_path), 0o600);
    let public_key = String::from_utf8(keygen.stdout).unwrap().trim().to_owned();
    app.organization(AGENCY, "agency");
    app.organization(CLIENT, "client");
    let registered = app.send(&app.admin.envelope(
        "system",
        "actor_registered",
        json!({"actor_id": "lea", "display_name": "Lea", "role": "producer", "organization": AGENCY, "keys": [{"key_id": "lea-1", "public_key": public_key}]}),
    ));
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    let payload = dir.join("payload.json");
    let text = format!(
        r#"{{"event_id":"cli-1","project":"acme-client:cli","kind":"project_created","schema_version":2,"actor":"lea","occurred_at":"2026-11-27T10:00:00Z","ledger":"{}","body":{{"content_type":"social","title":"From the shell","client_organization":"acme-client"}}}}"#,
        app.ledger
    );
    std::fs::write(&payload, text).unwrap();
    let signed = run(&["sign", "--key", key_path.to_str().unwrap(), payload.to_str().unwrap()]);
    assert!(signed.status.success());
    let envelope = dir.join("envelope.json");
    std::fs::write(&envelope, &signed.stdout).unwrap();
    let appended = run(&["append", "--url", &app.url, envelope.to_str().unwrap()]);
    assert!(appended.status.success(), "{}", String::from_utf8_lossy(&appended.stdout));
    let entry: serde_json::Value = serde_json::from_slice(&appended.stdout).unwrap();
    assert_eq!(entry["kind"], "project_created");
    assert_eq!(entry["payload"]["body"]["title"], "From the shell");
    let again = run(&["append", "--url", &app.url, envelope.to_str().unwrap(), envelope.to_str().unwrap()]);
    assert!(again.status.success(), "a batch of the same event twice is idempotent");
    let refused = run(&["keygen", "--actor", "lea", "--key-id", "lea-2", "--out", key_path.to_str().unwrap()]);
    assert!(!refused.status.success(), "keygen never overwrites a key file");
}

/// `GET /v1/projects`: every project the token may read, as the log says now and after a
/// restart.
#[test]
fn projects_are_listed_as_far_as_the_token_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server(dir.path());
    let app = attach(dir, port);
    app.organization("rival-brand", "client");
    let producer = app.register("list-prod", "producer");
    let rival = app.register_in("list-rival", "producer", "rival-brand");
    for (signer, project, content, client) in [
        (&producer, "acme-client:list-a", "campaign", CLIENT),
        (&producer, "acme-client:list-b", "ecomm", CLIENT),
        (&rival, "rival-brand:list-r", "social", "rival-brand"),
    ] {
        let created = app.send(&signer.envelope(
            project,
            "project_created",
            json!({"content_type": content, "title": "T", "client_organization": client}),
        ));
        assert_eq!(created.status, 201, "{:?}", created.body);
    }
    let last = app.send(&producer.envelope("acme-client:list-a", "note_added", json!({"text": "latest"})));
    assert_eq!(last.status, 201);
    let listed = |client: &Client| -> Vec<Value> {
        let answer = client.get("/v1/projects").unwrap();
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body["projects"].as_array().unwrap().clone()
    };
    let all = listed(&app.client);
    let names: Vec<&str> = all.iter().map(|p| p["project"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["acme-client:list-a", "acme-client:list-b", "rival-brand:list-r"],
        "every project, by id, never the system stream"
    );
    let a = &all[0];
    assert_eq!(
        (a["content_type"].as_str(), a["client_organization"].as_str(), a["governed"].as_bool()),
        (Some("campaign"), Some(CLIENT), Some(true))
    );
    assert_eq!(a["events"], 2);
    assert_eq!(a["title"], "T", "the title its creation gave it");
    let received = app.get(&format!("/v1/entries/{}", last.body["sequence"])).body["received_at"].clone();
    assert_eq!(a["last_activity"], received, "the last entry's time");
    // A token scoped to the rival sees its project only; a token listing projects, those.
    let token = |body: Value| {
        let answer = app.client.post("/v1/tokens", body.to_string().as_bytes()).unwrap();
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        Client::new(&app.url).with_token(answer.body["token"].as_str().unwrap())
    };
    let seen = |client: &Client| -> Vec<String> {
        listed(client).iter().map(|p| p["project"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(seen(&token(json!({"name": "rival", "organization": "rival-brand"}))), ["rival-brand:list-r"]);
    assert_eq!(seen(&token(json!({"name": "b", "projects": ["acme-client:list-b"]}))), ["acme-client:list-b"]);
    assert_eq!(app.anon.get("/v1/projects").unwrap().status, 401);
    // The same after a restart.
    server.kill();
    let (mut server, port) = start_server(app.dir.path());
    let app = attach(app.dir, port);
    assert_eq!(listed(&app.client), all);
    server.kill();
}
