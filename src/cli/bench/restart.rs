//! `lineage bench --restart`: once the workloads ran, the server the bench started is killed
//! (SIGKILL, as a crash would) once it has sealed its state, and started again on the same data
//! directory — timed until it listens and until the background check of what it did not replay
//! passed —, then killed and started once more without the sealed state, replaying everything.

use super::{start_server, status_kb, ServerProcess};
use crate::cli::client::Client;

use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, Serialize)]
pub struct RestartFigure {
    pub entries: u64,
    /// The sealed state's size on disk.
    pub sealed_mb: f64,
    /// From the start of the process until it listens, reading the sealed state.
    pub sealed_start_seconds: f64,
    /// Until `/readyz` says the check of the entries it did not replay passed.
    pub check_seconds: f64,
    /// Resident memory once it listens.
    pub sealed_start_rss_mb: f64,
    /// The same start without the sealed state: every entry replayed.
    pub full_start_seconds: f64,
    pub full_start_rss_mb: f64,
}

/// Restarts the bench's server as described above; `server` is taken and stopped.
pub fn measure(server: ServerProcess, client: &Client, data: &Path) -> Result<RestartFigure, String> {
    let head = client.get("/v1/head").map_err(|e| e.to_string())?;
    let entries = head.body["size"].as_u64().ok_or_else(|| format!("/v1/head: {} {}", head.status, head.body))?;
    let sealed = data.join("store").join("sealed-state");
    wait_for_seal(&sealed, entries)?;
    let sealed_mb = std::fs::metadata(&sealed).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
    let (server, keep) = stop(server);
    drop(server);
    let started = Instant::now();
    let (again, url, _) = start_server(Some(data))?;
    let sealed_start_seconds = started.elapsed().as_secs_f64();
    let sealed_start_rss_mb = status_kb(again.child.id(), "VmRSS:").unwrap_or(0.0) / 1024.0;
    let client = Client::new(&url);
    loop {
        let ready = client.get("/readyz").map_err(|e| e.to_string())?;
        match ready.body["start_check"]["state"].as_str() {
            Some("passed") => break,
            Some("running") if started.elapsed() < Duration::from_secs(3600) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => return Err(format!("the start's check did not pass: {} {}", ready.status, ready.body)),
        }
    }
    let check_seconds = started.elapsed().as_secs_f64();
    drop(again);
    std::fs::remove_file(&sealed).map_err(|e| format!("{}: {e}", sealed.display()))?;
    let started = Instant::now();
    let (full, _, _) = start_server(Some(data))?;
    let full_start_seconds = started.elapsed().as_secs_f64();
    let full_start_rss_mb = status_kb(full.child.id(), "VmRSS:").unwrap_or(0.0) / 1024.0;
    drop(full);
    drop(keep);
    Ok(RestartFigure {
        entries,
        sealed_mb,
        sealed_start_seconds,
        check_seconds,
        sealed_start_rss_mb,
        full_start_seconds,
        full_start_rss_mb,
    })
}

/// The server, and the temporary directory it ran in, kept past the server's end.
fn stop(mut server: ServerProcess) -> (ServerProcess, Option<tempfile::TempDir>) {
    let keep = server.dir.take();
    (server, keep)
}

/// Waits until the sealed state covers `entries` (the writer seals once appends pause).
fn wait_for_seal(path: &Path, entries: u64) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let covered = std::fs::read(path).ok().and_then(|b| crate::ledger::sealed::covered(&b));
        if covered == Some(entries) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("the state of {entries} entries was not sealed in time (sealed: {covered:?})"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
