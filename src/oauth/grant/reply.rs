//! What comes back from a token request: the response as read (`TokenReply`, lenient where
//! providers differ from RFC 6749 section 5.1), the tokens kept from it (`Granted`, `granted`),
//! and every way it can fail (`GrantFailure`), refusals judged by `provider_answer`.

use std::time::Duration;

use oauth2::basic::{BasicErrorResponse, BasicTokenType};
use oauth2::{AccessToken, RefreshToken, RequestTokenError, Scope, TokenResponse};
use serde::{Deserialize, Serialize};

use crate::base::error::{Error, ExitStatus};
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::http::HttpError;
use crate::oauth::provider_answer::{self, Endpoint, ProviderAnswer, Situation};

/// A token response (RFC 6749 section 5.1), read a little more leniently than oauth2's own:
/// `expires_in` may come as a string ("3600"), as some servers send it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TokenReply {
    access_token: AccessToken,
    // RFC 6749 section 5.1: the type is case-insensitive ("Bearer", "bearer").
    #[serde(deserialize_with = "oauth2::helpers::deserialize_untagged_enum_case_insensitive")]
    token_type: BasicTokenType,
    #[serde(
        default,
        deserialize_with = "seconds",
        skip_serializing_if = "Option::is_none"
    )]
    expires_in: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<RefreshToken>,
    #[serde(
        default,
        rename = "scope",
        deserialize_with = "scope_words",
        serialize_with = "oauth2::helpers::serialize_space_delimited_vec",
        skip_serializing_if = "Option::is_none"
    )]
    scopes: Option<Vec<Scope>>,
    /// OpenID Connect Core section 3.1.3.3: who signed in, when the scope asked for `openid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    /// How long the refresh token lives, where the provider says: `refresh_token_expires_in`
    /// (Google's time-based access, GitHub Apps, Azure AD B2C) or Keycloak's
    /// `refresh_expires_in` (0 there means no limit).
    #[serde(
        default,
        alias = "refresh_expires_in",
        deserialize_with = "seconds",
        skip_serializing_if = "Option::is_none"
    )]
    refresh_token_expires_in: Option<u64>,
}

/// `scope` as RFC 6749 section 5.1 has it (a space-delimited string), or as a JSON array of
/// strings, as some servers send it: a harmless deviation that must not cost a refresh whose
/// refresh token may have rotated. Anything else is no scope at all.
fn scope_words<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Scope>>, D::Error> {
    let words: Vec<String> = match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => text.split_whitespace().map(String::from).collect(),
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|item| item.as_str().map(String::from))
            .collect(),
        _ => return Ok(None),
    };
    Ok(Some(words.into_iter().map(Scope::new).collect()))
}

impl TokenResponse for TokenReply {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        self.expires_in.map(Duration::from_secs)
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

/// `expires_in` as a number or a string of digits; anything else (a negative number, words) is
/// no lifetime at all, and the default applies.
fn seconds<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(number) => number.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    })
}

/// A successful token response, reduced to what the token file stores.
#[derive(Debug)]
pub struct Granted {
    pub access_token: Secret,
    /// `expires_in`; RFC 6749 section 5.1 makes it optional.
    pub expires_in: Option<Duration>,
    /// Present when the provider issued (or rotated) a refresh token.
    pub refresh_token: Option<Secret>,
    pub scope: Option<String>,
    /// The ID token, when the provider sent one: read for who signed in (`oauth::id_token`),
    /// never stored.
    pub id_token: Option<Secret>,
    /// How much longer the refresh token lives, when the provider said.
    pub refresh_token_lifetime: Option<Duration>,
}

/// Why a grant failed.
#[derive(Debug)]
pub enum GrantFailure {
    /// Network trouble or a timeout: the grant may work later.
    Transient(String),
    /// The provider answered, and not with tokens (RFC 6749 section 5.2, or anything else).
    Refused(Box<ProviderAnswer>),
    /// A success answer that is not a usable token response.
    Malformed(String),
    /// Not sent: the endpoint is not https (nor http on loopback).
    Insecure(String),
    /// The endpoint's URL cannot work as it is: an https:// URL to a server that does not speak
    /// TLS. Retrying cannot help.
    WrongUrl(String),
    /// The endpoint's certificate comes from an authority not trusted here. Retrying cannot help.
    Untrusted(String),
    /// Tokens that cannot be used for mail, whatever is tried again.
    Unusable(String),
    /// A success answer refused for another reason (`then`) that still rotated the refresh
    /// token: the new one is the only one the provider honours now, so it must be kept.
    Rotated {
        refresh_token: Secret,
        then: Box<GrantFailure>,
    },
}

impl GrantFailure {
    /// True when trying again later may succeed, for an answer from `endpoint`.
    pub fn is_temporary(&self, endpoint: Endpoint) -> bool {
        match self {
            GrantFailure::Transient(_) | GrantFailure::Malformed(_) => true,
            GrantFailure::Insecure(_)
            | GrantFailure::WrongUrl(_)
            | GrantFailure::Untrusted(_)
            | GrantFailure::Unusable(_) => false,
            GrantFailure::Refused(answer) => {
                provider_answer::classify(answer, endpoint).status == ExitStatus::Temporary
            }
            GrantFailure::Rotated { then, .. } => then.is_temporary(endpoint),
        }
    }

    /// The error to end with, judged by the one classification of provider answers.
    pub fn into_error(self, endpoint: Endpoint, situation: &Situation) -> Error {
        let host = situation.host;
        match self {
            // Network failures name their host and port themselves (`network`).
            GrantFailure::Transient(detail) if detail.contains(host) => {
                Error::temporary(format!("the {} request failed: {detail}", situation.what))
                    .hint(provider_answer::later(situation.login_exists))
            }
            GrantFailure::Transient(detail) => Error::temporary(format!(
                "the {} request to {host} failed: {detail}",
                situation.what
            ))
            .hint(provider_answer::later(situation.login_exists)),
            GrantFailure::WrongUrl(detail) => {
                Error::config(format!("the {} request failed: {detail}", situation.what)).hint(
                    format!(
                        "correct the provider's URL (--issuer or --token-endpoint) and run '{}'",
                        situation.authorize_command
                    ),
                )
            }
            GrantFailure::Untrusted(detail) => {
                Error::config(format!("the {} request failed: {detail}", situation.what))
                    .hint(crate::net::tls::trust_hint())
            }
            GrantFailure::Malformed(detail) => {
                Error::temporary(format!("{host} sent an unusable token response: {detail}"))
                    .hint("try again later; --debug shows the whole exchange")
            }
            GrantFailure::Refused(answer) => {
                provider_answer::into_error(&answer, endpoint, situation)
            }
            GrantFailure::Insecure(detail) => Error::config(format!(
                "the {} request to {host} was not sent: {detail}",
                situation.what
            ))
            .hint("use the provider's https:// address"),
            GrantFailure::Unusable(detail) => Error::config(format!("{host}: {detail}"))
                .hint("check the app registration: it must issue bearer tokens"),
            GrantFailure::Rotated { then, .. } => then.into_error(endpoint, situation),
        }
    }
}

/// Reduces a token response to what the token file keeps. The access token is printed as one
/// line and sent in SASL strings, so it must be a visible-ASCII token (RFC 6750 section 2.1's
/// b64token is a subset); anything else is refused rather than passed on.
pub fn granted(response: &TokenReply) -> Result<Granted, GrantFailure> {
    // RFC 6750: only bearer tokens can be presented as mail clients present them (XOAUTH2 and
    // OAUTHBEARER carry "Bearer"); a MAC or proof-of-possession token would fail at every server.
    let other_type = match response.token_type() {
        BasicTokenType::Bearer => None,
        BasicTokenType::Mac => Some("mac"),
        BasicTokenType::Extension(name) => Some(name.as_str()),
    };
    let refresh_token = response
        .refresh_token()
        .map(|token| Secret::new(token.secret().clone()))
        .filter(|token| !token.is_empty());
    if let Some(name) = other_type {
        // The provider's own word, so sanitised and bounded, and not escaped again: {:?} would
        // double every backslash (fuzzing sent long types of both).
        return Err(keeping_rotated(
            refresh_token,
            GrantFailure::Unusable(format!(
                "the provider issued a token of type \"{}\", and mail servers take only bearer tokens",
                log::sanitize(name)
            )),
        ));
    }
    let access_token = response.access_token().secret();
    if access_token.is_empty() || !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(keeping_rotated(
            refresh_token,
            GrantFailure::Malformed(
                "the access token is empty or contains spaces, control or non-ASCII characters"
                    .into(),
            ),
        ));
    }
    let scope = response.scopes().map(|scopes| {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    });
    Ok(Granted {
        access_token: Secret::new(access_token.clone()),
        expires_in: response.expires_in(),
        refresh_token,
        scope,
        id_token: response
            .id_token
            .as_ref()
            .filter(|token| !token.is_empty())
            .map(|token| Secret::new(token.clone())),
        refresh_token_lifetime: response
            .refresh_token_expires_in
            .filter(|seconds| *seconds > 0)
            .map(Duration::from_secs),
    })
}

/// `failure`, carrying the refresh token the refused answer rotated, if it did.
pub(super) fn keeping_rotated(
    refresh_token: Option<Secret>,
    failure: GrantFailure,
) -> GrantFailure {
    match refresh_token {
        Some(refresh_token) => GrantFailure::Rotated {
            refresh_token,
            then: Box::new(failure),
        },
        None => failure,
    }
}

/// The refresh token in a success answer that is not a token response as a whole (an access
/// token missing or of the wrong JSON type): still the provider's newest one.
pub(super) fn rotated_in(body: &[u8]) -> Option<Secret> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("refresh_token")?
        .as_str()
        .filter(|token| !token.is_empty())
        .map(|token| Secret::new(token.to_string()))
}

/// What a failed exchange with a token endpoint means for the grant; every token request, oauth2's
/// and the device poll, is judged by this one mapping.
pub(super) fn request_failure(error: HttpError) -> GrantFailure {
    match error {
        HttpError::Answer(answer) => GrantFailure::Refused(answer),
        HttpError::Insecure(detail) => GrantFailure::Insecure(detail),
        HttpError::NotTls(detail) => GrantFailure::WrongUrl(detail),
        HttpError::Untrusted(detail) => GrantFailure::Untrusted(detail),
        HttpError::TooLarge => GrantFailure::Malformed(error.to_string()),
        other => GrantFailure::Transient(other.to_string()),
    }
}

/// A success answer whose body is not a token response (RFC 6749 section 5.1).
pub(super) fn not_a_token_response(error: impl std::fmt::Display) -> GrantFailure {
    GrantFailure::Malformed(format!(
        "not a valid token response ({})",
        log::sanitize(&error.to_string())
    ))
}

/// Sorts any token-endpoint failure. Response bodies are never quoted whole: they may hold
/// tokens; an error answer is reduced to its named fields by `ProviderAnswer`.
pub(crate) fn classify(error: RequestTokenError<HttpError, BasicErrorResponse>) -> GrantFailure {
    match error {
        // Http turns every non-success answer into HttpError::Answer before oauth2 sees it; this
        // arm is for completeness.
        RequestTokenError::ServerResponse(response) => {
            GrantFailure::Refused(Box::new(ProviderAnswer {
                error: Some(log::sanitize(response.error().as_ref())),
                description: response.error_description().map(|d| log::sanitize(d)),
                ..ProviderAnswer::default()
            }))
        }
        RequestTokenError::Request(error) => request_failure(error),
        RequestTokenError::Parse(error, body) => {
            keeping_rotated(rotated_in(&body), not_a_token_response(error))
        }
        RequestTokenError::Other(detail) => GrantFailure::Malformed(log::sanitize(&detail)),
    }
}
