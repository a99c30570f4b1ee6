//! What is printed: `--format token|sasl|msasl` byte for byte as mutt_oauth2.py prints it, and
//! `--status` without any secret.

use crate::support::{FakeServer, Reply, Run, Sandbox, token_file};
use base64::Engine;
use chrono::{Duration, Utc};

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// An account with a valid token under a built-in registration.
fn preset_account(sandbox: &Sandbox, provider: &str) -> std::path::PathBuf {
    let path = sandbox.path(provider);
    let registration = mailtoken::provider::preset(provider, None).unwrap();
    let token = token_file(
        registration,
        sandbox.age_spec(),
        Utc::now() + Duration::minutes(30),
    );
    sandbox.write_token(&path, &token);
    path
}

#[test]
fn google_sasl_strings_match_mutt_oauth2_for_each_protocol() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "google");
    let file = path.to_str().unwrap();
    // mutt_oauth2.py: OAUTHBEARER 'n,a={user},\1host={host}\1port={port}\1auth=Bearer {token}\1\1'
    for (protocol, host, port) in [
        ("imap", "imap.gmail.com", 993),
        ("pop", "pop.gmail.com", 995),
        ("smtp", "smtp.gmail.com", 587),
    ] {
        let expected = b64(&format!(
            "n,a=user@example.com,\x01host={host}\x01port={port}\x01auth=Bearer cached-access-token\x01\x01"
        ));
        let run = sandbox.run(&[file, "--format", "sasl", "--protocol", protocol]);
        assert_eq!(
            (run.code, run.stdout.clone(), run.stderr.as_str()),
            (0, format!("{expected}\n"), ""),
            "{protocol}"
        );
        let run = sandbox.run(&[file, "--format", "msasl", "--protocol", protocol]);
        assert_eq!(
            run.stdout,
            format!("OAUTHBEARER {expected}\n"),
            "{protocol}"
        );
    }
    // --protocol defaults to imap, as in mutt_oauth2.py.
    let run = sandbox.run(&[file, "--format", "sasl"]);
    assert!(
        run.stdout
            .starts_with(&b64("n,a=user@example.com,\x01host=imap.gmail.com\x01port=993")[..40])
    );
}

#[test]
fn microsoft_sasl_strings_are_xoauth2() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "microsoft");
    let expected = b64("user=user@example.com\x01auth=Bearer cached-access-token\x01\x01");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--format",
        "msasl",
        "--protocol",
        "smtp",
    ]);
    assert_eq!((run.code, run.stdout), (0, format!("XOAUTH2 {expected}\n")));
}

#[test]
fn email_and_sasl_method_flags_change_only_the_output() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "microsoft");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--format",
        "sasl",
        "--email",
        "other@example.com",
        "--sasl-method",
        "oauthbearer",
    ]);
    let expected = b64(
        "n,a=other@example.com,\x01host=outlook.office365.com\x01port=993\x01auth=Bearer cached-access-token\x01\x01",
    );
    assert_eq!((run.code, run.stdout), (0, format!("{expected}\n")));
}

/// NeoMutt refuses a refresh command's token over about 512 bytes ("OAUTH token is too big",
/// conn/connaccount.c): the sign-in says so once; the calls mail clients make stay quiet.
#[test]
fn a_long_token_is_flagged_at_sign_in_not_on_every_call() {
    let sandbox = Sandbox::new();
    let long_token = "x".repeat(1800);
    let issued = long_token.clone();
    let server = FakeServer::start(move |_| Reply::token(&issued, None, 3600));
    let path = sandbox.path("long");
    let mut command = sandbox.command();
    command
        .args([
            path.to_str().unwrap(),
            "--authorize",
            "--authflow",
            "clientcredentials",
            "--email",
            "robot@example.com",
            "--client-id",
            "robot",
            "--token-endpoint",
            &server.token_endpoint(),
            "--scope",
            "mail",
            "--imap-endpoint",
            "imaps://imap.example.com:993",
        ])
        .env("MAILTOKEN_CLIENT_SECRET", "s3cret");
    let run = Run::from(command.output().unwrap());
    assert_eq!(
        (run.code, run.stdout.clone()),
        (0, format!("{long_token}\n")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1800 bytes") && run.stderr.contains("OAUTH token is too big"),
        "{}",
        run.stderr
    );

    for format in ["token", "sasl"] {
        let run = sandbox.run(&[path.to_str().unwrap(), "--format", format]);
        assert_eq!(
            (run.code, run.stdout.lines().count()),
            (0, 1),
            "{}",
            run.stderr
        );
        assert_eq!(run.stderr, "", "the mail client's call is quiet");
    }
}

#[test]
fn status_describes_the_account_without_secrets() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "microsoft");

    let run = sandbox.run(&["--status", path.to_str().unwrap()]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let path_text = path.display().to_string();
    let identity_line = format!("age, to {}", sandbox.recipient());
    for expected in [
        "file:",
        path_text.as_str(),
        identity_line.as_str(),
        "provider:       microsoft",
        "tenant:         common",
        "e-mail:         user@example.com",
        "flow:           localhostauthcode",
        "access token:   valid until",
        "refresh token:  present",
        "last refresh:",
        "IMAP:           imaps://outlook.office365.com:993",
    ] {
        assert!(
            run.stdout.contains(expected),
            "{expected:?} missing from\n{}",
            run.stdout
        );
    }
    for secret in ["cached-access-token", "refresh-1", "test-secret"] {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} leaked"
        );
    }
}

#[test]
fn status_reports_an_expired_token() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("old");
    let registration = mailtoken::provider::preset("google", None).unwrap();
    sandbox.write_token(
        &path,
        &token_file(
            registration,
            sandbox.age_spec(),
            Utc::now() - Duration::hours(2),
        ),
    );
    let run = sandbox.run(&["--status", path.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("access token:   expired at"),
        "{}",
        run.stdout
    );
}

#[test]
fn usage_errors_exit_64_and_help_lists_the_exit_codes() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--format", "nonsense", "x"]);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""));
    let run = sandbox.run(&[]);
    assert_eq!(run.code, 64);
    let run = sandbox.run(&["--help"]);
    assert_eq!(run.code, 0);
    for code in ["64", "65", "66", "69", "74", "75", "77", "78"] {
        assert!(
            run.stdout.contains(&format!("  {code}  ")),
            "exit code {code} missing from --help"
        );
    }
}

#[test]
fn short_help_fits_a_screen_with_grouped_options_and_long_help_keeps_every_option() {
    let sandbox = Sandbox::new();
    let short = sandbox.run(&["-h"]);
    assert_eq!((short.code, short.stderr.as_str()), (0, ""));
    let lines = short.stdout.lines().count();
    assert!(lines <= 45, "-h is {lines} lines:\n{}", short.stdout);
    for heading in [
        "Signing in:",
        "Provider:",
        "Mail servers:",
        "Encryption:",
        "Output:",
        "Diagnostics:",
    ] {
        assert!(short.stdout.contains(heading), "{heading} missing from -h");
    }
    let long = sandbox.run(&["--help"]);
    assert_eq!(long.code, 0);
    for flag in ["--authorize-endpoint", "--gpg-recipient", "--auth-timeout"] {
        assert!(!short.stdout.contains(flag), "{flag} crowds -h");
        assert!(long.stdout.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn usage_errors_from_the_parser_read_like_every_other_error() {
    let sandbox = Sandbox::new();
    for args in [
        &["--no-such-flag", "x"][..],
        &[],
        &["--format", "nonsense", "x"],
    ] {
        let run = sandbox.run(args);
        assert_eq!((run.code, run.stdout.as_str()), (64, ""), "{args:?}");
        assert!(
            run.stderr.starts_with("mailtoken: error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_passphrase_file_without_a_terminal_fails_clearly() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("pass");
    let mut recipient =
        age::scrypt::Recipient::new(age::secrecy::SecretString::from("pw".to_string()));
    recipient.set_work_factor(2);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .unwrap();
    let mut ciphertext = Vec::new();
    let mut writer = encryptor.wrap_output(&mut ciphertext).unwrap();
    std::io::Write::write_all(&mut writer, b"{}").unwrap();
    writer.finish().unwrap();
    std::fs::write(&path, ciphertext).unwrap();
    crate::support::set_mode(&path, 0o600);

    // setsid detaches from any controlling terminal, as under cron.
    let run = crate::support::Run::from(
        std::process::Command::new("setsid")
            .arg(env!("CARGO_BIN_EXE_mailtoken"))
            .arg(&path)
            .env("HOME", sandbox.home())
            .env("XDG_CONFIG_HOME", sandbox.config_home())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap(),
    );
    assert_eq!((run.code, run.stdout.as_str()), (65, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("protected by a passphrase"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_endpoint_given_on_the_command_line_goes_into_the_oauthbearer_string() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "google");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--format",
        "sasl",
        "--protocol",
        "smtp",
        "--smtp-endpoint",
        "smtps://mail.example.net:465",
    ]);
    let expected = b64(
        "n,a=user@example.com,\x01host=mail.example.net\x01port=465\x01auth=Bearer cached-access-token\x01\x01",
    );
    assert_eq!((run.code, run.stdout), (0, format!("{expected}\n")));
}
