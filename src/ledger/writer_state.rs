//! The writer's state — what the rules read, every stream's head, the Merkle frontier, the
//! last checkpoint — and how a start reads it: from the sealed state and the entries after it,
//! or by replaying the whole log.

use super::known::StoreEvents;
use super::published::SignedCheckpoint;
use super::sealed::{Point, Resumed, SealKey};
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::crypto::merkle::Frontier;
use crate::domain::state::Listing;
use crate::domain::{LedgerState, ProjectId, SystemState};
use crate::log::replay::{Chain, Depth, Replay};
use crate::log::Entry;
use crate::store::{LogStore, StoreError};
use std::collections::HashMap;
use std::time::Instant;

pub(super) struct WriterState {
    pub ledger: LedgerState,
    pub chains: HashMap<ProjectId, Chain>,
    pub next: u64,
    pub genesis: SystemState,
    pub frontier: Frontier,
    pub checkpoint: Option<SignedCheckpoint>,
    /// The receive time of the next entry is never before it (the clock of the last commit).
    pub last_received: i64,
    /// The last entry's leaf hash and receive time.
    pub tip: ([u8; 32], i64),
}

/// The writer's state read at a start, and whether it was resumed from a sealed state.
pub(super) struct Loaded {
    pub state: WriterState,
    pub resumed: Option<Resumed>,
}

impl WriterState {
    /// Reads the state: from the sealed state, when one agrees with the store, and the entries
    /// after it (checking their hashes and chains), or else by replaying every stored entry.
    /// Then checks that the stored checkpoint signs exactly these entries and that the stored
    /// Merkle nodes agree.
    pub fn load(
        store: &dyn LogStore,
        genesis: SystemState,
        verifier: &NoteVerifier,
        sealed: Option<&SealKey>,
    ) -> Result<Loaded, StoreError> {
        let started = Instant::now();
        let resumed_replay = match sealed {
            Some(key) => resume(store, verifier, key)?,
            None => None,
        };
        let (mut replay, resumed, mut last_received) = match resumed_replay {
            Some((replay, resumed, last_received)) => (replay, Some(resumed), last_received),
            None => (Replay::new(genesis.clone(), Depth::Structure, &verifier.name), None, i64::MIN),
        };
        let mut push = |entry: &Entry| {
            replay.push_with(entry, &StoreEvents(store))?;
            last_received = last_received.max(entry.received_at_us);
            Ok::<_, StoreError>(())
        };
        match resumed {
            Some(r) => crate::store::read_log(store, r.covered..u64::MAX, &mut push)?,
            None => crate::store::read_whole_log(store, &mut push)?,
        }
        let next = replay.next;
        let replayed = next - resumed.map_or(0, |r| r.covered);
        log::info!("the log of {next} entries read in {:.1} s ({replayed} replayed)", started.elapsed().as_secs_f64());
        check_acknowledged(store, verifier, next)?;
        let checkpoint = match store.checkpoint()? {
            None if next == 0 => None,
            None => {
                return Err(StoreError::Corrupt {
                    sequence: next - 1,
                    reason: "no checkpoint covers the stored entries".into(),
                })
            }
            Some(note) => {
                let checkpoint = replay.check_checkpoint(&note, verifier)?;
                if stored_frontier(store, next).as_ref() != Some(&replay.frontier) {
                    return Err(StoreError::Corrupt {
                        sequence: next - 1,
                        reason: "the stored Merkle nodes differ from the entries".into(),
                    });
                }
                Some(SignedCheckpoint { checkpoint, note })
            }
        };
        let last_leaf = replay.last_leaf;
        let state = WriterState {
            ledger: replay.ledger,
            chains: replay.chains,
            next,
            genesis,
            frontier: replay.frontier,
            checkpoint,
            last_received,
            tip: (last_leaf, last_received),
        };
        Ok(Loaded { state, resumed })
    }

    /// The state at its point of the log, to seal.
    pub fn point(&self) -> Point<'_> {
        Point {
            next: self.next,
            last_leaf: self.tip.0,
            root: self.frontier.root(),
            last_received: self.tip.1,
            chains: &self.chains,
            ledger: &self.ledger,
        }
    }
}

fn stored_frontier(store: &dyn LogStore, size: u64) -> Option<Frontier> {
    Frontier::from_nodes(size, |id| super::tree::stored_node(store, id).ok().flatten())
}

/// A store that holds fewer entries than its last acknowledged commit has lost history.
fn check_acknowledged(store: &dyn LogStore, verifier: &NoteVerifier, next: u64) -> Result<(), StoreError> {
    let Some(note) = store.acknowledged_checkpoint()? else { return Ok(()) };
    let acknowledged = Checkpoint::open(&note, verifier)
        .map_err(|e| StoreError::Corrupt { sequence: next, reason: format!("the acknowledged checkpoint: {e}") })?;
    if acknowledged.size > next {
        return Err(StoreError::Corrupt {
            sequence: next,
            reason: format!("missing: {} entries were acknowledged, the store holds {next}", acknowledged.size),
        });
    }
    Ok(())
}

/// The replay resumed from the store's sealed state, when there is one that agrees with the
/// store: its last entry's leaf hash, its Merkle root. One that does not is set aside (the
/// whole log is replayed), and why is logged.
fn resume(
    store: &dyn LogStore,
    verifier: &NoteVerifier,
    key: &SealKey,
) -> Result<Option<(Replay, Resumed, i64)>, StoreError> {
    let bytes = match store.sealed_state() {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) => {
            log::warn!("the sealed state is not read: {e}; the whole log is replayed");
            return Ok(None);
        }
    };
    let sealed = match super::sealed::open(key, &bytes) {
        Ok(sealed) => sealed,
        Err(why) => {
            log::warn!("the sealed state is not read: {why}; the whole log is replayed");
            return Ok(None);
        }
    };
    drop(bytes);
    let at = sealed.next;
    let last = match at.checked_sub(1) {
        Some(last) => store.entry(last)?,
        None => None,
    };
    let frontier = stored_frontier(store, at);
    let agrees = last.is_some_and(|e| e.leaf_hash() == sealed.last_leaf)
        && frontier.as_ref().is_some_and(|f| f.root() == sealed.root);
    let Some(frontier) = frontier.filter(|_| agrees) else {
        log::warn!("the sealed state of {at} entries does not agree with the store; the whole log is replayed");
        return Ok(None);
    };
    let replay = Replay::resume(sealed.ledger, sealed.chains, frontier, sealed.last_leaf, &verifier.name);
    let resumed = Resumed { covered: at, digest: sealed.digest };
    Ok(Some((replay, resumed, sealed.last_received)))
}

impl WriterState {
    /// The listings of the projects among `streams` (each once; the system stream is none).
    pub fn listings<'a>(&self, streams: impl Iterator<Item = &'a str>) -> Vec<(ProjectId, Listing)> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        for stream in streams {
            if seen.contains(&stream) {
                continue;
            }
            seen.push(stream);
            let Ok(id) = ProjectId::parse(stream) else { continue };
            if let Some(listing) = self.listing(&id) {
                out.push((id, listing));
            }
        }
        out
    }

    fn listing(&self, id: &ProjectId) -> Option<Listing> {
        let chain = self.chains.get(id)?;
        self.ledger.listing(id, chain.version, chain.received_at_us)
    }

    /// Every project's listing.
    pub fn catalogue(&self) -> super::published::Catalogue {
        self.ledger.project_ids().filter_map(|id| Some((id.clone(), self.listing(id)?))).collect()
    }
}
