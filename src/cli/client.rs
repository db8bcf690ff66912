//! A small blocking HTTP client for the CLI (`append`, `demo`) and the benchmarks' set-up, and the
//! payload builder they sign with.

use crate::crypto::dsse::Envelope;
use crate::crypto::keys::KeyFile;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The largest answer the client reads.
const MAX_ANSWER_BYTES: u64 = 1 << 30;

pub struct Client {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

/// An HTTP answer: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    /// The body as received, for readers that need exact bytes.
    pub text: String,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no answer: the server could not be reached (named once, with how to point
/// the command elsewhere), or what came back could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the server at {base} ({}); point the command at it with --url or LINEAGE_URL", why(.cause))]
    Unreachable {
        base: String,
        #[source]
        cause: Box<ureq::Transport>,
    },
    #[error("{url}: {message}")]
    Failed { url: String, message: String },
}

/// What went wrong in reaching a server, without the URL (the message names it once).
fn why(cause: &ureq::Transport) -> String {
    match std::error::Error::source(cause) {
        Some(source) => format!("{}: {source}", cause.kind()),
        None => cause.message().map_or_else(|| cause.kind().to_string(), str::to_owned),
    }
}

impl Client {
    pub fn new(base: &str) -> Client {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
        Client { base: base.trim_end_matches('/').to_owned(), agent, token: None }
    }

    /// Another client for the same server and token.
    pub fn clone_with_token(&self) -> Client {
        Client { base: self.base.clone(), agent: self.agent.clone(), token: self.token.clone() }
    }

    pub fn with_token(mut self, token: &str) -> Client {
        self.token = Some(token.trim().to_owned());
        self
    }

    fn answer(&self, url: &str, result: Result<ureq::Response, ureq::Error>) -> Result<Answer, ClientError> {
        let response = match result {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(cause)) => {
                return Err(ClientError::Unreachable { base: self.base.clone(), cause: Box::new(cause) })
            }
        };
        let status = response.status();
        // A page of a thousand large entries runs to tens of megabytes: read it whole, within a
        // bound (ureq's `into_string` stops at ten).
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(response.into_reader(), MAX_ANSWER_BYTES), &mut text)
            .map_err(|e| ClientError::Failed { url: url.to_owned(), message: e.to_string() })?;
        Ok(Answer { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), text })
    }

    fn request(&self, method: &str, path: &str) -> (String, ureq::Request) {
        let url = format!("{}{}", self.base, path);
        let mut request = self.agent.request(method, &url);
        if let Some(token) = &self.token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        (url, request)
    }

    pub fn get(&self, path: &str) -> Result<Answer, ClientError> {
        let (url, request) = self.request("GET", path);
        self.answer(&url, request.call())
    }

    pub fn delete(&self, path: &str) -> Result<Answer, ClientError> {
        let (url, request) = self.request("DELETE", path);
        self.answer(&url, request.call())
    }

    pub fn put(&self, path: &str, body: &[u8]) -> Result<Answer, ClientError> {
        let (url, request) = self.request("PUT", path);
        self.answer(&url, request.set("Content-Type", "application/json").send_bytes(body))
    }

    pub fn post(&self, path: &str, body: &[u8]) -> Result<Answer, ClientError> {
        let (url, request) = self.request("POST", path);
        self.answer(&url, request.set("Content-Type", "application/json").send_bytes(body))
    }

    /// Streams the body of `GET path` into `out`, however long it takes (a whole log runs to
    /// gigabytes: no deadline but 30 s to connect); an error status is an error carrying the
    /// server's problem text.
    pub fn download(&self, path: &str, out: &mut dyn std::io::Write) -> Result<u64, ClientError> {
        let url = format!("{}{}", self.base, path);
        let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(30)).build();
        let mut request = agent.get(&url);
        if let Some(token) = &self.token {
            request = request.set("Authorization", &format!("Bearer {token}"));
        }
        let failed = |message: String| ClientError::Failed { url: url.clone(), message };
        match request.call() {
            Ok(response) => std::io::copy(&mut response.into_reader(), out).map_err(|e| failed(e.to_string())),
            Err(ureq::Error::Status(status, response)) => {
                Err(failed(format!("{status}: {}", response.into_string().unwrap_or_default().trim())))
            }
            Err(ureq::Error::Transport(cause)) => {
                Err(ClientError::Unreachable { base: self.base.clone(), cause: Box::new(cause) })
            }
        }
    }

    /// Appends one envelope.
    pub fn append(&self, envelope: &[u8]) -> Result<Answer, ClientError> {
        self.post("/v1/events", envelope)
    }

    /// Appends envelopes as one atomic batch.
    pub fn append_batch(&self, envelopes: &[Vec<u8>]) -> Result<Answer, ClientError> {
        self.post("/v1/batches", &batch_body(envelopes))
    }

    /// The ledger's name, which every new event names in its `ledger` field: the first line of
    /// its checkpoint.
    pub fn ledger_name(&self) -> Result<String, ClientError> {
        let answer = self.get("/v1/checkpoint")?;
        match answer.text.lines().next().filter(|_| answer.ok()) {
            Some(origin) if !origin.is_empty() => Ok(origin.to_owned()),
            _ => Err(ClientError::Failed {
                url: format!("{}/v1/checkpoint", self.base),
                message: format!("no checkpoint to take the ledger's name from ({})", answer.status),
            }),
        }
    }
}

/// The body of a batch append: the envelopes' bytes as they are, in `{"envelopes": [...]}`.
pub fn batch_body(envelopes: &[Vec<u8>]) -> Vec<u8> {
    let mut body = b"{\"envelopes\":[".to_vec();
    for (i, e) in envelopes.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(e);
    }
    body.extend_from_slice(b"]}");
    body
}

/// Builds and signs payloads for one actor, for one ledger.
pub struct Signer {
    pub key: KeyFile,
    /// The name of the ledger its events are for ([`Client::ledger_name`]).
    pub ledger: String,
    counter: AtomicU64,
    prefix: String,
}

impl Signer {
    pub fn new(key: KeyFile, ledger: &str) -> Signer {
        let prefix = format!("{}-{}", key.actor, &hex::encode(rand_bytes())[..8]);
        Signer { key, ledger: ledger.to_owned(), counter: AtomicU64::new(0), prefix }
    }

    /// A fresh event id, unique to this signer.
    pub fn next_event_id(&self) -> String {
        format!("{}-{}", self.prefix, self.counter.fetch_add(1, Ordering::Relaxed))
    }

    /// The payload JSON for an event, with a fresh event id, at the kind's current schema
    /// version (1 for a kind the catalogue does not know).
    pub fn payload(&self, project: &str, kind: &str, body: Value) -> Value {
        self.payload_at(project, kind, body, chrono::Utc::now())
    }

    /// The payload JSON for an event that says it happened at `at`.
    pub fn payload_at(&self, project: &str, kind: &str, body: Value, at: chrono::DateTime<chrono::Utc>) -> Value {
        let version = crate::domain::Kind::parse(kind).map_or(1, |k| k.current_version());
        json!({
            "event_id": self.next_event_id(),
            "project": project,
            "kind": kind,
            "schema_version": version,
            "actor": self.key.actor,
            "occurred_at": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "ledger": self.ledger,
            "body": body,
        })
    }

    /// Signs payload JSON as serialized; returns the envelope's JSON bytes.
    pub fn sign(&self, payload: &Value) -> Vec<u8> {
        let bytes = serde_json::to_vec(payload).expect("payloads serialize");
        Envelope::sign(&bytes, &self.key.key_id, &self.key.key).to_json()
    }

    /// Builds and signs in one step.
    pub fn envelope(&self, project: &str, kind: &str, body: Value) -> Vec<u8> {
        self.sign(&self.payload(project, kind, body))
    }

    /// Builds and signs an event that says it happened at `at`.
    pub fn envelope_at(&self, project: &str, kind: &str, body: Value, at: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
        self.sign(&self.payload_at(project, kind, body, at))
    }
}

fn rand_bytes() -> [u8; 16] {
    use rand_core::RngCore as _;
    let mut b = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut b);
    b
}

/// `sha256:<hex>` of some bytes: content addresses for demo and test assets.
pub fn digest_of(bytes: &[u8]) -> String {
    crate::domain::Digest::of(bytes).to_string()
}
