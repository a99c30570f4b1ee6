//! Issue #21, one truth about every login: every surface (the mail client's call, `--status`,
//! `--list`, `--json`, `--check`, the notify hook, `--test`) reports the one state decided from
//! the token file and what the provider last said; a login the provider ended stays ended until
//! a sign-in; every account is known wherever its file lives; only `--authorize` changes one.

use std::path::Path;

use crate::lifecycle::{hooks_started, install_hook, lines_of_hooks};
use crate::support::base64::decode_text;
use crate::support::*;

/// Google's answer to a refresh token it revoked. Copied from pdobsan/oama#17 (mailctl printed
/// the body verbatim), as in tests/corpus/provider_answers.rs.
fn google_revoked() -> Reply {
    Reply::raw(
        400,
        "application/json",
        "{\n  \"error\": \"invalid_grant\",\n  \"error_description\": \"Token has been expired or revoked.\"\n}",
    )
}

/// A person signed in with the device flow at `path`, on `provider`.
fn signed_in(sandbox: &Sandbox, provider: &FakeProvider, path: &Path) {
    sandbox
        .run(&provider.sign_in(path, "devicecode", &PERSON, &["--auth-timeout", "60"]))
        .expect_code(0);
}

/// `--status --json TOKENFILE` as JSON.
fn status_json(sandbox: &Sandbox, file: &str) -> serde_json::Value {
    let run = sandbox.run(&["--status", "--json", file]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn a_login_the_provider_ended_reads_as_needing_a_sign_in_on_every_surface_until_a_sign_in() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.accounts_dir().join("work");
    signed_in(&sandbox, &provider, &path);
    let record = install_hook(&sandbox);
    let file = path.to_str().unwrap();
    let access_token = sandbox.read_token(&path).access_token;

    // Every run from here on is --verbose and notes the hooks it started (`hooks_started`).
    let started = std::cell::RefCell::new(Vec::new());
    let watched = |args: &[&str]| {
        let run = sandbox.run(&[&["--verbose"], args].concat());
        started.borrow_mut().extend(hooks_started(&run));
        run
    };

    // The provider ends the login while the access token still has most of an hour: the
    // keep-alive refresh of --check is the first to hear it.
    provider.with(|s| s.token_override = Some(google_revoked()));
    let check = watched(&["--check", "--keepalive", "0"]);
    check.expect(77, "");
    check.says("invalid_grant");
    check.says("mailtoken --authorize work");
    let asked = provider.requests_to("/token").len();

    // The mail client's call: 77, nothing on stdout, though the cached token has not expired.
    let call = watched(&["work"]);
    call.expect(77, "");
    call.says("needs a new sign-in since");
    call.says("Token has been expired or revoked.");
    call.says("hint: run 'mailtoken --authorize work' to sign in again");
    assert!(!call.stderr.contains(access_token.expose()));
    // A forced refresh does not spend the refresh token again either.
    watched(&["--force-refresh", "work"]).expect(77, "");

    // --status, --status --json, --list and --list --json say the same.
    let status = watched(&["--status", file]);
    status.expect_code(0);
    let state_line = status
        .stdout
        .lines()
        .find(|l| l.starts_with("state:"))
        .unwrap();
    assert!(state_line.contains("needs sign-in since "), "{state_line}");
    status.prints("invalid_grant");
    status.prints("mailtoken --authorize");
    let json = status_json(&sandbox, file);
    assert_eq!(json["state"], "needs-sign-in");
    assert!(json["since"].is_string(), "{json}");
    assert!(
        json["reason"]
            .as_str()
            .unwrap()
            .contains("Token has been expired or revoked."),
        "{json}"
    );
    let list = watched(&["--list"]);
    list.expect_code(0);
    assert!(
        list.stdout.contains("needs sign-in since"),
        "{}",
        list.stdout
    );
    let list_json: serde_json::Value =
        serde_json::from_str(&watched(&["--list", "--json"]).stdout).unwrap();
    assert_eq!(list_json[0]["state"], "needs-sign-in");
    assert_eq!(list_json[0]["since"], json["since"]);

    // --check again: 77 from what was remembered; --test: 77 before any login.
    watched(&["--check"]).expect(77, "");
    let test = watched(&["--test", file]);
    test.expect(77, "");
    test.never_says("IMAP");
    assert_eq!(
        provider.requests_to("/token").len(),
        asked,
        "nothing asked the provider again"
    );

    // The hook ran once for all of that (at most once an hour): every run above was verbose,
    // and so said each hook it started; the one started has written its line.
    let started = started.borrow().clone();
    assert_eq!(started.len(), 1, "hooks started: {started:?}");
    let lines = lines_of_hooks(&record, &started);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("invalid_grant"), "{}", lines[0]);

    // A sign-in brings everything back.
    provider.with(|s| s.token_override = None);
    signed_in(&sandbox, &provider, &path);
    assert!(!Path::new(&format!("{file}.state")).exists());
    let call = sandbox.run(&["work"]);
    call.expect_code(0);
    assert_eq!(status_json(&sandbox, file)["state"], "ok");
    sandbox.run(&["--check"]).expect(0, "");
}

#[test]
fn the_verdict_survives_a_symbolic_link_and_another_state_directory() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("mail/work");
    signed_in(&sandbox, &provider, &path);
    let link = sandbox.path("link");
    std::os::unix::fs::symlink(&path, &link).unwrap();

    provider.with(|s| s.token_override = Some(google_revoked()));
    sandbox
        .run(&["--force-refresh", path.to_str().unwrap()])
        .expect(77, "");
    // Cron with another XDG_STATE_HOME, through the link: still ended.
    let other_state = sandbox.path("other-state");
    let run = sandbox.run_with(
        &[link.to_str().unwrap()],
        &[("XDG_STATE_HOME", other_state.to_str().unwrap())],
    );
    run.expect(77, "");
    run.says("needs a new sign-in");
}

#[test]
fn a_file_replaced_since_the_verdict_is_another_login() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("work");
    signed_in(&sandbox, &provider, &path);
    let backup = std::fs::read(&path).unwrap();
    provider.with(|s| s.token_override = Some(google_revoked()));
    sandbox
        .run(&["--force-refresh", path.to_str().unwrap()])
        .expect(77, "");

    // A copy from another machine, or a restored backup, is not the login that ended.
    std::fs::remove_file(&path).unwrap();
    write_private(&path, backup);
    let run = sandbox.run(&[path.to_str().unwrap()]);
    run.expect_code(0);
    assert!(!run.stdout.is_empty());
}

#[test]
fn temporary_trouble_never_ends_a_login_and_says_since_when() {
    let sandbox = Sandbox::new();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}/token", closed.local_addr().unwrap());
    drop(closed);
    let mut token = sandbox.token(&endpoint, minutes_from_now(-5));
    token.email = "me@example.com".into();
    let path = sandbox.save("work", &token);
    let file = path.to_str().unwrap();

    for _ in 0..2 {
        let run = sandbox.run(&[file]);
        run.expect(75, "");
        run.says("try again later; the login itself is fine");
    }
    let json = status_json(&sandbox, file);
    assert_eq!(json["state"], "unreachable");
    assert!(json["since"].is_string());
    assert!(
        json["reason"].as_str().unwrap().contains("refresh token"),
        "{json}"
    );
    sandbox
        .run(&["--status", file])
        .prints("provider unreachable since ");

    // The provider is back: the next call refreshes, and the trouble is forgotten.
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    sandbox
        .run(&["--token-endpoint", &server.token_endpoint(), file])
        .expect(0, "new-access\n");
    assert_eq!(status_json(&sandbox, file)["state"], "ok");
}

#[test]
fn accounts_signed_in_at_a_path_are_listed_checked_and_forgotten_once_gone() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("mail/gmail");
    signed_in(&sandbox, &provider, &path);
    let file = path.to_str().unwrap();

    let list = sandbox.run(&["--list"]);
    list.expect_code(0);
    assert!(list.stdout.contains(file), "{}", list.stdout);
    assert!(list.stdout.contains("ok"), "{}", list.stdout);
    let json: serde_json::Value =
        serde_json::from_str(&sandbox.run(&["--list", "--json"]).stdout).unwrap();
    assert_eq!(json[0]["path"], file);

    // --check keeps it alive.
    provider.with(|s| s.token_override = Some(Reply::token("kept-alive", None, 3600)));
    let before = provider.requests_to("/token").len();
    sandbox.run(&["--check", "--keepalive", "0"]).expect(0, "");
    assert_eq!(provider.requests_to("/token").len(), before + 1);

    // Moved away: said once, then forgotten.
    std::fs::rename(&path, sandbox.path("moved")).unwrap();
    let list = sandbox.run(&["--list"]);
    list.expect_code(0);
    list.says(&format!("the account at {file} is gone"));
    let again = sandbox.run(&["--list"]);
    again.never_says("gone");
    again.says("no accounts");
}

#[test]
fn check_with_no_account_at_all_says_so() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--check"]);
    run.expect(0, "");
    run.says("no accounts to check");
}

#[test]
fn flags_of_one_run_are_used_for_it_and_never_stored() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-5));
    let file = path.to_str().unwrap();
    let other = FakeServer::answering(Reply::token("other-access", None, 3600));

    // A one-off address and token endpoint: used for the call, not written with the refresh.
    let run = sandbox.run(&[
        "--format",
        "sasl",
        "--email",
        "other@example.com",
        "--token-endpoint",
        &other.token_endpoint(),
        file,
    ]);
    run.expect_code(0);
    let sasl = decode_text(run.stdout.trim_end());
    assert!(sasl.starts_with("n,a=other@example.com,"), "{sasl:?}");
    assert!(sasl.contains("auth=Bearer other-access"), "{sasl:?}");
    assert!(server.requests().is_empty());
    assert_eq!(other.requests().len(), 1);
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.email, "user@example.com");
    assert_eq!(stored.registration.token_endpoint, server.token_endpoint());
    assert_eq!(stored.access_token.expose(), "other-access");
}

#[test]
fn a_flag_that_cannot_apply_is_refused_not_ignored() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(30));
    let file = path.to_str().unwrap();
    each_case(
        [
            ("sign-in flag on a call", vec!["--provider", "google", file]),
            ("scope on a call", vec!["--scope", "mail", file]),
            (
                "client id with --check",
                vec!["--check", "--client-id", "x"],
            ),
            (
                "address with --status",
                vec!["--status", "--email", "a@b.c", file],
            ),
            (
                "mail server with --revoke",
                vec!["--revoke", "--imap-endpoint", "imaps://h:993", file],
            ),
        ],
        |args| {
            let run = sandbox.run(&args);
            run.expect(64, "");
            run.says("does nothing with");
            run.errors_cleanly();
        },
    );
    let run = sandbox.run(&["--provider", "google", file]);
    // The account as typed, not the word TOKENFILE (issue #32).
    run.says(&format!(
        "run 'mailtoken --authorize {file}' with it to change the account"
    ));
    assert!(server.requests().is_empty());
}

#[test]
fn revoke_uses_the_client_given_with_it() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::raw(200, "text/plain", ""));
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(30));
    token.registration.revocation_endpoint = Some(format!("{}/revoke", server.url));
    let path = sandbox.save("account", &token);
    let run = sandbox.run(&[
        "--revoke",
        "--client-id",
        "given-client",
        path.to_str().unwrap(),
    ]);
    run.expect(0, "");
    let revocations = server.requests_to("/revoke");
    assert_eq!(revocations[0].form["client_id"], "given-client");
}

/// Issue #30, item 9 (and #34, item 3): a refresh sent to a one-off `--token-endpoint` named the
/// stored endpoint's host in its error, and the stored login was recorded as ended by an answer
/// from another server.
#[test]
fn an_answer_from_a_one_off_token_endpoint_names_its_host_and_ends_nothing() {
    let sandbox = Sandbox::new();
    let stored = FakeServer::answering(Reply::token("unused", None, 3600));
    let path = sandbox.account(&stored.token_endpoint(), minutes_from_now(-1));
    let file = path.to_str().unwrap();
    let other = FakeServer::answering(google_revoked());
    let host = |server: &FakeServer| {
        let endpoint = server.token_endpoint();
        endpoint["http://".len()..endpoint.rfind('/').unwrap()].to_string()
    };
    let run = sandbox.run(&["--token-endpoint", &other.token_endpoint(), file]);
    run.expect(77, "");
    run.says(&format!("refresh token rejected by {}", host(&other)));
    run.never_says(&host(&stored));
    assert_eq!(other.requests().len(), 1);
    assert!(stored.requests().is_empty());
    // The stored login is as it was: the next call asks its own provider, which answers.
    assert_ne!(status_json(&sandbox, file)["state"], "ended");
    sandbox.run(&[file]).expect(0, "unused\n");
}
