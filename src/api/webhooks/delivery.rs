//! An endpoint's delivery thread: reads committed entries from the endpoint's cursor, sends
//! each one the endpoint is for (signed, `webhook-id` `msg_<endpoint>_<sequence>`), and moves
//! the cursor past it only once the endpoint answered 2xx — so entries arrive in log order, and
//! an entry a crash caught before its cursor was synced is sent again (at least once). A failed
//! attempt is retried after an exponential back-off with jitter; the entries after it wait.

use super::endpoint::{Attempt, Endpoint, Failing, Record, Status};
use super::{signature, Shared};
use crate::api::auth::Reader;
use crate::log::Entry;
use rand_core::RngCore as _;
use std::io::Read as _;
use std::time::{Duration, Instant};

/// Entries read from the store at a time.
const PAGE: usize = 200;
/// How long an idle thread waits before looking again (it is woken by commits and changes).
const IDLE: Duration = Duration::from_secs(15);

/// What to do with one entry.
enum Decision {
    /// Not one the endpoint is for: move past it.
    Skip,
    Send(Vec<u8>),
    /// The token that registered the endpoint no longer holds.
    Disable(String),
}

pub fn run(shared: &Shared, endpoint: &Endpoint) {
    // Deliveries wait for the writer and the HTTP workers, never the other way round.
    crate::ledger::lowest_priority();
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_time().build() else {
        log::error!("webhook {}: no runtime to wait in", endpoint.id());
        return;
    };
    let agent = ureq::AgentBuilder::new()
        .timeout(shared.config.timeout)
        .redirects(0)
        .resolver(super::guard::resolver(shared.config.allow_local))
        .user_agent(concat!("lineage-webhooks/", env!("CARGO_PKG_VERSION")))
        .build();
    let mut durable = shared.ledger.durable();
    loop {
        let live = endpoint.live.lock().expect("not poisoned").clone();
        if live.deleted || shared.stopping() {
            return;
        }
        let now = chrono::Utc::now().timestamp_micros();
        // An endpoint whose token no longer holds is disabled at once, not at its next entry.
        if live.record.status == Status::Active {
            if let Err(reason) = grant(shared, &live.record) {
                disable(endpoint, reason);
                continue;
            }
        }
        let wait = if live.record.status != Status::Active {
            Some(IDLE)
        } else if let Some(failing) = live.failing.as_ref().filter(|f| f.next_at_us > now) {
            Some(Duration::from_micros(u64::try_from(failing.next_at_us - now).unwrap_or(0)))
        } else if live.cursor >= shared.ledger.len() {
            Some(IDLE)
        } else {
            None
        };
        if let Some(wait) = wait {
            if let Err(e) = endpoint.sync_cursor(true) {
                log::warn!("webhook {}: {e}", live.record.id);
            }
            let on_log = live.record.status == Status::Active && live.failing.is_none();
            if !runtime.block_on(pause(&mut durable, &endpoint.wake, wait, on_log)) {
                return;
            }
            continue;
        }
        deliver_page(shared, endpoint, &agent, &live);
        if let Err(e) = endpoint.sync_cursor(false) {
            log::warn!("webhook {}: {e}", live.record.id);
        }
    }
}

/// Waits for a commit (if `on_log`), a change of the endpoint, or `wait`; `false` once the ledger
/// has stopped.
async fn pause(
    durable: &mut tokio::sync::watch::Receiver<u64>,
    wake: &tokio::sync::Notify,
    wait: Duration,
    on_log: bool,
) -> bool {
    tokio::select! {
        changed = durable.changed(), if on_log => changed.is_ok(),
        () = wake.notified() => true,
        () = tokio::time::sleep(wait) => true,
    }
}

/// Delivers entries from the cursor on, until one fails, the page ends or the endpoint changes.
fn deliver_page(shared: &Shared, endpoint: &Endpoint, agent: &ureq::Agent, live: &super::endpoint::Live) {
    let entries = match shared.ledger.range(live.cursor, PAGE) {
        Ok(entries) => entries,
        Err(e) => {
            log::warn!("webhook {}: reading entry {}: {e}", live.record.id, live.cursor);
            std::thread::sleep(Duration::from_secs(1));
            return;
        }
    };
    for entry in entries {
        {
            let now = endpoint.live.lock().expect("not poisoned");
            if now.generation != live.generation || now.deleted || now.record.status != Status::Active {
                return;
            }
        }
        if shared.stopping() {
            return;
        }
        let turn = Turn::take(shared);
        match decide(shared, &live.record, &entry) {
            Decision::Skip => advance(endpoint, live.generation, entry.sequence),
            Decision::Disable(reason) => return disable(endpoint, reason),
            Decision::Send(body) => {
                if !send(shared, endpoint, agent, &entry, &body) {
                    return;
                }
            }
        }
        drop(turn);
        // At most every CURSOR_EVERY: what a crash makes it send again is what it sent since.
        if let Err(e) = endpoint.sync_cursor(false) {
            log::warn!("webhook {}: {e}", live.record.id);
        }
    }
}

/// Deliveries give way to appends: while requests wait for the writer, the endpoints deliver one
/// at a time, and each delivery is followed by a rest as long as it took (at most
/// [`MAX_REST`]), so that together they take at most about half of one core from the appends. A
/// thread's low priority alone does not ensure it where the scheduler ignores priorities.
struct Turn<'a> {
    held: Option<(std::sync::MutexGuard<'a, ()>, Instant)>,
}

/// The longest rest after one delivery (a slow receiver's wait is not work).
const MAX_REST: Duration = Duration::from_millis(5);

impl<'a> Turn<'a> {
    fn take(shared: &'a Shared) -> Turn<'a> {
        if shared.ledger.waiting_requests() == 0 {
            return Turn { held: None };
        }
        let guard = shared.turns.lock().unwrap_or_else(|e| e.into_inner());
        Turn { held: Some((guard, Instant::now())) }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        if let Some((_guard, started)) = self.held.take() {
            std::thread::sleep(started.elapsed().min(MAX_REST));
        }
    }
}

/// Whether the endpoint is for this entry, and the message if it is.
fn decide(shared: &Shared, record: &Record, entry: &Entry) -> Decision {
    if record.project.as_deref().is_some_and(|p| p != entry.project) {
        return Decision::Skip;
    }
    let reader = match grant(shared, record) {
        Ok(reader) => reader,
        Err(reason) => return Decision::Disable(reason),
    };
    let reader = match &record.organization {
        Some(organization) => reader.narrowed_to(organization),
        None => reader,
    };
    if !reader.may_read(&shared.ledger, &entry.project) {
        return Decision::Skip;
    }
    let rendered = shared.rendered.get(entry);
    if !record.kinds.is_empty() && !record.kinds.contains(&rendered.kind) {
        return Decision::Skip;
    }
    // What Standard Webhooks calls the payload: `type`, `timestamp`, `data`.
    let text = |s: &str| serde_json::to_string(s).expect("strings serialize");
    let message = format!(
        "{{\"type\":{},\"timestamp\":{},\"data\":{}}}",
        text(&format!("entry.{}", rendered.kind)),
        text(&rendered.received_at),
        rendered.json
    );
    Decision::Send(message.into_bytes())
}

/// The reader the token that registered the endpoint stands for, or why it no longer does.
fn grant(shared: &Shared, record: &Record) -> Result<Reader, String> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(&record.token_hash, &mut hash).map_err(|_| "its record names no token".to_owned())?;
    match shared.tokens.check_hash(&hash) {
        Ok(grant) => Ok(Reader::of_grant(grant, hash)),
        Err(refused) => Err(format!("the token `{}` that registered it: {refused}", record.token_name)),
    }
}

fn advance(endpoint: &Endpoint, generation: u64, sequence: u64) {
    let mut live = endpoint.live.lock().expect("not poisoned");
    if live.generation == generation && live.cursor <= sequence {
        live.cursor = sequence + 1;
        live.failing = None;
        if live.record.failing_since_us.take().is_some() {
            save(endpoint, &live.record);
        }
    }
}

fn save(endpoint: &Endpoint, record: &Record) {
    if let Err(e) = endpoint.save_record(record) {
        log::warn!("webhook {}: {e}", record.id);
    }
}

fn disable(endpoint: &Endpoint, reason: String) {
    let mut live = endpoint.live.lock().expect("not poisoned");
    log::warn!("webhook {}: disabled: {reason}", live.record.id);
    live.record.status = Status::Disabled;
    live.record.reason = Some(reason);
    live.failing = None;
    live.record.failing_since_us = None;
    save(endpoint, &live.record);
}

/// One attempt at an entry; `true` when the endpoint took it.
fn send(shared: &Shared, endpoint: &Endpoint, agent: &ureq::Agent, entry: &Entry, body: &[u8]) -> bool {
    let (record, generation, attempt) = {
        let live = endpoint.live.lock().expect("not poisoned");
        (live.record.clone(), live.generation, live.failing.as_ref().map_or(1, |f| f.attempts + 1))
    };
    let webhook_id = format!("msg_{}_{}", record.id, entry.sequence);
    let now = chrono::Utc::now();
    let secrets = record.secrets(now.timestamp_micros());
    let signature = signature::header(&secrets.iter().collect::<Vec<_>>(), &webhook_id, now.timestamp(), body);
    let started = Instant::now();
    let answer = agent
        .post(&record.url)
        .set("content-type", "application/json")
        .set("webhook-id", &webhook_id)
        .set("webhook-timestamp", &now.timestamp().to_string())
        .set("webhook-signature", &signature)
        .send_bytes(body);
    let (status, error) = match answer {
        Ok(response) => {
            let status = response.status();
            // Read what it answered (a little of it), so that the connection is kept for the next.
            let _ = std::io::copy(&mut response.into_reader().take(64 * 1024), &mut std::io::sink());
            (Some(status), (!(200..300).contains(&status)).then(|| format!("answered {status}")))
        }
        Err(ureq::Error::Status(status, _)) => (Some(status), Some(format!("answered {status}"))),
        Err(ureq::Error::Transport(t)) => (None, Some(t.to_string())),
    };
    let delivered = error.is_none();
    endpoint.log(Attempt {
        sequence: entry.sequence,
        webhook_id,
        attempt,
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        status,
        error: error.clone(),
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        delivered,
    });
    if attempt > 1 {
        shared.stats.retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    if delivered {
        shared.stats.delivered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        advance(endpoint, generation, entry.sequence);
        return true;
    }
    shared.stats.failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if status == Some(410) {
        disable(endpoint, format!("it answered 410 Gone to entry {}", entry.sequence));
        return false;
    }
    fail(shared, endpoint, generation, attempt, entry.sequence, error.unwrap_or_default());
    false
}

/// Schedules the next attempt of a failed entry, or disables the endpoint once the entry has
/// failed for longer than the operator allows.
fn fail(shared: &Shared, endpoint: &Endpoint, generation: u64, attempt: u32, sequence: u64, error: String) {
    let now = chrono::Utc::now().timestamp_micros();
    let since = {
        let live = endpoint.live.lock().expect("not poisoned");
        if live.generation != generation {
            return;
        }
        live.failing.as_ref().map_or(now, |f| f.since_us)
    };
    let give_up = i64::try_from(shared.config.give_up_after.as_micros()).unwrap_or(i64::MAX);
    if now.saturating_sub(since) >= give_up {
        let hours = shared.config.give_up_after.as_secs_f64() / 3600.0;
        return disable(endpoint, format!("entry {sequence} failed for {hours:.1} h (last: {error})"));
    }
    let wait = backoff(&shared.config, attempt);
    let next_at_us = now.saturating_add(i64::try_from(wait.as_micros()).unwrap_or(i64::MAX));
    let mut live = endpoint.live.lock().expect("not poisoned");
    if live.generation == generation {
        live.failing = Some(Failing { since_us: since, attempts: attempt, next_at_us });
        live.record.failing_since_us = Some(since);
        live.record.failing_attempts = attempt;
        save(endpoint, &live.record);
    }
}

/// The wait after the `attempt`-th failure: `retry_base` doubled per earlier failure, at most
/// `retry_cap`, less a random part of up to half of it.
pub fn backoff(config: &super::WebhookConfig, attempt: u32) -> Duration {
    let doubled = config.retry_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let wait = doubled.min(config.retry_cap);
    let jitter = rand_core::OsRng.next_u64() % 1000;
    wait.saturating_sub(wait.mul_f64(jitter as f64 / 2000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let config = super::super::WebhookConfig::default();
        for (attempt, base) in [(1, 1.0), (2, 2.0), (3, 4.0), (10, 512.0), (11, 600.0), (40, 600.0)] {
            let wait = backoff(&config, attempt).as_secs_f64();
            assert!(wait <= base && wait >= base / 2.0, "attempt {attempt}: {wait}");
        }
    }
}
