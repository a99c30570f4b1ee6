//! `--min-valid MINUTES` (issue 24, item 7): a token with less life left is refreshed before it is
//! printed; `--authorize` records it as the account's default, and any other call's value applies
//! to that call alone. Microsoft's high-volume SMTP refuses a token with less than 10 minutes
//! left ("501 5.5.127 ... Token will expire soon", as sasl-xoauth2 0.26's `refresh_window`
//! release notes quote it).

use crate::support::*;

#[test]
fn a_token_with_less_life_than_asked_is_refreshed_and_the_value_is_not_stored() {
    let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
    let sandbox = Sandbox::new();
    // An hour-long token with 8 minutes left: the usual 5-minute margin prints it.
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(8));
    sandbox
        .run(&[path.to_str().unwrap()])
        .expect(0, &format!("{CACHED_TOKEN}\n"));
    assert!(server.requests().is_empty());

    sandbox
        .run(&[path.to_str().unwrap(), "--min-valid", "10"])
        .expect(0, "new-access\n");
    assert_eq!(server.requests().len(), 1);
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.min_valid_minutes, None, "a refresh stores no flag");

    // The new token has an hour: 10 minutes asked for are there, so no second request.
    sandbox
        .run(&[path.to_str().unwrap(), "--min-valid", "10"])
        .expect(0, "new-access\n");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_recorded_minimum_applies_to_every_call_until_a_call_asks_otherwise() {
    let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
    let sandbox = Sandbox::new();
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(8));
    token.min_valid_minutes = Some(10);
    let path = sandbox.save("account", &token);

    // A call asking for less than recorded uses the cached token, and changes nothing.
    sandbox
        .run(&[path.to_str().unwrap(), "--min-valid", "5"])
        .expect(0, &format!("{CACHED_TOKEN}\n"));
    assert!(server.requests().is_empty());
    // `--status` sees the recorded minimum: the token is expiring.
    sandbox
        .run(&[path.to_str().unwrap(), "--status"])
        .prints("expiring");
    // The plain call refreshes, and the recorded value stays as it was.
    sandbox
        .run(&[path.to_str().unwrap()])
        .expect(0, "new-access\n");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(sandbox.read_token(&path).min_valid_minutes, Some(10));
}

#[test]
fn authorize_records_the_minimum_and_zero_removes_it() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let args = provider.sign_in(&path, "clientcredentials", &SERVICE, &["--min-valid", "10"]);
    sandbox.run(&args).expect_code(0);
    assert_eq!(sandbox.read_token(&path).min_valid_minutes, Some(10));
    // A second sign-in without the flag keeps it; with 0 it is gone.
    sandbox
        .run(&[path.to_str().unwrap(), "--authorize"])
        .expect_code(0);
    assert_eq!(sandbox.read_token(&path).min_valid_minutes, Some(10));
    sandbox
        .run(&[path.to_str().unwrap(), "--authorize", "--min-valid", "0"])
        .expect_code(0);
    assert_eq!(sandbox.read_token(&path).min_valid_minutes, None);
}

#[test]
fn min_valid_is_refused_where_it_does_nothing() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--list", "--min-valid", "10"]);
    run.expect_code(64);
    run.says("--min-valid does nothing with --list");
}
