//! One account's token file: load (read, check, decrypt, parse), save (encrypt, read back,
//! atomic write) and lock, with every failure turned into an error that says what to run next.
//! This is where the refresh token is written, and where tokens the file could not take are
//! kept and adopted again; `refresh` decides when.
//!
//! This file is the story: every method of [`Account`] is here. The chapters are free functions:
//! `read` the reading of the file, `write` the writing, `locks` the refresh and sign-in locks,
//! `recovery` the copy of a token set the file could not take, `remembered` what is known about
//! the login beside the file. Their shared words are `account` (the `Account` struct and what a
//! load gives) and `contents` (the schema inside the encryption), which `parse` reads, or
//! `mutt_oauth2`'s older one; `overrides` are the flags that replace stored values.

mod account;
mod contents;
mod locks;
mod mutt_oauth2;
mod overrides;
mod parse;
mod read;
pub(crate) mod recovery;
pub(crate) mod remembered;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) use account::{Account, Loaded};
pub use contents::{FORMAT_VERSION, Flow, SignedIn, TokenFile};
pub(crate) use overrides::Overrides;
pub use parse::{Schema, parse};
use remembered::Remembered;
pub(crate) use write::Room;

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::paths;
use crate::base::private_files::{self, FileId};
use crate::base::refresh_lock::{self, RefreshLock};
use crate::base::secret::Secret;
use crate::store::encryption::{Crypto, EncryptionOptions, EncryptionSpec};

/// Where a refreshed token set went (`Account::store_refreshed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Into the token file.
    InTheFile,
    /// Into the recovery copy (or nowhere, said on stderr): the file could not take it.
    Kept,
}

impl Account {
    pub(crate) fn new(path: PathBuf, given: String, encryption: EncryptionOptions) -> Account {
        Account {
            path,
            given,
            crypto: Crypto::new(encryption),
            min_valid: None,
        }
    }

    /// This account as one call with `--min-valid MINUTES` sees it.
    pub(crate) fn with_min_valid(mut self, minutes: Option<u32>) -> Account {
        self.min_valid = minutes;
        self
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// The arguments that name this account to another mailtoken process: TOKENFILE as given
    /// (the process shares our directory and environment), and the flags of this run that read
    /// and write the file (a new file's `--gpg-recipient` is `--authorize`'s alone).
    pub(crate) fn arguments(&self) -> Vec<std::ffi::OsString> {
        let options = self.crypto.options();
        let mut arguments = vec![std::ffi::OsString::from(&self.given)];
        let flags = [
            (
                "--age-identity",
                options.age_identity.as_ref().map(|p| p.as_os_str()),
            ),
            (
                "--decryption-pipe",
                options.decryption_pipe.as_ref().map(|p| p.as_ref()),
            ),
            (
                "--encryption-pipe",
                options.encryption_pipe.as_ref().map(|p| p.as_ref()),
            ),
        ];
        for (flag, value) in flags {
            if let Some(value) = value {
                arguments.push(flag.into());
                arguments.push(value.to_owned());
            }
        }
        arguments
    }

    /// The exact command that signs this account in again.
    pub(crate) fn authorize_command(&self) -> String {
        let mut command = format!("mailtoken --authorize {}", paths::shell_quote(&self.given));
        if let Some(pipe) = &self.crypto.options().decryption_pipe {
            command.push_str(&format!(" --decryption-pipe {}", paths::shell_quote(pipe)));
        }
        if let Some(pipe) = &self.crypto.options().encryption_pipe {
            command.push_str(&format!(" --encryption-pipe {}", paths::shell_quote(pipe)));
        }
        command
    }

    pub(crate) fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads, checks, decrypts and parses the token file. Nothing is ever written here.
    pub(crate) fn load(&self) -> Result<Loaded> {
        read::read(self, false)
    }

    /// Reads the token file to rewrite it: members this version does not know are remembered,
    /// so the rewrite keeps them. Not for the cached path: it parses the file twice.
    pub(crate) fn load_to_update(&self) -> Result<Loaded> {
        read::read(self, true)
    }

    /// `load_to_update`, for a refresh that holds the lock and read the file before taking it:
    /// when the file is still the version `earlier` read (device, inode, size and time, from one
    /// `stat`), that reading is reused instead of decrypting again (with gpg or a pipe, a
    /// subprocess saved).
    pub(crate) fn reread(&self, mut earlier: Loaded) -> Result<Loaded> {
        let unchanged = std::fs::metadata(&self.path)
            .is_ok_and(|metadata| FileId::of(&metadata) == earlier.file);
        if !unchanged {
            return self.load_to_update();
        }
        if earlier.schema == Schema::Mailtoken {
            earlier.token.remember_unknown(&earlier.plaintext);
        }
        Ok(earlier)
    }

    /// What was remembered about the login in the file as it was loaded (`remembered`).
    pub(crate) fn remembered(&self, loaded: &Loaded) -> Option<Remembered> {
        remembered::read(&self.record_path(), &loaded.file)
    }

    /// Records that the provider ended the login the file holds now.
    pub(crate) fn record_ended(&self, code: Option<&str>, reason: &str) {
        if let Some(file) = self.current_file() {
            remembered::record_ended(&self.record_path(), file, code, reason);
        }
    }

    /// Keeps the record of an ended login for the file as it is now.
    pub(crate) fn carry_ended(&self, ended: remembered::Ended) {
        if let Some(file) = self.current_file() {
            remembered::carry_ended(&self.record_path(), file, ended);
        }
    }

    /// Records that a refresh failed for a temporary reason.
    pub(crate) fn record_unreachable(&self, reason: &str) {
        if let Some(file) = self.current_file() {
            remembered::record_unreachable(&self.record_path(), file, reason);
        }
    }

    /// The file that writes replace and locks guard: the link's target when TOKENFILE is a
    /// symbolic link of the user's own; refused when any link on the way is another user's.
    pub(crate) fn real_path(&self) -> Result<PathBuf> {
        private_files::own_real_path(&self.path).map_err(|e| {
            Error::config(format!("cannot write {}: {e}", self.path.display()))
                .hint("name a token file in a directory of your own")
        })
    }

    /// Encrypts and atomically replaces the token file. The new ciphertext is first decrypted the
    /// way later calls will read it, so a file no one can open never replaces a working one.
    /// Callers that replace an existing login hold the refresh lock, so no two writers interleave.
    /// What was remembered about the old login no longer applies, and goes.
    pub(crate) fn save(&self, token: &mut TokenFile) -> Result<()> {
        write::replace(self, token)
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

    /// Checks that `spec` works before a sign-in, with a throwaway document.
    pub(crate) fn prove_encryption(&self, spec: &EncryptionSpec) -> Result<()> {
        write::round_trip(self, spec, b"{}").map(|_| ())
    }

    /// Proves, before a refresh token is spent, that the result can be written, and keeps the
    /// room for it (`write::reserve`). A full disk or a read-only directory is found while the old
    /// refresh token still works (with rotating refresh tokens a refresh whose result is lost ends
    /// the login), and the disk filling up during the request cannot take the result's place. The
    /// encryption is proven by the write itself (`store_refreshed`), which reads its ciphertext
    /// back before it replaces anything; should it fail, the new tokens are kept in this same room,
    /// encrypted in-process, so nothing depends on it.
    pub(crate) fn prove_save(&self, token: &TokenFile, file_size: u64) -> Result<Room> {
        write::reserve(self, token, file_size)
    }

    /// Stores a refreshed token set in the room taken for it; when the file cannot take it, the
    /// set is kept in that room as the recovery copy (`recovery`) for the next call to adopt,
    /// and this call goes on with the new access token either way. Says which on stderr.
    pub(crate) fn store_refreshed(&self, token: &mut TokenFile, room: &mut Room) -> Stored {
        match write::install(self, token, room) {
            Ok(()) => Stored::InTheFile,
            Err(error) => {
                self.keep_unsaved(token, &error, room);
                Stored::Kept
            }
        }
    }

    /// The provider refused its own answer's access token but rotated the refresh token in it:
    /// the new refresh token is the only one it honours now, so it replaces the spent one in the
    /// file (or the recovery copy), and the rest of the answer is dropped.
    pub(crate) fn store_rotated(
        &self,
        token: &mut TokenFile,
        refresh_token: Secret,
        room: &mut Room,
    ) {
        token.refresh_token = Some(refresh_token);
        match write::install(self, token, room) {
            Ok(()) => log::warn(
                "stored the new refresh token of the refused answer, so the login still works \
                 once the provider issues a usable access token",
            ),
            Err(error) => self.keep_unsaved(token, &error, room),
        }
    }

    /// Takes over tokens an earlier call could not store (`recovery`), when they were kept for
    /// the login `token` holds and are newer: they hold the refresh token the provider issued
    /// last. They are written to the file when it can take them now; older ones are discarded.
    pub(crate) fn adopt_kept(&self, token: &mut TokenFile) {
        let Some((mut kept, path)) = recovery::take(self, token) else {
            return;
        };
        if !recovery::is_newer(&kept, token) {
            recovery::discard(&path);
            return;
        }
        match write::replace(self, &mut kept) {
            Ok(()) => {
                log::warn(format!(
                    "stored the tokens kept in {} after an earlier failed write",
                    path.display()
                ));
                recovery::discard(&path);
            }
            Err(error) => log::warn(format!(
                "using the tokens kept in {}; the file still cannot take them: {}",
                path.display(),
                error.message()
            )),
        }
        *token = kept;
    }

    /// Keeps a token set the file could not take in the room taken for it, as the recovery copy
    /// beside the file, so keeping it needs no space the disk may no longer have.
    fn keep_unsaved(&self, token: &TokenFile, error: &Error, room: &mut Room) {
        let kept = recovery::keep(
            &room.real_path,
            token,
            &room.kept_for,
            Some(&mut room.reserved),
        );
        match kept {
            Ok(kept) => log::warn(format!(
                "{}; the new tokens are kept in {} and the next call that can write stores them",
                error.message(),
                kept.display()
            )),
            Err(also) => log::warn(format!(
                "{}; keeping the new tokens elsewhere failed too ({}): this access token works \
                 for now, but the login may need a new sign-in once it expires",
                error.message(),
                also.message()
            )),
        }
    }

    /// Takes the exclusive refresh lock on this token file.
    pub(crate) fn lock(&self) -> Result<RefreshLock> {
        self.lock_waiting(refresh_lock::LOCK_WAIT)
    }

    /// Takes the refresh lock, waiting at most `wait` for another holder.
    pub(crate) fn lock_waiting(&self, wait: Duration) -> Result<RefreshLock> {
        locks::refresh(self, wait)
    }

    /// Takes the account's sign-in lock, at once or not at all: one sign-in of an account at a
    /// time (a second would open a second browser, and the loser's login would stay live at the
    /// provider). It is not the refresh lock, which a sign-in takes only for its write, so the
    /// mail client's refreshes of the old login go on meanwhile. The lock file,
    /// `TOKENFILE.sign-in.lock`, names the running sign-in's process and start.
    pub(crate) fn lock_sign_in(&self) -> Result<RefreshLock> {
        self.lock_sign_in_within(Duration::ZERO)
    }

    /// `lock_sign_in`, waiting up to `wait` for the sign-in holding it to end.
    pub(crate) fn lock_sign_in_within(&self, wait: Duration) -> Result<RefreshLock> {
        locks::sign_in(self, wait)
    }

    /// Whether a sign-in of this account is running now: its sign-in lock is held.
    pub(crate) fn sign_in_running(&self) -> bool {
        locks::sign_in_held(self)
    }

    fn current_file(&self) -> Option<FileId> {
        std::fs::metadata(self.record_path())
            .ok()
            .map(|metadata| FileId::of(&metadata))
    }

    /// Where the record beside the file is read: the file itself when TOKENFILE is a symbolic
    /// link, so every name of one file finds one record. Costs one `lstat` when it is no link.
    fn record_path(&self) -> PathBuf {
        match std::fs::symlink_metadata(&self.path) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone())
            }
            _ => self.path.clone(),
        }
    }
}
