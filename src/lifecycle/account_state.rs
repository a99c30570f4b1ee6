//! Where one account stands, decided in one place.
//!
//! Every surface reports this state and nothing else: the mail client's call (which refuses a
//! login the provider ended), `--status`, `--list`, `--json`, `--check`, the notify hook and
//! `--test`. It is made from the token file and what was remembered about the login
//! (`tokenfile::remembered`), never from the network, so it costs nothing to ask.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::base::error::Error;
use crate::store::tokenfile::remembered::Remembered;
use crate::store::tokenfile::{Account, Flow, TokenFile};

/// An account's state, in words a person understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// The access token works now.
    Ok,
    /// The access token still works, but so briefly that the next use refreshes it.
    Expiring,
    /// The access token has expired; the next use refreshes it.
    Expired,
    /// The access token has expired or is about to, and refreshes have failed for a temporary
    /// reason (network, outage) since `since`. The next use tries again.
    Unreachable {
        since: DateTime<Utc>,
        reason: String,
    },
    /// Only a new sign-in helps: the provider ended the login (`since` is when it said so), or
    /// the access token has expired and nothing can renew it.
    NeedsSignIn {
        since: Option<DateTime<Utc>>,
        reason: String,
    },
    /// The token file cannot be read or decrypted.
    Unreadable { cause: String },
}

/// The state's one word, as `--json` and `--list --json` give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Word {
    Ok,
    Expiring,
    Expired,
    Unreachable,
    NeedsSignIn,
    Unreadable,
}

impl State {
    /// Decides the state of a readable token file at `now`, with what was remembered about it.
    pub(crate) fn decide(
        token: &TokenFile,
        remembered: Option<&Remembered>,
        now: DateTime<Utc>,
    ) -> State {
        if let Some(ended) = remembered.and_then(|r| r.ended.as_ref()) {
            return State::NeedsSignIn {
                since: Some(ended.at),
                reason: ended.reason.clone(),
            };
        }
        if token.is_fresh(now) {
            return State::Ok;
        }
        let renewable = token.flow == Flow::Clientcredentials || token.refresh_token.is_some();
        if !renewable {
            if token.is_expired(now) {
                return State::NeedsSignIn {
                    since: Some(token.access_token_expiry)
                        .filter(|_| !token.access_token.is_empty()),
                    reason: "the access token has expired and no refresh token is stored".into(),
                };
            }
            return State::Expiring;
        }
        if let Some(trouble) = remembered.and_then(|r| r.unreachable.as_ref()) {
            return State::Unreachable {
                since: trouble.since,
                reason: trouble.reason.clone(),
            };
        }
        if token.is_expired(now) {
            State::Expired
        } else {
            State::Expiring
        }
    }

    pub(crate) fn word(&self) -> Word {
        match self {
            State::Ok => Word::Ok,
            State::Expiring => Word::Expiring,
            State::Expired => Word::Expired,
            State::Unreachable { .. } => Word::Unreachable,
            State::NeedsSignIn { .. } => Word::NeedsSignIn,
            State::Unreadable { .. } => Word::Unreadable,
        }
    }

    /// When the state began, where that is known.
    pub(crate) fn since(&self) -> Option<DateTime<Utc>> {
        match self {
            State::Unreachable { since, .. } => Some(*since),
            State::NeedsSignIn { since, .. } => *since,
            _ => None,
        }
    }

    /// Why, for the states that have a reason.
    pub(crate) fn reason(&self) -> Option<&str> {
        match self {
            State::Unreachable { reason, .. } | State::NeedsSignIn { reason, .. } => Some(reason),
            State::Unreadable { cause } => Some(cause),
            _ => None,
        }
    }

    /// The state in a few words, with `moment` writing times (local time, and how long ago).
    pub(crate) fn words(&self, moment: impl Fn(DateTime<Utc>) -> String) -> String {
        match self {
            State::Ok => "ok".into(),
            State::Expiring => "expiring (refreshes on next use)".into(),
            State::Expired => "expired (refreshes on next use)".into(),
            State::Unreachable { since, .. } => format!(
                "provider unreachable since {} (the next use tries again)",
                moment(*since)
            ),
            State::NeedsSignIn {
                since: Some(since), ..
            } => format!("needs sign-in since {}", moment(*since)),
            State::NeedsSignIn { since: None, .. } => "needs sign-in".into(),
            State::Unreadable { cause } => format!("unreadable: {cause}"),
        }
    }

    /// The error a call ends with when only a sign-in helps (exit status 77), with the command
    /// that signs `account` in again; `None` for every other state.
    pub(crate) fn sign_in_error(&self, account: &Account) -> Option<Error> {
        let State::NeedsSignIn { since, reason } = self else {
            return None;
        };
        let when = since
            .map(|at| format!(" since {}", crate::base::log::local_time(at)))
            .unwrap_or_default();
        Some(
            Error::reauthorize(format!(
                "{} needs a new sign-in{when}: {reason}",
                account.path().display()
            ))
            .hint(format!(
                "run '{}' to sign in again",
                account.authorize_command()
            )),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::private_files::FileId;
    use crate::base::secret::Secret;
    use crate::store::tokenfile::remembered::{Ended, Unreachable};
    use chrono::Duration;

    fn token(minutes_left: i64, refresh: bool) -> TokenFile {
        TokenFile {
            version: crate::store::tokenfile::FORMAT_VERSION,
            registration: crate::oauth::provider::preset("google", None).unwrap(),
            flow: Flow::Localhostauthcode,
            email: "u@example.com".into(),
            client_id: "id".into(),
            client_secret: None,
            access_token: Secret::new("access"),
            access_token_expiry: Utc::now() + Duration::minutes(minutes_left),
            access_token_obtained: Some(Utc::now() - Duration::minutes(60 - minutes_left)),
            refresh_token: refresh.then(|| Secret::new("refresh")),
            granted_scope: None,
            encryption: crate::store::encryption::EncryptionSpec::Gpg { recipient: None },
            min_valid_minutes: None,
            credential: None,
            login_started: None,
            login_ends_stated: None,
            signed_in: None,
            mailbox: None,
            dynamic_client: None,
            min_valid_this_call: None,
            unknown: None,
        }
    }

    fn ended() -> Remembered {
        Remembered {
            file: FileId::default(),
            ended: Some(Ended {
                at: Utc::now(),
                code: Some("invalid_grant".into()),
                reason: "the login has ended".into(),
            }),
            unreachable: None,
        }
    }

    fn unreachable() -> Remembered {
        Remembered {
            file: FileId::default(),
            ended: None,
            unreachable: Some(Unreachable {
                since: Utc::now(),
                last: Utc::now(),
                reason: "connection refused".into(),
            }),
        }
    }

    #[test]
    fn an_ended_login_needs_a_sign_in_however_long_its_token_lives() {
        let now = Utc::now();
        for minutes in [-60, 2, 40] {
            let state = State::decide(&token(minutes, true), Some(&ended()), now);
            assert_eq!(state.word(), Word::NeedsSignIn, "{minutes}");
            assert_eq!(state.reason(), Some("the login has ended"));
        }
    }

    #[test]
    fn the_token_alone_decides_without_a_record() {
        let now = Utc::now();
        assert_eq!(State::decide(&token(40, true), None, now), State::Ok);
        assert_eq!(State::decide(&token(2, true), None, now), State::Expiring);
        assert_eq!(State::decide(&token(-5, true), None, now), State::Expired);
        assert_eq!(
            State::decide(&token(-5, false), None, now).word(),
            Word::NeedsSignIn
        );
        assert_eq!(State::decide(&token(2, false), None, now), State::Expiring);
    }

    #[test]
    fn temporary_trouble_shows_only_once_the_token_needs_renewing() {
        let now = Utc::now();
        let trouble = unreachable();
        assert_eq!(
            State::decide(&token(40, true), Some(&trouble), now),
            State::Ok
        );
        for minutes in [2, -5] {
            let state = State::decide(&token(minutes, true), Some(&trouble), now);
            assert_eq!(state.word(), Word::Unreachable, "{minutes}");
            assert!(state.since().is_some());
        }
    }
}
