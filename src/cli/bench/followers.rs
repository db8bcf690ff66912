//! `--followers N`: N live feeds and N webhook endpoints follow the log while the workloads run
//! (each endpoint posting to a receiver in this process that answers 204 at once). Afterwards the
//! bench times how long the endpoints take to deliver what is left (deliveries per second) and
//! measures the feed's latency: from an append's answer to its event on a feed.

use super::load::percentile;
use super::workloads::Bench;
use super::{generation, setup, Row};
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead as _, Read as _, Write as _};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Appends timed one at a time for the feed's latency.
const PROBES: usize = 1000;

pub(super) struct Followers {
    count: usize,
    stop: Arc<AtomicBool>,
    delivered: Arc<AtomicU64>,
    /// When the first feed saw each sequence, while probing.
    arrivals: Arc<Mutex<HashMap<u64, Instant>>>,
    probing: Arc<AtomicBool>,
    started: Instant,
}

/// Answers 204 to every request of a connection, counting them.
fn receive(stream: std::net::TcpStream, delivered: &AtomicU64) -> std::io::Result<()> {
    let mut reader = std::io::BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if line == "\r\n" {
                break;
            }
        }
        std::io::copy(&mut (&mut reader).take(length as u64), &mut std::io::sink())?;
        writer.write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")?;
        delivered.fetch_add(1, Ordering::Relaxed);
    }
}

impl Followers {
    /// Opens `count` feeds and registers `count` endpoints, from the log's end on.
    pub fn start(bench: &Bench, count: usize) -> Result<Followers, String> {
        let head = bench.client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(0);
        let followers = Followers {
            count,
            stop: Arc::new(AtomicBool::new(false)),
            delivered: Arc::new(AtomicU64::new(0)),
            arrivals: Arc::new(Mutex::new(HashMap::new())),
            probing: Arc::new(AtomicBool::new(false)),
            started: Instant::now(),
        };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let delivered = followers.delivered.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let delivered = delivered.clone();
                std::thread::spawn(move || receive(stream, &delivered));
            }
        });
        for i in 0..count {
            let body = json!({"url": format!("http://{address}/hook/{i}"), "from": head});
            let answer = bench.client.post("/v1/webhooks", body.to_string().as_bytes()).map_err(|e| e.to_string())?;
            if answer.status != 201 {
                return Err(format!(
                    "registering a webhook (is the server started with --webhook-allow-local?): {}",
                    answer.body
                ));
            }
        }
        for i in 0..count {
            let (stop, arrivals, probing) =
                (followers.stop.clone(), followers.arrivals.clone(), followers.probing.clone());
            // A token per feed, as each integration has its own (a token holds few feeds).
            let issued = bench
                .client
                .post("/v1/tokens", json!({"name": format!("bench feed {i}")}).to_string().as_bytes())
                .map_err(|e| e.to_string())?;
            let token = issued.body["token"].as_str().ok_or_else(|| format!("issuing a token: {}", issued.body))?;
            let request = ureq::get(&format!("{}/v1/feed", bench.url))
                .set("Authorization", &format!("Bearer {token}"))
                .set("Last-Event-ID", &head.saturating_sub(1).to_string());
            let response = request.call().map_err(|e| format!("opening a feed: {e}"))?;
            std::thread::spawn(move || {
                let mut reader = std::io::BufReader::with_capacity(1 << 16, response.into_reader());
                if i > 0 {
                    // The other feeds only take what is sent, as cheaply as the bench can, so that
                    // it leaves the shared cores to the server.
                    let mut buffer = vec![0u8; 1 << 16];
                    while !stop.load(Ordering::Relaxed) && reader.read(&mut buffer).is_ok_and(|n| n > 0) {}
                    return;
                }
                for line in reader.lines() {
                    let Ok(line) = line else { return };
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    if let (true, Some(id)) = (probing.load(Ordering::Relaxed), line.strip_prefix("id: ")) {
                        if let Ok(sequence) = id.parse() {
                            arrivals.lock().expect("not poisoned").insert(sequence, Instant::now());
                        }
                    }
                }
            });
        }
        eprintln!("following with {count} feeds and {count} webhook endpoints from entry {head}");
        Ok(followers)
    }

    /// Waits for every endpoint to deliver up to the log's end; records the deliveries per
    /// second over the whole run and over the catch-up after the appends; then the feed's
    /// latency.
    pub fn finish(self, bench: &mut Bench) -> Result<(), String> {
        let head = bench.client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(0);
        let (catch_up, before) = (Instant::now(), self.delivered.load(Ordering::Relaxed));
        loop {
            let listed = bench.client.get("/v1/webhooks").map_err(|e| e.to_string())?.body;
            let hooks = listed["webhooks"].as_array().cloned().unwrap_or_default();
            if hooks.iter().all(|h| h["next_sequence"].as_u64().unwrap_or(0) >= head) {
                break;
            }
            if catch_up.elapsed() > Duration::from_secs(1800) {
                return Err("the webhooks did not catch up in 30 minutes".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let all = self.delivered.load(Ordering::Relaxed);
        let row = |workload: String, events: u64, seconds: f64| Row {
            workload,
            clients: self.count,
            requests: events as usize,
            events: events as usize,
            errors: 0,
            seconds,
            events_per_second: events as f64 / seconds.max(1e-9),
            p50_ms: 0.0,
            p95_ms: 0.0,
            p99_ms: 0.0,
            server_peak_rss_mb: None,
        };
        for row in [
            row(format!("webhooks, {} endpoints, whole run", self.count), all, self.started.elapsed().as_secs_f64()),
            row(
                format!("webhooks, {} endpoints, catch-up", self.count),
                all - before,
                catch_up.elapsed().as_secs_f64(),
            ),
        ] {
            eprintln!(
                "{:<40} {:>9.0} deliveries/s ({} in {:.1} s)",
                row.workload, row.events_per_second, row.events, row.seconds
            );
            bench.rows.push(row);
        }
        self.latency(bench)?;
        self.stop.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Appends [`PROBES`] single events one after another and measures, for each, the time from
    /// its answer to its event on the first feed (0 when the event came first).
    fn latency(&self, bench: &mut Bench) -> Result<(), String> {
        let s = setup(&bench.client, &bench.admin, &format!("{}-latency", bench.run_id), 1)?;
        self.probing.store(true, Ordering::Relaxed);
        let mut acknowledged = Vec::with_capacity(PROBES);
        let started = Instant::now();
        for i in 0..PROBES {
            bench.counter += 1;
            let answer =
                bench.client.append(&generation(&s, &s.projects[0], bench.counter)).map_err(|e| e.to_string())?;
            let at = Instant::now();
            let sequence = answer.body["sequence"].as_u64().ok_or_else(|| format!("probe {i}: {}", answer.body))?;
            acknowledged.push((sequence, at));
        }
        let seconds = started.elapsed().as_secs_f64();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut latencies = loop {
            let arrivals = self.arrivals.lock().expect("not poisoned");
            let seen: Vec<Duration> = acknowledged
                .iter()
                .filter_map(|(sequence, at)| arrivals.get(sequence).map(|t| t.saturating_duration_since(*at)))
                .collect();
            if seen.len() == PROBES || Instant::now() > deadline {
                break seen;
            }
            drop(arrivals);
            std::thread::sleep(Duration::from_millis(20));
        };
        latencies.sort();
        let row = Row {
            workload: format!("feed latency, answer to event ({} feeds)", self.count),
            clients: 1,
            requests: PROBES,
            events: latencies.len(),
            errors: PROBES - latencies.len(),
            seconds,
            events_per_second: PROBES as f64 / seconds,
            p50_ms: percentile(&latencies, 0.50),
            p95_ms: percentile(&latencies, 0.95),
            p99_ms: percentile(&latencies, 0.99),
            server_peak_rss_mb: None,
        };
        eprintln!(
            "{:<40} p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  ({} of {PROBES} seen)",
            row.workload, row.p50_ms, row.p95_ms, row.p99_ms, row.events
        );
        bench.rows.push(row);
        Ok(())
    }
}
