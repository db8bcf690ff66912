//! The group-commit writer: one thread owns the state the rules need. It takes every request
//! waiting in the queue (up to a batch size), decides each one against the state as the earlier
//! ones left it, writes all accepted entries in one atomic, durable store append, and only then
//! answers every request of the batch. Large commits are written by the
//! [persister](super::persister) on a thread of its own while the writer decides the next batch.

use super::fair::{FairQueue, Work};
pub(crate) use super::known::StoreEvents;
use super::known::{InFlight, Known};
use super::persister::{answer, created, fail_all, Job, Outcome, Persister, Request, Staged};
use super::published::{Published, SignedCheckpoint, StartCheck};
use super::{AppendError, Appended, Failed, Submission};
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};

use super::sealed::SealKey;
pub(super) use super::writer_state::{Loaded, WriterState};
use crate::domain::state::{Facts, Position};
use crate::domain::{Changes, EventId, Payload, ProjectId, View};
use crate::log::admission::{admit_after_signer, authenticate};
use crate::log::replay::Chain;
use crate::log::{open_entry, Entry};
use crate::store::{Commit, LogStore, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Requests that may wait for the writer; past this, appends get 503.
    pub queue_capacity: usize,
    /// Most events written by one commit.
    pub max_batch_events: usize,
    /// Commits of at least this many events are handed to the persisting thread, and the
    /// writer decides the next batch while they are written. Smaller ones are written by the
    /// writer itself: for them the handoff between threads costs more than the overlap gains
    /// (64 clients sending single events: about 14,700 events/s written inline, 12,200 handed over).
    pub overlap_events: usize,
    /// New entries after which the writer seals its state once its queue has stayed empty for
    /// a moment ([`super::sealed`]): what a start replays after a quiet stop.
    pub seal_idle_entries: u64,
    /// New entries after which the writer seals its state even while busy (or a quarter of the
    /// log, when more): the most a start replays after a crash under load.
    pub seal_busy_entries: u64,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            queue_capacity: 4096,
            max_batch_events: 2048,
            overlap_events: 64,
            seal_idle_entries: 10_000,
            seal_busy_entries: 250_000,
        }
    }
}

/// Signs a checkpoint after every commit.
#[derive(Clone)]
pub struct CheckpointSigner {
    pub origin: String,
    pub key: ed25519_dalek::SigningKey,
}

impl CheckpointSigner {
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.origin.clone(), key: self.key.verifying_key() }
    }
}

pub(super) fn spawn(
    store: Arc<dyn LogStore>,
    state: WriterState,
    rx: crossbeam_channel::Receiver<Request>,
    published: Arc<Published>,
    config: WriterConfig,
    signer: CheckpointSigner,
    sealed_at: u64,
) {
    let (persist, jobs) = crossbeam_channel::bounded::<Job>(1);
    let sealing = Sealing::spawn(store.clone(), SealKey::of_seed(&signer.key.to_bytes()), sealed_at);
    let (report, outcomes) = crossbeam_channel::bounded::<Outcome>(1);
    let persister = Persister { store: store.clone(), published: published.clone() };
    let background = persister.clone();
    std::thread::Builder::new()
        .name("lineage-persist".into())
        .spawn(move || background.run(jobs, report))
        .expect("the persisting thread starts");
    std::thread::Builder::new()
        .name("lineage-writer".into())
        .spawn(move || {
            Writer {
                store,
                state,
                published,
                config,
                signer,
                persister,
                persist,
                outcomes,
                in_flight: None,
                broken: None,
                queue: FairQueue::default(),
                sealing,
                replayed_after_failed_check: false,
            }
            .run(rx)
        })
        .expect("the writer thread starts");
}

/// Decides and seals commits. A large commit (see [`WriterConfig::overlap_events`]) goes to the
/// persister, and the writer decides the next batch while it is written, so that deciding and
/// signing overlap the durable write; the next commit is sent only once the previous one
/// is durable, and after a failed one its batch is decided again on the state read back from
/// the store.
struct Writer {
    store: Arc<dyn LogStore>,
    state: WriterState,
    published: Arc<Published>,
    config: WriterConfig,
    signer: CheckpointSigner,
    persister: Persister,
    persist: crossbeam_channel::Sender<Job>,
    outcomes: crossbeam_channel::Receiver<Outcome>,
    /// The commit the persister holds: its event ids and entries count as written while staging.
    in_flight: Option<InFlight>,
    /// Why the state could not be read back after a failed write, while it cannot.
    broken: Option<Arc<crate::store::StoreError>>,
    /// The requests waiting, per tenant.
    queue: FairQueue,
    sealing: Sealing,
    /// Whether the state was read again after the start's check failed.
    replayed_after_failed_check: bool,
}

/// Where the writer's state is sealed: the thread that writes it, and the point last sealed.
struct Sealing {
    key: SealKey,
    /// The log's length the last sealed state written covers (or the one read at the start).
    sealed_at: Arc<std::sync::atomic::AtomicU64>,
    /// The thread writing sealed states, one at a time, with the length each covers.
    thread: crossbeam_channel::Sender<(u64, Vec<u8>)>,
    /// Whether it is writing one.
    writing: Arc<std::sync::atomic::AtomicBool>,
    /// Seals that failed since the last one written.
    failures: Arc<std::sync::atomic::AtomicU32>,
    /// The size of the last sealed state, and some: the room the next one is encoded into.
    last_bytes: usize,
}

impl Sealing {
    fn spawn(store: Arc<dyn LogStore>, key: SealKey, at: u64) -> Sealing {
        let (thread, states) = crossbeam_channel::bounded::<(u64, Vec<u8>)>(0);
        let writing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sealed_at = Arc::new(std::sync::atomic::AtomicU64::new(at));
        let failures = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (done, written, failed) = (writing.clone(), sealed_at.clone(), failures.clone());
        std::thread::Builder::new()
            .name("lineage-seal".into())
            .spawn(move || {
                for (covered, bytes) in states {
                    let started = Instant::now();
                    match store.seal_state(&bytes) {
                        Ok(()) => {
                            written.store(covered, std::sync::atomic::Ordering::Release);
                            failed.store(0, std::sync::atomic::Ordering::Release);
                            log::debug!("state sealed ({} bytes) in {:?}", bytes.len(), started.elapsed())
                        }
                        Err(e) => {
                            failed.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                            log::warn!("the state could not be sealed: {e}; a start replays from the last seal")
                        }
                    }
                    // A sealed state is as large as the rules' state: given back at once.
                    drop(bytes);
                    crate::memory::release_freed();
                    done.store(false, std::sync::atomic::Ordering::Release);
                }
            })
            .expect("the sealing thread starts");
        Sealing { key, sealed_at, thread, writing, failures, last_bytes: 0 }
    }
}

/// One batch decided against the state: the answers, and the entries to write.
struct Decided {
    staged: Vec<Staged>,
    written: Vec<(Entry, EventId)>,
    ids: HashMap<EventId, u64>,
    touches_system: bool,
    /// Whether an accepted event changed a project's client or members.
    touches_governance: bool,
    /// What deciding each request took.
    spent: Vec<(Duration, usize)>,
}

/// How long the writer's queue stays empty before the memory commits freed is given back.
const RELEASE_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

impl Writer {
    fn run(mut self, rx: crossbeam_channel::Receiver<Request>) {
        // What the commits freed goes back to the OS once the queue has stayed empty for a
        // moment: under steady load it is reused at once, after a burst it is garbage.
        let mut freed = false;
        // Blocks only while nothing waits (or what waits is held back for a tenant about to
        // come back); takes whatever else is waiting without delay, into the fair queue (which
        // holds no more than the channel would).
        loop {
            let wait = if self.queue.is_empty() { Some(RELEASE_AFTER) } else { self.queue.held_for() };
            if let Some(wait) = wait {
                match rx.recv_timeout(wait) {
                    Ok(request) => self.queue.push(request),
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) if self.queue.is_empty() => {
                        if matches!(self.published.start_check(), StartCheck::Failed { .. }) {
                            self.replay_after_failed_check();
                        }
                        self.seal_state_when_due(self.config.seal_idle_entries);
                        if std::mem::take(&mut freed) {
                            crate::memory::release_freed();
                        }
                        match rx.recv() {
                            Ok(request) => self.queue.push(request),
                            Err(_) => break,
                        }
                    }
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                }
            }
            freed = true;
            while self.queue.len() < self.config.queue_capacity {
                match rx.try_recv() {
                    Ok(request) => self.queue.push(request),
                    Err(_) => break,
                }
            }
            let batch = self.queue.take(self.config.max_batch_events);
            if !batch.is_empty() {
                self.commit(batch);
                // Under load, a seal pauses every tenant for the encoding of the whole state:
                // at most once per quarter of the log, so that its cost per entry stays flat.
                self.seal_state_when_due(self.config.seal_busy_entries.max(self.state.next / 4));
            }
        }
        // What is still queued is dropped with the queue: its requests are answered that the
        // ledger is stopping.
    }

    /// Decides and commits a batch, and charges what it took to its requests' tenants.
    fn commit(&mut self, mut batch: Vec<Request>) {
        let events: usize = batch.iter().map(|r| r.items.len()).sum();
        let overlap = events >= self.config.overlap_events;
        if !overlap {
            self.settle();
        }
        // A full disk refuses the batch before anything is decided: nothing to undo.
        if let Err(e) = self.store.room() {
            let cause = Arc::new(e);
            fail_all(batch, || AppendError::Full(cause.clone()));
            return;
        }
        // The full check of the start found the sealed state it resumed from wrong.
        if let StartCheck::Failed { reason } = self.published.start_check() {
            self.replay_after_failed_check();
            let cause = Arc::new(StoreError::Unchecked { reason });
            fail_all(batch, || AppendError::Storage(cause.clone()));
            return;
        }
        // The state could not be read back after a failed write: try again, and refuse
        // meanwhile.
        if let Some(reason) = self.broken.clone() {
            if !self.reload() {
                fail_all(batch, || AppendError::Storage(reason.clone()));
                return;
            }
        }
        // Single events reach the writer unverified: all waiting ones are checked as one batch.
        self.published
            .verify_known(batch.iter_mut().flat_map(|r| r.items.iter_mut()).map(|s| (&s.opened, &mut s.signature)));
        // Receive times never go backwards, so that `as_of` a time is a prefix of the log.
        let now = chrono::Utc::now().timestamp_micros().max(self.state.last_received);
        self.state.last_received = now;
        let mut decided = self.decide_all(&batch, now);
        // This batch was decided on the commit in flight: it goes out only once that one is
        // durable, and is decided again if that one failed (its requests were answered so).
        if !self.settle() {
            decided = self.decide_all(&batch, now);
        }
        let Decided { staged, written, ids, touches_system, touches_governance, spent } = decided;
        let work: Vec<Work> = batch
            .iter()
            .zip(spent)
            .map(|(request, (spent, decided))| self.queue.charge_request(request, spent, decided))
            .collect();
        if written.is_empty() {
            answer(batch, staged);
            return;
        }
        let listings = self.state.listings(written.iter().map(|(entry, _)| entry.project.as_str()));
        let commit = Arc::new(self.seal(written, &created(&batch, &staged)));
        let job = Job {
            commit: commit.clone(),
            batch,
            staged,
            checkpoint: self.state.checkpoint.clone(),
            next: self.state.next,
            system: touches_system.then(|| self.state.ledger.system.clone()),
            directory: touches_governance.then(|| Arc::new(self.state.ledger.directory())),
            listings,
        };
        if !overlap {
            let started = Instant::now();
            let durable = self.persister.persist(job);
            self.queue.share(&work, started.elapsed());
            if !durable {
                self.reload();
            }
            return;
        }
        self.in_flight = Some(InFlight { ids, commit, work });
        if let Err(crossbeam_channel::SendError(job)) = self.persist.send(job) {
            self.in_flight = None;
            fail_all(job.batch, || AppendError::ShuttingDown);
        }
    }

    /// Seals the state once `due` entries came after the last seal, every one of them durable
    /// (the commit in flight settled first), unless the state is in doubt. Encoding the state
    /// takes the writer's time; writing it, the sealing thread's.
    fn seal_state_when_due(&mut self, due: u64) {
        let sealed_at = self.sealing.sealed_at.load(std::sync::atomic::Ordering::Acquire);
        // After failed seals (a file in the way, a disk that filled), each retry waits for
        // twice as many new entries, up to 64 times.
        let failures = self.sealing.failures.load(std::sync::atomic::Ordering::Acquire).min(6);
        let due = due.max(1).saturating_mul(1 << failures);
        if self.state.next.saturating_sub(sealed_at) < due || self.broken.is_some() {
            return;
        }
        // While the thread writes the last one, this one waits for the next chance.
        if self.sealing.writing.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        // Nothing is sealed from a state the start's check has not found right, nor without
        // room for it on disk.
        let checked = matches!(self.published.start_check(), StartCheck::NotNeeded | StartCheck::Passed { .. });
        if !checked || self.store.room_for(self.sealing.last_bytes as u64).is_err() || !self.settle() {
            return;
        }
        let started = Instant::now();
        // The body is sealed in place (the magic line before it, the authentication after), so
        // that the state is held in memory once more, not twice.
        let bytes = super::sealed::seal_body(&self.sealing.key, self.state.point(), self.sealing.last_bytes);
        log::debug!("state of {} entries encoded in {:?}", self.state.next, started.elapsed());
        self.sealing.last_bytes = bytes.len() + bytes.len() / 16;
        // The thread is idle (asked above), so this hand-over waits only for it to take them.
        self.sealing.writing.store(true, std::sync::atomic::Ordering::Release);
        if self.sealing.thread.send((self.state.next, bytes)).is_err() {
            self.sealing.writing.store(false, std::sync::atomic::Ordering::Release);
        }
    }

    /// After the start's check failed, the state (and what readers see of it) is read again by
    /// replaying the whole log, once: the sealed state it came from was wrong.
    fn replay_after_failed_check(&mut self) {
        if !std::mem::replace(&mut self.replayed_after_failed_check, true) {
            log::warn!("the whole log is replayed: the state read at the start was found wrong");
            self.settle();
            self.reload();
        }
    }

    /// Waits for the commit in flight, if any; after a failed one, reads the state back from
    /// the store and returns false.
    fn settle(&mut self) -> bool {
        let Some(in_flight) = self.in_flight.take() else { return true };
        let Ok(outcome) = self.outcomes.recv() else {
            self.reload();
            return false;
        };
        // Writing it took the persisting thread's time: shared among its requests by their work.
        self.queue.share(&in_flight.work, outcome.took);
        if !outcome.durable {
            self.reload();
        }
        outcome.durable
    }

    /// Decides every request of a batch in order, each against the state the earlier ones left.
    fn decide_all(&mut self, batch: &[Request], now: i64) -> Decided {
        let mut decided = Decided {
            staged: Vec::with_capacity(batch.len()),
            written: Vec::new(),
            ids: HashMap::new(),
            touches_system: false,
            touches_governance: false,
            spent: Vec::with_capacity(batch.len()),
        };
        for request in batch {
            let started = Instant::now();
            let result = self.stage(&request.items, now, &mut decided.written, &mut decided.ids);
            // The events decided: all of them, or up to the one refused.
            let events = match &result {
                Staged::Refused(failed) => failed.index + 1,
                Staged::Accepted(_) => request.items.len(),
            };
            decided.spent.push((started.elapsed(), events));
            if matches!(result, Staged::Accepted(_)) {
                decided.touches_system |= request.items.iter().any(|s| s.payload.project.is_system());
                decided.touches_governance |= request.items.iter().any(|s| s.payload.kind().is_membership());
            }
            decided.staged.push(result);
        }
        decided
    }

    /// Adds the Merkle nodes, the asset index and a new signed checkpoint to the entries.
    fn seal(&mut self, entries: Vec<(Entry, EventId)>, created: &[(&Entry, &Payload)]) -> Commit {
        let mut commit = Commit::default();
        super::tree::index_entries(created.iter().copied(), &mut self.state.frontier, &mut commit);
        if let Some((last, _)) = entries.last() {
            self.state.tip = (last.leaf_hash(), last.received_at_us);
        }
        commit.entries = entries;
        let checkpoint = Checkpoint {
            origin: self.signer.origin.clone(),
            size: self.state.frontier.size(),
            root: self.state.frontier.root(),
        };
        let note = checkpoint.sign(&self.signer.origin, &self.signer.key);
        commit.checkpoint = Some(note.clone());
        self.state.checkpoint = Some(SignedCheckpoint { checkpoint, note });
        commit
    }

    /// After a failed write the in-memory state may be ahead of the disk: read it back. When it
    /// cannot be read, the writer refuses appends (reads go on) and tries again with the next
    /// batch. Returns whether the state was read.
    fn reload(&mut self) -> bool {
        let genesis = self.state.genesis.clone();
        // The state read back is the one the writer had durably written: a sealed state, if
        // the start's check found it right, and the entries after it.
        let checked = matches!(self.published.start_check(), StartCheck::NotNeeded | StartCheck::Passed { .. });
        let sealed = checked.then_some(&self.sealing.key);
        match WriterState::load(self.store.as_ref(), genesis, &self.signer.verifier(), sealed) {
            Ok(Loaded { state, .. }) => {
                let next = state.next;
                let directory = Arc::new(state.ledger.directory());
                let catalogue = state.catalogue();
                self.published.reset(state.checkpoint.clone(), next, state.ledger.system.clone(), directory, catalogue);
                self.state = state;
                self.broken = None;
                true
            }
            Err(e) => {
                log::error!("cannot read the log back after a failed write: {e}; appends are refused until it can");
                let context = "the log could not be read back after a failed write".to_owned();
                self.broken = Some(Arc::new(StoreError::While { context, source: Box::new(e) }));
                false
            }
        }
    }

    /// Decides every event of one request; on success adds its entries to `written` and moves
    /// the state on, on failure leaves both untouched.
    fn stage(
        &mut self,
        items: &[Submission],
        now: i64,
        written: &mut Vec<(Entry, EventId)>,
        pending_ids: &mut HashMap<EventId, u64>,
    ) -> Staged {
        crate::domain::limits::metered(|| self.stage_metered(items, now, written, pending_ids))
    }

    /// [`Writer::stage`], its work metered.
    fn stage_metered(
        &mut self,
        items: &[Submission],
        now: i64,
        written: &mut Vec<(Entry, EventId)>,
        pending_ids: &mut HashMap<EventId, u64>,
    ) -> Staged {
        let mut changes = Changes::default();
        let mut chains: HashMap<ProjectId, Chain> = HashMap::new();
        let mut local_ids: HashMap<EventId, u64> = HashMap::new();
        let mut entries: Vec<(Entry, EventId)> = Vec::new();
        let mut answers: Vec<Appended> = Vec::with_capacity(items.len());
        for (index, sub) in items.iter().enumerate() {
            let fail = |error| Staged::Refused(Failed { index, error });
            let payload = &sub.payload;
            let known = Known {
                store: self.store.as_ref(),
                local: &local_ids,
                pending: pending_ids,
                in_flight: self.in_flight.as_ref(),
                entries: [&entries, written],
            };
            let view = View { base: &self.state.ledger, changes: &changes, events: &known };
            let chain = chains
                .get(&payload.project)
                .or_else(|| self.state.chains.get(&payload.project))
                .copied()
                .unwrap_or_default();
            // Who signed first: nothing of the log is told to a caller whose signature did not
            // verify.
            if let Err(rejection) = authenticate(&view, payload, &sub.opened, sub.signature, chain.version) {
                return fail(rejection.into());
            }
            let earlier = match known.sequence_of(&payload.event_id) {
                Ok(found) => found,
                Err(e) => return fail(AppendError::storage(e)),
            };
            // An event id seen before: the same payload is answered with the entry it made.
            if let Some(sequence) = earlier {
                match answer_again(&known, sub, sequence) {
                    Ok(answer) => answers.push(answer),
                    Err(error) => return fail(error),
                }
                continue;
            }
            // Limits of new submissions, not rules of the log (a replay does not ask them), and
            // asked before the rules, whose work they bound.
            let limits = crate::domain::limits::check_lineage(&view, payload)
                .and_then(|()| crate::domain::limits::check_bytes_shared(&view, payload));
            if let Err(refusal) = limits {
                return fail(AppendError::Refused(refusal));
            }
            let admitted = admit_after_signer(&view, payload, chain.version, now);
            // Past the work limit the rules stopped weighing: that is the refusal, whatever rule
            // said so first.
            if let Err(refusal) = crate::domain::limits::check_work() {
                return fail(AppendError::Refused(refusal));
            }
            if let Err(rejection) = admitted {
                return fail(rejection.into());
            }
            let facts = match Facts::of(&view, payload) {
                Ok(facts) => facts,
                Err(e) => return fail(AppendError::Lookup(e)),
            };
            let at = Position { version: chain.version + 1, received_at_us: now };
            changes.stage(&self.state.ledger, payload, at, facts);
            // `state.next` already counts the entries staged by earlier requests of this batch.
            let sequence = self.state.next + entries.len() as u64;
            let entry =
                Entry::new(sequence, payload.project.to_string(), chain.version + 1, now, sub.raw.clone(), chain.head);
            chains.insert(
                payload.project.clone(),
                Chain { version: entry.version, head: entry.hash, received_at_us: now },
            );
            local_ids.insert(payload.event_id.clone(), sequence);
            answers.push(Appended { entry: entry.clone(), created: true });
            entries.push((entry, payload.event_id.clone()));
        }
        self.state.ledger.merge(changes);
        self.state.chains.extend(chains);
        self.state.next += entries.len() as u64;
        pending_ids.extend(local_ids);
        written.extend(entries);
        Staged::Accepted(answers)
    }
}

/// The answer to an event id the log (or this batch) already holds: the entry it made when the
/// payload is the same, a conflict otherwise. The earlier entry is opened only then, and not at
/// all when these very bytes were found where the request arrived.
fn answer_again(known: &Known<'_>, sub: &Submission, sequence: u64) -> Result<Appended, AppendError> {
    if let Some(entry) = sub.stored.as_ref().filter(|e| e.sequence == sequence) {
        return Ok(Appended { entry: entry.clone(), created: false });
    }
    let unreadable = |e| StoreError::While { context: format!("entry {sequence} is unreadable"), source: Box::new(e) };
    let entry = known
        .entry_at(sequence)
        .map_err(|e| AppendError::storage(unreadable(e)))?
        .ok_or_else(|| AppendError::storage(StoreError::Vanished { sequence }))?;
    match open_entry(&entry) {
        Ok((earlier, _)) if earlier.payload == sub.opened.payload => Ok(Appended { entry, created: false }),
        Ok(_) => Err(AppendError::EventIdConflict { event_id: sub.payload.event_id.to_string() }),
        Err(source) => Err(AppendError::storage(StoreError::Unopenable { sequence, source })),
    }
}
