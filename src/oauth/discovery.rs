//! Endpoint discovery for `--issuer`: OAuth 2.0 Authorization Server Metadata (RFC 8414), then
//! OpenID Connect Discovery 1.0 for servers that publish only that.

use oauth2::url::Url;
use serde::Deserialize;

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::oauth::http::{Http, HttpError};

/// What the rest of the program uses from a metadata document.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    /// RFC 8628 section 4.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// RFC 8414 section 2 (RFC 7591 dynamic client registration).
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    /// RFC 8414 section 2 (RFC 7009 revocation).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// OpenID Connect Discovery section 3.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// RFC 8414 section 2: when absent, the default is `client_secret_basic`.
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 8414 section 2 (RECOMMENDED): the scopes the server supports; where a custom
    /// provider is given no `--scope`, the default is chosen from these.
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    /// RFC 9207 section 3: the server always sends `iss` in authorization responses.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// The two documents to try, in order. RFC 8414 section 3.1 inserts the well-known segment
/// between the host and the issuer's path; OpenID Connect Discovery section 4 appends it.
pub fn metadata_urls(issuer: &str) -> Result<[String; 2]> {
    let url = Url::parse(issuer)
        .map_err(|e| Error::usage(format!("--issuer {issuer:?} is not a URL ({e})")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::usage(format!(
            "--issuer {issuer:?} must not have a query or fragment (RFC 8414 section 2)"
        )));
    }
    crate::oauth::provider::check_endpoint("issuer", issuer)?;
    let path = url.path().trim_end_matches('/');
    let mut origin = url.clone();
    origin.set_path("");
    let origin = origin.as_str().trim_end_matches('/').to_string();
    Ok([
        format!("{origin}/.well-known/oauth-authorization-server{path}"),
        format!("{origin}{path}/.well-known/openid-configuration"),
    ])
}

/// Fetches the metadata of `issuer`, checking that it is really that issuer's (RFC 8414 section
/// 3.3: otherwise an attacker's document could redirect the token requests).
pub(crate) fn discover(http: &Http, issuer: &str) -> Result<Metadata> {
    let urls = metadata_urls(issuer)?;
    let mut failures = Vec::new();
    let mut transient = false;
    for url in &urls {
        log::verbose(format!("fetching authorization server metadata from {url}"));
        match http.get_json(url) {
            Ok(json) => {
                let metadata: Metadata = serde_json::from_value(json).map_err(|e| {
                    Error::config(format!("the metadata at {url} is unusable ({e})"))
                })?;
                if !same_issuer(&metadata.issuer, issuer) {
                    return Err(Error::config(format!(
                        "the metadata at {url} is for issuer {:?}, not {issuer:?}",
                        log::sanitize(&metadata.issuer)
                    ))
                    .hint("pass --issuer exactly as the provider spells its issuer"));
                }
                return Ok(metadata);
            }
            Err(error) => {
                transient |= match &error {
                    HttpError::Timeout(_) | HttpError::Connect(_) => true,
                    HttpError::Answer(answer) => answer.is_transient_status(),
                    _ => false,
                };
                failures.push((url, error.to_string()));
            }
        }
    }
    // Both documents live on one server: a network failure is the same for both, said once.
    let message = match failures.as_slice() {
        [(_, first), rest @ ..] if rest.iter().all(|(_, words)| words == first) => {
            format!("cannot discover the endpoints of {issuer}: {first}")
        }
        _ => format!(
            "cannot discover the endpoints of {issuer} ({})",
            failures
                .iter()
                .map(|(url, words)| format!("{url}: {words}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    };
    let hint = "check --issuer, or give --authorize-endpoint, --token-endpoint and \
                --devicecode-endpoint instead";
    Err(if transient {
        Error::temporary(message).hint(hint)
    } else {
        Error::config(message).hint(hint)
    })
}

/// Issuers are compared as strings (RFC 8414 section 3.3), forgiving only a trailing slash the
/// user may have typed.
pub fn same_issuer(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_urls_follow_both_specifications() {
        assert_eq!(
            metadata_urls("https://login.example.com").unwrap(),
            [
                "https://login.example.com/.well-known/oauth-authorization-server",
                "https://login.example.com/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            metadata_urls("https://example.com/tenant/v2.0/").unwrap(),
            [
                "https://example.com/.well-known/oauth-authorization-server/tenant/v2.0",
                "https://example.com/tenant/v2.0/.well-known/openid-configuration"
            ]
        );
        assert_eq!(
            metadata_urls("http://127.0.0.1:8080").unwrap()[0],
            "http://127.0.0.1:8080/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn insecure_or_odd_issuers_are_refused() {
        assert!(metadata_urls("http://example.com").is_err());
        assert!(metadata_urls("https://example.com/?a=b").is_err());
        assert!(metadata_urls("not a url").is_err());
    }

    #[test]
    fn issuer_comparison_forgives_only_a_trailing_slash() {
        assert!(same_issuer("https://a.example/", "https://a.example"));
        assert!(!same_issuer("https://a.example", "https://b.example"));
    }
}
