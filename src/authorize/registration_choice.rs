//! Which registration a sign-in uses: the previous file's, a preset (with the Microsoft tenant),
//! or a custom one from `--issuer` discovery or explicit endpoints; then every flag on top.

use super::prompt::Prompter;
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::settings::Settings;
use crate::oauth::discovery::{self, Metadata};
use crate::oauth::http::Http;
use crate::oauth::provider::{self, ClientAuth, PRESET_NAMES, Registration};
use crate::store::tokenfile::{Overrides, TokenFile};

/// The registration and what discovery promised about it.
pub(crate) struct Resolved {
    pub registration: Registration,
    pub iss_required: bool,
    /// The issuer's dynamic client registration endpoint (RFC 7591), when its metadata has one.
    pub registration_endpoint: Option<crate::oauth::dynamic_registration::Endpoint>,
}

pub(crate) fn resolve(
    http: &Http,
    settings: &Settings,
    previous: Option<&TokenFile>,
    ask: &Prompter,
) -> Result<Resolved> {
    let flags = &settings.overrides;
    if let Some(tenant) = &flags.tenant {
        check_tenant(tenant)?;
    }
    let mut registration = match (&flags.provider, previous) {
        (Some(name), Some(previous)) if previous.registration.provider == *name => {
            previous.registration.clone()
        }
        (None, Some(previous)) => previous.registration.clone(),
        (Some(name), _) => base(name, flags)?,
        (None, None) if flags.issuer.is_some() || flags.token_endpoint.is_some() => {
            let name = flags
                .issuer
                .as_deref()
                .or(flags.token_endpoint.as_deref())
                .map(host_of)
                .unwrap_or("custom");
            provider::base(name)
        }
        (None, None) => {
            let name = ask.value(
                "provider",
                "--provider google|microsoft|yahoo|aol|yandex|mailru (or --issuer URL)",
                "Provider (google, microsoft, yahoo, aol, yandex, mailru)",
            )?;
            base(&name.to_ascii_lowercase(), flags)?
        }
    };

    if let Some(cloud) = settings.authorize.cloud {
        if registration.provider != "microsoft" {
            return Err(Error::usage("--cloud applies to --provider microsoft only"));
        }
        // Another cloud is another set of hosts, scopes and servers: the preset's, in that
        // cloud, with the account's tenant.
        if registration.cloud.unwrap_or_default() != cloud {
            let tenant = registration.tenant.clone();
            registration = provider::preset_in("microsoft", tenant.as_deref(), cloud)
                .expect("microsoft is a preset");
        }
    }
    if let Some(tenant) = &flags.tenant {
        if registration.provider != "microsoft" {
            return Err(Error::usage(
                "--tenant applies to --provider microsoft only",
            ));
        }
        retenant(&mut registration, tenant);
    }

    let mut iss_required = false;
    let mut scopes_supported = None;
    let mut registration_endpoint = None;
    if let Some(issuer) = &flags.issuer {
        let discovered = match discovery::discover(http, issuer) {
            Ok(metadata) => Some(metadata),
            // An issuer from a mail autoconfiguration that gave the endpoints too: its metadata
            // would only add a registration endpoint.
            Err(error) if settings.authorize.issuer_optional && flags.token_endpoint.is_some() => {
                log::verbose(format!(
                    "using the autoconfiguration's endpoints: {}",
                    error.message()
                ));
                None
            }
            Err(error) => return Err(error),
        };
        if let Some(mut metadata) = discovered {
            iss_required = metadata.authorization_response_iss_parameter_supported;
            registration_endpoint = metadata.registration_endpoint.take().map(|url| {
                crate::oauth::dynamic_registration::Endpoint::new(
                    url,
                    metadata.token_endpoint_auth_methods_supported.as_deref(),
                )
            });
            scopes_supported = metadata.scopes_supported.take();
            apply_metadata(&mut registration, metadata);
        }
    }
    flags.apply_to_registration(&mut registration);
    if registration.token_endpoint.is_empty() {
        return Err(Error::usage(format!(
            "provider {} has no token endpoint",
            crate::base::log::sanitize(&registration.provider)
        ))
        .hint("pass --issuer URL, or --token-endpoint URL"));
    }
    provider::check_endpoint("token endpoint", &registration.token_endpoint)?;
    for (what, endpoint) in [
        ("authorization endpoint", &registration.authorize_endpoint),
        (
            "device authorization endpoint",
            &registration.devicecode_endpoint,
        ),
    ] {
        if let Some(endpoint) = endpoint {
            provider::check_endpoint(what, endpoint)?;
        }
    }
    if registration.scope.trim().is_empty() {
        registration.scope = default_scope(&registration, scopes_supported.as_deref())?;
    }
    Ok(Resolved {
        registration,
        iss_required,
        registration_endpoint,
    })
}

/// The scope of a custom provider given no `--scope`: from what its metadata says it supports,
/// `openid` and `offline_access` (a refresh token, OpenID Connect Core section 11) and the scopes
/// whose names speak of mail, shown to the user. Without metadata to choose from, the sign-in is
/// refused before any browser opens: a request without a scope is answered `invalid_scope` or
/// `access_denied` by most servers, which reads as if the user had refused.
fn default_scope(registration: &Registration, supported: Option<&[String]>) -> Result<String> {
    let mail_like = |scope: &str| {
        let scope = scope.to_ascii_lowercase();
        ["mail", "imap", "smtp", "pop"]
            .iter()
            .any(|word| scope.contains(word))
    };
    let chosen: Vec<&str> = supported
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .filter(|scope| ["openid", "offline_access"].contains(scope) || mail_like(scope))
        .collect();
    if chosen.is_empty() {
        return Err(Error::usage(format!(
            "no scope to ask {} for: give the one its mail servers accept with --scope",
            log::sanitize(&registration.provider)
        ))
        .hint(match supported {
            Some(supported) if !supported.is_empty() => {
                format!("the provider lists {}", log::sanitize(&supported.join(" ")))
            }
            _ => "for example --scope 'openid offline_access' plus the provider's mail scope \
                  (its documentation names it)"
                .to_string(),
        }));
    }
    let scope = chosen.join(" ");
    log::say(format!(
        "mailtoken: no --scope given; asking for '{}', from the scopes {} lists (give --scope to \
         choose others)",
        log::sanitize(&scope),
        log::sanitize(
            registration
                .issuer
                .as_deref()
                .unwrap_or(&registration.provider)
        )
    ));
    Ok(scope)
}

/// A preset, or an empty custom registration when endpoints will come from flags.
fn base(name: &str, flags: &Overrides) -> Result<Registration> {
    if let Some(preset) = provider::preset(name, flags.tenant.as_deref()) {
        return Ok(preset);
    }
    if flags.issuer.is_none() && flags.token_endpoint.is_none() {
        return Err(Error::usage(format!(
            "unknown provider {:?}; the presets are {}",
            log::sanitize(name),
            PRESET_NAMES.join(", ")
        ))
        .hint("for another provider pass --issuer URL, or --token-endpoint URL and --authorize-endpoint URL"));
    }
    if name.is_empty() || name.chars().any(|c| c.is_control()) {
        return Err(Error::usage("--provider needs a name"));
    }
    Ok(provider::base(name))
}

/// Tenants are path segments of Microsoft's endpoints: a name or a GUID, nothing that could
/// change the URL's shape.
fn check_tenant(tenant: &str) -> Result<()> {
    let valid = !tenant.is_empty()
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(Error::usage(format!(
            "--tenant {:?} is not a tenant name or id",
            log::sanitize(tenant)
        ))
        .hint("use common, consumers, organizations, a tenant id or a domain such as contoso.onmicrosoft.com"))
    }
}

/// Puts `tenant` into a Microsoft registration's endpoint URLs in place of the old one.
fn retenant(registration: &mut Registration, tenant: &str) {
    let old = registration
        .tenant
        .clone()
        .unwrap_or_else(|| provider::MICROSOFT_DEFAULT_TENANT.to_string());
    let swap = |url: &mut String| {
        *url = url.replacen(&format!("/{old}/"), &format!("/{tenant}/"), 1);
    };
    swap(&mut registration.token_endpoint);
    if let Some(url) = registration.authorize_endpoint.as_mut() {
        swap(url);
    }
    if let Some(url) = registration.devicecode_endpoint.as_mut() {
        swap(url);
    }
    registration.tenant = Some(tenant.to_string());
}

fn apply_metadata(registration: &mut Registration, metadata: Metadata) {
    if let Some(methods) = &metadata.code_challenge_methods_supported
        && !methods.iter().any(|m| m == "S256")
    {
        log::warn(
            "the provider does not list PKCE S256 among its methods; mailtoken uses it anyway",
        );
    }
    // RFC 8414 section 2: an absent list means client_secret_basic, which every server supports
    // (RFC 6749 section 2.3.1); prefer it whenever listed.
    registration.client_auth = match &metadata.token_endpoint_auth_methods_supported {
        Some(methods)
            if !methods.iter().any(|m| m == "client_secret_basic")
                && methods.iter().any(|m| m == "client_secret_post") =>
        {
            ClientAuth::ClientSecretPost
        }
        _ => ClientAuth::ClientSecretBasic,
    };
    registration.issuer = Some(metadata.issuer);
    registration.token_endpoint = metadata.token_endpoint;
    if metadata.authorization_endpoint.is_some() {
        registration.authorize_endpoint = metadata.authorization_endpoint;
    }
    if metadata.device_authorization_endpoint.is_some() {
        registration.devicecode_endpoint = metadata.device_authorization_endpoint;
    }
    if metadata.revocation_endpoint.is_some() {
        registration.revocation_endpoint = metadata.revocation_endpoint;
    }
    if metadata.userinfo_endpoint.is_some() {
        registration.userinfo_endpoint = metadata.userinfo_endpoint;
    }
}

/// A custom provider's name: the host of its issuer or token endpoint, without the port.
fn host_of(url: &str) -> &str {
    provider::url_authority(url)
        .split(':')
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("custom")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retenant_changes_every_endpoint() {
        let mut r = provider::preset("microsoft", None).unwrap();
        retenant(&mut r, "consumers");
        assert_eq!(r, provider::preset("microsoft", Some("consumers")).unwrap());
        retenant(&mut r, "contoso.onmicrosoft.com");
        assert!(
            r.token_endpoint
                .contains("/contoso.onmicrosoft.com/oauth2/")
        );
    }

    #[test]
    fn tenants_cannot_reshape_urls() {
        assert!(check_tenant("organizations").is_ok());
        assert!(check_tenant("9188040d-6c67-4c5b-b112-36a304b66dad").is_ok());
        assert!(check_tenant("a/../b").is_err());
        assert!(check_tenant("").is_err());
    }

    #[test]
    fn custom_names_come_from_the_host() {
        assert_eq!(
            host_of("https://login.example.com:8443/x"),
            "login.example.com"
        );
        assert_eq!(host_of("nonsense"), "nonsense");
    }
}
