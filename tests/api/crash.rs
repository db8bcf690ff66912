//! Kills the real server process (SIGKILL) during concurrent appends, restarts it on the same
//! data directory, and checks that every acknowledged event is there exactly once and every
//! chain is whole.

use crate::append::{all_entries, assert_chains};
use crate::helpers::*;
use lineage_ledger::cli::client::Signer;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn cycles() -> usize {
    std::env::var("LINEAGE_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(5)
}

#[test]
fn acknowledged_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start_server(dir.path());
    let app = attach(dir, port);
    let producers: Vec<Signer> = (0..3).map(|i| app.register(&format!("crash-prod-{i}"), "producer")).collect();
    for (i, p) in producers.iter().enumerate() {
        assert_eq!(
            app.send(&p.envelope(
                &format!("crash-{i}"),
                "project_created",
                json!({"content_type": "campaign", "title": "T"})
            ))
            .status,
            201
        );
    }
    let mut app = app;
    let acknowledged: Mutex<HashMap<String, u64>> = Mutex::new(HashMap::new());
    // Every batch sent, acknowledged or not: after a crash each is there whole or not at all.
    let batches: Mutex<Vec<Vec<String>>> = Mutex::new(Vec::new());
    let mut seed = 0x9e3779b97f4a7c15u64;
    for cycle in 0..cycles() {
        let stop = AtomicBool::new(false);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = Duration::from_millis(150 + seed % 400);
        std::thread::scope(|s| {
            for (i, p) in producers.iter().enumerate() {
                for t in 0..4 {
                    let (app, stop, acknowledged, batches) = (&app, &stop, &acknowledged, &batches);
                    s.spawn(move || {
                        let mut n = 0;
                        while !stop.load(Ordering::Relaxed) {
                            n += 1;
                            let project = format!("crash-{i}");
                            let answer = if n % 3 == 0 {
                                let payloads: Vec<serde_json::Value> = (0..5)
                                    .map(|k| {
                                        p.payload(
                                            &project,
                                            "note_added",
                                            json!({"text": format!("{cycle}-{t}-{n}-{k}")}),
                                        )
                                    })
                                    .collect();
                                batches.lock().unwrap().push(
                                    payloads.iter().map(|v| v["event_id"].as_str().unwrap().to_owned()).collect(),
                                );
                                let batch: Vec<Vec<u8>> = payloads.iter().map(|v| p.sign(v)).collect();
                                app.anon.append_batch(&batch)
                            } else {
                                app.anon.append(&p.envelope(
                                    &project,
                                    "note_added",
                                    json!({"text": format!("{cycle}-{t}-{n}")}),
                                ))
                            };
                            let Ok(answer) = answer else { break };
                            if answer.status == 201 {
                                let entries = match answer.body.get("entries") {
                                    Some(list) => list.as_array().unwrap().clone(),
                                    None => vec![answer.body.clone()],
                                };
                                let mut acked = acknowledged.lock().unwrap();
                                for e in entries {
                                    acked.insert(
                                        e["event_id"].as_str().unwrap().to_owned(),
                                        e["sequence"].as_u64().unwrap(),
                                    );
                                }
                            }
                        }
                    });
                }
            }
            let started = Instant::now();
            while started.elapsed() < kill_after {
                std::thread::sleep(Duration::from_millis(10));
            }
            child.kill();
            stop.store(true, Ordering::Relaxed);
        });
        let (restarted, port) = start_server(app.dir.path());
        child = restarted;
        app = attach(app.dir, port);
        let entries = all_entries(&app);
        assert_chains(&entries);
        let mut seen: HashMap<String, u64> = HashMap::new();
        for (e, _) in &entries {
            let id = e["event_id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone(), e["sequence"].as_u64().unwrap()).is_none(), "{id} appears twice");
        }
        for batch in batches.lock().unwrap().iter() {
            let present = batch.iter().filter(|id| seen.contains_key(*id)).count();
            assert!(
                present == 0 || present == batch.len(),
                "cycle {cycle}: a partial batch is visible: {present} of {}",
                batch.len()
            );
        }
        // The Merkle root of what is there is the one the checkpoint signs.
        let note = app.anon.get("/v1/checkpoint").unwrap().text;
        let vkey = app.anon.get("/v1/vkey").unwrap().text;
        let verifier = lineage_ledger::crypto::checkpoint::NoteVerifier::parse(vkey.trim()).unwrap();
        let checkpoint = lineage_ledger::crypto::checkpoint::Checkpoint::open(&note, &verifier).unwrap();
        let mut frontier = lineage_ledger::crypto::merkle::Frontier::default();
        for (e, _) in &entries {
            frontier.push(hex::decode(e["leaf_hash"].as_str().unwrap()).unwrap().try_into().unwrap());
        }
        assert_eq!(
            (checkpoint.size, checkpoint.root),
            (frontier.size(), frontier.root()),
            "cycle {cycle}: the checkpoint covers the log"
        );
        // The projections the server folded at start equal a fold of the stored entries.
        let last = entries.len() - 1;
        for project in ["crash-0", "crash-1", "crash-2"] {
            let now = app.get(&format!("/v1/projects/{project}/status"));
            let rebuilt = app.get(&format!("/v1/projects/{project}/status?as_of={last}"));
            assert_eq!(now.body, rebuilt.body, "cycle {cycle}: projections of {project}");
        }
        let acked = acknowledged.lock().unwrap();
        for (id, sequence) in acked.iter() {
            assert_eq!(seen.get(id), Some(sequence), "cycle {cycle}: acknowledged event {id} is missing or moved");
        }
        assert!(acked.len() > 10 * (cycle + 1), "cycle {cycle}: appends were acknowledged ({})", acked.len());
    }
    child.kill();
}

#[test]
fn sigterm_drains_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port) = start_server(dir.path());
    let app = attach(dir, port);
    let producer = app.register("term-prod", "producer");
    assert_eq!(
        app.send(&producer.envelope("term", "project_created", json!({"content_type": "social", "title": "T"}))).status,
        201
    );
    let acknowledged: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let status = std::thread::scope(|s| {
        for t in 0..4 {
            let (app, producer, acknowledged, stop) = (&app, &producer, &acknowledged, &stop);
            s.spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    match app.anon.append(&producer.envelope("term", "note_added", json!({"text": format!("{t}-{n}")})))
                    {
                        Ok(a) if a.status == 201 => {
                            acknowledged.lock().unwrap().push(a.body["event_id"].as_str().unwrap().to_owned())
                        }
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        // SAFETY: kill(2) with our own child's pid and a signal number; no memory is shared.
        let sent = unsafe { libc::kill(child.0.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM delivered");
        let deadline = Instant::now() + Duration::from_secs(40);
        let status = loop {
            if let Some(status) = child.0.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "the server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        stop.store(true, Ordering::Relaxed);
        status
    });
    assert!(status.success(), "exit status {status:?}");
    let (_restarted, port) = start_server(app.dir.path());
    let app = attach(app.dir, port);
    let stored: std::collections::HashSet<String> =
        all_entries(&app).iter().map(|(e, _)| e["event_id"].as_str().unwrap().to_owned()).collect();
    let acknowledged = acknowledged.lock().unwrap();
    assert!(!acknowledged.is_empty());
    for id in acknowledged.iter() {
        assert!(stored.contains(id), "acknowledged {id} survived the shutdown");
    }
}
