//! What a token file holds: the versioned JSON schema inside the encryption, how long its token
//! lives, and how a grant's answer is recorded in it.
//!
//! The schema is documented in docs/token-file.md; bump `FORMAT_VERSION` and keep a
//! reader for the old version whenever a field changes meaning.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::base::secret::Secret;
use crate::oauth::grant::Granted;
use crate::oauth::provider::Registration;
use crate::store::encryption::EncryptionSpec;

/// The schema version written by this program.
pub const FORMAT_VERSION: u32 = 1;

// Token lifetimes and the refresh margin: every rule about how long a token lives is here.

/// Life assumed for an access token when nothing says otherwise: a token response without
/// `expires_in` (RFC 6749 section 5.1 lets the provider document it elsewhere), or a
/// mutt_oauth2.py file that does not record when its token was issued. An hour is what every
/// mail provider uses.
pub(crate) const TYPICAL_LIFETIME: Duration = Duration::hours(1);

/// An absurd `expires_in` is capped rather than trusted (or allowed to overflow date arithmetic).
pub(crate) const MAX_LIFETIME: Duration = Duration::days(366);

/// The same for a refresh token's stated lifetime.
pub(crate) const MAX_LOGIN_LIFETIME: Duration = Duration::days(3660);

/// The most life a cached token must still have to be printed without a refresh. Half the
/// lifetime wins when that is smaller, since some providers issue 10-minute tokens.
pub(crate) const MAX_REFRESH_MARGIN: Duration = Duration::minutes(5);

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

/// Who the account's login belongs to, as the provider said when it was made: an address from
/// the ID token, from a JWT access token or from the UserInfo endpoint (`authorize::identity`).
/// Never a secret; shown by `--status`, `--list` and `--json`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SignedIn {
    /// The address the provider named.
    pub user: String,
    /// When the sign-in was made.
    pub since: DateTime<Utc>,
    /// Where it was read: `id_token`, `access_token` or `userinfo`.
    pub from: String,
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
    /// `--min-valid` recorded by a sign-in: a token with fewer minutes of life left is refreshed
    /// before it is used (Microsoft's high-volume SMTP refuses one with less than 10 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_valid_minutes: Option<u32>,
    /// The key an account without a user signs with (`--service-account`,
    /// `--client-certificate`), kept here so no refresh needs the key file again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<crate::oauth::signing::Credential>,
    /// When the login began: the last sign-in (consent), from which Google's Testing apps count
    /// their 7 days. Absent in files written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_started: Option<DateTime<Utc>>,
    /// When the provider said the refresh token ends, the last time it said
    /// (`refresh_token_expires_in`), counted from that answer's request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_ends_stated: Option<DateTime<Utc>>,
    /// Who signed in, when the provider said (`--status` shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<SignedIn>,
    /// `--mailbox`: a shared or delegated mailbox the signed-in user may open, which is then the
    /// SASL user instead of `email` (Microsoft 365: "replace the userName field in the SASL
    /// XOAUTH2 encoded string with the email address of the shared mailbox").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox: Option<String>,
    /// The client registered for this account by dynamic registration (RFC 7591), with its
    /// registration access token, encrypted with the tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_client: Option<crate::oauth::dynamic_registration::DynamicClient>,
    /// `--min-valid` given for this one call, over the recorded value: never stored.
    #[serde(skip)]
    pub min_valid_this_call: Option<u32>,
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

impl TokenFile {
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

    /// The SASL user mail servers are given: the shared mailbox when there is one, else the
    /// account's address. Every surface names it through here: `--format sasl`, `--test` and
    /// the user of every client configuration `--print-config` writes.
    pub fn sasl_user(&self) -> &str {
        self.mailbox.as_deref().unwrap_or(&self.email)
    }

    /// True while the token has more than the refresh margin of life left at `now`.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        !self.access_token.is_empty() && now + self.refresh_margin() < self.access_token_expiry
    }

    /// True once the token no longer works at all.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.access_token.is_empty() || now >= self.access_token_expiry
    }

    /// Records the tokens a grant returned. A rotated refresh token replaces the old one; when
    /// none comes back the old one stays (RFC 6749 section 6). The expiry counts from
    /// `requested_at`, when the request was sent: the provider's clock started before the answer
    /// arrived.
    pub fn record(&mut self, granted: Granted, requested_at: DateTime<Utc>) {
        let lifetime = granted
            .expires_in
            .and_then(|d| Duration::from_std(d).ok())
            .unwrap_or(TYPICAL_LIFETIME)
            .min(MAX_LIFETIME);
        self.access_token = granted.access_token;
        self.access_token_obtained = Some(requested_at);
        self.access_token_expiry = requested_at + lifetime;
        if let Some(refresh_token) = granted.refresh_token {
            self.refresh_token = Some(refresh_token);
        }
        if let Some(scope) = granted.scope {
            self.granted_scope = Some(scope);
        }
        if let Some(life) = granted
            .refresh_token_lifetime
            .and_then(|d| Duration::from_std(d).ok())
        {
            self.login_ends_stated = Some(requested_at + life.min(MAX_LOGIN_LIFETIME));
        }
    }

    /// How much life a token must have left to be used without a refresh: the usual margin, or
    /// the minutes `--min-valid` asks for. Those are capped at nine tenths of the token's
    /// lifetime, so a provider whose tokens live shorter than asked still has each new token used
    /// rather than refreshed on every call.
    fn refresh_margin(&self) -> Duration {
        let lifetime = self
            .access_token_obtained
            .map(|obtained| self.access_token_expiry - obtained)
            .filter(|lifetime| *lifetime > Duration::zero())
            .unwrap_or(TYPICAL_LIFETIME);
        let margin = std::cmp::min(MAX_REFRESH_MARGIN, lifetime / 2);
        match self.min_valid_this_call.or(self.min_valid_minutes) {
            Some(minutes) => {
                let asked = Duration::minutes(i64::from(minutes));
                margin.max(asked.min(lifetime * 9 / 10))
            }
            None => margin,
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A token file for tests; `parse`'s tests read it back.
    pub(in crate::store::tokenfile) fn sample(
        expiry: DateTime<Utc>,
        obtained: Option<DateTime<Utc>>,
    ) -> TokenFile {
        TokenFile {
            version: FORMAT_VERSION,
            registration: crate::oauth::provider::preset("google", None).unwrap(),
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
            min_valid_minutes: None,
            credential: None,
            login_started: None,
            login_ends_stated: None,
            signed_in: None,
            mailbox: None,
            dynamic_client: None,
            min_valid_this_call: None,
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
    fn min_valid_widens_the_margin_and_the_call_beats_the_record() {
        let now = Utc::now();
        // An hour-long token with 8 minutes left: fresh by the usual margin.
        let mut t = sample(
            now + Duration::minutes(8),
            Some(now - Duration::minutes(52)),
        );
        assert!(t.is_fresh(now));
        t.min_valid_minutes = Some(10);
        assert!(!t.is_fresh(now));
        t.min_valid_this_call = Some(5);
        assert!(t.is_fresh(now));
        t.min_valid_this_call = Some(0);
        assert!(
            t.is_fresh(now),
            "0 asks for nothing beyond the usual margin"
        );
        // Never stored: the per-call value is not in the JSON.
        t.min_valid_this_call = Some(30);
        let json: serde_json::Value = serde_json::from_slice(&t.to_json()).unwrap();
        assert_eq!(json["min_valid_minutes"], 10);
        let members: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert!(!members.iter().any(|m| m.contains("call")), "{members:?}");
        assert!(
            !json.as_object().unwrap().values().any(|v| v == 30),
            "{json}"
        );
    }

    #[test]
    fn min_valid_beyond_the_lifetime_still_uses_each_new_token() {
        let now = Utc::now();
        // A 10-minute token just issued, and 15 minutes asked for: used, not refreshed again.
        let mut t = sample(now + Duration::minutes(10), Some(now));
        t.min_valid_minutes = Some(15);
        assert!(t.is_fresh(now));
        assert!(!t.is_fresh(now + Duration::seconds(61)));
    }
}
