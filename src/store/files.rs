//! The store's files beside its database (the subject map's runs and manifest, confidential
//! texts): each written whole under a temporary name, synced, renamed into place and its folder
//! synced, so that a crash leaves the old file or the new one, never part of one.

use super::StoreError;
use std::io::Write as _;
use std::path::Path;

/// An I/O failure, with what was being done.
pub fn io(what: &'static str) -> impl Fn(std::io::Error) -> StoreError {
    move |source| StoreError::of_io(source, what)
}

/// Writes `path` whole and durably: `<path>.tmp`, synced, renamed, then the folder synced.
pub fn write_synced(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), StoreError> {
    write_synced_at(path, bytes, what, ["", ""])
}

/// [`write_synced`], with the crash points met once the temporary file is synced and once it is
/// renamed (`""` for none).
pub fn write_synced_at(
    path: &Path,
    bytes: &[u8],
    what: &'static str,
    points: [&'static str; 2],
) -> Result<(), StoreError> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let mut file = std::fs::File::create(&temporary).map_err(io(what))?;
    if let Err(e) = file.write_all(bytes).and_then(|()| file.sync_all()) {
        // What did not fit (a full disk) is not left to take room.
        let _ = std::fs::remove_file(&temporary);
        return Err(io(what)(e));
    }
    super::failpoint::hit(points[0]);
    std::fs::rename(&temporary, path).map_err(io(what))?;
    super::failpoint::hit(points[1]);
    sync_folder(path, what)
}

/// Syncs the folder holding `path`, so that a rename or removal in it is durable.
pub fn sync_folder(path: &Path, what: &'static str) -> Result<(), StoreError> {
    let folder = path.parent().expect("the store's files are in a folder");
    std::fs::File::open(folder).and_then(|d| d.sync_all()).map_err(io(what))
}
