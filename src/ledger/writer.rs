//! The group-commit writer: one thread owns the state the rules need. It takes every request
//! waiting in the queue (up to a batch size), decides each one against the state as the earlier
//! ones left it, writes all accepted entries in one atomic store append (one flush and one
//! fdatasync), and only then answers every request of the batch.

use super::replay::{Broken, Chain, Depth, Replay};
use super::{open_entry, AppendError, Appended, Failed, Shared, Submission};
use crate::crypto::checkpoint::{Checkpoint, NoteVerifier};
use crate::crypto::merkle::Frontier;
use crate::domain::rules::{check_signer, decide};
use crate::domain::{Changes, EventId, KeyId, LedgerState, Payload, ProjectId, SystemState, View};
use crate::entry::Entry;
use crate::projections::Projections;
use crate::store::{Commit, Store, StoreError};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub(super) type Reply = tokio::sync::oneshot::Sender<Result<Vec<Appended>, Failed>>;

pub(super) struct Request {
    pub items: Vec<Submission>,
    pub reply: Reply,
}

#[derive(Debug, Clone, Copy)]
pub struct WriterConfig {
    /// Requests that may wait for the writer; past this, appends get 503.
    pub queue_capacity: usize,
    /// Most events written by one commit.
    pub max_batch_events: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig { queue_capacity: 4096, max_batch_events: 2048 }
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

/// A checkpoint and its signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    pub note: String,
}

pub(super) struct WriterState {
    pub ledger: LedgerState,
    chains: HashMap<ProjectId, Chain>,
    next: u64,
    genesis: SystemState,
    frontier: Frontier,
    pub checkpoint: Option<SignedCheckpoint>,
    last_received: i64,
    /// Folded during the load; handed to the readers' side at start.
    pub projections: Projections,
}

pub(super) fn all_keys(system: &SystemState) -> HashMap<KeyId, VerifyingKey> {
    let mut keys = HashMap::new();
    for (_, actor) in system.actors() {
        for (id, key) in &actor.keys {
            if let Ok(k) = VerifyingKey::from_bytes(key.public_key.bytes()) {
                keys.insert(id.clone(), k);
            }
        }
    }
    keys
}

impl WriterState {
    /// Replays every stored entry (checking hashes and chains), then checks that the stored
    /// checkpoint signs exactly these entries and that the stored Merkle nodes agree. Returns
    /// the state and the number of entries.
    pub fn load(
        store: &dyn Store,
        genesis: SystemState,
        verifier: &NoteVerifier,
    ) -> Result<(WriterState, u64), StoreError> {
        let mut replay = Replay::new(genesis.clone(), Depth::Structure);
        let corrupt = |b: Broken| StoreError::Corrupt { sequence: b.sequence, reason: b.reason };
        let mut projections = Projections::default();
        let mut last_received = i64::MIN;
        crate::store::for_each_entry(store, 0, |entry| {
            let payload = replay.push(entry).map_err(corrupt)?;
            projections.apply(entry, &payload);
            last_received = last_received.max(entry.received_at_us);
            Ok::<_, StoreError>(())
        })?;
        let next = replay.next;
        if let Some(note) = store.acknowledged_checkpoint()? {
            let acknowledged = Checkpoint::open(&note, verifier).map_err(|e| StoreError::Corrupt {
                sequence: next,
                reason: format!("the acknowledged checkpoint: {e}"),
            })?;
            if acknowledged.size > next {
                return Err(StoreError::Corrupt {
                    sequence: next,
                    reason: format!("missing: {} entries were acknowledged, the store holds {next}", acknowledged.size),
                });
            }
        }
        let checkpoint = match store.checkpoint()? {
            None if next == 0 => None,
            None => {
                return Err(StoreError::Corrupt {
                    sequence: next - 1,
                    reason: "no checkpoint covers the stored entries".into(),
                })
            }
            Some(note) => {
                let checkpoint = replay.check_checkpoint(&note, verifier).map_err(corrupt)?;
                let stored = Frontier::from_nodes(next, |id| super::stored_node(store, id).ok().flatten());
                if stored.as_ref() != Some(&replay.frontier) {
                    return Err(StoreError::Corrupt {
                        sequence: next - 1,
                        reason: "the stored Merkle nodes differ from the entries".into(),
                    });
                }
                Some(SignedCheckpoint { checkpoint, note })
            }
        };
        let state = WriterState {
            ledger: replay.ledger,
            chains: replay.chains,
            next,
            genesis,
            frontier: replay.frontier,
            checkpoint,
            last_received,
            projections,
        };
        Ok((state, next))
    }
}

pub(super) fn spawn(
    store: Arc<dyn Store>,
    state: WriterState,
    rx: crossbeam_channel::Receiver<Request>,
    shared: Arc<Shared>,
    config: WriterConfig,
    signer: CheckpointSigner,
) {
    std::thread::Builder::new()
        .name("lineage-writer".into())
        .spawn(move || Writer { store, state, shared, config, signer }.run(rx))
        .expect("the writer thread starts");
}

struct Writer {
    store: Arc<dyn Store>,
    state: WriterState,
    shared: Arc<Shared>,
    config: WriterConfig,
    signer: CheckpointSigner,
}

/// What one request produced while its batch is not yet written.
enum Staged {
    Accepted(Vec<Appended>),
    Refused(Failed),
}

impl Writer {
    fn run(mut self, rx: crossbeam_channel::Receiver<Request>) {
        // Blocks only while the queue is empty; takes whatever else is waiting without delay.
        while let Ok(first) = rx.recv() {
            let mut events = first.items.len();
            let mut batch = vec![first];
            while events < self.config.max_batch_events {
                match rx.try_recv() {
                    Ok(request) => {
                        events += request.items.len();
                        batch.push(request);
                    }
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
    }

    fn commit(&mut self, mut batch: Vec<Request>) {
        // Single events reach the writer unverified: all waiting ones are checked as one batch.
        self.shared.verify_unverified(batch.iter_mut().flat_map(|r| r.items.iter_mut()));
        // Receive times never go backwards, so that `as_of` a time is a prefix of the log.
        let now = chrono::Utc::now().timestamp_micros().max(self.state.last_received);
        self.state.last_received = now;
        let mut written: Vec<(Entry, EventId)> = Vec::new();
        let mut pending_ids: HashMap<EventId, (u64, [u8; 32])> = HashMap::new();
        let mut staged = Vec::with_capacity(batch.len());
        let mut touches_system = false;
        for request in &batch {
            let result = self.stage(&request.items, now, &mut written, &mut pending_ids);
            if matches!(result, Staged::Accepted(_)) {
                touches_system |= request.items.iter().any(|s| s.payload.project.is_system());
            }
            staged.push(result);
        }
        // The new entries with their payloads, in ledger order: what the indexes and the
        // projections are built from, without opening the envelopes again.
        let created: Vec<(&Entry, &Payload)> = batch
            .iter()
            .zip(&staged)
            .filter_map(|(request, result)| match result {
                Staged::Accepted(answers) => Some(request.items.iter().zip(answers)),
                Staged::Refused(_) => None,
            })
            .flatten()
            .filter(|(_, answer)| answer.created)
            .map(|(item, answer)| (&answer.entry, &item.payload))
            .collect();
        let outcome = if written.is_empty() {
            Ok(())
        } else {
            let commit = self.seal(written, &created);
            self.store.append(&commit)
        };
        match outcome {
            Ok(()) => {
                {
                    let mut projections = self.shared.projections.write().expect("projections lock");
                    for (entry, payload) in &created {
                        projections.apply(entry, payload);
                    }
                }
                *self.shared.checkpoint.write().expect("checkpoint lock") = self.state.checkpoint.clone();
                self.shared.committed.store(self.state.next, Ordering::Release);
                if touches_system {
                    *self.shared.keys.write().expect("key cache lock") = all_keys(&self.state.ledger.system);
                    *self.shared.system.write().expect("system lock") = self.state.ledger.system.clone();
                }
                for (request, result) in batch.into_iter().zip(staged) {
                    let answer = match result {
                        Staged::Accepted(appended) => Ok(appended),
                        Staged::Refused(failed) => Err(failed),
                    };
                    let _ = request.reply.send(answer);
                }
            }
            Err(error) => {
                log::error!("a commit failed: {error}");
                for request in batch {
                    let _ =
                        request.reply.send(Err(Failed { index: 0, error: AppendError::Storage(error.to_string()) }));
                }
                self.reload();
            }
        }
    }

    /// Adds the Merkle nodes, the asset index and a new signed checkpoint to the entries.
    fn seal(&mut self, entries: Vec<(Entry, EventId)>, created: &[(&Entry, &Payload)]) -> Commit {
        let mut commit = Commit::default();
        super::index_entries(created.iter().copied(), &mut self.state.frontier, &mut commit);
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

    /// After a failed write the in-memory state may be ahead of the disk: read it back.
    fn reload(&mut self) {
        match WriterState::load(self.store.as_ref(), self.state.genesis.clone(), &self.signer.verifier()) {
            Ok((mut state, next)) => {
                *self.shared.checkpoint.write().expect("checkpoint lock") = state.checkpoint.clone();
                *self.shared.projections.write().expect("projections lock") = std::mem::take(&mut state.projections);
                self.state = state;
                self.shared.committed.store(next, Ordering::Release);
            }
            Err(e) => {
                log::error!("cannot reload the log after a failed write: {e}; stopping the writer");
                std::process::abort();
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
        pending_ids: &mut HashMap<EventId, (u64, [u8; 32])>,
    ) -> Staged {
        let mut changes = Changes::default();
        let mut chains: HashMap<ProjectId, Chain> = HashMap::new();
        let mut local_ids: HashMap<EventId, (u64, [u8; 32])> = HashMap::new();
        let mut entries: Vec<(Entry, EventId)> = Vec::new();
        let mut answers: Vec<Appended> = Vec::with_capacity(items.len());
        for (index, sub) in items.iter().enumerate() {
            let fail = |error| Staged::Refused(Failed { index, error });
            let payload = &sub.payload;
            let digest: [u8; 32] = Sha256::digest(&sub.opened.payload).into();
            let earlier = local_ids.get(&payload.event_id).or_else(|| pending_ids.get(&payload.event_id)).copied();
            let earlier = match earlier {
                Some(found) => Some(found),
                None => match self.stored_event(&payload.event_id) {
                    Ok(found) => found,
                    Err(e) => return fail(AppendError::Storage(e.to_string())),
                },
            };
            if let Some((sequence, earlier_digest)) = earlier {
                if earlier_digest != digest {
                    return fail(AppendError::EventIdConflict { event_id: payload.event_id.to_string(), sequence });
                }
                let entry = entries
                    .iter()
                    .chain(written.iter())
                    .map(|(e, _)| e)
                    .find(|e| e.sequence == sequence)
                    .cloned()
                    .or_else(|| self.store.entry(sequence).ok().flatten());
                match entry {
                    Some(entry) => answers.push(Appended { entry, created: false }),
                    None => return fail(AppendError::Storage(format!("entry {sequence} vanished"))),
                }
                continue;
            }

            let view = View { base: &self.state.ledger, changes: &changes };
            if let Err(refusal) = check_signer(&view, payload, &sub.opened.key_id) {
                return fail(AppendError::Refused(refusal));
            }
            if !sub.verified {
                let key = view
                    .system()
                    .key(&sub.opened.key_id)
                    .and_then(|(_, _, k)| VerifyingKey::from_bytes(k.public_key.bytes()).ok());
                if !key.is_some_and(|k| sub.opened.verify(&k)) {
                    return fail(AppendError::BadSignature { key: sub.opened.key_id.clone() });
                }
            }
            let chain = chains
                .get(&payload.project)
                .or_else(|| self.state.chains.get(&payload.project))
                .copied()
                .unwrap_or_default();
            if let Some(expected) = payload.expected_version {
                if expected != chain.version {
                    return fail(AppendError::VersionConflict {
                        project: payload.project.clone(),
                        expected,
                        actual: chain.version,
                    });
                }
            }
            if let Err(refusal) = decide(&view, payload) {
                return fail(AppendError::Refused(refusal));
            }
            changes.stage(&self.state.ledger, payload);
            // `state.next` already counts the entries staged by earlier requests of this batch.
            let sequence = self.state.next + entries.len() as u64;
            let entry =
                Entry::new(sequence, payload.project.to_string(), chain.version + 1, now, sub.raw.clone(), chain.head);
            chains.insert(payload.project.clone(), Chain { version: entry.version, head: entry.hash });
            local_ids.insert(payload.event_id.clone(), (sequence, digest));
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

    /// The sequence and payload digest of an event already in the store.
    fn stored_event(&self, id: &EventId) -> Result<Option<(u64, [u8; 32])>, StoreError> {
        let Some(sequence) = self.store.sequence_of_event(id.as_str())? else {
            return Ok(None);
        };
        let entry = self
            .store
            .entry(sequence)?
            .ok_or_else(|| StoreError::Corrupt { sequence, reason: "indexed but missing".into() })?;
        let (opened, _) = open_entry(&entry).map_err(|e| StoreError::Corrupt { sequence, reason: e.to_string() })?;
        Ok(Some((sequence, Sha256::digest(&opened.payload).into())))
    }
}
