//! The token file's contents: the versioned JSON schema inside the encryption, and the reader for
//! mutt_oauth2.py's older schema so its files keep working.
//!
//! The schema is documented in docs/token-file.md; bump `FORMAT_VERSION` and keep a
//! reader for the old version whenever a field changes meaning.

use chrono::{DateTime, Duration, Local, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::encryption::EncryptionSpec;
use crate::error::{Error, Result};
use crate::mailserver::MailEndpoint;
use crate::provider::{self, Registration};
use crate::sasl::SaslMethod;
use crate::secret::Secret;

/// The schema version written by this program.
pub const FORMAT_VERSION: u32 = 1;

/// Life assumed for a token whose issue time is unknown (mutt_oauth2.py files), for the margin.
const ASSUMED_LIFETIME: Duration = Duration::hours(1);

/// The most life a cached token must still have to be printed without a refresh. Half the
/// lifetime wins when that is smaller, since some providers issue 10-minute tokens.
const MAX_REFRESH_MARGIN: Duration = Duration::minutes(5);

/// How the account signs in; recorded so a new sign-in and `--check` know without flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Open a URL, paste back the code or the whole redirected URL.
    Authcode,
    /// Open a browser; a loopback listener receives the code (RFC 8252).
    Localhostauthcode,
    /// Enter a short code on another device (RFC 8628).
    Devicecode,
    /// No user: a confidential client gets tokens directly (RFC 6749 section 4.4).
    Clientcredentials,
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::Authcode => "authcode",
            Flow::Localhostauthcode => "localhostauthcode",
            Flow::Devicecode => "devicecode",
            Flow::Clientcredentials => "clientcredentials",
        }
    }
}

/// One account: registration, client, tokens, and how the file is encrypted.
#[derive(Serialize, Deserialize, Clone, Debug)]
pub struct TokenFile {
    pub version: u32,
    pub registration: Registration,
    pub flow: Flow,
    pub email: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    pub access_token: Secret,
    /// When the access token stops working, as an absolute UTC time.
    pub access_token_expiry: DateTime<Utc>,
    /// When the access token was obtained: the last refresh or sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_obtained: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// The scope the provider says it granted, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granted_scope: Option<String>,
    pub encryption: EncryptionSpec,
    /// Members this version does not know (written by a newer mailtoken, or by hand), kept so a
    /// rewrite does not drop them. Filled only when a file is read to be rewritten.
    #[serde(skip)]
    pub unknown: Option<serde_json::Value>,
}

/// The members of `original` missing from `known`, at any depth; `None` when there are none.
fn unknown_members(
    original: &serde_json::Value,
    known: &serde_json::Value,
) -> Option<serde_json::Value> {
    let (serde_json::Value::Object(original), serde_json::Value::Object(known)) = (original, known)
    else {
        return None;
    };
    let mut unknown = serde_json::Map::new();
    for (key, value) in original {
        match known.get(key) {
            None => {
                unknown.insert(key.clone(), value.clone());
            }
            Some(known_value) => {
                if let Some(inner) = unknown_members(value, known_value) {
                    unknown.insert(key.clone(), inner);
                }
            }
        }
    }
    (!unknown.is_empty()).then_some(serde_json::Value::Object(unknown))
}

/// Puts `unknown` members back into `value` where they are missing.
fn put_back(value: &mut serde_json::Value, unknown: &serde_json::Value) {
    let (serde_json::Value::Object(members), serde_json::Value::Object(unknown)) = (value, unknown)
    else {
        return;
    };
    for (key, extra) in unknown {
        match members.get_mut(key) {
            None => {
                members.insert(key.clone(), extra.clone());
            }
            Some(existing) => put_back(existing, extra),
        }
    }
}

/// Values given on the command line that replace those the file stores. The client values and
/// the token endpoint apply to every run and are stored with the next write, so a wrong client id
/// is corrected without signing in again; the registration values are recorded by a sign-in, and
/// the SASL method and mail servers also apply to what one run prints or tests.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub email: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub provider: Option<String>,
    pub tenant: Option<String>,
    pub issuer: Option<String>,
    pub authorize_endpoint: Option<String>,
    /// `--token-endpoint`: also how a mutt_oauth2.py file, which records only a provider name, is
    /// pointed at another endpoint.
    pub token_endpoint: Option<String>,
    pub devicecode_endpoint: Option<String>,
    pub scope: Option<String>,
    pub redirect_uri: Option<String>,
    pub sasl_method: Option<SaslMethod>,
    pub imap_endpoint: Option<MailEndpoint>,
    pub pop_endpoint: Option<MailEndpoint>,
    pub smtp_endpoint: Option<MailEndpoint>,
}

impl Overrides {
    /// The client values and the token endpoint, over a stored token set.
    pub fn apply_to_client(&self, token: &mut TokenFile) {
        if let Some(email) = &self.email {
            token.email = email.clone();
        }
        if let Some(id) = &self.client_id {
            token.client_id = id.clone();
        }
        if let Some(secret) = &self.client_secret {
            token.client_secret = Some(secret.clone()).filter(|s| !s.is_empty());
        }
        if let Some(endpoint) = &self.token_endpoint {
            token.registration.token_endpoint = endpoint.clone();
        }
    }

    /// Every registration value given, over `registration` (the provider, tenant and issuer
    /// choose the registration itself: see `authorize::registration`).
    pub fn apply_to_registration(&self, registration: &mut Registration) {
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(value) = value {
                *field = Some(value.clone());
            }
        };
        set(
            &mut registration.authorize_endpoint,
            &self.authorize_endpoint,
        );
        set(
            &mut registration.devicecode_endpoint,
            &self.devicecode_endpoint,
        );
        set(&mut registration.redirect_uri, &self.redirect_uri);
        if let Some(token_endpoint) = &self.token_endpoint {
            registration.token_endpoint = token_endpoint.clone();
        }
        if let Some(scope) = &self.scope {
            registration.scope = scope.clone();
        }
        if let Some(method) = self.sasl_method {
            registration.sasl_method = method;
        }
        for (field, value) in [
            (&mut registration.imap_endpoint, &self.imap_endpoint),
            (&mut registration.pop_endpoint, &self.pop_endpoint),
            (&mut registration.smtp_endpoint, &self.smtp_endpoint),
        ] {
            if let Some(endpoint) = value {
                *field = Some(endpoint.clone());
            }
        }
    }

    /// The registration this run uses for its SASL strings and mail logins: the stored one with
    /// the flags on top. Nothing is stored.
    pub fn registration_for_this_run(&self, stored: &Registration) -> Registration {
        let mut registration = stored.clone();
        self.apply_to_registration(&mut registration);
        registration
    }
}

/// Which schema a file was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    Mailtoken,
    /// mutt_oauth2.py's; rewritten in mailtoken's schema after the first refresh.
    MuttOauth2,
}

/// mutt_oauth2.py's token file, as its `json.dumps` writes it.
#[derive(Deserialize)]
struct MuttOauth2File {
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
                let old: MuttOauth2File = serde_json::from_slice(plaintext).map_err(|e| {
                    Error::bad_token_file(format!("token file is neither mailtoken's nor mutt_oauth2.py's format ({e})"))
                })?;
                Ok((from_mutt_oauth2(old, unrecorded_encryption()?)?, Schema::MuttOauth2))
            }
        }
    }

    /// The JSON written inside the encryption, with the members this version does not know put
    /// back where they were.
    pub fn to_json(&self) -> Vec<u8> {
        let mut value = serde_json::to_value(self).expect("a token file always serializes");
        if let Some(unknown) = &self.unknown {
            put_back(&mut value, unknown);
        }
        serde_json::to_vec_pretty(&value).expect("a token file always serializes")
    }

    /// Records which members of `plaintext` (the file this token was parsed from) this version
    /// does not know, so `to_json` keeps them.
    pub fn remember_unknown(&mut self, plaintext: &[u8]) {
        let Ok(original) = serde_json::from_slice::<serde_json::Value>(plaintext) else {
            return;
        };
        let known = serde_json::to_value(&*self).unwrap_or_default();
        self.unknown = unknown_members(&original, &known);
    }

    /// True while the token has more than the refresh margin of life left at `now`.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        !self.access_token.is_empty() && now + self.refresh_margin() < self.access_token_expiry
    }

    /// True once the token no longer works at all.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.access_token.is_empty() || now >= self.access_token_expiry
    }

    fn refresh_margin(&self) -> Duration {
        let lifetime = self
            .access_token_obtained
            .map(|obtained| self.access_token_expiry - obtained)
            .filter(|lifetime| *lifetime > Duration::zero())
            .unwrap_or(ASSUMED_LIFETIME);
        std::cmp::min(MAX_REFRESH_MARGIN, lifetime / 2)
    }
}

fn from_mutt_oauth2(old: MuttOauth2File, encryption: EncryptionSpec) -> Result<TokenFile> {
    let registration = provider::preset(&old.registration, None).ok_or_else(|| {
        Error::bad_token_file(format!(
            "mutt_oauth2.py token file names an unknown registration {:?}",
            crate::log::sanitize(&old.registration)
        ))
    })?;
    let flow = match old.authflow.as_deref() {
        Some("authcode") | None => Flow::Authcode,
        Some("localhostauthcode") => Flow::Localhostauthcode,
        Some("devicecode") => Flow::Devicecode,
        Some(other) => {
            return Err(Error::bad_token_file(format!(
                "mutt_oauth2.py token file has an unknown authflow {:?}",
                crate::log::sanitize(other)
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
        unknown: None,
    })
}

/// Python's `datetime.isoformat()` of a naive local time: `2026-11-22T06:36:44.822953`, or without
/// the fraction when it is zero. Read in the machine's time zone, as mutt_oauth2.py wrote it.
fn parse_python_local_time(text: &str) -> Result<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map_err(|e| {
        Error::bad_token_file(format!(
            "unreadable access_token_expiration {:?} ({e})",
            crate::log::sanitize(text)
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

    fn sample(expiry: DateTime<Utc>, obtained: Option<DateTime<Utc>>) -> TokenFile {
        TokenFile {
            version: FORMAT_VERSION,
            registration: provider::preset("google", None).unwrap(),
            flow: Flow::Localhostauthcode,
            email: "u@example.com".into(),
            client_id: "id".into(),
            client_secret: None,
            access_token: Secret::new("at"),
            access_token_expiry: expiry,
            access_token_obtained: obtained,
            refresh_token: Some(Secret::new("rt")),
            granted_scope: None,
            encryption: EncryptionSpec::Gpg { recipient: None },
            unknown: None,
        }
    }

    #[test]
    fn margin_is_five_minutes_for_hour_long_tokens() {
        let now = Utc::now();
        let t = sample(
            now + Duration::minutes(6),
            Some(now - Duration::minutes(54)),
        );
        assert!(t.is_fresh(now));
        let t = sample(
            now + Duration::minutes(4),
            Some(now - Duration::minutes(56)),
        );
        assert!(!t.is_fresh(now));
        assert!(!t.is_expired(now));
    }

    #[test]
    fn margin_is_half_the_lifetime_for_short_tokens() {
        let now = Utc::now();
        // A 10-minute token with 4 minutes left is still fresh: the margin is 5 minutes.
        let t = sample(now + Duration::minutes(6), Some(now - Duration::minutes(4)));
        assert!(t.is_fresh(now));
        // A 60-second token with 20 seconds left is not: the margin is 30 seconds.
        let t = sample(
            now + Duration::seconds(20),
            Some(now - Duration::seconds(40)),
        );
        assert!(!t.is_fresh(now));
        let t = sample(
            now + Duration::seconds(40),
            Some(now - Duration::seconds(20)),
        );
        assert!(t.is_fresh(now));
    }

    #[test]
    fn round_trips_through_json() {
        let t = sample(Utc::now(), None);
        let (back, schema) =
            TokenFile::parse(&t.to_json(), || Ok(EncryptionSpec::AgePassphrase)).unwrap();
        assert_eq!(schema, Schema::Mailtoken);
        assert_eq!(back.encryption, EncryptionSpec::Gpg { recipient: None });
        assert_eq!(back.refresh_token, Some(Secret::new("rt")));
    }

    #[test]
    fn reads_mutt_oauth2_files() {
        let json = br#"{"registration": "microsoft", "authflow": "devicecode", "email": "a@b.c", "access_token": "AT", "access_token_expiration": "2026-11-22T06:36:44.822953", "refresh_token": "RT", "client_id": "cid", "client_secret": ""}"#;
        let (t, schema) =
            TokenFile::parse(json, || Ok(EncryptionSpec::Gpg { recipient: None })).unwrap();
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
            TokenFile::parse(json, || Ok(EncryptionSpec::Gpg { recipient: None })).unwrap();
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

    #[test]
    fn rejects_unknown_versions_and_garbage() {
        let spec = || EncryptionSpec::AgePassphrase;
        assert_eq!(
            TokenFile::parse(b"{\"version\": 9}", || Ok(spec()))
                .unwrap_err()
                .status(),
            crate::error::ExitStatus::BadTokenFile
        );
        assert!(TokenFile::parse(b"not json", || Ok(spec())).is_err());
        assert!(TokenFile::parse(b"{\"registration\": \"hotmail\"}", || Ok(spec())).is_err());
        assert!(TokenFile::parse(b"[]", || Ok(spec())).is_err());
    }
}
