//! Opening a data directory (creating the ledger's key, the bootstrap admin and its token on
//! first start) and running the HTTP server.

use crate::api::{self, AppState, Limits};
use crate::crypto::dsse::Envelope;
use crate::crypto::keys::{write_private, KeyFile};
use crate::domain::ids::PublicKeyBytes;
use crate::domain::{ActorId, KeyId, SystemState};
use crate::ledger::{CheckpointSigner, Ledger, LedgerConfig};
use crate::store::{SledStore, Store};
use crate::tokens::Tokens;
use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use sha2::Digest as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const LEDGER_ACTOR: &str = "ledger";
pub const LEDGER_KEY_ID: &str = "ledger";
pub const ADMIN_ACTOR: &str = "admin";
pub const ADMIN_KEY_ID: &str = "admin-1";
pub const GENESIS_EVENT: &str = "genesis-admin";

#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub addr: String,
    pub limits: Limits,
    pub ledger: LedgerConfig,
    /// HTTP worker threads; `None` for one per core.
    pub workers: Option<usize>,
    /// The checkpoint origin; fixed at first start (`None`: derived from the ledger key).
    pub origin: Option<String>,
}

impl Settings {
    pub fn new(data_dir: impl Into<PathBuf>, addr: impl Into<String>) -> Settings {
        Settings {
            data_dir: data_dir.into(),
            addr: addr.into(),
            limits: Limits::default(),
            ledger: LedgerConfig::default(),
            workers: None,
            origin: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] crate::crypto::keys::KeyFileError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the genesis entry was refused: {0}")]
    Genesis(String),
    #[error("{0} already holds a log")]
    NotEmpty(String),
    #[error("fsck: {0}")]
    Fsck(String),
    #[error("origin `{0}` is not valid: it must be non-empty, without spaces or '+'")]
    BadOrigin(String),
    #[error("this data directory's origin is `{stored}`; it cannot become `{asked}`")]
    OriginChanged { stored: String, asked: String },
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
    move |source| StartError::Io { path: path.display().to_string(), source }
}

/// Files of a data directory.
pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn ledger_key(&self) -> PathBuf {
        self.root.join("ledger.key")
    }
    pub fn admin_key(&self) -> PathBuf {
        self.root.join("admin.key")
    }
    pub fn admin_token(&self) -> PathBuf {
        self.root.join("admin.token")
    }
    pub fn store(&self) -> PathBuf {
        self.root.join("store")
    }
    pub fn origin(&self) -> PathBuf {
        self.root.join("origin")
    }
}

fn load_or_create(path: &Path, actor: &str, key_id: &str, created: &mut Vec<PathBuf>) -> Result<KeyFile, StartError> {
    if path.exists() {
        return Ok(KeyFile::load(path)?);
    }
    let key = KeyFile::generate(actor, key_id);
    key.save(path).map_err(io_at(path))?;
    created.push(path.to_owned());
    Ok(key)
}

/// The system state before the first entry: the ledger's own key.
pub fn genesis_state(ledger_key: &KeyFile) -> SystemState {
    SystemState::genesis(
        ActorId::parse(LEDGER_ACTOR).expect("constant id"),
        KeyId::parse(LEDGER_KEY_ID).expect("constant id"),
        PublicKeyBytes::from_bytes(ledger_key.key.verifying_key().to_bytes()),
    )
}

/// An open ledger and what first start created.
pub struct Opened {
    pub ledger: Ledger,
    pub tokens: Arc<Tokens>,
    pub ledger_key: KeyFile,
    /// Files created by this start (empty when the directory was already set up).
    pub created: Vec<PathBuf>,
}

/// Opens (or sets up) a data directory. Each first-start step is skipped when already done, so
/// a start interrupted half-way finishes the set-up on the next one.
pub async fn open(dir: &Path, config: LedgerConfig, origin: Option<&str>) -> Result<Opened, StartError> {
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    let data = DataDir { root: dir.to_owned() };
    let mut created = Vec::new();
    let ledger_key = load_or_create(&data.ledger_key(), LEDGER_ACTOR, LEDGER_KEY_ID, &mut created)?;
    let admin_key = load_or_create(&data.admin_key(), ADMIN_ACTOR, ADMIN_KEY_ID, &mut created)?;
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&data.store())?);
    let origin = checkpoint_origin(&data, &ledger_key, origin, &mut created)?;
    let signer = CheckpointSigner { origin, key: ledger_key.key.clone() };
    let ledger = Ledger::start(store.clone(), genesis_state(&ledger_key), signer, config)?;
    if ledger.is_empty() {
        append_genesis(&ledger, &ledger_key, &admin_key).await?;
    }
    let tokens = Arc::new(Tokens::load(store)?);
    let token_path = data.admin_token();
    if !token_path.exists() {
        let issued = tokens.issue("bootstrap admin", None, true)?;
        write_private(&token_path, format!("{}\n", issued.token).as_bytes()).map_err(io_at(&token_path))?;
        created.push(token_path);
    }
    Ok(Opened { ledger, tokens, ledger_key, created })
}

/// The origin written at first start; later starts must not ask for another.
fn checkpoint_origin(
    data: &DataDir,
    ledger_key: &KeyFile,
    asked: Option<&str>,
    created: &mut Vec<PathBuf>,
) -> Result<String, StartError> {
    let path = data.origin();
    if path.exists() {
        let stored = std::fs::read_to_string(&path).map_err(io_at(&path))?.trim().to_owned();
        return match asked {
            Some(asked) if asked != stored => Err(StartError::OriginChanged { stored, asked: asked.to_owned() }),
            _ => Ok(stored),
        };
    }
    let origin = match asked {
        Some(o) => o.to_owned(),
        None => {
            let public = ledger_key.key.verifying_key().to_bytes();
            format!("lineage.local/{}", &hex::encode(sha2::Sha256::digest(public))[..8])
        }
    };
    if origin.is_empty() || origin.contains(char::is_whitespace) || origin.contains('+') {
        return Err(StartError::BadOrigin(origin));
    }
    write_private(&path, format!("{origin}\n").as_bytes()).map_err(io_at(&path))?;
    created.push(path);
    Ok(origin)
}

async fn append_genesis(ledger: &Ledger, ledger_key: &KeyFile, admin: &KeyFile) -> Result<(), StartError> {
    let payload = serde_json::json!({
        "event_id": GENESIS_EVENT,
        "project": "system",
        "kind": "actor_registered",
        "schema_version": 1,
        "actor": LEDGER_ACTOR,
        "occurred_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        "body": {
            "actor_id": ADMIN_ACTOR,
            "display_name": "Bootstrap admin",
            "role": "admin",
            "keys": [{"key_id": ADMIN_KEY_ID, "public_key": admin.public_key_base64()}],
        }
    });
    let bytes = serde_json::to_vec(&payload).expect("json serializes");
    let envelope = Envelope::sign(&bytes, LEDGER_KEY_ID, &ledger_key.key);
    let subs = ledger.prepare(vec![envelope.to_json()]).map_err(|(_, e)| StartError::Genesis(e.to_string()))?;
    ledger.append(subs).await.map_err(|f| StartError::Genesis(f.error.to_string()))?;
    Ok(())
}

/// A running server, bound before it starts so that port 0 works.
pub struct Application {
    port: u16,
    server: Server,
    pub ledger: Ledger,
    pub created: Vec<PathBuf>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let opened = open(&settings.data_dir, settings.ledger, settings.origin.as_deref()).await?;
        let listener = TcpListener::bind(&settings.addr).map_err(io_at(Path::new(&settings.addr)))?;
        let port = listener.local_addr().map_err(io_at(Path::new(&settings.addr)))?.port();
        let state = web::Data::new(AppState {
            ledger: opened.ledger.clone(),
            tokens: opened.tokens.clone(),
            limits: settings.limits,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(api::problem_responses())
                .app_data(state.clone())
                .configure(api::configure)
                .default_service(web::to(api::not_found))
        })
        // A client gets 5 s to send its request head and 1 s to close; SIGTERM/SIGINT stop
        // accepting and give requests in flight 30 s to be answered.
        .client_request_timeout(std::time::Duration::from_secs(5))
        .client_disconnect_timeout(std::time::Duration::from_secs(1))
        .shutdown_timeout(30)
        .listen(listener)
        .map_err(io_at(Path::new(&settings.addr)))?;
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        Ok(Application { port, server: server.run(), ledger: opened.ledger, created: opened.created })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Sets up an empty data directory for an import: the ledger's key and origin. Refuses a
/// directory that already holds a log.
pub fn prepare_import(dir: &Path, ledger_key: &KeyFile, origin: &str) -> Result<(), StartError> {
    let data = DataDir { root: dir.to_owned() };
    if data.store().exists() && !SledStore::open(&data.store())?.is_empty()? {
        return Err(StartError::NotEmpty(dir.display().to_string()));
    }
    std::fs::create_dir_all(dir).map_err(io_at(dir))?;
    if !data.ledger_key().exists() {
        ledger_key.save(&data.ledger_key()).map_err(io_at(&data.ledger_key()))?;
    }
    let path = data.origin();
    if !path.exists() {
        write_private(&path, format!("{origin}\n").as_bytes()).map_err(io_at(&path))?;
    }
    Ok(())
}

/// Checks a data directory entry by entry (the server must be stopped): every hash, chain,
/// signature, signer and rule, every stored Merkle node and the checkpoint.
pub fn fsck(dir: &Path) -> Result<String, StartError> {
    use crate::crypto::checkpoint::NoteVerifier;
    use crate::ledger::replay::{Depth, Replay};
    use crate::ledger::LOWEST_STORED_LEVEL;
    let data = DataDir { root: dir.to_owned() };
    let ledger_key = KeyFile::load(&data.ledger_key())?;
    let origin = std::fs::read_to_string(data.origin()).map_err(io_at(&data.origin()))?.trim().to_owned();
    let store = SledStore::open(&data.store())?;
    let mut replay = Replay::new(genesis_state(&ledger_key), Depth::Full);
    let broken = |b: crate::ledger::replay::Broken| StartError::Fsck(b.to_string());
    crate::store::read_whole_log(&store, |entry| {
        let mut check = replay.frontier.clone();
        replay.push(entry).map_err(broken)?;
        // Lower levels are not stored: they are hashed from the entries whenever they are read.
        for (id, hash) in check.push(entry.leaf_hash()).into_iter().filter(|(id, _)| id.0 >= LOWEST_STORED_LEVEL) {
            if crate::ledger::stored_node(&store, id)? != Some(hash) {
                return Err(StartError::Fsck(format!("entry {}: Merkle node {id:?} differs", entry.sequence)));
            }
        }
        Ok(())
    })?;
    let verifier = NoteVerifier { name: origin, key: ledger_key.key.verifying_key() };
    let note = store.checkpoint()?.unwrap_or_default();
    let checkpoint = replay.check_checkpoint(&note, &verifier).map_err(broken)?;
    Ok(format!(
        "{} entries checked: hashes, chains, signatures, signers, rules, Merkle nodes; checkpoint of {} entries, root {}",
        replay.next,
        checkpoint.size,
        hex::encode(checkpoint.root)
    ))
}

/// Folds every projection again from a data directory's entries (the server must be stopped)
/// and reports how long it took and the memory it needed.
pub fn rebuild(dir: &Path) -> Result<String, StartError> {
    let data = DataDir { root: dir.to_owned() };
    let store = SledStore::open(&data.store())?;
    let started = std::time::Instant::now();
    let mut projections = crate::projections::Projections::default();
    let mut next = 0;
    crate::store::read_whole_log(&store, |entry| {
        let (_, payload) =
            crate::ledger::open_entry(entry).map_err(|e| StartError::Fsck(format!("entry {}: {e}", entry.sequence)))?;
        projections.apply(entry, &payload);
        next = entry.sequence + 1;
        Ok::<_, StartError>(())
    })?;
    let elapsed = started.elapsed();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.0} MB", kb / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    Ok(format!(
        "rebuilt the projections of {} projects from {next} entries in {:.2} s; peak resident memory {peak}",
        projections.project_count(),
        elapsed.as_secs_f64()
    ))
}
