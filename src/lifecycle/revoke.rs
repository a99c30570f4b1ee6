//! `--revoke`: end a login at the provider (RFC 7009), then delete the token file and its lock.
//!
//! The file must have been read first: a file that cannot be read is never deleted (it may hold a
//! login that only needed another identity). A revocation that fails for a temporary reason
//! deletes nothing (75), so the user can simply try again; one the provider refuses for a reason a
//! flag can fix (a wrong secret) also deletes nothing and says so. A provider that does not let
//! this client revoke at all (many refuse public clients) gets the same treatment as one without
//! a revocation endpoint: mailtoken says where the user removes the access, and deletes the file. Providers without a
//! revocation endpoint (Microsoft documents that none exists) get the address of the page where
//! the user removes it, and the local file is deleted. A file that names no endpoint takes the
//! one its provider documents (a preset's, or the issuer's metadata).

use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::base::paths;
use crate::base::secret::Secret;
use crate::base::terminal;
use crate::cli::settings::Settings;
use crate::oauth::grant;
use crate::oauth::http::{Http, HttpError};
use crate::oauth::provider::Registration;
use crate::oauth::provider_answer::{self, Endpoint, ProviderAnswer};
use crate::store::tokenfile::{Account, TokenFile, recovery};

/// Why one revocation request failed.
enum Failure {
    /// Network trouble, a timeout, or an answer that says "later".
    Temporary(String),
    /// The provider does not let this client revoke (what it said): no retry and no other
    /// flag can change that, so the login is removed by hand at the provider.
    NotAllowed(String),
    /// The provider refused; the message says why.
    Refused(Error),
}

pub(crate) fn run(settings: &Settings) -> Result<()> {
    let account = settings.account();
    // Read before anything else, so a missing or unreadable file is reported as such and gets
    // no lock file beside it; then again under the lock, so no refresh rotates the refresh token
    // between reading and revoking.
    let first = match account.load() {
        Ok(loaded) => loaded.token,
        Err(error) if error.status() == ExitStatus::BadTokenFile => {
            return delete_unreadable(settings, &account, error);
        }
        Err(error) => return Err(error),
    };
    if !settings.yes {
        let question = format!(
            "Revoke the login of {} at {} and delete {}?",
            log::sanitize(first.sasl_user()),
            log::sanitize(&first.registration.provider),
            account.path().display()
        );
        if terminal::confirm(&question) == Some(false) {
            return Err(
                Error::usage("nothing was revoked or deleted: not confirmed")
                    .hint("answer y, or pass --yes to skip the question"),
            );
        }
    }
    let _lock = account.lock()?;
    let mut token = account.load()?.token;
    // Tokens kept after a failed write hold the refresh token the provider honours now: those
    // are the ones to revoke, and their copy goes with the file.
    let pending = recovery::take(&account, &token);
    if let Some((kept, path)) = &pending
        && recovery::is_newer(kept, &token)
    {
        log::verbose(format!(
            "revoking the newer tokens kept in {} after a failed write",
            path.display()
        ));
        token = kept.clone();
    }
    // The client and token endpoint given with this run are the ones it uses (never stored).
    settings.overrides.apply_to_client(&mut token);
    let registration = &token.registration;
    match revocation_endpoint(registration) {
        Revocation::At(endpoint) => revoke_at(&endpoint, &token, &account)?,
        Revocation::Impossible(why) => {
            log::say(format!(
                "mailtoken: the login cannot be revoked from here: {why}; remove mailtoken's \
                 access {}",
                where_to_remove(registration)
            ));
        }
    }
    delete(&account)?;
    if let Some((_, path)) = pending {
        recovery::discard(&path);
    }
    Ok(())
}

/// A file that cannot be read holds a login mailtoken cannot revoke, and perhaps one that only
/// needed another identity: it is deleted only when the user says so (a `y` on the terminal, or
/// `--yes`), and the message says that the provider's login lives on and where to end it.
fn delete_unreadable(settings: &Settings, account: &Account, error: Error) -> Result<()> {
    let shown = account.path().display();
    let confirmed = settings.yes
        || terminal::confirm(&format!(
            "mailtoken cannot read {shown} ({}), so it cannot revoke its login. Delete the \
             file anyway?",
            log::sanitize(error.message())
        )) == Some(true);
    if !confirmed {
        let hint = format!(
            "nothing was deleted; 'mailtoken --revoke --yes {}' deletes it without revoking",
            paths::shell_quote(&settings.token_given)
        );
        return Err(error.hint(hint));
    }
    delete(account)?;
    let place = |provider: &str| {
        crate::oauth::provider::preset(provider, None)
            .and_then(|registration| registration.access_settings())
            .unwrap_or_default()
    };
    log::say(format!(
        "mailtoken: the provider's login was not revoked (the file could not be read): remove \
         mailtoken's access in your account's security settings (Google: {}; Microsoft: {})",
        place("google"),
        place("microsoft")
    ));
    Ok(())
}

/// Where the user removes mailtoken's access by hand: the provider's page when known.
fn where_to_remove(registration: &Registration) -> String {
    registration.access_settings().map_or_else(
        || "in your account's security settings at the provider".to_string(),
        |place| format!("at {place}"),
    )
}

/// Where a login is revoked, or why it cannot be.
#[derive(Debug, PartialEq, Eq)]
enum Revocation {
    At(String),
    Impossible(String),
}

/// The revocation endpoint of the file, else the one its provider documents: a preset's (files
/// written before the preset had one, or signed in with a version that stored none), or the
/// issuer's metadata (RFC 8414 `revocation_endpoint`). Microsoft documents that an app cannot
/// revoke its refresh tokens ("Refresh tokens in the Microsoft identity platform",
/// learn.microsoft.com/entra/identity-platform/refresh-tokens, and its v2.0 metadata names no
/// revocation endpoint).
fn revocation_endpoint(registration: &Registration) -> Revocation {
    if let Some(endpoint) = &registration.revocation_endpoint {
        return Revocation::At(endpoint.clone());
    }
    let provider = log::sanitize(&registration.provider);
    if registration.provider == "microsoft" {
        return Revocation::Impossible(
            "Microsoft's identity platform lets no app revoke its refresh tokens (its \
             documentation: learn.microsoft.com/entra/identity-platform/refresh-tokens)"
                .into(),
        );
    }
    if let Some(preset) = crate::oauth::provider::preset(&registration.provider, None) {
        return match preset.revocation_endpoint {
            Some(endpoint) => {
                log::verbose(format!(
                    "the token file names no revocation endpoint; using {provider}'s, {endpoint}"
                ));
                Revocation::At(endpoint)
            }
            None => Revocation::Impossible(format!("{provider} documents no revocation endpoint")),
        };
    }
    let Some(issuer) = &registration.issuer else {
        return Revocation::Impossible(format!(
            "the token file names no revocation endpoint for {provider}, nor an issuer to ask"
        ));
    };
    let metadata = crate::oauth::discovery::discover(&Http::new(), issuer);
    match metadata {
        Ok(metadata) => match metadata.revocation_endpoint {
            Some(endpoint) => Revocation::At(endpoint),
            None => Revocation::Impossible(format!(
                "{} names no revocation endpoint in its metadata",
                log::sanitize(issuer)
            )),
        },
        Err(error) => Revocation::Impossible(format!(
            "the token file names no revocation endpoint, and asking {} for one failed ({})",
            log::sanitize(issuer),
            error.message()
        )),
    }
}

/// The tokens to revoke, in order: the refresh token (which ends the whole grant, RFC 7009
/// section 2.1), then the access token, which may outlive it at providers that issue
/// self-contained tokens.
fn tokens_of(token: &TokenFile) -> Vec<(&Secret, &'static str)> {
    let mut tokens: Vec<(&Secret, &str)> = Vec::new();
    if let Some(refresh_token) = &token.refresh_token {
        tokens.push((refresh_token, "refresh_token"));
    }
    if !token.access_token.is_empty() && !token.is_expired(chrono::Utc::now()) {
        tokens.push((&token.access_token, "access_token"));
    }
    tokens
}

/// Revokes the login of a sign-in that is not saved (it signed in as someone else): as far as
/// the provider allows, never failing; what happened, in words, for the message.
pub(crate) fn revoke_unsaved(token: &TokenFile) -> String {
    let endpoint = match revocation_endpoint(&token.registration) {
        Revocation::At(endpoint) => endpoint,
        Revocation::Impossible(why) => {
            return format!("the new login could not be revoked from here: {why}");
        }
    };
    let host = crate::oauth::provider::url_authority(&endpoint).to_string();
    let http = Http::new();
    for (secret, hint) in tokens_of(token) {
        match request(&http, &endpoint, &token.registration, token, secret, hint) {
            Ok(()) => {}
            // As --revoke says it (issue #34, item 4): no retry can help, so where to end the
            // new login by hand (glewlwyd refuses a public client 401 with no body).
            Err(Failure::NotAllowed(said)) => {
                return format!(
                    "{host} does not let this client revoke the new login ({said}); remove \
                     mailtoken's access {}",
                    where_to_remove(&token.registration)
                );
            }
            Err(Failure::Temporary(detail)) => {
                return format!("revoking the new login at {host} failed: {detail}");
            }
            Err(Failure::Refused(error)) => {
                return format!(
                    "revoking the new login at {host} failed: {}",
                    error.message()
                );
            }
        }
    }
    format!("the new login was revoked at {host}")
}

/// Revokes the tokens at `endpoint`, the refresh token first.
fn revoke_at(endpoint: &str, token: &TokenFile, account: &Account) -> Result<()> {
    let http = Http::new();
    let host = crate::oauth::provider::url_authority(endpoint).to_string();
    for (index, (secret, hint)) in tokens_of(token).iter().enumerate() {
        log::verbose(format!("revoking the {} at {host}", hint.replace('_', " ")));
        match request(&http, endpoint, &token.registration, token, secret, hint) {
            Ok(()) => {}
            Err(Failure::NotAllowed(said)) => {
                log::say(format!(
                    "mailtoken: {host} does not let this client revoke its login ({said}); \
                     remove mailtoken's access {}",
                    where_to_remove(&token.registration)
                ));
                return Ok(());
            }
            // The refresh token is revoked; the access token would die within the hour anyway.
            Err(Failure::Temporary(detail)) if index > 0 => log::warn(format!(
                "the login is revoked, but revoking its access token at {host} failed ({detail})"
            )),
            Err(Failure::Temporary(detail)) => {
                return Err(Error::temporary(format!(
                    "the revocation request to {host} failed: {detail}"
                ))
                .hint(format!(
                    "nothing was deleted; try again later: 'mailtoken --revoke {}'",
                    paths::shell_quote(&account.path().to_string_lossy())
                )));
            }
            Err(Failure::Refused(error)) => return Err(error),
        }
    }
    log::say(format!("mailtoken: revoked the login at {host}"));
    Ok(())
}

/// One RFC 7009 request: the token, its type hint, and the client's authentication as at the
/// token endpoint (section 2.1).
fn request(
    http: &Http,
    endpoint: &str,
    registration: &Registration,
    token: &TokenFile,
    secret: &Secret,
    hint: &str,
) -> std::result::Result<(), Failure> {
    let http_request = grant::client_post(
        endpoint,
        registration,
        &token.client_id,
        token.client_secret.as_ref(),
        &[("token", secret.expose()), ("token_type_hint", hint)],
    )
    .map_err(Failure::Refused)?;
    match http.execute(http_request) {
        // RFC 7009 section 2.2: 200 whether or not the token was still valid.
        Ok(_) => Ok(()),
        Err(HttpError::Answer(answer)) if refuses_this_client(&answer, token) => {
            Err(Failure::NotAllowed(answer.summary()))
        }
        Err(HttpError::Answer(answer)) => {
            let verdict = provider_answer::classify(&answer, Endpoint::Revocation);
            match verdict.status {
                // The login had already ended: there is nothing left to revoke.
                ExitStatus::Reauthorize => {
                    log::verbose(format!(
                        "the provider says the login had already ended ({})",
                        answer.summary()
                    ));
                    Ok(())
                }
                ExitStatus::Temporary => Err(Failure::Temporary(format!(
                    "{} ({})",
                    verdict.meaning,
                    answer.summary()
                ))),
                status => {
                    let place = registration.access_settings().map_or_else(
                        || "in your account's security settings".to_string(),
                        |place| format!("at {place}"),
                    );
                    Err(Failure::Refused(
                        Error::new(
                            status,
                            format!(
                                "revocation refused by {}: {} ({})",
                                crate::oauth::provider::url_authority(endpoint),
                                verdict.meaning,
                                answer.summary()
                            ),
                        )
                        .hint(format!(
                            "nothing was deleted; remove mailtoken's access {place}, then delete \
                             the file yourself"
                        )),
                    ))
                }
            }
        }
        // Not sent: the endpoint is not https (nor http on loopback). Nothing is deleted.
        Err(HttpError::Insecure(detail)) => Err(Failure::Refused(
            Error::config(format!(
                "the revocation request to {} was not sent: {detail}",
                crate::oauth::provider::url_authority(endpoint)
            ))
            .hint("nothing was deleted; the revocation endpoint must be an https:// address"),
        )),
        Err(HttpError::NotTls(detail)) => Err(Failure::Refused(
            Error::config(format!("the revocation request failed: {detail}"))
                .hint("nothing was deleted; correct the revocation endpoint's URL"),
        )),
        Err(HttpError::Untrusted(detail)) => Err(Failure::Refused(
            Error::config(format!("the revocation request failed: {detail}")).hint(format!(
                "nothing was deleted; {}",
                crate::net::tls::trust_hint()
            )),
        )),
        Err(HttpError::TooLarge) => Err(Failure::Temporary(HttpError::TooLarge.to_string())),
        Err(other) => Err(Failure::Temporary(other.to_string())),
    }
}

/// Whether the provider refuses to let this client revoke at all: `unauthorized_client` (RFC 6749
/// section 5.2: the client may not use this), or, for a public client, which has nothing to
/// authenticate with, 401 or 403 without an OAuth2 error (glewlwyd answers a public client's
/// revocation 401 with no body, doorkeeper 403) or `invalid_client` (django-oauth-toolkit, Spring
/// Authorization Server). A confidential client's `invalid_client` is a secret to correct (78).
fn refuses_this_client(answer: &ProviderAnswer, token: &TokenFile) -> bool {
    let public =
        token.client_secret.as_ref().is_none_or(Secret::is_empty) && token.credential.is_none();
    match answer.error.as_deref() {
        Some("unauthorized_client") => true,
        Some("invalid_client") => public,
        None => public && matches!(answer.http_status, Some(401 | 403)),
        Some(_) => false,
    }
}

/// Deletes the token file (the file itself when TOKENFILE is a link, and the link), its lock and
/// its state record, and forgets it among the accounts elsewhere.
fn delete(account: &Account) -> Result<()> {
    let path = account.path();
    let real = account.real_path()?;
    let remove = |file: &std::path::Path| match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("cannot delete {}: {e}", file.display()))),
    };
    remove(&real)?;
    if real != path {
        remove(path)?;
    }
    remove(&paths::lock_path(&real))?;
    let mut sign_in = real.clone().into_os_string();
    sign_in.push(".sign-in");
    remove(&paths::lock_path(std::path::Path::new(&sign_in)))?;
    remove(&crate::store::tokenfile::remembered::path_for(&real))?;
    crate::store::known_accounts::forget(path);
    log::say(format!("mailtoken: deleted {}", path.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #30, item 8: a Google file without a stored revocation endpoint was told "google
    /// offers no revocation endpoint" and deleted unrevoked; Google documents one.
    #[test]
    fn a_file_without_an_endpoint_takes_the_one_its_provider_documents() {
        let mut google = crate::oauth::provider::preset("google", None).unwrap();
        google.revocation_endpoint = None;
        assert_eq!(
            revocation_endpoint(&google),
            Revocation::At("https://oauth2.googleapis.com/revoke".into())
        );
        let microsoft = crate::oauth::provider::preset("microsoft", None).unwrap();
        let Revocation::Impossible(why) = revocation_endpoint(&microsoft) else {
            panic!("Microsoft has no revocation endpoint");
        };
        assert!(why.contains("refresh-tokens"), "{why}");
        let mut stored = crate::oauth::provider::preset("google", None).unwrap();
        stored.revocation_endpoint = Some("https://revoke.example/".into());
        assert_eq!(
            revocation_endpoint(&stored),
            Revocation::At("https://revoke.example/".into())
        );
        let custom = crate::oauth::provider::base("custom");
        assert!(matches!(
            revocation_endpoint(&custom),
            Revocation::Impossible(why) if why.contains("nor an issuer")
        ));
    }
}
