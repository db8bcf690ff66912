//! The ledger service: checks and verifies submissions, hands them to the group-commit writer,
//! and serves reads clamped to what is durable.
//!
//! `mod.rs` is the facade (start, prepare, append); [`queries`] and [`tree`] hold the reads and
//! proofs, [`writer`] decides commits and [`persister`] makes them durable, [`published`] is what
//! they show readers.

pub mod audit;
pub mod evidence;
mod fair;
mod known;
pub mod map;
mod persister;
mod projection_cache;
mod published;
mod queries;
pub mod sealed;
mod start_check;
pub mod tree;
mod writer;
mod writer_state;

use crate::crypto::checkpoint::NoteVerifier;
use crate::crypto::dsse::{Envelope, Opened};
use crate::domain::{Payload, ProjectId, Refusal, SystemState};
use crate::log::admission::{Rejection, SignatureCheck};
use crate::log::{Entry, OpenError};
use crate::store::{LogStore, StoreError};
use published::Published;
use std::sync::Arc;

pub use published::{SignedCheckpoint, StartCheck};
pub use writer::{CheckpointSigner, WriterConfig};

#[derive(Debug, Clone, Copy)]
pub struct LedgerConfig {
    pub writer: WriterConfig,
    /// Estimated bytes of projections kept between queries (the most recently queried
    /// project's are kept even when larger).
    pub projection_cache_bytes: usize,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig { writer: WriterConfig::default(), projection_cache_bytes: 64 << 20 }
    }
}

/// A submission whose envelope and payload parsed; its signature is checked before commit.
pub struct Submission {
    pub raw: Vec<u8>,
    pub opened: Opened,
    pub payload: Payload,
    /// What is known of its signature so far.
    signature: SignatureCheck,
    /// The entry that holds this very envelope, when the request was found to replay it.
    stored: Option<Entry>,
    /// Its part of the time preparing its request took (opening, checking signatures,
    /// parsing): charged to its organisation with the writer's time (see [`fair`]).
    prepared_in: std::time::Duration,
}

/// Why a request is refused before it reaches the writer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PrepareError {
    #[error(transparent)]
    Open(#[from] OpenError),
    /// An unknown key or a bad signature, found where the request arrived.
    #[error(transparent)]
    Rejected(#[from] Rejection),
}

/// An entry the append produced or, for a retried event, found.
#[derive(Debug, Clone)]
pub struct Appended {
    pub entry: crate::log::Entry,
    /// `false` when the event id was already in the log with the same payload.
    pub created: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppendError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("the signature does not verify with key `{key}`")]
    BadSignature { key: crate::domain::KeyId },
    #[error("expected version {expected} of stream `{project}`, it is at {actual}")]
    VersionConflict { project: ProjectId, expected: u64, actual: u64 },
    /// The entry is not named: the id may be another project's, and a conflict within a refused
    /// batch names no entry at all.
    #[error("event `{event_id}` is already in the log with a different payload")]
    EventIdConflict { event_id: String },
    #[error("the writer queue is full")]
    Busy,
    #[error("the ledger is shutting down")]
    ShuttingDown,
    /// The store failed (shared by every request of the commit it failed).
    #[error("{0}")]
    Storage(#[source] std::sync::Arc<crate::store::StoreError>),
    /// A lookup of the log the rules asked for failed: the decision is neither an acceptance
    /// nor a refusal.
    #[error("{0}")]
    Lookup(#[source] crate::domain::LookupFailed),
    /// The disk holding the store is full: nothing was written.
    #[error("{0}")]
    Full(#[source] std::sync::Arc<crate::store::StoreError>),
}

impl AppendError {
    /// The store's failure, as the cause of a refusal.
    pub fn storage(cause: crate::store::StoreError) -> AppendError {
        AppendError::Storage(std::sync::Arc::new(cause))
    }
}

impl From<Rejection> for AppendError {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Signer(refusal) | Rejection::Rule(refusal) => AppendError::Refused(refusal),
            Rejection::BadSignature { key } => AppendError::BadSignature { key },
            Rejection::VersionConflict { project, expected, actual } => {
                AppendError::VersionConflict { project, expected, actual }
            }
            // A decision the store's failure left open is the store's failure.
            Rejection::Lookup(failed) => AppendError::Lookup(failed),
        }
    }
}

/// An append failure and the position, in the request, of the event that caused it.
#[derive(Debug, Clone)]
pub struct Failed {
    pub index: usize,
    pub error: AppendError,
}

#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn LogStore>,
    submit: crossbeam_channel::Sender<persister::Request>,
    published: Arc<Published>,
    /// Requests each organisation has waiting for the writer, and how many it may.
    waiting: Arc<fair::Waiting>,
    /// The subject map's nodes above its buckets ([`map`]), held for reading while a bundle
    /// reads a revision.
    map_lock: Arc<std::sync::RwLock<crate::crypto::map::Upper>>,
    /// The log size a reader waits for the map to cover.
    map_wanted: Arc<std::sync::atomic::AtomicU64>,
    /// The secret the map's subjects are blinded with.
    map_blinding: crate::crypto::map::Blinding,
    /// Dropped with the last clone, which stops the map's follower.
    _map_running: crossbeam_channel::Sender<()>,
}

/// The envelopes of a request whose signatures are checked first, as one batch.
const FIRST_CHUNK: usize = 16;

impl Ledger {
    /// Loads the log from the store and starts the writer thread.
    pub fn start(
        store: Arc<dyn LogStore>,
        genesis: SystemState,
        signer: CheckpointSigner,
        config: LedgerConfig,
    ) -> Result<Ledger, StoreError> {
        let verifier = signer.verifier();
        let seed = signer.key.to_bytes();
        if !crate::domain::state::use_ledger_keys(&seed) {
            log::debug!("ids are keyed by another ledger of this process: its sealed states are not read");
        }
        let key = sealed::SealKey::of_seed(&seed);
        // A sealed state an earlier start's check rejected is not read, and appends wait for
        // `lineage fsck`.
        let rejected = store.sealed_state_rejected()?;
        let sealed = (!rejected).then_some(&key);
        let writer::Loaded { state, resumed } =
            writer::WriterState::load(store.as_ref(), genesis.clone(), &verifier, sealed)?;
        let next = state.next;
        let published = Arc::new(Published::new(
            next,
            state.ledger.system.clone(),
            Arc::new(state.ledger.directory()),
            state.catalogue(),
            state.checkpoint.clone(),
            verifier,
            config.projection_cache_bytes,
        ));
        let (tx, rx) = crossbeam_channel::bounded(config.writer.queue_capacity);
        let map_blinding = crate::crypto::map::Blinding::of_seed(&signer.key.to_bytes());
        let map_lock = Arc::new(std::sync::RwLock::new(map::load(store.as_ref(), &map_blinding)?));
        let map_wanted = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (map_running, map_stop) = crossbeam_channel::bounded(0);
        let follower = map::Follower {
            store: store.clone(),
            published: published.clone(),
            signer: signer.clone(),
            lock: map_lock.clone(),
            wanted: map_wanted.clone(),
            blinding: map_blinding.clone(),
        };
        if rejected {
            let reason =
                "the check of an earlier start that resumed from the sealed state failed (store/sealed-state.rejected)";
            log::error!("{reason}; appends are refused until `lineage fsck` has checked the log");
            published.set_start_check(StartCheck::Failed { reason: reason.into() });
        }
        if let Some(resumed) = resumed {
            start_check::spawn(store.clone(), genesis, signer.origin.clone(), key, resumed, published.clone());
        }
        let sealed_at = resumed.map_or(0, |r| r.covered);
        writer::spawn(store.clone(), state, rx, published.clone(), config.writer, signer, sealed_at);
        follower.spawn(map_stop);
        let waiting = Arc::new(fair::Waiting::new(config.writer.queue_capacity / 4));
        Ok(Ledger {
            store,
            submit: tx,
            published,
            waiting,
            map_lock,
            map_wanted,
            map_blinding,
            _map_running: map_running,
        })
    }

    /// Opens envelopes, checks their signatures and parses their payloads. A request is refused
    /// at its first bad signature or unknown key, where it arrives, so that the writer never
    /// spends work on it: a request of several events has its signatures checked in chunks that
    /// double from 16 (finding a bad one at position `i` costs about `2i + 16` signatures' work); a single
    /// event is left to the writer, which checks every single event waiting in its queue as one
    /// batch, unless its key id had a bad signature lately. Errors name the position of the
    /// envelope at fault.
    pub fn prepare(&self, raws: Vec<Vec<u8>>) -> Result<Vec<Submission>, (usize, PrepareError)> {
        let subs = self.prepare_with(raws, Payload::parse)?;
        // An event names the ledger it was signed for: one signed for another (a staging
        // ledger's, replayed here) is refused.
        let origin = &self.published.verifier.name;
        for (i, sub) in subs.iter().enumerate() {
            if sub.payload.ledger.as_deref() != Some(origin.as_str()) {
                let named = sub.payload.ledger.clone().unwrap_or_default();
                return Err((i, Rejection::Rule(Refusal::WrongLedger { named, this: origin.clone() }).into()));
            }
        }
        Ok(subs)
    }

    /// Prepares the genesis entry the server writes at first start: its payload keeps the
    /// layout every verifier assumes (`docs/formats.md`), at the schema version it was first
    /// written in, so it is read as a stored payload is.
    pub fn prepare_genesis(&self, raw: Vec<u8>) -> Result<Vec<Submission>, (usize, PrepareError)> {
        self.prepare_with(vec![raw], Payload::read)
    }

    fn prepare_with(
        &self,
        raws: Vec<Vec<u8>>,
        parse: fn(&[u8]) -> Result<Payload, crate::domain::PayloadError>,
    ) -> Result<Vec<Submission>, (usize, PrepareError)> {
        let began = std::time::Instant::now();
        let n = raws.len();
        let mut opened: Vec<Opened> = Vec::with_capacity(n);
        let mut keys: Vec<Option<ed25519_dalek::VerifyingKey>> = Vec::with_capacity(n);
        let mut checks = vec![SignatureCheck::Unchecked; n];
        let mut stored: Vec<Option<Entry>> = vec![None; n];
        // Envelopes are opened chunk by chunk as their signatures are checked, so that a request
        // refused at its first envelope costs the opening of that one alone.
        // The first chunk is of 16: batch verification pays off from a few signatures on, and a
        // forged request costs at most 16 checks before it is refused.
        let (mut start, mut chunk) = (0, FIRST_CHUNK);
        while start < n {
            let end = (start + chunk).min(n);
            for (i, raw) in raws.iter().enumerate().take(end).skip(start) {
                let envelope =
                    Envelope::from_json(raw).and_then(|e| e.open()).map_err(|e| (i, OpenError::from(e).into()))?;
                keys.push(self.published.key(&envelope.key_id));
                opened.push(envelope);
            }
            let verify_now = n > 1 || keys[0].is_some_and(|_| self.published.is_suspect(&opened[0].key_id));
            if verify_now {
                // An envelope already in the log byte for byte (a retry, or a replay of stored
                // envelopes to make the server check them again) had its signature checked when
                // it was appended: it costs a lookup, not a check.
                if n > 1 {
                    for i in start..end {
                        if keys[i].is_some() {
                            stored[i] = self.logged_as_is(&opened[i], &raws[i]);
                            if stored[i].is_some() {
                                checks[i] = SignatureCheck::Verified;
                            }
                        }
                    }
                }
                let known: Vec<usize> =
                    (start..end).filter(|&i| keys[i].is_some() && checks[i] == SignatureCheck::Unchecked).collect();
                let items: Vec<(&Opened, &ed25519_dalek::VerifyingKey)> =
                    known.iter().map(|&i| (&opened[i], keys[i].as_ref().expect("known"))).collect();
                if !crate::crypto::dsse::batch_verifies(&items) {
                    let bad = items.iter().position(|(o, k)| !o.verify(k)).map_or(start, |b| known[b]);
                    return Err((bad, Rejection::BadSignature { key: opened[bad].key_id.clone() }.into()));
                }
                for i in known {
                    checks[i] = SignatureCheck::Verified;
                }
            }
            start = end;
            chunk *= 2;
        }
        let mut subs = Vec::with_capacity(n);
        for (i, ((raw, opened), signature)) in raws.into_iter().zip(opened).zip(checks).enumerate() {
            let payload = parse(&opened.payload).map_err(|e| (i, OpenError::from(e).into()))?;
            // An unknown key can only be registered by an earlier event of the same request.
            let registrable = subs.iter().any(|s: &Submission| s.payload.project.is_system());
            if keys[i].is_none() && !registrable {
                let unknown = Refusal::UnknownKey { key: opened.key_id.clone() };
                return Err((i, Rejection::Signer(unknown).into()));
            }
            let stored = stored[i].take();
            crate::domain::limits::check_entry(&payload.body).map_err(|r| (i, Rejection::Rule(r).into()))?;
            subs.push(Submission { raw, opened, payload, signature, stored, prepared_in: Default::default() });
        }
        crate::domain::limits::check_request(subs.iter().map(|s| &s.payload.body))
            .map_err(|(i, r)| (i, Rejection::Rule(r).into()))?;
        let share = began.elapsed() / n.max(1) as u32;
        subs.iter_mut().for_each(|s| s.prepared_in = share);
        Ok(subs)
    }

    /// The entry that holds an envelope exactly as given (its event id's entry, with these
    /// bytes). A lookup that fails says none: the signature is then checked.
    fn logged_as_is(&self, opened: &Opened, raw: &[u8]) -> Option<Entry> {
        #[derive(serde::Deserialize)]
        struct EventIdOnly {
            event_id: String,
        }
        let named = serde_json::from_slice::<EventIdOnly>(&opened.payload).ok()?;
        self.entry_by_event(&named.event_id).ok().flatten().filter(|entry| entry.envelope == raw)
    }

    /// Queues submissions as one atomic request and waits until they are durable or refused.
    pub async fn append(&self, items: Vec<Submission>) -> Result<Vec<Appended>, Failed> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        // A request is one organisation's, and is queued and charged as its: the events of
        // actors of two organisations (an envelope of another's replayed among one's own, say)
        // are refused, so that no request can take another organisation's turn.
        let tenant = self.tenant_of(&items)?;
        let units = items.iter().map(|s| 1 + crate::domain::limits::names(&s.payload.body)).sum();
        // One organisation may fill a quarter of the writer's queue, never all of it.
        let Some(_place) = self.waiting.take(&tenant) else {
            return Err(Failed { index: 0, error: AppendError::Busy });
        };
        let prepared_in = items.iter().map(|s| s.prepared_in).sum();
        let request = persister::Request { items, reply, tenant, units, prepared_in };
        match self.submit.try_send(request) {
            Ok(()) => {}
            Err(crossbeam_channel::TrySendError::Full(_)) => return Err(Failed { index: 0, error: AppendError::Busy }),
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => {
                return Err(Failed { index: 0, error: AppendError::ShuttingDown })
            }
        }
        answer.await.unwrap_or(Err(Failed { index: 0, error: AppendError::ShuttingDown }))
    }

    /// The organisation a request's events are signed by (`None` for actors of none); `Err`
    /// naming the first event of a second organisation.
    fn tenant_of(&self, items: &[Submission]) -> Result<persister::Tenant, Failed> {
        self.published.with_system(|system| {
            let mut tenant: persister::Tenant = None;
            for (index, sub) in items.iter().enumerate() {
                let Some(org) = system.actor(&sub.payload.actor).and_then(|a| a.organization.as_ref()) else {
                    continue;
                };
                match &tenant {
                    None => tenant = Some(org.clone()),
                    Some(first) if first == org => {}
                    Some(_) => {
                        let rule = "a request carries the events of one organisation's actors (and of actors of none, such as the bootstrap admin): each organisation's requests are served and charged as its own";
                        return Err(Failed { index, error: AppendError::Refused(Refusal::Invalid { field: "actor".into(), rule }) });
                    }
                }
            }
            Ok(tenant)
        })
    }

    /// Actors and keys as of the last commit.
    /// The ledger's name: its checkpoints' origin, which new events name as their `ledger`.
    pub fn origin(&self) -> String {
        self.published.verifier.name.clone()
    }

    pub fn system(&self) -> SystemState {
        self.published.system()
    }

    /// Runs `f` on the system state as of the last commit, without copying it.
    pub fn with_system<T>(&self, f: impl FnOnce(&SystemState) -> T) -> T {
        self.published.with_system(f)
    }

    /// The governance of every governed project, as of the last commit.
    pub fn directory(&self) -> Arc<crate::domain::state::Directory> {
        self.published.directory()
    }

    /// Runs `f` on every project's listing, as of the durable log.
    pub fn with_catalogue<T>(&self, f: impl FnOnce(&published::Catalogue) -> T) -> T {
        self.published.with_catalogue(f)
    }

    /// The latest checkpoint; it covers every durable entry.
    pub fn checkpoint(&self) -> Option<SignedCheckpoint> {
        self.published.checkpoint()
    }

    /// The key that verifies checkpoints.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.published.verifier
    }
}

#[cfg(test)]
mod back_pressure_tests;
#[cfg(test)]
mod sealed_tests;
#[cfg(test)]
mod tests;

/// Gives the calling thread the lowest CPU priority (Linux sets it per thread): work that follows
/// the log (the subject map, webhook deliveries) waits for the writer, never the other way round.
pub fn lowest_priority() {
    // SAFETY: setpriority(2) on this thread's own id; a failure only leaves the priority as is.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 19);
    }
}
