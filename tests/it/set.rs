//! `--set` (issue #32, item 6): what is not the login changes without a sign-in, through the one
//! write path, and says what changed; the tokens, the client and the provider's endpoints never
//! change; a file it cannot read is left as it was; an ended login stays ended.

use crate::support::*;

/// The account `work`, expiring in an hour, with no refresh to be made.
fn account(sandbox: &Sandbox) -> std::path::PathBuf {
    let path = sandbox.accounts_dir().join("work");
    sandbox.write_token(
        &path,
        &sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60)),
    );
    path
}

#[test]
fn set_changes_servers_mechanism_and_min_valid_and_nothing_else() {
    let sandbox = Sandbox::new();
    let path = account(&sandbox);
    let before = sandbox.read_token(&path);
    let run = sandbox.run(&[
        "--set",
        "work",
        "--imap-endpoint",
        "imap://mail.example.org:143",
        "--smtp-endpoint",
        "smtps://mail.example.org:465",
        "--sasl-method",
        "XOAUTH2",
        "--min-valid",
        "10",
    ]);
    run.expect(0, "");
    run.says("IMAP server imap://mail.example.org:143 (was imaps://imap.gmail.com:993)");
    run.says("SMTP server smtps://mail.example.org:465 (was smtp://smtp.gmail.com:587)");
    run.says("SASL method XOAUTH2 (was OAUTHBEARER)");
    run.says("--min-valid 10 minutes (was none)");
    let after = sandbox.read_token(&path);
    assert_eq!(
        after.registration.imap_endpoint.unwrap().url(),
        "imap://mail.example.org:143"
    );
    assert_eq!(after.min_valid_minutes, Some(10));
    // The login is the same: tokens, client, provider endpoints, scope.
    assert_eq!(after.access_token, before.access_token);
    assert_eq!(after.refresh_token, before.refresh_token);
    assert_eq!(after.access_token_expiry, before.access_token_expiry);
    assert_eq!(after.client_id, before.client_id);
    assert_eq!(after.client_secret, before.client_secret);
    assert_eq!(
        after.registration.token_endpoint,
        before.registration.token_endpoint
    );
    assert_eq!(after.registration.scope, before.registration.scope);
    assert_eq!(
        after.registration.pop_endpoint,
        before.registration.pop_endpoint
    );
    for secret in SECRETS {
        assert!(!run.stderr.contains(secret));
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // --min-valid 0 removes the stored margin.
    let run = sandbox.run(&["--set", "work", "--min-valid", "0"]);
    run.says("--min-valid none (was 10 minutes)");
    assert_eq!(sandbox.read_token(&path).min_valid_minutes, None);
}

#[test]
fn set_with_the_stored_values_writes_nothing() {
    let sandbox = Sandbox::new();
    let path = account(&sandbox);
    let snapshot = Snapshot::of(&path);
    let run = sandbox.run(&[
        "--set",
        "work",
        "--imap-endpoint",
        "imaps://imap.gmail.com:993",
    ]);
    run.expect(0, "");
    run.says("already has these values; nothing was written");
    snapshot.unchanged();
}

#[test]
fn a_file_set_cannot_read_is_left_as_it_was() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("work");
    write_private(&path, b"age-encryption.org/v1\n-> X25519 garbage\n");
    let snapshot = Snapshot::of(&path);
    let run = sandbox.run(&["--set", "work", "--min-valid", "5"]);
    run.expect_code(65);
    run.errors_cleanly();
    snapshot.unchanged();
    let run = sandbox.run(&["--set", "nothing-here", "--min-valid", "5"]);
    run.expect_code(66);
    assert!(!sandbox.accounts_dir().join("nothing-here").exists());
}

#[test]
fn set_refuses_what_it_does_not_change() {
    let sandbox = Sandbox::new();
    let path = account(&sandbox);
    let snapshot = Snapshot::of(&path);
    let run = sandbox.run(&["--set", "work"]);
    run.expect(64, "");
    run.says("--set changes nothing by itself");
    // The login's parts are a sign-in's to change.
    for flag in [["--client-id", "other"], ["--email", "x@example.com"]] {
        let run = sandbox.run(&["--set", "work", flag[0], flag[1], "--min-valid", "5"]);
        run.expect(64, "");
        run.says(&format!("{} does nothing with --set", flag[0]));
    }
    let run = sandbox.run(&["--set", "work", "--authorize", "--min-valid", "5"]);
    run.expect_code(64);
    snapshot.unchanged();
}

#[test]
fn a_mail_flag_without_set_names_set() {
    let sandbox = Sandbox::new();
    account(&sandbox);
    let run = sandbox.run(&[
        "--status",
        "work",
        "--imap-endpoint",
        "imaps://x.example:993",
    ]);
    run.expect(64, "");
    run.says("'mailtoken --set work --imap-endpoint ...' stores it");
}

#[test]
fn an_ended_login_stays_ended_after_set() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::raw(
        400,
        "application/json",
        "{\"error\":\"invalid_grant\",\"error_description\":\"Token has been expired or revoked.\"}",
    ));
    let path = sandbox.accounts_dir().join("work");
    sandbox.write_token(
        &path,
        &sandbox.token(&server.token_endpoint(), minutes_from_now(-5)),
    );
    sandbox.run(&["work"]).expect_code(77);
    sandbox
        .run(&["--set", "work", "--min-valid", "3"])
        .expect_code(0);
    let run = sandbox.run(&["--status", "work"]);
    run.prints("needs sign-in since");
    let call = sandbox.run(&["work"]);
    call.expect(77, "");
}

/// Issue #33, item 4: the shared mailbox is changeable with `--set`, and becomes the SASL user;
/// `--mailbox ''` removes it.
#[test]
fn set_names_and_removes_a_shared_mailbox() {
    let sandbox = Sandbox::new();
    let path = account(&sandbox);
    let run = sandbox.run(&["--set", "work", "--mailbox", "sales@example.com"]);
    run.expect(0, "");
    run.says("mailbox sales@example.com (was none)");
    assert_eq!(
        sandbox.read_token(&path).mailbox.as_deref(),
        Some("sales@example.com")
    );
    let sasl = sandbox.run(&["--format", "sasl", "--sasl-method", "XOAUTH2", "work"]);
    let decoded = crate::support::base64::decode_text(sasl.stdout.trim());
    assert!(
        decoded.starts_with("user=sales@example.com\u{1}"),
        "{decoded}"
    );
    let run = sandbox.run(&["--set", "work", "--mailbox", ""]);
    run.expect(0, "");
    run.says("mailbox none (was sales@example.com)");
    assert_eq!(sandbox.read_token(&path).mailbox, None);
}
