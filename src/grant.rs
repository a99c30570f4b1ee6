//! Requests to the token endpoint (RFC 6749 section 3.2): the refresh_token grant (section 6) and
//! the client_credentials grant (section 4.4), and how their failures are classified.
//!
//! The authorization flows exchange their codes through the same client and classification, so
//! every token response in the program is read and judged in one place.

use std::time::Duration;

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, Client, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    RefreshToken, RequestTokenError, Scope, StandardDeviceAuthorizationResponse,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ExitStatus};
use crate::http::{Http, HttpError};
use crate::log;
use crate::provider::{ClientAuth, Registration};
use crate::provider_answer::{self, Endpoint, ProviderAnswer, Situation};
use crate::secret::Secret;

/// An oauth2 client reading token responses as `TokenReply`, with these endpoints set.
pub type ClientWith<Auth, Device, Token> = Client<
    BasicErrorResponse,
    TokenReply,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    Auth,
    Device,
    EndpointNotSet,
    EndpointNotSet,
    Token,
>;

/// An oauth2 client that knows its token endpoint.
pub type TokenClient = ClientWith<EndpointNotSet, EndpointNotSet, EndpointSet>;

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
        deserialize_with = "oauth2::helpers::deserialize_space_delimited_vec",
        serialize_with = "oauth2::helpers::serialize_space_delimited_vec",
        skip_serializing_if = "Option::is_none"
    )]
    scopes: Option<Vec<Scope>>,
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
    /// Tokens that cannot be used for mail, whatever is tried again.
    Unusable(String),
}

impl GrantFailure {
    /// True when trying again later may succeed.
    pub fn is_temporary(&self) -> bool {
        match self {
            GrantFailure::Transient(_) | GrantFailure::Malformed(_) => true,
            GrantFailure::Insecure(_) | GrantFailure::Unusable(_) => false,
            GrantFailure::Refused(answer) => {
                provider_answer::classify(answer, Endpoint::Token).status == ExitStatus::Temporary
            }
        }
    }

    /// The error to end with, judged by the one classification of provider answers.
    pub fn into_error(self, endpoint: Endpoint, situation: &Situation) -> Error {
        let host = situation.host;
        match self {
            GrantFailure::Transient(detail) => Error::temporary(format!(
                "the {} request to {host} failed: {detail}",
                situation.what
            ))
            .hint("try again later; the login itself is fine"),
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
        }
    }
}

/// Builds the oauth2 client for a registration and client id/secret.
pub fn token_client(
    registration: &Registration,
    client_id: &str,
    client_secret: Option<&Secret>,
) -> Result<TokenClient, Error> {
    let token_url = TokenUrl::new(registration.token_endpoint.clone()).map_err(|e| {
        Error::config(format!(
            "invalid token endpoint {:?}: {e}",
            registration.token_endpoint
        ))
    })?;
    let auth_type = match registration.client_auth {
        ClientAuth::ClientSecretPost => AuthType::RequestBody,
        ClientAuth::ClientSecretBasic => AuthType::BasicAuth,
    };
    let mut client = Client::new(ClientId::new(client_id.to_string()))
        .set_token_uri(token_url)
        .set_auth_type(auth_type);
    // A public client (empty secret) sends none: RFC 6749 section 2.3.1 forbids an empty one.
    if let Some(secret) = client_secret.filter(|secret| !secret.is_empty()) {
        client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
    }
    Ok(client)
}

/// The refresh_token grant (RFC 6749 section 6).
pub fn refresh(
    http: &Http,
    registration: &Registration,
    client_id: &str,
    client_secret: Option<&Secret>,
    refresh_token: &Secret,
) -> Result<Granted, GrantFailure> {
    let client = token_client(registration, client_id, client_secret)
        .map_err(|e| GrantFailure::Malformed(e.to_string()))?;
    let refresh_token = RefreshToken::new(refresh_token.expose().to_string());
    let mut request = client.exchange_refresh_token(&refresh_token);
    if registration.scope_on_refresh {
        request = request.add_scopes(scopes(&registration.scope));
    }
    log::verbose(format!(
        "refreshing the access token at {}",
        registration.token_host()
    ));
    request
        .request(http)
        .map_err(classify)
        .and_then(|response| granted(&response))
}

/// The client_credentials grant (RFC 6749 section 4.4): a confidential client asks for itself.
pub fn client_credentials(
    http: &Http,
    registration: &Registration,
    client_id: &str,
    client_secret: Option<&Secret>,
) -> Result<Granted, GrantFailure> {
    let client = token_client(registration, client_id, client_secret)
        .map_err(|e| GrantFailure::Malformed(e.to_string()))?;
    log::verbose(format!(
        "requesting a client-credentials token at {}",
        registration.token_host()
    ));
    client
        .exchange_client_credentials()
        .add_scopes(scopes(&registration.scope))
        .request(http)
        .map_err(classify)
        .and_then(|response| granted(&response))
}

/// Splits a space-separated scope string (RFC 6749 section 3.3).
pub fn scopes(scope: &str) -> impl Iterator<Item = Scope> + '_ {
    scope.split_whitespace().map(|s| Scope::new(s.to_string()))
}

/// Reduces a token response to what the token file keeps. The access token is printed as one
/// line and sent in SASL strings, so it must be a visible-ASCII token (RFC 6750 section 2.1's
/// b64token is a subset); anything else is refused rather than passed on.
pub fn granted(response: &TokenReply) -> Result<Granted, GrantFailure> {
    // RFC 6750: only bearer tokens can be presented as mail clients present them (XOAUTH2 and
    // OAUTHBEARER carry "Bearer"); a MAC or proof-of-possession token would fail at every server.
    if *response.token_type() != BasicTokenType::Bearer {
        return Err(GrantFailure::Unusable(format!(
            "the provider issued a {:?} token, and mail servers take only bearer tokens",
            response.token_type()
        )));
    }
    let access_token = response.access_token().secret();
    if access_token.is_empty() || !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(GrantFailure::Malformed(
            "the access token is empty or contains spaces, control or non-ASCII characters".into(),
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
        refresh_token: response
            .refresh_token()
            .map(|token| Secret::new(token.secret().clone()))
            .filter(|token| !token.is_empty()),
        scope,
    })
}

/// The longest a device code is taken to live. Providers give 15 or 30 minutes (RFC 8628 section
/// 3.2 sets no bound); a larger `expires_in` is capped so that adding it to the clock cannot
/// overflow, which would panic.
pub const MAX_DEVICE_CODE_LIFE: Duration = Duration::from_secs(2 * 60 * 60);

/// The longest polling interval taken from a provider, slow_down steps included. Five seconds is
/// usual; doubling it for the back-off must not overflow, and a minute keeps a sign-in lively.
pub const MAX_DEVICE_INTERVAL: Duration = Duration::from_secs(60);

/// What the device flow uses of a device authorization response (RFC 8628 section 3.2): the
/// durations bounded, and the text for the terminal sanitised like every other provider text.
#[derive(Debug)]
pub struct DeviceCode {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    /// The provider's interval (default 5 s), at most [`MAX_DEVICE_INTERVAL`].
    pub interval: Duration,
}

/// Reads a device authorization response into a [`DeviceCode`].
pub fn device_code(details: &StandardDeviceAuthorizationResponse) -> DeviceCode {
    DeviceCode {
        device_code: Secret::new(details.device_code().secret().clone()),
        user_code: log::sanitize(details.user_code().secret()),
        verification_uri: log::sanitize(details.verification_uri().as_str()),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|complete| log::sanitize(complete.secret())),
        expires_in: details.expires_in().min(MAX_DEVICE_CODE_LIFE),
        interval: details.interval().min(MAX_DEVICE_INTERVAL),
    }
}

/// Sorts any token-endpoint failure. Response bodies are never quoted whole: they may hold
/// tokens; an error answer is reduced to its named fields by `ProviderAnswer`.
pub fn classify(error: RequestTokenError<HttpError, BasicErrorResponse>) -> GrantFailure {
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
        RequestTokenError::Request(error) => match error {
            HttpError::Answer(answer) => GrantFailure::Refused(answer),
            HttpError::Insecure(detail) => GrantFailure::Insecure(detail),
            HttpError::TooLarge => GrantFailure::Malformed(error.to_string()),
            other => GrantFailure::Transient(other.to_string()),
        },
        RequestTokenError::Parse(error, _body) => GrantFailure::Malformed(format!(
            "not a valid token response ({})",
            log::sanitize(&error.to_string())
        )),
        RequestTokenError::Other(detail) => GrantFailure::Malformed(log::sanitize(&detail)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found writing the device_response fuzz target: `Instant::now() + expires_in` panicked on an
    // `expires_in` near u64::MAX, and so did the doubled back-off on such an `interval`.
    #[test]
    fn absurd_device_durations_are_bounded_and_text_is_sanitised() {
        let details: StandardDeviceAuthorizationResponse = serde_json::from_str(
            r#"{"device_code":"d","user_code":"AB\u001b]0;x\u0007CD","verification_uri":"https://example.com/device","expires_in":18446744073709551615,"interval":18446744073709551615}"#,
        )
        .unwrap();
        let code = device_code(&details);
        assert_eq!(code.expires_in, MAX_DEVICE_CODE_LIFE);
        assert_eq!(code.interval, MAX_DEVICE_INTERVAL);
        let _ = std::time::Instant::now() + code.expires_in + code.interval * 2;
        assert_eq!(code.user_code, "AB ]0;x CD");
        let usual: StandardDeviceAuthorizationResponse = serde_json::from_str(
            r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://microsoft.com/devicelogin","expires_in":900}"#,
        )
        .unwrap();
        let code = device_code(&usual);
        assert_eq!(code.expires_in, Duration::from_secs(900));
        assert_eq!(code.interval, Duration::from_secs(5));
    }
}
