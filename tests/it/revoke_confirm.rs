//! `--revoke` asks on a terminal before it ends a login (`--yes` skips the question), and can
//! delete a file it cannot read when told to, saying that the provider's login lives on and
//! where to end it (issue #32, item 7).

use std::process::Stdio;

use crate::support::*;

/// A provider that takes every revocation.
fn provider() -> FakeServer {
    FakeServer::answering(Reply::raw(200, "text/plain", ""))
}

/// A readable account at `server`'s revocation endpoint.
fn readable(sandbox: &Sandbox, server: &FakeServer) -> std::path::PathBuf {
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(30));
    token.registration.revocation_endpoint = Some(format!("{}/revoke", server.url));
    let path = sandbox.accounts_dir().join("work");
    sandbox.write_token(&path, &token);
    path
}

/// A file no identity here opens: encrypted to another machine's.
fn unreadable(sandbox: &Sandbox) -> std::path::PathBuf {
    let other = age::x25519::Identity::generate();
    let token = token_file(
        test_registration(UNUSED_TOKEN_ENDPOINT),
        age_to(&other),
        minutes_from_now(30),
    );
    let path = sandbox.accounts_dir().join("work");
    write_private(&path, encrypt(&token.encryption, &token.to_json()));
    path
}

/// `mailtoken ARGS` on a pseudo-terminal, `answer` typed in; what the terminal showed.
fn on_terminal(sandbox: &Sandbox, args: &str, answer: &str) -> (i32, String) {
    let mut child = sandbox
        .terminal(&format!("\"$MAILTOKEN\" {args}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), answer.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn an_unreadable_file_is_deleted_only_when_told_and_the_login_is_said_to_live_on() {
    let sandbox = Sandbox::new();
    let path = unreadable(&sandbox);
    let run = sandbox.run(&["--revoke", "work"]);
    run.expect_code(65);
    run.says("'mailtoken --revoke --yes work' deletes it without revoking");
    assert!(path.exists());

    let run = sandbox.run(&["--revoke", "--yes", "work"]);
    run.expect(0, "");
    run.says("the provider's login was not revoked");
    run.says("https://myaccount.google.com/permissions");
    run.says("https://myapps.microsoft.com");
    assert!(!path.exists());
}

#[test]
fn on_a_terminal_revoke_asks_first() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = provider();
    let path = readable(&sandbox, &server);
    let (code, terminal) = on_terminal(&sandbox, "--revoke work", "n\n");
    assert_eq!(code, 64, "{terminal}");
    assert!(
        terminal.contains("Revoke the login of user@example.com at test and delete"),
        "{terminal}"
    );
    assert!(terminal.contains("not confirmed"), "{terminal}");
    assert!(server.requests().is_empty());
    assert!(path.exists());

    let (code, terminal) = on_terminal(&sandbox, "--revoke work", "y\n");
    assert_eq!(code, 0, "{terminal}");
    assert!(!server.requests_to("/revoke").is_empty());
    assert!(!path.exists());
}

#[test]
fn yes_skips_the_question_and_an_unreadable_file_can_be_confirmed_on_a_terminal() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = provider();
    let path = readable(&sandbox, &server);
    let (code, terminal) = on_terminal(&sandbox, "--revoke --yes work", "");
    assert_eq!(code, 0, "{terminal}");
    assert!(!terminal.contains("[y/N]"), "{terminal}");
    assert!(!path.exists());

    let path = unreadable(&sandbox);
    let (code, terminal) = on_terminal(&sandbox, "--revoke work", "y\n");
    assert_eq!(code, 0, "{terminal}");
    assert!(terminal.contains("cannot revoke its login"), "{terminal}");
    assert!(!path.exists());
}

#[test]
fn yes_goes_with_revoke_only() {
    let sandbox = Sandbox::new();
    sandbox.run(&["--yes", "work"]).expect_code(64);
}
