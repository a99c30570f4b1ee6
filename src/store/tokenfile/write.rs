//! Writing a token file: every write is encrypted, read back as a later call would read it, and
//! put in place atomically under the refresh lock; a refresh first reserves the room its result
//! will need, while the old refresh token still works.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::account::Account;
use super::contents::TokenFile;
use super::recovery;
use super::remembered;
use crate::base::error::{Error, Result};
use crate::base::paths;
use crate::base::private_files::{self, Reserved};
use crate::base::refresh_lock::{self, LockError, RefreshLock};
use crate::store::encryption::EncryptionSpec;

/// Room taken beside the token file before a refresh token is spent: where its result goes.
pub(crate) struct Room {
    reserved: Reserved,
    real_path: PathBuf,
    /// The login whose refresh token is about to be spent: the one a kept set belongs to.
    kept_for: recovery::KeptFor,
}

impl Account {
    /// Encrypts and atomically replaces the token file. The new ciphertext is first decrypted the
    /// way later calls will read it, so a file no one can open never replaces a working one.
    /// Callers that replace an existing login hold the refresh lock, so no two writers interleave.
    /// What was remembered about the old login no longer applies, and goes.
    pub(crate) fn save(&self, token: &mut TokenFile) -> Result<()> {
        let ciphertext = self.seal(token)?;
        let real_path = self.real_path()?;
        private_files::write_atomic(&real_path, &ciphertext)
            .map_err(|e| Error::io(format!("cannot write {}: {e}", self.path.display())))?;
        remembered::forget(&real_path);
        Ok(())
    }

    /// Changes what is not the login (`--set`): under the refresh lock, the file is read again
    /// (so a refresh that just finished is kept), `change` edits the copy and says what it
    /// changed, and only when it changed something is the file written, through `save`. A file
    /// that cannot be read is never rewritten: the read's error ends it first. A login the
    /// provider ended stays ended: its record follows the file to its new version.
    pub(crate) fn update(
        &self,
        change: impl FnOnce(&mut TokenFile) -> Vec<String>,
    ) -> Result<Vec<String>> {
        let _lock = self.lock()?;
        let loaded = self.load_to_update()?;
        let ended = self.remembered(&loaded).and_then(|record| record.ended);
        let mut token = loaded.token;
        let changed = change(&mut token);
        if changed.is_empty() {
            return Ok(changed);
        }
        token.min_valid_this_call = None;
        self.save(&mut token)?;
        if let Some(ended) = ended {
            self.carry_ended(ended);
        }
        Ok(changed)
    }

    /// Proves, before a refresh token is spent, that the result can be written, and keeps the
    /// room for it: a temporary file of twice the present file's size (a longer token, a rotated
    /// refresh token) is allocated and fsynced beside it. A full disk or a read-only directory is
    /// found while the old refresh token still works (with rotating refresh tokens a refresh
    /// whose result is lost ends the login), and the disk filling up during the request cannot
    /// take the result's place. The encryption is proven by the write itself (`save_into`), which
    /// reads its ciphertext back before it replaces anything; should it fail, the new tokens are
    /// kept in this same room (`keep_in`), encrypted in-process, so nothing depends on it.
    pub(crate) fn prove_save(&self, token: &TokenFile, file_size: u64) -> Result<Room> {
        self.crypto
            .check_can_write(&self.crypto.effective_spec(&token.encryption))?;
        let real_path = self.real_path()?;
        let room = usize::try_from(file_size).unwrap_or(usize::MAX).max(2048) * 2 + 4096;
        let reserved = private_files::reserve(&real_path, room).map_err(|e| {
            Error::io(format!(
                "cannot write beside {}: {e}",
                self.path.display()
            ))
            .hint("free disk space or make the directory writable; the refresh token was not used, so the login is intact")
        })?;
        Ok(Room {
            reserved,
            real_path,
            kept_for: recovery::KeptFor::login_of(token),
        })
    }

    /// Stores a refreshed token set in the room taken for it. On failure the room is still there
    /// for `keep_in`.
    pub(crate) fn save_into(&self, token: &mut TokenFile, room: &mut Room) -> Result<()> {
        let ciphertext = self.seal(token)?;
        room.reserved
            .install(&ciphertext, &room.real_path)
            .map_err(|e| Error::io(format!("cannot write {}: {e}", self.path.display())))?;
        remembered::forget(&room.real_path);
        Ok(())
    }

    /// Keeps a token set the file could not take in the room taken for it, as the recovery copy
    /// beside the file (`recovery`), so keeping it needs no space the disk may no longer have.
    /// Returns where it went.
    pub(crate) fn keep_in(&self, token: &TokenFile, room: &mut Room) -> Result<PathBuf> {
        recovery::keep(
            &room.real_path,
            token,
            &room.kept_for,
            Some(&mut room.reserved),
        )
    }

    /// Checks that `spec` works before a sign-in, with a throwaway document.
    pub(crate) fn prove_encryption(&self, spec: &EncryptionSpec) -> Result<()> {
        self.round_trip(spec, b"{}").map(|_| ())
    }

    /// The token as the file will hold it: encrypted with the effective encryption, checked.
    fn seal(&self, token: &mut TokenFile) -> Result<Vec<u8>> {
        token.encryption = self.crypto.effective_spec(&token.encryption);
        let plaintext = Zeroizing::new(token.to_json());
        self.round_trip(&token.encryption, &plaintext)
    }

    /// Encrypts `plaintext` and decrypts the result as a later call would; returns the
    /// ciphertext only when it reads back to the same bytes.
    fn round_trip(&self, spec: &EncryptionSpec, plaintext: &[u8]) -> Result<Vec<u8>> {
        let ciphertext = self.crypto.encrypt(spec, plaintext)?;
        let hint = match spec {
            EncryptionSpec::Pipe { .. } if self.crypto.options().decryption_pipe.is_none() => {
                "give --decryption-pipe COMMAND as well: the new file is read back with it before \
                 it replaces anything"
            }
            _ => {
                "check that the identity (--age-identity), gpg's secret key or the \
                 --decryption-pipe can open what the encryption writes"
            }
        };
        let unreadable = |why: String| {
            Error::config(format!(
                "the new token file would not be readable, so {} is left as it was: {why}",
                self.path.display()
            ))
            .hint(hint)
        };
        let (read_back, _) = self
            .crypto
            .decrypt(&self.path, &ciphertext)
            .map_err(|e| unreadable(e.message().to_string()))?;
        if read_back[..] != plaintext[..] {
            return Err(unreadable("it decrypts to something else".into()));
        }
        Ok(ciphertext)
    }

    /// Takes the account's sign-in lock, at once or not at all: one sign-in of an account at a
    /// time (a second would open a second browser, and the loser's login would stay live at the
    /// provider). It is not the refresh lock, which a sign-in takes only for its write, so the
    /// mail client's refreshes of the old login go on meanwhile. The lock file,
    /// `TOKENFILE.sign-in.lock`, names the running sign-in's process and start.
    pub(crate) fn lock_sign_in(&self) -> Result<RefreshLock> {
        self.lock_sign_in_within(std::time::Duration::ZERO)
    }

    /// `lock_sign_in`, waiting up to `wait` for the sign-in holding it to end.
    pub(crate) fn lock_sign_in_within(&self, wait: std::time::Duration) -> Result<RefreshLock> {
        let name = self.sign_in_lock_name()?;
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
                    self.path.display()
                ))
                .hint("finish that sign-in, or stop it, then run this one again"))
            }
            Err(LockError::Io(e)) => Err(Error::io(format!(
                "cannot lock {} for the sign-in: {e}",
                paths::lock_path(&name).display()
            ))),
        }
    }

    /// Whether a sign-in of this account is running now: its sign-in lock is held (taken and at
    /// once let go when it is not).
    pub(crate) fn sign_in_running(&self) -> bool {
        self.sign_in_lock_name().is_ok_and(|name| {
            matches!(
                refresh_lock::lock(&name, std::time::Duration::ZERO),
                Err(LockError::TimedOut)
            )
        })
    }

    /// `TOKENFILE.sign-in`, whose `.lock` the sign-in lock is, beside the real file.
    fn sign_in_lock_name(&self) -> Result<PathBuf> {
        let mut name = self.real_path()?.into_os_string();
        name.push(".sign-in");
        Ok(PathBuf::from(name))
    }

    /// Takes the exclusive refresh lock on this token file.
    pub(crate) fn lock(&self) -> Result<RefreshLock> {
        self.lock_waiting(refresh_lock::LOCK_WAIT)
    }

    /// Takes the lock, waiting at most `wait` for another holder.
    pub(crate) fn lock_waiting(&self, wait: std::time::Duration) -> Result<RefreshLock> {
        refresh_lock::lock(&self.real_path()?, wait).map_err(|error| match error {
            LockError::TimedOut => Error::temporary(format!(
                "another mailtoken process has been refreshing {} for over {} s",
                self.path.display(),
                wait.as_secs()
            ))
            .hint("try again; if it persists, look for a stuck mailtoken process"),
            LockError::Io(e) => Error::io(format!(
                "cannot lock {}: {e}",
                paths::lock_path(&self.path).display()
            )),
        })
    }
}
