//! Tokens the provider issued that could not be written to the token file.
//!
//! A refresh is only sent once the write has been proven possible and its room taken
//! (`Account::prove_save`), but an encryption pipe can still fail, or a write fail, between the
//! proof and the write. By then the provider may have rotated the refresh token and will revoke
//! the whole login if the old one is sent again, so the new token set must not be lost: it is
//! kept encrypted with age to the default identity (which needs no prompt and no subprocess) in
//! `TOKENFILE.recovery`, beside the real token file, written into the room the refresh had taken,
//! so keeping it needs no space the disk may have lost meanwhile. The next refresh, `--revoke`
//! or sign-in that reads the file adopts it, whatever name or environment it is called with: it
//! is found from the real path, like the lock. Only when even that fails is it kept under
//! `$XDG_STATE_HOME/mailtoken/recovery/` (where versions before 0.3 kept it, still read).

use std::path::{Path, PathBuf};

use super::account::Account;
use super::contents::TokenFile;
use crate::base::error::{Error, Result};
use crate::base::paths;
use crate::base::private_files::{self, Reserved};
use crate::store::encryption::{self, Crypto, EncryptionOptions, EncryptionSpec};

/// The recovery copy beside the token file whose real path is `real_path`.
pub(crate) fn path_beside(real_path: &Path) -> PathBuf {
    let mut name = real_path.as_os_str().to_owned();
    name.push(".recovery");
    PathBuf::from(name)
}

/// Where the kept tokens of the token file at `token_path` go when nothing can be written beside
/// it: its name and a hash of its full path, so two accounts of the same name in different
/// directories never share one.
pub(crate) fn path_in_state_dir(token_path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(token_path)
        .map_err(|e| Error::io(format!("cannot resolve {}: {e}", token_path.display())))?;
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "account".into());
    let hash = fnv1a(absolute.as_os_str().as_encoded_bytes());
    Ok(paths::state_home()?
        .join("mailtoken/recovery")
        .join(format!("{name}.{hash:016x}")))
}

/// FNV-1a: stable across runs and versions, unlike std's hasher, so a later mailtoken finds the
/// file an earlier one kept.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Keeps `token` for the token file at `real_path`: in the room `reserved` holds when there is
/// one, else written beside the file, else in the state directory. Returns where.
pub(crate) fn keep(
    real_path: &Path,
    token: &TokenFile,
    reserved: Option<&mut Reserved>,
) -> Result<PathBuf> {
    let identity = encryption::ensure_default_identity()?;
    let spec = EncryptionSpec::Age {
        recipients: encryption::age_recipients_of(&identity)?,
    };
    let ciphertext = Crypto::new(EncryptionOptions::default()).encrypt(&spec, &token.to_json())?;
    let beside = path_beside(real_path);
    if let Some(reserved) = reserved
        && reserved.install(&ciphertext, &beside).is_ok()
    {
        return Ok(beside);
    }
    if private_files::write_atomic(&beside, &ciphertext).is_ok() {
        return Ok(beside);
    }
    let elsewhere = path_in_state_dir(real_path)?;
    private_files::write_atomic(&elsewhere, &ciphertext)
        .map_err(|e| Error::io(format!("cannot write {}: {e}", elsewhere.display())))?;
    Ok(elsewhere)
}

/// The tokens kept for `account`, if there are any that can be read: beside its real file, or
/// in the state directory under the name it was given or its real name.
pub(crate) fn take(account: &Account) -> Option<(TokenFile, PathBuf)> {
    let real_path = account.real_path().ok()?;
    let mut candidates = vec![path_beside(&real_path)];
    candidates.extend(path_in_state_dir(&real_path).ok());
    candidates.extend(path_in_state_dir(account.path()).ok());
    candidates.into_iter().find_map(|path| read(&path))
}

fn read(path: &Path) -> Option<(TokenFile, PathBuf)> {
    let bytes = private_files::read_private(path).ok()?;
    let crypto = Crypto::new(EncryptionOptions::default());
    let (plaintext, read_with) = crypto.decrypt(path, &bytes).ok()?;
    let (token, _) =
        TokenFile::parse(&plaintext, || crypto.spec_for_unrecorded(&read_with)).ok()?;
    Some((token, path.to_path_buf()))
}

/// Whether a kept set is newer than the file's: it holds the refresh token the provider issued
/// last. A set without times is taken as newer: keeping it was the point.
pub(crate) fn is_newer(kept: &TokenFile, stored: &TokenFile) -> bool {
    match (kept.access_token_obtained, stored.access_token_obtained) {
        (Some(kept), Some(stored)) => kept > stored,
        _ => true,
    }
}

/// Removes the kept tokens once the token file holds them.
pub(crate) fn discard(path: &Path) {
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fixed_for_a_path() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
