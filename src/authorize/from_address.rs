//! The provider from the address: `--authorize --email ADDRESS` without `--provider`, `--issuer`
//! or endpoints. A big provider's own domain (gmail.com, outlook.com, ...) names its preset; for
//! any other domain the MX records tell Google Workspace and Microsoft 365 apart. What was found,
//! and from where, is said before anything opens; when nothing is found the provider is asked
//! for (or, without a terminal, exit 64), as before.

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::settings::Settings;
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
    let (guess, found) = match domains::by_domain(domain) {
        Some(guess) => (guess, format!("{shown} is the provider's own domain")),
        None => match dns::mx_hosts(domain) {
            Ok(hosts) => match domains::by_mail_exchangers(&hosts) {
                Some((guess, host)) => (
                    guess,
                    format!(
                        "the MX record of {shown} (from DNS) names {}",
                        log::sanitize(&host)
                    ),
                ),
                None => {
                    log::verbose(format!(
                        "the MX records of {shown} name no provider mailtoken knows ({})",
                        log::sanitize(&hosts.join(", "))
                    ));
                    return Ok(None);
                }
            },
            Err(why) => {
                log::verbose(format!("no MX records of {shown}: {why}"));
                return Ok(None);
            }
        },
    };
    check_provider_flags(settings, &guess, &found)?;
    let mut settings = settings.clone();
    apply(&mut settings, &guess);
    log::say(format!(
        "mailtoken: {found}, so signing in with {} (give --provider to choose another)",
        flags_of(&settings)
    ));
    Ok(Some(settings))
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

fn apply(settings: &mut Settings, guess: &Guess) {
    settings.overrides.provider = Some(guess.provider.to_string());
    if settings.overrides.tenant.is_none() {
        settings.overrides.tenant = guess.tenant.map(String::from);
    }
    if settings.authorize.cloud.is_none() {
        settings.authorize.cloud = guess.cloud;
    }
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
