//! What is printed: `--format token|sasl|msasl` byte for byte as mutt_oauth2.py prints it, and
//! `--status` without any secret.

use std::path::PathBuf;

use crate::support::base64::encode;
use crate::support::*;

/// An account with a valid token under a built-in registration.
fn preset_account(sandbox: &Sandbox, provider: &str, minutes: i64) -> PathBuf {
    let registration = mailtoken::testing::provider::preset(provider, None).unwrap();
    let token = token_file(registration, sandbox.age_spec(), minutes_from_now(minutes));
    sandbox.save(provider, &token)
}

/// The OAUTHBEARER string of `user` at `host:port`, base64 as `--format sasl` prints it;
/// mutt_oauth2.py: 'n,a={user},\1host={host}\1port={port}\1auth=Bearer {token}\1\1'.
fn oauthbearer(user: &str, host: &str, port: u16) -> String {
    encode(format!(
        "n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {CACHED_TOKEN}\x01\x01"
    ))
}

#[test]
fn google_sasl_strings_match_mutt_oauth2_for_each_protocol() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "google", 30);
    let file = path.to_str().unwrap();
    let protocols = [
        ("imap", "imap.gmail.com", 993),
        ("pop", "pop.gmail.com", 995),
        ("smtp", "smtp.gmail.com", 587),
    ];
    each_case(
        protocols.map(|case| (case.0, case)),
        |(protocol, host, port)| {
            let expected = oauthbearer("user@example.com", host, port);
            let run = sandbox.run(&[file, "--format", "sasl", "--protocol", protocol]);
            run.expect_exactly(0, &format!("{expected}\n"), "");
            let run = sandbox.run(&[file, "--format", "msasl", "--protocol", protocol]);
            assert_eq!(run.stdout, format!("OAUTHBEARER {expected}\n"));
        },
    );
    // --protocol defaults to imap, as in mutt_oauth2.py.
    let run = sandbox.run(&[file, "--format", "sasl"]);
    assert!(
        run.stdout
            .starts_with(&encode("n,a=user@example.com,\x01host=imap.gmail.com\x01port=993")[..40])
    );
}

/// An account under the preset `preset`, the flags given, and what must be printed.
struct Printed {
    preset: &'static str,
    flags: &'static [&'static str],
    stdout: String,
}

/// What `--format sasl|msasl` prints for a preset's account, given flags: each case what one
/// test checked.
#[test]
fn the_sasl_string_follows_the_preset_and_the_flags() {
    let xoauth2 = encode(format!(
        "user=user@example.com\x01auth=Bearer {CACHED_TOKEN}\x01\x01"
    ));
    let other_user = oauthbearer("other@example.com", "outlook.office365.com", 993);
    let other_server = oauthbearer("user@example.com", "mail.example.net", 465);
    let cases = [
        (
            "microsoft_sasl_strings_are_xoauth2",
            Printed {
                preset: "microsoft",
                flags: &["--format", "msasl", "--protocol", "smtp"],
                stdout: format!("XOAUTH2 {xoauth2}\n"),
            },
        ),
        (
            "email_and_sasl_method_flags_change_only_the_output",
            Printed {
                preset: "microsoft",
                flags: &[
                    "--format",
                    "sasl",
                    "--email",
                    "other@example.com",
                    "--sasl-method",
                    "oauthbearer",
                ],
                stdout: format!("{other_user}\n"),
            },
        ),
        (
            "an_endpoint_given_on_the_command_line_goes_into_the_oauthbearer_string",
            Printed {
                preset: "google",
                flags: &[
                    "--format",
                    "sasl",
                    "--protocol",
                    "smtp",
                    "--smtp-endpoint",
                    "smtps://mail.example.net:465",
                ],
                stdout: format!("{other_server}\n"),
            },
        ),
    ];
    each_case(cases, |case| {
        let sandbox = Sandbox::new();
        let path = preset_account(&sandbox, case.preset, 30);
        let run = sandbox.run(&[&[path.to_str().unwrap()][..], case.flags].concat());
        assert_eq!((run.code, run.stdout), (0, case.stdout));
    });
}

/// NeoMutt refuses a refresh command's token over about 512 bytes ("OAUTH token is too big",
/// conn/connaccount.c): the sign-in says so once; the calls mail clients make stay quiet.
#[test]
fn a_long_token_is_flagged_at_sign_in_not_on_every_call() {
    let sandbox = Sandbox::new();
    let long_token = "x".repeat(1800);
    let server = FakeServer::answering(Reply::token(&long_token, None, 3600));
    let path = sandbox.path("long");
    let endpoint = server.token_endpoint();
    let args = [
        &[
            path.to_str().unwrap(),
            "--authorize",
            "--authflow",
            "clientcredentials",
        ][..],
        &["--email", "robot@example.com", "--client-id", "robot"],
        &["--token-endpoint", &endpoint, "--scope", "mail"],
        &["--imap-endpoint", "imaps://imap.example.com:993"],
    ]
    .concat();
    let run = sandbox.run_with(&args, &[("MAILTOKEN_CLIENT_SECRET", "s3cret")]);
    run.expect(0, &format!("{long_token}\n"));
    run.says("1800 bytes");
    run.says("OAUTH token is too big");

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
    let path = preset_account(&sandbox, "microsoft", 30);

    let run = sandbox.run(&["--status", path.to_str().unwrap()]);

    run.expect_code(0);
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
        run.prints(expected);
    }
    for secret in SECRETS {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{secret} leaked"
        );
    }
}

#[test]
fn status_reports_an_expired_token() {
    let sandbox = Sandbox::new();
    let path = preset_account(&sandbox, "google", -120);
    let run = sandbox.run(&["--status", path.to_str().unwrap()]);
    assert_eq!(run.code, 0);
    run.prints("access token:   expired at");
}

#[test]
fn usage_errors_exit_64_and_help_lists_the_exit_codes() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--format", "nonsense", "x"]);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""));
    let run = sandbox.run::<&str>(&[]);
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

/// `-h` fits one screen (48 lines) and shows what a newcomer needs first, a custom provider's
/// `--scope` and an ended login's `--revoke` and `--json` included (issue #23); `--help` keeps
/// every option.
#[test]
fn short_help_fits_a_screen_with_grouped_options_and_long_help_keeps_every_option() {
    let sandbox = Sandbox::new();
    let short = sandbox.run(&["-h"]);
    assert_eq!((short.code, short.stderr.as_str()), (0, ""));
    let lines = short.stdout.lines().count();
    assert!(lines <= 48, "-h is {lines} lines:\n{}", short.stdout);
    for heading in [
        "Signing in:",
        "Provider:",
        "Mail servers:",
        "Encryption:",
        "Output:",
        "Accounts:",
        "Diagnostics:",
    ] {
        assert!(short.stdout.contains(heading), "{heading} missing from -h");
    }
    for flag in [
        "--authorize ",
        "--provider ",
        "--scope ",
        "--imap-endpoint ",
        "--format ",
        "--list ",
        "--status ",
        "--json ",
        "--check ",
        "--revoke ",
        "--test ",
    ] {
        assert!(short.stdout.contains(flag), "{flag}missing from -h");
    }
    let long = sandbox.run(&["--help"]);
    assert_eq!(long.code, 0);
    for flag in [
        "--authorize-endpoint",
        "--gpg-recipient",
        "--auth-timeout",
        "--pop-endpoint",
        "--keepalive",
    ] {
        assert!(!short.stdout.contains(flag), "{flag} crowds -h");
        assert!(long.stdout.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn usage_errors_from_the_parser_read_like_every_other_error() {
    let sandbox = Sandbox::new();
    let cases: [&[&str]; 3] = [
        &["--no-such-flag", "x"],
        &[],
        &["--format", "nonsense", "x"],
    ];
    each_case(cases.map(|args| (format!("{args:?}"), args)), |args| {
        let run = sandbox.run(args);
        run.expect(64, "");
        run.errors_cleanly();
    });
}

#[test]
fn a_passphrase_file_without_a_terminal_fails_clearly() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("pass");
    write_private(&path, passphrase_encrypt("pw", b"{}"));

    // setsid detaches from any controlling terminal, as under cron.
    let run = Run::of(
        std::process::Command::new("setsid")
            .arg(env!("CARGO_BIN_EXE_mailtoken"))
            .arg(&path)
            .env("HOME", sandbox.home())
            .env("XDG_CONFIG_HOME", sandbox.config_home())
            .stdin(std::process::Stdio::null()),
    );
    run.expect(65, "");
    run.says("protected by a passphrase");
}
