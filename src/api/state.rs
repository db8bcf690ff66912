//! What every handler shares: the ledger, the token grants and the request limits.

use super::problem::{ApiError, ProblemType};
use super::tokens::Tokens;
use crate::ledger::Ledger;
use std::sync::Arc;

/// Request limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest body of a single append, in bytes.
    pub body_bytes: usize,
    /// Largest body of a batch append, in bytes.
    pub batch_body_bytes: usize,
    /// Largest body of any other request (a token request), in bytes.
    pub small_body_bytes: usize,
    /// Most envelopes in one batch.
    pub batch_events: usize,
    /// How long a request body may take to arrive, from the end of its head.
    pub body_timeout: std::time::Duration,
    /// Most bytes of request bodies held at once, across every request being read or handled;
    /// past it, a request is answered 503 with `Retry-After`.
    pub buffered_body_bytes: usize,
    /// How long a refusal for a bad signature or an unknown key waits before it is sent (on the
    /// connection alone, holding no worker): a client that keeps sending forgeries gets at most
    /// a few answers a second and so takes no more than that of the server's time.
    pub unverified_refusal_delay: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body_bytes: 256 * 1024,
            batch_body_bytes: 16 * 1024 * 1024,
            small_body_bytes: 64 * 1024,
            batch_events: 1000,
            body_timeout: std::time::Duration::from_secs(30),
            buffered_body_bytes: 256 * 1024 * 1024,
            unverified_refusal_delay: std::time::Duration::from_millis(100),
        }
    }
}

pub struct AppState {
    pub ledger: Ledger,
    pub tokens: Arc<Tokens>,
    pub limits: Limits,
    /// The bytes of request bodies held now.
    pub buffered: BodyBudget,
    /// Where reads that fold, walk or read the store run: off the async workers, a few at once.
    pub reads: ReadSlots,
    /// What signs Content Credentials asked of the server, when the operator gave it.
    pub signing: Option<Arc<crate::outputs::signing::SigningCredentials>>,
    /// Browser sessions of the web UI.
    pub sessions: super::sessions::Sessions,
    /// The files of recorded assets the server may show (thumbnails, downloads), by digest.
    pub files: super::files::AssetFiles,
    /// The clear texts of confidential fields, kept apart from the log.
    pub confidential: std::sync::Arc<crate::store::confidential::ConfidentialStore>,
    /// Webhook endpoints and their deliveries.
    pub webhooks: Arc<super::webhooks::Webhooks>,
    /// The live feeds open.
    pub feeds: super::open_feeds::OpenFeeds,
    /// Entries rendered once for the feeds and webhooks that follow the log.
    pub rendered: Arc<super::rendered::Rendered>,
}

/// Runs reads that may take long (folds, walks, store reads, proofs) on the blocking pool, at
/// most `permits` at once, so that they never hold an async worker (health checks and appends
/// are answered meanwhile) and cannot take every thread there is. Requests past `max_waiting`
/// waiting are answered 503 at once.
pub struct ReadSlots {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

impl ReadSlots {
    pub fn new(permits: usize, max_waiting: usize) -> ReadSlots {
        ReadSlots { permits: tokio::sync::Semaphore::new(permits.max(1)), waiting: Default::default(), max_waiting }
    }

    /// Runs `work` on the blocking pool once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        use std::sync::atomic::Ordering;
        let busy = || {
            ApiError::new(ProblemType::Unavailable, "the server is answering as many long reads as it may; retry")
                .retry_after(1)
        };
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy());
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        let _permit = permit.map_err(|_| busy())?;
        actix_web::web::block(work).await.map_err(|e| ApiError::new(ProblemType::Unavailable, e.to_string()))?
    }
}

/// Counts the bytes of request bodies held at once against [`Limits::buffered_body_bytes`].
#[derive(Debug, Default)]
pub struct BodyBudget {
    held: std::sync::atomic::AtomicUsize,
}

/// Bytes taken from the budget, given back when dropped.
#[derive(Debug)]
pub struct Reservation<'a> {
    budget: &'a BodyBudget,
    bytes: usize,
}

impl BodyBudget {
    /// Takes `bytes` more for `reservation` if the total stays within `limit`.
    pub fn grow(&self, reservation: &mut Reservation<'_>, bytes: usize, limit: usize) -> bool {
        use std::sync::atomic::Ordering;
        let taken = self.held.fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
            held.checked_add(bytes).filter(|total| *total <= limit)
        });
        if taken.is_ok() {
            reservation.bytes += bytes;
        }
        taken.is_ok()
    }

    pub fn reservation(&self) -> Reservation<'_> {
        Reservation { budget: self, bytes: 0 }
    }

    /// The bytes held now.
    pub fn held(&self) -> usize {
        self.held.load(std::sync::atomic::Ordering::Acquire)
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.held.fetch_sub(self.bytes, std::sync::atomic::Ordering::AcqRel);
    }
}
