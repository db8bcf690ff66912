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

/// Verifies an export offline; with a map checkpoint, that the subject map computed from the
/// export's entries and blinds is the one the checkpoint signs.
pub(super) fn verify(file: &Path, vkey: Option<&str>, map_checkpoint: Option<&Path>) {
    use crate::crypto::checkpoint::MapCheckpoint;
    let note = map_checkpoint
        .map(|path| std::fs::read_to_string(path).unwrap_or_else(|e| fail(format!("{}: {e}", path.display()))));
    // The map checkpoint's size, read before the export is (its signature is checked after,
    // against the key the export is verified with).
    let map_at = note.as_deref().map(|n| n.lines().nth(1).and_then(|l| l.parse::<u64>().ok()).unwrap_or(0));
    let v = crate::log::export::verify_with_map_at(open_file(file), vkey, false, map_at)
        .unwrap_or_else(|e| fail(format!("{}: {e}", file.display())));
    let said = format!(
        "verified {} entries of `{}`: signatures, signers, rules, chains; root {} signed by {}",
        v.size,
        v.header.origin,
        hex::encode(v.root),
        v.header.vkey
    );
    let Some(note) = note else {
        match v.map_root {
            Some(root) => println!(
                "{said}; subject map root {} (computed from the export's blinds, not checked: give --map-checkpoint to compare it with a signed one)",
                hex::encode(root)
            ),
            None => println!("{said}; no subject map root (a version 1 export carries no subjects' blinds)"),
        }
        return;
    };
    let verifier = crate::crypto::checkpoint::NoteVerifier::parse(&v.header.vkey).unwrap_or_else(|e| fail(e));
    let signed = MapCheckpoint::open(&note, &verifier).unwrap_or_else(|e| fail(format!("the map checkpoint: {e}")));
    let Some((size, root)) = v.map_root_at else {
        fail(format!(
            "the map checkpoint is of {} entries: the export (version {}, {} entries) gives no subject map of that size",
            signed.checkpoint.size, v.header.version, v.size
        ))
    };
    if signed.checkpoint.size != size || signed.map_root != root {
        fail(format!(
            "the export's entries and blinds give the subject map root {} at {size} entries; the signed map checkpoint names {}: the export's blinds are not the ledger's, or the ledger's map is not of its log",
            hex::encode(root),
            hex::encode(signed.map_root)
        ));
    }
    if signed.checkpoint.size == v.size && signed.checkpoint.root != v.root {
        fail("the map checkpoint's log root is not the export's: two logs, or a split view");
    }
    println!("{said}; subject map root {} at {size} entries, as the signed map checkpoint names it", hex::encode(root));
}
