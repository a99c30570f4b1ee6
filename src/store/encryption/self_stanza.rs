//! mailtoken's own age stanza: a second way into the files mailtoken writes to its own identity,
//! without an X25519 operation. docs/encryption.md ("mailtoken's own stanza") specifies it, with
//! test vectors that the tests below check.
//!
//! Opening an age file for an X25519 identity costs one scalar multiplication (the shared secret
//! with the file's ephemeral share), and age's identity a second to derive its own public key:
//! over a third of the cached-token path. But when mailtoken writes a token file to a recipient
//! whose identity it holds (the default identity, or `--age-identity`), it can also wrap the file
//! key for that identity directly: a key derived by HKDF-SHA-256 from the identity's secret and a
//! random salt, the file key sealed under it with ChaCha20-Poly1305, exactly as age seals it in
//! its X25519 stanza. The stanza
//!
//! ```text
//! -> mailtoken-self SALT
//! WRAPPED-FILE-KEY
//! ```
//!
//! stands beside the X25519 one, which stays, so `age -d -i IDENTITY` and every other age
//! implementation open the file as before: identities skip stanzas of types they do not know
//! (age-encryption.org/v1, "Recipient stanzas"). mailtoken opens its own stanza first
//! ([`SelfIdentity`]), and leaves every other stanza to age's own identity, tried after it.
//!
//! It weakens nothing: deriving the wrapping key takes the identity's secret, which opens the
//! X25519 stanza anyway; without it the derived key is indistinguishable from random (RFC 5869),
//! and the salt is fresh for every file, so no two files share a wrapping key.

use std::collections::HashSet;
use std::str::FromStr;

use age::{DecryptError, EncryptError};
use age_core::format::{FILE_KEY_BYTES, FileKey, Stanza};
use age_core::primitives::{aead_decrypt, aead_encrypt, hkdf};
use age_core::secrecy::ExposeSecret;
use base64::Engine;
use bech32::FromBase32;
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

/// The identity that opens mailtoken's own stanza: an age X25519 identity file's secret key,
/// with the public key its `# public key: age1…` comment gives (written by `age-keygen` and by
/// mailtoken). The stanza's key is bound to that public key, so a comment that does not belong
/// to the secret only means the stanza does not open; age's own identity, tried after this one,
/// opens the file through its X25519 stanza then, as it does every file without this stanza.
pub(crate) struct SelfIdentity {
    secret: Zeroizing<[u8; 32]>,
    public: [u8; 32],
    /// The `AGE-SECRET-KEY-1…` line, for age to derive the public key from when writing.
    secret_line: Zeroizing<String>,
    /// The comment's `age1…`.
    recipient: String,
}

impl SelfIdentity {
    /// Reads the single `AGE-SECRET-KEY-1…` line and its `# public key: age1…` comment; `None`
    /// when either is missing or there is more than one key.
    pub(crate) fn from_identity_file(text: &str) -> Option<SelfIdentity> {
        let mut secret = None;
        let mut public = None;
        for line in text.lines().map(str::trim) {
            if let Some(key) = line.strip_prefix("# public key:") {
                let key = key.trim();
                public = Some((bech32_key(key, "age")?, key.to_string()));
            } else if line.starts_with("AGE-SECRET-KEY-1") {
                if secret.is_some() {
                    return None;
                }
                // As age reads it: all upper or all lower case, never mixed (BIP 173).
                let key = bech32_key(line, "age-secret-key-")?;
                secret = Some((Zeroizing::new(key), Zeroizing::new(line.to_string())));
            }
        }
        let ((secret, secret_line), (public, recipient)) = (secret?, public?);
        Some(SelfIdentity {
            secret,
            public,
            secret_line,
            recipient,
        })
    }

    /// The `AGE-SECRET-KEY-1…` line, for age's own identity.
    pub(crate) fn secret_line(&self) -> Zeroizing<String> {
        self.secret_line.clone()
    }

    /// The recipient that writes the stanza for this identity, once age has shown the comment's
    /// public key to be the secret's (one scalar multiplication, on writes only); and that public
    /// key as an age recipient (`age1…`).
    pub(crate) fn self_recipient(&self) -> Option<(SelfRecipient, String)> {
        let identity = age::x25519::Identity::from_str(&self.secret_line).ok()?;
        if identity.to_public().to_string() != self.recipient {
            return None;
        }
        Some((
            SelfRecipient {
                secret: self.secret.clone(),
                public: self.public,
            },
            self.recipient.clone(),
        ))
    }
}

impl age::Identity for SelfIdentity {
    /// Only mailtoken's own stanza: every other is age's own identity's business.
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, DecryptError>> {
        unwrap(&self.secret, &self.public, stanza)
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

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;
    use std::io::{Read, Write};

    /// An identity file as `age-keygen` writes it, with `public` as its comment.
    fn identity_file(identity: &age::x25519::Identity, public: &str) -> String {
        format!(
            "# created: now\n# public key: {public}\n{}\n",
            identity.to_string().expose_secret()
        )
    }

    fn own(identity: &age::x25519::Identity) -> SelfIdentity {
        SelfIdentity::from_identity_file(&identity_file(
            identity,
            &identity.to_public().to_string(),
        ))
        .expect("an identity file with its public key")
    }

    /// A file for `identity` with both stanzas, as mailtoken writes it.
    fn encrypt(identity: &age::x25519::Identity, plaintext: &[u8]) -> Vec<u8> {
        let (writer, _) = own(identity)
            .self_recipient()
            .expect("the comment is the key's");
        let x25519 = identity.to_public();
        encrypt_to(&[&writer, &x25519], plaintext)
    }

    fn encrypt_to(recipients: &[&dyn age::Recipient], plaintext: &[u8]) -> Vec<u8> {
        let encryptor = age::Encryptor::with_recipients(recipients.iter().copied()).unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap();
        out
    }

    fn decrypt(
        identities: &[&dyn age::Identity],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        let decryptor = age::Decryptor::new_buffered(ciphertext)?;
        let mut reader = decryptor.decrypt(identities.iter().copied())?;
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).unwrap();
        Ok(plaintext)
    }

    #[test]
    fn the_own_stanza_alone_opens_the_file_and_age_still_opens_it_as_before() {
        let identity = age::x25519::Identity::generate();
        let ciphertext = encrypt(&identity, b"the token file");
        assert_eq!(
            decrypt(&[&own(&identity)], &ciphertext).unwrap(),
            b"the token file"
        );
        // age's own identity, as `age -d -i` uses it, skips the stanza it does not know.
        assert_eq!(
            decrypt(&[&identity], &ciphertext).unwrap(),
            b"the token file"
        );
        assert!(
            String::from_utf8_lossy(&ciphertext).contains("-> mailtoken-self "),
            "the stanza is in the header"
        );
    }

    #[test]
    fn a_file_without_the_stanza_is_left_to_age() {
        let identity = age::x25519::Identity::generate();
        let ciphertext = encrypt_to(&[&identity.to_public()], b"from age");
        assert!(matches!(
            decrypt(&[&own(&identity)], &ciphertext),
            Err(DecryptError::NoMatchingKeys)
        ));
        // As mailtoken arranges them: its own identity, then age's.
        assert_eq!(
            decrypt(&[&own(&identity), &identity], &ciphertext).unwrap(),
            b"from age"
        );
    }

    #[test]
    fn another_identity_cannot_use_the_stanza() {
        let identity = age::x25519::Identity::generate();
        let ciphertext = encrypt(&identity, b"secret");
        let stranger = age::x25519::Identity::generate();
        assert!(matches!(
            decrypt(&[&own(&stranger)], &ciphertext),
            Err(DecryptError::NoMatchingKeys)
        ));
        // Nor the right secret bound to another public key: a wrong comment only means the
        // stanza does not open, and writes no stanza at all.
        let wrong = identity_file(&identity, &stranger.to_public().to_string());
        let wrong = SelfIdentity::from_identity_file(&wrong).unwrap();
        assert!(decrypt(&[&wrong], &ciphertext).is_err());
        assert!(wrong.self_recipient().is_none());
        assert_eq!(
            decrypt(&[&wrong, &identity], &ciphertext).unwrap(),
            b"secret"
        );
    }

    #[test]
    fn files_without_a_usable_comment_are_left_to_age() {
        let identity = age::x25519::Identity::generate();
        let secret = identity.to_string().expose_secret().to_string();
        assert!(
            SelfIdentity::from_identity_file(&secret).is_none(),
            "no comment"
        );
        let two = format!(
            "# public key: {}\n{secret}\n{secret}\n",
            identity.to_public()
        );
        assert!(SelfIdentity::from_identity_file(&two).is_none(), "two keys");
        let bad = format!("# public key: age1notakey\n{secret}\n");
        assert!(
            SelfIdentity::from_identity_file(&bad).is_none(),
            "unreadable comment"
        );
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
        let good_salt = base64::engine::general_purpose::STANDARD_NO_PAD.encode([1u8; SALT_BYTES]);
        for malformed in [
            MalformedSelf(vec!["not base64!".into()], FILE_KEY_BYTES + 16),
            MalformedSelf(vec!["AAAA".into()], FILE_KEY_BYTES + 16),
            MalformedSelf(vec![], FILE_KEY_BYTES + 16),
            MalformedSelf(vec![good_salt.clone(), "extra".into()], FILE_KEY_BYTES + 16),
            MalformedSelf(vec![good_salt.clone()], 3),
        ] {
            let ciphertext = encrypt_to(&[&malformed, &identity.to_public()], b"the token file");
            assert_eq!(
                decrypt(&[&own(&identity), &identity], &ciphertext).unwrap(),
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

    /// The value after `name:` in the test vectors of docs/encryption.md.
    fn vector<'a>(doc: &'a str, name: &str) -> &'a str {
        let prefix = format!("{name}: ");
        doc.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("docs/encryption.md has no vector {name:?}"))
            .trim()
    }

    /// docs/encryption.md's test vectors (computed there with Python's `cryptography`, an
    /// implementation of HKDF and ChaCha20-Poly1305 other than the one age uses) are what this
    /// code derives, writes and opens.
    #[test]
    fn the_documented_test_vectors_hold() {
        let doc = include_str!("../../../docs/encryption.md");
        let doc = &doc[doc.find("### Test vectors").expect("the vectors' heading")..];
        let hex = |text: &str| -> Vec<u8> {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                .collect()
        };
        let text = format!(
            "# public key: {}\n{}\n",
            vector(doc, "recipient"),
            vector(doc, "identity")
        );
        let identity = SelfIdentity::from_identity_file(&text).expect("the vector's identity");
        let (writer, recipient) = identity
            .self_recipient()
            .expect("the recipient is the key's");
        assert_eq!(recipient, vector(doc, "recipient"));
        let salt = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(vector(doc, "salt"))
            .unwrap();
        let key = wrapping_key(&writer.secret, &writer.public, &salt);
        assert_eq!(key.to_vec(), hex(vector(doc, "wrapping key")));
        let file_key = hex(vector(doc, "file key"));
        let body = aead_encrypt(&key, &file_key);
        let stanza_line = format!("-> {TAG} {}", vector(doc, "salt"));
        let body_line = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&body);
        assert!(
            doc.contains(&format!("{stanza_line}\n{body_line}\n")),
            "docs/encryption.md's stanza is not\n{stanza_line}\n{body_line}"
        );
        let stanza = Stanza {
            tag: TAG.into(),
            args: vec![vector(doc, "salt").into()],
            body,
        };
        let opened = age::Identity::unwrap_stanza(&identity, &stanza)
            .expect("the stanza is this identity's")
            .expect("it opens");
        assert_eq!(opened.expose_secret()[..], file_key[..]);
    }
}
