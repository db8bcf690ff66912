//! Making sealed commits durable: one store append each, in order; once one is durable it is
//! published to the readers and its requests answered, otherwise they are answered with the
//! failure. The writer runs it inline for small commits and on the persisting thread for large
//! ones, where each outcome is reported back to the writer.

use super::published::{Published, SignedCheckpoint};
use super::{AppendError, Appended, Failed, Submission};
use crate::domain::state::Directory;
use crate::domain::{Payload, SystemState};
use crate::log::Entry;
use crate::store::{Commit, LogStore};
use std::sync::Arc;

/// Who a request is charged to: an organisation, or `None` for actors of none (the bootstrap
/// admin, actors registered before organisations).
pub(super) type Tenant = Option<crate::domain::OrganizationId>;

/// Where a request's answer goes.
pub(super) type Reply = tokio::sync::oneshot::Sender<Result<Vec<Appended>, Failed>>;

/// One atomic request as the writer takes it from its queue, answered once its commit is durable
/// or refused.
pub(super) struct Request {
    pub items: Vec<Submission>,
    pub reply: Reply,
    /// Whom the writer's time deciding it is charged to (see [`super::fair`]).
    pub tenant: Tenant,
    /// Its work, in names: each event one, plus the ids it names.
    pub units: usize,
    /// The time preparing it took before it was queued, charged with the writer's.
    pub prepared_in: std::time::Duration,
}

/// A sealed commit, with what to publish and answer once it is durable.
pub(super) struct Job {
    pub commit: Arc<Commit>,
    pub batch: Vec<Request>,
    pub staged: Vec<Staged>,
    pub checkpoint: Option<SignedCheckpoint>,
    pub next: u64,
    /// The system state after the commit, when the commit changed it.
    pub system: Option<SystemState>,
    /// The projects' governance after the commit, when the commit changed it.
    pub directory: Option<Arc<Directory>>,
    /// The listings of the projects the commit wrote to, after it.
    pub listings: Vec<(crate::domain::ProjectId, crate::domain::state::Listing)>,
}

/// How a commit handed to the persisting thread went: durable or not, and how long it took.
pub(super) struct Outcome {
    pub durable: bool,
    pub took: std::time::Duration,
}

/// What one request produced while its batch is not yet written.
pub(super) enum Staged {
    Accepted(Vec<Appended>),
    Refused(Failed),
}

/// The new entries of a batch with their payloads, in ledger order: what the indexes are built
/// from, without opening the envelopes again.
pub(super) fn created<'a>(batch: &'a [Request], staged: &'a [Staged]) -> Vec<(&'a Entry, &'a Payload)> {
    batch
        .iter()
        .zip(staged)
        .filter_map(|(request, result)| match result {
            Staged::Accepted(answers) => Some(request.items.iter().zip(answers)),
            Staged::Refused(_) => None,
        })
        .flatten()
        .filter(|(_, answer)| answer.created)
        .map(|(item, answer)| (&answer.entry, &item.payload))
        .collect()
}

/// Answers every request of a batch with what it produced.
pub(super) fn answer(batch: Vec<Request>, staged: Vec<Staged>) {
    for (request, result) in batch.into_iter().zip(staged) {
        let answer = match result {
            Staged::Accepted(appended) => Ok(appended),
            Staged::Refused(failed) => Err(failed),
        };
        let _ = request.reply.send(answer);
    }
}

/// Answers every request of a batch that will not be written with the same error.
pub(super) fn fail_all(batch: Vec<Request>, error: impl Fn() -> AppendError) {
    for request in batch {
        let _ = request.reply.send(Err(Failed { index: 0, error: error() }));
    }
}

#[derive(Clone)]
pub(super) struct Persister {
    pub store: Arc<dyn LogStore>,
    pub published: Arc<Published>,
}

impl Persister {
    /// The persisting thread: each job in turn, its outcome reported to the writer.
    pub fn run(self, jobs: crossbeam_channel::Receiver<Job>, report: crossbeam_channel::Sender<Outcome>) {
        for job in jobs {
            let started = std::time::Instant::now();
            let durable = self.persist(job);
            if report.send(Outcome { durable, took: started.elapsed() }).is_err() {
                break;
            }
        }
    }

    /// Writes one commit; once it is durable publishes it and answers its requests, otherwise
    /// answers them with the failure. Returns whether it is durable.
    pub fn persist(&self, job: Job) -> bool {
        let started = std::time::Instant::now();
        match self.store.append(&job.commit) {
            Ok(()) => {
                let entries = job.commit.entries.len();
                crate::metrics::COMMIT_SECONDS.observe_duration(started.elapsed());
                crate::metrics::COMMIT_ENTRIES.observe(entries as f64);
                crate::metrics::ENTRIES_APPENDED.fetch_add(entries as u64, std::sync::atomic::Ordering::Relaxed);
                self.published.publish(job.checkpoint, job.next, job.system, job.directory, job.listings);
                answer(job.batch, job.staged);
                true
            }
            Err(error) => {
                log::error!("a commit failed: {error}");
                let full = matches!(error, crate::store::StoreError::Full { .. });
                let cause = std::sync::Arc::new(error);
                fail_all(job.batch, || {
                    if full {
                        AppendError::Full(cause.clone())
                    } else {
                        AppendError::Storage(cause.clone())
                    }
                });
                false
            }
        }
    }
}
