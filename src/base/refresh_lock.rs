//! The per-file refresh lock: one process refreshes an account at a time, the others wait for
//! its result (or, with a still-valid token, do not wait long).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::base::private_files::{create_private_dir, my_uid, parent_dir};

/// How long to wait for another process's refresh before giving up. A refresh is bounded by the
/// HTTP timeouts, so a lock held longer than this belongs to a stuck process.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(90);

/// How often to retry a busy lock.
const LOCK_POLL: Duration = Duration::from_millis(20);

/// An exclusive lock on a token file, held until dropped. It lives on a separate `.lock` file
/// because the token file itself is replaced by rename on every write.
#[derive(Debug)]
pub struct RefreshLock {
    file: File,
}

impl RefreshLock {
    /// Writes who holds the lock into the lock file, for whoever finds it held (`holder`).
    pub(crate) fn note_holder(&mut self, text: &str) {
        use std::io::Write;
        let _ = self.file.set_len(0);
        let _ = (&self.file).write_all(text.as_bytes());
    }
}

/// What the holder of the lock of `token_path` noted, if it noted anything.
pub(crate) fn holder(token_path: &Path) -> Option<String> {
    let bytes =
        crate::base::private_files::read_kept(&crate::base::paths::lock_path(token_path)).ok()?;
    Some(String::from_utf8_lossy(&bytes).trim().to_string()).filter(|text| !text.is_empty())
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    TimedOut,
    Io(io::Error),
}

/// Takes the exclusive lock for `token_path`, waiting up to `wait` for another holder.
pub fn lock(token_path: &Path, wait: Duration) -> Result<RefreshLock, LockError> {
    let lock_path = crate::base::paths::lock_path(token_path);
    create_private_dir(parent_dir(&lock_path)).map_err(LockError::Io)?;
    // Never through a link (another user's link could point anywhere), never a FIFO, and only
    // a lock file of the user's own.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(&lock_path)
        .map_err(LockError::Io)?;
    let metadata = file.metadata().map_err(LockError::Io)?;
    if !metadata.is_file() || metadata.uid() != my_uid() {
        return Err(LockError::Io(io::Error::other(format!(
            "{} is not a lock file of this user's",
            lock_path.display()
        ))));
    }
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RefreshLock { file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(LOCK_POLL)
            }
            Err(TryLockError::WouldBlock) => return Err(LockError::TimedOut),
            Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_and_times_out() {
        let dir = std::env::temp_dir().join(format!("mailtoken-lock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        let held = lock(&path, Duration::from_secs(1)).unwrap();
        // A second open file description conflicts even within one process.
        assert!(matches!(
            lock(&path, Duration::from_millis(100)),
            Err(LockError::TimedOut)
        ));
        drop(held);
        lock(&path, Duration::from_millis(100)).unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
