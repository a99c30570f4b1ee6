//! The cached-token path: a valid token is printed with no request and nothing else on stdout.

use crate::support::{FakeServer, Reply, Sandbox, test_registration, token_file};
use chrono::{Duration, Utc};

#[test]
fn valid_token_is_printed_without_any_request() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("never", None, 3600));
    let path = sandbox.path("account");
    let token = token_file(
        test_registration(&server.token_endpoint()),
        sandbox.age_spec(),
        Utc::now() + Duration::minutes(30),
    );
    sandbox.write_token(&path, &token);
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "cached-access-token\n", "")
    );
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
