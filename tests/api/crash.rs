//! Kills the real server process (SIGKILL) during concurrent appends, restarts it on the same
//! data directory, and checks that every acknowledged event is there exactly once and every
//! chain is whole.

use crate::append::{all_entries, assert_chains};
use crate::helpers::*;
use lineage_ledger::client::Signer;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn cycles() -> usize {
    std::env::var("LINEAGE_CRASH_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
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
                    let (app, stop, acknowledged) = (&app, &stop, &acknowledged);
                    s.spawn(move || {
                        let mut n = 0;
                        while !stop.load(Ordering::Relaxed) {
                            n += 1;
                            let project = format!("crash-{i}");
                            let answer = if n % 3 == 0 {
                                let batch: Vec<Vec<u8>> = (0..5)
                                    .map(|k| {
                                        p.envelope(
                                            &project,
                                            "note_added",
                                            json!({"text": format!("{cycle}-{t}-{n}-{k}")}),
                                        )
                                    })
                                    .collect();
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
        let acked = acknowledged.lock().unwrap();
        for (id, sequence) in acked.iter() {
            assert_eq!(seen.get(id), Some(sequence), "cycle {cycle}: acknowledged event {id} is missing or moved");
        }
        assert!(acked.len() > 10 * (cycle + 1), "cycle {cycle}: appends were acknowledged ({})", acked.len());
    }
    child.kill();
}
