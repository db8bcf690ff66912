//! Offline maintenance of a stopped server's data directory: `fsck` (check every entry),
//! `rebuild` (fold every projection again), and `import` (load a verified export).

use super::data_dir::{genesis_state, DataDir};
use super::StartError;
use crate::crypto::keys::{write_private, KeyFile};
use crate::crypto::merkle::Frontier;
use crate::log::export::Verified;
use crate::log::open_entry;
use crate::store::{Commit, LogStore, SledStore, StoreError};
use std::path::Path;

/// Sets up an empty data directory for an import: the ledger's key and origin. Refuses a
/// directory that already holds a log.
pub fn prepare_import(dir: &Path, ledger_key: &KeyFile, origin: &str) -> Result<(), StartError> {
    let data = DataDir { root: dir.to_owned() };
    if data.import_marker().exists() {
        return Err(StartError::ImportUnfinished(dir.to_path_buf()));
    }
    // An import fills an empty directory: whatever is there (a store, a stale admin token or
    // key of another ledger) would be served as this ledger's.
    let occupied = std::fs::read_dir(dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    if occupied {
        return Err(StartError::NotEmpty(dir.to_path_buf()));
    }
    crate::app::data_dir::create_private_dir(dir)?;
    // Before anything of the log is written, and durable: until `finish_import` removes it, the
    // directory is not started.
    let marker = data.import_marker();
    write_private(&marker, b"lineage import has not finished loading this directory\n")
        .map_err(StartError::io(&marker))?;
    crate::app::data_dir::sync_dir(dir)?;
    if !data.ledger_key().exists() {
        ledger_key.save(&data.ledger_key()).map_err(StartError::io(&data.ledger_key()))?;
    }
    let path = data.origin();
    if !path.exists() {
        write_private(&path, format!("{origin}\n").as_bytes()).map_err(StartError::io(&path))?;
    }
    Ok(())
}

/// Ends an import whose every entry is durable: the directory is made private (as a start
/// makes it) and may be started.
pub fn finish_import(dir: &Path) -> Result<(), StartError> {
    let data = DataDir { root: dir.to_owned() };
    crate::app::data_dir::make_private(dir)?;
    let marker = data.import_marker();
    std::fs::remove_file(&marker).map_err(StartError::io(&marker))?;
    crate::app::data_dir::sync_dir(dir)
}

/// Checks a data directory entry by entry (the server must be stopped): every hash, chain,
/// signature, signer and rule, every stored Merkle node and the checkpoint.
pub fn fsck(dir: &Path) -> Result<String, StartError> {
    use crate::crypto::checkpoint::NoteVerifier;
    use crate::ledger::tree::{stored_node, LOWEST_STORED_LEVEL};
    use crate::log::replay::{Depth, Replay};
    let data = DataDir { root: dir.to_owned() };
    let ledger_key = KeyFile::load(&data.ledger_key())?;
    let origin = std::fs::read_to_string(data.origin()).map_err(StartError::io(&data.origin()))?.trim().to_owned();
    let store = SledStore::open(&data.store())?;
    // Ids keyed as the server keys them, so that the sealed state can be compared.
    crate::domain::state::use_ledger_keys(&ledger_key.key.to_bytes());
    let mut sealed = SealedState::read(&store, &ledger_key)?;
    let mut replay = Replay::new(genesis_state(&ledger_key), Depth::Full, &origin);
    let broken = StartError::Fsck;
    let mut envelopes = 0u64;
    let mut last_received = i64::MIN;
    crate::store::read_whole_log(&store, |entry| {
        envelopes += entry.envelope.len() as u64;
        let mut check = replay.frontier.clone();
        replay.push(entry).map_err(broken)?;
        last_received = last_received.max(entry.received_at_us);
        sealed.reached(&replay, last_received);
        // Lower levels are not stored: they are hashed from the entries whenever they are read.
        for (id, hash) in check.push(entry.leaf_hash()).into_iter().filter(|(id, _)| id.0 >= LOWEST_STORED_LEVEL) {
            if stored_node(&store, id)? != Some(hash) {
                return Err(StartError::FsckNode { sequence: entry.sequence, node: format!("{id:?}") });
            }
        }
        Ok(())
    })?;
    let verifier = NoteVerifier { name: origin, key: ledger_key.key.verifying_key() };
    let note = store.checkpoint()?.unwrap_or_default();
    let checkpoint = replay.check_checkpoint(&note, &verifier).map_err(broken)?;
    let checked = format!(
        "{} entries checked: hashes, chains, signatures, signers, rules, Merkle nodes; checkpoint of {} entries, root {}",
        replay.next,
        checkpoint.size,
        hex::encode(checkpoint.root)
    );
    let mut verdict = sealed.verdict()?;
    if store.sealed_state_rejected()? {
        // The whole log verified, rules included: what the rejected state let through is not in it.
        store.clear_rejected_sealed_state()?;
        verdict.push_str(
            "\nthe rejected sealed state of an earlier start cleared: the whole log verifies, appends are taken again",
        );
    }
    Ok(format!("{checked}\n{verdict}\n{}", sizes(dir, &store, envelopes)?))
}

/// The sealed state (`store/sealed-state`) as `fsck` weighs it: the state a replay of the
/// entries it covers reaches must encode to its very body.
enum SealedState {
    None,
    SetAside(String),
    Covers { covered: u64, digest: [u8; 32], key: crate::ledger::sealed::SealKey, matched: Option<bool> },
}

impl SealedState {
    fn read(store: &SledStore, ledger_key: &KeyFile) -> Result<SealedState, StartError> {
        use crate::ledger::sealed::{open, SealKey};
        use crate::store::LogStore as _;
        let bytes = match store.sealed_state() {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(SealedState::None),
            Err(e) => return Ok(SealedState::SetAside(e.to_string())),
        };
        let key = SealKey::of_seed(&ledger_key.key.to_bytes());
        Ok(match open(&key, &bytes) {
            Ok(sealed) => SealedState::Covers { covered: sealed.next, digest: sealed.digest, key, matched: None },
            Err(why) => SealedState::SetAside(why.to_string()),
        })
    }

    /// Compares the sealed state with the replay when it has reached the entries it covers.
    fn reached(&mut self, replay: &crate::log::replay::Replay, last_received: i64) {
        if let SealedState::Covers { covered, digest, key, matched } = self {
            if replay.next == *covered {
                let point = crate::ledger::sealed::Point::of_replay(replay, last_received);
                *matched = Some(crate::ledger::sealed::digest(key, &point.body()) == *digest);
            }
        }
    }

    fn verdict(&self) -> Result<String, StartError> {
        Ok(match self {
            SealedState::None => "sealed state: none (the next start replays the whole log)".into(),
            SealedState::SetAside(why) => {
                format!("sealed state: set aside ({why}); the next start replays the whole log")
            }
            SealedState::Covers { covered, matched: Some(true), .. } => {
                format!("sealed state: the state of the first {covered} entries, as the replay reached it")
            }
            SealedState::Covers { covered, matched: Some(false), .. } => {
                return Err(StartError::FsckSealed { covered: *covered })
            }
            SealedState::Covers { covered, matched: None, .. } => {
                format!("sealed state: covers {covered} entries, more than the log holds (set aside at the next start)")
            }
        })
    }
}

/// Where the data directory's bytes are: the envelopes the entries carry, the database's records
/// by kind, and the files on disk.
fn sizes(dir: &Path, store: &SledStore, envelopes: u64) -> Result<String, StartError> {
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1e6);
    let mut lines = vec![format!("sizes: the entries' envelopes {}", mb(envelopes))];
    let parts: Vec<String> =
        store.parts()?.iter().map(|p| format!("{} {} ({} records)", p.name, mb(p.bytes), p.records)).collect();
    lines.push(format!("  database records (keys and values): {}", parts.join(", ")));
    let mut on_disk = Vec::new();
    let mut children: Vec<std::path::PathBuf> = Vec::new();
    for folder in [dir.to_owned(), dir.join("store")] {
        let listed = std::fs::read_dir(&folder).map_err(StartError::io(&folder))?;
        for child in listed {
            let path = child.map_err(StartError::io(&folder))?.path();
            if path != dir.join("store") {
                children.push(path);
            }
        }
    }
    children.sort();
    for path in &children {
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        on_disk.push(format!("{name} {}", mb(disk_bytes(path))));
    }
    let total = disk_bytes(dir);
    let ratio = if envelopes > 0 {
        format!(" ({:.2}× the envelopes)", total as f64 / envelopes as f64)
    } else {
        String::new()
    };
    lines.push(format!("  on disk: {}", on_disk.join(", ")));
    lines.push(format!("  data directory: {}{ratio}", mb(total)));
    Ok(lines.join("\n"))
}

/// The bytes a file, or every file under a folder, takes on disk (allocated blocks).
fn disk_bytes(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if !meta.is_dir() {
        return meta.blocks() * 512;
    }
    let Ok(listed) = std::fs::read_dir(path) else { return 0 };
    listed.flatten().map(|child| disk_bytes(&child.path())).sum()
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
            open_entry(entry).map_err(|source| StartError::FsckOpen { sequence: entry.sequence, source })?;
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

/// Writes verified entries into an empty store, with their Merkle nodes, asset index and the
/// export's checkpoint.
pub fn import(store: &dyn LogStore, verified: &Verified) -> Result<(), StoreError> {
    let mut frontier = Frontier::default();
    let chunks: Vec<&[crate::log::Entry]> = verified.entries.chunks(4096).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let mut decoded = Vec::with_capacity(chunk.len());
        for entry in chunk.iter() {
            let (_, payload) = open_entry(entry)
                .map_err(|e| StoreError::Corrupt { sequence: entry.sequence, reason: e.to_string() })?;
            decoded.push((entry, payload));
        }
        let mut commit = Commit::default();
        crate::ledger::tree::index_entries(decoded.iter().map(|(e, p)| (*e, p)), &mut frontier, &mut commit);
        commit.entries = decoded.into_iter().map(|(e, p)| (e.clone(), p.event_id)).collect();
        if i + 1 == chunks.len() {
            commit.checkpoint = Some(verified.note.clone());
        }
        store.append(&commit)?;
    }
    Ok(())
}
