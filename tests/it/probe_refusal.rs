//! `--test` when the server says no: the failure challenge is decoded and answered (an empty line
//! for XOAUTH2, `AQ==` for OAUTHBEARER), a refused cached token is refreshed once and tried again,
//! and the report tells a stale token from a real refusal.

use crate::support::mail::{
    Behaviour, CACHED_TOKEN, GOOGLE_CHALLENGE, TestCa, b64decode, endpoints, expected_sasl,
    run_trusting, sasl_lines, server, url, write_account,
};
use crate::support::{FakeServer, Reply, Sandbox};
use mailtoken::mailserver::Protocol;
use mailtoken::sasl::SaslMethod;

const FRESH_TOKEN: &str = "fresh-access-token";

/// The line the client sent right after each failure challenge.
fn replies_to_challenges(protocol: Protocol, lines: &[String]) -> Vec<String> {
    let mut replies = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let upper = line.to_ascii_uppercase();
        let sasl_at = match protocol {
            Protocol::Imap if upper.contains(" AUTHENTICATE ") => i + 1,
            Protocol::Pop if upper.starts_with("AUTH ") => i + 1,
            Protocol::Smtp if upper.starts_with("AUTH ") => i,
            _ => continue,
        };
        replies.extend(lines.get(sasl_at + 1).cloned());
    }
    replies
}

/// Both the cached token and the refreshed one are refused: a real refusal.
fn refused_twice(protocol: Protocol, method: SaslMethod) {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let server = server(&ca, protocol, true, Behaviour::accepting("never"));
    let url = url(protocol, true, server.port);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        method,
        &endpoints(protocol, url.clone()),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (69, ""), "{}", run.stderr);
    let line = format!(
        "{:<4}  {url}  {}  refused  (",
        protocol.name(),
        method.name()
    );
    assert_eq!(run.stderr.matches(&line).count(), 2, "{}", run.stderr);
    for expected in [
        "the cached token was refused; refreshing it and trying once more",
        "refused again with a freshly refreshed token: this is a real refusal",
        "challenge: status 401, schemes bearer, scope https://mail.google.com/",
        "likely: the token was issued moments ago",
        "mailtoken: error: login failed: ",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    let final_reply = match protocol {
        Protocol::Imap => " NO [AUTHENTICATIONFAILED] Authentication failed.",
        Protocol::Pop => "server said: -ERR [AUTH] Authentication failed.",
        Protocol::Smtp => "server said: 535 5.7.8 Authentication credentials invalid",
    };
    assert!(run.stderr.contains(final_reply), "{}", run.stderr);

    let received = server.received();
    let sasl: Vec<String> = sasl_lines(protocol, &received)
        .iter()
        .map(|got| b64decode(&got.line))
        .collect();
    assert_eq!(
        sasl,
        vec![
            expected_sasl(method, server.port, CACHED_TOKEN),
            expected_sasl(method, server.port, FRESH_TOKEN),
        ]
    );
    let dummy = match method {
        SaslMethod::Xoauth2 => "",
        SaslMethod::Oauthbearer => "AQ==",
    };
    assert_eq!(
        replies_to_challenges(protocol, &server.lines()),
        vec![dummy.to_string(), dummy.to_string()],
        "the challenge is answered so the server can finish"
    );
    let requests = tokens.requests();
    assert_eq!(requests.len(), 1, "one refresh");
    assert_eq!(requests[0].form["grant_type"], "refresh_token");
}

#[test]
fn imap_xoauth2_refused() {
    refused_twice(Protocol::Imap, SaslMethod::Xoauth2);
}

#[test]
fn imap_oauthbearer_refused() {
    refused_twice(Protocol::Imap, SaslMethod::Oauthbearer);
}

#[test]
fn pop_xoauth2_refused() {
    refused_twice(Protocol::Pop, SaslMethod::Xoauth2);
}

#[test]
fn pop_oauthbearer_refused() {
    refused_twice(Protocol::Pop, SaslMethod::Oauthbearer);
}

#[test]
fn smtp_xoauth2_refused() {
    refused_twice(Protocol::Smtp, SaslMethod::Xoauth2);
}

#[test]
fn smtp_oauthbearer_refused() {
    refused_twice(Protocol::Smtp, SaslMethod::Oauthbearer);
}

#[test]
fn a_stale_cached_token_is_refreshed_and_accepted() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let server = server(&ca, Protocol::Imap, true, Behaviour::accepting(FRESH_TOKEN));
    let url = url(Protocol::Imap, true, server.port);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Imap, url.clone()),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines[0].starts_with(&format!("IMAP  {url}  XOAUTH2  refused  (")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("\nIMAP  {url}  XOAUTH2  ok  (")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the cached one was stale"),
        "{}",
        run.stderr
    );
    assert_eq!(
        sandbox.read_token(&path).access_token.expose(),
        FRESH_TOKEN,
        "the refreshed token is kept"
    );
    let sasl: Vec<String> = sasl_lines(Protocol::Imap, &server.received())
        .iter()
        .map(|got| b64decode(&got.line))
        .collect();
    assert_eq!(
        sasl,
        vec![
            expected_sasl(SaslMethod::Xoauth2, server.port, CACHED_TOKEN),
            expected_sasl(SaslMethod::Xoauth2, server.port, FRESH_TOKEN),
        ]
    );
}

#[test]
fn a_token_refreshed_for_this_run_is_not_refreshed_again() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let server = server(&ca, Protocol::Pop, true, Behaviour::accepting("never"));
    let url = url(Protocol::Pop, true, server.port);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Oauthbearer,
        &endpoints(Protocol::Pop, url.clone()),
    );

    let run = run_trusting(
        &sandbox,
        &ca,
        &[path.to_str().unwrap(), "--test", "--force-refresh"],
    );

    assert_eq!((run.code, run.stdout.as_str()), (69, ""), "{}", run.stderr);
    assert_eq!(tokens.requests().len(), 1, "only the forced refresh");
    assert_eq!(sasl_lines(Protocol::Pop, &server.received()).len(), 1);
    assert!(!run.stderr.contains("refreshing it"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("likely: the token was issued moments ago, so it has not expired: user@example.com is probably not the account that signed in"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_failed_refresh_keeps_the_refusal_and_says_why() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| {
        Reply::json(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": "revoked"}),
        )
    });
    let server = server(&ca, Protocol::Smtp, true, Behaviour::accepting("never"));
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Smtp, url(Protocol::Smtp, true, server.port)),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (69, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("the refresh failed: "),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--authorize"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(GOOGLE_CHALLENGE.split('"').nth(3).unwrap())
    );
}

#[test]
fn a_missing_scope_is_named() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let mut behaviour = Behaviour::accepting("never");
    behaviour.challenge =
        r#"{"status":"insufficient_scope","scope":"https://mail.example.com/imap"}"#.into();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let server = server(&ca, Protocol::Imap, true, behaviour);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Oauthbearer,
        &endpoints(Protocol::Imap, url(Protocol::Imap, true, server.port)),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "likely: the token lacks the scope the server requires (https://mail.example.com/imap); it has https://mail.google.com/"
        ),
        "{}",
        run.stderr
    );
}

/// A "no" with a temporary response code is the server's trouble, not a refused token: 75, and
/// no refresh (a new token would not help).
#[test]
fn a_temporary_failure_code_is_not_a_refusal() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let server = crate::support::mail::MailServer::start(
        &ca,
        true,
        |s: &mut crate::support::mail::Session| {
            s.send("* OK ready");
            while let Some(line) = s.line() {
                let tag = line.split(' ').next().unwrap_or("").to_string();
                if line.contains("CAPABILITY") {
                    s.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2");
                    s.send(&format!("{tag} OK done"));
                } else if line.contains("AUTHENTICATE") {
                    s.send("+ ");
                    let _ = s.line();
                    s.send(&format!(
                        "{tag} NO [UNAVAILABLE] Temporary authentication failure."
                    ));
                } else {
                    s.send(&format!("{tag} OK"));
                    return;
                }
            }
        },
    );
    let url = url(Protocol::Imap, true, server.port);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Imap, url.clone()),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("IMAP  {url}  XOAUTH2  server trouble  (")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("the server could not check the login now: a problem on its side"),
        "{}",
        run.stderr
    );
    assert!(tokens.requests().is_empty(), "no refresh");
}

/// SMTP says the same with a 4xx reply (Dovecot: `454 4.7.0 Temporary authentication failure`).
#[test]
fn a_temporary_smtp_reply_is_not_a_refusal() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let server = crate::support::mail::MailServer::start(
        &ca,
        true,
        |s: &mut crate::support::mail::Session| {
            s.send("220 ready");
            while let Some(line) = s.line() {
                if line.starts_with("EHLO") {
                    s.send("250-x\r\n250 AUTH XOAUTH2");
                } else if line.starts_with("AUTH") {
                    s.send("454 4.7.0 Temporary authentication failure.");
                } else {
                    s.send("221 bye");
                    return;
                }
            }
        },
    );
    let url = url(Protocol::Smtp, true, server.port);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Smtp, url.clone()),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("SMTP  {url}  XOAUTH2  server trouble  (")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("server said: 454 4.7.0 Temporary authentication failure."),
        "{}",
        run.stderr
    );
    assert!(tokens.requests().is_empty(), "no refresh");
}

/// A server that quotes the SASL string back: the report shows neither it nor the token.
#[test]
fn an_echoing_server_does_not_put_the_token_on_the_terminal() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let tokens = FakeServer::start(|_| Reply::token(FRESH_TOKEN, None, 3600));
    let mut behaviour = Behaviour::accepting("never");
    behaviour.echo = true;
    let server = server(&ca, Protocol::Imap, true, behaviour);
    let url = url(Protocol::Imap, true, server.port);
    let path = write_account(
        &sandbox,
        &tokens.token_endpoint(),
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Imap, url),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("refused (redacted)"), "{}", run.stderr);
    for secret in [CACHED_TOKEN, FRESH_TOKEN] {
        assert!(!run.stderr.contains(secret), "{}", run.stderr);
    }
    for got in sasl_lines(Protocol::Imap, &server.received()) {
        assert!(!run.stderr.contains(&got.line), "{}", run.stderr);
    }
}
