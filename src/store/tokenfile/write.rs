//! Writing a token file: every write is encrypted, read back as a later call would read it, and
//! put in place atomically under the refresh lock; a refresh first reserves the room its result
//! will need, while the old refresh token still works.

use std::path::PathBuf;

use zeroize::Zeroizing;

use super::account::Account;
use super::contents::TokenFile;
use super::recovery::KeptFor;
use super::remembered;
use crate::base::error::{Error, Result};
use crate::base::private_files::{self, Reserved};
use crate::store::encryption::EncryptionSpec;

/// Room taken beside the token file before a refresh token is spent: where its result goes.
pub(crate) struct Room {
    pub(super) reserved: Reserved,
    pub(super) real_path: PathBuf,
    /// The login whose refresh token is about to be spent: the one a kept set belongs to.
    pub(super) kept_for: KeptFor,
}

/// Encrypts `token`, reads it back, and atomically replaces `account`'s file with it.
pub(super) fn replace(account: &Account, token: &mut TokenFile) -> Result<()> {
    let ciphertext = seal(account, token)?;
    let real_path = account.real_path()?;
    private_files::write_atomic(&real_path, &ciphertext)
        .map_err(|e| Error::io(format!("cannot write {}: {e}", account.path.display())))?;
    remembered::forget(&real_path);
    Ok(())
}

/// Takes the room for a refresh's result: a temporary file of twice the present file's size (a
/// longer token, a rotated refresh token), allocated and fsynced beside it, after refusing an
/// encryption that cannot write whatever the answer.
pub(super) fn reserve(account: &Account, token: &TokenFile, file_size: u64) -> Result<Room> {
    let crypto = &account.crypto;
    crypto.check_can_write(&crypto.effective_spec(&token.encryption))?;
    let real_path = account.real_path()?;
    let room = usize::try_from(file_size).unwrap_or(usize::MAX).max(2048) * 2 + 4096;
    let reserved = private_files::reserve(&real_path, room).map_err(|e| {
        Error::io(format!(
            "cannot write beside {}: {e}",
            account.path.display()
        ))
        .hint(
            "free disk space or make the directory writable; the refresh token was not used, so \
             the login is intact",
        )
    })?;
    Ok(Room {
        reserved,
        real_path,
        kept_for: KeptFor::login_of(token),
    })
}

/// Encrypts `token`, reads it back, and puts it in place from the room taken for it. On failure
/// the room is still there for the recovery copy.
pub(super) fn install(account: &Account, token: &mut TokenFile, room: &mut Room) -> Result<()> {
    let ciphertext = seal(account, token)?;
    room.reserved
        .install(&ciphertext, &room.real_path)
        .map_err(|e| Error::io(format!("cannot write {}: {e}", account.path.display())))?;
    remembered::forget(&room.real_path);
    Ok(())
}

/// The token as the file will hold it: encrypted with the effective encryption, checked.
fn seal(account: &Account, token: &mut TokenFile) -> Result<Vec<u8>> {
    token.encryption = account.crypto.effective_spec(&token.encryption);
    let plaintext = Zeroizing::new(token.to_json());
    round_trip(account, &token.encryption, &plaintext)
}

/// Encrypts `plaintext` and decrypts the result as a later call would; returns the ciphertext
/// only when it reads back to the same bytes.
pub(super) fn round_trip(
    account: &Account,
    spec: &EncryptionSpec,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let crypto = &account.crypto;
    let ciphertext = crypto.encrypt(spec, plaintext)?;
    let hint = match spec {
        EncryptionSpec::Pipe { .. } if crypto.options().decryption_pipe.is_none() => {
            "give --decryption-pipe COMMAND as well: the new file is read back with it before it \
             replaces anything"
        }
        _ => {
            "check that the identity (--age-identity), gpg's secret key or the --decryption-pipe \
             can open what the encryption writes"
        }
    };
    let unreadable = |why: String| {
        Error::config(format!(
            "the new token file would not be readable, so {} is left as it was: {why}",
            account.path.display()
        ))
        .hint(hint)
    };
    let (read_back, _) = crypto
        .decrypt(&account.path, &ciphertext)
        .map_err(|e| unreadable(e.message().to_string()))?;
    if read_back[..] != plaintext[..] {
        return Err(unreadable("it decrypts to something else".into()));
    }
    Ok(ciphertext)
}
