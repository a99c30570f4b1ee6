//! age files, in-process: encrypting to recipients, decrypting with the identities to try, and
//! the passphrase path (scrypt), which asks on the terminal once per run.
//!
//! Which identity files are tried, and what they contain, is `identity`'s business; this module
//! only runs age with them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::SecretString;
use zeroize::Zeroizing;

use super::crypto::MAX_PLAINTEXT;
use super::self_stanza::SelfRecipient;
use crate::base::error::{Error, Result};

/// Why an age file did not open with the identities tried: the error to show, and what the run
/// learns of the file (`Crypto::found_damage`, `Crypto::found_foreign`).
pub(super) struct NotOpened {
    pub error: Error,
    pub damaged: bool,
    pub foreign: bool,
}

/// Decrypts an age file read from `path` with `identities` (each with the file it came from).
pub(super) fn decrypt_with_identities(
    path: &Path,
    bytes: &[u8],
    identities: &[(PathBuf, Box<dyn age::Identity>)],
) -> std::result::Result<Zeroizing<Vec<u8>>, NotOpened> {
    let shown = path.display();
    decrypt(bytes, identities.iter().map(|(_, id)| id.as_ref())).map_err(|failure| {
        if failure.damaged {
            return NotOpened {
                error: Error::bad_token_file(format!(
                    "{shown} is damaged (cut short or changed since it was written): {}",
                    failure.text
                )),
                damaged: true,
                foreign: false,
            };
        }
        let mut tried: Vec<String> = identities
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        tried.dedup();
        let error = Error::bad_token_file(format!(
            "cannot decrypt {shown} with {}: {}",
            tried.join(", "),
            failure.text
        ));
        let error = if failure.foreign {
            // Written for another identity: another machine's, or one replaced since.
            error.hint(format!(
                "the file was encrypted to another age identity: restore that one (from the \
                 machine or the backup it came from) as {}, or pass --age-identity FILE",
                tried.first().map_or("the default identity", String::as_str)
            ))
        } else {
            error.hint("pass --age-identity FILE with the identity this file was encrypted to")
        };
        NotOpened {
            error,
            damaged: false,
            foreign: failure.foreign,
        }
    })
}

/// Asks on the terminal for the passphrase of the file at `path`.
pub(super) fn ask_passphrase(path: &Path) -> Result<SecretString> {
    let prompt = format!("mailtoken: passphrase for {}: ", path.display());
    let _guard = crate::base::terminal::Guard::new();
    let typed = rpassword::prompt_password(prompt).map_err(|e| {
        Error::bad_token_file(format!(
            "{} is protected by a passphrase and there is no terminal to ask for it ({e})",
            path.display()
        ))
        .hint(
            "passphrase files are for interactive use; from cron or mail clients use an age \
             identity",
        )
    })?;
    Ok(SecretString::from(typed))
}

/// Decrypts a passphrase file read from `path`.
pub(super) fn decrypt_with_passphrase(
    path: &Path,
    bytes: &[u8],
    passphrase: &SecretString,
) -> Result<Zeroizing<Vec<u8>>> {
    let identity = age::scrypt::Identity::new(passphrase.clone());
    // Here a header that does not open is as likely a mistyped passphrase as damage.
    decrypt(bytes, std::iter::once(&identity as &dyn age::Identity)).map_err(|failure| {
        Error::bad_token_file(format!(
            "cannot decrypt {}: {}",
            path.display(),
            failure.text
        ))
    })
}

/// Encrypts with `passphrase` (scrypt).
pub(super) fn encrypt_with_passphrase(
    passphrase: SecretString,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    finish(age::Encryptor::with_user_passphrase(passphrase), plaintext)
}

/// Asks twice on the terminal for a new passphrase.
pub(super) fn prompt_new_passphrase() -> Result<SecretString> {
    let _guard = crate::base::terminal::Guard::new();
    let no_terminal = |e: std::io::Error| {
        Error::usage(format!(
            "a passphrase is needed and there is no terminal to ask for it ({e})"
        ))
    };
    let first = rpassword::prompt_password("mailtoken: new passphrase for the token file: ")
        .map_err(no_terminal)?;
    let second =
        rpassword::prompt_password("mailtoken: repeat the passphrase: ").map_err(no_terminal)?;
    if first != second {
        return Err(Error::usage("the passphrases do not match"));
    }
    if first.is_empty() {
        return Err(Error::usage("an empty passphrase protects nothing"));
    }
    Ok(SecretString::from(first))
}

/// Why an age file did not decrypt.
#[derive(Debug)]
struct Failure {
    text: String,
    /// The file itself is broken (a header that does not parse or authenticate, a payload cut
    /// short or changed), as opposed to locked to another key or written by a newer age.
    damaged: bool,
    /// Encrypted to identities none of which is here: another machine's, or a replaced one.
    foreign: bool,
}

impl Failure {
    /// `version_one`: the file starts with age v1's own first line, so a header that does not
    /// parse is a damaged one, not a newer format.
    fn of(error: age::DecryptError, version_one: bool) -> Failure {
        use age::DecryptError::*;
        let damaged = matches!(error, InvalidHeader | InvalidMac | DecryptionFailed | Io(_))
            || (version_one && matches!(error, UnknownFormat));
        Failure {
            foreign: matches!(error, NoMatchingKeys),
            text: error.to_string(),
            damaged,
        }
    }
}

fn decrypt<'a>(
    bytes: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> std::result::Result<Zeroizing<Vec<u8>>, Failure> {
    let version_one = bytes.starts_with(b"age-encryption.org/v1\n");
    let failure = |error| Failure::of(error, version_one);
    let armored = age::armor::ArmoredReader::new(bytes);
    // Buffered: the unbuffered constructor re-parses the header after every small read.
    let decryptor = age::Decryptor::new_buffered(armored).map_err(failure)?;
    let mut reader = decryptor.decrypt(identities).map_err(failure)?;
    let mut plaintext = Zeroizing::new(Vec::new());
    // The payload is authenticated chunk by chunk (age's STREAM): a read error is a payload cut
    // short or changed.
    (&mut reader)
        .take(MAX_PLAINTEXT + 1)
        .read_to_end(&mut plaintext)
        .map_err(|e| Failure {
            text: e.to_string(),
            damaged: true,
            foreign: false,
        })?;
    if plaintext.len() as u64 > MAX_PLAINTEXT {
        return Err(Failure {
            text: "the decrypted file is implausibly large".into(),
            damaged: false,
            foreign: false,
        });
    }
    Ok(plaintext)
}

/// Encrypts to `recipients`, and with `own` (mailtoken's own stanza for an identity it holds,
/// `self_stanza`) first in the header, where it is found first.
pub(super) fn encrypt_to(
    recipients: &[String],
    own: Option<&SelfRecipient>,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let parsed: Vec<Box<dyn age::Recipient + Send>> = recipients
        .iter()
        .map(|text| parse_recipient(text))
        .collect::<Result<_>>()?;
    let own = own.map(|own| own as &dyn age::Recipient);
    let all = own
        .into_iter()
        .chain(parsed.iter().map(|r| r.as_ref() as &dyn age::Recipient));
    let encryptor = age::Encryptor::with_recipients(all)
        .map_err(|e| Error::config(format!("cannot encrypt the token file: {e}")))?;
    finish(encryptor, plaintext)
}

pub(super) fn finish(encryptor: age::Encryptor, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut ciphertext = Vec::with_capacity(plaintext.len() + 512);
    let fail = |e: std::io::Error| Error::io(format!("cannot encrypt the token file: {e}"));
    let mut writer = encryptor.wrap_output(&mut ciphertext).map_err(fail)?;
    writer.write_all(plaintext).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(ciphertext)
}

fn parse_recipient(text: &str) -> Result<Box<dyn age::Recipient + Send>> {
    if text.starts_with("ssh-") {
        age::ssh::Recipient::from_str(text)
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|_| {
                Error::bad_token_file(format!("invalid ssh recipient {text:?} in the token file"))
            })
    } else {
        age::x25519::Recipient::from_str(text)
            .map(|r| Box::new(r) as Box<dyn age::Recipient + Send>)
            .map_err(|_| {
                Error::bad_token_file(format!("invalid age recipient {text:?} in the token file"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::encryption::{Detected, detect};

    fn encrypt_to_new_identity(plaintext: &[u8]) -> (age::x25519::Identity, Vec<u8>) {
        let identity = age::x25519::Identity::generate();
        let ciphertext = encrypt_to(&[identity.to_public().to_string()], None, plaintext).unwrap();
        (identity, ciphertext)
    }

    #[test]
    fn age_round_trip_and_detection() {
        let (identity, ciphertext) = encrypt_to_new_identity(b"{\"x\":1}");
        assert_eq!(
            detect(&ciphertext),
            Detected::Age {
                passphrase: false,
                ssh: false
            }
        );
        let plaintext = decrypt(
            &ciphertext,
            std::iter::once(&identity as &dyn age::Identity),
        )
        .unwrap();
        assert_eq!(&plaintext[..], b"{\"x\":1}");
    }

    #[test]
    fn wrong_identity_fails_cleanly() {
        let (_, ciphertext) = encrypt_to_new_identity(b"{}");
        let other = age::x25519::Identity::generate();
        assert!(decrypt(&ciphertext, std::iter::once(&other as &dyn age::Identity)).is_err());
    }
}
