//! `--test` logs in: IMAP, POP and SMTP, each with XOAUTH2 and OAUTHBEARER, over implicit TLS and
//! STARTTLS, against scripted servers that check the exact SASL bytes and see them only over TLS.

use crate::support::Sandbox;
use crate::support::mail::{
    Behaviour, CACHED_TOKEN, TestCa, b64decode, endpoints, expected_sasl, run_trusting, sasl_lines,
    server, url, write_account,
};
use mailtoken::mailserver::Protocol;
use mailtoken::sasl::SaslMethod;

fn logs_in(protocol: Protocol, implicit: bool, method: SaslMethod) {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = server(&ca, protocol, implicit, Behaviour::accepting(CACHED_TOKEN));
    let url = url(protocol, implicit, server.port);
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        method,
        &endpoints(protocol, url.clone()),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line per protocol: {}", run.stderr);
    let prefix = format!("{:<4}  {url}  {}  ok  (", protocol.name(), method.name());
    assert!(
        lines[0].starts_with(&prefix) && lines[0].ends_with(" s)"),
        "{:?} does not start with {prefix:?}",
        lines[0]
    );

    let received = server.received();
    let sasl = sasl_lines(protocol, &received);
    assert_eq!(sasl.len(), 1, "one login: {received:#?}");
    assert_eq!(
        b64decode(&sasl[0].line),
        expected_sasl(method, server.port, CACHED_TOKEN),
        "exact SASL bytes"
    );
    assert!(sasl[0].tls, "the token travels only over TLS");
    assert!(
        received
            .iter()
            .all(|got| got.tls || !got.line.contains(&sasl[0].line)),
        "nothing secret in the clear"
    );
    if !implicit {
        let first = &received[0];
        assert!(!first.tls, "the STARTTLS endpoint starts in the clear");
        assert!(
            received.iter().any(|got| {
                let upper = got.line.to_ascii_uppercase();
                !got.tls && (upper == "STLS" || upper == "STARTTLS" || upper.ends_with(" STARTTLS"))
            }),
            "STARTTLS was sent: {received:#?}"
        );
    } else {
        assert!(received.iter().all(|got| got.tls));
    }

    let all: Vec<String> = received
        .iter()
        .map(|got| got.line.to_ascii_uppercase())
        .collect();
    let proof = match protocol {
        Protocol::Imap => all
            .iter()
            .any(|l| l.contains(" EXAMINE ") && l.contains("INBOX")),
        Protocol::Pop => all.iter().any(|l| l == "STAT"),
        Protocol::Smtp => true,
    };
    assert!(proof, "the login is proven with a command: {all:?}");
    let last = all.last().unwrap();
    assert!(
        last.ends_with("LOGOUT") || last == "QUIT",
        "the session is closed cleanly: {all:?}"
    );
    assert!(
        !all.iter()
            .any(|l| l.starts_with("MAIL") || l.starts_with("DATA")),
        "no mail is sent"
    );
}

#[test]
fn imaps_xoauth2() {
    logs_in(Protocol::Imap, true, SaslMethod::Xoauth2);
}

#[test]
fn imaps_oauthbearer() {
    logs_in(Protocol::Imap, true, SaslMethod::Oauthbearer);
}

#[test]
fn imap_starttls_xoauth2() {
    logs_in(Protocol::Imap, false, SaslMethod::Xoauth2);
}

#[test]
fn imap_starttls_oauthbearer() {
    logs_in(Protocol::Imap, false, SaslMethod::Oauthbearer);
}

#[test]
fn pop3s_xoauth2() {
    logs_in(Protocol::Pop, true, SaslMethod::Xoauth2);
}

#[test]
fn pop3s_oauthbearer() {
    logs_in(Protocol::Pop, true, SaslMethod::Oauthbearer);
}

#[test]
fn pop3_stls_xoauth2() {
    logs_in(Protocol::Pop, false, SaslMethod::Xoauth2);
}

#[test]
fn pop3_stls_oauthbearer() {
    logs_in(Protocol::Pop, false, SaslMethod::Oauthbearer);
}

#[test]
fn smtps_xoauth2() {
    logs_in(Protocol::Smtp, true, SaslMethod::Xoauth2);
}

#[test]
fn smtps_oauthbearer() {
    logs_in(Protocol::Smtp, true, SaslMethod::Oauthbearer);
}

#[test]
fn smtp_starttls_xoauth2() {
    logs_in(Protocol::Smtp, false, SaslMethod::Xoauth2);
}

#[test]
fn smtp_starttls_oauthbearer() {
    logs_in(Protocol::Smtp, false, SaslMethod::Oauthbearer);
}
