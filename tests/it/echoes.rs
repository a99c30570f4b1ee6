//! Issue #22, items 5 to 7: a server that sends back what it was sent never puts a secret on the
//! terminal, in `--debug`, in the notify hook's `MAILTOKEN_REASON` or in `--test`'s report: not
//! whole, not recased, not encoded, not cut short. And `--debug` hides secrets under any name.

use std::path::PathBuf;

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::provider::ClientAuth;
use mailtoken::testing::sasl::SaslMethod;
use mailtoken::testing::secret::Secret;

use crate::support::echo::{HttpEcho, SaslEcho, echoing_endpoint, echoing_mail_server, leaks};
use crate::support::login_test::Probe;
use crate::support::*;

/// Secrets shaped like Google's: slashes that form-encoding changes, long enough to be cut.
const REFRESH_TOKEN: &str = "1//0gX7fK2mQ9-pLzR4vTn8Wb/YcUe3HsJd";
const CLIENT_SECRET: &str = "GOCSPX-x9Kq_7vTzpLw-Rm4.99";
const ACCESS_TOKEN: &str = "ya29.a0AfB_byC7dK9mPq2RxT5vW8zY1";

/// A hook that writes its environment to `hook-env` in the sandbox.
fn install_hook(sandbox: &Sandbox) -> PathBuf {
    let hook = sandbox.config_home().join("mailtoken/notify");
    let record = sandbox.path("hook-env");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nenv > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            record.display()
        ),
    )
    .unwrap();
    set_mode(&hook, 0o700);
    record
}

/// An account with the secrets above whose token endpoint is `token_endpoint`.
fn account(sandbox: &Sandbox, token_endpoint: &str, auth: ClientAuth, valid: bool) -> PathBuf {
    let expiry = minutes_from_now(if valid { 30 } else { -1 });
    let mut token = sandbox.token(token_endpoint, expiry);
    token.registration.client_auth = auth;
    token.refresh_token = Some(Secret::new(REFRESH_TOKEN));
    token.client_secret = Some(Secret::new(CLIENT_SECRET));
    token.access_token = Secret::new(ACCESS_TOKEN);
    sandbox.save("account", &token)
}

#[track_caller]
fn shows_none(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!leaks(text, secret), "{what} shows {secret:?}:\n{text}");
    }
}

#[test]
fn an_echoing_token_endpoint_shows_no_secret_anywhere() {
    let cases = HttpEcho::ALL.iter().flat_map(|how| {
        [ClientAuth::ClientSecretPost, ClientAuth::ClientSecretBasic]
            .map(|auth| (format!("{how:?}, {auth:?}"), (*how, auth)))
    });
    each_case(cases, |(how, auth)| {
        let sandbox = Sandbox::new();
        let hook_env = install_hook(&sandbox);
        let server = echoing_endpoint(how);
        let path = account(&sandbox, &server.token_endpoint(), auth, false);
        let secrets = [REFRESH_TOKEN, CLIENT_SECRET];

        let run = sandbox.run(&[&path]);
        assert!([75, 77, 78].contains(&run.code), "{run:?}");
        run.says("127.0.0.1");
        shows_none("the error", &run.stderr, &secrets);
        // The echo did reach the server's answer: the test shows something.
        let request = &server.requests()[0];
        assert!(
            request.form.values().any(|v| v == REFRESH_TOKEN),
            "{request:?}"
        );

        // A login the provider ended is remembered, with the reason: no secret there either.
        // Forgotten here, so that --debug asks the provider again.
        let record = sandbox.path("account.state");
        shows_none("the record", &sandbox.read("account.state"), &secrets);
        let _ = std::fs::remove_file(&record);
        let debug = sandbox.run(&[path.to_str().unwrap(), "--debug"]);
        debug.says("mailtoken: debug: < HTTP");
        shows_none("--debug", &debug.stderr, &secrets);

        if run.code == 77 {
            assert!(eventually(|| hook_env.exists()), "the hook did not run");
            let env = std::fs::read_to_string(&hook_env).unwrap();
            let reason = env
                .lines()
                .find(|line| line.starts_with("MAILTOKEN_REASON="))
                .unwrap();
            // An OAuth2 refusal, or since issue #34 a refresh refused with a bare 400.
            assert!(
                reason.contains("invalid_grant") || reason.contains("without a reason"),
                "{reason}"
            );
            shows_none("MAILTOKEN_REASON", reason, &secrets);
        }
    });
}

#[test]
fn an_echoing_revocation_endpoint_shows_no_secret() {
    each_case(HttpEcho::ALL.map(|how| (format!("{how:?}"), how)), |how| {
        let sandbox = Sandbox::new();
        let server = echoing_endpoint(how);
        let path = account(
            &sandbox,
            UNUSED_TOKEN_ENDPOINT,
            ClientAuth::ClientSecretPost,
            true,
        );
        let mut token = sandbox.read_token(&path);
        token.registration.revocation_endpoint = Some(format!("{}/revoke", server.url));
        sandbox.write_token(&path, &token);
        let secrets = [REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN];

        // Whether the echo reads as "already ended" (invalid_grant) or as a refusal is the
        // classification's business; what is shown is this test's.
        let run = sandbox.run(&[path.to_str().unwrap(), "--revoke", "--debug"]);

        run.says("mailtoken: debug: >   token=(redacted)&token_type_hint=refresh_token");
        shows_none("--revoke", &run.stderr, &secrets);
        assert_eq!(server.requests()[0].form["token"], REFRESH_TOKEN);
    });
}

#[test]
fn an_echoing_device_poll_shows_neither_the_device_code_nor_the_secret() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::for_service();
    let echo = echoing_endpoint(HttpEcho::Description);
    let path = sandbox.path("account");
    let mut args = provider.sign_in(&path, "devicecode", &PERSON[..4], &["--auth-timeout", "20"]);
    let at = args.iter().position(|a| a == "--token-endpoint").unwrap();
    args[at + 1] = echo.token_endpoint();
    let secret = [("MAILTOKEN_CLIENT_SECRET", SERVICE[5])];

    let run = sandbox.run_with(&[&args[..], &strings(&["--debug"])].concat(), &secret);

    assert_eq!(echo.requests()[0].form["device_code"], DEVICE_CODE);
    run.says("invalid_grant");
    shows_none("the sign-in", &run.stderr, &[DEVICE_CODE, SERVICE[5]]);
    assert!(!path.exists());
}

/// `--debug` hides token responses' secrets whatever the members are called: RFC 7009's
/// `token`, camel case, OpenID Connect's `id_token`.
#[test]
fn debug_hides_tokens_under_any_name() {
    let sandbox = Sandbox::new();
    // Reconstructed: a 200 with the standard members and the same values under other names.
    let server = FakeServer::answering(Reply::json(
        200,
        serde_json::json!({
            "access_token": "new-access-0001", "token_type": "Bearer", "expires_in": 3600,
            "accessToken": "camel-access-0002", "refreshToken": "camel-refresh-0003",
            "token": "plain-token-0004", "id_token": "eyJ-id-token-0005",
            "data": {"session": {"assertion": "nested-assertion-0006"}}
        }),
    ));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));

    let run = sandbox.run(&[path.to_str().unwrap(), "--debug"]);

    run.expect(0, "new-access-0001\n");
    run.says(r#""accessToken":"(redacted)""#);
    run.says(r#""token_type":"Bearer""#);
    run.says(r#""expires_in":3600"#);
    for value in [
        "new-access-0001",
        "camel-access-0002",
        "camel-refresh-0003",
        "plain-token-0004",
        "eyJ-id-token-0005",
        "nested-assertion-0006",
        "refresh-1",
        "test-secret",
    ] {
        run.never_says(value);
    }
}

/// The account of `probe`, refreshing at `tokens`, with a token long enough to be cut.
fn echo_probe(protocol: Protocol, how: SaslEcho, tokens: &FakeServer) -> Probe {
    Probe::start(protocol, true, echoing_mail_server(protocol, how))
        .with_account(SaslMethod::Xoauth2, &tokens.token_endpoint())
}

#[test]
fn a_mail_server_sending_the_sasl_string_back_shows_no_token() {
    let fresh = "fresh-access-token-0123456789";
    let tokens = FakeServer::answering(Reply::token(fresh, None, 3600));
    let cases = SaslEcho::ALL.iter().flat_map(|how| {
        [Protocol::Imap, Protocol::Pop, Protocol::Smtp]
            .map(|protocol| (format!("{how:?}, {protocol:?}"), (*how, protocol)))
    });
    each_case(cases, |(how, protocol)| {
        let probe = echo_probe(protocol, how, &tokens);

        let run = probe.test(&["--debug"]);

        // A challenge that is not base64 is no valid IMAP continuation: then it is the server's
        // fault (75), not a refusal (69); either way the echo is shown, redacted.
        assert!([69, 75].contains(&run.code), "{run:?}");
        run.says("(redacted)");
        let sent: Vec<String> = probe
            .logins()
            .iter()
            .map(crate::support::base64::encode)
            .collect();
        assert!(!sent.is_empty(), "no login reached the server");
        for secret in [CACHED_TOKEN, fresh]
            .iter()
            .copied()
            .chain(sent.iter().map(String::as_str))
        {
            shows_none("--test", &run.stderr, &[secret]);
        }
    });
}
