//! The commands that work on files and a stopped server's data directory, without a server.

use super::{fail, open_file};
use crate::app::DataDir;
use crate::crypto::keys::KeyFile;
use std::path::{Path, PathBuf};

/// Loads a verified export into an empty data directory, with the ledger's key file.
pub(super) fn import(file: &Path, data: PathBuf, ledger_key: &Path) {
    let verified = crate::log::export::verify(open_file(file), None, true)
        .unwrap_or_else(|e| fail(format!("{}: refused: {e}", file.display())));
    let key = KeyFile::load(ledger_key).unwrap_or_else(|e| fail(e));
    let key_b64 = key.public_key_base64();
    if key_b64 != verified.header.ledger_public_key {
        fail("the ledger key file is not the key of the exported ledger");
    }
    crate::app::maintenance::prepare_import(&data, &key, &verified.header.origin).unwrap_or_else(|e| fail(e));
    let dir = DataDir { root: data };
    let store = crate::store::SledStore::open(&dir.store()).unwrap_or_else(|e| fail(e));
    crate::app::maintenance::import(&store, &verified).unwrap_or_else(|e| fail(e));
    drop(store);
    crate::app::maintenance::finish_import(&dir.root).unwrap_or_else(|e| fail(e));
    println!("imported {} entries into {}", verified.size, dir.root.display());
}
