//! The provider from the address: `--authorize --email ADDRESS` without `--provider`, `--issuer`
//! or endpoints. A big provider's own domain (gmail.com, outlook.com, ...) names its preset; any
//! other domain is asked for its own mail autoconfiguration first (`autoconfig_lookup`: its servers, and
//! an OAuth2 issuer, scope and endpoints), then for its MX records, which tell Google Workspace and
//! Microsoft 365 apart. What was found, and from where, is said before anything opens; when
//! nothing is found the provider is asked for (or, without a terminal, exit 64), as before.

use super::autoconfig_lookup;
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::settings::Settings;
use crate::mail::autoconfig::Autoconfig;
use crate::net::dns;
use crate::oauth::provider::domains::{self, Guess};
use crate::store::tokenfile::TokenFile;

/// `settings` with the provider the address names, when nothing else names one.
pub(super) fn guess(settings: &Settings, previous: Option<&TokenFile>) -> Result<Option<Settings>> {
    let flags = &settings.overrides;
    let named =
        flags.provider.is_some() || flags.issuer.is_some() || flags.token_endpoint.is_some();
    if previous.is_some() || named {
        return Ok(None);
    }
    let Some(address) = flags.email.as_deref() else {
        return Ok(None);
    };
    let Some(domain) = domains::domain_of(address) else {
        return Ok(None);
    };
    let shown = log::sanitize(domain);
    let mut settings = settings.clone();
    if let Some(guess) = domains::by_domain(domain) {
        let found = format!("{shown} is the provider's own domain");
        check_provider_flags(&settings, &guess, &found)?;
        apply(&mut settings, &guess);
        say(&found, &settings);
        return Ok(Some(settings));
    }
    let mut servers_found = false;
    if let Some((config, url)) = autoconfig_lookup::lookup(domain, address) {
        let servers = take_servers(&mut settings, &config);
        let found = format!(
            "the mail autoconfiguration of {shown} ({}) names {}",
            log::sanitize(&url),
            if servers.is_empty() {
                "no server mailtoken can use".to_string()
            } else {
                servers.join(", ")
            }
        );
        match &config.oauth2 {
            Some(oauth2) => {
                let issuer = oauth2.issuer.as_deref().unwrap_or_default();
                if let Some(guess) = domains::by_issuer(issuer) {
                    check_provider_flags(&settings, &guess, &found)?;
                    apply(&mut settings, &guess);
                    say(
                        &format!("{found} and the OAuth2 issuer {}", log::sanitize(issuer)),
                        &settings,
                    );
                    return Ok(Some(settings));
                }
                if take_oauth2(&mut settings, oauth2) {
                    log::say(format!(
                        "mailtoken: {found} and the OAuth2 issuer {}, so signing in there (give \
                         --provider or --issuer to choose another)",
                        log::sanitize(settings.overrides.issuer.as_deref().unwrap_or(issuer))
                    ));
                    return Ok(Some(settings));
                }
                log::say(format!(
                    "mailtoken: {found}, and an OAuth2 element without an issuer or endpoints"
                ));
            }
            None => log::say(format!("mailtoken: {found}, and no OAuth2 issuer")),
        }
        servers_found = !servers.is_empty();
    }
    match dns::mx_hosts(domain) {
        Ok(hosts) => match domains::by_mail_exchangers(&hosts) {
            Some((guess, host)) => {
                let found = format!(
                    "the MX record of {shown} (from DNS) names {}",
                    log::sanitize(&host)
                );
                check_provider_flags(&settings, &guess, &found)?;
                apply(&mut settings, &guess);
                say(&found, &settings);
                return Ok(Some(settings));
            }
            None => log::verbose(format!(
                "the MX records of {shown} name no provider mailtoken knows ({})",
                log::sanitize(&hosts.join(", "))
            )),
        },
        Err(why) => log::verbose(format!("no MX records of {shown}: {why}")),
    }
    Ok(servers_found.then_some(settings))
}

/// Flags that only Microsoft's preset takes (`--cloud`, `--tenant`) are judged against the
/// provider the address names before that provider is announced: "signing in with --provider
/// google --cloud china" and then a refusal said two contrary things.
fn check_provider_flags(settings: &Settings, guess: &Guess, found: &str) -> Result<()> {
    if guess.provider == "microsoft" {
        return Ok(());
    }
    let given = [
        (settings.authorize.cloud.is_some(), "--cloud"),
        (settings.overrides.tenant.is_some(), "--tenant"),
    ];
    let Some((_, flag)) = given.into_iter().find(|(given, _)| *given) else {
        return Ok(());
    };
    Err(Error::usage(format!(
        "{flag} applies to Microsoft accounts, and {found}, whose provider is {}",
        guess.provider
    ))
    .hint(format!(
        "leave out {flag}, or give --provider microsoft if the address is a Microsoft 365 one"
    )))
}

/// The document's servers, where no flag names one; each said as its URL.
fn take_servers(settings: &mut Settings, config: &Autoconfig) -> Vec<String> {
    let flags = &mut settings.overrides;
    let mut said = Vec::new();
    for (slot, found) in [
        (&mut flags.imap_endpoint, &config.imap),
        (&mut flags.pop_endpoint, &config.pop),
        (&mut flags.smtp_endpoint, &config.smtp),
    ] {
        if let Some(endpoint) = found {
            said.push(endpoint.url());
            if slot.is_none() {
                *slot = Some(endpoint.clone());
            }
        }
    }
    said
}

/// A custom provider from the `oAuth2` element: its issuer (whose metadata may register
/// mailtoken, RFC 7591), endpoints, scope and client id, where no flag gives them. False when it
/// names neither an issuer nor a token endpoint.
fn take_oauth2(settings: &mut Settings, oauth2: &crate::mail::autoconfig::OAuth2) -> bool {
    let https = |value: &str| {
        let url = if value.contains("://") {
            value.to_string()
        } else {
            format!("https://{value}")
        };
        crate::oauth::provider::check_endpoint("autoconfiguration's URL", &url)
            .is_ok()
            .then_some(url)
    };
    let issuer = oauth2.issuer.as_deref().and_then(https);
    let token = oauth2.token_url.as_deref().and_then(https);
    if issuer.is_none() && token.is_none() {
        return false;
    }
    let flags = &mut settings.overrides;
    let name = issuer.as_deref().or(token.as_deref()).unwrap_or_default();
    flags.provider = Some(
        crate::oauth::provider::url_authority(name)
            .split(':')
            .next()
            .unwrap_or("custom")
            .to_string(),
    );
    flags.issuer = issuer;
    settings.authorize.issuer_optional = token.is_some();
    flags.token_endpoint = token;
    if flags.authorize_endpoint.is_none() {
        flags.authorize_endpoint = oauth2.auth_url.as_deref().and_then(https);
    }
    if flags.scope.is_none() {
        flags.scope = oauth2.scope.clone();
    }
    if flags.client_id.is_none() {
        flags.client_id = oauth2.client_id.clone();
    }
    true
}

fn apply(settings: &mut Settings, guess: &Guess) {
    settings.overrides.provider = Some(guess.provider.to_string());
    if settings.overrides.tenant.is_none() {
        settings.overrides.tenant = guess.tenant.map(String::from);
    }
    if settings.authorize.cloud.is_none() {
        settings.authorize.cloud = guess.cloud;
    }
}

/// "FOUND, so signing in with --provider ... (give --provider to choose another)".
fn say(found: &str, settings: &Settings) {
    log::say(format!(
        "mailtoken: {found}, so signing in with {} (give --provider to choose another)",
        flags_of(settings)
    ));
}

/// The flags that say what was chosen: `--provider microsoft --tenant organizations`.
fn flags_of(settings: &Settings) -> String {
    let mut flags = format!(
        "--provider {}",
        settings.overrides.provider.as_deref().unwrap_or_default()
    );
    if let Some(tenant) = &settings.overrides.tenant {
        flags.push_str(&format!(" --tenant {}", log::sanitize(tenant)));
    }
    if let Some(cloud) = settings.authorize.cloud {
        flags.push_str(&format!(" --cloud {}", cloud.name()));
    }
    flags
}
