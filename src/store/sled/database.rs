//! sled's database as the store opens it: the handle that syncs its file, and snapshots left by
//! an interrupted start.

use super::*;

/// The open database and its trees; replaced as a whole by [`LogStore::release_cache`].
pub(super) struct Database {
    pub(super) db: sled::Db,
    pub(super) log: sled::Tree,
    pub(super) tokens: sled::Tree,
}

impl Database {
    /// Opens the database, waiting up to ten seconds for a lock this process may still be
    /// releasing.
    pub(super) fn open(dir: &Path) -> Result<Database, StoreError> {
        discard_interrupted_snapshots(dir)?;
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(64 * 1024 * 1024)
            .segment_size(SEGMENT_SIZE)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(None);
        let db = open_waiting(&config)?;
        let log = db.open_tree("log").map_err(io)?;
        let tokens = db.open_tree("tokens").map_err(io)?;
        Ok(Database { db, log, tokens })
    }
}

/// Opens a sled database, waiting up to ten seconds for a lock this process may still be
/// releasing: a store this process closed a moment ago keeps its lock until sled's I/O threads
/// have finished their last write, which on a loaded machine took over a second. A lock another
/// process holds fails after the wait (sled 0.34 reports it as an I/O error naming it).
pub(super) fn open_waiting(config: &sled::Config) -> Result<sled::Db, StoreError> {
    let held = |e: &sled::Error| matches!(e, sled::Error::Io(e) if e.to_string().starts_with("could not acquire lock"));
    let mut attempts = 0;
    loop {
        match config.open() {
            Err(e) if held(&e) && attempts < 500 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.map_err(io),
        }
    }
}

/// Removes the snapshot files sled began and did not finish (`snap.<lsn>.generating`).
///
/// sled writes a snapshot of its page table to `snap.<lsn>.generating`, syncs it, and renames it
/// to `snap.<lsn>`; but when it opens it reads the newest `snap.` file of either name. One left
/// empty or half written — by a crash while it was written, or a full disk, which is where sled's
/// own recovery writes one — made every later start fail with "Read corrupted data". The
/// snapshot only speeds up sled's recovery (it is rebuilt from the log segments without one), so
/// an unfinished one is dropped. Only while no sled instance has the store open: sled's lock on
/// `db` is taken for it, with the same wait as [`Database::open`].
pub(super) fn discard_interrupted_snapshots(dir: &Path) -> Result<(), StoreError> {
    use std::os::fd::AsRawFd as _;
    let Ok(db) = File::open(dir.join("db")) else { return Ok(()) };
    let mut attempts = 0;
    // SAFETY: flock(2) on a descriptor `db` owns for the whole loop; the lock goes with it.
    while unsafe { libc::flock(db.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        attempts += 1;
        if attempts == 500 {
            // Held by another process: sled's own open says so.
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for found in std::fs::read_dir(dir).map_err(io)? {
        let path = found.map_err(io)?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(&path).map_err(io)?;
            log::warn!("removed {}: a snapshot sled did not finish writing", path.display());
        }
    }
    drop(db);
    Ok(())
}

/// The database, checked open when the guard was taken.
pub(super) struct Opened<'a>(pub(super) std::sync::RwLockReadGuard<'a, Option<Database>>);

impl std::ops::Deref for Opened<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.0.as_ref().expect("checked open when taken")
    }
}
