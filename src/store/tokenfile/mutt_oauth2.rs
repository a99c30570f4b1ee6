//! mutt_oauth2.py's token file, read so its users keep their logins: the first refresh rewrites
//! it in mailtoken's schema. Its times are naive local times from Python's `isoformat()`.

use chrono::{DateTime, Duration, Local, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;

use super::contents::{FORMAT_VERSION, Flow, TokenFile};
use crate::base::error::{Error, Result};
use crate::base::secret::Secret;
use crate::oauth::provider;
use crate::store::encryption::EncryptionSpec;

/// mutt_oauth2.py's token file, as its `json.dumps` writes it.
#[derive(Deserialize)]
pub(crate) struct MuttOauth2File {
    registration: String,
    #[serde(default)]
    authflow: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    access_token: Option<Secret>,
    /// A naive local time from Python's `datetime.isoformat()`.
    #[serde(default)]
    access_token_expiration: Option<String>,
    #[serde(default)]
    refresh_token: Option<Secret>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<Secret>,
}

/// Parses decrypted contents that carry no `version`, as mutt_oauth2.py writes them.
pub(crate) fn read(plaintext: &[u8]) -> Result<MuttOauth2File> {
    serde_json::from_slice(plaintext).map_err(|e| {
        Error::bad_token_file(format!(
            "token file is neither mailtoken's nor mutt_oauth2.py's format ({e})"
        ))
    })
}

impl MuttOauth2File {
    /// Converts to mailtoken's schema; `encryption` is what the file was read with, since
    /// mutt_oauth2.py does not record it.
    pub(crate) fn convert(self, encryption: EncryptionSpec) -> Result<TokenFile> {
        let old = self;
        let registration = provider::preset(&old.registration, None).ok_or_else(|| {
            Error::bad_token_file(format!(
                "mutt_oauth2.py token file names an unknown registration {:?}",
                crate::base::log::sanitize(&old.registration)
            ))
        })?;
        let flow = match old.authflow.as_deref() {
            Some("authcode") | None => Flow::Authcode,
            Some("localhostauthcode") => Flow::Localhostauthcode,
            Some("devicecode") => Flow::Devicecode,
            Some(other) => {
                return Err(Error::bad_token_file(format!(
                    "mutt_oauth2.py token file has an unknown authflow {:?}",
                    crate::base::log::sanitize(other)
                )));
            }
        };
        let expiry = match old.access_token_expiration.as_deref() {
            Some(text) if !text.is_empty() => parse_python_local_time(text)?,
            _ => DateTime::<Utc>::UNIX_EPOCH,
        };
        Ok(TokenFile {
            version: FORMAT_VERSION,
            registration,
            flow,
            email: old.email.unwrap_or_default(),
            client_id: old.client_id.unwrap_or_default(),
            client_secret: old.client_secret.filter(|secret| !secret.is_empty()),
            access_token: old.access_token.unwrap_or_default(),
            access_token_expiry: expiry,
            access_token_obtained: None,
            refresh_token: old.refresh_token.filter(|token| !token.is_empty()),
            granted_scope: None,
            encryption,
            min_valid_minutes: None,
            credential: None,
            login_started: None,
            login_ends_stated: None,
            signed_in: None,
            mailbox: None,
            dynamic_client: None,
            min_valid_this_call: None,
            unknown: None,
        })
    }
}

/// Python's `datetime.isoformat()` of a naive local time: `2026-11-22T06:36:44.822953`, or without
/// the fraction when it is zero. Read in the machine's time zone, as mutt_oauth2.py wrote it.
fn parse_python_local_time(text: &str) -> Result<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map_err(|e| {
        Error::bad_token_file(format!(
            "unreadable access_token_expiration {:?} ({e})",
            crate::base::log::sanitize(text)
        ))
    })?;
    local_to_utc(&Local, &naive).ok_or_else(|| {
        Error::bad_token_file(format!(
            "access_token_expiration {text:?} is not a local time"
        ))
    })
}

/// A naive time read in `zone`. In a DST gap or overlap, the earlier reading refreshes sooner,
/// which is the safe side. `None` when the time does not exist there, even an hour later: near
/// the end of chrono's range (year 262143) a zone west of UTC has no such time.
fn local_to_utc<Tz: TimeZone>(zone: &Tz, naive: &NaiveDateTime) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(naive)
        .earliest()
        .or_else(|| {
            let later = naive.checked_add_signed(Duration::hours(1))?;
            zone.from_local_datetime(&later).earliest()
        })
        .map(|local| local.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tokenfile::Schema;

    #[test]
    fn reads_mutt_oauth2_files() {
        let json = br#"{"registration": "microsoft", "authflow": "devicecode", "email": "a@b.c", "access_token": "AT", "access_token_expiration": "2026-11-22T06:36:44.822953", "refresh_token": "RT", "client_id": "cid", "client_secret": ""}"#;
        let (t, schema) =
            crate::store::tokenfile::parse(json, || Ok(EncryptionSpec::Gpg { recipient: None }))
                .unwrap();
        assert_eq!(schema, Schema::MuttOauth2);
        assert_eq!(t.registration.provider, "microsoft");
        assert_eq!(t.flow, Flow::Devicecode);
        assert_eq!(t.client_secret, None);
        let expected = Local
            .from_local_datetime(
                &NaiveDateTime::parse_from_str(
                    "2026-11-22T06:36:44.822953",
                    "%Y-%m-%dT%H:%M:%S%.f",
                )
                .unwrap(),
            )
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(t.access_token_expiry, expected);
    }

    #[test]
    fn reads_mutt_oauth2_files_without_client_fields_or_fraction() {
        let json = br#"{"registration": "google", "authflow": "authcode", "email": "a@b.c", "access_token": "", "access_token_expiration": "2026-11-22T06:36:44", "refresh_token": ""}"#;
        let (t, _) =
            crate::store::tokenfile::parse(json, || Ok(EncryptionSpec::Gpg { recipient: None }))
                .unwrap();
        assert_eq!(t.client_id, "");
        assert_eq!(t.refresh_token, None);
        assert!(t.is_expired(Utc::now()));
    }

    // Found running the tokenfile fuzz target in TZ=America/New_York on a hand-made input (the
    // campaign ran in UTC, where it cannot happen): a mutt_oauth2.py expiration in the last hours
    // chrono can represent has no UTC time west of Greenwich, and adding the DST hour to it
    // overflowed (a panic) instead of failing the parse.
    #[test]
    fn the_end_of_time_is_an_error_not_a_panic() {
        let naive = NaiveDateTime::parse_from_str("+262142-12-31T23:59:59", "%Y-%m-%dT%H:%M:%S%.f")
            .unwrap();
        let new_york = chrono::FixedOffset::west_opt(5 * 3600).unwrap();
        assert_eq!(local_to_utc(&new_york, &naive), None);
        let tokyo = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
        assert!(local_to_utc(&tokyo, &naive).is_some());
    }
}
