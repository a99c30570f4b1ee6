//! Signed JWTs (RFC 7519) in place of a client secret, RS256 (RFC 7518 section 3.3) with ring:
//!
//! - the JWT bearer grant (RFC 7523 section 2.1) of a Google service account with domain-wide
//!   delegation, as Google's "Using OAuth 2.0 for Server to Server Applications" describes it:
//!   `iss` the service account's `client_email`, `sub` the mailbox, `aud` the key's `token_uri`,
//!   `scope`, `iat` and `exp` at most an hour apart, `kid` the key's id;
//! - the client assertion (RFC 7523 section 2.2, RFC 7521 section 4.2) of a certificate
//!   credential, as Microsoft's "certificate credentials" page describes it: `iss` = `sub` = the
//!   client id, `aud` the token endpoint, a fresh `jti`, `nbf`, `iat`, `exp`, and the header's
//!   `x5t`, the base64url SHA-1 thumbprint of the certificate.
//!
//! Each request signs a new assertion: nothing signed is stored or sent twice.

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use super::post::form_post;
use super::reply::{
    GrantFailure, Granted, TokenReply, granted, not_a_token_response, request_failure,
};
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::credential::Credential;
use crate::oauth::http::Http;
use crate::oauth::provider::Registration;
use crate::oauth::signing_key::{SigningKey, thumbprint};

/// RFC 7523 section 2.1's grant type.
pub(crate) const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// RFC 7523 section 2.2's client assertion type.
pub(crate) const JWT_BEARER_ASSERTION: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: Google allows at most an hour, Microsoft asks for a short
/// time; it is used at once.
const ASSERTION_LIFETIME: i64 = 10 * 60;

/// A fresh `jti`: 128 random bits, hex.
fn fresh_id() -> Result<String, String> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "no random numbers".to_string())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The service account's assertion for `mailbox` and `scope`.
pub(crate) fn service_account_assertion(
    credential: &Credential,
    mailbox: &str,
    scope: &str,
    now: i64,
) -> Result<Secret, String> {
    let Credential::ServiceAccount {
        client_email,
        key_id,
        private_key,
        token_uri,
    } = credential
    else {
        return Err("not a service account".into());
    };
    let key = SigningKey::from_pem(private_key.expose())?;
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if let Some(id) = key_id {
        header["kid"] = json!(id);
    }
    let claims = json!({
        "iss": client_email,
        "sub": mailbox,
        "scope": scope,
        "aud": token_uri,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    });
    key.sign(&header, &claims)
}

/// The certificate credential's client assertion for `client_id` at `token_endpoint`.
pub(crate) fn client_assertion(
    credential: &Credential,
    client_id: &str,
    token_endpoint: &str,
    now: i64,
) -> Result<Secret, String> {
    let Credential::Certificate {
        private_key,
        certificate,
    } = credential
    else {
        return Err("not a certificate credential".into());
    };
    let key = SigningKey::from_pem(private_key.expose())?;
    let x5t = thumbprint(certificate).ok_or("the certificate cannot be read")?;
    let header = json!({"alg": "RS256", "typ": "JWT", "x5t": x5t});
    let claims = json!({
        "iss": client_id,
        "sub": client_id,
        "aud": token_endpoint,
        "jti": fresh_id()?,
        "nbf": now,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
    });
    key.sign(&header, &claims)
}

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
