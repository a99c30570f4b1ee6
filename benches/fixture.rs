//! Writes the benchmark's fixture: an age identity and a token file whose access token stays
//! valid for an hour, laid out as a real installation ($XDG_CONFIG_HOME, $XDG_DATA_HOME).
//!
//! Run by `benches/cached.sh` and `benches/hot-text.sh` as `cargo run --release --example
//! bench-fixture -- DIR` (an example, so that it shares the release build of the library); not a
//! timing harness.

use std::path::PathBuf;

use age::secrecy::ExposeSecret;
use chrono::{Duration, Utc};
use mailtoken::testing::encryption::{Crypto, EncryptionOptions, EncryptionSpec};
use mailtoken::testing::secret::Secret;
use mailtoken::testing::tokenfile::Flow;
use mailtoken::testing::tokenfile::{FORMAT_VERSION, TokenFile};

fn main() {
    let dir = match std::env::args().skip(1).find(|arg| !arg.starts_with("--")) {
        Some(dir) => PathBuf::from(dir),
        None => {
            eprintln!("usage: cargo run --release --example bench-fixture -- DIR");
            std::process::exit(64);
        }
    };
    let identity = age::x25519::Identity::generate();
    let identity_path = dir.join("config/mailtoken/age-identity.txt");
    mailtoken::testing::private_files::write_atomic(
        &identity_path,
        // age-keygen's layout, which mailtoken's own identities share.
        format!(
            "# created: {}\n# public key: {}\n{}\n",
            Utc::now().to_rfc3339(),
            identity.to_public(),
            identity.to_string().expose_secret()
        )
        .as_bytes(),
    )
    .expect("writes the identity");

    let now = Utc::now();
    // A Microsoft-sized access token (about 2.5 kB) in a complete registration.
    let token = TokenFile {
        version: FORMAT_VERSION,
        registration: mailtoken::testing::provider::preset("microsoft", None).expect("preset"),
        flow: Flow::Localhostauthcode,
        email: "someone@example.com".into(),
        client_id: "08162f7c-0fd2-4200-a84a-f25a4db0b584".into(),
        client_secret: None,
        access_token: Secret::new("E".repeat(2500)),
        access_token_expiry: now + Duration::hours(1),
        access_token_obtained: Some(now),
        refresh_token: Some(Secret::new("R".repeat(1200))),
        granted_scope: None,
        encryption: EncryptionSpec::Age {
            recipients: vec![identity.to_public().to_string()],
        },
        min_valid_minutes: None,
        credential: None,
        login_started: None,
        login_ends_stated: None,
        signed_in: None,
        mailbox: None,
        dynamic_client: None,
        min_valid_this_call: None,
        unknown: None,
    };
    // As mailtoken writes it for the identity it reads with: with its own stanza beside the X25519
    // one (src/store/encryption/self_stanza.rs).
    let ciphertext = Crypto::new(EncryptionOptions {
        age_identity: Some(identity_path.clone()),
        ..EncryptionOptions::default()
    })
    .encrypt(&token.encryption, &token.to_json())
    .expect("encrypts");
    mailtoken::testing::private_files::write_atomic(
        &dir.join("data/mailtoken/account"),
        &ciphertext,
    )
    .expect("writes the token file");
}
