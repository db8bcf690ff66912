//! What the process counts for `GET /metrics` (the Prometheus text format, version 0.0.4): plain
//! atomics written where things happen (a commit, a journal sync, a request), read only when
//! scraped. They are the process's: two ledgers served by one process (as tests do) share them.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A histogram of fixed buckets (upper bounds, ascending; `+Inf` implied).
pub struct Histogram {
    bounds: &'static [f64],
    counts: [AtomicU64; 16],
    /// The sum of observations, in millionths of the unit.
    sum_micros: AtomicU64,
}

impl Histogram {
    pub const fn new(bounds: &'static [f64]) -> Histogram {
        assert!(bounds.len() < 16, "at most 15 bounds");
        Histogram { bounds, counts: [const { AtomicU64::new(0) }; 16], sum_micros: AtomicU64::new(0) }
    }

    pub fn observe(&self, value: f64) {
        let bucket = self.bounds.iter().position(|b| value <= *b).unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add((value * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn observe_duration(&self, took: Duration) {
        self.observe(took.as_secs_f64());
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bound) in self.bounds.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.counts[self.bounds.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {cumulative}");
    }
}

/// Counts by one label's value (few values: problem types, outcomes).
pub struct Labelled(Mutex<BTreeMap<&'static str, u64>>);

impl Default for Labelled {
    fn default() -> Self {
        Labelled::new()
    }
}

impl Labelled {
    pub const fn new() -> Labelled {
        Labelled(Mutex::new(BTreeMap::new()))
    }

    pub fn add(&self, label: &'static str, n: u64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()).entry(label).or_default() += n;
    }

    fn render(&self, out: &mut String, name: &str, label: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (value, n) in self.0.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
        }
    }
}

const SECONDS: &[f64] = &[0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0];
const ENTRIES: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0];

/// Entries made durable.
pub static ENTRIES_APPENDED: AtomicU64 = AtomicU64::new(0);
/// Append requests answered, by outcome (`accepted`, or the problem type of the refusal).
pub static APPEND_REQUESTS: Labelled = Labelled::new();
/// Envelopes per append request.
pub static REQUEST_ENVELOPES: Histogram = Histogram::new(ENTRIES);
/// Entries per commit: the writer commits the requests waiting together.
pub static COMMIT_ENTRIES: Histogram = Histogram::new(ENTRIES);
/// Time to make a commit durable (journal write and sync, staging), in seconds.
pub static COMMIT_SECONDS: Histogram = Histogram::new(SECONDS);
/// Time of each journal `fdatasync`, in seconds.
pub static FSYNC_SECONDS: Histogram = Histogram::new(SECONDS);
/// Live feeds open.
pub static FEED_SUBSCRIBERS: AtomicI64 = AtomicI64::new(0);
/// Problems answered to any request, by type.
pub static PROBLEMS: Labelled = Labelled::new();

/// What the serving process knows only at scrape time.
pub struct Gauges {
    pub log_entries: u64,
    pub writer_waiting: usize,
    pub webhook_endpoints_active: usize,
    pub webhook_lag_entries: u64,
    pub webhook_delivered: u64,
    pub webhook_failed: u64,
    pub webhook_retries: u64,
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
}

/// Everything, in the Prometheus text format.
pub fn render(gauges: &Gauges) -> String {
    let mut out = String::new();
    let o = &mut out;
    single(o, "lineage_log_entries", "gauge", "Entries in the log.", gauges.log_entries);
    single(
        o,
        "lineage_entries_appended_total",
        "counter",
        "Entries made durable since start.",
        ENTRIES_APPENDED.load(Ordering::Relaxed),
    );
    APPEND_REQUESTS.render(
        o,
        "lineage_append_requests_total",
        "outcome",
        "Append requests answered, by outcome: accepted, or the refusal's problem type.",
    );
    REQUEST_ENVELOPES.render(o, "lineage_append_request_envelopes", "Envelopes per append request.");
    COMMIT_ENTRIES.render(o, "lineage_commit_entries", "Entries per commit (requests waiting are committed together).");
    COMMIT_SECONDS.render(o, "lineage_commit_seconds", "Time to make a commit durable.");
    FSYNC_SECONDS.render(o, "lineage_fsync_seconds", "Time of each journal fdatasync.");
    single(
        o,
        "lineage_writer_waiting_requests",
        "gauge",
        "Append requests waiting for the writer or being committed.",
        gauges.writer_waiting,
    );
    single(
        o,
        "lineage_feed_subscribers",
        "gauge",
        "Live feeds (GET /v1/feed) open.",
        FEED_SUBSCRIBERS.load(Ordering::Relaxed),
    );
    single(
        o,
        "lineage_webhook_endpoints_active",
        "gauge",
        "Webhook endpoints delivering.",
        gauges.webhook_endpoints_active,
    );
    single(
        o,
        "lineage_webhook_lag_entries",
        "gauge",
        "Entries of the log past the active endpoints' cursors, summed.",
        gauges.webhook_lag_entries,
    );
    single(
        o,
        "lineage_webhook_deliveries_total",
        "counter",
        "Webhook attempts an endpoint took (2xx).",
        gauges.webhook_delivered,
    );
    single(o, "lineage_webhook_failures_total", "counter", "Webhook attempts that failed.", gauges.webhook_failed);
    single(
        o,
        "lineage_webhook_retries_total",
        "counter",
        "Webhook attempts after an entry's first.",
        gauges.webhook_retries,
    );
    PROBLEMS.render(o, "lineage_problems_total", "type", "Problem documents answered, by type.");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_counts_cumulatively() {
        static H: Histogram = Histogram::new(&[1.0, 10.0]);
        for v in [0.5, 1.0, 5.0, 50.0] {
            H.observe(v);
        }
        let mut out = String::new();
        H.render(&mut out, "h", "help");
        assert!(
            out.contains("h_bucket{le=\"1\"} 2\nh_bucket{le=\"10\"} 3\nh_bucket{le=\"+Inf\"} 4\nh_sum 56.5\nh_count 4"),
            "{out}"
        );
    }
}
