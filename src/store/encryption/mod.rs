//! Encryption of token files: age to an identity (the default), age with a passphrase, gpg, or any
//! pair of commands. What a file is encrypted with is recognised from its own bytes.
//!
//! The age path runs in-process (no subprocess) because it is on every mail client's hot path, and
//! writes standard age files that `age -d -i IDENTITY FILE` opens.
//!
//! This module is the story: [`Crypto`], all of whose methods are here, sends each file to the
//! code for its kind. The words every part shares are in `crypto`: what a file records
//! ([`EncryptionSpec`]), how it was read ([`ReadWith`]), the user's choices
//! ([`EncryptionOptions`]) and the `Crypto` struct itself. The work is done by free functions in
//! `detect` (the kind, from the bytes), `age_files` (age encryption and decryption, the
//! passphrase path), `identity` (age identity files, the default identity, their recipients),
//! `self_stanza` (mailtoken's own stanza, which opens a file without an X25519 operation; the
//! one cryptographic construction of mailtoken's own, specified in docs/encryption.md) and
//! `command` (gpg and the user's pipes, run as child processes, ended at their deadline with
//! everything they started by `stopping`).

use std::cell::{Cell, OnceCell, RefCell};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::base::error::{Error, Result};

mod age_files;
mod command;
mod crypto;
mod detect;
mod identity;
mod self_stanza;
mod stopping;

pub(crate) use crypto::EncryptionKind;
pub use crypto::{Crypto, EncryptionOptions, EncryptionSpec, ReadWith};
pub use detect::{Detected, detect};
pub(crate) use identity::{age_recipients_of, ensure_default_identity};
use self_stanza::SelfRecipient;

impl Crypto {
    pub fn new(options: EncryptionOptions) -> Crypto {
        Crypto {
            options,
            passphrase: RefCell::new(None),
            damaged: Cell::new(false),
            foreign: Cell::new(false),
            own: OnceCell::new(),
        }
    }

    /// Whether a decryption in this run found a damaged file.
    pub fn found_damage(&self) -> bool {
        self.damaged.get()
    }

    /// Whether a decryption in this run found the file encrypted for another identity.
    pub fn found_foreign(&self) -> bool {
        self.foreign.get()
    }

    pub fn options(&self) -> &EncryptionOptions {
        &self.options
    }

    /// Decrypts `bytes` read from `path`. Returns the plaintext and how it was decrypted, from
    /// which `spec_for_unrecorded` derives the encryption for files that record none.
    pub fn decrypt(&self, path: &Path, bytes: &[u8]) -> Result<(Zeroizing<Vec<u8>>, ReadWith)> {
        let shown = path.display();
        if let Some(pipe) = &self.options.decryption_pipe {
            let plaintext = command::decrypt_with_pipe(pipe, path, bytes)?;
            return Ok((plaintext, ReadWith::Pipe));
        }
        match detect(bytes) {
            Detected::Age {
                passphrase: true, ..
            } => {
                let plaintext = self.decrypt_with_passphrase(path, bytes)?;
                Ok((plaintext, ReadWith::AgePassphrase))
            }
            Detected::Age { ssh, .. } => {
                let (plaintext, identity) = self.decrypt_with_identities(path, bytes, ssh)?;
                Ok((plaintext, ReadWith::AgeIdentity(identity)))
            }
            Detected::Gpg => {
                let plaintext = command::decrypt_with_gpg(path, bytes)?;
                Ok((plaintext, ReadWith::Gpg))
            }
            Detected::Json => Err(Error::bad_token_file(format!("{shown} is not encrypted"))
                .hint("if that is deliberate, pass --decryption-pipe cat --encryption-pipe cat")),
            Detected::Unknown => Err(Error::bad_token_file(format!(
                "{shown} is neither an age nor a gpg file and no --decryption-pipe was given"
            ))
            .hint("pass the --decryption-pipe command this file was written with")),
        }
    }

    /// The encryption for a file that does not record one (mutt_oauth2.py's): `--encryption-pipe`
    /// when given, as mutt_oauth2.py would use it, or else the way the file was read. Computed
    /// only for such files, since deriving an age recipient costs a scalar multiplication.
    pub fn spec_for_unrecorded(&self, read_with: &ReadWith) -> Result<EncryptionSpec> {
        Ok(match read_with {
            _ if self.options.encryption_pipe.is_some() => {
                self.fallback_spec(EncryptionSpec::AgePassphrase)
            }
            ReadWith::AgeIdentity(identity) => EncryptionSpec::Age {
                recipients: age_recipients_of(identity)?,
            },
            ReadWith::AgePassphrase => EncryptionSpec::AgePassphrase,
            // mutt_oauth2.py's default encryption pipe is gpg to the default key.
            ReadWith::Gpg => EncryptionSpec::Gpg {
                recipient: self.options.gpg_recipient.clone(),
            },
            // Read with a pipe of the user's: only the matching encryption pipe may write it,
            // and only the user can name it. An empty command is refused when a write is tried
            // (before any refresh), never replaced by a guess.
            ReadWith::Pipe => EncryptionSpec::Pipe {
                encrypt: String::new(),
            },
        })
    }

    fn fallback_spec(&self, read_with: EncryptionSpec) -> EncryptionSpec {
        match &self.options.encryption_pipe {
            Some(pipe) => EncryptionSpec::Pipe {
                encrypt: pipe.clone(),
            },
            None => read_with,
        }
    }

    /// The encryption a write should use: `--encryption-pipe` overrides what the file records.
    pub fn effective_spec(&self, recorded: &EncryptionSpec) -> EncryptionSpec {
        self.fallback_spec(recorded.clone())
    }

    /// Refuses, before a refresh token is spent, a write that cannot happen whatever the answer:
    /// a pipe not given on the command line. What only running the encryption shows (a pipe or
    /// gpg that fails, a file that does not read back) is found by the write itself, whose tokens
    /// are kept if it fails (`tokenfile::recovery`).
    /// So is an age file for recipients that do not include the identity this run reads with:
    /// the new file would not open.
    pub fn check_can_write(&self, spec: &EncryptionSpec) -> Result<()> {
        if let EncryptionSpec::Age { recipients } = spec {
            return identity::check_identity_among(self.own_recipient(), recipients);
        }
        let EncryptionSpec::Pipe { encrypt } = spec else {
            return Ok(());
        };
        // Whether the pipe's output can be read back (an age or gpg file needs no
        // --decryption-pipe) only the write shows.
        command::check_pipe_may_run(&self.options, encrypt)
    }

    /// Encrypts `plaintext` as `spec` says.
    pub fn encrypt(&self, spec: &EncryptionSpec, plaintext: &[u8]) -> Result<Vec<u8>> {
        match spec {
            EncryptionSpec::Age { recipients } => {
                let own = self
                    .own_identity()
                    .filter(|(_, own)| recipients.contains(own));
                age_files::encrypt_to(recipients, own.map(|(stanza, _)| stanza), plaintext)
            }
            EncryptionSpec::AgePassphrase => self.encrypt_with_passphrase(plaintext),
            EncryptionSpec::Gpg { recipient } => {
                command::encrypt_with_gpg(recipient.as_deref(), plaintext)
            }
            EncryptionSpec::Pipe { encrypt } => {
                command::encrypt_with_pipe(&self.options, encrypt, plaintext)
            }
        }
    }

    /// Decrypts an age file with the identities to try, and returns the plaintext with the first
    /// identity's path (how the file is re-encrypted when it records no encryption).
    fn decrypt_with_identities(
        &self,
        path: &Path,
        bytes: &[u8],
        ssh: bool,
    ) -> Result<(Zeroizing<Vec<u8>>, PathBuf)> {
        let identities = identity::age_identities(&self.options, ssh)?;
        let plaintext =
            age_files::decrypt_with_identities(path, bytes, &identities).map_err(|not_opened| {
                // Learnt for the caller, who knows the account and says what to do.
                if not_opened.damaged {
                    self.damaged.set(true);
                }
                if not_opened.foreign {
                    self.foreign.set(true);
                }
                not_opened.error
            })?;
        let first = identities.into_iter().next().map(|(path, _)| path);
        Ok((plaintext, first.unwrap_or_default()))
    }

    /// Decrypts a passphrase file. The passphrase is asked once per run: a refresh reads the file
    /// again under the lock, and then re-encrypts it, with the one typed first.
    fn decrypt_with_passphrase(&self, path: &Path, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let remembered = self.passphrase.borrow().clone();
        let passphrase = match remembered {
            Some(passphrase) => passphrase,
            None => age_files::ask_passphrase(path)?,
        };
        let plaintext = age_files::decrypt_with_passphrase(path, bytes, &passphrase)?;
        *self.passphrase.borrow_mut() = Some(passphrase);
        Ok(plaintext)
    }

    /// Encrypts with the passphrase typed to decrypt the file in this run, or a new one.
    fn encrypt_with_passphrase(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let remembered = self.passphrase.borrow().clone();
        let passphrase = match remembered {
            Some(passphrase) => passphrase,
            None => {
                let typed = age_files::prompt_new_passphrase()?;
                // Remembered, so checking the new file reads it without asking again.
                *self.passphrase.borrow_mut() = Some(typed.clone());
                typed
            }
        };
        age_files::encrypt_with_passphrase(passphrase, plaintext)
    }

    /// The identity this run reads with, when it holds one X25519 key, with its recipient: read
    /// (and its public key derived) once per run, however many writes ask.
    fn own_identity(&self) -> Option<&(SelfRecipient, String)> {
        self.own
            .get_or_init(|| identity::own_identity(&self.options))
            .as_ref()
    }

    /// The recipient (`age1…`) of the identity this run reads with, when known.
    fn own_recipient(&self) -> Option<&str> {
        self.own_identity().map(|(_, recipient)| recipient.as_str())
    }
}
