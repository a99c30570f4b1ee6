//! `--test` when the login cannot happen: a server without the mechanism or without STARTTLS
//! (the token is never sent), a server that stops answering (timeout, 75), garbage replies (a
//! clear error, no panic), and a certificate from an untrusted CA.

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::sasl::SaslMethod;

use crate::support::base64::decode_text;
use crate::support::login_test::{Probe, run_trusting, url};
use crate::support::mail::{Session, TestCa};
use crate::support::mail_scripts::{Answer, Behaviour, Said, ScriptFn, serving, xoauth2_only};
use crate::support::{CACHED_TOKEN, UNUSED_TOKEN_ENDPOINT, each_case};

const PROTOCOLS: [(&str, Protocol); 3] = [
    ("IMAP", Protocol::Imap),
    ("POP", Protocol::Pop),
    ("SMTP", Protocol::Smtp),
];

/// No line the server received carries the token, encoded in either mechanism or raw.
#[track_caller]
fn token_never_sent(probe: &Probe) {
    let lines = probe.server.lines();
    for line in &lines {
        let upper = line.to_ascii_uppercase();
        assert!(
            !upper.starts_with("AUTH") && !upper.contains(" AUTHENTICATE"),
            "no login was attempted: {lines:?}"
        );
        assert!(!line.contains(CACHED_TOKEN), "{lines:?}");
        assert!(!decode_text(line).contains(CACHED_TOKEN), "{lines:?}");
    }
}

#[test]
fn a_mechanism_the_server_does_not_offer_is_not_tried() {
    each_case(PROTOCOLS, |protocol| {
        let mut behaviour = Behaviour::accepting(CACHED_TOKEN);
        behaviour.mechanisms = vec!["PLAIN".into(), "XOAUTH2".into()];
        let server = serving(protocol, behaviour);
        let probe = Probe::start(protocol, true, server)
            .with_account(SaslMethod::Oauthbearer, UNUSED_TOKEN_ENDPOINT);

        let run = probe.test(&[]);

        run.expect(69, "");
        let line = probe.line("OAUTHBEARER", "mechanism not offered");
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        run.says("the server does not offer OAUTHBEARER (it offers: PLAIN XOAUTH2); the token was not sent");
        run.says("hint: the server offers XOAUTH2: try --sasl-method XOAUTH2");
        token_never_sent(&probe);
    });
}

#[test]
fn a_starttls_endpoint_without_starttls_never_gets_the_token() {
    each_case(PROTOCOLS, |protocol| {
        let mut behaviour = Behaviour::accepting(CACHED_TOKEN);
        behaviour.starttls = false;
        let probe = Probe::start(protocol, false, serving(protocol, behaviour));

        let run = probe.test(&[]);

        run.expect(69, "");
        let line = probe.line("XOAUTH2", "no STARTTLS");
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        run.says("the token was not sent over an unencrypted connection");
        let received = probe.server.received();
        assert!(!received.is_empty(), "the client did talk to the server");
        assert!(received.iter().all(|got| !got.tls));
        token_never_sent(&probe);
    });
}

/// An implicit-TLS URL (`imaps://`) for a port whose server greets in plain text, as a STARTTLS
/// port does (Dovecot's greeting, tests/corpus/mail_answers.md): the URL is what to change, so
/// 78 with both URLs to try, and the token is never sent.
#[test]
fn a_plain_text_port_given_as_implicit_tls_names_the_urls_to_try() {
    each_case(PROTOCOLS, |protocol| {
        let mut probe = Probe::start(
            protocol,
            false,
            serving(protocol, Behaviour::accepting(CACHED_TOKEN)),
        );
        probe.url = url(protocol, true, probe.server.port);
        let probe = probe.with_account(SaslMethod::Xoauth2, UNUSED_TOKEN_ENDPOINT);

        let run = probe.test(&[]);

        run.expect(78, "");
        let line = probe.line("XOAUTH2", "not TLS");
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        run.says("the server answered in plain text, not TLS");
        let flag = format!("--{}-endpoint", protocol.name().to_ascii_lowercase());
        let port = probe.server.port;
        run.says(&format!("{flag} {}", url(protocol, false, port)));
        run.says("the endpoint is not what its URL says");
        token_never_sent(&probe);

        // The advice works: the same port with STARTTLS logs in.
        let run = probe.test(&[&flag, &url(protocol, false, port)]);
        run.expect(0, "");
    });
}

/// A server that answers STARTTLS with a refusal although it advertised it.
#[test]
fn a_refused_starttls_stops_the_test() {
    let probe = Probe::start(Protocol::Pop, false, |s: &mut Session| {
        s.send("+OK ready");
        while let Some(line) = s.line() {
            match line.as_str() {
                "CAPA" => {
                    for reply in ["+OK", "STLS", "SASL XOAUTH2", "."] {
                        s.send(reply);
                    }
                }
                "STLS" => s.send("-ERR TLS is broken today"),
                _ => s.send("-ERR no"),
            }
        }
    });

    let run = probe.test(&[]);

    run.expect_code(69);
    run.says("no STARTTLS");
    run.says("server said: -ERR TLS is broken today");
    token_never_sent(&probe);
}

#[test]
fn a_server_that_never_greets_times_out() {
    each_case(PROTOCOLS, |protocol| {
        let probe = Probe::start(protocol, true, |s: &mut Session| s.stall());

        let run = probe.test_within("1", &[]);

        run.expect(75, "");
        let line = probe.line("XOAUTH2", "timed out");
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        run.says("no answer within 1 s");
        run.says("mailtoken: error: could not complete the test: ");
        run.no_panic();
    });
}

/// The server stops answering once it has the token: a timeout, not a refusal.
#[test]
fn a_server_that_stalls_after_the_token_times_out() {
    let stalls = xoauth2_only(Protocol::Imap, |s, _, said| match said {
        Said::Login => {
            s.stall();
            false
        }
        Said::Command(_) => true,
    });
    let probe = Probe::start(Protocol::Imap, true, stalls);

    let run = probe.test_within("1", &[]);

    run.expect_code(75);
    run.says("timed out");
    run.says("during AUTHENTICATE");
}

#[test]
fn a_garbage_greeting_is_a_clear_error() {
    each_case(PROTOCOLS, |protocol| {
        let probe = Probe::start(protocol, true, |s: &mut Session| {
            s.send("HTTP/1.1 400 Bad Request");
            s.send_raw(b"\x00\xff\xfe\x1b[31m garbage\r\n");
            s.stall();
        });

        let run = probe.test(&[]);

        run.expect(75, "");
        let line = probe.line("XOAUTH2", "bad reply");
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        assert!(
            !run.stderr.contains('\x1b'),
            "control characters are removed"
        );
        run.no_panic();
        token_never_sent(&probe);
    });
}

/// Garbage where the answer to the token belongs, for each protocol.
#[test]
fn a_garbage_answer_to_the_login_is_a_clear_error() {
    /// After the login: `garbage`, then silence. Before it: `reply` to any other command.
    fn answer(s: &mut Session, said: Said, garbage: &str, reply: Option<&str>) -> bool {
        match said {
            Said::Login => {
                s.send(garbage);
                s.stall();
                false
            }
            Said::Command(_) => {
                reply.into_iter().for_each(|reply| s.send(reply));
                true
            }
        }
    }
    let scripts: [(&str, Protocol, Answer); 3] = [
        ("IMAP", Protocol::Imap, |s, _, said| {
            answer(s, said, "\u{2603} what is this {{{ ((( \"", None)
        }),
        ("POP", Protocol::Pop, |s, _, said| {
            answer(s, said, "250 this is SMTP, not POP", Some("-ERR"))
        }),
        ("SMTP", Protocol::Smtp, |s, _, said| {
            answer(s, said, "* OK this is IMAP", Some("250 ok"))
        }),
    ];
    each_case(
        scripts.map(|(name, p, a)| (name, (p, a))),
        |(protocol, answer)| {
            let probe = Probe::start(protocol, true, xoauth2_only(protocol, answer));

            let run = probe.test(&[]);

            run.expect(75, "");
            let line = probe.line("XOAUTH2", "bad reply");
            assert!(run.stderr.starts_with(&line), "{}", run.stderr);
            run.no_panic();
        },
    );
}

/// A server that sends endless data without a line end is cut off, not buffered forever.
#[test]
fn an_endless_reply_is_cut_off() {
    let probe = Probe::start(Protocol::Pop, true, |s: &mut Session| {
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            s.send_raw(&chunk);
        }
        s.stall();
    });

    let run = probe.test(&[]);

    run.expect_code(75);
    run.says("the server sent more than 1048576 bytes");
    run.no_panic();
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_before_anything_is_sent() {
    let accepting = serving(Protocol::Imap, Behaviour::accepting(CACHED_TOKEN));
    let probe = Probe::start(Protocol::Imap, true, accepting);
    let other_ca = TestCa::new();

    // Trusting another CA: the server's certificate must not verify.
    let path = probe.path.to_str().unwrap();
    let run = run_trusting(&probe.sandbox, &other_ca, &[path, "--test"]);

    // Trying again cannot change who is trusted (issue #32): 78, naming what is trusted now.
    run.expect_code(78);
    run.says("comes from a certificate authority not trusted here");
    run.says("mailtoken trusts the system's store");
    run.says(&format!(
        "SSL_CERT_FILE ({})",
        probe.sandbox.path("test-ca.pem").display()
    ));
    run.says("a server's certificate is not trusted here: IMAP");
    assert!(
        probe.server.lines().is_empty(),
        "{:?}",
        probe.server.lines()
    );
}

#[test]
fn smtp_certificate_from_an_unknown_ca_is_refused_too() {
    let accepting = serving(Protocol::Smtp, Behaviour::accepting(CACHED_TOKEN));
    let probe = Probe::start(Protocol::Smtp, false, accepting);

    let path = probe.path.to_str().unwrap();
    let run = run_trusting(&probe.sandbox, &TestCa::new(), &[path, "--test"]);

    run.expect_code(78);
    run.says("certificate");
    token_never_sent(&probe);
}

/// Issue #32: a STARTTLS URL on a port that speaks TLS from the first byte got no greeting, waited
/// the whole timeout and exited 75. No greeting within a few seconds and a TLS handshake that
/// works say the URL is wrong: 78 at once, with the right URL, and the token never sent.
#[test]
fn a_starttls_url_on_a_tls_port_names_the_tls_url_at_once() {
    each_case(PROTOCOLS, |protocol| {
        let mut probe = Probe::start(
            protocol,
            true,
            serving(protocol, Behaviour::accepting(CACHED_TOKEN)),
        );
        probe.url = url(protocol, false, probe.server.port);
        let probe = probe.with_account(SaslMethod::Xoauth2, UNUSED_TOKEN_ENDPOINT);
        let started = std::time::Instant::now();
        let run = probe.test_within("20", &[]);
        run.expect(78, "");
        assert!(started.elapsed() < std::time::Duration::from_secs(15));
        assert!(
            run.stderr.starts_with(&probe.line("XOAUTH2", "TLS port")),
            "{}",
            run.stderr
        );
        run.says("answers a TLS handshake: it speaks TLS from the first byte");
        let flag = format!("--{}-endpoint", protocol.name().to_ascii_lowercase());
        run.says(&format!(
            "{flag} {}",
            url(protocol, true, probe.server.port)
        ));
        token_never_sent(&probe);
    });
}

/// A server that answers one byte at a time is stopped by the connection's limit on the whole
/// conversation: every read gets data in time, so per-read timeouts alone would never fire.
#[test]
fn a_trickling_server_is_cut_off() {
    let scripts: [(&str, Protocol, ScriptFn); 3] = [
        ("IMAP", Protocol::Imap, |s| {
            s.send_raw(b"* OK ");
            s.trickle();
        }),
        ("POP", Protocol::Pop, |s| {
            s.send_raw(b"+OK ");
            s.trickle();
        }),
        ("SMTP", Protocol::Smtp, |s| {
            s.send_raw(b"220 ");
            s.trickle();
        }),
    ];
    each_case(
        scripts.map(|(name, p, script)| (name, (p, script))),
        |(protocol, script)| {
            let probe = Probe::start(protocol, true, script);

            let run = probe.test_within("1", &[]);

            run.expect(75, "");
            let line = probe.line("XOAUTH2", "timed out");
            assert!(run.stderr.starts_with(&line), "{}", run.stderr);
            run.says("the conversation took longer than 4 s, the limit for one server (waiting for the greeting)");
            run.no_panic();
        },
    );
}

/// Bytes that follow the server's yes to STARTTLS arrived in the clear, from the server or from
/// someone in between; taken as if they came over TLS, an injected success would hide a refusal
/// (the class of CVE-2011-0411). The test stops before the token is sent.
#[test]
fn a_reply_injected_after_starttls_stops_the_test() {
    let scripts: [(&str, Protocol, ScriptFn); 3] = [
        ("IMAP", Protocol::Imap, |s| {
            s.send("* OK ready");
            while let Some(line) = s.line() {
                let tag = line.split(' ').next().unwrap_or("").to_string();
                if line.ends_with("CAPABILITY") {
                    let auth = if s.is_tls() {
                        "AUTH=XOAUTH2"
                    } else {
                        "STARTTLS"
                    };
                    s.send(&format!("* CAPABILITY IMAP4rev1 {auth}"));
                    s.send(&format!("{tag} OK done"));
                } else if line.ends_with("STARTTLS") {
                    s.send_raw(format!("{tag} OK go\r\na2 OK forged login\r\n").as_bytes());
                    s.start_tls();
                } else {
                    s.send(&format!("{tag} NO real refusal"));
                }
            }
        }),
        ("POP", Protocol::Pop, |s| {
            s.send("+OK ready");
            while let Some(line) = s.line() {
                match line.as_str() {
                    "CAPA" => s.send("+OK\r\nSTLS\r\nSASL XOAUTH2\r\n."),
                    "STLS" => {
                        s.send_raw(b"+OK go\r\n+OK\r\nSASL XOAUTH2\r\n.\r\n+ \r\n+OK forged\r\n");
                        s.start_tls();
                    }
                    _ => s.send("-ERR real refusal"),
                }
            }
        }),
        ("SMTP", Protocol::Smtp, |s| {
            s.send("220 ready");
            while let Some(line) = s.line() {
                if line.starts_with("EHLO") {
                    s.send("250-x\r\n250 STARTTLS");
                } else if line == "STARTTLS" {
                    s.send_raw(b"220 go\r\n250-x\r\n250 AUTH XOAUTH2\r\n235 forged success\r\n");
                    s.start_tls();
                } else {
                    s.send("535 real refusal");
                }
            }
        }),
    ];
    each_case(
        scripts.map(|(name, p, script)| (name, (p, script))),
        |(protocol, script)| {
            let probe = Probe::start(protocol, false, script);

            let run = probe.test(&[]);

            run.expect(75, "");
            run.never_says("  ok  (");
            run.says("someone may be tampering with the connection");
            token_never_sent(&probe);
            run.no_panic();
        },
    );
}
