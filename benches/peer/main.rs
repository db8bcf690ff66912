//! The peers `lineage bench` is compared with: what a team would build instead of this ledger,
//! in the same process model — an actix-web server taking the same requests (`POST /v1/events`,
//! `POST /v1/batches`, the same DSSE envelopes, the same signature rule, the same bearer token)
//! and keeping each event as a row of an event table, in SQLite (WAL, `synchronous=FULL`) or
//! PostgreSQL (`synchronous_commit = on`), committed in groups by one writer thread; an answer
//! only once its transaction is durable. What it leaves out is what the ledger adds: the Merkle
//! tree and its checkpoints, the domain's rules and projections, per-stream versions. Keys
//! registered by `actor_registered` events (signed by the admin) are kept in memory: the peer
//! serves one bench run.
//!
//! ```text
//! cargo bench --bench peer -- --data /tmp/peer sqlite
//! cargo bench --bench peer -- --data /tmp/peer postgres "host=/var/run/postgresql user=postgres"
//! lineage bench --url http://127.0.0.1:PORT --data /tmp/peer --reads 0
//! ```
//!
//! With `--skip-signatures` the peer stores what it is given unchecked: the storage alone.

mod table;
mod writer;

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use clap::Parser as _;
use ed25519_dalek::VerifyingKey;
use lineage_ledger::crypto::dsse::{batch_verifies, Envelope, Opened};
use lineage_ledger::crypto::keys::KeyFile;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

/// The name events must carry in `ledger`, and the first line of `/v1/checkpoint`.
const LEDGER: &str = "peer.local/log";

#[derive(clap::Parser)]
struct Args {
    /// Where the admin's key and token are written (and SQLite's database).
    #[arg(long)]
    data: std::path::PathBuf,
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Store envelopes without checking their signatures: the storage alone, for comparison.
    #[arg(long)]
    skip_signatures: bool,
    #[command(subcommand)]
    store: Store,
    /// cargo bench passes `--bench`; nothing to do with it.
    #[arg(long, hide = true)]
    bench: bool,
}

#[derive(clap::Subcommand)]
enum Store {
    /// `DATA/peer.sqlite`.
    Sqlite,
    /// A PostgreSQL database, by its connection string.
    Postgres { config: String },
}

/// A registered key and whose it is.
#[derive(Clone)]
pub struct Key {
    actor: String,
    key: VerifyingKey,
}

pub type Keys = Arc<RwLock<HashMap<String, Key>>>;

struct State {
    token: String,
    skip_signatures: bool,
    keys: Keys,
    admin: String,
    writer: crossbeam_channel::Sender<writer::Job>,
    last: Arc<AtomicI64>,
}

#[derive(Deserialize)]
struct Payload {
    event_id: String,
    project: String,
    kind: String,
    actor: String,
    ledger: String,
    body: Box<RawValue>,
}

#[derive(Deserialize)]
struct ActorRegistered {
    actor_id: String,
    keys: Vec<RegisteredKey>,
}

#[derive(Deserialize)]
struct RegisteredKey {
    key_id: String,
    public_key: String,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.data).map_err(|e| e.to_string())?;
    let admin = KeyFile::generate("admin", "admin-k1");
    admin.save(&args.data.join("admin.key")).map_err(|e| e.to_string())?;
    let token = hex::encode(rand::<32>());
    std::fs::write(args.data.join("admin.token"), &token).map_err(|e| e.to_string())?;
    let table: Box<dyn table::EventTable> = match &args.store {
        Store::Sqlite => Box::new(table::Sqlite::open(&args.data.join("peer.sqlite")).map_err(|e| e.to_string())?),
        Store::Postgres { config } => Box::new(table::Postgres::open(config).map_err(|e| e.to_string())?),
    };
    let keys: Keys = Default::default();
    keys.write()
        .expect("keys lock")
        .insert(admin.key_id.clone(), Key { actor: admin.actor.clone(), key: admin.key.verifying_key() });
    let last = Arc::new(AtomicI64::new(0));
    let writer = writer::start(table, keys.clone(), last.clone()).map_err(|e| e.to_string())?;
    let state = web::Data::new(State {
        token,
        skip_signatures: args.skip_signatures,
        keys,
        admin: admin.key_id.clone(),
        writer,
        last,
    });
    actix_web::rt::System::new().block_on(serve(state, &args.addr)).map_err(|e| e.to_string())
}

async fn serve(state: web::Data<State>, addr: &str) -> std::io::Result<()> {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(16 << 20))
            .route("/healthz", web::get().to(|| async { HttpResponse::Ok().body("ok") }))
            .route("/v1/checkpoint", web::get().to(checkpoint))
            .route("/v1/head", web::get().to(head))
            .route("/v1/events", web::post().to(event))
            .route("/v1/batches", web::post().to(batch))
    })
    .bind(addr)?;
    for address in server.addrs() {
        println!("listening on http://{address}");
    }
    server.run().await
}

fn rand<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
    bytes
}

async fn checkpoint(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body(format!("{LEDGER}\n{}\n", state.last.load(Ordering::Acquire)))
}

async fn head(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"size": state.last.load(Ordering::Acquire)}))
}

/// Why a request is refused, rendered by [`problem`].
struct Refused {
    status: u16,
    kind: &'static str,
    detail: String,
}

impl Refused {
    fn response(self) -> HttpResponse {
        problem(self.status, self.kind, self.detail)
    }
}

fn problem(status: u16, kind: &str, detail: String) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status).expect("a status");
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(serde_json::json!({"type": kind, "status": status.as_u16(), "detail": detail}))
}

async fn event(state: web::Data<State>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    append(&state, &request, &[&body]).await
}

async fn batch(state: web::Data<State>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    #[derive(Deserialize)]
    struct Batch<'a> {
        #[serde(borrow)]
        envelopes: Vec<&'a RawValue>,
    }
    match serde_json::from_slice::<Batch>(&body) {
        Ok(batch) => {
            let envelopes: Vec<&[u8]> = batch.envelopes.iter().map(|e| e.get().as_bytes()).collect();
            append(&state, &request, &envelopes).await
        }
        Err(e) => problem(400, "malformed-batch", e.to_string()),
    }
}

/// Checks the token, opens and verifies every envelope, hands the events to the writer and
/// answers once they are committed.
async fn append(state: &State, request: &HttpRequest, envelopes: &[&[u8]]) -> HttpResponse {
    let bearer = request.headers().get("authorization").and_then(|v| v.to_str().ok());
    let presented = bearer.and_then(|v| v.strip_prefix("Bearer ")).unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(presented.as_bytes(), state.token.as_bytes())) {
        return problem(401, "unauthorized", "a valid bearer token is needed".into());
    }
    let (rows, keys) = match prepare(state, envelopes) {
        Ok(prepared) => prepared,
        Err(refused) => return refused.response(),
    };
    let single = envelopes.len() == 1;
    let (reply, answer) = tokio::sync::oneshot::channel();
    if state.writer.send(writer::Job { rows, keys, reply }).is_err() {
        return problem(503, "storage-unavailable", "the writer stopped".into());
    }
    match answer.await {
        Ok(writer::Answer::Committed(sequences)) if single => {
            HttpResponse::Created().json(serde_json::json!({"sequence": sequences[0]}))
        }
        Ok(writer::Answer::Committed(sequences)) => {
            HttpResponse::Created().json(serde_json::json!({"sequences": sequences}))
        }
        Ok(writer::Answer::Duplicate(id)) => problem(409, "duplicate-event", format!("event {id} is already recorded")),
        Ok(writer::Answer::Failed(e)) => problem(503, "storage-unavailable", e),
        Err(_) => problem(503, "storage-unavailable", "the writer stopped".into()),
    }
}

type Prepared = (Vec<table::Row>, Vec<(String, Key)>);

fn prepare(state: &State, envelopes: &[&[u8]]) -> Result<Prepared, Refused> {
    let mut opened: Vec<(Opened, Key)> = Vec::with_capacity(envelopes.len());
    let mut rows = Vec::with_capacity(envelopes.len());
    let mut registered = Vec::new();
    let keys = state.keys.read().expect("keys lock");
    for (index, bytes) in envelopes.iter().enumerate() {
        let refuse =
            |kind, detail: String| Refused { status: 400, kind, detail: format!("envelope {index}: {detail}") };
        let envelope = Envelope::from_json(bytes).map_err(|e| refuse("invalid-envelope", e.to_string()))?;
        let open = envelope.open().map_err(|e| refuse("invalid-envelope", e.to_string()))?;
        let payload: Payload =
            serde_json::from_slice(&open.payload).map_err(|e| refuse("invalid-payload", e.to_string()))?;
        if payload.ledger != LEDGER {
            return Err(refuse("wrong-ledger", format!("`ledger` is {}, this is {LEDGER}", payload.ledger)));
        }
        let key = keys.get(open.key_id.as_str()).filter(|k| k.actor == payload.actor).cloned();
        let key = key.ok_or_else(|| Refused {
            status: 403,
            kind: "unknown-key",
            detail: format!("envelope {index}: key not registered"),
        })?;
        if payload.kind == "actor_registered" {
            if open.key_id.as_str() != state.admin {
                return Err(Refused {
                    status: 403,
                    kind: "forbidden",
                    detail: format!("envelope {index}: only the admin registers actors"),
                });
            }
            registered.extend(registered_keys(&payload).map_err(|e| refuse("invalid-payload", e))?);
        }
        rows.push(table::Row {
            event_id: payload.event_id,
            project: payload.project,
            kind: payload.kind,
            envelope: bytes.to_vec(),
        });
        opened.push((open, key));
    }
    drop(keys);
    let items: Vec<(&Opened, &VerifyingKey)> = opened.iter().map(|(o, k)| (o, &k.key)).collect();
    if !state.skip_signatures && !batch_verifies(&items) {
        return Err(Refused { status: 403, kind: "bad-signature", detail: "a signature does not verify".into() });
    }
    Ok((rows, registered))
}

fn registered_keys(payload: &Payload) -> Result<Vec<(String, Key)>, String> {
    use base64::Engine as _;
    let body: ActorRegistered = serde_json::from_str(payload.body.get()).map_err(|e| e.to_string())?;
    body.keys
        .iter()
        .map(|k| {
            let bytes = base64::engine::general_purpose::STANDARD.decode(&k.public_key).map_err(|e| e.to_string())?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| "a public key is 32 bytes".to_owned())?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|e| e.to_string())?;
            Ok((k.key_id.clone(), Key { actor: body.actor_id.clone(), key }))
        })
        .collect()
}
