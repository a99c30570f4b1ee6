//! `--status`: one account's state, as readable text or as JSON (`--json`), on stdout. The same
//! summary serves `--list`. Never a secret; never the network.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::output;
use crate::cli::settings::Settings;
use crate::lifecycle::account_state::{State, Word};
use crate::lifecycle::background_sign_in;
use crate::lifecycle::login_end;
use crate::lifecycle::notify::SignInLink;
use crate::store::encryption::EncryptionSpec;
use crate::store::tokenfile::{Account, Loaded, Schema, TokenFile};

/// Prints the state of the account named on the command line.
pub(crate) fn show(settings: &Settings) -> Result<()> {
    let account = settings.account();
    let loaded = account.load()?;
    let now = Utc::now();
    let state = State::decide(&loaded.token, account.remembered(&loaded).as_ref(), now);
    let path = account.path().display().to_string();
    if settings.json {
        let summary = Summary::of(&settings.token_given, &path, &loaded.token, &state)
            .with_failed_sign_in(&account);
        return output::print_text(&to_json(&summary)?);
    }
    let fix = state
        .sign_in_error(&account)
        .and_then(|error| error.hint_text().map(String::from));
    let background = Background {
        waiting: background_sign_in::waiting(&account),
        failed: background_sign_in::last_failure(&account),
    };
    output::print_text(&describe(
        &path,
        &loaded,
        &state,
        fix.as_deref(),
        &background,
        now,
    ))
}

/// One account as `--json` shows it. The schema is documented in the README ("Keeping logins
/// alive") and the man page: members are only ever added, never renamed or removed, and every
/// member is always present (`null` when unknown). Nothing in it is secret.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Summary {
    /// TOKENFILE as given, or the file's name in the accounts directory.
    pub name: String,
    pub path: String,
    pub state: Word,
    /// When the state began (`needs-sign-in`, `unreachable`), RFC 3339, UTC, to the second.
    pub since: Option<String>,
    /// Why (`needs-sign-in`, `unreachable`, `unreadable`): sanitised, never a secret.
    pub reason: Option<String>,
    pub email: Option<String>,
    /// The shared or delegated mailbox (`--mailbox`), which mail servers get as the SASL user.
    pub mailbox: Option<String>,
    /// Who signed in, when the provider said so at the sign-in.
    pub signed_in_as: Option<String>,
    /// When that sign-in was, RFC 3339, UTC, to the second.
    pub signed_in_since: Option<String>,
    pub provider: Option<String>,
    pub flow: Option<&'static str>,
    /// The redirect address every sign-in uses, when one is fixed (`--port`, `--redirect-uri`).
    pub redirect_uri: Option<String>,
    /// RFC 3339, UTC, to the second.
    pub access_token_expires: Option<String>,
    pub refresh_token: Option<bool>,
    pub last_refresh: Option<String>,
    /// When the login is foreseen to end (`login_end`), RFC 3339, UTC, to the second.
    pub login_ends: Option<String>,
    /// Why then: `stated`, `microsoft-90-days-unused`, `google-6-months-unused` or
    /// `google-testing-7-days`.
    pub login_ends_basis: Option<&'static str>,
    pub scope: Option<String>,
    /// `age`, `age-passphrase`, `gpg` or `pipe`.
    pub encryption: Option<&'static str>,
    /// Why the file is unreadable, for that state only (kept beside `reason` for the scripts
    /// written before it).
    pub error: Option<String>,
    /// When the last sign-in in the background failed, RFC 3339, UTC, to the second; null when
    /// none has failed since the last sign-in.
    pub background_sign_in_failed: Option<String>,
    /// How it failed: the message and its hint, sanitised.
    pub background_sign_in_failure: Option<String>,
    /// The state as `--list` words it.
    #[serde(skip)]
    pub state_words: String,
}

impl Summary {
    /// One account's summary, read from its file; an unreadable file is a state, not a failure.
    pub(crate) fn of_account(name: &str, account: &Account) -> Summary {
        let path = account.path().display().to_string();
        match account.load() {
            Ok(loaded) => {
                let remembered = account.remembered(&loaded);
                let state = State::decide(&loaded.token, remembered.as_ref(), Utc::now());
                Summary::of(name, &path, &loaded.token, &state)
            }
            Err(error) => Summary::unreadable(name, &path, &error),
        }
        .with_failed_sign_in(account)
    }

    /// The summary with how the last sign-in in the background failed, if one did.
    fn with_failed_sign_in(mut self, account: &Account) -> Summary {
        if let Some(failed) = background_sign_in::last_failure(account) {
            self.background_sign_in_failed = DateTime::from_timestamp(failed.at, 0).map(rfc3339);
            self.background_sign_in_failure = Some(failed.reason);
        }
        self
    }

    pub(crate) fn of(name: &str, path: &str, token: &TokenFile, state: &State) -> Summary {
        let text = |value: &str| Some(log::sanitize(value)).filter(|v| !v.is_empty());
        let end = foreseen_end(token);
        let mut state_words = state.words(short_moment);
        // `--list`'s short form of the foreseen end, for a login that still works.
        if let (Some(end), Word::Ok | Word::Expiring | Word::Expired) = (end, state.word()) {
            state_words.push_str(&format!("; login ends {}", short_moment(end.at)));
        }
        Summary {
            name: log::sanitize(name),
            path: path.to_string(),
            state: state.word(),
            since: state.since().map(rfc3339),
            reason: state.reason().and_then(text),
            email: text(&token.email),
            mailbox: token.mailbox.as_deref().and_then(text),
            signed_in_as: token.signed_in.as_ref().and_then(|who| text(&who.user)),
            signed_in_since: token.signed_in.as_ref().map(|who| rfc3339(who.since)),
            provider: text(&token.registration.provider),
            flow: Some(token.flow.name()),
            redirect_uri: token.registration.redirect_uri.as_deref().and_then(text),
            access_token_expires: (!token.access_token.is_empty())
                .then(|| rfc3339(token.access_token_expiry)),
            refresh_token: Some(token.refresh_token.is_some()),
            last_refresh: token.access_token_obtained.map(rfc3339),
            login_ends: end.map(|end| rfc3339(end.at)),
            login_ends_basis: end.map(|end| end.basis.name()),
            scope: token
                .granted_scope
                .as_deref()
                .or(Some(token.registration.scope.as_str()))
                .and_then(text),
            encryption: Some(encryption_kind(&token.encryption)),
            error: None,
            background_sign_in_failed: None,
            background_sign_in_failure: None,
            state_words,
        }
    }

    pub(crate) fn unreadable(name: &str, path: &str, error: &Error) -> Summary {
        let cause = log::sanitize(error.message());
        let state = State::Unreadable {
            cause: cause.clone(),
        };
        Summary {
            name: log::sanitize(name),
            path: path.to_string(),
            state: state.word(),
            since: None,
            reason: Some(cause.clone()),
            email: None,
            mailbox: None,
            signed_in_as: None,
            signed_in_since: None,
            provider: None,
            flow: None,
            redirect_uri: None,
            access_token_expires: None,
            refresh_token: None,
            last_refresh: None,
            login_ends: None,
            login_ends_basis: None,
            scope: None,
            encryption: None,
            error: Some(cause),
            background_sign_in_failed: None,
            background_sign_in_failure: None,
            state_words: state.words(short_moment),
        }
    }
}

/// When the account's login is foreseen to end, its client's Testing status included.
pub(crate) fn foreseen_end(token: &TokenFile) -> Option<login_end::End> {
    let testing = token.registration.provider == "google"
        && crate::store::testing_clients::is_testing(&token.client_id);
    login_end::foresee(token, testing)
}

/// Pretty JSON and one newline.
pub(crate) fn to_json(value: &impl Serialize) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|text| text + "\n")
        .map_err(|e| Error::io(format!("cannot write JSON: {e}")))
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn encryption_kind(spec: &EncryptionSpec) -> &'static str {
    match spec {
        EncryptionSpec::Age { .. } => "age",
        EncryptionSpec::AgePassphrase => "age-passphrase",
        EncryptionSpec::Gpg { .. } => "gpg",
        EncryptionSpec::Pipe { .. } => "pipe",
    }
}

/// The sign-in in the background: the one waiting now, and how the last one failed.
pub(crate) struct Background {
    pub waiting: Option<SignInLink>,
    pub failed: Option<background_sign_in::Failed>,
}

/// The report, one `label: value` line each; lines with nothing to say are left out.
/// `fix` is what to run when the state needs a person.
pub(crate) fn describe(
    path: &str,
    loaded: &Loaded,
    state: &State,
    fix: Option<&str>,
    background: &Background,
    now: DateTime<Utc>,
) -> String {
    let (token, schema) = (&loaded.token, loaded.schema);
    let registration = &token.registration;
    let mut lines: Vec<(&str, String)> = vec![
        ("file", path.to_string()),
        (
            "format",
            match schema {
                Schema::Mailtoken => format!("mailtoken, version {}", token.version),
                Schema::MuttOauth2 => {
                    "mutt_oauth2.py (rewritten in mailtoken's format at the next refresh)".into()
                }
            },
        ),
        ("encryption", describe_encryption(&token.encryption)),
        ("provider", registration.provider.clone()),
    ];
    if let Some(tenant) = &registration.tenant {
        lines.push(("tenant", tenant.clone()));
    }
    lines.push(("e-mail", token.email.clone()));
    if let Some(mailbox) = &token.mailbox {
        lines.push(("mailbox", format!("{mailbox} (the SASL user)")));
    }
    lines.push((
        "signed in as",
        match &token.signed_in {
            Some(who) => format!(
                "{} since {} (from the {})",
                who.user,
                moment(who.since, now),
                match who.from.as_str() {
                    "id_token" => "ID token",
                    "access_token" => "access token",
                    "userinfo" => "UserInfo endpoint",
                    other => other,
                }
            ),
            None => "not known (the provider did not say at the sign-in)".into(),
        },
    ));
    lines.push(("flow", token.flow.name().into()));
    if let Some(redirect) = &registration.redirect_uri {
        lines.push((
            "redirect",
            format!("{redirect} (every sign-in uses this address)"),
        ));
    }
    lines.push(("client id", token.client_id.clone()));
    lines.push((
        "client secret",
        if token.client_secret.is_some() {
            "present".into()
        } else {
            "none (public client)".into()
        },
    ));
    lines.push(("token endpoint", registration.token_endpoint.clone()));
    if let Some(revocation) = &registration.revocation_endpoint {
        lines.push(("revocation", revocation.clone()));
    }
    lines.push(("state", state.words(|at| moment(at, now))));
    if let Some(reason) = state.reason() {
        lines.push(("why", reason.to_string()));
    }
    if let Some(fix) = fix {
        lines.push(("to fix", fix.to_string()));
    }
    if let Some(link) = &background.waiting {
        let code = link
            .user_code
            .as_ref()
            .map(|code| format!(", with the code {code}"))
            .unwrap_or_default();
        lines.push((
            "sign-in link",
            format!(
                "{}{code} (a sign-in waits in the background until {})",
                link.url,
                background_sign_in::until_text(link.until)
            ),
        ));
    }
    if let Some(failed) = &background.failed
        && let Some(at) = DateTime::from_timestamp(failed.at, 0)
    {
        lines.push((
            "sign-in failed",
            format!("{} in the background: {}", moment(at, now), failed.reason),
        ));
    }
    lines.push(("access token", describe_expiry(token, now)));
    lines.push((
        "refresh token",
        if token.refresh_token.is_some() {
            "present".into()
        } else {
            "absent".into()
        },
    ));
    if let Some(at) = token.access_token_obtained {
        lines.push(("last refresh", moment(at, now)));
    }
    if token.flow != crate::store::tokenfile::Flow::Clientcredentials {
        lines.push((
            "login ends",
            match foreseen_end(token) {
                Some(end) => format!(
                    "{} ({}; {})",
                    crate::base::log::local_time(end.at),
                    relative(end.at, now),
                    end.basis.words()
                ),
                None => "not known (the provider says nothing to foresee it)".into(),
            },
        ));
    }
    lines.push((
        "scope",
        token
            .granted_scope
            .clone()
            .unwrap_or_else(|| registration.scope.clone()),
    ));
    lines.push(("SASL method", registration.sasl_method.name().into()));
    for (label, endpoint) in [
        ("IMAP", &registration.imap_endpoint),
        ("POP", &registration.pop_endpoint),
        ("SMTP", &registration.smtp_endpoint),
    ] {
        if let Some(endpoint) = endpoint {
            lines.push((label, endpoint.url()));
        }
    }
    lines.retain(|(_, value)| !value.trim().is_empty());
    let width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0)
        + 1;
    lines
        .iter()
        // Every value comes from the file or a provider: sanitised for the terminal.
        .map(|(label, value)| format!("{:width$} {}\n", format!("{label}:"), log::sanitize(value)))
        .collect()
}

fn describe_encryption(spec: &EncryptionSpec) -> String {
    match spec {
        EncryptionSpec::Age { recipients } => format!("age, to {}", recipients.join(", ")),
        EncryptionSpec::AgePassphrase => "age, with a passphrase".into(),
        EncryptionSpec::Gpg {
            recipient: Some(recipient),
        } => format!("gpg, to {recipient}"),
        EncryptionSpec::Gpg { recipient: None } => "gpg, to your default key".into(),
        EncryptionSpec::Pipe { encrypt } => format!("command: {encrypt}"),
    }
}

fn describe_expiry(token: &TokenFile, now: DateTime<Utc>) -> String {
    if token.access_token.is_empty() {
        return "none".into();
    }
    let expiry = token.access_token_expiry;
    if token.is_expired(now) {
        format!("expired at {}", moment(expiry, now))
    } else {
        format!("valid until {}", moment(expiry, now))
    }
}

/// A time for `--list`'s one line: how long ago or ahead, from now.
fn short_moment(at: DateTime<Utc>) -> String {
    relative(at, Utc::now())
}

/// A time to the second in local time, and how far it is from now: "2026-11-29 07:03:12 +01:00
/// (in 41 min)", "... (3 days ago)".
pub(crate) fn moment(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!(
        "{} ({})",
        crate::base::log::local_time(at),
        relative(at, now)
    )
}

/// "in 41 min", "3 days ago", "now".
pub(crate) fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let seconds = (at - now).num_seconds();
    match seconds {
        0 => "now".into(),
        s if s > 0 => format!("in {}", human(at - now)),
        _ => format!("{} ago", human(now - at)),
    }
}

fn human(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        86400..172800 => "1 day".into(),
        _ => format!("{} days", seconds / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(chrono::Duration::seconds(42)), "42 s");
        assert_eq!(human(chrono::Duration::seconds(3 * 60 + 5)), "3 min");
        assert_eq!(
            human(chrono::Duration::seconds(3 * 3600 + 120)),
            "3 h 2 min"
        );
        assert_eq!(human(chrono::Duration::days(9)), "9 days");
        assert_eq!(human(chrono::Duration::hours(30)), "1 day");
    }

    #[test]
    fn moments_say_which_way() {
        let now = Utc::now();
        assert_eq!(
            relative(now + chrono::Duration::minutes(41), now),
            "in 41 min"
        );
        assert_eq!(relative(now - chrono::Duration::days(3), now), "3 days ago");
        assert_eq!(relative(now, now), "now");
    }
}
