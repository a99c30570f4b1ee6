//! Token files as the tests start from them: one registration and one login that most tests
//! share, written through the library's own encryption so that the binary reads them as it reads
//! its own, and read back with the sandbox's identity.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use mailtoken::testing::encryption::{Crypto, EncryptionOptions, EncryptionSpec};
use mailtoken::testing::provider::{ClientAuth, Registration};
use mailtoken::testing::sasl::SaslMethod;
use mailtoken::testing::secret::Secret;
use mailtoken::testing::tokenfile::{FORMAT_VERSION, Flow, TokenFile};

use super::sandbox::{Sandbox, write_private};

/// The access token in the token files these tests write.
pub const CACHED_TOKEN: &str = "cached-access-token";

/// Values in the token files these tests write that must never reach the terminal or a log.
pub const SECRETS: [&str; 3] = ["refresh-1", CACHED_TOKEN, "test-secret"];

/// A token endpoint nothing listens on, for accounts that must not need a refresh.
pub const UNUSED_TOKEN_ENDPOINT: &str = "http://127.0.0.1:9/token";

/// Now plus `minutes` (minus, when negative): an access token's expiry.
pub fn minutes_from_now(minutes: i64) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::minutes(minutes)
}

/// A registration whose token endpoint is the fake server.
pub fn test_registration(token_endpoint: &str) -> Registration {
    let mut registration = mailtoken::testing::provider::preset("google", None).unwrap();
    registration.provider = "test".into();
    registration.token_endpoint = token_endpoint.to_string();
    registration.client_auth = ClientAuth::ClientSecretPost;
    registration.sasl_method = SaslMethod::Oauthbearer;
    registration
}

/// A token file for `user@example.com` whose access token expires at `expiry`.
pub fn token_file(
    registration: Registration,
    encryption: EncryptionSpec,
    expiry: DateTime<Utc>,
) -> TokenFile {
    TokenFile {
        version: FORMAT_VERSION,
        registration,
        flow: Flow::Localhostauthcode,
        email: "user@example.com".into(),
        client_id: "test-client".into(),
        client_secret: Some(Secret::new("test-secret")),
        access_token: Secret::new(CACHED_TOKEN),
        access_token_expiry: expiry,
        access_token_obtained: Some(expiry - chrono::Duration::hours(1)),
        refresh_token: Some(Secret::new("refresh-1")),
        granted_scope: None,
        encryption,
        min_valid_minutes: None,
        credential: None,
        login_started: None,
        login_ends_stated: None,
        signed_in: None,
        mailbox: None,
        dynamic_client: None,
        min_valid_this_call: None,
        unknown: None,
    }
}

/// `plaintext` encrypted as `spec` says, by the library (a pipe runs only when given, as
/// `--encryption-pipe` gives it).
pub fn encrypt(spec: &EncryptionSpec, plaintext: &[u8]) -> Vec<u8> {
    let options = match spec {
        EncryptionSpec::Pipe { encrypt } => EncryptionOptions {
            encryption_pipe: Some(encrypt.clone()),
            ..Default::default()
        },
        _ => EncryptionOptions::default(),
    };
    Crypto::new(options)
        .encrypt(spec, plaintext)
        .expect("encrypts")
}

/// Age encryption to `identity` only.
pub fn age_to(identity: &age::x25519::Identity) -> EncryptionSpec {
    EncryptionSpec::Age {
        recipients: vec![identity.to_public().to_string()],
    }
}

/// `plaintext` encrypted with an age passphrase, as `--encryption passphrase` writes it but with a
/// low work factor, which keeps the tests fast.
pub fn passphrase_encrypt(passphrase: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from(passphrase.to_string()));
    recipient.set_work_factor(4);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut ciphertext = Vec::new();
    let mut writer = encryptor.wrap_output(&mut ciphertext).unwrap();
    std::io::Write::write_all(&mut writer, plaintext).unwrap();
    writer.finish().unwrap();
    ciphertext
}

impl Sandbox {
    /// The age encryption of this sandbox's identity.
    pub fn age_spec(&self) -> EncryptionSpec {
        age_to(&self.identity)
    }

    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// `token_file` for this sandbox's identity, refreshing at `token_endpoint`.
    pub fn token(&self, token_endpoint: &str, expiry: DateTime<Utc>) -> TokenFile {
        token_file(test_registration(token_endpoint), self.age_spec(), expiry)
    }

    /// Writes `sandbox.token(..)` as the file `account` and returns its path.
    pub fn account(&self, token_endpoint: &str, expiry: DateTime<Utc>) -> PathBuf {
        self.save("account", &self.token(token_endpoint, expiry))
    }

    /// Writes `token` as the file `name` in the sandbox and returns its path.
    pub fn save(&self, name: &str, token: &TokenFile) -> PathBuf {
        let path = self.path(name);
        self.write_token(&path, token);
        path
    }

    /// Writes `token` to `path` encrypted as its `encryption` says, mode 0600.
    pub fn write_token(&self, path: &Path, token: &TokenFile) {
        write_private(path, encrypt(&token.encryption, &token.to_json()));
    }

    /// Decrypts the file at `path` with the sandbox identity: the plaintext and what read it.
    fn open(&self, path: &Path) -> (Crypto, Vec<u8>, mailtoken::testing::encryption::ReadWith) {
        let crypto = Crypto::new(EncryptionOptions {
            age_identity: Some(self.identity_path()),
            ..Default::default()
        });
        let (plaintext, read_with) = crypto
            .decrypt(path, &std::fs::read(path).unwrap())
            .expect("decrypts");
        (crypto, plaintext.to_vec(), read_with)
    }

    /// The plaintext of an age-encrypted file, as the sandbox identity opens it.
    pub fn decrypt(&self, path: &Path) -> Vec<u8> {
        self.open(path).1
    }

    /// Reads back an age-encrypted token file with the sandbox identity.
    pub fn read_token(&self, path: &Path) -> TokenFile {
        let (crypto, plaintext, read_with) = self.open(path);
        mailtoken::testing::tokenfile::parse(&plaintext, || crypto.spec_for_unrecorded(&read_with))
            .expect("parses")
            .0
    }
}
