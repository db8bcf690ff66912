//! Crash points of the write path, for the crash tests: with `LINEAGE_FAILPOINT=<name>:<n>` in
//! its environment the process aborts — as a SIGKILL would, with no destructor run and nothing
//! flushed — the n-th time it reaches the point `name` (n defaults to 1). Without the variable a
//! point costs one look at a value initialised once. The points, in the order an append meets
//! them, are listed in [`POINTS`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// Every crash point.
pub const POINTS: &[&str] = &[
    // Staged commits given to sled as one batch, not yet forgotten.
    "staged-applied",
    // A journal record written, before its fdatasync.
    "journal-written",
    // A journal record durable, before it is staged.
    "journal-synced",
    // A commit staged, before the indexes and the acknowledged record know it.
    "staged",
    // A commit too large for the journal given to sled, before sled is synced.
    "large-applied",
    // sled flushed and its files synced, before the journal is emptied.
    "sled-synced",
    // The journal's new header written, before its fdatasync.
    "journal-emptied",
    // The acknowledged checkpoint recorded, before the append returns.
    "acknowledged",
    // A confidential text kept, before its upload is answered.
    "confidential-kept",
    // An erasure's event appended, before its clear text is destroyed.
    "erasure-appended",
    // Off the append path, once the entries are durable: a revision of the subject map
    // computed, before it is written.
    "map-computed",
    // A revision of the subject map given to sled, before anything knows of it.
    "map-applied",
    // Off the append path: the writer's sealed state written and synced under its temporary
    // name, before the rename.
    "seal-written",
    // The sealed state renamed into place, before its folder is synced.
    "seal-renamed",
];

struct Armed {
    point: String,
    remaining: AtomicU64,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let value = std::env::var("LINEAGE_FAILPOINT").ok()?;
            let (point, count) = match value.split_once(':') {
                Some((point, count)) => (point.to_owned(), count.parse().unwrap_or(1)),
                None => (value, 1),
            };
            Some(Armed { point, remaining: AtomicU64::new(count) })
        })
        .as_ref()
}

/// Aborts the process if it is armed at `point` and this is the hit it waits for.
pub fn hit(point: &'static str) {
    if point.is_empty() {
        return;
    }
    debug_assert!(POINTS.contains(&point), "crash point `{point}` is listed");
    if let Some(armed) = armed() {
        if armed.point == point && armed.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            eprintln!("lineage: crash point `{point}` reached; aborting");
            std::process::abort();
        }
    }
}
