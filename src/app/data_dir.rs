//! A data directory: its files, and opening it — on first start creating the ledger's key, the
//! bootstrap admin's key, the checkpoint origin, the genesis entry and the admin token.

use super::StartError;
use crate::api::tokens::Tokens;
use crate::crypto::dsse::Envelope;
use crate::crypto::keys::{write_private, KeyFile};
use crate::domain::genesis::{self, ADMIN_ACTOR, ADMIN_KEY_ID, LEDGER_ACTOR, LEDGER_KEY_ID};
use crate::domain::ids::PublicKeyBytes;
use crate::domain::SystemState;
use crate::ledger::{CheckpointSigner, Ledger, LedgerConfig};
use crate::store::{LogStore, SledStore, TokenStore};
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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
    key.save(path).map_err(StartError::io(path))?;
    created.push(path.to_owned());
    Ok(key)
}

/// The system state before the first entry: the ledger's own key.
pub fn genesis_state(ledger_key: &KeyFile) -> SystemState {
    genesis::genesis_state(PublicKeyBytes::from_key(ledger_key.key.verifying_key()))
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
    std::fs::create_dir_all(dir).map_err(StartError::io(dir))?;
    let data = DataDir { root: dir.to_owned() };
    let mut created = Vec::new();
    let ledger_key = load_or_create(&data.ledger_key(), LEDGER_ACTOR, LEDGER_KEY_ID, &mut created)?;
    let admin_key = load_or_create(&data.admin_key(), ADMIN_ACTOR, ADMIN_KEY_ID, &mut created)?;
    let sled = Arc::new(SledStore::open(&data.store())?);
    let store: Arc<dyn LogStore> = sled.clone();
    let origin = checkpoint_origin(&data, &ledger_key, origin, &mut created)?;
    let signer = CheckpointSigner { origin, key: ledger_key.key.clone() };
    let ledger = Ledger::start(store.clone(), genesis_state(&ledger_key), signer, config)?;
    if ledger.is_empty() {
        append_genesis(&ledger, &ledger_key, &admin_key).await?;
    }
    let token_store: Arc<dyn TokenStore> = sled;
    let tokens = Arc::new(Tokens::load(token_store)?);
    let token_path = data.admin_token();
    if !token_path.exists() {
        let issued = tokens.issue("bootstrap admin", None, true)?;
        write_private(&token_path, format!("{}\n", issued.token).as_bytes()).map_err(StartError::io(&token_path))?;
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
        let stored = std::fs::read_to_string(&path).map_err(StartError::io(&path))?.trim().to_owned();
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
    write_private(&path, format!("{origin}\n").as_bytes()).map_err(StartError::io(&path))?;
    created.push(path);
    Ok(origin)
}

async fn append_genesis(ledger: &Ledger, ledger_key: &KeyFile, admin: &KeyFile) -> Result<(), StartError> {
    let payload = genesis::genesis_payload(&PublicKeyBytes::from_key(admin.key.verifying_key()), chrono::Utc::now());
    let bytes = serde_json::to_vec(&payload).expect("json serializes");
    let envelope = Envelope::sign(&bytes, LEDGER_KEY_ID, &ledger_key.key);
    let subs = ledger.prepare(vec![envelope.to_json()]).map_err(|(_, e)| StartError::Genesis(e.to_string()))?;
    ledger.append(subs).await.map_err(|f| StartError::Genesis(f.error.to_string()))?;
    Ok(())
}
