//! Encryption of token files: age to an identity (the default), age with a passphrase, gpg, or any
//! pair of commands. What a file is encrypted with is recognised from its own bytes.
//!
//! The age path runs in-process (no subprocess) because it is on every mail client's hot path, and
//! writes standard age files that `age -d -i IDENTITY FILE` opens.

use std::cell::RefCell;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use base64::Engine;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::paths;
use known_public_key::KnownPublicKey;

mod known_public_key;

/// A token file's JSON is a few kilobytes; anything far larger is not a token file.
pub const MAX_PLAINTEXT: u64 = 1024 * 1024;

/// How long gpg or a pipe may take: long enough to type a passphrase into a pinentry, short
/// enough that a mail client is not held forever by one that waits for nobody.
const PIPE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Environment variable overriding `PIPE_TIMEOUT`, in seconds.
pub const PIPE_TIMEOUT_VARIABLE: &str = "MAILTOKEN_PIPE_TIMEOUT";

fn pipe_deadline() -> std::time::Duration {
    crate::environment::seconds_from_env(
        PIPE_TIMEOUT_VARIABLE,
        PIPE_TIMEOUT,
        std::time::Duration::from_secs(1_000_000_000),
    )
}

/// The command mutt_oauth2.py decrypts with by default.
const GPG_DECRYPT: &[&str] = &["gpg", "--quiet", "--batch", "--decrypt"];

/// How a new token file is encrypted (`--encryption`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptionKind {
    /// age, to the recipient of the age identity (no prompt: works from cron).
    Age,
    /// age with a passphrase asked on the terminal (interactive use only).
    Passphrase,
    /// gpg, to `--gpg-recipient` or the default key.
    Gpg,
}

/// How a token file is encrypted, stored inside it so a refresh re-encrypts the same way.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EncryptionSpec {
    /// age to these recipients (`age1…` or `ssh-ed25519 …`/`ssh-rsa …` public keys).
    Age { recipients: Vec<String> },
    /// age with a passphrase (scrypt), asked on the terminal.
    AgePassphrase,
    /// gpg to a key id, or to the default key when `None` (`--default-recipient-self`).
    Gpg {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        recipient: Option<String>,
    },
    /// Any command that encrypts stdin to stdout; decryption needs `--decryption-pipe` on every call.
    Pipe { encrypt: String },
}

/// How a file was actually decrypted in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadWith {
    /// age, with the identity at this path (the first one that was tried).
    AgeIdentity(PathBuf),
    AgePassphrase,
    Gpg,
    /// The `--decryption-pipe` command.
    Pipe,
}

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

/// The user's choices that affect encryption, from the command line.
#[derive(Clone, Debug, Default)]
pub struct EncryptionOptions {
    pub age_identity: Option<PathBuf>,
    pub decryption_pipe: Option<String>,
    pub encryption_pipe: Option<String>,
    pub gpg_recipient: Option<String>,
}

/// Decrypts and encrypts token files for one run, remembering a passphrase typed for decryption
/// so the refreshed file is re-encrypted without asking twice.
pub struct Crypto {
    options: EncryptionOptions,
    passphrase: RefCell<Option<SecretString>>,
}

impl Crypto {
    pub fn new(options: EncryptionOptions) -> Crypto {
        Crypto {
            options,
            passphrase: RefCell::new(None),
        }
    }

    pub fn options(&self) -> &EncryptionOptions {
        &self.options
    }

    /// Decrypts `bytes` read from `path`. Returns the plaintext and how it was decrypted, from
    /// which `spec_for_unrecorded` derives the encryption for files that record none.
    pub fn decrypt(&self, path: &Path, bytes: &[u8]) -> Result<(Zeroizing<Vec<u8>>, ReadWith)> {
        let shown = path.display();
        if let Some(pipe) = &self.options.decryption_pipe {
            let plaintext = run_filter(pipe_argv(pipe, "--decryption-pipe")?, bytes)
                .map_err(|e| Error::bad_token_file(format!("cannot decrypt {shown}: {e}")))?;
            return Ok((plaintext, ReadWith::Pipe));
        }
        match detect(bytes) {
            Detected::Age {
                passphrase: true, ..
            } => {
                let plaintext = self.decrypt_age_passphrase(path, bytes)?;
                Ok((plaintext, ReadWith::AgePassphrase))
            }
            Detected::Age { ssh, .. } => {
                let identities = self.age_identities(ssh)?;
                let plaintext = age_decrypt(bytes, identities.iter().map(|(_, id)| id.as_ref()))
                    .map_err(|e| {
                        let mut tried: Vec<String> = identities
                            .iter()
                            .map(|(p, _)| p.display().to_string())
                            .collect();
                        tried.dedup();
                        Error::bad_token_file(format!(
                            "cannot decrypt {shown} with {}: {e}",
                            tried.join(", ")
                        ))
                        .hint(
                            "pass --age-identity FILE with the identity this file was encrypted to",
                        )
                    })?;
                let identity = identities
                    .into_iter()
                    .next()
                    .map(|(path, _)| path)
                    .unwrap_or_default();
                Ok((plaintext, ReadWith::AgeIdentity(identity)))
            }
            Detected::Gpg => {
                let argv = GPG_DECRYPT.iter().map(|s| s.to_string()).collect();
                let plaintext = run_filter(argv, bytes).map_err(|e| {
                    Error::bad_token_file(format!("cannot decrypt {shown} with gpg: {e}"))
                })?;
                Ok((plaintext, ReadWith::Gpg))
            }
            Detected::Json => Err(Error::bad_token_file(format!("{shown} is not encrypted"))
                .hint("if that is deliberate, pass --decryption-pipe cat --encryption-pipe cat")),
            Detected::Unknown => Err(Error::bad_token_file(format!(
                "{shown} is neither an age nor a gpg file and no --decryption-pipe was given"
            ))
            .hint("pass the --decryption-pipe command this file was written with")),
        }
    }

    /// The encryption for a file that does not record one (mutt_oauth2.py's): `--encryption-pipe`
    /// when given, as mutt_oauth2.py would use it, or else the way the file was read. Computed
    /// only for such files, since deriving an age recipient costs a scalar multiplication.
    pub fn spec_for_unrecorded(&self, read_with: &ReadWith) -> Result<EncryptionSpec> {
        Ok(match read_with {
            _ if self.options.encryption_pipe.is_some() => {
                self.fallback_spec(EncryptionSpec::AgePassphrase)
            }
            ReadWith::AgeIdentity(identity) => EncryptionSpec::Age {
                recipients: age_recipients_of(identity)?,
            },
            ReadWith::AgePassphrase => EncryptionSpec::AgePassphrase,
            // mutt_oauth2.py's default encryption pipe is gpg to the default key.
            ReadWith::Gpg => EncryptionSpec::Gpg {
                recipient: self.options.gpg_recipient.clone(),
            },
            // Read with a pipe of the user's: only the matching encryption pipe may write it,
            // and only the user can name it. An empty command is refused when a write is tried
            // (before any refresh), never replaced by a guess.
            ReadWith::Pipe => EncryptionSpec::Pipe {
                encrypt: String::new(),
            },
        })
    }

    fn fallback_spec(&self, read_with: EncryptionSpec) -> EncryptionSpec {
        match &self.options.encryption_pipe {
            Some(pipe) => EncryptionSpec::Pipe {
                encrypt: pipe.clone(),
            },
            None => read_with,
        }
    }

    /// The encryption a write should use: `--encryption-pipe` overrides what the file records.
    pub fn effective_spec(&self, recorded: &EncryptionSpec) -> EncryptionSpec {
        self.fallback_spec(recorded.clone())
    }

    /// Encrypts `plaintext` as `spec` says.
    pub fn encrypt(&self, spec: &EncryptionSpec, plaintext: &[u8]) -> Result<Vec<u8>> {
        match spec {
            EncryptionSpec::Age { recipients } => age_encrypt_to(recipients, plaintext),
            EncryptionSpec::AgePassphrase => {
                let remembered = self.passphrase.borrow().clone();
                let passphrase = match remembered {
                    Some(passphrase) => passphrase,
                    None => {
                        let typed = prompt_new_passphrase()?;
                        // Remembered, so checking the new file reads it without asking again.
                        *self.passphrase.borrow_mut() = Some(typed.clone());
                        typed
                    }
                };
                let encryptor = age::Encryptor::with_user_passphrase(passphrase);
                age_finish(encryptor, plaintext)
            }
            EncryptionSpec::Gpg { recipient } => {
                let mut argv: Vec<String> = ["gpg", "--quiet", "--batch", "--yes", "--encrypt"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                match recipient {
                    Some(recipient) => argv.extend(["--recipient".to_string(), recipient.clone()]),
                    None => argv.push("--default-recipient-self".to_string()),
                }
                run_filter(argv, plaintext)
                    .map(|ciphertext| ciphertext.to_vec())
                    .map_err(|e| {
                        Error::config(format!("gpg could not encrypt the token file: {e}"))
                            .hint("check that gpg has a default key, or pass --gpg-recipient")
                    })
            }
            EncryptionSpec::Pipe { encrypt } if encrypt.is_empty() => Err(Error::config(
                "this token file records no encryption and was read with --decryption-pipe, so \
                 mailtoken does not know how to write it",
            )
            .hint("pass --encryption-pipe COMMAND, the counterpart of your --decryption-pipe")),
            // A command read from a file is never run on the file's say-so: in a shared
            // directory a planted token file could otherwise make its reader run anything.
            EncryptionSpec::Pipe { encrypt }
                if self.options.encryption_pipe.as_deref() != Some(encrypt.as_str()) =>
            {
                Err(Error::config(format!(
                    "the token file records the encryption command {:?}, and mailtoken runs a \
                     command only when it is given on the command line",
                    crate::log::sanitize(encrypt)
                ))
                .hint("pass --encryption-pipe with that command (and --decryption-pipe) to use it"))
            }
            EncryptionSpec::Pipe { encrypt } => {
                run_filter(pipe_argv(encrypt, "--encryption-pipe")?, plaintext)
                    .map(|ciphertext| ciphertext.to_vec())
                    .map_err(|e| Error::config(format!("the encryption pipe failed: {e}")))
            }
        }
    }

    /// Decrypts a passphrase file. The passphrase is asked once per run: a refresh reads the file
    /// again under the lock, and then re-encrypts it, with the one typed first.
    fn decrypt_age_passphrase(&self, path: &Path, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let remembered = self.passphrase.borrow().clone();
        let passphrase = match remembered {
            Some(passphrase) => passphrase,
            None => {
                let prompt = format!("mailtoken: passphrase for {}: ", path.display());
                let _guard = crate::terminal::Guard::new();
                let typed = rpassword::prompt_password(prompt).map_err(|e| {
                    Error::bad_token_file(format!(
                        "{} is protected by a passphrase and there is no terminal to ask for it ({e})",
                        path.display()
                    ))
                    .hint("passphrase files are for interactive use; from cron or mail clients use an age identity")
                })?;
                SecretString::from(typed)
            }
        };
        let identity = age::scrypt::Identity::new(passphrase.clone());
        let plaintext = age_decrypt(bytes, std::iter::once(&identity as &dyn age::Identity))
            .map_err(|e| {
                Error::bad_token_file(format!("cannot decrypt {}: {e}", path.display()))
            })?;
        *self.passphrase.borrow_mut() = Some(passphrase);
        Ok(plaintext)
    }

    /// The identities to try: `--age-identity`, or the default identity and, for ssh-encrypted
    /// files, the usual ssh keys.
    fn age_identities(&self, ssh: bool) -> Result<Vec<(PathBuf, Box<dyn age::Identity>)>> {
        if let Some(path) = &self.options.age_identity {
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
}

/// Splits a pipe command the way a POSIX shell would (mutt_oauth2.py uses `shlex.split`).
fn pipe_argv(command: &str, flag: &str) -> Result<Vec<String>> {
    match shlex::split(command) {
        Some(argv) if !argv.is_empty() => Ok(argv),
        _ => Err(Error::usage(format!(
            "{flag} {command:?} is not a valid command"
        ))),
    }
}

/// Runs `argv` with `input` on its stdin and returns its stdout. Secrets travel through the pipes,
/// never the argument list; stderr stays with the user so gpg can explain itself.
fn run_filter(argv: Vec<String>, input: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let mut child = Command::new(program)
        .args(args)
        // gpg and the user's pipes have no business with the client secret.
        .env_remove(crate::environment::CLIENT_SECRET_VARIABLE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let deadline = pipe_deadline();
    let output = std::thread::scope(|scope| {
        // Write and read at once: a filter that fills its stdout pipe before draining stdin
        // would otherwise deadlock with us.
        let writer = scope.spawn(move || {
            let result = stdin.write_all(input);
            drop(stdin);
            result
        });
        let (finished, reading) = std::sync::mpsc::channel();
        let reader = scope.spawn(move || {
            let mut output = Zeroizing::new(Vec::new());
            let read = (&mut stdout)
                .take(MAX_PLAINTEXT + 1)
                .read_to_end(&mut output);
            let _ = finished.send(());
            (output, read)
        });
        // A filter that hangs (gpg waiting for a pinentry no one sees) is stopped at the
        // deadline; its pipes close and both threads end.
        let timed_out = reading.recv_timeout(deadline).is_err();
        if timed_out {
            let _ = child.kill();
        }
        let (output, read) = reader.join().expect("the reader thread does not panic");
        let written = writer.join().expect("the writer thread does not panic");
        (output, read, written, timed_out)
    });
    let (output, read, written, timed_out) = output;
    if timed_out {
        let _ = child.wait();
        return Err(format!(
            "{program} did not finish within {} s (set {PIPE_TIMEOUT_VARIABLE} for more)",
            deadline.as_secs()
        ));
    }
    let status = child
        .wait()
        .map_err(|e| format!("{program} did not finish: {e}"))?;
    if !status.success() {
        return Err(format!("{program} failed ({status})"));
    }
    read.map_err(|e| format!("reading from {program}: {e}"))?;
    // A filter may exit without reading all its input (EPIPE) yet succeed; its status decides.
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(format!("writing to {program}: {e}"));
    }
    if output.len() as u64 > MAX_PLAINTEXT {
        return Err(format!(
            "{program} produced more than {MAX_PLAINTEXT} bytes"
        ));
    }
    Ok(output)
}

fn age_decrypt<'a>(
    bytes: &[u8],
    identities: impl Iterator<Item = &'a dyn age::Identity>,
) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let armored = age::armor::ArmoredReader::new(bytes);
    // Buffered: the unbuffered constructor re-parses the header after every small read.
    let decryptor = age::Decryptor::new_buffered(armored).map_err(|e| e.to_string())?;
    let mut reader = decryptor.decrypt(identities).map_err(|e| e.to_string())?;
    let mut plaintext = Zeroizing::new(Vec::new());
    (&mut reader)
        .take(MAX_PLAINTEXT + 1)
        .read_to_end(&mut plaintext)
        .map_err(|e| e.to_string())?;
    if plaintext.len() as u64 > MAX_PLAINTEXT {
        return Err("the decrypted file is implausibly large".into());
    }
    Ok(plaintext)
}

fn age_encrypt_to(recipients: &[String], plaintext: &[u8]) -> Result<Vec<u8>> {
    let parsed: Vec<Box<dyn age::Recipient + Send>> = recipients
        .iter()
        .map(|text| parse_recipient(text))
        .collect::<Result<_>>()?;
    let encryptor =
        age::Encryptor::with_recipients(parsed.iter().map(|r| r.as_ref() as &dyn age::Recipient))
            .map_err(|e| Error::config(format!("cannot encrypt the token file: {e}")))?;
    age_finish(encryptor, plaintext)
}

fn age_finish(encryptor: age::Encryptor, plaintext: &[u8]) -> Result<Vec<u8>> {
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
    crate::store::read_private(path)
        .map(Zeroizing::new)
        .map_err(|error| match error {
            crate::store::ReadError::Exposed(mode) => Error::config(format!(
                "the identity {shown} can be read by other users (mode {mode:04o}); it opens \
                 your token files"
            ))
            .hint(format!(
                "run 'chmod 600 {}'",
                paths::shell_quote(&path.to_string_lossy())
            )),
            crate::store::ReadError::NotOwned(uid) => Error::config(format!(
                "the identity {shown} belongs to another user (uid {uid})"
            )),
            crate::store::ReadError::Missing => Error::config(format!(
                "cannot read age identity {shown}: it does not exist"
            )),
            crate::store::ReadError::NotAFile => {
                Error::config(format!("the identity {shown} is not a regular file"))
            }
            crate::store::ReadError::TooLarge => {
                Error::config(format!("{shown} is far too large to be an identity"))
            }
            crate::store::ReadError::Io(e) => {
                Error::config(format!("cannot read age identity {shown}: {e}"))
            }
        })
}

/// The identities to try for one identity file: for an X25519 key, first one that reads its
/// public key from the file's comment (saving a scalar multiplication per call), then age's own,
/// which decrypts should the comment be missing or wrong.
fn load_identities(path: &Path) -> Result<Vec<Box<dyn age::Identity>>> {
    let contents = read_identity_file(path)?;
    let identity = parse_identity(path, &contents)?;
    let known = std::str::from_utf8(&contents)
        .ok()
        .and_then(KnownPublicKey::from_identity_file);
    Ok(match known {
        Some(known) => vec![Box::new(known), identity],
        None => vec![identity],
    })
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
/// key the public key from `IDENTITY.pub`.
pub fn age_recipients_of(identity_path: &Path) -> Result<Vec<String>> {
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
pub fn ensure_default_identity() -> Result<PathBuf> {
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
    crate::store::write_new_private_file(&path, contents.as_bytes()).map_err(|e| {
        Error::io(format!(
            "cannot create age identity {}: {e}",
            path.display()
        ))
    })?;
    crate::log::say(format!(
        "mailtoken: created age identity {}\nmailtoken: back it up: without it your token files cannot be opened",
        path.display()
    ));
    Ok(path)
}

fn prompt_new_passphrase() -> Result<SecretString> {
    let _guard = crate::terminal::Guard::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn encrypt_to_new_identity(plaintext: &[u8]) -> (age::x25519::Identity, Vec<u8>) {
        let identity = age::x25519::Identity::generate();
        let ciphertext = age_encrypt_to(&[identity.to_public().to_string()], plaintext).unwrap();
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
        let plaintext = age_decrypt(
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
        assert!(age_decrypt(&ciphertext, std::iter::once(&other as &dyn age::Identity)).is_err());
    }

    #[test]
    fn detects_passphrase_files_and_pgp() {
        // A low work factor keeps the test fast; detection only looks at the stanza type.
        let mut recipient = age::scrypt::Recipient::new(SecretString::from("pw".to_string()));
        recipient.set_work_factor(2);
        let encryptor =
            age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
                .unwrap();
        let ciphertext = age_finish(encryptor, b"{}").unwrap();
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

    #[test]
    fn filters_pass_data_through_stdin_and_stdout() {
        let out = run_filter(vec!["cat".into()], b"secret data").unwrap();
        assert_eq!(&out[..], b"secret data");
        assert!(
            run_filter(vec!["false".into()], b"x")
                .unwrap_err()
                .contains("failed")
        );
        assert!(
            run_filter(vec!["/nonexistent/cmd".into()], b"x")
                .unwrap_err()
                .contains("cannot run")
        );
    }

    #[test]
    fn pipe_commands_are_split_like_a_shell() {
        assert_eq!(
            pipe_argv("gpg --encrypt -r 'A B'", "--x").unwrap(),
            ["gpg", "--encrypt", "-r", "A B"]
        );
        assert!(pipe_argv("", "--x").is_err());
        assert!(pipe_argv("'unclosed", "--x").is_err());
    }
}
