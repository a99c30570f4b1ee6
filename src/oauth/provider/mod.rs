//! Provider registrations: every endpoint, scope and SASL mechanism of an account; the built-in
//! presets for the big providers are in `presets`, Microsoft's national clouds in `cloud`.
//!
//! A token file stores its whole `Registration`, so a file keeps working even if a preset here
//! changes, and a custom provider needs no configuration outside its token file.

use oauth2::url::{Host, Url};
use serde::{Deserialize, Serialize};

use crate::base::error::Error;
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::mail::sasl::SaslMethod;

mod cloud;
pub(crate) mod domains;
mod presets;

pub use cloud::Cloud;
pub(crate) use presets::{MICROSOFT_DEFAULT_TENANT, base, microsoft_native_client, preset_in};
pub use presets::{PRESET_NAMES, preset};

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

/// Whether a URL names this machine's loopback interface, the only place an `http:` redirect,
/// issuer or endpoint is acceptable (RFC 8252 sections 7.3 and 8.3, RFC 8414 section 2).
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(address)) => address.is_loopback(),
        Some(Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    }
}

/// Refuses an endpoint that would carry a code, token or secret in clear or to a third party:
/// RFC 6749 sections 3.1 and 3.2 require TLS, and only this machine's loopback may go without
/// (RFC 8252 section 8.3). A user name or password in the URL would be sent along, so it is
/// refused too. Checked before anything is sent.
pub(crate) fn check_endpoint(what: &str, url: &str) -> Result<(), Error> {
    let shown = crate::base::log::sanitize(url);
    let parsed = Url::parse(url)
        .map_err(|e| Error::config(format!("the {what} {shown:?} is not a URL ({e})")))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Shown without them: the password may be a secret.
        let mut bare = parsed.clone();
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        return Err(Error::config(format!(
            "the {what} {} carries a user name or password",
            crate::base::log::sanitize(bare.as_str())
        ))
        .hint("give the address without user@ (client credentials go in --client-id and --client-secret-file)"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_url(&parsed) => Ok(()),
        _ => Err(Error::config(format!(
            "the {what} {shown} is not https, and secrets must not travel unencrypted"
        ))
        .hint("use the provider's https:// address (http is only for this machine's loopback)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tls_or_loopback_endpoints_carry_secrets() {
        for good in [
            "https://login.example.com/token",
            "http://127.0.0.1:8080/token",
            "http://127.0.0.2/token",
            "http://[::1]:9/token",
            "http://localhost/token",
        ] {
            assert!(check_endpoint("token endpoint", good).is_ok(), "{good}");
        }
        for bad in [
            "http://login.example.com/token",
            "http://10.0.0.1/token",
            "ftp://login.example.com/token",
            "https://user:pass@login.example.com/token",
            "https://user@login.example.com/token",
            "not a url",
        ] {
            let error = check_endpoint("token endpoint", bad).unwrap_err();
            assert_eq!(
                error.status(),
                crate::base::error::ExitStatus::Config,
                "{bad}"
            );
        }
    }
}
