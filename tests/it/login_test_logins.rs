//! `--test` logs in: IMAP, POP and SMTP, each with XOAUTH2 and OAUTHBEARER, over implicit TLS and
//! STARTTLS, against scripted servers that check the exact SASL bytes and see them only over TLS.

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::sasl::SaslMethod;

use crate::support::login_test::{Probe, expected_sasl, sasl_lines};
use crate::support::mail_scripts::{Behaviour, serving};
use crate::support::{CACHED_TOKEN, UNUSED_TOKEN_ENDPOINT, each_case};

/// Every protocol, each on implicit TLS and STARTTLS, with each mechanism: the names the twelve
/// cases had as tests of their own.
const CASES: [(&str, Protocol, bool, SaslMethod); 12] = [
    ("imaps_xoauth2", Protocol::Imap, true, SaslMethod::Xoauth2),
    (
        "imaps_oauthbearer",
        Protocol::Imap,
        true,
        SaslMethod::Oauthbearer,
    ),
    (
        "imap_starttls_xoauth2",
        Protocol::Imap,
        false,
        SaslMethod::Xoauth2,
    ),
    (
        "imap_starttls_oauthbearer",
        Protocol::Imap,
        false,
        SaslMethod::Oauthbearer,
    ),
    ("pop3s_xoauth2", Protocol::Pop, true, SaslMethod::Xoauth2),
    (
        "pop3s_oauthbearer",
        Protocol::Pop,
        true,
        SaslMethod::Oauthbearer,
    ),
    (
        "pop3_stls_xoauth2",
        Protocol::Pop,
        false,
        SaslMethod::Xoauth2,
    ),
    (
        "pop3_stls_oauthbearer",
        Protocol::Pop,
        false,
        SaslMethod::Oauthbearer,
    ),
    ("smtps_xoauth2", Protocol::Smtp, true, SaslMethod::Xoauth2),
    (
        "smtps_oauthbearer",
        Protocol::Smtp,
        true,
        SaslMethod::Oauthbearer,
    ),
    (
        "smtp_starttls_xoauth2",
        Protocol::Smtp,
        false,
        SaslMethod::Xoauth2,
    ),
    (
        "smtp_starttls_oauthbearer",
        Protocol::Smtp,
        false,
        SaslMethod::Oauthbearer,
    ),
];

#[test]
fn each_protocol_logs_in_with_each_mechanism_over_each_kind_of_tls() {
    each_case(
        CASES.map(|(name, p, i, m)| (name, (p, i, m))),
        |(p, i, m)| logs_in(p, i, m),
    );
}

fn logs_in(protocol: Protocol, implicit: bool, method: SaslMethod) {
    let accepting = serving(protocol, Behaviour::accepting(CACHED_TOKEN));
    let probe =
        Probe::start(protocol, implicit, accepting).with_account(method, UNUSED_TOKEN_ENDPOINT);

    let run = probe.test(&[]);

    run.expect(0, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line per protocol: {}", run.stderr);
    let prefix = probe.line(method.name(), "ok");
    assert!(
        lines[0].starts_with(&prefix) && lines[0].ends_with(" s)"),
        "{:?} does not start with {prefix:?}",
        lines[0]
    );

    let received = probe.server.received();
    let sasl = sasl_lines(protocol, &received);
    assert_eq!(sasl.len(), 1, "one login: {received:#?}");
    assert_eq!(
        probe.logins()[0],
        expected_sasl(method, probe.server.port, CACHED_TOKEN),
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
