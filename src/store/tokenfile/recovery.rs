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
//! `~/.local/state/mailtoken/recovery/`, a place that does not depend on `XDG_STATE_HOME` (cron
//! and a desktop session often set it differently); `$XDG_STATE_HOME/mailtoken/recovery/`, where
//! versions before 0.4 kept it, is still read.
//!
//! A kept set is adopted only by the login it was made for ([`KeptFor`]): the one whose refresh
//! token it replaces, at the same client and token endpoint. In a shared directory a set could
//! otherwise be swapped for another account's, and the account would go on as someone else.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::account::Account;
use super::contents::TokenFile;
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::paths;
use crate::base::private_files::{self, Reserved};
use crate::store::encryption::{self, Crypto, EncryptionOptions, EncryptionSpec};

/// The login a kept set belongs to: a digest of the refresh token the refresh spent (never the
/// token itself, though the file is encrypted), and the client and token endpoint it was sent
/// to. The file still holds that refresh token until the kept set is stored, so the account that
/// may adopt the set is the one whose file matches.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeptFor {
    replaces_refresh_token_sha256: String,
    client_id: String,
    token_endpoint: String,
}

impl KeptFor {
    /// The login held in `token`, about to be refreshed.
    pub(crate) fn login_of(token: &TokenFile) -> KeptFor {
        let refresh_token = token.refresh_token.as_ref().map_or("", |t| t.expose());
        let digest = ring::digest::digest(&ring::digest::SHA256, refresh_token.as_bytes());
        KeptFor {
            replaces_refresh_token_sha256: digest
                .as_ref()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            client_id: token.client_id.clone(),
            token_endpoint: token.registration.token_endpoint.clone(),
        }
    }
}

/// What a recovery file holds: the kept set and the login it is for.
#[derive(Serialize, Deserialize)]
struct Kept {
    kept_for: KeptFor,
    tokens: serde_json::Value,
}

/// The recovery copy beside the token file whose real path is `real_path`.
pub(crate) fn path_beside(real_path: &Path) -> PathBuf {
    let mut name = real_path.as_os_str().to_owned();
    name.push(".recovery");
    PathBuf::from(name)
}

/// Where the kept tokens of the token file at `token_path` go in the state directory `state`
/// (`~/.local/state`): its name and a hash of its full path, so two accounts of the same name in
/// different directories never share one.
fn path_in_state_dir(state: &Path, token_path: &Path) -> Result<PathBuf> {
    let absolute = std::path::absolute(token_path)
        .map_err(|e| Error::io(format!("cannot resolve {}: {e}", token_path.display())))?;
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "account".into());
    let hash = fnv1a(absolute.as_os_str().as_encoded_bytes());
    Ok(state
        .join("mailtoken/recovery")
        .join(format!("{name}.{hash:016x}")))
}

/// The state directory every call finds whatever its environment but `HOME`: the XDG default.
fn fixed_state_dir() -> Result<PathBuf> {
    Ok(paths::home()?.join(".local/state"))
}

/// FNV-1a: stable across runs and versions, unlike std's hasher, so a later mailtoken finds the
/// file an earlier one kept.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Keeps `token`, issued to the login `kept_for`, for the token file at `real_path`: in the room
/// `reserved` holds when there is one, else written beside the file, else in the state
/// directory. Returns where.
pub(crate) fn keep(
    real_path: &Path,
    token: &TokenFile,
    kept_for: &KeptFor,
    reserved: Option<&mut Reserved>,
) -> Result<PathBuf> {
    let identity = encryption::ensure_default_identity()?;
    let spec = EncryptionSpec::Age {
        recipients: encryption::age_recipients_of(&identity)?,
    };
    let tokens = serde_json::from_slice(&token.to_json())
        .map_err(|e| Error::io(format!("cannot keep the new tokens: {e}")))?;
    let kept = Kept {
        kept_for: kept_for.clone(),
        tokens,
    };
    let plaintext = zeroize::Zeroizing::new(
        serde_json::to_vec(&kept)
            .map_err(|e| Error::io(format!("cannot keep the new tokens: {e}")))?,
    );
    let ciphertext = Crypto::new(EncryptionOptions::default()).encrypt(&spec, &plaintext)?;
    let beside = path_beside(real_path);
    if let Some(reserved) = reserved
        && reserved.install(&ciphertext, &beside).is_ok()
    {
        return Ok(beside);
    }
    if private_files::write_atomic(&beside, &ciphertext).is_ok() {
        return Ok(beside);
    }
    let elsewhere = path_in_state_dir(&fixed_state_dir()?, real_path)?;
    private_files::write_atomic(&elsewhere, &ciphertext)
        .map_err(|e| Error::io(format!("cannot write {}: {e}", elsewhere.display())))?;
    Ok(elsewhere)
}

/// The tokens kept for `account`, whose file holds `current`, if there are any that can be read
/// and were kept for this login: beside its real file, or in a state directory (the fixed one,
/// and `$XDG_STATE_HOME`'s) under the name it was given or its real name. A set kept for another
/// login is left where it is, with a warning.
pub(crate) fn take(account: &Account, current: &TokenFile) -> Option<(TokenFile, PathBuf)> {
    let real_path = account.real_path().ok()?;
    let mut candidates = vec![path_beside(&real_path)];
    let mut states: Vec<PathBuf> = fixed_state_dir().into_iter().collect();
    states.extend(paths::state_home().ok());
    states.dedup();
    for state in &states {
        candidates.extend(path_in_state_dir(state, &real_path).ok());
        candidates.extend(path_in_state_dir(state, account.path()).ok());
    }
    candidates.dedup();
    let login = KeptFor::login_of(current);
    candidates.into_iter().find_map(|path| {
        let (kept_for, token) = read(&path)?;
        let ours = match &kept_for {
            Some(kept_for) => *kept_for == login,
            // Kept by a version before 0.4, which wrote no binding: the same client, endpoint
            // and address at least.
            None => {
                token.client_id == current.client_id
                    && token.registration.token_endpoint == current.registration.token_endpoint
                    && token.email == current.email
            }
        };
        if !ours {
            log::warn(format!(
                "ignored the tokens kept in {}: they were kept for another login than {}'s",
                path.display(),
                account.path().display()
            ));
            return None;
        }
        Some((token, path))
    })
}

/// A recovery file's login (none in files before 0.4) and tokens; `None` when it cannot be read.
fn read(path: &Path) -> Option<(Option<KeptFor>, TokenFile)> {
    let bytes = private_files::read_kept(path).ok()?;
    let crypto = Crypto::new(EncryptionOptions::default());
    let (plaintext, read_with) = crypto.decrypt(path, &bytes).ok()?;
    let (kept_for, tokens) = match serde_json::from_slice::<Kept>(&plaintext) {
        Ok(kept) => (
            Some(kept.kept_for),
            zeroize::Zeroizing::new(serde_json::to_vec(&kept.tokens).ok()?),
        ),
        Err(_) => (None, plaintext),
    };
    let (token, _) =
        super::parse::parse(&tokens, || crypto.spec_for_unrecorded(&read_with)).ok()?;
    Some((kept_for, token))
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
