//! The key material of a signing credential: an RSA private key that signs RS256 JWTs
//! (RFC 7515, RFC 7518 section 3.3) with ring, and the certificate that goes with a Microsoft
//! certificate credential, with its SHA-1 thumbprint (`x5t`). `credential` checks a key file with
//! it when `--authorize` reads one; `grant::assertion` signs with it on every request.

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::base::secret::Secret;

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
