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
    // A file of this version, the one every call but the first after an upgrade reads, in one
    // pass; the probe below (a second pass over the whole file) only for what is not.
    if let Ok(file) = serde_json::from_slice::<TokenFile>(plaintext)
        && file.version == FORMAT_VERSION
    {
        return Ok((file, Schema::Mailtoken));
    }
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

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::base::secret::Secret;

    #[test]
    fn round_trips_through_json() {
        let t = super::super::contents::tests::sample(Utc::now(), None);
        let (back, schema) = parse(&t.to_json(), || Ok(EncryptionSpec::AgePassphrase)).unwrap();
        assert_eq!(schema, Schema::Mailtoken);
        assert_eq!(back.encryption, EncryptionSpec::Gpg { recipient: None });
        assert_eq!(back.refresh_token, Some(Secret::new("rt")));
    }

    #[test]
    fn rejects_unknown_versions_and_garbage() {
        let spec = || EncryptionSpec::AgePassphrase;
        assert_eq!(
            parse(b"{\"version\": 9}", || Ok(spec()))
                .unwrap_err()
                .status(),
            crate::base::error::ExitStatus::BadTokenFile
        );
        assert!(parse(b"not json", || Ok(spec())).is_err());
        assert!(parse(b"{\"registration\": \"hotmail\"}", || Ok(spec())).is_err());
        assert!(parse(b"[]", || Ok(spec())).is_err());
    }
}
