//! The token file: where it is found, when it is refused, each kind of encryption, and
//! mutt_oauth2.py's files.

use std::process::{Command, Stdio};

use mailtoken::testing::encryption::EncryptionSpec;

use crate::support::base64::{decode_wrapped, encode};
use crate::support::*;

#[test]
fn a_missing_file_exits_66_naming_the_authorize_command() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["work"]);
    run.expect(66, "");
    let expected = sandbox.accounts_dir().join("work");
    run.says(&format!("no token file at {}", expected.display()));
    run.says("hint: run 'mailtoken --authorize work' once to sign in");
}

#[test]
fn a_bare_name_means_the_data_directory_unless_it_exists_here() {
    let sandbox = Sandbox::new();
    let token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(30));
    sandbox.write_token(&sandbox.accounts_dir().join("work"), &token);
    let cached = format!("{CACHED_TOKEN}\n");
    sandbox.run(&["work"]).expect(0, &cached);

    // A file of that name in the current directory is reached as a path; the bare name keeps
    // meaning the account.
    let mut local = token;
    local.access_token = mailtoken::testing::secret::Secret::new("local-token");
    sandbox.save("work", &local);
    sandbox.run(&["work"]).expect(0, &cached);
    sandbox.run(&["./work"]).expect(0, "local-token\n");
}

#[test]
fn a_file_others_can_read_is_refused_with_the_chmod_that_fixes_it() {
    let sandbox = Sandbox::new();
    let path = sandbox.account(UNUSED_TOKEN_ENDPOINT, minutes_from_now(30));
    set_mode(&path, 0o644);

    let run = sandbox.run(&[&path]);

    run.expect(78, "");
    run.says("mode 0644");
    run.says(&format!("hint: run 'chmod 600 {}'", path.display()));
}

#[test]
fn corrupt_and_undecryptable_files_exit_65_and_are_left_untouched() {
    let sandbox = Sandbox::new();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"this is not a token file".to_vec()),
        ("empty", Vec::new()),
        (
            "truncated age",
            b"age-encryption.org/v1\n-> X25519 abc\n".to_vec(),
        ),
        ("plain JSON", b"{\"version\": 1}".to_vec()),
        (
            "other identity",
            encrypt(&age_to(&age::x25519::Identity::generate()), b"{}"),
        ),
        (
            "valid age, not a token file",
            encrypt(&sandbox.age_spec(), b"{\"hello\": 1}"),
        ),
    ];
    each_case(
        cases.iter().map(|(name, bytes)| (name, (name, bytes))),
        |(name, bytes)| {
            let path = sandbox.path(name);
            write_private(&path, bytes);

            let run = sandbox.run(&[&path]);

            run.expect(65, "");
            run.errors_cleanly();
            assert_eq!(
                &std::fs::read(&path).unwrap(),
                bytes,
                "the file is untouched"
            );
        },
    );
}

#[test]
fn a_missing_identity_says_which_flag_to_pass() {
    let sandbox = Sandbox::new();
    let path = sandbox.account(UNUSED_TOKEN_ENDPOINT, minutes_from_now(30));
    std::fs::remove_file(sandbox.identity_path()).unwrap();

    let run = sandbox.run(&[&path]);

    run.expect_code(65);
    run.says("no age identity at");
    run.says("--age-identity");
}

/// An expired account encrypted as `encryption`, refreshing at `server`.
fn expired_account(
    sandbox: &Sandbox,
    server: &FakeServer,
    encryption: EncryptionSpec,
) -> std::path::PathBuf {
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    token.encryption = encryption;
    sandbox.save("account", &token)
}

#[test]
fn an_explicit_age_identity_is_used_and_the_refresh_re_encrypts_to_it() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let elsewhere = age::x25519::Identity::generate();
    let identity_file = sandbox.path("my-identity.txt");
    use age::secrecy::ExposeSecret;
    write_private(
        &identity_file,
        format!("# comment\n{}\n", elsewhere.to_string().expose_secret()),
    );
    let path = expired_account(&sandbox, &server, age_to(&elsewhere));
    let with_identity = [
        "--age-identity",
        identity_file.to_str().unwrap(),
        path.to_str().unwrap(),
    ];

    sandbox.run(&with_identity).expect(0, "new-access\n");
    let run = sandbox.run(&[&with_identity[..], &["--status"]].concat());
    run.prints(&elsewhere.to_public().to_string());
}

#[test]
fn an_openssh_ed25519_key_works_as_the_age_identity() {
    if !require("ssh-keygen") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let key = sandbox.path("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "test", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(sandbox.path("id_ed25519.pub")).unwrap();
    let recipient = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let path = expired_account(
        &sandbox,
        &server,
        EncryptionSpec::Age {
            recipients: vec![recipient],
        },
    );
    let with_key = [
        "--age-identity",
        key.to_str().unwrap(),
        path.to_str().unwrap(),
    ];

    sandbox.run(&with_key).expect(0, "new-access\n");
    let run = sandbox.run(&with_key);
    run.expect_because(0, "new-access\n", "the rewritten file opens with the key");
}

/// A throwaway gpg key in the sandbox's GNUPGHOME.
fn make_gpg_key(sandbox: &Sandbox) {
    let home = sandbox.path("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    set_mode(&home, 0o700);
    let status = Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args(["--batch", "--quiet", "--passphrase", ""])
        .args(["--quick-gen-key", "mailtoken-test@example.com"])
        .args(["default", "default", "never"])
        .status()
        .unwrap();
    assert!(status.success(), "gpg key generation");
}

/// gpg with `args` in the sandbox's GNUPGHOME, `input` on stdin; its stdout.
fn gpg(sandbox: &Sandbox, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gpg")
        .env("GNUPGHOME", sandbox.path("gnupg"))
        .args(["--batch", "--quiet", "--yes"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "gpg {args:?}");
    output.stdout
}

/// The JSON of a gpg-encrypted file.
fn gpg_json(sandbox: &Sandbox, path: &std::path::Path) -> serde_json::Value {
    let plaintext = gpg(sandbox, &["--decrypt"], &std::fs::read(path).unwrap());
    serde_json::from_slice(&plaintext).unwrap()
}

#[test]
fn gpg_encrypted_files_are_read_and_rewritten_with_gpg() {
    if !require("gpg") {
        return;
    }
    let sandbox = Sandbox::new();
    make_gpg_key(&sandbox);
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let spec = EncryptionSpec::Gpg {
        recipient: Some("mailtoken-test@example.com".into()),
    };
    let token = token_file(
        test_registration(&server.token_endpoint()),
        spec,
        minutes_from_now(-1),
    );
    let ciphertext = gpg(
        &sandbox,
        &["--encrypt", "--recipient", "mailtoken-test@example.com"],
        &token.to_json(),
    );
    write_private(&path, ciphertext);

    sandbox.run(&[&path]).expect(0, "new-access\n");

    let json = gpg_json(&sandbox, &path);
    assert_eq!(json["access_token"], "new-access");
    assert_eq!(
        json["encryption"],
        serde_json::json!({"kind": "gpg", "recipient": "mailtoken-test@example.com"})
    );
    let cached = sandbox.run(&[&path]);
    assert_eq!((cached.code, cached.stdout.as_str()), (0, "new-access\n"));
}

/// A mutt_oauth2.py token file, as its `json.dumps` writes it (naive local time), expiring in
/// `minutes`.
fn mutt_oauth2_json(access_token: &str, minutes: i64, with_client: bool) -> String {
    // The sandbox runs with TZ=UTC, so the naive local time is UTC time.
    let expiration = minutes_from_now(minutes).naive_utc();
    let mut json = serde_json::json!({
        "registration": "google",
        "authflow": "authcode",
        "email": "user@gmail.com",
        "access_token": access_token,
        "access_token_expiration": expiration.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        "refresh_token": "legacy-refresh",
    });
    if with_client {
        json["client_id"] = "legacy-client".into();
        json["client_secret"] = "legacy-secret".into();
    }
    json.to_string()
}

#[test]
fn a_mutt_oauth2_gpg_file_works_unchanged_and_is_converted_after_its_first_refresh() {
    if !require("gpg") {
        return;
    }
    let sandbox = Sandbox::new();
    make_gpg_key(&sandbox);
    let server = FakeServer::answering(Reply::token("new-access", Some("new-refresh"), 3600));
    let path = sandbox.path("mutt-token");
    let write_encrypted = |json: String| {
        let to_self = ["--encrypt", "--default-recipient-self"];
        write_private(&path, gpg(&sandbox, &to_self, json.as_bytes()));
    };
    write_encrypted(mutt_oauth2_json("legacy-access", 30, true));
    let before = Snapshot::of(&path);

    sandbox.run(&[&path]).expect(0, "legacy-access\n");
    // A valid token does not rewrite the file.
    before.unchanged();

    write_encrypted(mutt_oauth2_json("legacy-access", -5, true));
    let run = sandbox.run(&[
        "--token-endpoint",
        &server.token_endpoint(),
        path.to_str().unwrap(),
    ]);

    run.expect(0, "new-access\n");
    assert_eq!(
        server.requests()[0].form,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "legacy-refresh"),
            ("client_id", "legacy-client"),
            ("client_secret", "legacy-secret"),
        ])
    );
    let json = gpg_json(&sandbox, &path);
    assert_eq!(
        json["version"], 1,
        "rewritten in mailtoken's format: {json}"
    );
    assert_eq!(json["refresh_token"], "new-refresh");
    assert_eq!(json["registration"]["provider"], "google");
    assert_eq!(
        json["encryption"]["kind"], "gpg",
        "with the same encryption"
    );
    sandbox.run(&[&path]).expect(0, "new-access\n");
}

#[test]
fn a_mutt_oauth2_file_through_pipes_is_refreshed_and_rewritten_in_mailtokens_format() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", Some("new-refresh"), 3600));
    // A reversible stand-in for encryption that needs only coreutils.
    let decrypt = ["--decryption-pipe", "base64 -d"];
    let pipes = [&decrypt[..], &["--encryption-pipe", "base64"]].concat();
    let path = sandbox.path("mutt-token");
    let file = path.to_str().unwrap();
    write_private(&path, encode(mutt_oauth2_json("old-access", -5, false)));

    let status = sandbox.run(&[&decrypt[..], &["--status", file]].concat());
    status.expect_code(0);
    status.prints("mutt_oauth2.py");

    // Mutt's copy of the script stores no client id: the refresh says how to give one.
    let run = sandbox.run(&[&pipes[..], &[file]].concat());
    run.expect(78, "");
    run.says("--client-id");

    let endpoint = server.token_endpoint();
    let client = ["--client-id", "cid", "--token-endpoint", &endpoint, file];
    sandbox
        .run(&[&pipes[..], &client].concat())
        .expect(0, "new-access\n");
    assert_eq!(server.requests()[0].form["client_id"], "cid");

    let decoded = decode_wrapped(&std::fs::read_to_string(&path).unwrap());
    let json: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(json["version"], 1);
    // The client id of one call is not stored: only --authorize changes an account.
    assert_eq!(json["client_id"], "");
    assert_eq!(
        json["encryption"],
        serde_json::json!({"kind": "pipe", "encrypt": "base64"})
    );

    // The recorded encryption command is not run on the file's say-so: a refresh without
    // --encryption-pipe stops before sending anything, and leaves the file alone.
    let before = Snapshot::of(&path);
    let run = sandbox.run(&[&decrypt[..], &["--force-refresh"], &client[..]].concat());
    run.expect(78, "");
    run.says("--encryption-pipe");
    before.unchanged();
    assert_eq!(server.requests().len(), 1);
    let run = sandbox.run(&[&pipes[..], &["--force-refresh"], &client[..]].concat());
    run.expect(0, "new-access\n");
    assert!(decode_wrapped(&std::fs::read_to_string(&path).unwrap()).starts_with(b"{"));
}

#[test]
fn a_passphrase_file_is_read_on_a_terminal_and_refreshed_without_asking_twice() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let token = token_file(
        test_registration(&server.token_endpoint()),
        EncryptionSpec::AgePassphrase,
        minutes_from_now(-1),
    );
    write_private(&path, passphrase_encrypt("correct horse", &token.to_json()));

    // script(1) gives mailtoken a terminal; the passphrase is typed once, on it.
    let mut child = sandbox
        .terminal(&format!("\"$MAILTOKEN\" {}", path.display()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"correct horse\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);

    assert!(output.status.success(), "{terminal}");
    assert_eq!(
        terminal.matches("passphrase for").count(),
        1,
        "asked exactly once: {terminal}"
    );
    assert!(terminal.contains("new-access"), "{terminal}");

    // The refreshed file is still passphrase-encrypted, to the same passphrase.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        mailtoken::testing::encryption::detect(&bytes),
        mailtoken::testing::encryption::Detected::Age {
            passphrase: true,
            ssh: false
        }
    );
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(
        "correct horse".to_string(),
    ));
    let decryptor = age::Decryptor::new(&bytes[..]).unwrap();
    let mut plaintext = Vec::new();
    std::io::Read::read_to_end(
        &mut decryptor
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap(),
        &mut plaintext,
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(json["access_token"], "new-access");
    assert_eq!(json["encryption"]["kind"], "age-passphrase");
}
