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

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

use super::{GrantFailure, Granted, TokenReply, granted, not_a_token_response, request_failure};
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::credential::Credential;
use crate::oauth::http::Http;
use crate::oauth::provider::Registration;

/// RFC 7523 section 2.1's grant type.
pub(crate) const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// RFC 7523 section 2.2's client assertion type.
pub(crate) const JWT_BEARER_ASSERTION: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is valid: Google allows at most an hour, Microsoft asks for a short
/// time; it is used at once.
const ASSERTION_LIFETIME: i64 = 10 * 60;

/// An RSA private key that signs RS256.
pub(crate) struct SigningKey {
    pair: RsaKeyPair,
}

impl SigningKey {
    /// The first private key in `pem`: PKCS#8 or PKCS#1, RSA. The reason it is refused never
    /// quotes the key.
    pub(crate) fn from_pem(pem: &str) -> Result<SigningKey, String> {
        let key = PrivateKeyDer::from_pem_slice(pem.as_bytes())
            .map_err(|_| "is not a PEM private key".to_string())?;
        let pair = match &key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err("is not an RSA key (RS256 needs one)".into()),
        }
        .map_err(|e| format!("is not a usable RSA key ({e})"))?;
        Ok(SigningKey { pair })
    }

    /// `header.claims.signature`, each part base64url without padding (RFC 7515 section 7.1).
    pub(crate) fn sign(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> Result<Secret, String> {
        let encode = |value: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
        };
        let input = format!("{}.{}", encode(header), encode(claims));
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "the key could not sign".to_string())?;
        Ok(Secret::new(format!(
            "{input}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
        )))
    }
}

/// The first certificate in `pem`, as PEM.
pub(crate) fn certificate_pem(pem: &str) -> Option<String> {
    let der = CertificateDer::pem_slice_iter(pem.as_bytes())
        .next()?
        .ok()?;
    let body = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap_or_default())
        .collect();
    Some(format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    ))
}

/// The certificate's SHA-1 thumbprint, base64url without padding: Microsoft's `x5t`. SHA-1 is
/// what the header names (RFC 7515 section 4.1.7), not a security choice of ours.
pub(crate) fn thumbprint(certificate: &str) -> Option<String> {
    let der = CertificateDer::pem_slice_iter(certificate.as_bytes())
        .next()?
        .ok()?;
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der.as_ref());
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref()))
}

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
    let request = super::form_post(&registration.token_endpoint, fields)
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
