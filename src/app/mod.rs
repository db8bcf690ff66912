//! The application: running the server on a data directory, the data directory's life (first
//! start, keys, origin), and offline maintenance of a stopped server's directory (`fsck`,
//! `rebuild`, `import`).

pub mod data_dir;
pub mod maintenance;
pub mod server;

pub use data_dir::DataDir;
pub use server::{Application, Settings};

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("data directory {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error(transparent)]
    Key(#[from] crate::crypto::keys::KeyFileError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the genesis entry was refused: {0}")]
    GenesisUnprepared(#[source] crate::ledger::PrepareError),
    #[error("the genesis entry was refused: {0}")]
    Genesis(#[source] crate::ledger::AppendError),
    #[error("{} is not empty: an import loads a log into an empty directory", .0.display())]
    NotEmpty(PathBuf),
    #[error("an import into {} did not finish: remove the directory and run `lineage import` again", .0.display())]
    ImportUnfinished(PathBuf),
    #[error("{} holds a ledger key but no log: to restore a backup, run `lineage import` into an empty directory; to begin a new ledger, remove its ledger.key", .0.display())]
    KeysWithoutLog(PathBuf),
    #[error("fsck: {0}")]
    Fsck(#[source] crate::log::replay::Broken),
    #[error("fsck: entry {sequence}: Merkle node {node} differs")]
    FsckNode { sequence: u64, node: String },
    #[error("fsck: the sealed state of the first {covered} entries differs from the state their replay reaches: remove store/sealed-state before the next start (docs/operations.md)")]
    FsckSealed { covered: u64 },
    #[error("fsck: entry {sequence}: {source}")]
    FsckOpen { sequence: u64, source: crate::log::OpenError },
    #[error("{} is missing: this log's checkpoints are signed by that key; restore it from the backup (see docs/operations.md)", .0.display())]
    MissingLedgerKey(PathBuf),
    #[error("origin `{0}` is not valid: it must be non-empty, without spaces or '+'")]
    BadOrigin(String),
    #[error("this data directory's origin is `{stored}`; it cannot become `{asked}`")]
    OriginChanged { stored: String, asked: String },
}

impl StartError {
    /// An I/O failure at `path`, for `map_err`.
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StartError + '_ {
        move |source| StartError::Io { path: path.display().to_string(), source }
    }
}
