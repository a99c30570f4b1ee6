//! A provider registration: every endpoint, scope and SASL mechanism of an account, as a token
//! file stores it, and how the client authenticates (`ClientAuth`).

use serde::{Deserialize, Serialize};

use super::cloud::Cloud;
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::mail::sasl::SaslMethod;

/// Google's one scope for IMAP, POP and SMTP: its device flow refuses it, and Gmail refuses a
/// token without it.
pub(crate) const GMAIL_SCOPE: &str = "https://mail.google.com/";

/// Everything needed to talk to one provider's authorization server and mail servers.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// Preset name (`google`, `microsoft`, `yahoo`, `aol`, `yandex`, `mailru`) or a name for a
    /// custom provider.
    pub provider: String,
    /// Microsoft's national cloud (`--cloud`), absent for the global service and other providers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<Cloud>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devicecode_endpoint: Option<String>,
    pub token_endpoint: String,
    /// Token revocation (RFC 7009), for `--revoke`; absent in files written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// OpenID Connect Discovery section 3: who signed in, asked with the access token when the
    /// token response does not say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    pub scope: String,
    /// Repeat `scope` in refresh requests (RFC 6749 section 6 allows it; Microsoft needs it).
    #[serde(default)]
    pub scope_on_refresh: bool,
    /// How a confidential client authenticates at the token endpoint (RFC 6749 section 2.3.1).
    #[serde(default)]
    pub client_auth: ClientAuth,
    pub sasl_method: SaslMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap_endpoint: Option<MailEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pop_endpoint: Option<MailEndpoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_endpoint: Option<MailEndpoint>,
}

/// Where the client id and secret go in token requests.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` as form fields (what mutt_oauth2.py sends).
    #[default]
    ClientSecretPost,
    /// HTTP Basic authentication.
    ClientSecretBasic,
}

impl Registration {
    /// The endpoint for one protocol, if the account has one.
    pub fn endpoint(&self, protocol: Protocol) -> Option<&MailEndpoint> {
        match protocol {
            Protocol::Imap => self.imap_endpoint.as_ref(),
            Protocol::Pop => self.pop_endpoint.as_ref(),
            Protocol::Smtp => self.smtp_endpoint.as_ref(),
        }
    }

    /// Where the user removes this app's access when the provider has no revocation endpoint.
    pub fn access_settings(&self) -> Option<&'static str> {
        match self.provider.as_str() {
            "microsoft" => Some(
                "https://account.live.com/consent/Manage (personal accounts) or \
                 https://myapps.microsoft.com (work and school accounts)",
            ),
            "google" => Some("https://myaccount.google.com/permissions"),
            _ => None,
        }
    }

    /// The token endpoint's host, for messages such as "refresh token rejected by HOST".
    pub fn token_host(&self) -> &str {
        url_authority(&self.token_endpoint)
    }
}

/// The `host[:port]` of a URL, for messages naming who answered.
pub(crate) fn url_authority(url: &str) -> &str {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    without_scheme
        .split(['/', '?'])
        .next()
        .unwrap_or(without_scheme)
}
