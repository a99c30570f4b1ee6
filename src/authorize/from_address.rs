//! The provider from the address: `--authorize --email ADDRESS` without `--provider`, `--issuer`
//! or endpoints. A big provider's own domain (gmail.com, outlook.com, ...) names its preset; any
//! other domain is asked for its own mail autoconfiguration first (`autoconfig`: its servers, and
//! an OAuth2 issuer, scope and endpoints), then for its MX records, which tell Google Workspace and
//! Microsoft 365 apart. What was found, and from where, is said before anything opens; when
//! nothing is found the provider is asked for (or, without a terminal, exit 64), as before.

use super::autoconfig;
use crate::base::log;
use crate::cli::settings::Settings;
use crate::mail::autoconfig::Autoconfig;
use crate::net::dns;
use crate::oauth::provider::domains::{self, Guess};
use crate::store::tokenfile::TokenFile;

/// `settings` with the provider the address names, when nothing else names one.
pub(super) fn guess(settings: &Settings, previous: Option<&TokenFile>) -> Option<Settings> {
    let flags = &settings.overrides;
    let named =
        flags.provider.is_some() || flags.issuer.is_some() || flags.token_endpoint.is_some();
    if previous.is_some() || named {
        return None;
    }
    let address = flags.email.as_deref()?;
    let domain = domains::domain_of(address)?;
    let shown = log::sanitize(domain);
    let mut settings = settings.clone();
    if let Some(guess) = domains::by_domain(domain) {
        apply(&mut settings, &guess);
        say(&format!("{shown} is the provider's own domain"), &settings);
        return Some(settings);
    }
    let mut servers_found = false;
    if let Some((config, url)) = autoconfig::lookup(domain, address) {
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
                    apply(&mut settings, &guess);
                    say(
                        &format!("{found} and the OAuth2 issuer {}", log::sanitize(issuer)),
                        &settings,
                    );
                    return Some(settings);
                }
                if take_oauth2(&mut settings, oauth2) {
                    log::say(format!(
                        "mailtoken: {found} and the OAuth2 issuer {}, so signing in there (give \
                         --provider or --issuer to choose another)",
                        log::sanitize(settings.overrides.issuer.as_deref().unwrap_or(issuer))
                    ));
                    return Some(settings);
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
                apply(&mut settings, &guess);
                let found = format!(
                    "the MX record of {shown} (from DNS) names {}",
                    log::sanitize(&host)
                );
                say(&found, &settings);
                return Some(settings);
            }
            None => log::verbose(format!(
                "the MX records of {shown} name no provider mailtoken knows ({})",
                log::sanitize(&hosts.join(", "))
            )),
        },
        Err(why) => log::verbose(format!("no MX records of {shown}: {why}")),
    }
    servers_found.then_some(settings)
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
