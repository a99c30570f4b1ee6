//! The words of encryption every part shares: what a file records (`EncryptionSpec`), how it
//! was read (`ReadWith`), the user's choices (`EncryptionOptions`), and `Crypto`, one run's
//! decryptor and encryptor, whose work the story (`mod.rs`) sends to the chapter for each kind.

use std::cell::RefCell;
use std::path::PathBuf;

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::self_stanza;

/// A token file's JSON is a few kilobytes; anything far larger is not a token file.
pub(crate) const MAX_PLAINTEXT: u64 = 1024 * 1024;

/// How a new token file is encrypted (`--encryption`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptionKind {
    /// age, to the recipient of the age identity (no prompt: works from cron).
    Age,
    /// age with a passphrase asked on the terminal (interactive use only).
    Passphrase,
    /// gpg, to `--gpg-recipient` or the default key.
    Gpg,
}

/// How a token file is encrypted, stored inside it so a refresh re-encrypts the same way.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EncryptionSpec {
    /// age to these recipients (`age1…` or `ssh-ed25519 …`/`ssh-rsa …` public keys).
    Age { recipients: Vec<String> },
    /// age with a passphrase (scrypt), asked on the terminal.
    AgePassphrase,
    /// gpg to a key id, or to the default key when `None` (`--default-recipient-self`).
    Gpg {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<String>,
    },
    /// Any command that encrypts stdin to stdout; decryption needs `--decryption-pipe` on every call.
    Pipe { encrypt: String },
}

/// How a file was actually decrypted in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadWith {
    /// age, with the identity at this path (the first one that was tried).
    AgeIdentity(PathBuf),
    AgePassphrase,
    Gpg,
    /// The `--decryption-pipe` command.
    Pipe,
}

/// The user's choices that affect encryption, from the command line.
#[derive(Clone, Debug, Default)]
pub struct EncryptionOptions {
    pub age_identity: Option<PathBuf>,
    pub decryption_pipe: Option<String>,
    pub encryption_pipe: Option<String>,
    pub gpg_recipient: Option<String>,
}

/// Decrypts and encrypts token files for one run, remembering a passphrase typed for decryption
/// so the refreshed file is re-encrypted without asking twice.
pub struct Crypto {
    pub(super) options: EncryptionOptions,
    pub(super) passphrase: RefCell<Option<SecretString>>,
    /// A decryption found the file damaged (not merely locked to another key): only a new
    /// sign-in helps, which the caller, knowing the account, says.
    pub(super) damaged: std::cell::Cell<bool>,
    /// A decryption found the file encrypted to identities none of which is here.
    pub(super) foreign: std::cell::Cell<bool>,
    /// The identity this run reads with, as the writer of mailtoken's own stanza and its
    /// recipient: read (and its public key derived) once per run, however many writes ask.
    pub(super) own: std::cell::OnceCell<Option<(self_stanza::SelfRecipient, String)>>,
}
