//! Provider registrations: every endpoint, scope and SASL mechanism of an account
//! (`registration`); the built-in presets for the big providers are in `presets`, Microsoft's
//! national clouds in `cloud`, the domains that name a provider in `domains`. Here: which
//! endpoints may carry a secret.
//!
//! A token file stores its whole `Registration`, so a file keeps working even if a preset here
//! changes, and a custom provider needs no configuration outside its token file.

use oauth2::url::{Host, Url};

use crate::base::error::Error;

mod cloud;
pub(crate) mod domains;
mod presets;
mod registration;

pub use cloud::Cloud;
pub(crate) use presets::{
    MICROSOFT_DEFAULT_TENANT, base, microsoft_native_client, person_scope, preset_in,
};
pub use presets::{PRESET_NAMES, preset};
pub use registration::{ClientAuth, Registration};
pub(crate) use registration::{GMAIL_SCOPE, url_authority};

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
