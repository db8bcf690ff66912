//! `lineage bench`: a load benchmark over real HTTP against a real server process.
//!
//! Keys, signed envelopes and the requests' bytes are made before the clock starts. Each workload
//! drives a number of concurrent clients (threads, each with one keep-alive HTTP/1.1 connection)
//! and records every request's latency.

mod flood;
mod load;

use super::client::{batch_body, Client, Signer};
use crate::crypto::keys::KeyFile;
use load::{drive, hammer, percentile};
use serde::Serialize;
use serde_json::json;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// What `lineage bench` runs.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchOptions {
    /// Target a running server instead of starting one on a temporary directory.
    #[arg(long)]
    pub url: Option<String>,
    /// With --url: the targeted server's data directory (admin key and token). Without: the
    /// data directory for the server the bench starts, kept afterwards.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Client counts to run.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    pub clients: Vec<usize>,
    /// Events per single-event workload.
    #[arg(long, default_value_t = 20_000)]
    pub single_events: usize,
    /// Events per batch workload.
    #[arg(long, default_value_t = 50_000)]
    pub batch_events: usize,
    /// Requests per read workload.
    #[arg(long, default_value_t = 5_000)]
    pub reads: usize,
    /// Then append this many events (in batches of 100) and report the server's resident memory.
    #[arg(long, default_value_t = 0)]
    pub memory_events: usize,
    /// Also run the single events again while this many clients send batches of 1,000
    /// forged signatures (no token needed to send them).
    #[arg(long, default_value_t = 0)]
    pub attack_clients: usize,
    /// Also time health checks and single appends while this many readers ask a large
    /// project's status and history as of random earlier points.
    #[arg(long, default_value_t = 0)]
    pub as_of_readers: usize,
    /// Events of that large project.
    #[arg(long, default_value_t = 200_000)]
    pub as_of_events: usize,
    #[command(flatten)]
    pub flood: flood::FloodOptions,
    /// Where to write bench.md and bench.json.
    #[arg(long, default_value = "bench-results")]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: String,
    pub clients: usize,
    pub requests: usize,
    pub events: usize,
    pub errors: usize,
    pub seconds: f64,
    pub events_per_second: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    /// The server's peak resident memory so far (VmHWM), when known.
    pub server_peak_rss_mb: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub machine: String,
    pub started_at: String,
    pub rows: Vec<Row>,
    /// Resident memory (VmRSS) after `memory_events` appended events.
    pub memory: Option<MemoryFigure>,
}

#[derive(Debug, Serialize)]
pub struct MemoryFigure {
    pub events: u64,
    /// Right after the last append was answered.
    pub rss_mb: f64,
    /// Two seconds later, the server idle: what it keeps, without the garbage of the last
    /// commits (which it gives back once its queue has stayed empty for a moment).
    pub idle_rss_mb: f64,
    pub peak_rss_mb: f64,
}

struct ServerProcess {
    child: Child,
    dir: Option<tempfile::TempDir>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn start_server(keep: Option<&Path>) -> Result<(ServerProcess, String, PathBuf), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let data = keep.map(Path::to_owned).unwrap_or_else(|| dir.path().join("data"));
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["serve", "--addr", "127.0.0.1:0", "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    let port = loop {
        let line = lines.next().ok_or("the server exited")?.map_err(|e| e.to_string())?;
        if let Some(rest) = line.strip_prefix("listening on http://127.0.0.1:") {
            break rest.split_whitespace().next().unwrap_or_default().to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok((ServerProcess { child, dir: Some(dir) }, format!("http://127.0.0.1:{port}"), data))
}

fn status_kb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok()
}

struct Setup {
    integration: Signer,
    projects: Vec<String>,
}

/// Registers the bench organisation and actor, and one project per client with the actor as a
/// member, a model version and a prompt.
fn setup(client: &Client, admin: &Signer, run: &str, projects: usize) -> Result<Setup, String> {
    let integration = Signer::new(
        KeyFile::generate(&format!("bench-pipeline-{run}"), &format!("bench-pipeline-{run}-k1")),
        &admin.ledger,
    );
    let check = |what: &str, a: Result<crate::cli::client::Answer, crate::cli::client::ClientError>| match a {
        Ok(a) if a.ok() => Ok(()),
        Ok(a) => Err(format!("{what}: {} {}", a.status, a.body)),
        Err(e) => Err(format!("{what}: {e}")),
    };
    let organization = format!("bench-client-{run}");
    let registrations = vec![
        admin.envelope(
            "system",
            "organization_registered",
            json!({"organization_id": organization, "display_name": "bench client", "kind": "client"}),
        ),
        admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": integration.key.actor, "display_name": "bench pipeline", "role": "integration",
                   "organization": organization,
                   "keys": [{"key_id": integration.key.key_id, "public_key": integration.key.public_key_base64()}]}),
        ),
    ];
    check("register", client.append_batch(&registrations))?;
    let mut names = Vec::new();
    for p in 0..projects {
        let project = format!("{organization}:bench-{p}");
        let batch = vec![
            admin.envelope(
                &project,
                "project_created",
                json!({"content_type": "ecomm", "title": "bench", "client_organization": organization}),
            ),
            admin.envelope(&project, "member_added", json!({"actor_id": integration.key.actor, "role": "integration"})),
            integration.envelope(&project, "model_version_registered", json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "license_use": "commercial", "training_data_statement": "s"})),
            integration.envelope(&project, "prompt_authored", json!({"prompt_id": "pr", "text": "a product shot"})),
        ];
        check("project", client.append_batch(&batch))?;
        names.push(project);
    }
    Ok(Setup { integration, projects: names })
}

/// A batch body of `n` well-formed events under the admin's key id, each signature 64 bytes of
/// garbage.
fn forged_envelopes(admin: &Signer, project: &str, n: usize) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    (0..n)
        .map(|i| {
            let payload = admin.payload(project, "note_added", json!({"text": format!("forged {i}")}));
            serde_json::to_vec(&json!({
                "payloadType": crate::crypto::dsse::PAYLOAD_TYPE,
                "payload": b64.encode(serde_json::to_vec(&payload).expect("JSON")),
                "signatures": [{"keyid": admin.key.key_id, "sig": b64.encode([7u8; 64])}],
            }))
            .expect("JSON")
        })
        .collect()
}

fn generation(s: &Setup, project: &str, n: usize) -> Vec<u8> {
    let asset = format!("a-{n}");
    s.integration.envelope(
        project,
        "generation_recorded",
        json!({"generation_id": format!("g-{n}"), "model_version": "mv", "prompt": "pr", "seed": n,
               "outputs": [{"asset_id": asset, "digest": crate::cli::client::digest_of(asset.as_bytes()), "media_type": "image/png"}]}),
    )
}

/// A prepared request: path, body, events in it.
type Request = (String, Option<Vec<u8>>, usize);

/// Single events of one organisation alone, then again while the members of another send the
/// heaviest entries they may sign; the flooding members' answers are reported on stderr.
#[allow(clippy::too_many_arguments)]
fn flood_workload(
    url: &str,
    client: &Client,
    admin: &Signer,
    run_id: &str,
    options: &flood::FloodOptions,
    clients: usize,
    alone: Vec<Request>,
    flooded: Vec<Request>,
    record: &mut impl FnMut(&str, usize, Vec<Request>) -> Result<(), String>,
) -> Result<(), String> {
    let members = options.flood_members;
    let flood = flood::setup(client, admin, run_id, members, options.flood_names)?;
    let (path, requests) = flood.requests(client, options.flood_kind, options.flood_requests, options.flood_batch)?;
    record("append, single events, no flood", clients, alone)?;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let started = std::time::Instant::now();
    let (honest, poured) = std::thread::scope(|scope| {
        let flooders = scope.spawn(|| flood::pour(url, path, &requests, &stop));
        let workload = match options.flood_kind {
            flood::FloodKind::Notes => format!(
                "append, single events, {members} members flooding ({} notes of {} names a request)",
                options.flood_batch, options.flood_names
            ),
            flood::FloodKind::Deliveries => {
                format!("append, single events, {members} members flooding (deliveries of the deepest lineage)")
            }
            flood::FloodKind::DeliveryBatches => {
                format!("append, single events, {members} members flooding (batches of 1,000 deliveries of it)")
            }
        };
        let honest = record(&workload, clients, flooded);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        (honest, flooders.join().expect("flooding threads"))
    });
    honest?;
    let poured = poured?;
    eprintln!(
        "flooding requests answered in {:.1} s: {:?} (status: count), p50 {:.0} ms, p99 {:.0} ms",
        started.elapsed().as_secs_f64(),
        poured.statuses,
        percentile(&poured.latencies, 0.5),
        percentile(&poured.latencies, 0.99)
    );
    Ok(())
}

pub fn run(options: BenchOptions) -> Result<Report, String> {
    let (server, url, data) = match &options.url {
        Some(url) => (None, url.clone(), options.data.clone().ok_or("--data is needed with --url")?),
        None => {
            let (server, url, data) = start_server(options.data.as_deref())?;
            (Some(server), url, data)
        }
    };
    let pid = server.as_ref().map(|s| s.child.id());
    let dir = crate::app::DataDir { root: data };
    let token = std::fs::read_to_string(dir.admin_token()).map_err(|e| e.to_string())?.trim().to_owned();
    let client = Client::new(&url).with_token(&token);
    let ledger = client.ledger_name().map_err(|e| e.to_string())?;
    let admin = Signer::new(KeyFile::load(&dir.admin_key()).map_err(|e| e.to_string())?, &ledger);
    let run_id = chrono::Utc::now().format("%H%M%S").to_string();
    let mut rows = Vec::new();
    let peak = || pid.and_then(|p| status_kb(p, "VmHWM:")).map(|kb| kb / 1024.0);
    let mut counter = 0usize;
    let mut record = |workload: &str, clients: usize, requests: Vec<Request>| {
        let n = requests.len();
        let (latencies, errors, events, seconds) = drive(&url, &token, clients, requests)?;
        let row = Row {
            workload: workload.to_owned(),
            clients,
            requests: n,
            events,
            errors,
            seconds,
            events_per_second: events as f64 / seconds,
            p50_ms: percentile(&latencies, 0.50),
            p95_ms: percentile(&latencies, 0.95),
            p99_ms: percentile(&latencies, 0.99),
            server_peak_rss_mb: peak(),
        };
        eprintln!(
            "{:<28} {:>4} clients {:>9.0} /s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
            row.workload, clients, row.events_per_second, row.p50_ms, row.p95_ms, row.p99_ms, row.errors
        );
        rows.push(row);
        Ok::<_, String>(())
    };
    for &clients in options.clients.iter().filter(|_| options.single_events + options.batch_events > 0) {
        let s = setup(&client, &admin, &format!("{run_id}-{clients}"), clients)?;
        // Single events: each client its own project, as parallel pipelines do.
        let requests: Vec<_> = (0..options.single_events)
            .map(|i| {
                counter += 1;
                ("/v1/events".to_owned(), Some(generation(&s, &s.projects[i % clients], counter)), 1)
            })
            .collect();
        record("append, single events", clients, requests.clone())?;
        if options.attack_clients > 0 {
            // The same workload again, its events given new ids, while attackers without a key
            // send batches of a thousand: well-formed events under the bootstrap admin's key id,
            // every signature wrong; then 999 envelopes already in the log (the ones just
            // appended, replayed as they are) and a forged one last; then 1,000 stored ones.
            let forged = batch_body(&forged_envelopes(&admin, &s.projects[0], 1000));
            let stored: Vec<Vec<u8>> = requests.iter().take(1000).filter_map(|(_, body, _)| body.clone()).collect();
            let mut replayed = stored[..stored.len().saturating_sub(1)].to_vec();
            replayed.extend(forged_envelopes(&admin, &s.projects[0], 1));
            let (replayed, stored) = (batch_body(&replayed), batch_body(&stored));
            for (attack, body) in [("forgers", forged), ("replayers", replayed), ("retriers", stored)] {
                let again: Vec<_> = (0..options.single_events)
                    .map(|i| {
                        counter += 1;
                        ("/v1/events".to_owned(), Some(generation(&s, &s.projects[i % clients], counter)), 1)
                    })
                    .collect();
                let stop = std::sync::atomic::AtomicBool::new(false);
                let attack_started = std::time::Instant::now();
                let (honest, attacks) = std::thread::scope(|scope| {
                    let attackers = scope.spawn(|| {
                        hammer(&url, "", options.attack_clients, &[("/v1/batches".to_owned(), Some(body))], &stop)
                    });
                    let workload = format!("append, single events, {} {attack}", options.attack_clients);
                    let honest = record(&workload, clients, again);
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    (honest, attackers.join().expect("attack threads"))
                });
                honest?;
                let attacks = attacks?.len();
                eprintln!(
                    "{attack}' batches answered: {attacks} ({:.0}/s)",
                    attacks as f64 / attack_started.elapsed().as_secs_f64()
                );
            }
        }
        for size in [10usize, 100] {
            let requests: Vec<_> = (0..options.batch_events / size)
                .map(|b| {
                    let envelopes: Vec<Vec<u8>> = (0..size)
                        .map(|_| {
                            counter += 1;
                            generation(&s, &s.projects[b % clients], counter)
                        })
                        .collect();
                    ("/v1/batches".to_owned(), Some(batch_body(&envelopes)), size)
                })
                .collect();
            record(&format!("append, batches of {size}"), clients, requests)?;
        }
    }
    if options.as_of_readers > 0 && options.as_of_events > 0 {
        // One large project, then health checks and single appends timed alone and while the
        // readers ask for it as of random earlier points.
        let s = setup(&client, &admin, &format!("{run_id}-asof"), 4)?;
        let large = s.projects[0].clone();
        let first = client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(0);
        let batches: Vec<_> = (0..options.as_of_events / 100)
            .map(|_| {
                let envelopes: Vec<Vec<u8>> = (0..100)
                    .map(|_| {
                        counter += 1;
                        generation(&s, &large, counter)
                    })
                    .collect();
                ("/v1/batches".to_owned(), Some(batch_body(&envelopes)), 100)
            })
            .collect();
        record("append, the large project", 16, batches)?;
        let last = client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(1);
        let health: Vec<_> = (0..20000).map(|_| ("/healthz".to_owned(), None, 1)).collect();
        let appends = |counter: &mut usize, n: usize| -> Vec<_> {
            (0..n)
                .map(|i| {
                    *counter += 1;
                    ("/v1/events".to_owned(), Some(generation(&s, &s.projects[1 + i % 3], *counter)), 1)
                })
                .collect()
        };
        record("health, alone", 4, health.clone())?;
        record("append, single events alone", 16, appends(&mut counter, 20000))?;
        let spread = (last - first).max(1);
        let readers: Vec<(String, Option<Vec<u8>>)> = (0..64u64)
            .map(|i| {
                let at = first + (i * 7919) % spread;
                let path = if i % 2 == 0 { "status" } else { "history" };
                (format!("/v1/projects/{large}/{path}?as_of={at}"), None)
            })
            .collect();
        // The first query of the project folds it (once); the figures are of the queries after.
        let warm = client.get(&format!("/v1/projects/{large}/status")).map_err(|e| e.to_string())?;
        if !warm.ok() {
            return Err(format!("the large project's status: {} {}", warm.status, warm.body));
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        let with_readers = appends(&mut counter, 20000);
        let (health_row, append_row, reads) = std::thread::scope(|scope| {
            let readers = scope.spawn(|| hammer(&url, &token, options.as_of_readers, &readers, &stop));
            let health_row = record(&format!("health, {} as_of readers", options.as_of_readers), 4, health);
            let append_row =
                record(&format!("append, single events, {} as_of readers", options.as_of_readers), 16, with_readers);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (health_row, append_row, readers.join().expect("reader threads"))
        });
        health_row?;
        append_row?;
        let reads = reads?;
        eprintln!(
            "as_of reads of a {}-event project: {} answered, p50 {:.0} ms, p99 {:.0} ms",
            options.as_of_events,
            reads.len(),
            percentile(&reads, 0.5),
            percentile(&reads, 0.99)
        );
    }
    if options.flood.flood_members > 0 {
        let clients = options.clients.last().copied().unwrap_or(64);
        let victims = setup(&client, &admin, &format!("{run_id}-victim"), clients)?;
        let mut victim_events = |n: usize| -> Vec<Request> {
            (0..n)
                .map(|i| {
                    counter += 1;
                    ("/v1/events".to_owned(), Some(generation(&victims, &victims.projects[i % clients], counter)), 1)
                })
                .collect()
        };
        let (alone, flooded) = (victim_events(options.single_events), victim_events(options.single_events));
        flood_workload(&url, &client, &admin, &run_id, &options.flood, clients, alone, flooded, &mut record)?;
    }
    if options.flood.restart_entries > 0 {
        let f = &options.flood;
        let [plain, heavy] = flood::restart_times(f.restart_entries, f.flood_names, f.flood_batch)?;
        eprintln!(
            "restart after {} notes: naming 1 asset {:.2} s ({:.0} MB), naming {} {:.2} s ({:.0} MB)",
            f.restart_entries,
            plain.0,
            plain.1 as f64 / 1e6,
            f.flood_names,
            heavy.0,
            heavy.1 as f64 / 1e6
        );
    }
    let size = client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(1);
    let first = options.clients.first().copied().unwrap_or(1);
    let project = format!("bench-client-{run_id}-{first}:bench-0");
    type PathOf = Box<dyn Fn(usize) -> String>;
    let reads: Vec<(&str, PathOf)> = vec![
        (
            "read, project stream page of 100",
            Box::new(move |i| format!("/v1/projects/{project}/events?from_version={}&limit=100", 1 + (i * 97) % 1000)),
        ),
        (
            "read, feed page of 100",
            Box::new(move |i| format!("/v1/entries?from={}&limit=100", (i as u64 * 7919) % size)),
        ),
        (
            "read, inclusion proof",
            Box::new(move |i| format!("/v1/proofs/inclusion?sequence={}", (i as u64 * 7919) % size)),
        ),
        ("read, checkpoint", Box::new(|_| "/v1/checkpoint".to_owned())),
    ];
    for (name, path) in reads.into_iter().filter(|_| options.reads > 0) {
        let requests: Vec<_> = (0..options.reads).map(|i| (path(i), None, 1)).collect();
        record(name, 16, requests)?;
    }
    let memory = if options.memory_events > 0 {
        let s = setup(&client, &admin, &format!("{run_id}-mem"), 16)?;
        let mut appended = 0usize;
        while appended < options.memory_events {
            let chunk = (options.memory_events - appended).min(200_000);
            let requests: Vec<_> = (0..chunk / 100)
                .map(|b| {
                    let envelopes: Vec<Vec<u8>> = (0..100)
                        .map(|_| {
                            counter += 1;
                            generation(&s, &s.projects[b % 16], counter)
                        })
                        .collect();
                    ("/v1/batches".to_owned(), Some(batch_body(&envelopes)), 100)
                })
                .collect();
            let (_, errors, events, seconds) = drive(&url, &token, 16, requests)?;
            appended += chunk;
            eprintln!("memory run: {appended} events appended ({:.0}/s, {errors} errors)", events as f64 / seconds);
        }
        let total = client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(0);
        pid.and_then(|p| {
            let rss_mb = status_kb(p, "VmRSS:")? / 1024.0;
            std::thread::sleep(std::time::Duration::from_secs(2));
            let idle_rss_mb = status_kb(p, "VmRSS:")? / 1024.0;
            Some(MemoryFigure { events: total, rss_mb, idle_rss_mb, peak_rss_mb: peak()? })
        })
    } else {
        None
    };
    let report = Report { machine: machine(), started_at: chrono::Utc::now().to_rfc3339(), rows, memory };
    write_report(&options.out, &report)?;
    Ok(report)
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cores} cores, {cpu}")
}

pub fn markdown(report: &Report) -> String {
    let mut out = format!("Machine: {}\n\n", report.machine);
    out.push_str("| workload | clients | events/s | p50 ms | p95 ms | p99 ms | errors | server peak RSS MB |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &report.rows {
        out.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {} |\n",
            r.workload,
            r.clients,
            r.events_per_second,
            r.p50_ms,
            r.p95_ms,
            r.p99_ms,
            r.errors,
            r.server_peak_rss_mb.map(|m| format!("{m:.0}")).unwrap_or_else(|| "–".into())
        ));
    }
    if let Some(m) = &report.memory {
        out.push_str(&format!(
            "\nAfter {} entries: server resident memory {:.0} MB, {:.0} MB two seconds later (peak {:.0} MB).\n",
            m.events, m.rss_mb, m.idle_rss_mb, m.peak_rss_mb
        ));
    }
    out
}

fn write_report(dir: &Path, report: &Report) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("bench.json"), serde_json::to_vec_pretty(report).expect("reports serialize"))
        .map_err(|e| e.to_string())?;
    std::fs::write(dir.join("bench.md"), markdown(report)).map_err(|e| e.to_string())
}
