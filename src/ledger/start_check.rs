//! The full check of a start that resumed from a sealed state ([`super::sealed`]): on a thread
//! of its own, a structural replay of every entry the sealed state covers (hashes, chains, the
//! rules' state, the Merkle root), whose state must encode to the very body the start read.
//! Until it ends the ledger serves and appends (and seals nothing); if it fails, the sealed state
//! is set aside as rejected, appends are refused (the writer asks [`Published::start_check`]) in
//! this start and the next ones, and `/readyz` says why, until `lineage fsck` has checked the
//! whole log (rules included: it names any entry decided on the wrong state) and cleared it.

use super::known::StoreEvents;
use super::published::{Published, StartCheck};
use super::sealed::{digest, Point, Resumed, SealKey};
use crate::domain::SystemState;
use crate::log::replay::{Depth, Replay};
use crate::store::{LogStore, StoreError};
use std::sync::Arc;

pub(super) fn spawn(
    store: Arc<dyn LogStore>,
    genesis: SystemState,
    origin: String,
    key: SealKey,
    resumed: Resumed,
    published: Arc<Published>,
) {
    published.set_start_check(StartCheck::Running { covered: resumed.covered });
    let started = std::time::Instant::now();
    let run = move || {
        let verdict = match replayed_digest(store.as_ref(), genesis, &origin, &key, resumed.covered) {
            Ok(found) if found == resumed.digest => {
                let seconds = started.elapsed().as_secs();
                log::info!("the full check of the start passed: {} entries replayed in {seconds} s", resumed.covered);
                StartCheck::Passed { covered: resumed.covered, seconds }
            }
            Ok(_) => StartCheck::Failed {
                reason: format!(
                    "the check of the {} entries the start resumed from failed: the sealed state differs from the state their replay reaches",
                    resumed.covered
                ),
            },
            Err(e) => StartCheck::Failed {
                reason: format!("the check of the {} entries the start resumed from failed: {e}", resumed.covered),
            },
        };
        if let StartCheck::Failed { reason } = &verdict {
            log::error!("{reason}; appends are refused until `lineage fsck` has checked the log");
            // Kept across restarts: the next start reads no sealed state and refuses appends too.
            if let Err(e) = store.reject_sealed_state() {
                log::error!("the rejected sealed state could not be set aside: {e}");
            }
        }
        published.set_start_check(verdict);
    };
    std::thread::Builder::new().name("lineage-check".into()).spawn(run).expect("the check's thread starts");
}

/// The digest of the sealed body a structural replay of the first `covered` entries gives.
fn replayed_digest(
    store: &dyn LogStore,
    genesis: SystemState,
    origin: &str,
    key: &SealKey,
    covered: u64,
) -> Result<[u8; 32], StoreError> {
    let mut replay = Replay::new(genesis, Depth::Structure, origin);
    let mut last_received = i64::MIN;
    crate::store::read_log(store, 0..covered, |entry| {
        replay.push_with(entry, &StoreEvents(store))?;
        last_received = last_received.max(entry.received_at_us);
        Ok::<_, StoreError>(())
    })?;
    if replay.next < covered {
        return Err(StoreError::Corrupt {
            sequence: replay.next,
            reason: "missing: the sealed state covers it".into(),
        });
    }
    Ok(digest(key, &Point::of_replay(&replay, last_received).body()))
}
