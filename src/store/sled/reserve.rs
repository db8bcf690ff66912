//! Room kept on the disk: the free space below which appends are refused, and the reserve file
//! given back to recover from a full disk.

use super::*;

/// Free space kept in reserve by default: the journal may grow to 32 MiB, and sled writes log
/// segments of 2 MiB.
pub const MIN_FREE_BYTES: u64 = 64 << 20;

/// Free space a recovery from a failed write waits for: sled's reopening and the journal given
/// to it again.
pub(super) const RECOVERY_ROOM: u64 = 40 << 20;

/// A file of [`RESERVE_BYTES`] beside sled's, given up when a write fails on a full disk, so that
/// sled can be reopened (its recovery writes) and reads go on.
pub(super) struct Reserve {
    pub(super) path: std::path::PathBuf,
}

/// The room [`Reserve`] keeps.
const RESERVE_BYTES: usize = 8 << 20;

impl Reserve {
    /// Takes the room, when the file system has it; quietly does without otherwise.
    pub(super) fn take(&self) {
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() == RESERVE_BYTES as u64) {
            return;
        }
        let written =
            std::fs::write(&self.path, vec![0u8; RESERVE_BYTES]).and_then(|_| File::open(&self.path)?.sync_all());
        if let Err(e) = written {
            let _ = std::fs::remove_file(&self.path);
            log::warn!(
                "no room for the store's reserve ({e}): a write that fills the disk may stop reads until there is room"
            );
        }
    }

    pub(super) fn release(&self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The bytes an unprivileged writer may still use on the file system holding `dir`.
pub(super) fn free_bytes(dir: &Path) -> Result<u64, StoreError> {
    use std::os::unix::ffi::OsStrExt as _;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(io)?;
    // SAFETY: statvfs(3) fills the struct it is given for a NUL-terminated path; both live
    // across the call.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stat) } != 0 {
        return Err(StoreError::of_io(std::io::Error::last_os_error(), "statvfs"));
    }
    Ok(stat.f_bavail as u64 * stat.f_frsize as u64)
}
