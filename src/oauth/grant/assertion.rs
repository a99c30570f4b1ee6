//! The token requests of a signing credential (`oauth::signing` makes their JWTs): the JWT
//! bearer grant of a Google service account (RFC 7523 section 2.1) and the client-credentials
//! grant authenticated by a certificate credential's client assertion (RFC 7523 section 2.2).
//! Each request signs a new assertion.

use super::post::form_post;
use super::reply::{
    GrantFailure, Granted, TokenReply, granted, not_a_token_response, request_failure,
};
use crate::base::log;
use crate::oauth::http::Http;
use crate::oauth::provider::Registration;
use crate::oauth::signing::Credential;
use crate::oauth::signing::jwt::{
    JWT_BEARER_ASSERTION, JWT_BEARER_GRANT, client_assertion, service_account_assertion,
};

/// Sends a token request made of `fields` (no client authentication beyond them) and reads the
/// answer as every other token request is read.
fn token_request(
    http: &Http,
    registration: &Registration,
    fields: &[(&str, &str)],
) -> Result<Granted, GrantFailure> {
    let request = form_post(&registration.token_endpoint, fields)
        .map_err(|e| GrantFailure::Malformed(e.message().to_string()))?;
    let response = http.execute(request).map_err(request_failure)?;
    let token: TokenReply =
        serde_json::from_slice(response.body()).map_err(not_a_token_response)?;
    granted(&token)
}

/// RFC 7523 section 2.1: a service account's assertion for `mailbox`, exchanged for a token.
pub(crate) fn jwt_bearer(
    http: &Http,
    registration: &Registration,
    credential: &Credential,
    mailbox: &str,
) -> Result<Granted, GrantFailure> {
    let assertion = service_account_assertion(
        credential,
        mailbox,
        &registration.scope,
        chrono::Utc::now().timestamp(),
    )
    .map_err(GrantFailure::Unusable)?;
    log::verbose(format!(
        "asking {} for a token for {} as the service account",
        registration.token_host(),
        log::sanitize(mailbox)
    ));
    token_request(
        http,
        registration,
        &[
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", assertion.expose()),
        ],
    )
}

/// RFC 6749 section 4.4 with RFC 7523 section 2.2's client authentication: the certificate
/// credential's assertion instead of a client secret.
pub(crate) fn client_credentials_with_certificate(
    http: &Http,
    registration: &Registration,
    client_id: &str,
    credential: &Credential,
) -> Result<Granted, GrantFailure> {
    let assertion = client_assertion(
        credential,
        client_id,
        &registration.token_endpoint,
        chrono::Utc::now().timestamp(),
    )
    .map_err(GrantFailure::Unusable)?;
    log::verbose(format!(
        "requesting a client-credentials token at {} with the certificate",
        registration.token_host()
    ));
    token_request(
        http,
        registration,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", assertion.expose()),
            ("scope", &registration.scope),
        ],
    )
}
