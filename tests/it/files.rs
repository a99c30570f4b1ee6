//! The token file: where it is found, when it is refused, each kind of encryption, and
//! mutt_oauth2.py's files.

use std::process::Command;

use crate::support::{FakeServer, Reply, Sandbox, set_mode, test_registration, token_file};
use chrono::{Duration, Utc};
use mailtoken::encryption::EncryptionSpec;

fn valid_token_at(sandbox: &Sandbox, path: &std::path::Path, encryption: EncryptionSpec) {
    let token = token_file(
        test_registration("http://127.0.0.1:9/token"),
        encryption,
        Utc::now() + Duration::minutes(30),
    );
    sandbox.write_token(path, &token);
}

#[test]
fn a_missing_file_exits_66_naming_the_authorize_command() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["work"]);
    assert_eq!((run.code, run.stdout.as_str()), (66, ""));
    let expected = sandbox.data_home().join("mailtoken/work");
    assert!(
        run.stderr
            .contains(&format!("no token file at {}", expected.display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: run 'mailtoken --authorize work' once to sign in"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_bare_name_means_the_data_directory_unless_it_exists_here() {
    let sandbox = Sandbox::new();
    let in_data = sandbox.data_home().join("mailtoken/work");
    valid_token_at(&sandbox, &in_data, sandbox.age_spec());
    let run = sandbox.run(&["work"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "cached-access-token\n"),
        "{}",
        run.stderr
    );

    // A file of that name in the current directory is reached as a path; the bare name keeps
    // meaning the account.
    let mut local = token_file(
        test_registration("http://127.0.0.1:9/token"),
        sandbox.age_spec(),
        Utc::now() + Duration::minutes(30),
    );
    local.access_token = mailtoken::secret::Secret::new("local-token");
    sandbox.write_token(&sandbox.path("work"), &local);
    let run = sandbox.run(&["work"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "cached-access-token\n"),
        "{}",
        run.stderr
    );
    let run = sandbox.run(&["./work"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "local-token\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_others_can_read_is_refused_with_the_chmod_that_fixes_it() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    valid_token_at(&sandbox, &path, sandbox.age_spec());
    set_mode(&path, 0o644);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (78, ""));
    assert!(run.stderr.contains("mode 0644"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("hint: run 'chmod 600 {}'", path.display())),
        "{}",
        run.stderr
    );
}

#[test]
fn corrupt_and_undecryptable_files_exit_65_and_are_left_untouched() {
    let sandbox = Sandbox::new();
    let other = age::x25519::Identity::generate();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"this is not a token file".to_vec()),
        ("empty", Vec::new()),
        (
            "truncated age",
            b"age-encryption.org/v1\n-> X25519 abc\n".to_vec(),
        ),
        ("plain JSON", b"{\"version\": 1}".to_vec()),
        ("other identity", {
            let crypto = mailtoken::encryption::Crypto::new(Default::default());
            crypto
                .encrypt(
                    &EncryptionSpec::Age {
                        recipients: vec![other.to_public().to_string()],
                    },
                    b"{}",
                )
                .unwrap()
        }),
        ("valid age, not a token file", {
            let crypto = mailtoken::encryption::Crypto::new(Default::default());
            crypto
                .encrypt(&sandbox.age_spec(), b"{\"hello\": 1}")
                .unwrap()
        }),
    ];
    for (name, bytes) in cases {
        let path = sandbox.path(name);
        std::fs::write(&path, &bytes).unwrap();
        set_mode(&path, 0o600);

        let run = sandbox.run(&[path.to_str().unwrap()]);

        assert_eq!(
            (run.code, run.stdout.as_str()),
            (65, ""),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stderr.starts_with("mailtoken: error: "),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "{name}: the file is untouched"
        );
    }
}

#[test]
fn a_missing_identity_says_which_flag_to_pass() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    valid_token_at(&sandbox, &path, sandbox.age_spec());
    std::fs::remove_file(sandbox.identity_path()).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(run.code, 65);
    assert!(run.stderr.contains("no age identity at"), "{}", run.stderr);
    assert!(run.stderr.contains("--age-identity"), "{}", run.stderr);
}

#[test]
fn an_explicit_age_identity_is_used_and_the_refresh_re_encrypts_to_it() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let elsewhere = age::x25519::Identity::generate();
    let identity_file = sandbox.path("my-identity.txt");
    use age::secrecy::ExposeSecret;
    std::fs::write(
        &identity_file,
        format!("# comment\n{}\n", elsewhere.to_string().expose_secret()),
    )
    .unwrap();
    set_mode(&identity_file, 0o600);
    let path = sandbox.path("account");
    let spec = EncryptionSpec::Age {
        recipients: vec![elsewhere.to_public().to_string()],
    };
    sandbox.write_token(
        &path,
        &token_file(
            test_registration(&server.token_endpoint()),
            spec.clone(),
            Utc::now() - Duration::minutes(1),
        ),
    );

    let run = sandbox.run(&[
        "--age-identity",
        identity_file.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    let run = sandbox.run(&[
        "--age-identity",
        identity_file.to_str().unwrap(),
        path.to_str().unwrap(),
        "--status",
    ]);
    assert!(
        run.stdout.contains(&elsewhere.to_public().to_string()),
        "{}",
        run.stdout
    );
}

/// Tools the environment may lack; CI installs them (see .ci/run), and a developer without them
/// is told rather than silently passing.
fn require(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("{tool} is required in CI");
    }
    if !found {
        eprintln!("skipping: {tool} is not installed");
    }
    found
}

#[test]
fn an_openssh_ed25519_key_works_as_the_age_identity() {
    if !require("ssh-keygen") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let key = sandbox.path("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "test",
            "-f",
            key.to_str().unwrap(),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(sandbox.path("id_ed25519.pub")).unwrap();
    let recipient = public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let path = sandbox.path("account");
    sandbox.write_token(
        &path,
        &token_file(
            test_registration(&server.token_endpoint()),
            EncryptionSpec::Age {
                recipients: vec![recipient],
            },
            Utc::now() - Duration::minutes(1),
        ),
    );

    let run = sandbox.run(&[
        "--age-identity",
        key.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    let run = sandbox.run(&[
        "--age-identity",
        key.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "the rewritten file opens with the key: {}",
        run.stderr
    );
}

/// A throwaway gpg key in the sandbox's GNUPGHOME.
fn make_gpg_key(sandbox: &Sandbox) {
    let home = sandbox.dir.path().join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    set_mode(&home, 0o700);
    let status = Command::new("gpg")
        .env("GNUPGHOME", &home)
        .args([
            "--batch",
            "--quiet",
            "--passphrase",
            "",
            "--quick-gen-key",
            "mailtoken-test@example.com",
            "default",
            "default",
            "never",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "gpg key generation");
}

fn gpg(sandbox: &Sandbox, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("gpg")
        .env("GNUPGHOME", sandbox.dir.path().join("gnupg"))
        .args(["--batch", "--quiet", "--yes"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "gpg {args:?}");
    output.stdout
}

#[test]
fn gpg_encrypted_files_are_read_and_rewritten_with_gpg() {
    if !require("gpg") {
        return;
    }
    let sandbox = Sandbox::new();
    make_gpg_key(&sandbox);
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let spec = EncryptionSpec::Gpg {
        recipient: Some("mailtoken-test@example.com".into()),
    };
    let token = token_file(
        test_registration(&server.token_endpoint()),
        spec,
        Utc::now() - Duration::minutes(1),
    );
    let ciphertext = gpg(
        &sandbox,
        &["--encrypt", "--recipient", "mailtoken-test@example.com"],
        &token.to_json(),
    );
    std::fs::write(&path, ciphertext).unwrap();
    set_mode(&path, 0o600);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    let plaintext = gpg(&sandbox, &["--decrypt"], &std::fs::read(&path).unwrap());
    let json: serde_json::Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(json["access_token"], "new-access");
    assert_eq!(
        json["encryption"],
        serde_json::json!({"kind": "gpg", "recipient": "mailtoken-test@example.com"})
    );
    let cached = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!((cached.code, cached.stdout.as_str()), (0, "new-access\n"));
}

/// A mutt_oauth2.py token file, as its `json.dumps` writes it (naive local time).
fn mutt_oauth2_json(
    access_token: &str,
    expiration: chrono::NaiveDateTime,
    with_client: bool,
) -> String {
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
    let server = FakeServer::start(|_| Reply::token("new-access", Some("new-refresh"), 3600));
    let path = sandbox.path("mutt-token");
    // The sandbox runs with TZ=UTC, so the naive local time is UTC time.
    let valid = mutt_oauth2_json(
        "legacy-access",
        (Utc::now() + Duration::minutes(30)).naive_utc(),
        true,
    );
    std::fs::write(
        &path,
        gpg(
            &sandbox,
            &["--encrypt", "--default-recipient-self"],
            valid.as_bytes(),
        ),
    )
    .unwrap();
    set_mode(&path, 0o600);
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "legacy-access\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a valid token does not rewrite the file"
    );

    let expired = mutt_oauth2_json(
        "legacy-access",
        (Utc::now() - Duration::minutes(5)).naive_utc(),
        true,
    );
    std::fs::write(
        &path,
        gpg(
            &sandbox,
            &["--encrypt", "--default-recipient-self"],
            expired.as_bytes(),
        ),
    )
    .unwrap();
    let run = sandbox.run(&[
        "--token-endpoint",
        &server.token_endpoint(),
        path.to_str().unwrap(),
    ]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        server.requests()[0].form,
        crate::support::form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "legacy-refresh"),
            ("client_id", "legacy-client"),
            ("client_secret", "legacy-secret"),
        ])
    );
    let json: serde_json::Value = serde_json::from_slice(&gpg(
        &sandbox,
        &["--decrypt"],
        &std::fs::read(&path).unwrap(),
    ))
    .unwrap();
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
    let again = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        again.stderr
    );
}

#[test]
fn a_mutt_oauth2_file_through_pipes_is_refreshed_and_rewritten_in_mailtokens_format() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", Some("new-refresh"), 3600));
    // A reversible stand-in for encryption that needs only coreutils.
    let pipes = [
        "--decryption-pipe",
        "base64 -d",
        "--encryption-pipe",
        "base64",
    ];
    let path = sandbox.path("mutt-token");
    let expired = mutt_oauth2_json(
        "old-access",
        (Utc::now() - Duration::minutes(5)).naive_utc(),
        false,
    );
    std::fs::write(&path, base64_encode(expired.as_bytes())).unwrap();
    set_mode(&path, 0o600);

    let status = sandbox.run(&[
        "--decryption-pipe",
        "base64 -d",
        "--status",
        path.to_str().unwrap(),
    ]);
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status.stdout.contains("mutt_oauth2.py"),
        "{}",
        status.stdout
    );

    // Mutt's copy of the script stores no client id: the refresh says how to give one.
    let run = sandbox.run(&[&pipes[..], &[path.to_str().unwrap()]].concat());
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(run.stderr.contains("--client-id"), "{}", run.stderr);

    let endpoint = server.token_endpoint();
    let args = [
        &pipes[..],
        &[
            "--client-id",
            "cid",
            "--token-endpoint",
            &endpoint,
            path.to_str().unwrap(),
        ],
    ]
    .concat();
    let run = sandbox.run(&args);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests()[0].form["client_id"], "cid");

    let decoded = base64_decode(&std::fs::read_to_string(&path).unwrap());
    let json: serde_json::Value = serde_json::from_slice(&decoded).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["client_id"], "cid");
    assert_eq!(
        json["encryption"],
        serde_json::json!({"kind": "pipe", "encrypt": "base64"})
    );

    // The recorded encryption command is not run on the file's say-so: a refresh without
    // --encryption-pipe stops before sending anything, and leaves the file alone.
    let before = std::fs::read(&path).unwrap();
    let run = sandbox.run(&[
        "--decryption-pipe",
        "base64 -d",
        "--force-refresh",
        path.to_str().unwrap(),
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(run.stderr.contains("--encryption-pipe"), "{}", run.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(server.requests().len(), 1);
    let run = sandbox.run(&[
        "--decryption-pipe",
        "base64 -d",
        "--encryption-pipe",
        "base64",
        "--force-refresh",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    assert!(base64_decode(&std::fs::read_to_string(&path).unwrap()).starts_with(b"{"));
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(text.split_whitespace().collect::<String>())
        .unwrap()
}

#[test]
fn a_passphrase_file_is_read_on_a_terminal_and_refreshed_without_asking_twice() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let token = token_file(
        test_registration(&server.token_endpoint()),
        EncryptionSpec::AgePassphrase,
        Utc::now() - Duration::minutes(1),
    );
    // A low work factor keeps the test fast; the file is otherwise what `--encryption passphrase` writes.
    let mut recipient = age::scrypt::Recipient::new(age::secrecy::SecretString::from(
        "correct horse".to_string(),
    ));
    recipient.set_work_factor(4);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut ciphertext = Vec::new();
    let mut writer = encryptor.wrap_output(&mut ciphertext).unwrap();
    std::io::Write::write_all(&mut writer, &token.to_json()).unwrap();
    writer.finish().unwrap();
    std::fs::write(&path, ciphertext).unwrap();
    set_mode(&path, 0o600);

    // script(1) gives mailtoken a terminal; the passphrase is typed once, on it.
    let command = format!("{} {}", env!("CARGO_BIN_EXE_mailtoken"), path.display());
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env("HOME", sandbox.home())
        .env("XDG_CONFIG_HOME", sandbox.config_home())
        .env("XDG_DATA_HOME", sandbox.data_home())
        .env("MAILTOKEN_HTTP_TIMEOUT", "5")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = script.spawn().unwrap();
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
        mailtoken::encryption::detect(&bytes),
        mailtoken::encryption::Detected::Age {
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
