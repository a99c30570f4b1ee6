//! An account's two locks: the refresh lock around every write of its file, and the sign-in lock
//! that lets one sign-in of it run at a time. Both are `refresh_lock`'s files beside the real
//! token file, so every name of one file takes the same lock.

use std::path::PathBuf;
use std::time::Duration;

use super::account::Account;
use crate::base::error::{Error, Result};
use crate::base::paths;
use crate::base::refresh_lock::{self, LockError, RefreshLock};

/// The refresh lock, waiting at most `wait` for another holder.
pub(super) fn refresh(account: &Account, wait: Duration) -> Result<RefreshLock> {
    refresh_lock::lock(&account.real_path()?, wait).map_err(|error| match error {
        LockError::TimedOut => Error::temporary(format!(
            "another mailtoken process has been refreshing {} for over {} s",
            account.path.display(),
            wait.as_secs()
        ))
        .hint("try again; if it persists, look for a stuck mailtoken process"),
        LockError::Io(e) => Error::io(format!(
            "cannot lock {}: {e}",
            paths::lock_path(&account.path).display()
        )),
    })
}

/// The sign-in lock, waiting up to `wait` for the sign-in holding it to end. The lock file names
/// the holder's process and start, for the message a second sign-in gets.
pub(super) fn sign_in(account: &Account, wait: Duration) -> Result<RefreshLock> {
    let name = sign_in_lock_name(account)?;
    match refresh_lock::lock(&name, wait) {
        Ok(mut lock) => {
            lock.note_holder(&format!(
                "pid {}, since {}",
                std::process::id(),
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S %:z")
            ));
            Ok(lock)
        }
        Err(LockError::TimedOut) => {
            let holder = refresh_lock::holder(&name)
                .map(|holder| format!(" ({})", crate::base::log::sanitize(&holder)))
                .unwrap_or_default();
            Err(Error::temporary(format!(
                "a sign-in of {} is already running{holder}",
                account.path.display()
            ))
            .hint("finish that sign-in, or stop it, then run this one again"))
        }
        Err(LockError::Io(e)) => Err(Error::io(format!(
            "cannot lock {} for the sign-in: {e}",
            paths::lock_path(&name).display()
        ))),
    }
}

/// Whether the sign-in lock is held now (taken and at once let go when it is not).
pub(super) fn sign_in_held(account: &Account) -> bool {
    sign_in_lock_name(account).is_ok_and(|name| {
        matches!(
            refresh_lock::lock(&name, Duration::ZERO),
            Err(LockError::TimedOut)
        )
    })
}

/// `TOKENFILE.sign-in`, whose `.lock` the sign-in lock is, beside the real file.
fn sign_in_lock_name(account: &Account) -> Result<PathBuf> {
    let mut name = account.real_path()?.into_os_string();
    name.push(".sign-in");
    Ok(PathBuf::from(name))
}
