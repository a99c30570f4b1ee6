//! The questions a first sign-in asks on a terminal, in the order a person can answer them: the
//! address first (the provider follows from it, as with `--email`), the provider or its issuer
//! URL only when the address does not say, then the client id with where the provider's
//! registration steps are, and a secret question that fits the provider. A wrong answer is asked
//! again, saying why.

use std::path::PathBuf;

use super::prompt::Prompter;
use crate::base::error::Result;
use crate::cli::settings::Settings;
use crate::oauth::provider::{PRESET_NAMES, Registration};
use crate::store::tokenfile::TokenFile;

/// `settings` with the address asked for, when a first sign-in on a terminal has none and
/// nothing names the provider yet (a named provider keeps the old order: its flags already
/// say where the sign-in goes).
pub(super) fn address_first(
    settings: &Settings,
    previous: Option<&TokenFile>,
    ask: &Prompter,
) -> Result<Option<Settings>> {
    let flags = &settings.overrides;
    let named =
        flags.provider.is_some() || flags.issuer.is_some() || flags.token_endpoint.is_some();
    if !ask.is_terminal() || previous.is_some() || named || flags.email.is_some() {
        return Ok(None);
    }
    let address = ask.checked(
        "e-mail address",
        "--email ADDRESS",
        "E-mail address",
        check_address,
    )?;
    let mut settings = settings.clone();
    settings.overrides.email = Some(address);
    Ok(Some(settings))
}

/// An address: something before one `@`, a domain with a dot after it, no spaces.
fn check_address(answer: &str) -> std::result::Result<(), String> {
    match answer.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !answer.contains(char::is_whitespace)
                && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err("that is not an e-mail address (name@example.com)".into()),
    }
}

/// `settings` with the provider or the issuer asked for, when a first sign-in on a terminal has
/// neither after the address was looked at: a preset's name, or any provider's issuer URL, whose
/// endpoints discovery finds (RFC 8414, OpenID Connect).
pub(super) fn provider(
    settings: &Settings,
    previous: Option<&TokenFile>,
    ask: &Prompter,
) -> Result<Option<Settings>> {
    let flags = &settings.overrides;
    let named =
        flags.provider.is_some() || flags.issuer.is_some() || flags.token_endpoint.is_some();
    if !ask.is_terminal() || previous.is_some() || named {
        return Ok(None);
    }
    let answer = ask.checked(
        "provider",
        "--provider google|microsoft|yahoo|aol|yandex|mailru (or --issuer URL)",
        &format!(
            "Provider ({}), or your provider's issuer URL (https://...)",
            PRESET_NAMES.join(", ")
        ),
        check_provider,
    )?;
    let mut settings = settings.clone();
    if answer.contains("://") {
        settings.overrides.issuer = Some(answer);
    } else {
        settings.overrides.provider = Some(answer.to_ascii_lowercase());
    }
    Ok(Some(settings))
}

fn check_provider(answer: &str) -> std::result::Result<(), String> {
    let lower = answer.to_ascii_lowercase();
    if PRESET_NAMES.contains(&lower.as_str()) {
        return Ok(());
    }
    if lower.starts_with("https://") && lower.len() > "https://".len() {
        return Ok(());
    }
    if lower.starts_with("http://") {
        let loopback = oauth2::url::Url::parse(answer)
            .is_ok_and(|url| crate::oauth::provider::is_loopback_url(&url));
        if loopback {
            return Ok(());
        }
        return Err("an issuer URL starts with https://".into());
    }
    Err(format!(
        "not one of {}, nor an issuer URL (https://...)",
        PRESET_NAMES.join(", ")
    ))
}

/// The client id question, naming where the provider's registration steps are.
pub(super) fn client_id_question(registration: &Registration) -> String {
    let section = match registration.provider.as_str() {
        "google" => "#google",
        "microsoft" => "#microsoft",
        "yahoo" | "aol" => "#yahoo-and-aol",
        "yandex" | "mailru" => "#yandex-and-mailru",
        _ => "#which-provider",
    };
    format!(
        "OAuth2 client id (how to get one: {}{section})",
        providers_doc().display()
    )
}

/// The secret question for this provider, and whether an empty answer is allowed: Google's
/// desktop clients always have a secret, which must be sent ("OAuth 2.0 for Mobile & Desktop
/// Apps": the client secret is included in the token request); Microsoft's mobile-and-desktop
/// registrations are public clients with none.
pub(super) fn secret_question(registration: &Registration) -> (&'static str, bool) {
    match registration.provider.as_str() {
        "google" => (
            "OAuth2 client secret (Google shows it beside the client id; desktop clients have one)",
            false,
        ),
        "microsoft" => (
            "OAuth2 client secret (empty for a public client, as mobile-and-desktop registrations are)",
            true,
        ),
        _ => ("OAuth2 client secret (empty for a public client)", true),
    }
}

/// docs/providers.md where it is installed beside this binary (PREFIX/share/doc/mailtoken, as
/// `make install` and the Debian package put it), else where the source tree has it.
fn providers_doc() -> PathBuf {
    let installed = std::env::current_exe().ok().and_then(|exe| {
        let prefix = exe.parent()?.parent()?.to_path_buf();
        Some(prefix.join("share/doc/mailtoken/providers.md"))
    });
    match installed {
        Some(path) if path.exists() => path,
        _ => PathBuf::from("docs/providers.md in mailtoken's source"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_checked() {
        assert!(check_address("you@example.com").is_ok());
        for wrong in [
            "you",
            "you@",
            "@example.com",
            "you@example",
            "y ou@example.com",
        ] {
            assert!(check_address(wrong).is_err(), "{wrong}");
        }
        assert!(check_provider("Google").is_ok());
        assert!(check_provider("https://login.example.com").is_ok());
        assert!(check_provider("http://login.example.com").is_err());
        assert!(check_provider("gmail").is_err());
    }
}
