//! A data directory: its files, and opening it — on first start creating the ledger's key, the
//! bootstrap admin's key, the checkpoint origin, the genesis entry and the admin token.

use super::StartError;
use crate::api::tokens::{Tokens, BOOTSTRAP_ADMIN};
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
    /// Present while `lineage import` loads the log: a directory holding it is not started.
    pub fn import_marker(&self) -> PathBuf {
        self.root.join("import-unfinished")
    }
    /// Present from a first start's first step until its genesis entry is durable.
    pub fn first_start_marker(&self) -> PathBuf {
        self.root.join("first-start-unfinished")
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

/// What a data directory is opened with besides the ledger's settings.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The checkpoint origin; fixed at first start (`None`: derived from the ledger key).
    pub origin: Option<String>,
    /// How a first start registers the bootstrap admin.
    pub admin_key: AdminKey,
    /// Free space below which appends are refused (507, `Retry-After`).
    pub min_free_bytes: u64,
    /// Entries appended before the store compresses entries against a dictionary of earlier
    /// ones; 0: stored raw.
    pub compress_after: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            origin: None,
            admin_key: AdminKey::default(),
            min_free_bytes: crate::store::MIN_FREE_BYTES,
            compress_after: crate::store::COMPRESS_AFTER,
        }
    }
}

/// How a first start registers the bootstrap admin.
#[derive(Debug, Clone, Default)]
pub enum AdminKey {
    /// Create `DATA/admin.key` (unless it is there) and register its key.
    #[default]
    InDataDir,
    /// Register this public key; no private key is written: the admin key is kept off the server.
    Public(Box<PublicKeyBytes>),
}

/// Opens (or sets up) a data directory. Each first-start step is skipped when already done, so
/// a start interrupted half-way finishes the set-up on the next one.
///
/// Only a first start (an empty log) creates keys: once the log holds entries, `ledger.key` must
/// be the key that signed them, and `admin.key` is never created again — the admin's key is the
/// one the log registered, kept here or, better, off the server.
pub async fn open(dir: &Path, config: LedgerConfig, setup: &Setup) -> Result<Opened, StartError> {
    let (origin, admin) = (setup.origin.as_deref(), &setup.admin_key);
    create_private_dir(dir)?;
    let data = DataDir { root: dir.to_owned() };
    // An import stopped part way leaves a store that is neither the log nor empty of meaning:
    // started, it would look like a first start and write a genesis entry of its own under the
    // production ledger key — a second history of the same log.
    if data.import_marker().exists() {
        return Err(StartError::ImportUnfinished(dir.to_path_buf()));
    }
    let mut created = Vec::new();
    let sled = Arc::new(SledStore::open(&data.store())?);
    sled.set_min_free_bytes(setup.min_free_bytes);
    sled.set_compress_after(setup.compress_after)?;
    let store: Arc<dyn LogStore> = sled.clone();
    let first_start = store.is_empty()?;
    if !first_start && !data.ledger_key().exists() {
        return Err(StartError::MissingLedgerKey(data.ledger_key()));
    }
    // A ledger key beside an empty store is a first start that was cut short (its marker says
    // so) or keys copied without their log: started, the latter would begin a second history
    // signed by the same key.
    let marker = data.first_start_marker();
    if first_start && data.ledger_key().exists() && !marker.exists() {
        return Err(StartError::KeysWithoutLog(dir.to_path_buf()));
    }
    if first_start && !marker.exists() {
        write_private(&marker, b"the first start of this data directory has not finished\n")
            .map_err(StartError::io(&marker))?;
        sync_dir(dir)?;
    }
    let ledger_key = load_or_create(&data.ledger_key(), LEDGER_ACTOR, LEDGER_KEY_ID, &mut created)?;
    let origin = checkpoint_origin(&data, &ledger_key, origin, &mut created)?;
    let signer = CheckpointSigner { origin, key: ledger_key.key.clone() };
    let ledger = Ledger::start(store.clone(), genesis_state(&ledger_key), signer, config)?;
    if ledger.is_empty() {
        let admin_public = match admin {
            AdminKey::Public(key) => (**key).clone(),
            AdminKey::InDataDir => {
                let key = load_or_create(&data.admin_key(), ADMIN_ACTOR, ADMIN_KEY_ID, &mut created)?;
                PublicKeyBytes::from_key(key.key.verifying_key())
            }
        };
        append_genesis(&ledger, &ledger_key, &admin_public).await?;
    }
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(StartError::io(&marker))?;
        sync_dir(dir)?;
    }
    let token_store: Arc<dyn TokenStore> = sled;
    let tokens = Arc::new(Tokens::load(token_store)?);
    let token_path = data.admin_token();
    if !token_path.exists() {
        // The token the file held, if it ever did, stops working with the file gone.
        tokens.revoke_bootstrap()?;
        let issued = tokens.issue(
            BOOTSTRAP_ADMIN,
            crate::api::tokens::ReadScope::Everything,
            crate::api::tokens::Grant::ADMIN,
            None,
        )?;
        write_private(&token_path, format!("{}\n", issued.token).as_bytes()).map_err(StartError::io(&token_path))?;
        created.push(token_path);
    }
    // The new files' directory entries must be durable too.
    if !created.is_empty() {
        sync_dir(dir)?;
    }
    make_private(dir)?;
    Ok(Opened { ledger, tokens, ledger_key, created })
}

/// Creates a directory (and its parents) readable by its owner alone.
pub fn create_private_dir(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(StartError::io(dir))
}

pub fn sync_dir(dir: &Path) -> Result<(), StartError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(StartError::io(dir))
}

/// Makes every file under `dir` readable by its owner alone (0600, directories 0700): a data
/// directory set up by an earlier version, or by sled under a looser umask, holds every
/// envelope.
pub fn make_private(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt as _;
    let metadata = std::fs::symlink_metadata(dir).map_err(StartError::io(dir))?;
    let wanted = if metadata.is_dir() { 0o700 } else { 0o600 };
    if metadata.permissions().mode() & 0o777 != wanted && !metadata.file_type().is_symlink() {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(wanted)).map_err(StartError::io(dir))?;
    }
    if metadata.is_dir() {
        for item in std::fs::read_dir(dir).map_err(StartError::io(dir))? {
            let item = item.map_err(StartError::io(dir))?;
            match make_private(&item.path()) {
                // sled removes files of its own as it goes.
                Err(StartError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
    }
    Ok(())
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

async fn append_genesis(ledger: &Ledger, ledger_key: &KeyFile, admin: &PublicKeyBytes) -> Result<(), StartError> {
    let payload = genesis::genesis_payload(admin, chrono::Utc::now());
    let bytes = serde_json::to_vec(&payload).expect("json serializes");
    let envelope = Envelope::sign(&bytes, LEDGER_KEY_ID, &ledger_key.key);
    let subs = ledger.prepare_genesis(envelope.to_json()).map_err(|(_, e)| StartError::GenesisUnprepared(e))?;
    ledger.append(subs).await.map_err(|f| StartError::Genesis(f.error))?;
    Ok(())
}
