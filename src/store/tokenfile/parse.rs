//! Reading a decrypted token file in either schema: mailtoken's, told by its `version`, or
//! mutt_oauth2.py's, which has none and is converted (`mutt_oauth2`).

use serde::Deserialize;

use super::contents::{FORMAT_VERSION, TokenFile};
use super::mutt_oauth2;
use crate::base::error::{Error, Result};
use crate::store::encryption::EncryptionSpec;

/// Which schema a file was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    Mailtoken,
    /// mutt_oauth2.py's; rewritten in mailtoken's schema after the first refresh.
    MuttOauth2,
}

#[derive(Deserialize)]
struct VersionProbe {
    #[serde(default)]
    version: Option<u32>,
}

impl TokenFile {
    /// Parses decrypted contents in either schema. mutt_oauth2.py files do not record their
    /// encryption; `unrecorded_encryption` supplies it for them, and is not called otherwise.
    pub fn parse(
        plaintext: &[u8],
        unrecorded_encryption: impl FnOnce() -> Result<EncryptionSpec>,
    ) -> Result<(TokenFile, Schema)> {
        let corrupt = |e: serde_json::Error| {
            Error::bad_token_file(format!(
                "token file is not valid JSON after decryption ({e})"
            ))
        };
        let probe: VersionProbe = serde_json::from_slice(plaintext).map_err(corrupt)?;
        match probe.version {
            Some(FORMAT_VERSION) => {
                let file: TokenFile = serde_json::from_slice(plaintext).map_err(|e| {
                    Error::bad_token_file(format!("token file does not match schema version 1 ({e})"))
                })?;
                Ok((file, Schema::Mailtoken))
            }
            Some(other) => Err(Error::bad_token_file(format!(
                "token file has schema version {other}, newer than this mailtoken understands ({FORMAT_VERSION})"
            ))
            .hint("upgrade mailtoken")),
            None => {
                let old = mutt_oauth2::read(plaintext)?;
                Ok((old.convert(unrecorded_encryption()?)?, Schema::MuttOauth2))
            }
        }
    }
}
