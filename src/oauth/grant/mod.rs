//! Requests to the token endpoint (RFC 6749 section 3.2): the refresh_token grant (section 6) and
//! the client_credentials grant (section 4.4), and how their failures are classified.
//!
//! The authorization flows exchange their codes through the same client and classification, and
//! the device grant (RFC 8628) is in `device_authorization` and the signed-JWT grants in
//! `assertion`, so every token request in the program is made, and every token response read and
//! judged, here. This file is the story (the client, the refresh and client-credentials grants);
//! `reply` reads and judges what comes back, `post` builds the requests oauth2 cannot send for
//! us.

pub(crate) mod assertion;
mod device_authorization;
mod post;
mod reply;

pub(crate) use device_authorization::{DeviceCode, DevicePoll, device_token};
pub use device_authorization::{MAX_DEVICE_CODE_LIFE, MAX_DEVICE_INTERVAL, device_code};
pub(crate) use post::client_post;
pub use reply::{GrantFailure, TokenReply, granted};
pub(crate) use reply::{Granted, classify};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, Client, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, Scope,
    StandardRevocableToken, TokenUrl,
};

use crate::base::error::Error;
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::http::Http;
use crate::oauth::provider::{ClientAuth, Registration};

/// An oauth2 client reading token responses as `TokenReply`, with these endpoints set.
pub(crate) type ClientWith<Auth, Device, Token> = Client<
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
pub(crate) type TokenClient = ClientWith<EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Builds the oauth2 client for a registration and client id/secret.
pub(crate) fn token_client(
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
pub(crate) fn refresh(
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
pub(crate) fn client_credentials(
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

/// A token for an account without a user, asked for again at every renewal: with the signing
/// credential when the account has one (a service account's JWT bearer grant, or the
/// client-credentials grant with a certificate's assertion), else the client-credentials grant
/// with the client secret.
pub(crate) fn without_user(
    http: &Http,
    registration: &Registration,
    client_id: &str,
    client_secret: Option<&Secret>,
    credential: Option<&crate::oauth::signing::Credential>,
    mailbox: &str,
) -> Result<Granted, GrantFailure> {
    use crate::oauth::signing::Credential;
    match credential {
        Some(service @ Credential::ServiceAccount { .. }) => {
            assertion::jwt_bearer(http, registration, service, mailbox)
        }
        Some(certificate @ Credential::Certificate { .. }) => {
            assertion::client_credentials_with_certificate(
                http,
                registration,
                client_id,
                certificate,
            )
        }
        None => client_credentials(http, registration, client_id, client_secret),
    }
}

/// Splits a space-separated scope string (RFC 6749 section 3.3).
pub(crate) fn scopes(scope: &str) -> impl Iterator<Item = Scope> + '_ {
    scope.split_whitespace().map(|s| Scope::new(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(token_type: &str) -> TokenReply {
        serde_json::from_value(serde_json::json!({
            "access_token": "an-access-token", "token_type": token_type, "expires_in": 3600
        }))
        .unwrap()
    }

    #[test]
    fn another_token_type_is_named_in_printable_words() {
        let Err(GrantFailure::Unusable(message)) = granted(&reply("mac")) else {
            panic!("a mac token was taken")
        };
        assert!(message.contains("\"mac\""), "{message}");
        // Found by fuzzing: the type is the provider's text, of any length and any characters.
        let hostile = format!("pop\u{202e}\x1b[2J{}", "\\".repeat(100_000));
        let Err(GrantFailure::Unusable(message)) = granted(&reply(&hostile)) else {
            panic!("a hostile token type was taken")
        };
        assert!(!message.contains(['\u{202e}', '\x1b']), "{message}");
        assert!(message.len() < 700, "{} bytes", message.len());
        assert!(granted(&reply("BEARER")).is_ok());
    }
}
