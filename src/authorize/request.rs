//! What every sign-in flow is given (`Request`) and gives back (`Obtained`): the vocabulary the
//! story (`mod.rs`) and its flows share, so that no flow imports from the story.

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::base::secret::Secret;
use crate::cli::settings::AuthorizeOptions;
use crate::oauth::grant::Granted;
use crate::oauth::http::Http;
use crate::oauth::provider::Registration;
use crate::oauth::provider_answer::Situation;
use crate::oauth::signing::Credential;

/// A token response, when its request was sent (the token's lifetime counts from then), and the
/// nonce the sign-in sent (OpenID Connect Core section 3.1.2.1), which its ID token must carry.
pub(crate) struct Obtained {
    pub granted: Granted,
    pub requested_at: DateTime<Utc>,
    pub nonce: Option<String>,
}

impl Obtained {
    /// Tokens a request without a nonce obtained (the device flow, client credentials).
    pub(crate) fn without_nonce(granted: Granted, requested_at: DateTime<Utc>) -> Obtained {
        Obtained {
            granted,
            requested_at,
            nonce: None,
        }
    }
}

/// Everything a flow needs.
pub(crate) struct Request<'a> {
    pub http: &'a Http,
    pub registration: &'a Registration,
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    /// The signing credential of an account without a user.
    pub credential: Option<&'a Credential>,
    pub email: &'a str,
    pub options: &'a AuthorizeOptions,
    /// When to give up waiting for the user (`--auth-timeout`).
    pub deadline: Instant,
    /// The provider's metadata promises `iss` in authorization responses (RFC 9207 section 3).
    pub iss_required: bool,
    /// The account had a file without a refresh token: ask for consent again, so the provider
    /// issues one (Google issues refresh tokens only with a consent).
    pub consent_again: bool,
    /// The account already has a login with a refresh token, which a failed sign-in leaves as
    /// it was.
    pub login_exists: bool,
    /// How to run this sign-in again: the stored account's command, or for a first sign-in every
    /// flag the user gave (no file remembers them yet).
    pub authorize_command: String,
    /// A sign-in in the background: where its link goes instead of the terminal and a browser.
    pub background: Option<&'a crate::lifecycle::background_sign_in::Announcer>,
}

impl Request<'_> {
    /// Tells the call that started this sign-in in the background its link, valid until `end`.
    pub(crate) fn announce(&self, url: &str, user_code: Option<&str>, end: Instant) {
        if let Some(announcer) = self.background {
            let left = end.saturating_duration_since(Instant::now());
            announcer.announce(&crate::lifecycle::notify::SignInLink {
                url: url.to_string(),
                user_code: user_code.map(str::to_string),
                until: (chrono::Utc::now() + left).timestamp(),
                pid: std::process::id(),
            });
        }
    }

    /// What the classification of provider answers needs to word its hints.
    pub(crate) fn situation<'a>(
        &'a self,
        what: &'a str,
        host: &'a str,
        redirect_uri: Option<&'a str>,
    ) -> Situation<'a> {
        Situation {
            what,
            host,
            provider: &self.registration.provider,
            authorize_command: &self.authorize_command,
            redirect_uri,
            login_exists: self.login_exists,
        }
    }
}
