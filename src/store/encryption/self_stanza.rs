//! A second way into the files mailtoken writes to its own identity, without an X25519 operation.
//!
//! Opening an age file for an X25519 identity costs one scalar multiplication (the shared secret
//! with the file's ephemeral share): over a third of the cached-token path. But when mailtoken
//! writes a token file to a recipient whose identity it holds (the default identity, or
//! `--age-identity`), it can also wrap the file key for that identity directly: a key derived by
//! HKDF-SHA-256 from the identity's secret and a random salt, the file key sealed under it with
//! ChaCha20-Poly1305, exactly as age seals it in its X25519 stanza. The stanza
//!
//! ```text
//! -> mailtoken-self SALT
//! WRAPPED-FILE-KEY
//! ```
//!
//! stands beside the X25519 one, which stays, so `age -d -i IDENTITY` and every other age
//! implementation open the file as before: identities skip stanzas of types they do not know
//! (age-encryption.org/v1, "Recipient stanzas"). mailtoken opens its own stanza first.
//!
//! It weakens nothing: deriving the wrapping key takes the identity's secret, which opens the
//! X25519 stanza anyway; without it the derived key is indistinguishable from random (RFC 5869),
//! and the salt is fresh for every file, so no two files share a wrapping key.

use std::collections::HashSet;

use age::{DecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use age_core::secrecy::ExposeSecret;
use base64::Engine;
use zeroize::Zeroizing;

/// The stanza's type.
pub(crate) const TAG: &str = "mailtoken-self";

/// The HKDF label: separates this derivation from every other use of the identity's secret.
const LABEL: &[u8] = b"mailtoken.invalid/v1/self-stanza";

/// Bytes of fresh salt per file.
const SALT_BYTES: usize = 32;

/// The wrapping key for `salt`: HKDF-SHA-256 of the identity's secret, salted with the stanza's
/// salt and the identity's public key (binding the stanza to the one identity, as age's X25519
/// stanza binds to its recipient).
fn wrapping_key(secret: &[u8; 32], public: &[u8; 32], salt: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut full_salt = Vec::with_capacity(salt.len() + 32);
    full_salt.extend_from_slice(salt);
    full_salt.extend_from_slice(public);
    Zeroizing::new(hkdf(&full_salt, LABEL, secret))
}

/// Writes the stanza for the identity whose secret and public key are given.
pub(crate) struct SelfRecipient {
    pub secret: Zeroizing<[u8; 32]>,
    pub public: [u8; 32],
}

impl age::Recipient for SelfRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
        let mut salt = [0u8; SALT_BYTES];
        getrandom::getrandom(&mut salt).map_err(|e| EncryptError::Io(std::io::Error::other(e)))?;
        let key = wrapping_key(&self.secret, &self.public, &salt);
        let body = aead_encrypt(&key, file_key.expose_secret());
        let stanza = Stanza {
            tag: TAG.to_string(),
            args: vec![base64::engine::general_purpose::STANDARD_NO_PAD.encode(salt)],
            body,
        };
        // No labels: it may stand beside any other recipient's stanza.
        Ok((vec![stanza], HashSet::new()))
    }
}

/// Opens the stanza with the identity's secret and public key: `None` when it is not this
/// stanza's type, not for this identity, or not well formed, so the next stanza or identity is
/// tried. A malformed stanza of this type is not an error of the file: other age
/// implementations skip it as a type they do not know and open the file through its X25519
/// stanza, and so does mailtoken. Only the X25519 stanza's verdict may call a file damaged.
pub(crate) fn unwrap(
    secret: &[u8; 32],
    public: &[u8; 32],
    stanza: &Stanza,
) -> Option<Result<FileKey, DecryptError>> {
    if stanza.tag != TAG {
        return None;
    }
    let [arg] = &stanza.args[..] else {
        return None;
    };
    let salt = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(arg)
        .ok()
        .filter(|salt| salt.len() == SALT_BYTES)?;
    if stanza.body.len() != FILE_KEY_BYTES + 16 {
        return None;
    }
    let key = wrapping_key(secret, public, &salt);
    let file_key = Zeroizing::new(aead_decrypt(&key, FILE_KEY_BYTES, &stanza.body).ok()?);
    Some(Ok(FileKey::init_with_mut(|out| {
        out.copy_from_slice(&file_key)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// An identity that knows only mailtoken's stanza: what opens with it opened without X25519.
    struct OnlySelf {
        secret: [u8; 32],
        public: [u8; 32],
    }

    impl age::Identity for OnlySelf {
        fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
            unwrap(&self.secret, &self.public, stanza)
        }
    }

    fn keys(identity: &age::x25519::Identity) -> ([u8; 32], [u8; 32]) {
        let text = identity.to_string();
        let (_, data, _) = bech32::decode(&text.expose_secret().to_ascii_lowercase()).unwrap();
        let secret: [u8; 32] = bech32::FromBase32::from_base32(&data)
            .map(|bytes: Vec<u8>| bytes.try_into().unwrap())
            .unwrap();
        let public =
            *x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(secret)).as_bytes();
        (secret, public)
    }

    fn encrypt(identity: &age::x25519::Identity, plaintext: &[u8]) -> Vec<u8> {
        let (secret, public) = keys(identity);
        let own = SelfRecipient {
            secret: Zeroizing::new(secret),
            public,
        };
        let x25519 = identity.to_public();
        let recipients: [&dyn age::Recipient; 2] = [&own, &x25519];
        let encryptor = age::Encryptor::with_recipients(recipients.into_iter()).unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap();
        out
    }

    fn decrypt(identity: &dyn age::Identity, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let decryptor = age::Decryptor::new_buffered(ciphertext)?;
        let mut reader = decryptor.decrypt(std::iter::once(identity))?;
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).unwrap();
        Ok(plaintext)
    }

    #[test]
    fn the_own_stanza_alone_opens_the_file_and_age_still_opens_it_as_before() {
        let identity = age::x25519::Identity::generate();
        let ciphertext = encrypt(&identity, b"the token file");
        let (secret, public) = keys(&identity);
        assert_eq!(
            decrypt(&OnlySelf { secret, public }, &ciphertext).unwrap(),
            b"the token file"
        );
        // age's own identity, as `age -d -i` uses it, skips the stanza it does not know.
        assert_eq!(decrypt(&identity, &ciphertext).unwrap(), b"the token file");
        assert!(
            String::from_utf8_lossy(&ciphertext).contains("-> mailtoken-self "),
            "the stanza is in the header"
        );
    }

    #[test]
    fn another_identity_cannot_use_the_stanza() {
        let identity = age::x25519::Identity::generate();
        let ciphertext = encrypt(&identity, b"secret");
        let (secret, public) = keys(&age::x25519::Identity::generate());
        assert!(matches!(
            decrypt(&OnlySelf { secret, public }, &ciphertext),
            Err(DecryptError::NoMatchingKeys)
        ));
        // Nor the right secret bound to another public key.
        let (secret, _) = keys(&identity);
        assert!(decrypt(&OnlySelf { secret, public }, &ciphertext).is_err());
    }

    /// Writes a stanza of mailtoken's type that is not well formed, as another program might.
    struct MalformedSelf(Vec<String>, usize);

    impl age::Recipient for MalformedSelf {
        fn wrap_file_key(
            &self,
            _: &FileKey,
        ) -> Result<(Vec<Stanza>, HashSet<String>), EncryptError> {
            let stanza = Stanza {
                tag: TAG.to_string(),
                args: self.0.clone(),
                body: vec![7; self.1],
            };
            Ok((vec![stanza], HashSet::new()))
        }
    }

    #[test]
    fn a_malformed_own_stanza_is_passed_over_for_the_x25519_one() {
        let identity = age::x25519::Identity::generate();
        let text = format!(
            "# public key: {}\n{}\n",
            identity.to_public(),
            identity.to_string().expose_secret()
        );
        let known = super::super::known_public_key::KnownPublicKey::from_identity_file(&text)
            .expect("an identity file with its public key");
        let good_salt = base64::engine::general_purpose::STANDARD_NO_PAD.encode([1u8; SALT_BYTES]);
        for malformed in [
            MalformedSelf(vec!["not base64!".into()], FILE_KEY_BYTES + 16),
            MalformedSelf(vec!["AAAA".into()], FILE_KEY_BYTES + 16),
            MalformedSelf(vec![], FILE_KEY_BYTES + 16),
            MalformedSelf(vec![good_salt.clone(), "extra".into()], FILE_KEY_BYTES + 16),
            MalformedSelf(vec![good_salt.clone()], 3),
        ] {
            let x25519 = identity.to_public();
            let recipients: [&dyn age::Recipient; 2] = [&malformed, &x25519];
            let encryptor = age::Encryptor::with_recipients(recipients.into_iter()).unwrap();
            let mut ciphertext = Vec::new();
            let mut writer = encryptor.wrap_output(&mut ciphertext).unwrap();
            writer.write_all(b"the token file").unwrap();
            writer.finish().unwrap();
            assert_eq!(
                decrypt(&known, &ciphertext).unwrap(),
                b"the token file",
                "args {:?}, body of {} bytes",
                malformed.0,
                malformed.1
            );
        }
    }

    #[test]
    fn every_file_gets_a_fresh_salt() {
        let identity = age::x25519::Identity::generate();
        let salt = |ciphertext: &[u8]| {
            let text = String::from_utf8_lossy(ciphertext).into_owned();
            text.lines()
                .find(|line| line.starts_with("-> mailtoken-self "))
                .unwrap()
                .to_string()
        };
        assert_ne!(
            salt(&encrypt(&identity, b"a")),
            salt(&encrypt(&identity, b"a"))
        );
    }
}
