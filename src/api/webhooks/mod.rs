//! Webhooks following Standard Webhooks (docs/integrations.md): endpoints registered by a token
//! for what it may read — an organisation's projects, one project, some kinds — each delivered
//! every such entry once it is durable, in log order, at least once, signed with the endpoint's
//! secret. Each endpoint has a thread of its own ([`delivery`]) that reads committed entries from
//! its own cursor: an append never waits for a delivery.
//!
//! Stored under `DATA/webhooks/<id>/` ([`endpoint`]).

pub mod delivery;
pub mod endpoint;
pub mod guard;
pub mod signature;

use crate::api::tokens::Tokens;
use crate::ledger::Ledger;
use crate::store::files::io;
use crate::store::StoreError;
use endpoint::{Attempt, Endpoint, Record, Status};
use rand_core::RngCore as _;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How deliveries are made: set by the operator (`lineage serve --webhook-…`).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Whether endpoints may be on the server's own loopback or link-local addresses.
    pub allow_local: bool,
    /// The wait after a first failed attempt; each further failure doubles it, up to
    /// `retry_cap`, and a random part of up to half of it is taken off (jitter).
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// An endpoint failing the same entry for this long is disabled.
    pub give_up_after: Duration,
    /// How long one attempt may take, connection included.
    pub timeout: Duration,
    /// Most endpoints the server holds.
    pub max_endpoints: usize,
    /// Most endpoints one token registers (an admin token's are counted against the server's
    /// only).
    pub max_per_token: usize,
    /// How long deliveries are also signed with the secret a rotation replaced.
    pub rotation_grace: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allow_local: false,
            retry_base: Duration::from_secs(1),
            retry_cap: Duration::from_secs(600),
            give_up_after: Duration::from_secs(72 * 3600),
            timeout: Duration::from_secs(15),
            max_endpoints: 100,
            max_per_token: 10,
            rotation_grace: Duration::from_secs(24 * 3600),
        }
    }
}

/// Counts since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    /// Attempts an endpoint took (2xx).
    pub delivered: AtomicU64,
    /// Attempts that failed (no answer, or not 2xx).
    pub failed: AtomicU64,
    /// Attempts after an entry's first.
    pub retries: AtomicU64,
}

/// What the delivery threads share.
pub struct Shared {
    pub ledger: Ledger,
    pub rendered: Arc<crate::api::rendered::Rendered>,
    pub tokens: Arc<Tokens>,
    pub config: WebhookConfig,
    pub stats: Stats,
    stopping: AtomicBool,
    /// Taken by a delivery while appends wait for the writer: then the endpoints deliver one at a
    /// time, and rest as long as each delivery took ([`delivery`]).
    pub turns: Mutex<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no webhook endpoint `{0}` among those the token may manage")]
    NotFound(String),
    #[error("the server holds as many webhook endpoints as it may (`lineage serve --webhook-max-endpoints`)")]
    TooMany,
    #[error("the token has registered {0} webhook endpoints, the most a token may: delete one first")]
    TooManyOfToken(usize),
    #[error("`from` {from} is past the end of the log ({len} entries)")]
    PastTheEnd { from: u64, len: u64 },
}

/// A registration, checked.
pub struct NewEndpoint {
    pub url: url::Url,
    pub project: Option<String>,
    pub organization: Option<String>,
    pub kinds: Vec<String>,
    pub description: Option<String>,
    /// The first sequence to deliver; the log's length (new entries only) if not given.
    pub from: Option<u64>,
    pub token: String,
    pub token_name: String,
    pub token_hash: [u8; 32],
    /// Whether the token is an admin's (not held to the limit per token).
    pub admin: bool,
}

pub struct Webhooks {
    dir: PathBuf,
    shared: Arc<Shared>,
    endpoints: Mutex<BTreeMap<String, Arc<Endpoint>>>,
}

impl Webhooks {
    /// Opens the endpoints stored under `dir` and starts delivering to the active ones.
    pub fn open(
        dir: PathBuf,
        config: WebhookConfig,
        ledger: Ledger,
        tokens: Arc<Tokens>,
        rendered: Arc<crate::api::rendered::Rendered>,
    ) -> Result<Webhooks, StoreError> {
        std::fs::create_dir_all(&dir).map_err(io("creating the webhooks folder"))?;
        let shared = Arc::new(Shared {
            ledger,
            rendered,
            tokens,
            config,
            stats: Stats::default(),
            turns: Mutex::new(()),
            stopping: AtomicBool::new(false),
        });
        let webhooks = Webhooks { dir: dir.clone(), shared, endpoints: Mutex::new(BTreeMap::new()) };
        for folder in std::fs::read_dir(&dir).map_err(io("reading the webhooks folder"))? {
            let path = folder.map_err(io("reading the webhooks folder"))?.path();
            if path.extension().is_some_and(|e| e == "deleted") {
                // A deletion a stop interrupted.
                std::fs::remove_dir_all(&path).map_err(io("removing a deleted webhook"))?;
                continue;
            }
            if !path.is_dir() || path.extension().is_some_and(|e| e == "damaged") {
                continue;
            }
            match Endpoint::open(&path) {
                Ok(Some(endpoint)) => webhooks.start(Arc::new(endpoint)),
                Ok(None) => std::fs::remove_dir_all(&path).map_err(io("removing a webhook never created"))?,
                // A webhook is not the log: one that does not read is set aside, loudly, and the
                // ledger serves.
                Err(e) => {
                    let aside = path.with_extension("damaged");
                    log::error!("webhook {}: {e}; set aside as {}", path.display(), aside.display());
                    std::fs::rename(&path, &aside).map_err(io("setting a damaged webhook aside"))?;
                }
            }
        }
        Ok(webhooks)
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    fn start(&self, endpoint: Arc<Endpoint>) {
        let id = endpoint.id();
        self.endpoints.lock().expect("not poisoned").insert(id.clone(), endpoint.clone());
        self.spawn(id, endpoint);
    }

    fn spawn(&self, id: String, endpoint: Arc<Endpoint>) {
        let shared = self.shared.clone();
        let spawned =
            std::thread::Builder::new().name(format!("webhook {id}")).spawn(move || delivery::run(&shared, &endpoint));
        if let Err(e) = spawned {
            log::error!("webhook {id}: its delivery thread did not start: {e}");
        }
    }

    /// Registers an endpoint, durably, and returns it with its secret.
    pub fn register(&self, new: NewEndpoint) -> Result<(endpoint::Live, String), WebhookError> {
        // Held until the endpoint is in: two registrations never both take the last place.
        let mut endpoints = self.endpoints.lock().expect("not poisoned");
        if endpoints.len() >= self.shared.config.max_endpoints {
            return Err(WebhookError::TooMany);
        }
        let own = endpoints.values().filter(|e| e.live.lock().expect("not poisoned").record.token == new.token).count();
        if !new.admin && own >= self.shared.config.max_per_token {
            return Err(WebhookError::TooManyOfToken(own));
        }
        let len = self.shared.ledger.len();
        let from = new.from.unwrap_or(len);
        if from > len {
            return Err(WebhookError::PastTheEnd { from, len });
        }
        let mut id = [0u8; 8];
        rand_core::OsRng.fill_bytes(&mut id);
        let id = format!("wh_{}", hex::encode(id));
        let secret = signature::Secret::generate().text();
        let record = Record {
            id: id.clone(),
            url: new.url.to_string(),
            project: new.project,
            organization: new.organization,
            kinds: new.kinds,
            description: new.description,
            token: new.token,
            token_name: new.token_name,
            token_hash: hex::encode(new.token_hash),
            created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            status: Status::Active,
            reason: None,
            secret: secret.clone(),
            previous_secret: None,
            previous_until_us: None,
            failing_since_us: None,
            failing_attempts: 0,
        };
        let endpoint = Arc::new(Endpoint::create(self.dir.join(&id), record, from)?);
        let live = snapshot(&endpoint);
        endpoints.insert(id.clone(), endpoint.clone());
        drop(endpoints);
        self.spawn(id, endpoint);
        Ok((live, secret))
    }

    /// The endpoint of this id, if `owner` (a token id; `None` for an admin) manages it.
    fn find(&self, id: &str, owner: Option<&str>) -> Result<Arc<Endpoint>, WebhookError> {
        let endpoints = self.endpoints.lock().expect("not poisoned");
        let endpoint = endpoints.get(id).ok_or_else(|| WebhookError::NotFound(id.chars().take(40).collect()))?;
        let own = owner.is_none_or(|o| endpoint.live.lock().expect("not poisoned").record.token == o);
        if own {
            Ok(endpoint.clone())
        } else {
            Err(WebhookError::NotFound(id.to_owned()))
        }
    }

    /// The endpoints `owner` manages (every one for `None`).
    pub fn list(&self, owner: Option<&str>) -> Vec<endpoint::Live> {
        let endpoints: Vec<Arc<Endpoint>> = self.endpoints.lock().expect("not poisoned").values().cloned().collect();
        endpoints.iter().map(|e| snapshot(e)).filter(|l| owner.is_none_or(|o| l.record.token == o)).collect()
    }

    pub fn get(&self, id: &str, owner: Option<&str>) -> Result<endpoint::Live, WebhookError> {
        Ok(snapshot(&*self.find(id, owner)?))
    }

    /// Changes an endpoint's record, durably, and wakes its thread.
    fn change(
        &self,
        id: &str,
        owner: Option<&str>,
        change: impl FnOnce(&mut endpoint::Live),
    ) -> Result<endpoint::Live, WebhookError> {
        let endpoint = self.find(id, owner)?;
        let live = {
            let mut live = endpoint.live.lock().expect("not poisoned");
            let mut changed = live.clone();
            change(&mut changed);
            endpoint.save_record(&changed.record)?;
            *live = changed.clone();
            changed
        };
        // Synced before the answer, through the one path every cursor write takes.
        endpoint.sync_cursor(true)?;
        endpoint.wake.notify_one();
        Ok(live)
    }

    /// Pauses or resumes an endpoint; resuming a disabled one clears its failure and retries
    /// the entry it stopped at.
    pub fn set_status(&self, id: &str, owner: Option<&str>, active: bool) -> Result<endpoint::Live, WebhookError> {
        self.change(id, owner, |live| {
            live.record.status = if active { Status::Active } else { Status::Paused };
            live.record.reason = None;
            live.failing = None;
            live.record.failing_since_us = None;
        })
    }

    /// A new secret; the previous one still signs deliveries for the rotation's grace.
    pub fn rotate(&self, id: &str, owner: Option<&str>) -> Result<(endpoint::Live, String), WebhookError> {
        let secret = signature::Secret::generate().text();
        let grace = i64::try_from(self.shared.config.rotation_grace.as_micros()).unwrap_or(i64::MAX);
        let until = chrono::Utc::now().timestamp_micros().saturating_add(grace);
        let live = self.change(id, owner, |live| {
            let previous = std::mem::replace(&mut live.record.secret, secret.clone());
            live.record.previous_secret = Some(previous);
            live.record.previous_until_us = Some(until);
        })?;
        Ok((live, secret))
    }

    /// Delivers again from `from` on, in order, each entry with the `webhook-id` it had.
    pub fn replay(&self, id: &str, owner: Option<&str>, from: u64) -> Result<endpoint::Live, WebhookError> {
        let len = self.shared.ledger.len();
        if from > len {
            return Err(WebhookError::PastTheEnd { from, len });
        }
        self.change(id, owner, |live| {
            live.cursor = from;
            live.generation += 1;
            live.failing = None;
            live.record.failing_since_us = None;
        })
    }

    /// Deletes an endpoint: its thread stops, its folder is removed.
    pub fn delete(&self, id: &str, owner: Option<&str>) -> Result<(), WebhookError> {
        let endpoint = self.find(id, owner)?;
        endpoint.live.lock().expect("not poisoned").deleted = true;
        endpoint.wake.notify_one();
        self.endpoints.lock().expect("not poisoned").remove(id);
        let gone = self.dir.join(format!("{id}.deleted"));
        std::fs::rename(&endpoint.dir, &gone).map_err(io("deleting a webhook"))?;
        crate::store::files::sync_folder(&gone, "deleting a webhook")?;
        std::fs::remove_dir_all(&gone).map_err(io("deleting a webhook"))?;
        Ok(())
    }

    pub fn attempts(
        &self,
        id: &str,
        owner: Option<&str>,
        limit: usize,
        sequence: Option<u64>,
    ) -> Result<Vec<Attempt>, WebhookError> {
        Ok(self.find(id, owner)?.attempts(limit, sequence))
    }

    /// Active endpoints, and the entries they are behind the log in all.
    pub fn lag(&self) -> (usize, u64) {
        let len = self.shared.ledger.len();
        let endpoints = self.endpoints.lock().expect("not poisoned");
        let active: Vec<u64> = endpoints
            .values()
            .filter_map(|e| {
                let live = e.live.lock().expect("not poisoned");
                (live.record.status == Status::Active).then_some(live.cursor)
            })
            .collect();
        (active.len(), active.iter().map(|c| len.saturating_sub(*c)).sum())
    }

    /// Stops every delivery thread after its current attempt, syncing the cursors.
    pub fn stop(&self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        for endpoint in self.endpoints.lock().expect("not poisoned").values() {
            endpoint.wake.notify_one();
            if let Err(e) = endpoint.sync_cursor(true) {
                log::warn!("webhook {}: {e}", endpoint.id());
            }
        }
    }
}

impl Shared {
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}

fn snapshot(endpoint: &Endpoint) -> endpoint::Live {
    endpoint.live.lock().expect("not poisoned").clone()
}
