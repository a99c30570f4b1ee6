//! `--test` when the server says no: the failure challenge is decoded and answered (an empty line
//! for XOAUTH2, `AQ==` for OAUTHBEARER), a refused cached token is refreshed once and tried again,
//! and the report tells a stale token from a real refusal.

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::sasl::SaslMethod;

use crate::support::login_test::{Probe, expected_sasl, sasl_lines};
use crate::support::mail::Session;
use crate::support::mail_scripts::{Answer, Behaviour, Said, serving, xoauth2_only};
use crate::support::{CACHED_TOKEN, FakeServer, Reply, each_case};

const FRESH_TOKEN: &str = "fresh-access-token";

/// A token endpoint that answers every refresh with `FRESH_TOKEN`.
fn fresh_tokens() -> FakeServer {
    FakeServer::answering(Reply::token(FRESH_TOKEN, None, 3600))
}

/// A server for `protocol` on implicit TLS running `script`, and an account logging in with
/// `method` that refreshes at `tokens`.
fn probe(
    protocol: Protocol,
    method: SaslMethod,
    tokens: &FakeServer,
    script: impl Fn(&mut Session) + Send + Sync + 'static,
) -> Probe {
    Probe::start(protocol, true, script).with_account(method, &tokens.token_endpoint())
}

/// A server for `protocol` that refuses every token but `accepted` with Google's challenge.
fn refusing(protocol: Protocol, accepted: &str) -> Box<crate::support::mail::Script> {
    serving(protocol, Behaviour::accepting(accepted))
}

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

#[test]
fn a_token_refused_twice_is_a_real_refusal_in_each_protocol_and_mechanism() {
    let cases = [
        ("imap_xoauth2_refused", Protocol::Imap, SaslMethod::Xoauth2),
        (
            "imap_oauthbearer_refused",
            Protocol::Imap,
            SaslMethod::Oauthbearer,
        ),
        ("pop_xoauth2_refused", Protocol::Pop, SaslMethod::Xoauth2),
        (
            "pop_oauthbearer_refused",
            Protocol::Pop,
            SaslMethod::Oauthbearer,
        ),
        ("smtp_xoauth2_refused", Protocol::Smtp, SaslMethod::Xoauth2),
        (
            "smtp_oauthbearer_refused",
            Protocol::Smtp,
            SaslMethod::Oauthbearer,
        ),
    ];
    each_case(cases.map(|(name, p, m)| (name, (p, m))), |(p, m)| {
        refused_twice(p, m)
    });
}

/// Both the cached token and the refreshed one are refused: a real refusal.
fn refused_twice(protocol: Protocol, method: SaslMethod) {
    let tokens = fresh_tokens();
    let probe = probe(protocol, method, &tokens, refusing(protocol, "never"));

    let run = probe.test(&[]);

    run.expect(69, "");
    let line = probe.line(method.name(), "refused");
    assert_eq!(run.stderr.matches(&line).count(), 2, "{}", run.stderr);
    for expected in [
        "the cached token was refused; refreshing it and trying once more",
        "refused again with a freshly refreshed token: this is a real refusal",
        "challenge: status 401, schemes bearer, scope https://mail.google.com/",
        "likely: the token was issued moments ago",
        "mailtoken: error: login failed: ",
    ] {
        run.says(expected);
    }
    run.says(match protocol {
        Protocol::Imap => " NO [AUTHENTICATIONFAILED] Authentication failed.",
        Protocol::Pop => "server said: -ERR [AUTH] Authentication failed.",
        Protocol::Smtp => "server said: 535 5.7.8 Authentication credentials invalid",
    });

    let port = probe.server.port;
    assert_eq!(
        probe.logins(),
        vec![
            expected_sasl(method, port, CACHED_TOKEN),
            expected_sasl(method, port, FRESH_TOKEN),
        ]
    );
    let dummy = match method {
        SaslMethod::Xoauth2 => "",
        SaslMethod::Oauthbearer => "AQ==",
    };
    assert_eq!(
        replies_to_challenges(protocol, &probe.server.lines()),
        vec![dummy.to_string(), dummy.to_string()],
        "the challenge is answered so the server can finish"
    );
    let requests = tokens.requests();
    assert_eq!(requests.len(), 1, "one refresh");
    assert_eq!(requests[0].form["grant_type"], "refresh_token");
}

#[test]
fn a_stale_cached_token_is_refreshed_and_accepted() {
    let tokens = fresh_tokens();
    let accepting = refusing(Protocol::Imap, FRESH_TOKEN);
    let probe = probe(Protocol::Imap, SaslMethod::Xoauth2, &tokens, accepting);

    let run = probe.test(&[]);

    run.expect(0, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    let url = &probe.url;
    assert!(
        lines[0].starts_with(&format!("IMAP  {url}  XOAUTH2  refused  (")),
        "{}",
        run.stderr
    );
    run.says(&format!("\nIMAP  {url}  XOAUTH2  ok  ("));
    run.says("the cached one was stale");
    assert_eq!(
        probe.sandbox.read_token(&probe.path).access_token.expose(),
        FRESH_TOKEN,
        "the refreshed token is kept"
    );
    let port = probe.server.port;
    assert_eq!(
        probe.logins(),
        vec![
            expected_sasl(SaslMethod::Xoauth2, port, CACHED_TOKEN),
            expected_sasl(SaslMethod::Xoauth2, port, FRESH_TOKEN),
        ]
    );
}

#[test]
fn a_token_refreshed_for_this_run_is_not_refreshed_again() {
    let tokens = fresh_tokens();
    let refusing = refusing(Protocol::Pop, "never");
    let probe = probe(Protocol::Pop, SaslMethod::Oauthbearer, &tokens, refusing);

    let run = probe.test(&["--force-refresh"]);

    run.expect(69, "");
    assert_eq!(tokens.requests().len(), 1, "only the forced refresh");
    assert_eq!(sasl_lines(Protocol::Pop, &probe.server.received()).len(), 1);
    run.never_says("refreshing it");
    run.says("likely: the token was issued moments ago, so it has not expired: user@example.com is probably not the account that signed in");
}

#[test]
fn a_refusal_whose_refresh_finds_the_login_ended_is_a_sign_in_not_a_scope_problem() {
    let tokens = FakeServer::answering(Reply::oauth_error(400, "invalid_grant", "revoked"));
    let refusing = refusing(Protocol::Smtp, "never");
    let probe = probe(Protocol::Smtp, SaslMethod::Xoauth2, &tokens, refusing);

    let run = probe.test(&[]);

    // The server's refusal is shown, then the refresh says the login has ended: 77, the one fix
    // is a sign-in, and no guess about scopes or addresses follows.
    run.expect(77, "");
    run.says("server said: 535 5.7.8");
    run.says("invalid_grant");
    run.says("--authorize");
    run.never_says("likely");
    run.never_says("--scope");

    // The verdict is remembered: the next test ends before logging in anywhere.
    let logins = sasl_lines(Protocol::Smtp, &probe.server.received()).len();
    let again = probe.test(&[]);
    again.expect(77, "");
    assert_eq!(
        tokens.requests().len(),
        1,
        "the provider is not asked again"
    );
    assert_eq!(
        sasl_lines(Protocol::Smtp, &probe.server.received()).len(),
        logins
    );
}

#[test]
fn a_missing_scope_is_named() {
    let mut behaviour = Behaviour::accepting("never");
    behaviour.challenge =
        r#"{"status":"insufficient_scope","scope":"https://mail.example.com/imap"}"#.into();
    let tokens = fresh_tokens();
    let script = serving(Protocol::Imap, behaviour);
    let probe = probe(Protocol::Imap, SaslMethod::Oauthbearer, &tokens, script);

    let run = probe.test(&[]);

    run.expect_code(69);
    run.says("likely: the token lacks the scope the server requires (https://mail.example.com/imap); it has https://mail.google.com/");
}

/// A "no" with a temporary response code is the server's trouble, not a refused token: 75, and
/// no refresh (a new token would not help). SMTP says the same with a 4xx reply (Dovecot:
/// `454 4.7.0 Temporary authentication failure`).
#[test]
fn a_temporary_failure_code_is_not_a_refusal() {
    let cases: [(&str, Protocol, Answer, &str); 2] = [
        (
            "IMAP",
            Protocol::Imap,
            |s, tag, said| match said {
                Said::Login => s.reply(
                    &format!("{tag} NO [UNAVAILABLE] Temporary authentication failure."),
                    true,
                ),
                Said::Command(_) => s.reply(&format!("{tag} OK"), false),
            },
            "the server could not check the login now: a problem on its side",
        ),
        (
            "SMTP",
            Protocol::Smtp,
            |s, _, said| match said {
                Said::Login => s.reply("454 4.7.0 Temporary authentication failure.", true),
                Said::Command(_) => s.reply("221 bye", false),
            },
            "server said: 454 4.7.0 Temporary authentication failure.",
        ),
    ];
    let named = cases.map(|(name, p, a, words)| (name, (name, p, a, words)));
    each_case(named, |(name, protocol, answer, words)| {
        let tokens = fresh_tokens();
        let script = xoauth2_only(protocol, answer);
        let probe = probe(protocol, SaslMethod::Xoauth2, &tokens, script);

        let run = probe.test(&[]);

        run.expect(75, "");
        let line = format!("{name}  {}  XOAUTH2  server trouble  (", probe.url);
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        run.says(words);
        assert!(tokens.requests().is_empty(), "no refresh");
    });
}

/// A server that quotes the SASL string back: the report shows neither it nor the token.
#[test]
fn an_echoing_server_does_not_put_the_token_on_the_terminal() {
    let tokens = fresh_tokens();
    let mut behaviour = Behaviour::accepting("never");
    behaviour.echo = true;
    let script = serving(Protocol::Imap, behaviour);
    let probe = probe(Protocol::Imap, SaslMethod::Xoauth2, &tokens, script);

    let run = probe.test(&[]);

    run.expect_code(69);
    run.says("refused (redacted)");
    for secret in [CACHED_TOKEN, FRESH_TOKEN] {
        run.never_says(secret);
    }
    for got in sasl_lines(Protocol::Imap, &probe.server.received()) {
        run.never_says(&got.line);
    }
}
