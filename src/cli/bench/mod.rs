//! `lineage bench`: a load benchmark over real HTTP against a real server process.
//!
//! Keys, signed envelopes and the requests' bytes are made before the clock starts. Each workload
//! drives a number of concurrent clients (threads, each with one keep-alive HTTP/1.1 connection)
//! and records every request's latency.

mod ancestry;
mod flood;
mod followers;
mod load;
mod restart;
mod workloads;

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
    /// Last, kill the server the bench started once it sealed its state, and time its start
    /// on the same data directory (until it listens, and until the check behind it passed),
    /// then its start without the sealed state.
    #[arg(long, conflicts_with = "url")]
    pub restart: bool,
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
    /// Also time the compliance reads (C2PA manifest, disclosure, PROV-JSON, provenance) of one
    /// asset made from this many generations' outputs, about ten ancestors each (at most 1,010).
    #[arg(long, default_value_t = 0)]
    pub ancestry_generations: usize,
    /// References each of those generations' prompts cites (their ancestors: 7 more each).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub ancestry_references: u16,
    /// Follow the log with this many live feeds and as many webhook endpoints (receivers in the
    /// bench, on 127.0.0.1: a server given by --url must allow them, `serve
    /// --webhook-allow-local`) while the appends run; then time the endpoints' deliveries and
    /// the feed's latency from an append's answer to its event.
    #[arg(long, default_value_t = 0)]
    pub followers: usize,
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
    /// Starts on the data directory the workloads left (`--restart`).
    pub restart: Option<restart::RestartFigure>,
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
        .args(["serve", "--addr", "127.0.0.1:0", "--webhook-allow-local", "--data"])
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

pub fn run(options: BenchOptions) -> Result<Report, String> {
    let (server, url, data) = match &options.url {
        Some(url) => (None, url.clone(), options.data.clone().ok_or("--data is needed with --url")?),
        None => {
            let (server, url, data) = start_server(options.data.as_deref())?;
            (Some(server), url, data)
        }
    };
    let dir = crate::app::DataDir { root: data };
    let token = std::fs::read_to_string(dir.admin_token()).map_err(|e| e.to_string())?.trim().to_owned();
    let client = Client::new(&url).with_token(&token);
    let ledger = client.ledger_name().map_err(|e| e.to_string())?;
    let admin = Signer::new(KeyFile::load(&dir.admin_key()).map_err(|e| e.to_string())?, &ledger);
    let mut bench = workloads::Bench {
        url,
        token,
        client,
        admin,
        run_id: chrono::Utc::now().format("%H%M%S").to_string(),
        pid: server.as_ref().map(|s| s.child.id()),
        rows: Vec::new(),
        counter: 0,
        options: &options,
    };
    let followers =
        if options.followers > 0 { Some(followers::Followers::start(&bench, options.followers)?) } else { None };
    bench.appends()?;
    if let Some(followers) = followers {
        followers.finish(&mut bench)?;
    }
    if options.as_of_readers > 0 && options.as_of_events > 0 {
        bench.as_of()?;
    }
    if options.flood.flood_members > 0 {
        bench.flood()?;
    }
    if options.flood.restart_entries > 0 {
        bench.restart()?;
    }
    if options.ancestry_generations > 0 {
        bench.ancestry()?;
    }
    bench.reads()?;
    let memory = if options.memory_events > 0 { bench.memory()? } else { None };
    let rows = bench.rows;
    let restart = match server {
        Some(server) if options.restart => Some(restart::measure(server, &bench.client, &dir.root)?),
        _ => None,
    };
    let report = Report { machine: machine(), started_at: chrono::Utc::now().to_rfc3339(), rows, memory, restart };
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
    if let Some(r) = &report.restart {
        out.push_str(&format!(
            "\nRestart on {} entries (sealed state {:.0} MB): listening after {:.2} s with {:.0} MB resident, the check behind it passed after {:.1} s; without the sealed state: listening after {:.2} s with {:.0} MB.\n",
            r.entries, r.sealed_mb, r.sealed_start_seconds, r.sealed_start_rss_mb, r.check_seconds, r.full_start_seconds, r.full_start_rss_mb
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
