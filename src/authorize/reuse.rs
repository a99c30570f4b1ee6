//! A registration entered once: a new account at a provider (or issuer) another account already
//! uses is offered that account's client id, and its secret if it has one, so the user does not
//! have to find them again (what oama users name as the thing they would miss). With a terminal
//! the user is asked; without one, the client is taken only when exactly one is in use, and the
//! account it came from is said on stderr either way.
//!
//! Only accounts that open without a question are read: files encrypted to an age identity (the
//! default). A passphrase, a gpg key or a pipe could ask for something, and a sign-in must not
//! stop to unlock some other account.

use super::prompt::Prompter;
use crate::base::error::Result;
use crate::base::log;
use crate::base::secret::Secret;
use crate::cli::settings::Settings;
use crate::oauth::provider::{PRESET_NAMES, Registration};
use crate::store::encryption::{self, Detected};
use crate::store::known_accounts;
use crate::store::tokenfile::Account;

/// The client of another account.
#[derive(Clone)]
pub(super) struct Found {
    /// The account, as `--list` names it.
    pub account: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
}

/// `settings` with the client of another account at the same provider filled in, when the flags
/// give no client id and the user takes it; otherwise `None`.
pub(super) fn offer(
    settings: &Settings,
    registration: &Registration,
    ask: &Prompter,
) -> Result<Option<Settings>> {
    if settings.overrides.client_id.is_some() {
        return Ok(None);
    }
    let found = candidates(settings, registration);
    let chosen = match found.as_slice() {
        [] => return Ok(None),
        [one] if !ask.is_terminal() => one.clone(),
        several if !ask.is_terminal() => {
            log::say(format!(
                "mailtoken: accounts {} use different registrations at {}; pass --client-id to \
                 say which",
                names(several),
                log::sanitize(&registration.provider)
            ));
            return Ok(None);
        }
        several => match choose(several, registration, ask)? {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    log::say(format!(
        "mailtoken: using the registration of account {} at {}: client id {}{}",
        log::sanitize(&chosen.account),
        log::sanitize(&registration.provider),
        log::sanitize(&chosen.client_id),
        if chosen.client_secret.is_some() {
            " and its client secret"
        } else {
            " (a public client)"
        }
    ));
    let mut settings = settings.clone();
    settings.overrides.client_id = Some(chosen.client_id);
    if settings.overrides.client_secret.is_none() {
        // An empty secret is how a public client is said, so nothing is asked for.
        settings.overrides.client_secret = Some(chosen.client_secret.unwrap_or_default());
    }
    Ok(Some(settings))
}

/// Asks which client to use, on a terminal: a number, or Enter for another.
fn choose(found: &[Found], registration: &Registration, ask: &Prompter) -> Result<Option<Found>> {
    eprintln!(
        "Other accounts at {} have a registration already:",
        log::sanitize(&registration.provider)
    );
    for (number, one) in found.iter().enumerate() {
        eprintln!(
            "  {}. client id {} (account {})",
            number + 1,
            log::sanitize(&one.client_id),
            log::sanitize(&one.account)
        );
    }
    let answer = ask.value(
        "choice",
        "--client-id ID",
        if found.len() == 1 {
            "Use it? 1 for yes, n for another client"
        } else {
            "Use which? A number, or n for another client"
        },
    )?;
    Ok(answer
        .trim()
        .parse::<usize>()
        .ok()
        .and_then(|number| number.checked_sub(1))
        .and_then(|index| found.get(index).cloned()))
}

/// "a and b", "a, b and c".
fn names(found: &[Found]) -> String {
    let names: Vec<String> = found.iter().map(|f| log::sanitize(&f.account)).collect();
    match names.as_slice() {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => names.join(""),
    }
}

/// The distinct clients of the other accounts at the same provider, first seen first.
fn candidates(settings: &Settings, registration: &Registration) -> Vec<Found> {
    let Ok(accounts) = known_accounts::all() else {
        return Vec::new();
    };
    let this = std::fs::canonicalize(&settings.token_path).ok();
    let mut found: Vec<Found> = Vec::new();
    for (name, path) in accounts {
        if this.is_some() && std::fs::canonicalize(&path).ok() == this {
            continue;
        }
        let opens_without_asking = matches!(
            encryption::detect(&crate::base::private_files::peek(&path)),
            Detected::Age {
                passphrase: false,
                ..
            }
        );
        if !opens_without_asking {
            continue;
        }
        let account = Account::new(path, name.clone(), settings.encryption.clone());
        let Ok(loaded) = account.load() else {
            log::verbose(format!(
                "not reusing a registration from {}: it cannot be read",
                log::sanitize(&name)
            ));
            continue;
        };
        let token = loaded.token;
        // A signing key's account (a service account's id is its address) is no registration
        // for a person's sign-in.
        if token.client_id.is_empty()
            || token.credential.is_some()
            || !same_provider(&token.registration, registration)
        {
            continue;
        }
        let duplicate = found
            .iter()
            .any(|f| f.client_id == token.client_id && f.client_secret == token.client_secret);
        if !duplicate {
            found.push(Found {
                account: name,
                client_id: token.client_id,
                client_secret: token.client_secret,
            });
        }
    }
    found
}

/// The mail servers of another account at the same provider, for a new account whose
/// registration names none (a custom provider's: discovery says nothing about mail): each server
/// neither the flags nor the registration give is taken from the first such account, and the
/// account it came from is said. Only accounts that open without a question are read.
pub(super) fn mail_servers(settings: &Settings, registration: &mut Registration) {
    use crate::mail::mailserver::Protocol;
    let missing: Vec<Protocol> = Protocol::ALL
        .into_iter()
        .filter(|protocol| registration.endpoint(*protocol).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let Ok(accounts) = known_accounts::all() else {
        return;
    };
    let this = std::fs::canonicalize(&settings.token_path).ok();
    for (name, path) in accounts {
        if this.is_some() && std::fs::canonicalize(&path).ok() == this {
            continue;
        }
        let opens_without_asking = matches!(
            encryption::detect(&crate::base::private_files::peek(&path)),
            Detected::Age {
                passphrase: false,
                ..
            }
        );
        if !opens_without_asking {
            continue;
        }
        let account = Account::new(path, name.clone(), settings.encryption.clone());
        let Ok(loaded) = account.load() else {
            continue;
        };
        let theirs = &loaded.token.registration;
        if !same_provider(theirs, registration) {
            continue;
        }
        let mut taken = Vec::new();
        for protocol in &missing {
            if let Some(endpoint) = theirs.endpoint(*protocol) {
                taken.push(endpoint.url());
                let field = match protocol {
                    Protocol::Imap => &mut registration.imap_endpoint,
                    Protocol::Pop => &mut registration.pop_endpoint,
                    Protocol::Smtp => &mut registration.smtp_endpoint,
                };
                *field = Some(endpoint.clone());
            }
        }
        if !taken.is_empty() {
            log::say(format!(
                "mailtoken: using the mail servers of account {} at {}: {} (--imap-endpoint, \
                 --pop-endpoint, --smtp-endpoint give others; --set changes them later)",
                log::sanitize(&name),
                log::sanitize(&registration.provider),
                taken.join(", ")
            ));
            return;
        }
    }
}

/// Whether a client registered for `theirs` is one for `ours`: the same preset in the same cloud
/// (any tenant: one app can serve several), or the same issuer or token endpoint.
fn same_provider(theirs: &Registration, ours: &Registration) -> bool {
    if theirs.provider != ours.provider || theirs.cloud != ours.cloud {
        return false;
    }
    if PRESET_NAMES.contains(&ours.provider.as_str()) && ours.issuer.is_none() {
        return true;
    }
    match (&theirs.issuer, &ours.issuer) {
        (Some(theirs), Some(ours)) => theirs == ours,
        _ => theirs.token_endpoint == ours.token_endpoint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::provider::{Cloud, preset, preset_in};

    #[test]
    fn the_same_provider_is_the_same_preset_cloud_issuer_or_token_endpoint() {
        let work = preset("microsoft", Some("organizations")).unwrap();
        let home = preset("microsoft", Some("consumers")).unwrap();
        assert!(same_provider(&work, &home), "a tenant is not another app");
        let china = preset_in("microsoft", None, Cloud::China).unwrap();
        assert!(!same_provider(&china, &home), "another cloud is");
        assert!(!same_provider(&preset("google", None).unwrap(), &home));
        let mut custom = preset("google", None).unwrap();
        custom.provider = "idp.example.com".into();
        let mut other = custom.clone();
        assert!(same_provider(&custom, &other));
        other.token_endpoint = "https://other.example.com/token".into();
        assert!(!same_provider(&custom, &other));
        custom.issuer = Some("https://idp.example.com".into());
        other.issuer = Some("https://idp.example.com".into());
        assert!(same_provider(&custom, &other));
    }
}
