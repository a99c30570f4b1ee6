//! age identity files: which ones a decryption tries, reading them as carefully as a token file,
//! parsing them (age X25519 keys, or unencrypted OpenSSH ed25519/RSA keys), the recipients a file
//! for an identity is encrypted to, and creating the default identity on the first sign-in.

use std::cell::OnceCell;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::crypto::EncryptionOptions;
use super::self_stanza::{SelfIdentity, SelfRecipient};
use crate::base::error::{Error, Result};
use crate::base::paths;

/// The identities to try: `--age-identity`, or the default identity and, for ssh-encrypted
/// files, the usual ssh keys.
pub(super) fn age_identities(
    options: &EncryptionOptions,
    ssh: bool,
) -> Result<Vec<(PathBuf, Box<dyn age::Identity>)>> {
    if let Some(path) = &options.age_identity {
        return Ok(load_identities(path)?
            .into_iter()
            .map(|id| (path.clone(), id))
            .collect());
    }
    let default = paths::default_age_identity()?;
    let mut candidates = vec![default.clone()];
    if ssh {
        let home = paths::home()?;
        candidates.extend([home.join(".ssh/id_ed25519"), home.join(".ssh/id_rsa")]);
    }
    let mut identities = Vec::new();
    for path in candidates.into_iter().filter(|p| p.exists()) {
        for identity in load_identities(&path)? {
            identities.push((path.clone(), identity));
        }
    }
    if identities.is_empty() {
        return Err(
            Error::bad_token_file(format!("no age identity at {}", default.display()))
                .hint("pass --age-identity FILE with the identity this file was encrypted to"),
        );
    }
    Ok(identities)
}

/// The identity a run reads with (`--age-identity`, or the default one), when it holds one
/// X25519 key: the writer of its own stanza (`self_stanza`), and its recipient (`age1…`). `None`
/// whenever anything is unusual: the stanza only saves time, the X25519 one is always written.
pub(super) fn own_identity(options: &EncryptionOptions) -> Option<(SelfRecipient, String)> {
    let path = match &options.age_identity {
        Some(path) => path.clone(),
        None => paths::default_age_identity().ok()?,
    };
    let contents = read_identity_file(&path).ok()?;
    let text = std::str::from_utf8(&contents).ok()?;
    SelfIdentity::from_identity_file(text)?.self_recipient()
}

/// Refuses age recipients that leave out `own`, the recipient of the X25519 identity a run reads
/// with, when that is known (an identity file with one X25519 key, recipients all X25519): a
/// file written to them would not open. Anything else is left to the read-back of the write.
pub(super) fn check_identity_among(own: Option<&str>, recipients: &[String]) -> Result<()> {
    if recipients.is_empty() || !recipients.iter().all(|r| r.starts_with("age1")) {
        return Ok(());
    }
    match own {
        Some(recipient) if !recipients.iter().any(|r| r == recipient) => Err(Error::config(
            "the new token file would not be readable: it is recorded for age recipients that do \
             not include this identity's",
        )
        .hint(
            "check that the identity (--age-identity) is the one the file was written for; the \
             refresh token was not used",
        )),
        _ => Ok(()),
    }
}

fn is_ssh_private_key(contents: &[u8]) -> bool {
    contents
        .trim_ascii_start()
        .starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----")
        || contents
            .trim_ascii_start()
            .starts_with(b"-----BEGIN RSA PRIVATE KEY-----")
}

/// Reads an identity as carefully as a token file: the user's own regular file, not readable by
/// others (it opens every token file encrypted to it).
fn read_identity_file(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let shown = path.display();
    crate::base::private_files::read_private(path)
        .map(Zeroizing::new)
        .map_err(|error| match error {
            crate::base::private_files::ReadError::Exposed(mode) => Error::config(format!(
                "the identity {shown} can be read by other users (mode {mode:04o}); it opens \
                 your token files"
            ))
            .hint(format!(
                "run 'chmod 600 {}'",
                paths::shell_quote(&path.to_string_lossy())
            )),
            crate::base::private_files::ReadError::NotOwned(uid) => Error::config(format!(
                "the identity {shown} belongs to another user (uid {uid})"
            )),
            crate::base::private_files::ReadError::Missing => Error::config(format!(
                "cannot read age identity {shown}: it does not exist"
            )),
            crate::base::private_files::ReadError::NotAFile => {
                Error::config(format!("the identity {shown} is not a regular file"))
            }
            crate::base::private_files::ReadError::TooLarge => {
                Error::config(format!("{shown} is far too large to be an identity"))
            }
            crate::base::private_files::ReadError::Io(e) => {
                Error::config(format!("cannot read age identity {shown}: {e}"))
            }
        })
}

/// The identities to try for one identity file: for an X25519 key with its public key in a
/// comment, first the one that opens mailtoken's own stanza (`self_stanza`: no scalar
/// multiplication), then age's own, which opens every other stanza.
fn load_identities(path: &Path) -> Result<Vec<Box<dyn age::Identity>>> {
    let contents = read_identity_file(path)?;
    let own = std::str::from_utf8(&contents)
        .ok()
        .and_then(SelfIdentity::from_identity_file);
    Ok(match own {
        Some(own) => {
            let age_identity = ParsedWhenNeeded {
                line: own.secret_line(),
                parsed: OnceCell::new(),
            };
            vec![Box::new(own), Box::new(age_identity)]
        }
        None => vec![parse_identity(path, &contents)?],
    })
}

/// age's X25519 identity for the key line a [`SelfIdentity`] read, parsed when a stanza other
/// than mailtoken's own is to be opened. That line is the file's only key and decodes as age
/// decodes it (the same bech32, case and length), so age reads it too; a file mailtoken wrote
/// for this identity (the cached call's) opens through its own stanza and never parses it.
struct ParsedWhenNeeded {
    line: Zeroizing<String>,
    parsed: OnceCell<Option<age::x25519::Identity>>,
}

impl age::Identity for ParsedWhenNeeded {
    fn unwrap_stanza(
        &self,
        stanza: &age_core::format::Stanza,
    ) -> Option<std::result::Result<age_core::format::FileKey, age::DecryptError>> {
        self.parsed
            .get_or_init(|| age::x25519::Identity::from_str(&self.line).ok())
            .as_ref()?
            .unwrap_stanza(stanza)
    }
}

/// Parses an age identity file, or an unencrypted OpenSSH ed25519/RSA private key.
fn parse_identity(path: &Path, contents: &[u8]) -> Result<Box<dyn age::Identity>> {
    let invalid = |why: String| {
        Error::config(format!(
            "{} is not a usable age identity: {why}",
            path.display()
        ))
    };
    if is_ssh_private_key(contents) {
        let identity = age::ssh::Identity::from_buffer(contents, Some(path.display().to_string()))
            .map_err(|e| invalid(e.to_string()))?;
        return match identity {
            age::ssh::Identity::Unencrypted(_) => Ok(Box::new(identity)),
            age::ssh::Identity::Encrypted(_) => {
                Err(invalid("the ssh key is passphrase-protected".into()))
            }
            age::ssh::Identity::Unsupported(_) => Err(invalid("unsupported ssh key type".into())),
        };
    }
    let mut x25519 = x25519_identities(contents).map_err(invalid)?;
    match x25519.len() {
        0 => Err(invalid("no AGE-SECRET-KEY-1 line".into())),
        1 => Ok(Box::new(x25519.remove(0))),
        _ => Err(invalid(
            "more than one key; give a file with exactly one".into(),
        )),
    }
}

fn x25519_identities(contents: &[u8]) -> std::result::Result<Vec<age::x25519::Identity>, String> {
    contents
        .lines()
        .map(|line| line.map_err(|e| e.to_string()))
        .filter(|line| {
            line.as_ref()
                .map_or(true, |l| l.trim().starts_with("AGE-SECRET-KEY-1"))
        })
        .map(|line| age::x25519::Identity::from_str(line?.trim()).map_err(|e| e.to_string()))
        .collect()
}

/// The recipients a file for this identity is encrypted to: the X25519 public key, or for an ssh
/// key its public key, derived from the private key.
pub(crate) fn age_recipients_of(identity_path: &Path) -> Result<Vec<String>> {
    let contents = read_identity_file(identity_path)?;
    if is_ssh_private_key(&contents) {
        // From the private key itself: a `.pub` beside it may belong to another key, and a file
        // encrypted to that one could never be opened with this identity.
        let identity = age::ssh::Identity::from_buffer(&contents[..], None).map_err(|e| {
            Error::config(format!(
                "{} is not a usable ssh key: {e}",
                identity_path.display()
            ))
        })?;
        let recipient = age::ssh::Recipient::try_from(identity).map_err(|e| {
            Error::config(format!(
                "cannot encrypt to the ssh key {}: {e:?}",
                identity_path.display()
            ))
        })?;
        return Ok(vec![recipient.to_string()]);
    }
    let identities = x25519_identities(&contents).map_err(|e| {
        Error::config(format!(
            "{} is not a usable age identity: {e}",
            identity_path.display()
        ))
    })?;
    Ok(identities
        .iter()
        .map(|identity| identity.to_public().to_string())
        .collect())
}

/// Creates the default identity if it does not exist yet (0600, in a 0700 directory) and returns
/// its path. Says so on stderr: losing it means losing every token file encrypted to it.
pub(crate) fn ensure_default_identity() -> Result<PathBuf> {
    let path = paths::default_age_identity()?;
    if path.exists() {
        return Ok(path);
    }
    let identity = age::x25519::Identity::generate();
    let contents = Zeroizing::new(format!(
        "# created by mailtoken: {}\n# public key: {}\n{}\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        identity.to_public(),
        identity.to_string().expose_secret()
    ));
    crate::base::private_files::write_new_private_file(&path, contents.as_bytes()).map_err(
        |e| {
            Error::io(format!(
                "cannot create age identity {}: {e}",
                path.display()
            ))
        },
    )?;
    crate::base::log::say(format!(
        "mailtoken: created age identity {}\nmailtoken: back it up: without it your token files cannot be opened",
        path.display()
    ));
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn identity_file(identity: &age::x25519::Identity, key_line: &str) -> String {
        format!(
            "# created: now\n# public key: {}\n{key_line}\n",
            identity.to_public()
        )
    }

    fn encrypt_to(recipients: &[&dyn age::Recipient]) -> Vec<u8> {
        let encryptor = age::Encryptor::with_recipients(recipients.iter().copied()).unwrap();
        let mut out = Vec::new();
        let mut writer = encryptor.wrap_output(&mut out).unwrap();
        writer.write_all(b"the token file").unwrap();
        writer.finish().unwrap();
        out
    }

    fn opens(identities: &[&dyn age::Identity], ciphertext: &[u8]) -> bool {
        let Ok(decryptor) = age::Decryptor::new_buffered(ciphertext) else {
            return false;
        };
        let Ok(mut reader) = decryptor.decrypt(identities.iter().copied()) else {
            return false;
        };
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext).is_ok() && plaintext == b"the token file"
    }

    /// The pair `load_identities` makes of an identity file.
    fn pair(identity: &age::x25519::Identity) -> (SelfIdentity, ParsedWhenNeeded) {
        let key = identity.to_string();
        let text = identity_file(identity, key.expose_secret());
        let own = SelfIdentity::from_identity_file(&text).expect("one key, with its comment");
        let age_identity = ParsedWhenNeeded {
            line: own.secret_line(),
            parsed: OnceCell::new(),
        };
        (own, age_identity)
    }

    #[test]
    fn ages_identity_is_parsed_only_for_a_stanza_mailtoken_did_not_write() {
        let identity = age::x25519::Identity::generate();
        let (own, age_identity) = pair(&identity);
        let (writer, _) = own.self_recipient().expect("the comment is the key's");
        let ours = encrypt_to(&[&writer, &identity.to_public()]);
        assert!(opens(&[&own, &age_identity], &ours));
        assert!(
            age_identity.parsed.get().is_none(),
            "the cached call's file opened without age's identity"
        );
        let from_age = encrypt_to(&[&identity.to_public()]);
        assert!(opens(&[&own, &age_identity], &from_age));
        assert!(matches!(age_identity.parsed.get(), Some(Some(_))));
    }

    #[test]
    fn a_key_line_age_refuses_is_refused_before_any_file_is_tried() {
        let identity = age::x25519::Identity::generate();
        let key = identity.to_string();
        // Upper case is age-keygen's; BIP 173 also takes all lower case after the prefix's
        // check, and refuses a mix, as age does.
        let upper = key.expose_secret().to_string();
        let mixed = format!("AGE-SECRET-KEY-1{}", upper[16..].to_ascii_lowercase());
        for (line, age_takes) in [(upper.as_str(), true), (mixed.as_str(), false)] {
            assert_eq!(
                age::x25519::Identity::from_str(line).is_ok(),
                age_takes,
                "{line}"
            );
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("identity.txt");
            crate::base::private_files::write_atomic(
                &path,
                identity_file(&identity, line).as_bytes(),
            )
            .unwrap();
            assert_eq!(load_identities(&path).is_ok(), age_takes, "{line}");
        }
    }
}
