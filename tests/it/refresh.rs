//! The refresh path against a fake token endpoint: exact form fields, rotation, failures and
//! their exit codes, and what happens to the token file in each case.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use mailtoken::testing::secret::Secret;

use crate::support::*;

/// The account `account` in a new sandbox, its access token expired a minute ago, refreshing
/// at `server`.
fn expired_account(server: &FakeServer) -> (Sandbox, PathBuf) {
    let sandbox = Sandbox::new();
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    (sandbox, path)
}

#[test]
fn expired_token_is_refreshed_with_exactly_the_refresh_grant_fields() {
    let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
    let (sandbox, path) = expired_account(&server);

    sandbox.run(&[&path]).expect_exactly(0, "new-access\n", "");

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/token");
    assert_eq!(
        requests[0].form,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "refresh-1"),
            ("client_id", "test-client"),
            ("client_secret", "test-secret"),
        ])
    );
    let ua = requests[0]
        .headers
        .get("user-agent")
        .cloned()
        .unwrap_or_default();
    assert!(ua.starts_with("mailtoken/"), "user agent {ua:?}");

    let stored = sandbox.read_token(&path);
    assert_eq!(stored.access_token, Secret::new("new-access"));
    assert_eq!(
        stored.refresh_token,
        Some(Secret::new("refresh-2")),
        "the rotated refresh token is kept"
    );
    let lifetime = stored.access_token_expiry - stored.access_token_obtained.unwrap();
    assert_eq!(lifetime, chrono::Duration::seconds(3600));
    assert!(stored.access_token_expiry > minutes_from_now(59));

    // The new token is now served from the cache: no second request.
    let again = sandbox.run(&[&path]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "new-access\n"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn without_rotation_the_old_refresh_token_is_kept() {
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let (sandbox, path) = expired_account(&server);

    sandbox.run(&[&path]).expect(0, "new-access\n");

    assert_eq!(
        sandbox.read_token(&path).refresh_token,
        Some(Secret::new("refresh-1"))
    );
}

/// The form of the one refresh of an expired account that `change` made, the run succeeding.
fn refresh_form(change: impl FnOnce(&mut mailtoken::testing::tokenfile::TokenFile)) -> Received {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    change(&mut token);
    let path = sandbox.save("account", &token);

    sandbox.run(&[&path]).expect_code(0);

    server.requests().remove(0)
}

#[test]
fn public_clients_send_no_secret_and_microsoft_style_registrations_send_the_scope() {
    let request = refresh_form(|token| {
        token.registration.scope =
            "offline_access https://outlook.office.com/IMAP.AccessAsUser.All".into();
        token.registration.scope_on_refresh = true;
        token.client_secret = None;
    });
    assert_eq!(
        request.form,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "refresh-1"),
            ("client_id", "test-client"),
            (
                "scope",
                "offline_access https://outlook.office.com/IMAP.AccessAsUser.All"
            ),
        ])
    );
}

#[test]
fn client_secret_basic_registrations_authenticate_with_http_basic() {
    let request = refresh_form(|token| {
        token.registration.client_auth =
            mailtoken::testing::provider::ClientAuth::ClientSecretBasic;
    });
    // base64("test-client:test-secret")
    assert_eq!(
        request.headers["authorization"],
        "Basic dGVzdC1jbGllbnQ6dGVzdC1zZWNyZXQ="
    );
    assert_eq!(
        request.form,
        form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "refresh-1")
        ])
    );
}

#[test]
fn invalid_grant_exits_77_with_the_authorize_command_and_leaves_the_file_alone() {
    let server = FakeServer::answering(Reply::oauth_error(
        400,
        "invalid_grant",
        "AADSTS70008: expired\u{1b}[31m\r\nforged",
    ));
    let (sandbox, path) = expired_account(&server);
    let before = Snapshot::of(&path);

    let run = sandbox.run(&[&path]);

    run.expect(77, "");
    run.says("refresh token rejected by 127.0.0.1");
    run.says("invalid_grant: AADSTS70008: expired");
    run.never_says("\u{1b}");
    run.never_says("\r\nforged");
    run.says(&format!(
        "hint: run 'mailtoken --authorize {}' to sign in again",
        path.display()
    ));
    before.unchanged();
}

#[test]
fn invalid_client_is_a_configuration_error() {
    let server = FakeServer::answering(Reply::json(
        401,
        serde_json::json!({"error": "invalid_client"}),
    ));
    let (sandbox, path) = expired_account(&server);

    let run = sandbox.run(&[&path]);

    run.expect(78, "");
    run.says("invalid_client");
    run.says("--client-id");
}

#[test]
fn a_missing_refresh_token_exits_77() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("never", None, 3600));
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    token.refresh_token = None;
    let path = sandbox.save("account", &token);

    let run = sandbox.run(&[&path]);

    run.expect(77, "");
    run.says("no refresh token");
    run.says("mailtoken --authorize");
    assert!(server.requests().is_empty());
}

/// A refresh that fails as `reply` says, of an account expiring in `minutes`, run with
/// `flags`: the run, once the file has been checked to be as it was, and the server.
fn failed_refresh(reply: Reply, minutes: i64, flags: &[&str]) -> (Run, FakeServer) {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(reply);
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(minutes));
    let before = Snapshot::of(&path);

    let run = sandbox.run(&[flags, &[path.to_str().unwrap()]].concat());

    before.unchanged();
    (run, server)
}

#[test]
fn temporary_failure_with_a_still_valid_token_prints_it_and_warns() {
    // Two minutes left of an hour: inside the refresh margin, not expired.
    let maintenance = Reply::raw(503, "text/html", "<h1>maintenance</h1>");
    let (run, server) = failed_refresh(maintenance, 2, &[]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "cached-access-token\n")
    );
    run.says("warning:");
    run.says("HTTP status 503");
    run.says("using the cached token");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn temporary_failure_with_an_expired_token_exits_75() {
    let (run, _) = failed_refresh(Reply::raw(503, "text/plain", "busy"), -1, &[]);

    run.expect(75, "");
    run.says("HTTP status 503");
}

#[test]
fn rate_limiting_and_timeouts_at_the_endpoint_are_temporary() {
    let statuses = [408, 429, 500, 502].map(|status| (format!("status {status}"), status));
    each_case(statuses, |status| {
        let server_error = Reply::json(status, serde_json::json!({"error": "server_error"}));
        let (run, _) = failed_refresh(server_error, -1, &[]);

        run.expect(75, "");
    });
}

#[test]
fn a_hanging_server_times_out_with_75() {
    let server =
        FakeServer::answering(Reply::token("late", None, 3600).delayed(Duration::from_secs(8)));
    let (sandbox, path) = expired_account(&server);

    let started = Instant::now();
    let run = sandbox.run_with(&[&path], &[("MAILTOKEN_HTTP_TIMEOUT", "1")]);

    run.expect(75, "");
    run.says("timed out");
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "the timeout, not the server, ended the wait"
    );
}

#[test]
fn unusable_responses_exit_75_and_leave_the_file_alone() {
    let cases = [
        (
            "HTML",
            Reply::raw(200, "text/html", "<html>captive portal</html>"),
        ),
        (
            "invalid JSON",
            Reply::raw(200, "application/json", "{\"access_token\": "),
        ),
        (
            "missing access_token",
            Reply::json(
                200,
                serde_json::json!({"token_type": "Bearer", "expires_in": 3600}),
            ),
        ),
        (
            "huge body",
            Reply::raw(200, "application/json", vec![b' '; 2 * 1024 * 1024]),
        ),
        // A proxy in the way: its 407, or a 502 page. (A 400 or 401 page from the token
        // endpoint itself is a refusal of the refresh token since issue #34: refresh.rs's
        // `a_refresh_refused_without_a_reason_ends_the_login`.)
        (
            "proxy authentication page",
            Reply::raw(407, "text/html", "<h1>Proxy Authentication Required</h1>"),
        ),
        (
            "HTML error page",
            Reply::raw(502, "text/html", "<h1>Bad Gateway</h1>"),
        ),
    ];
    each_case(cases, |reply| {
        let (run, _) = failed_refresh(reply, -1, &[]);

        run.expect(75, "");
        run.errors_cleanly();
    });
}

/// Issue #34, item 3: a refresh the token endpoint refuses with 400 or 401 and no OAuth2 error
/// (glewlwyd's spent one-time refresh token: a bare 400) was "not an OAuth2 answer ... try again
/// later; the login itself is fine", and `--check` called the account unreachable.
#[test]
fn a_refresh_refused_without_a_reason_ends_the_login() {
    for (status, body) in [(400, ""), (401, ""), (400, "<h1>Bad Request</h1>")] {
        let (run, _) = failed_refresh(Reply::raw(status, "text/html", body), -1, &[]);
        run.expect(77, "");
        run.says("the provider refused the refresh token without a reason");
        run.says("--authorize");
        run.never_says("the login itself is fine");
    }
}

#[test]
fn force_refresh_refreshes_a_valid_token() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("forced", None, 3600));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(50));

    sandbox
        .run(&["--force-refresh", path.to_str().unwrap()])
        .expect(0, "forced\n");

    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_failed_forced_refresh_never_falls_back_to_the_cached_token() {
    let busy = Reply::raw(503, "text/plain", "busy");
    let (run, _) = failed_refresh(busy, 50, &["--force-refresh"]);

    assert_eq!((run.code, run.stdout.as_str()), (75, ""));
}

#[test]
fn client_credentials_accounts_repeat_the_client_credentials_grant() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("service-token", None, 600));
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    token.flow = mailtoken::testing::tokenfile::Flow::Clientcredentials;
    token.refresh_token = None;
    token.registration.scope = "mail.send".into();
    let path = sandbox.save("account", &token);

    sandbox.run(&[&path]).expect(0, "service-token\n");

    assert_eq!(
        server.requests()[0].form,
        form(&[
            ("grant_type", "client_credentials"),
            ("scope", "mail.send"),
            ("client_id", "test-client"),
            ("client_secret", "test-secret"),
        ])
    );
}

#[test]
fn command_line_client_values_apply_to_the_call_and_are_never_stored() {
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let (sandbox, path) = expired_account(&server);

    let secret_file = sandbox.path("secret.txt");
    std::fs::write(&secret_file, "fixed-secret\n").unwrap();
    let run = sandbox.run(&[
        "--client-id",
        "fixed-client",
        "--client-secret-file",
        secret_file.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);

    run.expect_code(0);
    assert_eq!(server.requests()[0].form["client_id"], "fixed-client");
    assert_eq!(server.requests()[0].form["client_secret"], "fixed-secret");
    // The refresh stored the new tokens and nothing else: only --authorize changes an account.
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.access_token, Secret::new("new-access"));
    assert_eq!(stored.client_id, "test-client");
    assert_eq!(stored.client_secret, Some(Secret::new("test-secret")));
}

#[test]
fn debug_traces_the_exchange_without_any_secret() {
    let server = FakeServer::answering(Reply::token(
        "new-access-SECRET",
        Some("refresh-2-SECRET"),
        3600,
    ));
    let (sandbox, path) = expired_account(&server);

    let run = sandbox.run(&["--debug", path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (0, "new-access-SECRET\n"));
    for words in ["> POST", "< HTTP 200", "(redacted)"] {
        run.says(words);
    }
    for secret in ["refresh-1", "test-secret", "SECRET", "cached-access-token"] {
        run.never_says(secret);
    }
}

#[test]
fn verbose_output_never_reaches_stdout() {
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let (sandbox, path) = expired_account(&server);

    let run = sandbox.run(&["-v", path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (0, "new-access\n"));
    run.says("refreshing the access token");
}

#[test]
fn the_proxy_from_the_environment_is_used_unless_no_proxy_excludes_the_host() {
    // The world outside goes through the proxy: here a CONNECT for the provider's host, which
    // this proxy refuses (loopback, where the fake servers are, is never proxied: tests/it/
    // neighbours.rs).
    let proxy = FakeServer::answering(Reply::raw(403, "text/plain", "no"));
    let sandbox = Sandbox::new();
    let path = sandbox.account("https://login.example.test/token", minutes_from_now(-1));
    let proxied = [("HTTPS_PROXY", proxy.url.as_str())];
    let run = sandbox.run_with(&[&path], &proxied);
    run.expect(75, "");
    let tunnel = &proxy.requests()[0];
    assert_eq!(
        (tunnel.method.as_str(), tunnel.path.as_str()),
        ("CONNECT", "login.example.test:443")
    );

    let excluded = [
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("NO_PROXY", "login.example.test"),
    ];
    sandbox.run_with(&[&path], &excluded).expect(75, "");
    assert_eq!(proxy.requests().len(), 1, "NO_PROXY went through the proxy");
}

#[test]
fn an_access_token_that_would_break_the_output_line_is_refused() {
    let tokens = ["two\nlines", "with space", "", "t\u{e9}l\u{e9}"];
    each_case(tokens.map(|bad| (format!("{bad:?}"), bad)), |bad| {
        let reply = Reply::json(
            200,
            serde_json::json!({"access_token": bad, "token_type": "Bearer", "expires_in": 3600}),
        );
        let (run, _) = failed_refresh(reply, -1, &[]);

        run.expect(75, "");
    });
}

#[test]
fn an_absurd_lifetime_is_capped_instead_of_overflowing() {
    let server = FakeServer::answering(Reply::token("forever", None, u64::MAX / 2));
    let (sandbox, path) = expired_account(&server);

    sandbox.run(&[&path]).expect(0, "forever\n");

    let stored = sandbox.read_token(&path);
    assert!(stored.access_token_expiry < Utc::now() + chrono::Duration::days(367));
}

#[test]
fn a_symlinked_token_file_stays_a_symlink_and_its_target_is_updated() {
    let server = FakeServer::answering(Reply::token("new-access", None, 3600));
    let (sandbox, target) = expired_account(&server);
    let link = sandbox.path("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    sandbox.run(&[&link]).expect(0, "new-access\n");

    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        sandbox.read_token(&target).access_token,
        Secret::new("new-access")
    );
    assert!(
        sandbox.path("account.lock").exists(),
        "the lock sits beside the real file"
    );
}

/// An expired account encrypted with a pipe whose every run, encryption or decryption, is
/// written down; with the sandbox and the token endpoint it refreshes against.
struct CountedPipes {
    sandbox: Sandbox,
    server: FakeServer,
    path: std::path::PathBuf,
    encrypt: String,
    decrypt: String,
    log: std::path::PathBuf,
}

impl CountedPipes {
    fn expired_account() -> CountedPipes {
        let sandbox = Sandbox::new();
        let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
        let log = sandbox.path("runs");
        let counting = |word: &str| format!("sh -c 'echo {word} >> {}; exec cat'", log.display());
        let (encrypt, decrypt) = (counting("encrypt"), counting("decrypt"));
        let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
        token.encryption = mailtoken::testing::encryption::EncryptionSpec::Pipe {
            encrypt: encrypt.clone(),
        };
        let path = sandbox.path("account");
        write_private(&path, token.to_json());
        CountedPipes {
            sandbox,
            server,
            path,
            encrypt,
            decrypt,
            log,
        }
    }

    /// `mailtoken FLAGS --encryption-pipe .. --decryption-pipe .. ACCOUNT`.
    fn run(&self, flags: &[&str]) -> Run {
        let pipes = [
            "--encryption-pipe",
            &self.encrypt,
            "--decryption-pipe",
            &self.decrypt,
            self.path.to_str().unwrap(),
        ];
        self.sandbox.run(&[flags, &pipes].concat())
    }

    /// The pipe's runs so far, one word a line; the record then starts afresh.
    fn runs(&self) -> String {
        let runs = std::fs::read_to_string(&self.log).unwrap();
        std::fs::remove_file(&self.log).unwrap();
        runs
    }
}

/// How many of `runs` were `word`.
fn count(runs: &str, word: &str) -> usize {
    runs.lines().filter(|line| *line == word).count()
}

#[test]
fn a_refresh_encrypts_once_and_decrypts_at_most_twice() {
    // Issue #25: with gpg or a pipe every encryption and decryption is a process. A refresh
    // reads the file (1), reuses that reading under the lock when the file is unchanged, takes
    // the room for the write without encrypting, then encrypts once and reads the result back
    // (2) before it replaces anything.
    let account = CountedPipes::expired_account();

    account.run(&[]).expect(0, "new-access\n");
    let runs = account.runs();
    assert_eq!(count(&runs, "encrypt"), 1, "{runs}");
    assert!(count(&runs, "decrypt") <= 2, "{runs}");

    // The cached call decrypts once, and nothing else.
    account.run(&[]).expect(0, "new-access\n");
    assert_eq!(account.runs(), "decrypt\n");
}

#[test]
fn check_refreshes_from_its_own_reading() {
    // `--check` reads each account to judge it; an expired one is refreshed from that reading
    // (reused under the lock while the file is unchanged), not from a second decryption.
    let account = CountedPipes::expired_account();

    account.run(&["--check"]).expect_code(0);
    assert_eq!(account.server.requests().len(), 1, "one refresh");
    let runs = account.runs();
    assert_eq!(count(&runs, "encrypt"), 1, "{runs}");
    assert_eq!(
        count(&runs, "decrypt"),
        2,
        "the reading and the write's read-back: {runs}"
    );
}
