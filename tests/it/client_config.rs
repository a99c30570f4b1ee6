//! `--print-config CLIENT`: each client's block, held to a golden file (regenerate them with
//! `MAILTOKEN_REGENERATE=1 cargo test --test it client_config::`), and the checks of what the
//! client lacks on this machine, against fake clients on a private PATH and fake Cyrus SASL
//! plugins in a private SASL_PATH. The blocks themselves run against a real Dovecot in the
//! end-to-end suite (scenarios 12-17, 27).

use std::path::{Path, PathBuf};

use mailtoken::testing::mailserver::{MailEndpoint, Protocol};
use mailtoken::testing::sasl::SaslMethod;
use mailtoken::testing::secret::Secret;

use crate::support::*;

const CLIENTS: [&str; 7] = [
    "neomutt",
    "mutt",
    "msmtp",
    "mbsync",
    "aerc",
    "offlineimap",
    "getmail",
];

/// An account `work` of you@gmail.com at Gmail's servers (IMAP with TLS, SMTP with STARTTLS),
/// OAUTHBEARER: the account of docs/recipes.md.
fn account(sandbox: &Sandbox) -> PathBuf {
    let path = sandbox.accounts_dir().join("work");
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    token.email = "you@gmail.com".into();
    sandbox.write_token(&path, &token);
    path
}

/// A directory for PATH holding only these scripts, each `#!/bin/sh` and the given body.
fn fake_path(sandbox: &Sandbox, scripts: &[(&str, &str)]) -> String {
    let dir = sandbox.path("bin");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body) in scripts {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        set_mode(&path, 0o755);
    }
    dir.to_string_lossy().into_owned()
}

/// The block as a golden file holds it: the sandbox's and the binary's paths as words.
fn normalized(sandbox: &Sandbox, text: &str) -> String {
    text.replace(env!("CARGO_BIN_EXE_mailtoken"), "/usr/bin/mailtoken")
        .replace(
            &sandbox.data_home().to_string_lossy().into_owned(),
            "/home/you/.local/share",
        )
        .replace(
            &sandbox.dir.path().to_string_lossy().into_owned(),
            "/home/you",
        )
}

/// docs/recipes.md shows each client's block as `--print-config` writes it for a Gmail account
/// (issue #32: the recipes are these blocks), so no recipe can drift from what is printed.
#[test]
fn the_recipes_are_the_blocks() {
    let recipes = std::fs::read_to_string(repository("docs/recipes.md")).unwrap();
    for client in CLIENTS {
        let block =
            std::fs::read_to_string(repository(&format!("tests/it/golden/{client}.txt"))).unwrap();
        assert!(
            recipes.contains(&format!("```\n{block}```")),
            "docs/recipes.md lacks the {client} block:\n{block}"
        );
        assert!(recipes.contains(&format!("mailtoken --print-config {client} work")));
    }
}

fn golden(name: &str, actual: &str) {
    let path = repository(&format!("tests/it/golden/{name}.txt"));
    if std::env::var_os("MAILTOKEN_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "{} is stale: MAILTOKEN_REGENERATE=1 cargo test --test it client_config::",
        path.display()
    );
}

#[test]
fn each_client_has_its_block() {
    let sandbox = Sandbox::new();
    account(&sandbox);
    let empty = fake_path(&sandbox, &[]);
    each_case(CLIENTS.map(|c| (c, c)), |client| {
        let run = sandbox.run_with(&["--print-config", client, "work"], &[("PATH", &empty)]);
        run.expect_code(0);
        for secret in SECRETS {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
        }
        golden(client, &normalized(&sandbox, &run.stdout));
    });
}

#[test]
fn starttls_servers_and_a_trust_file_are_written_in_each_clients_words() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("work");
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    token.registration.imap_endpoint =
        Some(MailEndpoint::parse(Protocol::Imap, "imap://mail.example.org:143").unwrap());
    token.registration.smtp_endpoint =
        Some(MailEndpoint::parse(Protocol::Smtp, "smtps://mail.example.org:465").unwrap());
    token.registration.sasl_method = SaslMethod::Xoauth2;
    sandbox.write_token(&path, &token);
    let empty = fake_path(&sandbox, &[]);
    let ca = sandbox.path("ca.pem").to_string_lossy().into_owned();
    each_case(CLIENTS.map(|c| (c, c)), |client| {
        let run = sandbox.run_with(
            &["--print-config", client, "work"],
            &[("PATH", &empty), ("SSL_CERT_FILE", &ca)],
        );
        if matches!(client, "offlineimap" | "getmail") {
            // Neither protects the token after STARTTLS: no block, the TLS port named instead.
            run.expect(78, "");
            run.says("--set work --imap-endpoint imaps://mail.example.org:993");
            return;
        }
        run.expect_code(0);
        golden(
            &format!("{client}-starttls"),
            &normalized(&sandbox, &run.stdout),
        );
    });
}

#[test]
fn a_missing_server_names_the_set_command() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("mine");
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    token.registration.smtp_endpoint = None;
    sandbox.write_token(&path, &token);
    let run = sandbox.run(&["--print-config", "msmtp", "./mine"]);
    run.expect(78, "");
    run.says("msmtp needs the account's SMTP server");
    run.says("hint: run 'mailtoken --set ./mine --smtp-endpoint URL' to record it");
}

#[test]
fn a_client_that_is_not_installed_is_named_with_its_package() {
    let sandbox = Sandbox::new();
    account(&sandbox);
    let empty = fake_path(&sandbox, &[]);
    let run = sandbox.run_with(&["--print-config", "mbsync", "work"], &[("PATH", &empty)]);
    run.expect_code(0);
    run.says("mailtoken: missing: mbsync is not installed (not on PATH)");
    run.says("isync");
}

/// A Cyrus SASL plugin directory with one fake plugin holding `names`.
fn plugins(sandbox: &Sandbox, dir: &str, file: &str, names: &[u8]) -> String {
    let dir = sandbox.path(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), [b"\x7fELF".as_slice(), names].concat()).unwrap();
    dir.to_string_lossy().into_owned()
}

#[test]
fn mbsync_needs_a_cyrus_plugin_for_the_mechanism_where_cyrus_looks() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("work");
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    token.registration.sasl_method = SaslMethod::Xoauth2;
    sandbox.write_token(&path, &token);
    let bin = fake_path(&sandbox, &[("mbsync", "echo isync 1.4.4")]);
    let none = plugins(&sandbox, "plain", "libplain.so.2", b"PLAIN\0");
    let run = sandbox.run_with(
        &["--print-config", "mbsync", "work"],
        &[("PATH", &bin), ("SASL_PATH", &none)],
    );
    run.expect_code(0);
    // Either no plugin at all, or one where SASL_PATH does not look (this machine's own).
    run.says("mailtoken: missing: mbsync logs in through Cyrus SASL");
    run.says(&format!("looked in {none} (SASL_PATH)"));

    let wrong = plugins(&sandbox, "wrong", "libsasl-xoauth2.so", b"XOAUTH2\0");
    let run = sandbox.run_with(
        &["--print-config", "mbsync", "work"],
        &[("PATH", &bin), ("SASL_PATH", &wrong)],
    );
    run.says("takes a token file of its own");

    let good = plugins(&sandbox, "good", "libkdexoauth2.so.3", b"XOAUTH2\0");
    let run = sandbox.run_with(
        &["--print-config", "mbsync", "work"],
        &[("PATH", &bin), ("SASL_PATH", &format!("{none}:{good}"))],
    );
    run.expect_code(0);
    run.never_says("missing");
}

#[test]
fn neomutts_token_limit_is_checked_against_this_accounts_token() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("work");
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    let long = "m".repeat(2000);
    token.access_token = Secret::new(long.clone());
    sandbox.write_token(&path, &token);
    // As Debian 12's neomutt -v says it: GNU SASL, not Cyrus.
    let bin = fake_path(
        &sandbox,
        &[("neomutt", "echo NeoMutt 20220429; echo '+gsasl -sasl'")],
    );
    let run = sandbox.run_with(&["--print-config", "neomutt", "work"], &[("PATH", &bin)]);
    run.expect_code(0);
    run.says("this account's access token is 2000 bytes");
    run.says("'mailtoken --set work --sasl-method XOAUTH2'");
    run.never_says("Cyrus");
    assert!(!run.stderr.contains(&long) && !run.stdout.contains(&long));

    // Built with Cyrus SASL: its plugin is looked for too.
    let bin = fake_path(
        &sandbox,
        &[("neomutt", "echo NeoMutt 20220429; echo '+sasl'")],
    );
    let empty = plugins(&sandbox, "none", "libplain.so", b"PLAIN\0");
    let run = sandbox.run_with(
        &["--print-config", "neomutt", "work"],
        &[("PATH", &bin), ("SASL_PATH", &empty)],
    );
    run.says("neomutt logs in through Cyrus SASL, and no Cyrus SASL plugin offers OAUTHBEARER");
}

#[test]
fn msmtp_must_be_new_enough_for_the_mechanism() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("work");
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    token.registration.sasl_method = SaslMethod::Xoauth2;
    sandbox.write_token(&path, &token);
    let old = fake_path(&sandbox, &[("msmtp", "echo msmtp version 1.8.12")]);
    let run = sandbox.run_with(&["--print-config", "msmtp", "work"], &[("PATH", &old)]);
    run.expect_code(0);
    run.says("msmtp 1.8.12 is older than 1.8.13, the first with auth xoauth2");
    let new = fake_path(&sandbox, &[("msmtp", "echo msmtp version 1.8.23")]);
    let run = sandbox.run_with(&["--print-config", "msmtp", "work"], &[("PATH", &new)]);
    run.never_says("missing");
}

#[test]
fn a_client_that_never_answers_holds_nothing_up() {
    let sandbox = Sandbox::new();
    account(&sandbox);
    let bin = fake_path(&sandbox, &[("msmtp", "exec sleep 60")]);
    let started = std::time::Instant::now();
    let run = sandbox.run_with(&["--print-config", "msmtp", "work"], &[("PATH", &bin)]);
    run.expect_code(0);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(run.stdout.contains("passwordeval"));
}

#[test]
fn the_block_names_this_binary_and_the_file_by_absolute_paths() {
    let sandbox = Sandbox::new();
    let file = sandbox.path("relative-account");
    sandbox.write_token(
        &file,
        &sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60)),
    );
    let run = sandbox.run(&["--print-config", "msmtp", "./relative-account"]);
    run.expect_code(0);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("passwordeval"))
        .unwrap()
        .to_string();
    let exe = Path::new(env!("CARGO_BIN_EXE_mailtoken"));
    assert!(line.contains(&exe.to_string_lossy().into_owned()), "{line}");
    assert!(
        line.contains(&file.to_string_lossy().into_owned()),
        "{line}"
    );
}
