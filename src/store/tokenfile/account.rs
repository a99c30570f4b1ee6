//! One account: the token file a name or path stands for, how it is encrypted, and reading it
//! (`load`, `load_to_update`, `reread` under the lock); what is remembered about its login beside
//! it (`remembered`). Writing it is `write`'s.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use super::contents::TokenFile;
use super::parse::Schema;
use super::remembered::{self, Remembered};
use crate::base::error::{Error, ExitStatus, Result};
use crate::base::paths;
use crate::base::private_files::{self, FileId, ReadError};
use crate::store::encryption::{Crypto, EncryptionOptions};

/// A token file and the means to open it.
pub(crate) struct Account {
    pub(super) path: PathBuf,
    /// TOKENFILE as the user typed it, for commands we suggest.
    pub(super) given: String,
    pub(super) crypto: Crypto,
    /// `--min-valid` for this call, put on every token read (and so never stored).
    pub(super) min_valid: Option<u32>,
}

/// A token file's contents as read from disk.
pub(crate) struct Loaded {
    pub token: TokenFile,
    pub schema: Schema,
    /// Which version of the file this is.
    pub file: FileId,
    /// The decrypted text, kept (not copied) so that a rewrite of the same version needs no
    /// second decryption (`reread`).
    pub(super) plaintext: Zeroizing<Vec<u8>>,
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
        self.read(false)
    }

    /// Reads the token file to rewrite it: members this version does not know are remembered,
    /// so the rewrite keeps them. Not for the cached path: it parses the file twice.
    pub(crate) fn load_to_update(&self) -> Result<Loaded> {
        self.read(true)
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

    fn read(&self, to_update: bool) -> Result<Loaded> {
        let shown = self.path.display();
        let (bytes, file) =
            private_files::read_private_identified(&self.path).map_err(|error| {
                match error {
            ReadError::Missing => {
                let create = format!("run '{}' once to sign in", self.authorize_command());
                let typo = (!self.given.contains('/'))
                    .then(|| crate::store::known_accounts::nearest(&self.given))
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
                if crate::store::encryption::detect(&private_files::peek(&self.path))
                    != crate::store::encryption::Detected::Unknown =>
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
                    // Another identity's file: that identity, or a new sign-in.
                    false if self.crypto.found_foreign() => {
                        let restore = error.hint_text().unwrap_or_default().to_string();
                        error.hint(format!(
                            "{restore}; or run '{}' to sign in again (this file is kept aside)",
                            self.authorize_command()
                        ))
                    }
                    false => error,
                })?;
        let (mut token, schema) =
            TokenFile::parse(&plaintext, || self.crypto.spec_for_unrecorded(&read_with))
                .map_err(|e| e.context(shown))?;
        if to_update && schema == Schema::Mailtoken {
            token.remember_unknown(&plaintext);
        }
        token.min_valid_this_call = self.min_valid;
        Ok(Loaded {
            token,
            schema,
            file,
            plaintext,
        })
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

    /// The file that writes replace and locks guard: the link's target when TOKENFILE is a
    /// symbolic link of the user's own; refused when any link on the way is another user's.
    pub(crate) fn real_path(&self) -> Result<PathBuf> {
        private_files::own_real_path(&self.path).map_err(|e| {
            Error::config(format!("cannot write {}: {e}", self.path.display()))
                .hint("name a token file in a directory of your own")
        })
    }
}
