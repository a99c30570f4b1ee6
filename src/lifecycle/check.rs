//! `--check`: the health check for cron and systemd timers.
//!
//! Each account (those named, or every one known: in the accounts directory or signed in
//! elsewhere) is refreshed when its
//! access token has expired, and also when its last refresh is older than `--keepalive DAYS`:
//! providers end logins left unused (Microsoft after 90 days; Google's Testing apps after 7), and
//! a refresh is what counts as use. The refresh is the ordinary one (`refresh::current_token`),
//! under the account's lock, so a check beside running mail clients is safe.
//!
//! Nothing goes to stdout. Each account that needs a person gets one line on stderr with the
//! command that fixes it; temporary trouble is left for the next run (said with `--verbose`). A
//! login the provider ended is reported from what was remembered, without asking it again.

use chrono::Utc;

use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::cli::settings::Settings;
use crate::lifecycle::accounts;
use crate::lifecycle::background_sign_in;
use crate::lifecycle::login_end::End;
use crate::lifecycle::notify;
use crate::lifecycle::refresh;
use crate::lifecycle::status;
use crate::store::known_accounts;
use crate::store::tokenfile::{Account, Flow, Overrides};

/// What became of one account; a working login carries its end when that is near.
#[derive(Debug)]
enum Outcome {
    /// Nothing to do: the token is valid and the login was used recently.
    Fine(Option<End>),
    Refreshed(Option<End>),
    Failed(Error),
}

/// Runs the check; the error, when there is one, has already been reported line by line.
pub(crate) fn run(settings: &Settings) -> Result<()> {
    let accounts = accounts::accounts(settings)?;
    if accounts.is_empty() {
        // Said even without --verbose: a check that keeps nothing alive must not look like one
        // that kept everything alive.
        log::say(format!(
            "mailtoken: no accounts to check: none in {} and none signed in elsewhere; sign in \
             with 'mailtoken --authorize NAME'",
            known_accounts::directory()?.display()
        ));
        return Ok(());
    }
    let keepalive = chrono::Duration::days(i64::from(settings.keepalive_days));
    let warn = chrono::Duration::days(i64::from(settings.warn_days));
    let mut statuses = Vec::new();
    for (name, account) in &accounts {
        let (outcome, known) = check_one(account, keepalive, warn);
        let email = known
            .as_ref()
            .map(|(email, _)| email.as_str())
            .filter(|email| !email.is_empty());
        match outcome {
            Outcome::Fine(Some(end)) | Outcome::Refreshed(Some(end)) => {
                log::say(format!(
                    "mailtoken: {}: the login ends {} ({}); sign in again before then: {}",
                    log::sanitize(name),
                    log::local_time(end.at),
                    end.basis.words(),
                    account.authorize_command()
                ));
                notify::login_ending(account, name, email, end);
            }
            Outcome::Fine(None) => log::verbose(format!("{name}: fine")),
            Outcome::Refreshed(None) => log::verbose(format!("{name}: refreshed")),
            Outcome::Failed(error) => {
                let status = error.status();
                statuses.push(status);
                if status == ExitStatus::Temporary {
                    log::verbose(format!(
                        "{name}: {} (the next check tries again)",
                        error.message()
                    ));
                    continue;
                }
                let hint = error
                    .hint_text()
                    .map(|hint| format!("; {hint}"))
                    .unwrap_or_default();
                log::say(format!(
                    "mailtoken: {}: {}{hint}",
                    log::sanitize(name),
                    error.message()
                ));
                if status == ExitStatus::Reauthorize {
                    background_sign_in::sign_in_needed(
                        account,
                        name,
                        known.as_ref().map(|(email, flow)| (email.as_str(), *flow)),
                        error.message(),
                    );
                }
            }
        }
    }
    match overall(&statuses) {
        None => Ok(()),
        Some(status) => Err(Error::reported(status)),
    }
}

/// Sign-in needed wins, then any other local problem, then temporary trouble.
fn overall(statuses: &[ExitStatus]) -> Option<ExitStatus> {
    if statuses.contains(&ExitStatus::Reauthorize) {
        return Some(ExitStatus::Reauthorize);
    }
    statuses
        .iter()
        .find(|status| **status != ExitStatus::Temporary)
        .or(statuses.first())
        .copied()
}

/// Checks one account; also returns its e-mail address and flow when the file could be read. A
/// login that ends within `warn` (`--warn-days`) is refreshed when that moves its end (Microsoft's
/// and Google's unused-login rules), and reported with its end when nothing can.
fn check_one(
    account: &Account,
    keepalive: chrono::Duration,
    warn: chrono::Duration,
) -> (Outcome, Option<(String, Flow)>) {
    let loaded = match account.load() {
        Ok(loaded) => loaded,
        Err(error) => return (Outcome::Failed(error), None),
    };
    let known = Some((loaded.token.email.clone(), loaded.token.flow));
    let token = &loaded.token;
    let near = |end: &End| warn > chrono::Duration::zero() && end.at - Utc::now() <= warn;
    // A login with no user ends with its client, not with disuse: no keep-alive needed.
    let idle = token.flow != Flow::Clientcredentials
        && (token
            .access_token_obtained
            .is_none_or(|at| Utc::now() - at >= keepalive)
            || status::foreseen_end(token)
                .is_some_and(|end| end.basis.moves_with_use() && near(&end)));
    let before = token.access_token.clone();
    // The ordinary call's decision, from this reading: an ended login fails as it would for a
    // mail client, a valid token used recently is fine as it is, anything else (expiring,
    // expired, idle) is refreshed, re-reading under the lock only if the file changed since.
    let outcome = match refresh::current_token_from(account, loaded, &Overrides::default(), idle) {
        Ok(current) => {
            let ending = status::foreseen_end(&current.token).filter(near);
            if current.token.access_token != before {
                Outcome::Refreshed(ending)
            } else {
                Outcome::Fine(ending)
            }
        }
        Err(error) => Outcome::Failed(error),
    };
    (outcome, known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_needed_wins_and_temporary_counts_last() {
        use ExitStatus::*;
        assert_eq!(overall(&[]), None);
        assert_eq!(overall(&[Temporary, Temporary]), Some(Temporary));
        assert_eq!(overall(&[Temporary, Reauthorize]), Some(Reauthorize));
        assert_eq!(overall(&[Temporary, BadTokenFile]), Some(BadTokenFile));
        assert_eq!(
            overall(&[BadTokenFile, Reauthorize, Temporary]),
            Some(Reauthorize)
        );
    }
}
