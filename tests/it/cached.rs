//! The cached-token path: a valid token is printed with no request and nothing else on stdout.

use crate::support::{CACHED_TOKEN, FakeServer, Reply, Sandbox, Snapshot, minutes_from_now};

#[test]
fn valid_token_is_printed_without_any_request() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("never", None, 3600));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(30));
    let before = Snapshot::of(&path);

    let run = sandbox.run(&[&path]);

    run.expect_exactly(0, &format!("{CACHED_TOKEN}\n"), "");
    assert!(server.requests().is_empty());
    // The file is not rewritten.
    before.unchanged();
    assert!(
        !sandbox.path("account.lock").exists(),
        "the cached path takes no lock"
    );
}
