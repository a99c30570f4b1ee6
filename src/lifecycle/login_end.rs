//! When a login will end, foreseen from what the provider said and what it documents, so that
//! `--status`, `--list`, `--json` and `--check` can say so before it happens.
//!
//! The refresh token's end is never certain (a password change, an administrator, a revocation
//! end it at any time); what is foreseen is the end the provider's own rules set when nothing
//! else happens, the earliest of:
//!
//! - what the provider stated: `refresh_token_expires_in` (Google's time-based access, GitHub
//!   Apps, Azure AD B2C) or Keycloak's `refresh_expires_in`, counted from the answer that said it;
//! - Microsoft: 90 days without use, moved by every refresh ("The default lifetime for the refresh
//!   tokens is ... 90 days for all other scenarios. Refresh tokens replace themselves with a fresh
//!   token upon every use", learn.microsoft.com/entra/identity-platform/refresh-tokens);
//! - Google: six months without use ("The refresh token has not been used for six months",
//!   developers.google.com/identity/protocols/oauth2, refresh token expiration), and for an app in
//!   Testing status seven days after consent ("Authorizations by a test user will expire seven days
//!   from the time of consent", Google Cloud Help, "Manage App Audience").
//!
//! Unknown is said as unknown: other providers document nothing to foresee.

use chrono::{DateTime, Duration, Months, Utc};

use crate::store::tokenfile::{Flow, TokenFile};

/// Microsoft's refresh tokens: 90 days without use.
const MICROSOFT_IDLE: Duration = Duration::days(90);

/// Google's Testing apps: 7 days from consent.
const GOOGLE_TESTING: Duration = Duration::days(7);

/// Google's refresh tokens: six months without use.
const GOOGLE_IDLE_MONTHS: u32 = 6;

/// Why a login ends when it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Basis {
    /// The provider said how long the refresh token lives.
    Stated,
    /// Microsoft: 90 days after the last refresh.
    MicrosoftIdle,
    /// Google: six months after the last refresh.
    GoogleIdle,
    /// Google, an app in Testing status: 7 days after the sign-in.
    GoogleTesting,
}

impl Basis {
    /// The basis in the words `--status` uses.
    pub(crate) fn words(self) -> &'static str {
        match self {
            Basis::Stated => "the provider said so",
            Basis::MicrosoftIdle => "Microsoft: 90 days without use",
            Basis::GoogleIdle => "Google: six months without use",
            Basis::GoogleTesting => "Google: 7 days after sign-in, the app is in Testing",
        }
    }

    /// The basis as `--json` and the notify hook name it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Basis::Stated => "stated",
            Basis::MicrosoftIdle => "microsoft-90-days-unused",
            Basis::GoogleIdle => "google-6-months-unused",
            Basis::GoogleTesting => "google-testing-7-days",
        }
    }

    /// Whether using the login (a refresh) moves the end: what `--check` can keep alive.
    pub(crate) fn moves_with_use(self) -> bool {
        matches!(self, Basis::MicrosoftIdle | Basis::GoogleIdle)
    }
}

/// The foreseen end of a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct End {
    pub at: DateTime<Utc>,
    pub basis: Basis,
}

/// When the login in `token` ends if nothing else happens; `testing` says whether its client is
/// known to be a Google app in Testing status. `None` when nothing foretells it (an account without
/// a user ends with its client's secret, not with its refresh token).
pub(crate) fn foresee(token: &TokenFile, testing: bool) -> Option<End> {
    if token.flow == Flow::Clientcredentials || token.refresh_token.is_none() {
        return None;
    }
    let last_use = token.access_token_obtained.or(token.login_started);
    let mut candidates = Vec::new();
    if let Some(at) = token.login_ends_stated {
        candidates.push(End {
            at,
            basis: Basis::Stated,
        });
    }
    match token.registration.provider.as_str() {
        "microsoft" => candidates.extend(last_use.map(|at| End {
            at: at + MICROSOFT_IDLE,
            basis: Basis::MicrosoftIdle,
        })),
        "google" => {
            candidates.extend(last_use.and_then(|at| {
                Some(End {
                    at: at.checked_add_months(Months::new(GOOGLE_IDLE_MONTHS))?,
                    basis: Basis::GoogleIdle,
                })
            }));
            if testing {
                candidates.extend(token.login_started.map(|at| End {
                    at: at + GOOGLE_TESTING,
                    basis: Basis::GoogleTesting,
                }));
            }
        }
        _ => {}
    }
    candidates.into_iter().min_by_key(|end| end.at)
}

/// Whether an `invalid_grant` at `now` for a Google login that began at `started` looks like a
/// Testing app's seven days: between a little before seven days and a day after (a machine that
/// was off meets it late; six months unused is far beyond).
pub(crate) fn looks_like_testing_expiry(started: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let age = now - started;
    age >= GOOGLE_TESTING - Duration::hours(2) && age <= GOOGLE_TESTING + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::secret::Secret;

    fn token(provider: &str, started_days_ago: i64, used_days_ago: i64) -> TokenFile {
        let now = Utc::now();
        let json = serde_json::json!({
            "version": 1,
            "registration": {"provider": provider, "token_endpoint": "https://x/token",
                             "scope": "s", "sasl_method": "XOAUTH2"},
            "flow": "localhostauthcode", "email": "u@example.com", "client_id": "c",
            "access_token": "a", "access_token_expiry": now,
            "access_token_obtained": now - Duration::days(used_days_ago),
            "login_started": now - Duration::days(started_days_ago),
            "refresh_token": "r",
            "encryption": {"kind": "age-passphrase"},
        });
        let mut token: TokenFile = serde_json::from_value(json).unwrap();
        token.refresh_token = Some(Secret::new("r"));
        token
    }

    #[test]
    fn microsoft_logins_end_90_days_after_their_last_use() {
        let t = token("microsoft", 100, 10);
        let end = foresee(&t, false).unwrap();
        assert_eq!(end.basis, Basis::MicrosoftIdle);
        assert_eq!(
            end.at,
            t.access_token_obtained.unwrap() + Duration::days(90)
        );
        assert!(end.basis.moves_with_use());
    }

    #[test]
    fn google_logins_end_six_months_unused_or_seven_days_after_consent_in_testing() {
        let t = token("google", 3, 1);
        let idle = foresee(&t, false).unwrap();
        assert_eq!(idle.basis, Basis::GoogleIdle);
        let expected = t
            .access_token_obtained
            .unwrap()
            .checked_add_months(Months::new(6));
        assert_eq!(Some(idle.at), expected);
        let testing = foresee(&t, true).unwrap();
        assert_eq!(testing.basis, Basis::GoogleTesting);
        assert_eq!(testing.at, t.login_started.unwrap() + Duration::days(7));
        assert!(
            !testing.basis.moves_with_use(),
            "a refresh does not move it"
        );
    }

    #[test]
    fn a_stated_lifetime_wins_when_it_is_earlier_and_unknown_is_none() {
        let mut t = token("microsoft", 1, 1);
        t.login_ends_stated = Some(Utc::now() + Duration::days(3));
        assert_eq!(foresee(&t, false).unwrap().basis, Basis::Stated);
        let custom = token("keycloak", 1, 1);
        assert_eq!(foresee(&custom, false), None);
        let mut service = token("microsoft", 1, 1);
        service.flow = Flow::Clientcredentials;
        assert_eq!(foresee(&service, false), None);
    }

    #[test]
    fn a_testing_expiry_is_told_by_its_age() {
        let started = Utc::now() - Duration::days(30);
        let at = |days: i64, hours: i64| started + Duration::days(days) + Duration::hours(hours);
        assert!(looks_like_testing_expiry(started, at(7, 0)));
        assert!(looks_like_testing_expiry(started, at(6, 23)));
        assert!(looks_like_testing_expiry(started, at(7, 20)));
        assert!(!looks_like_testing_expiry(started, at(5, 0)));
        assert!(!looks_like_testing_expiry(started, at(9, 0)));
        assert!(!looks_like_testing_expiry(started, at(180, 0)));
    }
}
