//! Webhooks (Standard Webhooks): every delivery verified by the `standardwebhooks` package in a
//! receiver on 127.0.0.1 (tests/webhook_receiver.py); retried after failures, in order; every
//! acknowledged entry received across a kill and restart of the server while the receiver is
//! down; 410 disables; a scoped endpoint never gets another client's entry; replay, pause,
//! rotation; refused registrations write nothing.

use crate::helpers::*;
use lineage_ledger::cli::client::{Answer, Client};
use serde_json::{json, Value};
use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python receiver, killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
    secrets: PathBuf,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start(port: u16, options: &[&str]) -> Receiver {
        let dir = tempfile::tempdir().unwrap();
        let (log, secrets) = (dir.path().join("log"), dir.path().join("secrets"));
        let mut child = Command::new("python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/webhook_receiver.py"))
            .args(["--port", &port.to_string(), "--log"])
            .arg(&log)
            .arg("--secrets")
            .arg(&secrets)
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the receiver");
        let line = std::io::BufReader::new(child.stdout.take().unwrap()).lines().next();
        let port = match line {
            Some(Ok(line)) => line.strip_prefix("listening on ").unwrap().parse().unwrap(),
            other => panic!("the receiver did not start (is `standardwebhooks` installed?): {other:?}"),
        };
        Receiver { child, port, log, secrets, _dir: dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Tells the receiver its secrets, whole at once (written aside and renamed into place).
    fn trust(&self, secrets: &[&str]) {
        let aside = self.secrets.with_extension("new");
        std::fs::write(&aside, secrets.join("\n")).unwrap();
        std::fs::rename(&aside, &self.secrets).unwrap();
    }

    fn records(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The deliveries it took, once it has taken `n` (or panics after 60 s).
    fn wait_for(&self, n: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let records = self.records();
            assert!(records.iter().all(|r| r.get("bad").is_none()), "a delivery did not verify: {records:?}");
            let taken: Vec<Value> = records.into_iter().filter(|r| r.get("id").is_some()).collect();
            if taken.len() >= n {
                return taken;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "{} of {n} deliveries after 60 s", taken.len());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn sequences(taken: &[Value]) -> Vec<u64> {
    taken.iter().map(|r| r["sequence"].as_u64().unwrap()).collect()
}

fn local_app() -> TestApp {
    spawn_app_with(|s| {
        s.webhooks.allow_local = true;
        s.webhooks.retry_base = Duration::from_millis(40);
    })
}

fn register(client: &Client, body: Value) -> Answer {
    client.post("/v1/webhooks", body.to_string().as_bytes()).unwrap()
}

fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let answer = ureq::request("PATCH", &format!("{}{path}", app.url))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string());
    match answer {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(s, r)) => (s, r.into_json().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

fn notes(p: &Production, n: usize, tag: &str) -> Vec<u64> {
    (0..n)
        .map(|i| {
            let answer = p.send(&p.producer, "note_added", json!({"text": format!("{tag} {i}")}));
            assert_eq!(answer.status, 201);
            answer.body["sequence"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn every_entry_arrives_verified_once_taken_in_order_after_failed_attempts() {
    let p = Production::on(local_app(), "p1");
    let receiver = Receiver::start(0, &["--fail-first", "3"]);
    let from = p.app.head();
    let created = register(&p.app.client, json!({"url": receiver.url(), "project": p.project, "from": from}));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    receiver.trust(&[created.body["secret"].as_str().unwrap()]);
    let sent = notes(&p, 12, "hello");
    let taken = receiver.wait_for(12);
    assert_eq!(sequences(&taken), sent, "each entry once taken, in log order");
    for record in &taken {
        assert_eq!(record["id"], format!("msg_{id}_{}", record["sequence"]));
        assert_eq!(record["type"], "entry.note_added");
    }
    // The first entry was refused three times, then taken; the log says so.
    let log = p.app.client.get(&format!("/v1/webhooks/{id}/deliveries?sequence={}", sent[0])).unwrap();
    let attempts: Vec<(u64, Option<u64>, bool)> = log.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["attempt"].as_u64().unwrap(), a["status"].as_u64(), a["delivered"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        attempts,
        vec![(4, Some(204), true), (3, Some(500), false), (2, Some(500), false), (1, Some(500), false)]
    );
    let shown = p.app.client.get(&format!("/v1/webhooks/{id}")).unwrap();
    assert_eq!(shown.body["next_sequence"], p.app.head());
    assert!(shown.body.get("secret").is_none(), "the secret is shown once");
}

#[test]
fn every_acknowledged_entry_arrives_across_a_kill_and_restart_while_the_receiver_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--webhook-allow-local", "--webhook-retry-ms", "50"];
    let (mut server, port) = start_server_with(dir.path(), &args, &[]);
    let app = attach(dir, port);
    let p = Production::on(app, "p1");
    // A port nothing listens on, for now.
    let down = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{down}/hook");
    let created = register(&p.app.client, json!({"url": url, "from": 0}));
    assert_eq!(created.status, 201, "{:?}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_owned();
    let mut acknowledged = notes(&p, 20, "before");
    let batch: Vec<Vec<u8>> =
        (0..30).map(|i| p.envelope(&p.producer, "note_added", json!({"text": format!("b {i}")}))).collect();
    let answer = p.app.batch(&batch);
    assert_eq!(answer.status, 201);
    let last = p.app.head() - 1;
    acknowledged.extend(last - 29..=last);
    server.kill();
    let (server, port) = start_server_with(p.app.dir.path(), &args, &[]);
    let receiver = Receiver::start(down, &[]);
    receiver.trust(&[&secret]);
    let restarted = Client::new(&format!("http://127.0.0.1:{port}")).with_token(&p.app.admin_token());
    let head = restarted.get("/v1/head").unwrap().body["size"].as_u64().unwrap();
    assert_eq!(head, last + 1, "every acknowledged entry is in the log after the kill");
    let taken = receiver.wait_for(head as usize);
    let got = sequences(&taken);
    let mut distinct = got.clone();
    distinct.dedup();
    assert_eq!(distinct, (0..head).collect::<Vec<_>>(), "every entry, in order, once taken");
    assert!(acknowledged.iter().all(|s| got.contains(s)));
    drop(server);
}

#[test]
fn an_endpoint_that_answers_410_is_disabled_and_resumed_by_its_owner() {
    let p = Production::on(local_app(), "p1");
    let receiver = Receiver::start(0, &["--gone-after", "2"]);
    let created = register(&p.app.client, json!({"url": receiver.url(), "kinds": ["note_added"]}));
    let id = created.body["id"].as_str().unwrap().to_owned();
    receiver.trust(&[created.body["secret"].as_str().unwrap()]);
    let sent = notes(&p, 4, "gone");
    receiver.wait_for(2);
    let started = Instant::now();
    let shown = loop {
        let shown = p.app.client.get(&format!("/v1/webhooks/{id}")).unwrap().body;
        if shown["status"] == "disabled" || started.elapsed() > Duration::from_secs(20) {
            break shown;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(shown["status"], "disabled");
    assert!(shown["reason"].as_str().unwrap().contains("410"), "{shown}");
    assert_eq!(shown["next_sequence"], sent[2], "stopped at the entry refused");
    let token = p.app.admin_token();
    let (status, resumed) = patch(&p.app, &token, &format!("/v1/webhooks/{id}"), json!({"status": "active"}));
    assert_eq!((status, &resumed["status"]), (200, &json!("active")));
}

#[test]
fn an_organisations_endpoint_never_gets_another_clients_entries() {
    let p = Production::on(local_app(), "p1");
    p.app.organization("rival-brand", "client");
    let rival = p.app.register_in("rival-producer", "producer", "rival-brand");
    let scoped = p.app.issue_token(json!({"name": "client hook", "organization": CLIENT}));
    let client = Client::new(&p.app.url).with_token(&scoped);
    let receiver = Receiver::start(0, &[]);
    let created = register(&client, json!({"url": receiver.url(), "from": 0}));
    assert_eq!(created.status, 201, "{:?}", created.body);
    receiver.trust(&[created.body["secret"].as_str().unwrap()]);
    let secret_project = "rival-brand:secret";
    let made = p.app.send(&rival.envelope(
        secret_project,
        "project_created",
        json!({"content_type": "social", "title": "Secret", "client_organization": "rival-brand"}),
    ));
    assert_eq!(made.status, 201);
    for i in 0..3 {
        assert_eq!(
            p.app.send(&rival.envelope(secret_project, "note_added", json!({"text": format!("r{i}")}))).status,
            201
        );
    }
    let ours = notes(&p, 2, "ours");
    let readable: Vec<u64> = Client::new(&p.app.url).with_token(&scoped).get("/v1/entries?limit=1000").unwrap().body
        ["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    assert!(readable.ends_with(&ours));
    let taken = receiver.wait_for(readable.len());
    assert_eq!(sequences(&taken), readable, "exactly what the token reads");
    assert!(taken.iter().all(|r| r["project"] == p.project), "{taken:?}");
    // Neither the admin's endpoints nor its id are another token's to see or change.
    let others =
        Client::new(&p.app.url).with_token(&p.app.issue_token(json!({"name": "other", "organization": CLIENT})));
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(others.get("/v1/webhooks").unwrap().body["webhooks"], json!([]));
    assert_eq!(others.get(&format!("/v1/webhooks/{id}")).unwrap().status, 404);
    assert_eq!(others.delete(&format!("/v1/webhooks/{id}")).unwrap().status, 404);
    assert_eq!(p.app.client.get("/v1/webhooks").unwrap().body["webhooks"].as_array().unwrap().len(), 1);
    // A revoked token's endpoint stops.
    p.app.revoke_token_named("client hook");
    notes(&p, 1, "after revocation");
    let started = Instant::now();
    while p.app.client.get(&format!("/v1/webhooks/{id}")).unwrap().body["status"] != "disabled" {
        assert!(started.elapsed() < Duration::from_secs(20), "the revoked token's endpoint goes on");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(receiver.wait_for(0).len(), readable.len());
}

#[test]
fn replay_pause_and_rotation() {
    let p = Production::on(local_app(), "p1");
    let receiver = Receiver::start(0, &[]);
    let token = p.app.admin_token();
    let created = register(&p.app.client, json!({"url": receiver.url(), "project": p.project}));
    let id = created.body["id"].as_str().unwrap().to_owned();
    let first = created.body["secret"].as_str().unwrap().to_owned();
    receiver.trust(&[&first]);
    let sent = notes(&p, 3, "one");
    receiver.wait_for(3);
    // Replayed from the second: the same ids again, in order.
    let replayed = p
        .app
        .client
        .post(&format!("/v1/webhooks/{id}/deliveries"), json!({"from": sent[1]}).to_string().as_bytes())
        .unwrap();
    assert_eq!(replayed.status, 202, "{:?}", replayed.body);
    let taken = receiver.wait_for(5);
    assert_eq!(sequences(&taken), vec![sent[0], sent[1], sent[2], sent[1], sent[2]]);
    assert_eq!(taken[3]["id"], taken[1]["id"]);
    // Paused: nothing is sent; resumed: what came meanwhile is.
    let (status, _) = patch(&p.app, &token, &format!("/v1/webhooks/{id}"), json!({"status": "paused"}));
    assert_eq!(status, 200);
    let meanwhile = notes(&p, 2, "paused");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.wait_for(5).len(), 5);
    patch(&p.app, &token, &format!("/v1/webhooks/{id}"), json!({"status": "active"}));
    assert_eq!(sequences(&receiver.wait_for(7))[5..], meanwhile[..]);
    // Rotated: deliveries carry both signatures; a receiver that knows only the new one verifies.
    let rotated = p.app.client.post(&format!("/v1/webhooks/{id}/secret"), b"").unwrap();
    assert_eq!(rotated.status, 200, "{:?}", rotated.body);
    let second = rotated.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    receiver.trust(&[&second, &first]);
    notes(&p, 1, "rotated");
    let last = receiver.wait_for(8).pop().unwrap();
    assert_eq!((last["signatures"].as_u64(), &last["verified_by"]), (Some(2), &json!([0, 1])));
    // Deleted: nothing more.
    assert_eq!(p.app.client.delete(&format!("/v1/webhooks/{id}")).unwrap().status, 204);
    notes(&p, 1, "deleted");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.wait_for(8).len(), 8);
    assert_eq!(p.app.client.get(&format!("/v1/webhooks/{id}")).unwrap().status, 404);
}

/// Each refused registration: its problem type, field, and nothing kept.
#[test]
fn refused_registrations_name_the_problem_and_keep_nothing() {
    let p = Production::new();
    p.app.organization("rival-brand", "client");
    let scoped = p.app.issue_token(json!({"name": "scoped", "organization": CLIENT}));
    let listed = p.app.issue_token(json!({"name": "listed", "projects": [p.project]}));
    let head = p.app.head();
    let table: Vec<(&str, &str, Value, u16, &str, &str)> = vec![
        ("admin", "loopback", json!({"url": "http://127.0.0.1:9/hook"}), 422, "webhook-url-refused", "url"),
        ("admin", "localhost", json!({"url": "http://localhost:9/"}), 422, "webhook-url-refused", "url"),
        ("admin", "metadata", json!({"url": "http://169.254.169.254/latest"}), 422, "webhook-url-refused", "url"),
        ("admin", "mapped", json!({"url": "http://[::ffff:127.0.0.1]/"}), 422, "webhook-url-refused", "url"),
        ("admin", "scheme", json!({"url": "file:///etc/passwd"}), 422, "invalid-webhook", "url"),
        ("admin", "not a url", json!({"url": "hook"}), 422, "invalid-webhook", "url"),
        ("admin", "credentials", json!({"url": "http://a:b@10.0.0.1/"}), 422, "invalid-webhook", "url"),
        (
            "admin",
            "kind",
            json!({"url": "http://10.0.0.1/", "kinds": ["note_added", "nope"]}),
            422,
            "invalid-webhook",
            "kinds/1",
        ),
        (
            "admin",
            "project",
            json!({"url": "http://10.0.0.1/", "project": "acme-client:none"}),
            422,
            "invalid-webhook",
            "project",
        ),
        (
            "admin",
            "organization",
            json!({"url": "http://10.0.0.1/", "organization": "nobody"}),
            422,
            "invalid-webhook",
            "organization",
        ),
        (
            "admin",
            "both",
            json!({"url": "http://10.0.0.1/", "project": p.project, "organization": CLIENT}),
            422,
            "invalid-webhook",
            "organization",
        ),
        ("admin", "from", json!({"url": "http://10.0.0.1/", "from": head + 5}), 422, "invalid-webhook", "from"),
        (
            "admin",
            "description",
            json!({"url": "http://10.0.0.1/", "description": "two\nlines"}),
            422,
            "invalid-webhook",
            "description",
        ),
        (
            "admin",
            "unknown field",
            json!({"url": "http://10.0.0.1/", "secret": "mine"}),
            422,
            "invalid-webhook",
            "secret",
        ),
        ("admin", "no url", json!({"kinds": []}), 422, "invalid-webhook", "url"),
        (
            "admin",
            "kinds not a list",
            json!({"url": "http://10.0.0.1/", "kinds": "note_added"}),
            422,
            "invalid-webhook",
            "kinds",
        ),
        ("admin", "negative from", json!({"url": "http://10.0.0.1/", "from": -1}), 422, "invalid-webhook", "from"),
        ("admin", "port 0", json!({"url": "http://10.0.0.1:0/"}), 422, "invalid-webhook", "url"),
        (
            "scoped",
            "other organisation",
            json!({"url": "http://10.0.0.1/", "organization": "rival-brand"}),
            403,
            "forbidden",
            "",
        ),
        ("listed", "an organisation", json!({"url": "http://10.0.0.1/", "organization": CLIENT}), 403, "forbidden", ""),
        ("scoped", "system", json!({"url": "http://10.0.0.1/", "project": "system"}), 403, "forbidden", ""),
        ("none", "no token", json!({"url": "http://10.0.0.1/"}), 401, "unauthorized", ""),
    ];
    for (who, case, body, status, problem, field) in table {
        let client = match who {
            "admin" => p.app.client.clone_with_token(),
            "scoped" => Client::new(&p.app.url).with_token(&scoped),
            "listed" => Client::new(&p.app.url).with_token(&listed),
            _ => Client::new(&p.app.url),
        };
        let answer = register(&client, body);
        assert_eq!(answer.status, status, "{case}: {:?}", answer.body);
        assert_eq!(answer.body["type"], format!("urn:lineage:problem:{problem}"), "{case}");
        if !field.is_empty() {
            assert_eq!(answer.body["field"], field, "{case}");
        }
    }
    assert_eq!(p.app.client.get("/v1/webhooks").unwrap().body["webhooks"], json!([]));
    let folders = std::fs::read_dir(p.app.dir.path().join("data/webhooks")).unwrap().count();
    assert_eq!(folders, 0, "nothing kept");
    // Changes and replays are checked too.
    let created = register(&p.app.client, json!({"url": "http://10.0.0.1/"}));
    let id = created.body["id"].as_str().unwrap();
    let token = p.app.admin_token();
    let (status, problem) = patch(&p.app, &token, &format!("/v1/webhooks/{id}"), json!({"status": "stopped"}));
    assert_eq!((status, &problem["field"]), (422, &json!("status")));
    let replay = p
        .app
        .client
        .post(&format!("/v1/webhooks/{id}/deliveries"), json!({"from": head + 100}).to_string().as_bytes())
        .unwrap();
    assert_eq!((replay.status, &replay.body["field"]), (422, &json!("from")));
    let missing = p.app.client.get("/v1/webhooks/wh_0000000000000000/deliveries").unwrap();
    assert_eq!(missing.status, 404);
}

#[test]
fn a_damaged_endpoint_is_set_aside_and_the_ledger_still_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, port) = start_server(dir.path());
    let app = attach(dir, port);
    let created = register(&app.client, json!({"url": "http://10.0.0.1/"}));
    let id = created.body["id"].as_str().unwrap().to_owned();
    server.kill();
    let folder = app.dir.path().join("data/webhooks").join(&id);
    std::fs::write(folder.join("endpoint.json"), b"{ not json").unwrap();
    let (_server, port) = start_server(app.dir.path());
    let restarted = Client::new(&format!("http://127.0.0.1:{port}")).with_token(&app.admin_token());
    assert_eq!(restarted.get("/v1/webhooks").unwrap().body["webhooks"], json!([]));
    assert!(app.dir.path().join("data/webhooks").join(format!("{id}.damaged")).join("endpoint.json").exists());
}

#[test]
fn past_the_most_endpoints_a_registration_is_refused() {
    let app = spawn_app_with(|s| s.webhooks.max_endpoints = 2);
    for _ in 0..2 {
        assert_eq!(register(&app.client, json!({"url": "http://10.0.0.1/"})).status, 201);
    }
    let refused = register(&app.client, json!({"url": "http://10.0.0.1/"}));
    assert_eq!((refused.status, &refused.body["type"]), (422, &json!("urn:lineage:problem:limit-exceeded")));
    assert_eq!(app.client.get("/v1/webhooks").unwrap().body["webhooks"].as_array().unwrap().len(), 2);
}

#[test]
fn a_token_registers_at_most_ten_endpoints() {
    let app = spawn_app();
    app.register("someone", "producer");
    let scoped = Client::new(&app.url).with_token(&app.issue_token(json!({"name": "many", "organization": CLIENT})));
    for _ in 0..10 {
        assert_eq!(register(&scoped, json!({"url": "http://10.0.0.1/"})).status, 201);
    }
    let refused = register(&scoped, json!({"url": "http://10.0.0.1/"}));
    assert_eq!((refused.status, &refused.body["type"]), (422, &json!("urn:lineage:problem:limit-exceeded")));
    assert!(refused.body["detail"].as_str().unwrap().contains("a token"), "{}", refused.body);
    // Others still register.
    assert_eq!(register(&app.client, json!({"url": "http://10.0.0.1/"})).status, 201);
}

#[test]
fn an_endpoint_failing_across_a_restart_keeps_its_failure_and_back_off() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["--webhook-allow-local", "--webhook-retry-ms", "200"];
    let (mut server, port) = start_server_with(dir.path(), &args, &[]);
    let app = attach(dir, port);
    let receiver = Receiver::start(0, &["--fail-first", "100000"]);
    let created = register(&app.client, json!({"url": receiver.url(), "from": 0}));
    receiver.trust(&[created.body["secret"].as_str().unwrap()]);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let failing = |client: &Client| client.get(&format!("/v1/webhooks/{id}")).unwrap().body["failing"].clone();
    let started = Instant::now();
    let before = loop {
        let f = failing(&app.client);
        if f["attempts"].as_u64().unwrap_or(0) >= 3 {
            break f;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{f}");
        std::thread::sleep(Duration::from_millis(50));
    };
    server.kill();
    let (_server, port) = start_server_with(app.dir.path(), &args, &[]);
    let restarted = Client::new(&format!("http://127.0.0.1:{port}")).with_token(&app.admin_token());
    let after = failing(&restarted);
    assert_eq!(after["since"], before["since"], "the failure is as old as it was");
    assert!(after["attempts"].as_u64().unwrap() >= before["attempts"].as_u64().unwrap(), "{before} {after}");
}

#[test]
fn an_idle_endpoint_of_a_revoked_token_is_disabled_without_waiting_for_an_entry() {
    let app = spawn_app();
    app.register("someone", "producer");
    let scoped = app.issue_token(json!({"name": "short-lived", "organization": CLIENT}));
    let created = register(&Client::new(&app.url).with_token(&scoped), json!({"url": "http://10.0.0.1/"}));
    let id = created.body["id"].as_str().unwrap().to_owned();
    app.revoke_token_named("short-lived");
    let started = Instant::now();
    loop {
        let shown = app.get(&format!("/v1/webhooks/{id}")).body;
        if shown["status"] == "disabled" {
            assert!(shown["reason"].as_str().unwrap().contains("revoked"), "{shown}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(25), "still {shown}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
