//! The live feed (`GET /v1/feed`, Server-Sent Events) and long polling on `/v1/entries`: every
//! entry once, in log order, across a disconnection and resumption while appends go on; a
//! scoped token never sees another client's entry; filters; refusals.

use crate::helpers::*;
use serde_json::{json, Value};
use std::io::BufRead as _;
use std::time::{Duration, Instant};

/// An open feed: its events as (id, entry) in the order they came.
struct Feed {
    lines: std::io::Lines<std::io::BufReader<Box<dyn std::io::Read + Send + Sync>>>,
}

fn open(app: &TestApp, token: &str, query: &str, last_event_id: Option<u64>) -> Result<Feed, (u16, Value)> {
    let agent = ureq::AgentBuilder::new().timeout_read(Duration::from_secs(20)).build();
    let mut request =
        agent.get(&format!("{}/v1/feed{query}", app.url)).set("Authorization", &format!("Bearer {token}"));
    if let Some(id) = last_event_id {
        request = request.set("Last-Event-ID", &id.to_string());
    }
    match request.call() {
        Ok(response) => {
            assert_eq!(response.content_type(), "text/event-stream");
            Ok(Feed { lines: std::io::BufReader::new(response.into_reader()).lines() })
        }
        Err(ureq::Error::Status(status, response)) => Err((status, response.into_json().unwrap_or(Value::Null))),
        Err(e) => panic!("the feed did not answer: {e}"),
    }
}

impl Feed {
    /// The next entry event: its id and the entry.
    fn next(&mut self) -> (u64, Value) {
        let mut id = None;
        loop {
            let line = self.lines.next().expect("the feed goes on").expect("the feed reads");
            if let Some(rest) = line.strip_prefix("id: ") {
                id = Some(rest.parse().unwrap());
            } else if let Some(data) = line.strip_prefix("data: ") {
                return (id.expect("an event has an id"), serde_json::from_str(data).unwrap());
            }
        }
    }
}

#[test]
fn the_live_feed_catches_up_and_follows_with_no_gap_and_no_duplicate_across_a_reconnection() {
    let p = Production::new();
    let token = p.app.admin_token();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut seen: Vec<u64> = Vec::new();
    std::thread::scope(|s| {
        // Appends go on the whole time: notes, one or a few at a time.
        let appender = s.spawn(|| {
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 120 {
                let notes: Vec<Vec<u8>> = (0..(sent % 3 + 1))
                    .map(|i| p.envelope(&p.producer, "note_added", json!({"text": format!("live {sent}-{i}")})))
                    .collect();
                assert_eq!(p.app.batch(&notes).status, 201);
                sent += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let mut feed = open(&p.app, &token, "", None).unwrap();
        while seen.len() < 60 {
            seen.push(feed.next().0);
        }
        drop(feed);
        // Appends land while the client is away; it comes back with its last event's id.
        std::thread::sleep(Duration::from_millis(100));
        let mut feed = open(&p.app, &token, "", seen.last().copied()).unwrap();
        appender.join().unwrap();
        let head = p.app.head();
        while seen.last().is_none_or(|last| last + 1 < head) {
            seen.push(feed.next().0);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let head = p.app.head();
    assert_eq!(seen, (0..head).collect::<Vec<_>>(), "every entry once, in order");
}

#[test]
fn a_scoped_feed_never_shows_another_clients_entry_and_filters_by_project_and_kind() {
    let p = Production::new();
    p.app.organization("rival-brand", "client");
    let rival = p.app.register_in("rival-producer", "producer", "rival-brand");
    let created = p.app.send(&rival.envelope(
        "rival-brand:secret",
        "project_created",
        json!({"content_type": "social", "title": "Secret", "client_organization": "rival-brand"}),
    ));
    assert_eq!(created.status, 201);
    for i in 0..3 {
        let note = rival.envelope("rival-brand:secret", "note_added", json!({"text": format!("rival {i}")}));
        assert_eq!(p.app.send(&note).status, 201);
    }
    // The last entry is the client's own, so that a scoped reader knows where the log ends.
    assert_eq!(p.send(&p.producer, "note_added", json!({"text": "ours"})).status, 201);
    let scoped = p.app.issue_token(json!({"name": "client", "organization": CLIENT}));
    let head = p.app.head();
    let listed: Vec<u64> = lineage_ledger::cli::client::Client::new(&p.app.url)
        .with_token(&scoped)
        .get("/v1/entries?limit=1000")
        .unwrap()
        .body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sequence"].as_u64().unwrap())
        .collect();
    let mut feed = open(&p.app, &scoped, "", None).unwrap();
    let mut seen = Vec::new();
    while seen.last().is_none_or(|last| last + 1 < head) {
        let (id, entry) = feed.next();
        assert_eq!(entry["project"], p.project.as_str(), "entry {id} is another client's");
        seen.push(id);
    }
    assert_eq!(seen, listed, "the feed shows what the token's pages show");
    // Filters: one kind of one project.
    let mut notes =
        open(&p.app, &p.app.admin_token(), &format!("?project={}&kind=note_added", p.project), None).unwrap();
    let (_, first) = notes.next();
    assert_eq!((first["kind"].as_str(), first["project"].as_str()), (Some("note_added"), Some(p.project.as_str())));
    // Refusals, each naming what is wrong.
    let cases: Vec<(&str, Option<u64>, &str, u16, &str)> = vec![
        ("?kind=nope", None, &scoped, 400, "kind"),
        ("?project=rival-brand:secret", None, &scoped, 403, ""),
        ("?after=x", None, &scoped, 400, ""),
    ];
    for (query, last, token, status, field) in cases {
        let (got, body) = open(&p.app, token, query, last).err().expect("refused");
        assert_eq!(got, status, "{query}: {body}");
        if !field.is_empty() {
            assert_eq!(body["field"], field, "{query}");
        }
    }
    let agent = ureq::AgentBuilder::new().build();
    let bad_id = agent
        .get(&format!("{}/v1/feed", p.app.url))
        .set("Authorization", &format!("Bearer {scoped}"))
        .set("Last-Event-ID", "later")
        .call();
    match bad_id {
        Err(ureq::Error::Status(400, r)) => assert_eq!(r.into_json::<Value>().unwrap()["field"], "Last-Event-ID"),
        other => panic!("a malformed Last-Event-ID: {other:?}"),
    }
    assert_eq!(
        agent.get(&format!("{}/v1/feed", p.app.url)).call().err().map(|e| matches!(e, ureq::Error::Status(401, _))),
        Some(true)
    );
}

#[test]
fn a_long_poll_answers_as_soon_as_an_entry_comes_or_when_its_wait_is_over() {
    let p = Production::new();
    let head = p.app.head();
    let path = format!("/v1/entries?after={}&wait=20", head - 1);
    let began = Instant::now();
    let answer = std::thread::scope(|s| {
        let poll = s.spawn(|| p.app.get(&path));
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(p.send(&p.producer, "note_added", json!({"text": "awaited"})).status, 201);
        poll.join().unwrap()
    });
    assert!(began.elapsed() < Duration::from_secs(15), "answered when the entry came, not at the end of the wait");
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["entries"][0]["sequence"], head);
    let began = Instant::now();
    let empty = p.app.get(&format!("/v1/entries?after={head}&wait=1"));
    assert_eq!((empty.status, empty.body["entries"].as_array().map(Vec::len)), (200, Some(0)));
    assert!(began.elapsed() >= Duration::from_millis(900), "it waited");
    for bad in ["0", "61", "x"] {
        let refused = p.app.get(&format!("/v1/entries?wait={bad}"));
        assert_eq!(refused.status, 400, "wait={bad}: {:?}", refused.body);
    }
    // A long poll from past the log's last entry would only wait: refused, naming `after`.
    let past = p.app.get(&format!("/v1/entries?after={}&wait=1", p.app.head()));
    assert_eq!((past.status, past.body["field"].as_str()), (400, Some("after")), "{:?}", past.body);
}

#[test]
fn a_feed_ends_when_its_token_is_revoked_and_a_token_holds_at_most_four() {
    let p = Production::new();
    let scoped = p.app.issue_token(json!({"name": "watcher", "organization": CLIENT}));
    let head = p.app.head();
    let mut feed = open(&p.app, &scoped, "", Some(head - 1)).unwrap();
    assert_eq!(p.send(&p.producer, "note_added", json!({"text": "seen"})).status, 201);
    assert_eq!(feed.next().0, head);
    // Four open at once, not five.
    let more: Vec<Feed> = (0..3).map(|_| open(&p.app, &scoped, "", Some(head)).unwrap()).collect();
    let (status, problem) = open(&p.app, &scoped, "", None).err().expect("a fifth is refused");
    assert_eq!((status, &problem["type"]), (429, &json!("urn:lineage:problem:too-many-feeds")));
    drop(more);
    p.app.revoke_token_named("watcher");
    assert_eq!(p.send(&p.producer, "note_added", json!({"text": "after revocation"})).status, 201);
    // The stream ends, without the entry appended after the revocation.
    for line in feed.lines.by_ref() {
        let line = line.unwrap_or_default();
        assert!(!line.contains("after revocation"), "{line}");
    }
}

#[test]
fn a_feed_of_a_project_that_does_not_exist_or_is_malformed_is_refused() {
    let p = Production::new();
    let token = p.app.admin_token();
    let past = p.app.head();
    let after_past = format!("?after={past}");
    let table: Vec<(&str, Option<u64>, u16, &str, &str)> = vec![
        ("?project=A!!:b", None, 400, "invalid-query", "project"),
        ("?project=acme-client:nope", None, 404, "not-found", "project"),
        (&after_past, None, 400, "invalid-query", "after"),
        ("", Some(past + 10), 400, "invalid-query", "Last-Event-ID"),
    ];
    for (query, last, status, problem, field) in table {
        let (got, body) = open(&p.app, &token, query, last).err().expect("refused");
        let want = (status, json!(format!("urn:lineage:problem:{problem}")), json!(field));
        assert_eq!((got, body["type"].clone(), body["field"].clone()), want, "{query} {last:?}");
    }
}

#[test]
fn a_feed_opened_with_a_browser_session_ends_when_the_session_does() {
    let p = Production::new();
    let token = p.app.admin_token();
    let agent = ureq::AgentBuilder::new().redirects(0).timeout_read(Duration::from_secs(20)).build();
    let signed_in = agent.post(&format!("{}/ui/sign-in", p.app.url)).send_form(&[("token", &token)]).unwrap();
    let cookie = signed_in.header("Set-Cookie").unwrap().split(';').next().unwrap().to_owned();
    let head = p.app.head();
    let feed = agent
        .get(&format!("{}/v1/feed", p.app.url))
        .set("Cookie", &cookie)
        .set("Last-Event-ID", &(head - 1).to_string())
        .call()
        .unwrap();
    let mut lines = std::io::BufReader::new(feed.into_reader()).lines();
    assert_eq!(p.send(&p.producer, "note_added", json!({"text": "while signed in"})).status, 201);
    assert!(lines.by_ref().map_while(Result::ok).any(|l| l.contains("while signed in")));
    agent.post(&format!("{}/ui/sign-out", p.app.url)).set("Cookie", &cookie).call().unwrap();
    assert_eq!(p.send(&p.producer, "note_added", json!({"text": "after sign-out"})).status, 201);
    let started = Instant::now();
    for line in lines.map_while(Result::ok) {
        assert!(!line.contains("after sign-out"), "{line}");
    }
    assert!(started.elapsed() < Duration::from_secs(15), "the feed ended");
}
