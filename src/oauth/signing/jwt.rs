//! The signed JWTs (RFC 7519) a signing credential makes in place of a client secret, RS256
//! (RFC 7518 section 3.3) with ring:
//!
//! - the JWT bearer grant's assertion (RFC 7523 section 2.1) of a Google service account with
//!   domain-wide delegation, as Google's "Using OAuth 2.0 for Server to Server Applications"
//!   describes it: `iss` the service account's `client_email`, `sub` the mailbox, `aud` the key's
//!   `token_uri`, `scope`, `iat` and `exp` at most an hour apart, `kid` the key's id;
//! - the client assertion (RFC 7523 section 2.2, RFC 7521 section 4.2) of a certificate
//!   credential, as Microsoft's "certificate credentials" page describes it: `iss` = `sub` = the
//!   client id, `aud` the token endpoint, a fresh `jti`, `nbf`, `iat`, `exp`, and the header's
//!   `x5t`, the base64url SHA-1 thumbprint of the certificate.
//!
//! Each request signs a new assertion: nothing signed is stored or sent twice.

use ring::rand::{SecureRandom, SystemRandom};
use serde_json::json;

use super::Credential;
use super::key::{SigningKey, thumbprint};
use crate::base::secret::Secret;

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
