//! One account's token file: load (read, check, decrypt, parse), save (encrypt, read back,
//! atomic write) and lock, with every failure turned into an error that says what to run next.
//! This is where the refresh token is written; `refresh` decides when.
//!
//! `contents` is the schema inside the encryption, `mutt_oauth2` the older schema it still reads,
//! `overrides` the flags that replace stored values, and `recovery` keeps a token set the file
//! could not take.

mod contents;
mod mutt_oauth2;
mod overrides;
pub mod recovery;
pub mod remembered;

pub use contents::{
    FORMAT_VERSION, Flow, MAX_LIFETIME, MAX_REFRESH_MARGIN, Schema, TYPICAL_LIFETIME, TokenFile,
};
pub use overrides::Overrides;

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::encryption::{Crypto, EncryptionOptions, EncryptionSpec};
use crate::error::{Error, ExitStatus, Result};
use crate::paths;
use crate::private_files::{self, FileId, LockError, ReadError, RefreshLock};
use remembered::Remembered;

/// A token file and the means to open it.
pub struct Account {
    path: PathBuf,
    /// TOKENFILE as the user typed it, for commands we suggest.
    given: String,
    crypto: Crypto,
}

/// A token file's contents as read from disk.
pub struct Loaded {
    pub token: TokenFile,
    pub schema: Schema,
    /// Which version of the file this is.
    pub file: FileId,
}

impl Account {
    pub fn new(path: PathBuf, given: String, encryption: EncryptionOptions) -> Account {
        Account {
            path,
            given,
            crypto: Crypto::new(encryption),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// The exact command that signs this account in again.
    pub fn authorize_command(&self) -> String {
        let mut command = format!("mailtoken --authorize {}", paths::shell_quote(&self.given));
        if let Some(pipe) = &self.crypto.options().decryption_pipe {
            command.push_str(&format!(" --decryption-pipe {}", paths::shell_quote(pipe)));
        }
        if let Some(pipe) = &self.crypto.options().encryption_pipe {
            command.push_str(&format!(" --encryption-pipe {}", paths::shell_quote(pipe)));
        }
        command
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads, checks, decrypts and parses the token file. Nothing is ever written here.
    pub fn load(&self) -> Result<Loaded> {
        self.read(false)
    }

    /// Reads the token file to rewrite it: members this version does not know are remembered,
    /// so the rewrite keeps them. Not for the cached path: it parses the file twice.
    pub fn load_to_update(&self) -> Result<Loaded> {
        self.read(true)
    }

    fn read(&self, to_update: bool) -> Result<Loaded> {
        let shown = self.path.display();
        let (bytes, file) =
            private_files::read_private_identified(&self.path).map_err(|error| {
                match error {
            ReadError::Missing => {
                let create = format!("run '{}' once to sign in", self.authorize_command());
                let typo = (!self.given.contains('/'))
                    .then(|| crate::known_accounts::nearest(&self.given))
                    .flatten();
                Error::new(ExitStatus::NoTokenFile, format!("no token file at {shown}")).hint(
                    match typo {
                        Some(account) => format!(
                            "did you mean '{}'? To make a new account of this name, {create}",
                            paths::shell_quote(&account)
                        ),
                        None => create,
                    },
                )
            }
            // chmod is suggested only for what looks like a token file: telling a user to
            // narrow the mode of some other file they pointed at by mistake helps no one.
            ReadError::Exposed(mode)
                if crate::encryption::detect(&private_files::peek(&self.path))
                    != crate::encryption::Detected::Unknown =>
            {
                Error::config(format!(
                    "{shown} can be read by other users (mode {mode:04o}); it holds a login"
                ))
                .hint(format!(
                    "run 'chmod 600 {}'",
                    paths::shell_quote(&self.path.to_string_lossy())
                ))
            }
            ReadError::Exposed(mode) => Error::config(format!(
                "{shown} can be read by other users (mode {mode:04o}) and does not look like a \
                 token file"
            ))
            .hint("check the TOKENFILE argument"),
            ReadError::NotOwned(uid) => Error::config(format!(
                "{shown} belongs to another user (uid {uid}); mailtoken reads only the user's own \
                 token files, and follows only the user's own links"
            ))
            .hint("check the TOKENFILE argument; a token file is created by --authorize"),
            ReadError::NotAFile => Error::bad_token_file(format!("{shown} is not a regular file")),
            ReadError::TooLarge => {
                Error::bad_token_file(format!("{shown} is far too large to be a token file"))
            }
            ReadError::Io(e) => Error::bad_token_file(format!("cannot read {shown}: {e}")),
        }
            })?;
        if bytes.is_empty() {
            return Err(Error::bad_token_file(format!(
                "{shown} is empty (a sign-in that never finished?)"
            ))
            .hint(format!("run '{}' to sign in", self.authorize_command())));
        }
        let (plaintext, read_with) =
            self.crypto
                .decrypt(&self.path, &bytes)
                .map_err(|error| match self.crypto.found_damage() {
                    // No key or flag opens a damaged file: a sign-in replaces it, and keeps the
                    // damaged one aside.
                    true => error.hint(format!(
                        "run '{}' to sign in again; the damaged file is kept aside as {}.unreadable-TIME",
                        self.authorize_command(),
                        shown
                    )),
                    false => error,
                })?;
        let (mut token, schema) =
            TokenFile::parse(&plaintext, || self.crypto.spec_for_unrecorded(&read_with))
                .map_err(|e| e.context(shown))?;
        if to_update && schema == Schema::Mailtoken {
            token.remember_unknown(&plaintext);
        }
        Ok(Loaded {
            token,
            schema,
            file,
        })
    }

    /// What was remembered about the login in the file as it was loaded (`remembered`).
    pub fn remembered(&self, loaded: &Loaded) -> Option<Remembered> {
        remembered::read(&self.real_path(), &loaded.file)
    }

    /// Records that the provider ended the login the file holds now.
    pub fn record_ended(&self, code: Option<&str>, reason: &str) {
        if let Some(file) = self.current_file() {
            remembered::record_ended(&self.real_path(), file, code, reason);
        }
    }

    /// Records that a refresh failed for a temporary reason.
    pub fn record_unreachable(&self, reason: &str) {
        if let Some(file) = self.current_file() {
            remembered::record_unreachable(&self.real_path(), file, reason);
        }
    }

    /// Forgets what was remembered: the login was replaced or ended for good.
    pub fn forget_remembered(&self) {
        remembered::forget(&self.real_path());
    }

    fn current_file(&self) -> Option<FileId> {
        std::fs::metadata(self.real_path())
            .ok()
            .map(|metadata| FileId::of(&metadata))
    }

    /// The file itself when TOKENFILE is a symbolic link: writes replace the link's target, not
    /// the link, and every link to one file shares one lock.
    fn real_path(&self) -> PathBuf {
        std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone())
    }

    /// Encrypts and atomically replaces the token file. The new ciphertext is first decrypted the
    /// way later calls will read it, so a file no one can open never replaces a working one.
    /// Callers that replace an existing login hold the refresh lock, so no two writers interleave.
    /// What was remembered about the old login no longer applies, and goes.
    pub fn save(&self, token: &mut TokenFile) -> Result<()> {
        let ciphertext = self.seal(token)?;
        let real_path = self.real_path();
        private_files::write_atomic(&real_path, &ciphertext)
            .map_err(|e| Error::io(format!("cannot write {}: {e}", self.path.display())))?;
        remembered::forget(&real_path);
        Ok(())
    }

    /// Proves, before a refresh token is spent, that the result could be stored: the token set
    /// encrypts, the ciphertext reads back, and the directory takes a file of that size. A full
    /// disk, a read-only directory or a broken gpg is found while the old refresh token still
    /// works (with rotating refresh tokens a refresh whose result is lost ends the login).
    pub fn prove_save(&self, token: &TokenFile) -> Result<()> {
        let mut trial = token.clone();
        let ciphertext = self.seal(&mut trial)?;
        // Room for the file to grow (a longer token, a rotated refresh token) and its metadata.
        let room = ciphertext.len() * 2 + 4096;
        private_files::prove_writable(&self.real_path(), room).map_err(|e| {
            Error::io(format!(
                "cannot write beside {}: {e}",
                self.path.display()
            ))
            .hint("free disk space or make the directory writable; the refresh token was not used, so the login is intact")
        })
    }

    /// Checks that `spec` works before a sign-in, with a throwaway document.
    pub fn prove_encryption(&self, spec: &EncryptionSpec) -> Result<()> {
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

    /// Takes the exclusive refresh lock on this token file.
    pub fn lock(&self) -> Result<RefreshLock> {
        self.lock_waiting(private_files::LOCK_WAIT)
    }

    /// Takes the lock, waiting at most `wait` for another holder.
    pub fn lock_waiting(&self, wait: std::time::Duration) -> Result<RefreshLock> {
        private_files::lock(&self.real_path(), wait).map_err(|error| match error {
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
