//! The refresh path against a fake token endpoint: exact form fields, rotation, failures and
//! their exit codes, and what happens to the token file in each case.

use std::time::Duration as StdDuration;

use crate::support::{FakeServer, Reply, Sandbox, form, test_registration, token_file};
use chrono::{Duration, Utc};
use mailtoken::secret::Secret;
use mailtoken::tokenfile::TokenFile;

/// An age-encrypted token file in the sandbox whose access token expires at `expiry`, with its
/// token endpoint at `server`.
fn account_expiring(
    sandbox: &Sandbox,
    server: &FakeServer,
    expiry: chrono::DateTime<Utc>,
) -> (std::path::PathBuf, TokenFile) {
    let path = sandbox.path("account");
    let token = token_file(
        test_registration(&server.token_endpoint()),
        sandbox.age_spec(),
        expiry,
    );
    sandbox.write_token(&path, &token);
    (path, token)
}

/// A sandbox with an expired age-encrypted token file pointing at `server`.
fn expired_account(sandbox: &Sandbox, server: &FakeServer) -> (std::path::PathBuf, TokenFile) {
    account_expiring(sandbox, server, Utc::now() - Duration::minutes(1))
}

#[test]
fn expired_token_is_refreshed_with_exactly_the_refresh_grant_fields() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", Some("refresh-2"), 3600));
    let (path, _) = expired_account(&sandbox, &server);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "new-access\n", "")
    );
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
    assert_eq!(lifetime, Duration::seconds(3600));
    assert!(stored.access_token_expiry > Utc::now() + Duration::minutes(59));

    // The new token is now served from the cache: no second request.
    let again = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "new-access\n"));
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn without_rotation_the_old_refresh_token_is_kept() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let (path, _) = expired_account(&sandbox, &server);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (0, "new-access\n"));
    assert_eq!(
        sandbox.read_token(&path).refresh_token,
        Some(Secret::new("refresh-1"))
    );
}

#[test]
fn public_clients_send_no_secret_and_microsoft_style_registrations_send_the_scope() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let mut registration = test_registration(&server.token_endpoint());
    registration.scope = "offline_access https://outlook.office.com/IMAP.AccessAsUser.All".into();
    registration.scope_on_refresh = true;
    let mut token = token_file(
        registration,
        sandbox.age_spec(),
        Utc::now() - Duration::minutes(1),
    );
    token.client_secret = None;
    sandbox.write_token(&path, &token);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        server.requests()[0].form,
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
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let mut registration = test_registration(&server.token_endpoint());
    registration.client_auth = mailtoken::provider::ClientAuth::ClientSecretBasic;
    sandbox.write_token(
        &path,
        &token_file(
            registration,
            sandbox.age_spec(),
            Utc::now() - Duration::minutes(1),
        ),
    );

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    let request = &server.requests()[0];
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
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| {
        Reply::json(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": "AADSTS70008: expired\u{1b}[31m\r\nforged"}),
        )
    });
    let (path, _) = expired_account(&sandbox, &server);
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(run.code, 77);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("refresh token rejected by 127.0.0.1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("invalid_grant: AADSTS70008: expired"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains('\u{1b}'),
        "control characters are stripped: {:?}",
        run.stderr
    );
    assert!(!run.stderr.contains("\r\nforged"), "{:?}", run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "hint: run 'mailtoken --authorize {}' to sign in again",
            path.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn invalid_client_is_a_configuration_error() {
    let sandbox = Sandbox::new();
    let server =
        FakeServer::start(|_| Reply::json(401, serde_json::json!({"error": "invalid_client"})));
    let (path, _) = expired_account(&sandbox, &server);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (78, ""));
    assert!(run.stderr.contains("invalid_client"), "{}", run.stderr);
    assert!(run.stderr.contains("--client-id"), "{}", run.stderr);
}

#[test]
fn a_missing_refresh_token_exits_77() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("never", None, 3600));
    let path = sandbox.path("account");
    let mut token = token_file(
        test_registration(&server.token_endpoint()),
        sandbox.age_spec(),
        Utc::now() - Duration::minutes(1),
    );
    token.refresh_token = None;
    sandbox.write_token(&path, &token);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (77, ""));
    assert!(run.stderr.contains("no refresh token"), "{}", run.stderr);
    assert!(
        run.stderr.contains("mailtoken --authorize"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty());
}

#[test]
fn temporary_failure_with_a_still_valid_token_prints_it_and_warns() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::raw(503, "text/html", "<h1>maintenance</h1>"));
    // Two minutes left of an hour: inside the refresh margin, not expired.
    let (path, _) = account_expiring(&sandbox, &server, Utc::now() + Duration::minutes(2));
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "cached-access-token\n")
    );
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("HTTP status 503"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("using the cached token"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn temporary_failure_with_an_expired_token_exits_75() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::raw(503, "text/plain", "busy"));
    let (path, _) = expired_account(&sandbox, &server);
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (75, ""));
    assert!(run.stderr.contains("HTTP status 503"), "{}", run.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn rate_limiting_and_timeouts_at_the_endpoint_are_temporary() {
    for status in [408, 429, 500, 502] {
        let sandbox = Sandbox::new();
        let server = FakeServer::start(move |_| {
            Reply::json(status, serde_json::json!({"error": "server_error"}))
        });
        let (path, _) = expired_account(&sandbox, &server);
        let run = sandbox.run(&[path.to_str().unwrap()]);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (75, ""),
            "status {status}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_hanging_server_times_out_with_75() {
    let sandbox = Sandbox::new();
    let server =
        FakeServer::start(|_| Reply::token("late", None, 3600).delayed(StdDuration::from_secs(8)));
    let (path, _) = expired_account(&sandbox, &server);

    let started = std::time::Instant::now();
    let run = Sandbox::run_with_timeout(&sandbox, &[path.to_str().unwrap()], "1");

    assert_eq!((run.code, run.stdout.as_str()), (75, ""));
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(
        started.elapsed() < StdDuration::from_secs(7),
        "the timeout, not the server, ended the wait"
    );
}

#[test]
fn unusable_responses_exit_75_and_leave_the_file_alone() {
    let cases: Vec<(&str, Reply)> = vec![
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
        (
            "HTML error page",
            Reply::raw(400, "text/html", "<h1>Bad Request</h1>"),
        ),
    ];
    for (name, reply) in cases {
        let sandbox = Sandbox::new();
        let server = FakeServer::start(move |_| reply.clone());
        let (path, _) = expired_account(&sandbox, &server);
        let before = std::fs::read(&path).unwrap();

        let run = sandbox.run(&[path.to_str().unwrap()]);

        assert_eq!(
            (run.code, run.stdout.as_str()),
            (75, ""),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stderr.starts_with("mailtoken: error: "),
            "{name}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert_eq!(std::fs::read(&path).unwrap(), before, "{name}");
    }
}

#[test]
fn force_refresh_refreshes_a_valid_token() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("forced", None, 3600));
    let (path, _) = account_expiring(&sandbox, &server, Utc::now() + Duration::minutes(50));

    let run = sandbox.run(&["--force-refresh", path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "forced\n"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_failed_forced_refresh_never_falls_back_to_the_cached_token() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::raw(503, "text/plain", "busy"));
    let (path, _) = account_expiring(&sandbox, &server, Utc::now() + Duration::minutes(50));

    let run = sandbox.run(&["--force-refresh", path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (75, ""));
}

#[test]
fn client_credentials_accounts_repeat_the_client_credentials_grant() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("service-token", None, 600));
    let path = sandbox.path("account");
    let mut token = token_file(
        test_registration(&server.token_endpoint()),
        sandbox.age_spec(),
        Utc::now() - Duration::minutes(1),
    );
    token.flow = mailtoken::tokenfile::Flow::Clientcredentials;
    token.refresh_token = None;
    token.registration.scope = "mail.send".into();
    sandbox.write_token(&path, &token);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "service-token\n"),
        "{}",
        run.stderr
    );
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
fn command_line_client_values_replace_stored_ones_and_are_kept() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let (path, _) = expired_account(&sandbox, &server);

    let secret_file = sandbox.path("secret.txt");
    std::fs::write(&secret_file, "fixed-secret\n").unwrap();
    let run = sandbox.run(&[
        "--client-id",
        "fixed-client",
        "--client-secret-file",
        secret_file.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(server.requests()[0].form["client_id"], "fixed-client");
    assert_eq!(server.requests()[0].form["client_secret"], "fixed-secret");
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.client_id, "fixed-client");
    assert_eq!(stored.client_secret, Some(Secret::new("fixed-secret")));
}

#[test]
fn debug_traces_the_exchange_without_any_secret() {
    let sandbox = Sandbox::new();
    let server =
        FakeServer::start(|_| Reply::token("new-access-SECRET", Some("refresh-2-SECRET"), 3600));
    let (path, _) = expired_account(&sandbox, &server);

    let run = sandbox.run(&["--debug", path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (0, "new-access-SECRET\n"));
    assert!(run.stderr.contains("> POST"), "{}", run.stderr);
    assert!(run.stderr.contains("< HTTP 200"), "{}", run.stderr);
    assert!(run.stderr.contains("(redacted)"), "{}", run.stderr);
    for secret in ["refresh-1", "test-secret", "SECRET", "cached-access-token"] {
        assert!(
            !run.stderr.contains(secret),
            "{secret} leaked: {}",
            run.stderr
        );
    }
}

#[test]
fn verbose_output_never_reaches_stdout() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let (path, _) = expired_account(&sandbox, &server);

    let run = sandbox.run(&["-v", path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (0, "new-access\n"));
    assert!(
        run.stderr.contains("refreshing the access token"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_proxy_from_the_environment_is_used_unless_no_proxy_excludes_the_host() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("direct", None, 3600));
    let proxy = FakeServer::start(|_| Reply::token("via-proxy", None, 3600));
    let (path, _) = expired_account(&sandbox, &server);

    let run = crate::support::Run::from(
        sandbox
            .command()
            .arg(&path)
            .env("HTTP_PROXY", &proxy.url)
            .env("HTTPS_PROXY", &proxy.url)
            .output()
            .unwrap(),
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "via-proxy\n"),
        "{}",
        run.stderr
    );
    // A proxied request carries the absolute URI (RFC 9112 section 3.2.2).
    assert_eq!(proxy.requests()[0].path, server.token_endpoint());
    assert!(server.requests().is_empty());

    let (path, _) = expired_account(&sandbox, &server);
    let run = crate::support::Run::from(
        sandbox
            .command()
            .arg(&path)
            .env("HTTP_PROXY", &proxy.url)
            .env("NO_PROXY", "127.0.0.1")
            .output()
            .unwrap(),
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "direct\n"),
        "{}",
        run.stderr
    );
    assert_eq!(proxy.requests().len(), 1);
}

#[test]
fn an_access_token_that_would_break_the_output_line_is_refused() {
    for bad in ["two\nlines", "with space", "", "t\u{e9}l\u{e9}"] {
        let sandbox = Sandbox::new();
        let reply = Reply::json(
            200,
            serde_json::json!({"access_token": bad, "token_type": "Bearer", "expires_in": 3600}),
        );
        let server = FakeServer::start(move |_| reply.clone());
        let (path, _) = expired_account(&sandbox, &server);
        let before = std::fs::read(&path).unwrap();

        let run = sandbox.run(&[path.to_str().unwrap()]);

        assert_eq!(
            (run.code, run.stdout.as_str()),
            (75, ""),
            "{bad:?}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }
}

#[test]
fn an_absurd_lifetime_is_capped_instead_of_overflowing() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("forever", None, u64::MAX / 2));
    let (path, _) = expired_account(&sandbox, &server);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "forever\n"),
        "{}",
        run.stderr
    );
    let stored = sandbox.read_token(&path);
    assert!(stored.access_token_expiry < Utc::now() + Duration::days(367));
}

#[test]
fn a_symlinked_token_file_stays_a_symlink_and_its_target_is_updated() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let (target, _) = expired_account(&sandbox, &server);
    let link = sandbox.path("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let run = sandbox.run(&[link.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
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
