//! The cached-token path: a valid token is printed with no request and nothing else on stdout.

use crate::support::{CACHED_TOKEN, FakeServer, Reply, Sandbox, minutes_from_now};

#[test]
fn valid_token_is_printed_without_any_request() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("never", None, 3600));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(30));
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[&path]);

    run.expect_exactly(0, &format!("{CACHED_TOKEN}\n"), "");
    assert!(server.requests().is_empty());
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is not rewritten"
    );
    assert!(
        !sandbox.path("account.lock").exists(),
        "the cached path takes no lock"
    );
}
