//! An age X25519 identity that reads its public key instead of recomputing it.
//!
//! age's own X25519 identity derives the recipient's public key on every decryption, because the
//! HKDF salt is `ephemeral share || recipient public key` (age-encryption.org/v1, X25519 recipient
//! stanza). That scalar multiplication is an eighth of the cached-token path. Identity files
//! written by `age-keygen` and by mailtoken carry the public key in a `# public key: age1…`
//! comment; this identity takes it from there.
//!
//! The comment is not trusted: if it does not belong to the secret key, the salt is wrong, the
//! AEAD tag does not verify, this identity reports the stanza as not its own, and age's standard
//! identity (always tried after this one) decrypts the file instead.

use age::DecryptError;
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, hkdf};
use base64::Engine;
use bech32::{FromBase32, ToBase32};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::self_stanza::{self, SelfRecipient};

/// The stanza tag and HKDF label of age's X25519 recipient type.
const TAG: &str = "X25519";
const LABEL: &[u8] = b"age-encryption.org/v1/X25519";

/// An X25519 secret key with its public key, both from the identity file.
pub(crate) struct KnownPublicKey {
    secret: StaticSecret,
    public: PublicKey,
}

impl KnownPublicKey {
    /// Reads the single `AGE-SECRET-KEY-1…` line and its `# public key: age1…` comment; `None`
    /// when either is missing or there is more than one key.
    pub(crate) fn from_identity_file(text: &str) -> Option<KnownPublicKey> {
        let mut secret = None;
        let mut public = None;
        for line in text.lines().map(str::trim) {
            if let Some(key) = line.strip_prefix("# public key:") {
                public = Some(bech32_key(key.trim(), "age")?);
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                if secret.is_some() {
                    return None;
                }
                secret = Some(Zeroizing::new(bech32_key(
                    &line.to_ascii_lowercase(),
                    "age-secret-key-",
                )?));
            }
        }
        Some(KnownPublicKey {
            secret: StaticSecret::from(*secret?),
            public: PublicKey::from(public?),
        })
    }

    /// The recipient that writes mailtoken's own stanza for this identity (`self_stanza`), once
    /// the public key is known to be the secret's (one scalar multiplication, on writes only);
    /// and that public key as an age recipient (`age1…`).
    pub(crate) fn self_recipient(&self) -> Option<(SelfRecipient, String)> {
        let derived = PublicKey::from(&self.secret);
        if derived != self.public {
            return None;
        }
        let recipient = bech32::encode(
            "age",
            self.public.as_bytes().to_base32(),
            bech32::Variant::Bech32,
        )
        .ok()?;
        Some((
            SelfRecipient {
                secret: Zeroizing::new(self.secret.to_bytes()),
                public: *self.public.as_bytes(),
            },
            recipient,
        ))
    }
}

/// Decodes a Bech32 key with the expected human-readable part into its 32 bytes.
fn bech32_key(text: &str, expected_hrp: &str) -> Option<[u8; 32]> {
    let (hrp, data, variant) = bech32::decode(text).ok()?;
    if hrp != expected_hrp || variant != bech32::Variant::Bech32 {
        return None;
    }
    let bytes = Zeroizing::new(Vec::<u8>::from_base32(&data).ok()?);
    bytes.as_slice().try_into().ok()
}

impl age::Identity for KnownPublicKey {
    /// mailtoken's own stanza first, wherever it stands in the header: it opens without the
    /// scalar multiplication the X25519 stanza needs.
    fn unwrap_stanzas(&self, stanzas: &[Stanza]) -> Option<Result<FileKey, DecryptError>> {
        let secret = Zeroizing::new(self.secret.to_bytes());
        stanzas
            .iter()
            .find_map(|stanza| self_stanza::unwrap(&secret, self.public.as_bytes(), stanza))
            .or_else(|| stanzas.iter().find_map(|stanza| self.unwrap_stanza(stanza)))
    }

    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        if stanza.tag != TAG {
            return None;
        }
        // The stanza's one argument is the ephemeral share in canonical unpadded base64, and its
        // body the wrapped file key; anything else is a malformed header.
        let ephemeral: [u8; 32] = match &stanza.args[..] {
            [arg] if arg.len() == 43 => {
                match base64::engine::general_purpose::STANDARD_NO_PAD.decode(arg) {
                    Ok(bytes) => match bytes.try_into() {
                        Ok(bytes) => bytes,
                        Err(_) => return Some(Err(DecryptError::InvalidHeader)),
                    },
                    Err(_) => return Some(Err(DecryptError::InvalidHeader)),
                }
            }
            _ => return Some(Err(DecryptError::InvalidHeader)),
        };
        if stanza.body.len() != FILE_KEY_BYTES + 16 {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let ephemeral = PublicKey::from(ephemeral);
        let shared = self.secret.diffie_hellman(&ephemeral);
        // A low-order ephemeral share gives an all-zero secret: refuse it, as age does.
        if !shared.was_contributory() {
            return Some(Err(DecryptError::InvalidHeader));
        }
        let mut salt = [0u8; 64];
        salt[..32].copy_from_slice(ephemeral.as_bytes());
        salt[32..].copy_from_slice(self.public.as_bytes());
        let wrapping_key = Zeroizing::new(hkdf(&salt, LABEL, shared.as_bytes()));
        // Not ours (or a wrong public-key comment): let the next identity try.
        let file_key =
            Zeroizing::new(aead_decrypt(&wrapping_key, FILE_KEY_BYTES, &stanza.body).ok()?);
        Some(Ok(FileKey::init_with_mut(|key| {
            key.copy_from_slice(&file_key)
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::Identity;
    use age::secrecy::ExposeSecret;
    use std::io::{Read, Write};
    use std::str::FromStr;

    fn encrypt_to(recipient: &age::x25519::Recipient, plaintext: &[u8]) -> Vec<u8> {
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(recipient as &dyn age::Recipient))
                .unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap();
        out
    }

    fn decrypt_with(
        identity: &dyn age::Identity,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let decryptor = age::Decryptor::new_buffered(ciphertext)?;
        let mut reader = decryptor.decrypt(std::iter::once(identity))?;
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).unwrap();
        Ok(plaintext)
    }

    fn identity_file(identity: &age::x25519::Identity, public: &str) -> String {
        format!(
            "# created: now\n# public key: {public}\n{}\n",
            identity.to_string().expose_secret()
        )
    }

    #[test]
    fn decrypts_what_age_encrypts() {
        let identity = age::x25519::Identity::generate();
        let text = identity_file(&identity, &identity.to_public().to_string());
        let known = KnownPublicKey::from_identity_file(&text).unwrap();
        for size in [0, 1, 4096, 70_000] {
            let plaintext = vec![7u8; size];
            let ciphertext = encrypt_to(&identity.to_public(), &plaintext);
            assert_eq!(decrypt_with(&known, &ciphertext).unwrap(), plaintext);
        }
    }

    #[test]
    fn a_wrong_public_key_comment_only_means_not_ours() {
        let identity = age::x25519::Identity::generate();
        let other = age::x25519::Identity::generate().to_public().to_string();
        let known = KnownPublicKey::from_identity_file(&identity_file(&identity, &other)).unwrap();
        let ciphertext = encrypt_to(&identity.to_public(), b"secret");
        assert!(matches!(
            decrypt_with(&known, &ciphertext),
            Err(DecryptError::NoMatchingKeys)
        ));
        // With age's own identity after it, as mailtoken arranges them, the file still opens.
        let decryptor = age::Decryptor::new_buffered(&ciphertext[..]).unwrap();
        let identities: [&dyn age::Identity; 2] = [&known, &identity];
        let mut plaintext = Vec::new();
        decryptor
            .decrypt(identities.into_iter())
            .unwrap()
            .read_to_end(&mut plaintext)
            .unwrap();
        assert_eq!(plaintext, b"secret");
    }

    #[test]
    fn another_recipients_file_is_not_ours() {
        let identity = age::x25519::Identity::generate();
        let known = KnownPublicKey::from_identity_file(&identity_file(
            &identity,
            &identity.to_public().to_string(),
        ))
        .unwrap();
        let stranger = age::x25519::Identity::generate();
        let ciphertext = encrypt_to(&stranger.to_public(), b"x");
        assert!(matches!(
            decrypt_with(&known, &ciphertext),
            Err(DecryptError::NoMatchingKeys)
        ));
    }

    #[test]
    fn files_without_a_usable_comment_are_left_to_age() {
        let identity = age::x25519::Identity::generate();
        let secret = identity.to_string().expose_secret().to_string();
        assert!(
            KnownPublicKey::from_identity_file(&secret).is_none(),
            "no comment"
        );
        let two = format!(
            "# public key: {}\n{secret}\n{secret}\n",
            identity.to_public()
        );
        assert!(
            KnownPublicKey::from_identity_file(&two).is_none(),
            "two keys"
        );
        let bad = format!("# public key: age1notakey\n{secret}\n");
        assert!(
            KnownPublicKey::from_identity_file(&bad).is_none(),
            "unreadable comment"
        );
        assert!(age::x25519::Recipient::from_str(&identity.to_public().to_string()).is_ok());
    }

    #[test]
    fn malformed_stanzas_are_refused() {
        let identity = age::x25519::Identity::generate();
        let known = KnownPublicKey::from_identity_file(&identity_file(
            &identity,
            &identity.to_public().to_string(),
        ))
        .unwrap();
        let stanza = |args: Vec<String>, body: Vec<u8>| Stanza {
            tag: TAG.into(),
            args,
            body,
        };
        let share = base64::engine::general_purpose::STANDARD_NO_PAD.encode([9u8; 32]);
        assert!(matches!(
            known.unwrap_stanza(&stanza(vec![], vec![0; 32])),
            Some(Err(DecryptError::InvalidHeader))
        ));
        assert!(matches!(
            known.unwrap_stanza(&stanza(vec![share.clone()], vec![0; 31])),
            Some(Err(DecryptError::InvalidHeader))
        ));
        assert!(matches!(
            known.unwrap_stanza(&stanza(vec!["short".into()], vec![0; 32])),
            Some(Err(DecryptError::InvalidHeader))
        ));
        // A low-order point (all zeros) gives an all-zero shared secret.
        let zero = base64::engine::general_purpose::STANDARD_NO_PAD.encode([0u8; 32]);
        assert!(matches!(
            known.unwrap_stanza(&stanza(vec![zero], vec![0; 32])),
            Some(Err(DecryptError::InvalidHeader))
        ));
        let other_tag = Stanza {
            tag: "scrypt".into(),
            args: vec![],
            body: vec![],
        };
        assert!(known.unwrap_stanza(&other_tag).is_none());
    }
}
