//! `/metrics` in the Prometheus text format, read by `prometheus_client`'s parser; request ids.
//! Metrics are the process's, shared by the tests' servers: values are checked as at least what
//! this test did.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::Write as _;
use std::process::{Command, Stdio};

/// The samples of `/metrics`, as prometheus_client parses them.
fn scrape(app: &TestApp) -> Value {
    let response = ureq::get(&format!("{}/metrics", app.url)).call().unwrap();
    assert!(response.content_type().starts_with("text/plain"), "{}", response.content_type());
    let text = response.into_string().unwrap();
    let mut parser = Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/metrics_check.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    parser.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let output = parser.wait_with_output().unwrap();
    assert!(output.status.success(), "prometheus_client refused:\n{text}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn sample(scraped: &Value, key: &str) -> f64 {
    scraped["samples"][key].as_f64().unwrap_or_else(|| panic!("no sample {key}: {scraped}"))
}

#[test]
fn metrics_parse_and_count_appends_refusals_commits_feeds_and_webhooks() {
    let p = Production::on(
        spawn_app_with(|s| {
            s.webhooks.allow_local = true;
        }),
        "p1",
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let created = p.app.client.post("/v1/webhooks", json!({"url": url}).to_string().as_bytes()).unwrap();
    assert_eq!(created.status, 201);
    // A receiver that answers 204 to whatever comes.
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if std::io::BufRead::read_line(&mut reader, &mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    let mut body = vec![0; length];
                    std::io::Read::read_exact(&mut reader, &mut body).unwrap();
                    let mut stream = &stream;
                    stream.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n").unwrap();
                    length = 0;
                }
            }
        }
    });
    let token = p.app.admin_token();
    let feed =
        ureq::get(&format!("{}/v1/feed", p.app.url)).set("Authorization", &format!("Bearer {token}")).call().unwrap();
    let before = scrape(&p.app);
    for i in 0..3 {
        assert_eq!(p.send(&p.producer, "note_added", json!({"text": format!("n{i}")})).status, 201);
    }
    let mut stale = p.producer.payload(&p.project, "note_added", json!({"text": "stale"}));
    stale["expected_version"] = json!(1);
    assert_eq!(p.app.send(&p.producer.sign(&stale)).body["type"], "urn:lineage:problem:version-conflict");
    let started = std::time::Instant::now();
    let after = loop {
        let after = scrape(&p.app);
        if sample(&after, "lineage_webhook_deliveries_total{}") >= 3.0 || started.elapsed().as_secs() > 20 {
            break after;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let grew = |key: &str| sample(&after, key) - before["samples"][key].as_f64().unwrap_or(0.0);
    assert!(grew("lineage_entries_appended_total{}") >= 3.0);
    assert!(grew("lineage_append_requests_total{outcome=accepted}") >= 3.0);
    assert!(grew("lineage_append_requests_total{outcome=version-conflict}") >= 1.0);
    assert!(grew("lineage_problems_total{type=version-conflict}") >= 1.0);
    assert!(grew("lineage_commit_seconds_count{}") >= 3.0);
    assert!(grew("lineage_fsync_seconds_count{}") >= 3.0);
    assert!(grew("lineage_append_request_envelopes_count{}") >= 4.0);
    assert!(sample(&after, "lineage_feed_subscribers{}") >= 1.0);
    assert!(sample(&after, "lineage_webhook_deliveries_total{}") >= 3.0);
    assert!(sample(&after, "lineage_log_entries{}") >= p.app.head() as f64);
    assert_eq!(after["types"]["lineage_commit_seconds"], "histogram");
    assert_eq!(after["types"]["lineage_writer_waiting_requests"], "gauge");
    drop(feed);
}

#[test]
fn every_answer_carries_a_request_id_and_a_plain_one_given_is_kept() {
    let app = spawn_app();
    let mine = ureq::get(&format!("{}/healthz", app.url)).set("X-Request-Id", "pipeline-7.42").call().unwrap();
    assert_eq!(mine.header("x-request-id"), Some("pipeline-7.42"));
    let refused = ureq::get(&format!("{}/v1/entries/x", app.url)).set("X-Request-Id", "bad id with spaces").call();
    let Err(ureq::Error::Status(401, response)) = refused else { panic!("{refused:?}") };
    let id = response.header("x-request-id").unwrap().to_owned();
    assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "a new id, not the one given: {id}");
}
