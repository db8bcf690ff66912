//! Replaying entries in ledger order: how the writer rebuilds its state at start, and how
//! `verify`, `import` and `fsck` check a log. Each entry must hash to its own bytes, follow the
//! previous entry of its project, and (in a full replay) carry a valid signature by a key that
//! was registered, not revoked and allowed to sign its kind at that point of the log, and pass
//! the rules as they stood then.

use super::admission::{admit, Extent, Rejection, SignatureCheck};
use super::entry::{open_entry, Entry};
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::crypto::merkle::Frontier;
use crate::domain::state::{id_key, IdKey, KeyMap};
use crate::domain::state::{Facts, Position};
use crate::domain::{
    Changes, EventId, Events, LedgerState, LookupFailed, NoEvents, Payload, ProjectId, SystemState, View,
};
use std::collections::HashMap;

/// The head of one stream: its version and the hash of its last entry.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chain {
    pub version: u64,
    pub head: [u8; 32],
    /// When the ledger received the stream's last entry (microseconds since the epoch).
    pub received_at_us: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Hashes, chains and the Merkle root: what every start checks.
    Structure,
    /// Also every signature, signer and rule.
    Full,
}

/// Why a log does not verify, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {sequence}: {reason}")]
pub struct Broken {
    pub sequence: u64,
    pub reason: String,
}

fn broken(sequence: u64, reason: impl Into<String>) -> Broken {
    Broken { sequence, reason: reason.into() }
}

pub struct Replay {
    pub ledger: LedgerState,
    pub chains: HashMap<ProjectId, Chain>,
    pub frontier: Frontier,
    pub next: u64,
    /// The leaf hash of the last entry replayed (zeros before any).
    pub last_leaf: [u8; 32],
    depth: Depth,
    /// The ledger's name (its checkpoint origin): an entry whose payload names another ledger
    /// does not belong to this log.
    origin: String,
    /// The project of each event seen, by the rules' key, and its version (a full check of a
    /// large log holds millions).
    events: KeyMap<IdKey, (IdKey, u64)>,
}

/// The events a full replay has seen, for the rules.
struct Seen<'a>(&'a KeyMap<IdKey, (IdKey, u64)>);

impl Events for Seen<'_> {
    fn version_in_project(&self, project: &ProjectId, event: &EventId) -> Result<Option<u64>, LookupFailed> {
        Ok(self.0.get(&id_key(event.as_str())).filter(|(p, _)| *p == id_key(project.as_str())).map(|(_, v)| *v))
    }
}

impl Replay {
    pub fn new(genesis: SystemState, depth: Depth, origin: &str) -> Replay {
        Replay {
            ledger: LedgerState::new(genesis),
            chains: HashMap::new(),
            frontier: Frontier::default(),
            next: 0,
            last_leaf: [0; 32],
            depth,
            origin: origin.to_owned(),
            events: KeyMap::default(),
        }
    }

    /// A structural replay taken up where a replay of the first entries left this state, these
    /// streams' heads, this Merkle frontier (whose size is the next sequence) and last leaf.
    pub fn resume(
        ledger: LedgerState,
        chains: HashMap<ProjectId, Chain>,
        frontier: Frontier,
        last_leaf: [u8; 32],
        origin: &str,
    ) -> Replay {
        let next = frontier.size();
        Replay {
            ledger,
            chains,
            frontier,
            next,
            last_leaf,
            depth: Depth::Structure,
            origin: origin.to_owned(),
            events: KeyMap::default(),
        }
    }

    /// Checks and applies the next entry. A full replay looks up what applying an entry needs
    /// among the entries it has seen; a structural one knows of none (see [`Replay::push_with`]).
    pub fn push(&mut self, entry: &Entry) -> Result<Payload, Broken> {
        self.push_with(entry, &NoEvents)
    }

    /// Checks and applies the next entry; a structural replay looks up what applying it needs
    /// (a retraction's target) in `log`, the store it reads.
    pub fn push_with(&mut self, entry: &Entry, log: &dyn Events) -> Result<Payload, Broken> {
        let sequence = entry.sequence;
        if sequence != self.next {
            return Err(broken(self.next, format!("missing: the next entry present is {sequence}")));
        }
        if entry.computed_hash() != entry.hash {
            return Err(broken(sequence, "its hash does not match its bytes"));
        }
        let (opened, payload) = open_entry(entry).map_err(|e| broken(sequence, e.to_string()))?;
        if payload.project.as_str() != entry.project {
            return Err(broken(sequence, "its stream differs from its payload's project"));
        }
        super::admission::signed_for(&payload, &self.origin).map_err(|r| broken(sequence, r.to_string()))?;
        let chain = self.chains.get(&payload.project).copied().unwrap_or_default();
        if entry.version != chain.version + 1 || entry.prev_hash != chain.head {
            return Err(broken(
                sequence,
                format!("it does not follow version {} of stream `{}`", chain.version, entry.project),
            ));
        }
        if self.depth == Depth::Full {
            let event = id_key(payload.event_id.as_str());
            if self.events.contains_key(&event) {
                return Err(broken(sequence, format!("event id `{}` appears twice", payload.event_id)));
            }
            let changes = Changes::default();
            let view = View { base: &self.ledger, changes: &changes, events: &Seen(&self.events) };
            admit(
                &view,
                &payload,
                &opened,
                SignatureCheck::Unchecked,
                chain.version,
                entry.received_at_us,
                Extent::Full,
            )
            .map_err(|rejection| {
                let reason = match rejection {
                    Rejection::BadSignature { key } => format!("the signature by key `{key}` does not verify"),
                    Rejection::VersionConflict { .. } => "its expected_version does not match the stream".into(),
                    other => other.to_string(),
                };
                broken(sequence, reason)
            })?;
        }
        let at = Position { version: entry.version, received_at_us: entry.received_at_us };
        let changes = Changes::default();
        let facts = if self.depth == Depth::Full {
            Facts::of(&View { base: &self.ledger, changes: &changes, events: &Seen(&self.events) }, &payload)
        } else {
            Facts::of(&View { base: &self.ledger, changes: &changes, events: log }, &payload)
        }
        .map_err(|e| broken(sequence, e.to_string()))?;
        if self.depth == Depth::Full {
            self.events.insert(id_key(payload.event_id.as_str()), (id_key(payload.project.as_str()), entry.version));
        }
        self.ledger.apply(&payload, at, facts);
        self.chains.insert(
            payload.project.clone(),
            Chain { version: entry.version, head: entry.hash, received_at_us: entry.received_at_us },
        );
        self.last_leaf = entry.leaf_hash();
        self.frontier.push(self.last_leaf);
        self.next = sequence + 1;
        Ok(payload)
    }

    /// Checks that a signed checkpoint covers exactly the entries replayed so far.
    pub fn check_checkpoint(&self, note: &str, verifier: &NoteVerifier) -> Result<Checkpoint, Broken> {
        let last = self.next.saturating_sub(1);
        let checkpoint = Checkpoint::open(note, verifier).map_err(|e| broken(last, format!("the checkpoint: {e}")))?;
        if checkpoint.size != self.next {
            return Err(broken(
                checkpoint.size.min(self.next),
                format!("the checkpoint signs {} entries, there are {}", checkpoint.size, self.next),
            ));
        }
        if checkpoint.root != self.frontier.root() {
            return Err(broken(last, "the entries do not hash to the checkpoint's root"));
        }
        Ok(checkpoint)
    }
}
