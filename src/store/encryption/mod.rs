//! Encryption of token files: age to an identity (the default), age with a passphrase, gpg, or any
//! pair of commands. What a file is encrypted with is recognised from its own bytes.
//!
//! The age path runs in-process (no subprocess) because it is on every mail client's hot path, and
//! writes standard age files that `age -d -i IDENTITY FILE` opens.
//!
//! This module is the story: [`Crypto`] sends each file to the code for its kind. The words every
//! part shares are in `crypto`: what a file records ([`EncryptionSpec`]), how it was read
//! ([`ReadWith`]), the user's choices ([`EncryptionOptions`]) and `Crypto` itself. The work is
//! done in `detect` (the kind, from the bytes),
//! `age_files` (age encryption and decryption, the passphrase path), `identity` (age identity
//! files, the default identity, their recipients), `known_public_key` (the fast X25519 identity)
//! and `command` (gpg and the user's pipes, run as child processes, ended at their deadline with
//! everything they started by `stopping`).

use std::path::Path;

use zeroize::Zeroizing;

use crate::base::error::{Error, Result};

mod age_files;
mod command;
mod crypto;
mod detect;
mod identity;
mod known_public_key;
mod self_stanza;
mod stopping;

pub(crate) use crypto::EncryptionKind;
pub use crypto::{Crypto, EncryptionOptions, EncryptionSpec, ReadWith};
pub use detect::{Detected, detect};
pub(crate) use identity::{age_recipients_of, ensure_default_identity};

impl Crypto {
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
                let plaintext = self.decrypt_age_passphrase(path, bytes)?;
                Ok((plaintext, ReadWith::AgePassphrase))
            }
            Detected::Age { ssh, .. } => {
                let (plaintext, identity) = self.decrypt_age_identity(path, bytes, ssh)?;
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
            return self.check_identity_among(recipients);
        }
        let EncryptionSpec::Pipe { encrypt } = spec else {
            return Ok(());
        };
        // Whether the pipe's output can be read back (an age or gpg file needs no
        // --decryption-pipe) only the write shows.
        self.check_pipe_may_run(encrypt)
    }

    /// Encrypts `plaintext` as `spec` says.
    pub fn encrypt(&self, spec: &EncryptionSpec, plaintext: &[u8]) -> Result<Vec<u8>> {
        match spec {
            EncryptionSpec::Age { recipients } => {
                age_files::encrypt_to(recipients, self.own_recipient(recipients), plaintext)
            }
            EncryptionSpec::AgePassphrase => self.encrypt_age_passphrase(plaintext),
            EncryptionSpec::Gpg { recipient } => {
                command::encrypt_with_gpg(recipient.as_deref(), plaintext)
            }
            EncryptionSpec::Pipe { encrypt } => self.encrypt_with_pipe(encrypt, plaintext),
        }
    }
}
