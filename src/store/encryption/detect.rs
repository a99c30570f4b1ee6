//! What a file is encrypted with, recognised from its own bytes: age (binary or armored, and
//! whether to a passphrase or an ssh key), OpenPGP, or plain JSON. Reading a token file so needs
//! no flag saying how it was written; only a user's own pipe cannot be recognised.

use base64::Engine;

/// What a file's first bytes say about its encryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    /// An age file; `passphrase` when its recipient stanza is scrypt, `ssh` for ssh-ed25519/ssh-rsa.
    Age {
        passphrase: bool,
        ssh: bool,
    },
    /// An OpenPGP message, binary or ASCII-armored.
    Gpg,
    /// Plain JSON (only ever read through an explicit `--decryption-pipe`).
    Json,
    Unknown,
}

/// Recognises the encryption from the file's own bytes.
pub fn detect(bytes: &[u8]) -> Detected {
    const AGE_BINARY: &[u8] = b"age-encryption.org/v1\n";
    const AGE_ARMOR: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
    const PGP_ARMOR: &[u8] = b"-----BEGIN PGP MESSAGE-----";
    let trimmed = bytes.trim_ascii_start();
    if bytes.starts_with(AGE_BINARY) {
        age_stanzas(bytes)
    } else if trimmed.starts_with(AGE_ARMOR) {
        age_stanzas(&dearmor(trimmed).unwrap_or_default())
    } else if trimmed.starts_with(PGP_ARMOR) {
        Detected::Gpg
    } else if trimmed.starts_with(b"{") {
        Detected::Json
    } else if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        // RFC 4880 section 4.2: every OpenPGP packet header has its top bit set.
        Detected::Gpg
    } else {
        Detected::Unknown
    }
}

/// Reads the recipient stanza types from an age header (age-encryption.org/v1: `-> TYPE args`).
fn age_stanzas(header: &[u8]) -> Detected {
    let mut passphrase = false;
    let mut ssh = false;
    for line in header
        .split(|b| *b == b'\n')
        .take_while(|line| !line.starts_with(b"---"))
    {
        if let Some(stanza) = line.strip_prefix(b"-> ") {
            passphrase |= stanza.starts_with(b"scrypt ");
            ssh |= stanza.starts_with(b"ssh-ed25519 ") || stanza.starts_with(b"ssh-rsa ");
        }
    }
    Detected::Age { passphrase, ssh }
}

fn dearmor(armored: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(armored).ok()?;
    let body: String = text
        .lines()
        .skip(1)
        .take_while(|line| !line.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use age::secrecy::SecretString;

    #[test]
    fn detects_passphrase_files_and_pgp() {
        // A low work factor keeps the test fast; detection only looks at the stanza type.
        let mut recipient = age::scrypt::Recipient::new(SecretString::from("pw".to_string()));
        recipient.set_work_factor(2);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .unwrap();
        let ciphertext = super::super::age_files::finish(encryptor, b"{}").unwrap();
        assert_eq!(
            detect(&ciphertext),
            Detected::Age {
                passphrase: true,
                ssh: false
            }
        );
        assert_eq!(detect(b"-----BEGIN PGP MESSAGE-----\n\nhQ"), Detected::Gpg);
        assert_eq!(detect(&[0x85, 0x01, 0x0c]), Detected::Gpg);
        assert_eq!(detect(b"  {\"a\":1}"), Detected::Json);
        assert_eq!(detect(b"hello"), Detected::Unknown);
        assert_eq!(detect(b""), Detected::Unknown);
    }

    #[test]
    fn armored_age_is_detected() {
        let header = b"age-encryption.org/v1\n-> ssh-ed25519 abcd efgh\nbody\n--- mac\n";
        let armored = format!(
            "-----BEGIN AGE ENCRYPTED FILE-----\n{}\n-----END AGE ENCRYPTED FILE-----\n",
            base64::engine::general_purpose::STANDARD.encode(header)
        );
        assert_eq!(
            detect(armored.as_bytes()),
            Detected::Age {
                passphrase: false,
                ssh: true
            }
        );
    }
}
