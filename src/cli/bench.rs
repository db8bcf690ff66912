//! `lineage bench`: a load benchmark over real HTTP against a real server process.
//!
//! Keys, signed envelopes and the requests' bytes are made before the clock starts. Each workload
//! drives a number of concurrent clients (threads, each with one keep-alive HTTP/1.1 connection)
//! and records every request's latency.

use super::client::{batch_body, Client, Signer};
use crate::crypto::keys::KeyFile;
use serde::Serialize;
use serde_json::json;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// A running server to target; `None` starts one on a temporary data directory.
    pub url: Option<String>,
    /// With `url`: the targeted server's data directory (for its admin key and token).
    /// Without: the data directory of the server the bench starts (kept afterwards).
    pub data: Option<PathBuf>,
    pub clients: Vec<usize>,
    /// Events per append workload (single events).
    pub single_events: usize,
    /// Events per batch workload.
    pub batch_events: usize,
    /// Requests per read workload.
    pub reads: usize,
    /// Append this many events (in batches of 100) and report the server's memory after.
    pub memory_events: usize,
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
    _dir: Option<tempfile::TempDir>,
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
    Ok((ServerProcess { child, _dir: Some(dir) }, format!("http://127.0.0.1:{port}"), data))
}

fn status_kb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// The `host:port` of an `http://` URL.
fn authority(url: &str) -> Result<String, String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: the bench speaks plain http:// only"))?;
    Ok(rest.split('/').next().unwrap_or_default().to_owned())
}

/// A request's bytes as they go on the wire, made before the clock starts.
fn wire_request(host: &str, token: &str, path: &str, body: Option<&[u8]>) -> Vec<u8> {
    let method = if body.is_some() { "POST" } else { "GET" };
    let mut bytes = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n");
    if let Some(body) = body {
        bytes.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    bytes.push_str("\r\n");
    let mut bytes = bytes.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    bytes
}

/// One keep-alive HTTP/1.1 connection sending prepared requests. The load generator shares the
/// machine with the server, so a request costs it one write and the reads of the answer: no URL
/// parsing, header building or body decoding on the clock.
struct LoadConnection {
    host: String,
    stream: Option<std::io::BufReader<std::net::TcpStream>>,
    line: String,
}

impl LoadConnection {
    fn new(host: &str) -> LoadConnection {
        LoadConnection { host: host.to_owned(), stream: None, line: String::new() }
    }

    /// Sends one request and reads its whole answer; returns the status. A kept-alive
    /// connection the server has closed meanwhile is opened again once; after any failure the
    /// connection is dropped, since where its next answer starts is unknown.
    fn send(&mut self, request: &[u8]) -> Result<u16, String> {
        let reused = self.stream.is_some();
        let mut result = self.exchange(request);
        if reused && matches!(result, Err(Exchange::Before(_))) {
            self.stream = None;
            result = self.exchange(request);
        }
        if result.is_err() {
            self.stream = None;
        }
        result.map_err(Exchange::into_message)
    }

    fn exchange(&mut self, request: &[u8]) -> Result<u16, Exchange> {
        use std::io::{Read as _, Write as _};
        if self.stream.is_none() {
            let stream = std::net::TcpStream::connect(&self.host).map_err(Exchange::Before)?;
            stream.set_nodelay(true).map_err(Exchange::Before)?;
            self.stream = Some(std::io::BufReader::with_capacity(64 * 1024, stream));
        }
        let stream = self.stream.as_mut().expect("connected above");
        stream.get_mut().write_all(request).map_err(Exchange::Before)?;
        self.line.clear();
        if stream.read_line(&mut self.line).map_err(Exchange::Before)? == 0 {
            return Err(Exchange::Before(std::io::ErrorKind::UnexpectedEof.into()));
        }
        let status = self
            .line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| Exchange::After(format!("not an HTTP status line: {:?}", self.line)))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        loop {
            self.line.clear();
            stream.read_line(&mut self.line).map_err(Exchange::after)?;
            let header = self.line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<u64>().map_err(|e| Exchange::After(format!("content-length: {e}")))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let skip = |stream: &mut std::io::BufReader<std::net::TcpStream>, n: u64| {
            let copied = std::io::copy(&mut stream.take(n), &mut std::io::sink()).map_err(Exchange::after)?;
            if copied < n {
                return Err(Exchange::After("the answer ended early".into()));
            }
            Ok(())
        };
        // 1xx, 204 and 304 answers have no body, whatever their headers say (RFC 9112 6.3).
        if (100..200).contains(&status) || status == 204 || status == 304 {
        } else if chunked {
            loop {
                self.line.clear();
                stream.read_line(&mut self.line).map_err(Exchange::after)?;
                let size = self.line.trim_end().split(';').next().unwrap_or_default();
                let size =
                    u64::from_str_radix(size, 16).map_err(|e| Exchange::After(format!("chunk size {size:?}: {e}")))?;
                if size == 0 {
                    break;
                }
                skip(stream, size + 2)?;
            }
            // The trailer section, up to its empty line.
            loop {
                self.line.clear();
                if stream.read_line(&mut self.line).map_err(Exchange::after)? == 0 {
                    return Err(Exchange::After("the answer ended early".into()));
                }
                if self.line.trim_end().is_empty() {
                    break;
                }
            }
        } else if let Some(length) = length {
            skip(stream, length)?;
        } else {
            close = true;
            std::io::copy(stream, &mut std::io::sink()).map_err(Exchange::after)?;
        }
        if close {
            self.stream = None;
        }
        Ok(status)
    }
}

/// Where an exchange failed: before any answer arrived (the request may be sent again on a
/// new connection) or in the middle of one.
enum Exchange {
    Before(std::io::Error),
    After(String),
}

impl Exchange {
    fn after(e: std::io::Error) -> Exchange {
        Exchange::After(e.to_string())
    }

    fn into_message(self) -> String {
        match self {
            Exchange::Before(e) => e.to_string(),
            Exchange::After(m) => m,
        }
    }
}

/// Sends prepared requests from `clients` threads; each request is (path, body, events in it).
fn drive(
    url: &str,
    token: &str,
    clients: usize,
    requests: Vec<(String, Option<Vec<u8>>, usize)>,
) -> Result<(Vec<Duration>, usize, usize, f64), String> {
    let host = authority(url)?;
    let requests: Vec<(Vec<u8>, usize)> =
        requests.into_iter().map(|(path, body, n)| (wire_request(&host, token, &path, body.as_deref()), n)).collect();
    let total_requests = requests.len();
    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let events = AtomicUsize::new(0);
    let started = Instant::now();
    let latencies: Vec<Duration> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                let (next, errors, events, requests, host) = (&next, &errors, &events, &requests, &host);
                s.spawn(move || {
                    let mut connection = LoadConnection::new(host);
                    let mut latencies = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((request, n)) = requests.get(i) else { break };
                        let t = Instant::now();
                        let answer = connection.send(request);
                        latencies.push(t.elapsed());
                        match answer {
                            Ok(status) if (200..300).contains(&status) => {
                                events.fetch_add(*n, Ordering::Relaxed);
                            }
                            _ => {
                                errors.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    latencies
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("client thread")).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut latencies = latencies;
    latencies.sort();
    debug_assert_eq!(latencies.len(), total_requests);
    Ok((latencies, errors.into_inner(), events.into_inner(), seconds))
}

struct Setup {
    integration: Signer,
    projects: Vec<String>,
}

/// Registers the bench actors and one project per client, with a model version and a prompt.
fn setup(client: &Client, admin: &Signer, run: &str, projects: usize) -> Result<Setup, String> {
    let integration =
        Signer::new(KeyFile::generate(&format!("bench-pipeline-{run}"), &format!("bench-pipeline-{run}-k1")));
    let check = |what: &str, a: Result<crate::cli::client::Answer, crate::cli::client::ClientError>| match a {
        Ok(a) if a.ok() => Ok(()),
        Ok(a) => Err(format!("{what}: {} {}", a.status, a.body)),
        Err(e) => Err(format!("{what}: {e}")),
    };
    check(
        "register",
        client.append(&admin.envelope(
            "system",
            "actor_registered",
            json!({"actor_id": integration.key.actor, "display_name": "bench pipeline", "role": "integration",
                   "keys": [{"key_id": integration.key.key_id, "public_key": integration.key.public_key_base64()}]}),
        )),
    )?;
    let mut names = Vec::new();
    for p in 0..projects {
        let project = format!("bench-{run}-{p}");
        let batch = vec![
            admin.envelope(&project, "project_created", json!({"content_type": "ecomm", "title": "bench"})),
            integration.envelope(&project, "model_version_registered", json!({"model_version_id": "mv", "provider": "p", "family": "f", "version": "1", "license": "l", "training_data_statement": "s"})),
            integration.envelope(&project, "prompt_authored", json!({"prompt_id": "pr", "text": "a product shot"})),
        ];
        check("project", client.append_batch(&batch))?;
        names.push(project);
    }
    Ok(Setup { integration, projects: names })
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
    let admin = Signer::new(KeyFile::load(&dir.admin_key()).map_err(|e| e.to_string())?);
    let client = Client::new(&url).with_token(&token);
    let run_id = chrono::Utc::now().format("%H%M%S").to_string();
    let mut rows = Vec::new();
    let peak = || pid.and_then(|p| status_kb(p, "VmHWM:")).map(|kb| kb / 1024.0);
    let mut counter = 0usize;
    let mut record = |workload: &str, clients: usize, requests: Vec<(String, Option<Vec<u8>>, usize)>| {
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
        record("append, single events", clients, requests)?;
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
    let size = client.get("/v1/head").map_err(|e| e.to_string())?.body["size"].as_u64().unwrap_or(1);
    let project = format!("bench-{run_id}-{}-0", options.clients.first().copied().unwrap_or(1));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read as _, Write as _};
    use std::sync::{Arc, Mutex};

    /// A server giving each request the next canned answer; `close` after an answer ends that
    /// connection (whether or not the answer said so). Returns its address and a count of the
    /// connections it accepted.
    fn serve(answers: Vec<(&'static str, bool)>) -> (String, Arc<Mutex<usize>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(Mutex::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut answers = answers.into_iter();
            for stream in listener.incoming() {
                *count.lock().unwrap() += 1;
                let mut reader = std::io::BufReader::new(stream.unwrap());
                loop {
                    let mut length = 0;
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        line.clear();
                    }
                    if line.is_empty() {
                        break;
                    }
                    reader.by_ref().take(length).read_to_end(&mut Vec::new()).unwrap();
                    let Some((answer, close)) = answers.next() else { return };
                    reader.get_mut().write_all(answer.as_bytes()).unwrap();
                    if close {
                        break;
                    }
                }
            }
        });
        (address, accepted)
    }

    #[test]
    fn a_load_connection_reads_every_kind_of_answer_and_reconnects_when_closed() {
        let (address, accepted) = serve(vec![
            ("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nDigest: x\r\n\r\n", false),
            ("HTTP/1.1 204 No Content\r\n\r\n", false),
            ("HTTP/1.1 409 Conflict\r\nContent-Type: application/problem+json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", true),
            // Closed by the server without a word: the next request goes out on a new connection.
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", true),
            ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", false),
        ]);
        let url = format!("http://{address}");
        let host = authority(&url).unwrap();
        let mut connection = LoadConnection::new(&host);
        let post = wire_request(&host, "t", "/v1/events", Some(b"{}"));
        let get = wire_request(&host, "t", "/v1/head", None);
        let statuses: Vec<u16> =
            [&post, &get, &get, &get, &post, &get, &post].iter().map(|r| connection.send(r).unwrap()).collect();
        assert_eq!(statuses, [201, 200, 200, 204, 409, 200, 503]);
        assert_eq!(*accepted.lock().unwrap(), 3);
    }

    #[test]
    fn a_load_connection_names_an_answer_that_is_not_http() {
        let (address, _) = serve(vec![
            ("SSH-2.0-OpenSSH\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", true),
        ]);
        let mut connection = LoadConnection::new(&address);
        let get = wire_request(&address, "t", "/v1/head", None);
        assert_eq!(connection.send(&get).unwrap_err(), "not an HTTP status line: \"SSH-2.0-OpenSSH\\r\\n\"");
        assert_eq!(connection.send(&get).unwrap_err(), "the answer ended early");
        assert_eq!(
            authority("https://example.org/x").unwrap_err(),
            "https://example.org/x: the bench speaks plain http:// only"
        );
        assert_eq!(wire_request("h:1", "t", "/p", Some(b"{}")), b"POST /p HTTP/1.1\r\nHost: h:1\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    }
}
