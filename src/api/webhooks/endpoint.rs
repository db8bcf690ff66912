//! One endpoint: its registration and settings (`DATA/webhooks/<id>/endpoint.json`, written
//! whole and synced before an answer says it changed), its cursor (`cursor`: the sequence of the
//! next entry to deliver, synced at most every [`CURSOR_EVERY`] while delivering and whenever
//! it stops — so that after a crash it is at or before the last delivery, and what follows it is
//! delivered again: at least once), and its delivery log (`deliveries.jsonl`, the last
//! [`LOG_KEPT`] attempts; a record of what happened, not synced).

use super::signature::Secret;
use crate::store::files::{io, write_synced};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a delivering endpoint's cursor is synced at most.
pub const CURSOR_EVERY: Duration = Duration::from_millis(200);
/// Attempts an endpoint's delivery log keeps.
pub const LOG_KEPT: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Delivering.
    Active,
    /// Paused by its owner: nothing is sent; the cursor stays where it was.
    Paused,
    /// Stopped by the server: the endpoint answered 410 Gone, failed for too long, or the token
    /// that registered it no longer holds; `reason` says which.
    Disabled,
}

/// What `endpoint.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: String,
    pub url: String,
    pub project: Option<String>,
    pub organization: Option<String>,
    pub kinds: Vec<String>,
    pub description: Option<String>,
    /// The id, name and hash of the token that registered it: deliveries carry what it may read
    /// as of each entry, and stop when it is revoked or expires.
    pub token: String,
    pub token_name: String,
    pub token_hash: String,
    pub created_at: String,
    pub status: Status,
    pub reason: Option<String>,
    pub secret: String,
    /// The secret before the last rotation, and until when deliveries are signed with it too.
    pub previous_secret: Option<String>,
    pub previous_until_us: Option<i64>,
    /// Since when the entry at the cursor has failed, and how many attempts: kept so that a
    /// restart neither forgets how long an endpoint has been failing nor starts its back-off
    /// over.
    #[serde(default)]
    pub failing_since_us: Option<i64>,
    #[serde(default)]
    pub failing_attempts: u32,
}

impl Record {
    /// The secrets deliveries are signed with at `now_us`.
    pub fn secrets(&self, now_us: i64) -> Vec<Secret> {
        let mut secrets: Vec<Secret> = Secret::parse(&self.secret).into_iter().collect();
        if self.previous_until_us.is_some_and(|until| now_us < until) {
            secrets.extend(self.previous_secret.as_deref().and_then(Secret::parse));
        }
        secrets
    }
}

/// One delivery attempt, as the log shows it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attempt {
    /// The entry delivered.
    pub sequence: u64,
    /// The `webhook-id` it was sent with: the same for every attempt and replay of the entry.
    pub webhook_id: String,
    /// 1 for the first attempt of the entry, counting up while it fails.
    pub attempt: u32,
    /// When it was sent (RFC 3339).
    pub at: String,
    /// The endpoint's HTTP status, if it answered.
    pub status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    pub duration_ms: u64,
    /// Whether the endpoint took it (a 2xx answer).
    pub delivered: bool,
}

/// What retries of the entry being delivered stand at.
#[derive(Debug, Clone)]
pub struct Failing {
    pub since_us: i64,
    pub attempts: u32,
    pub next_at_us: i64,
}

/// An endpoint's state, behind its lock.
#[derive(Debug, Clone)]
pub struct Live {
    pub record: Record,
    /// The next sequence to deliver.
    pub cursor: u64,
    /// Bumped by a replay, so that a delivery finishing meanwhile does not move the cursor past
    /// where the replay set it.
    pub generation: u64,
    pub deleted: bool,
    pub failing: Option<Failing>,
}

pub struct Endpoint {
    pub dir: PathBuf,
    pub live: Mutex<Live>,
    /// Wakes the endpoint's delivery thread when its settings change.
    pub wake: tokio::sync::Notify,
    log: Mutex<DeliveryLog>,
    synced: Mutex<(u64, Instant)>,
}

struct DeliveryLog {
    recent: VecDeque<Attempt>,
    /// Lines appended to the file since it was last written whole.
    appended: usize,
}

impl Endpoint {
    /// A new endpoint, written whole before it is returned.
    pub fn create(dir: PathBuf, record: Record, cursor: u64) -> Result<Endpoint, StoreError> {
        std::fs::create_dir_all(&dir).map_err(io("creating a webhook's folder"))?;
        let endpoint = Endpoint::new(dir, record, cursor, VecDeque::new());
        endpoint.save_cursor(cursor)?;
        endpoint.save_record(&endpoint.live.lock().expect("not poisoned").record)?;
        crate::store::files::sync_folder(&endpoint.dir, "creating a webhook's folder")?;
        Ok(endpoint)
    }

    fn new(dir: PathBuf, record: Record, cursor: u64, recent: VecDeque<Attempt>) -> Endpoint {
        // A failure a stop interrupted is retried after the back-off it had reached, from now.
        let failing = record.failing_since_us.map(|since_us| Failing {
            since_us,
            attempts: record.failing_attempts,
            next_at_us: chrono::Utc::now().timestamp_micros(),
        });
        Endpoint {
            dir,
            live: Mutex::new(Live { record, cursor, generation: 0, deleted: false, failing }),
            wake: tokio::sync::Notify::new(),
            log: Mutex::new(DeliveryLog { recent, appended: 0 }),
            synced: Mutex::new((cursor, Instant::now())),
        }
    }

    /// An endpoint as stored; `None` for a folder without a whole record (one a crash caught
    /// while it was being created, whose creation was never acknowledged).
    pub fn open(dir: &Path) -> Result<Option<Endpoint>, StoreError> {
        let record = match std::fs::read(dir.join("endpoint.json")) {
            Ok(bytes) => serde_json::from_slice::<Record>(&bytes).map_err(|e| {
                StoreError::of_io(std::io::Error::new(std::io::ErrorKind::InvalidData, e), "reading a webhook")
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::of_io(e, "reading a webhook")),
        };
        let cursor = std::fs::read_to_string(dir.join("cursor"))
            .map_err(io("reading a webhook's cursor"))?
            .trim()
            .parse()
            .map_err(|e| {
                StoreError::of_io(std::io::Error::new(std::io::ErrorKind::InvalidData, e), "reading a webhook's cursor")
            })?;
        let recent = read_log(&dir.join("deliveries.jsonl"));
        Ok(Some(Endpoint::new(dir.to_owned(), record, cursor, recent)))
    }

    pub fn id(&self) -> String {
        self.live.lock().expect("not poisoned").record.id.clone()
    }

    pub fn save_record(&self, record: &Record) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec_pretty(record).expect("records serialize");
        write_synced(&self.dir.join("endpoint.json"), &bytes, "writing a webhook")
    }

    fn save_cursor(&self, cursor: u64) -> Result<(), StoreError> {
        let mut synced = self.synced.lock().expect("not poisoned");
        write_synced(&self.dir.join("cursor"), cursor.to_string().as_bytes(), "writing a webhook's cursor")?;
        *synced = (cursor, Instant::now());
        Ok(())
    }

    /// Syncs the cursor if it moved and either `now` or [`CURSOR_EVERY`] passed since the last.
    /// Every cursor write holds the `synced` lock and reads the cursor under it (then, briefly,
    /// the endpoint's lock: always in that order), so that writes never interleave and the last
    /// one written is of the latest cursor — a replay's is never overwritten by an older one.
    pub fn sync_cursor(&self, now: bool) -> Result<(), StoreError> {
        let mut synced = self.synced.lock().expect("not poisoned");
        let cursor = self.live.lock().expect("not poisoned").cursor;
        if cursor != synced.0 && (now || synced.1.elapsed() >= CURSOR_EVERY) {
            write_synced(&self.dir.join("cursor"), cursor.to_string().as_bytes(), "writing a webhook's cursor")?;
            *synced = (cursor, Instant::now());
        }
        Ok(())
    }

    /// Logs an attempt: kept in memory and appended to the file, which is written whole again
    /// from what is kept once it has grown by as many lines as are kept.
    pub fn log(&self, attempt: Attempt) {
        let mut log = self.log.lock().expect("not poisoned");
        log.recent.push_back(attempt.clone());
        while log.recent.len() > LOG_KEPT {
            log.recent.pop_front();
        }
        let path = self.dir.join("deliveries.jsonl");
        log.appended += 1;
        let written = if log.appended >= LOG_KEPT {
            log.appended = 0;
            let mut text = Vec::new();
            for a in &log.recent {
                serde_json::to_writer(&mut text, a).expect("attempts serialize");
                text.push(b'\n');
            }
            write_synced(&path, &text, "writing a webhook's delivery log").map_err(|e| e.to_string())
        } else {
            let line = serde_json::to_string(&attempt).expect("attempts serialize") + "\n";
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(line.as_bytes()))
                .map_err(|e| e.to_string())
        };
        if let Err(e) = written {
            log::warn!("webhook delivery log at {}: {e}", path.display());
        }
    }

    /// The newest attempts first, of one entry if asked.
    pub fn attempts(&self, limit: usize, sequence: Option<u64>) -> Vec<Attempt> {
        let log = self.log.lock().expect("not poisoned");
        log.recent.iter().rev().filter(|a| sequence.is_none_or(|s| a.sequence == s)).take(limit).cloned().collect()
    }
}

/// The last [`LOG_KEPT`] attempts of a log file; lines that do not read (a line a crash cut
/// short) are skipped: the log is a record, not the cursor.
fn read_log(path: &Path) -> VecDeque<Attempt> {
    let mut recent = VecDeque::new();
    let Ok(file) = std::fs::File::open(path) else { return recent };
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        if let Ok(attempt) = serde_json::from_str::<Attempt>(&line) {
            recent.push_back(attempt);
            if recent.len() > LOG_KEPT {
                recent.pop_front();
            }
        }
    }
    recent
}
