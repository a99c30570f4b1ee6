//! Tokens the provider issued that could not be written to the token file.
//!
//! A refresh is only sent once the write has been proven possible (`Account::prove_save`), but
//! the disk can still fill up or a pipe fail between the proof and the write. By then the
//! provider may have rotated the refresh token and will revoke the whole login if the old one is
//! sent again, so the new token set must not be lost: it is kept here, encrypted with age to the
//! default identity (which needs no prompt and no subprocess), under
//! `$XDG_STATE_HOME/mailtoken/recovery/`, and the next refresh that can write adopts it.

use std::path::{Path, PathBuf};

use crate::encryption::{self, Crypto, EncryptionOptions, EncryptionSpec};
use crate::error::{Error, Result};
use crate::paths;
use crate::private_files;
use crate::tokenfile::TokenFile;

/// Where the kept tokens of the token file at `token_path` go: its name and a hash of its full
/// path, so two accounts of the same name in different directories never share one.
pub fn path_for(token_path: &Path) -> Result<PathBuf> {
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

/// Keeps `token` for the token file at `token_path`; returns where.
pub fn keep(token_path: &Path, token: &TokenFile) -> Result<PathBuf> {
    let path = path_for(token_path)?;
    let identity = encryption::ensure_default_identity()?;
    let spec = EncryptionSpec::Age {
        recipients: encryption::age_recipients_of(&identity)?,
    };
    let ciphertext = Crypto::new(EncryptionOptions::default()).encrypt(&spec, &token.to_json())?;
    private_files::write_atomic(&path, &ciphertext)
        .map_err(|e| Error::io(format!("cannot write {}: {e}", path.display())))?;
    Ok(path)
}

/// The tokens kept for `token_path`, if there are any that can be read.
pub fn take(token_path: &Path) -> Option<(TokenFile, PathBuf)> {
    let path = path_for(token_path).ok()?;
    let bytes = private_files::read_private(&path).ok()?;
    let crypto = Crypto::new(EncryptionOptions::default());
    let (plaintext, read_with) = crypto.decrypt(&path, &bytes).ok()?;
    let (token, _) =
        TokenFile::parse(&plaintext, || crypto.spec_for_unrecorded(&read_with)).ok()?;
    Some((token, path))
}

/// Removes the kept tokens once the token file holds them.
pub fn discard(path: &Path) {
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
