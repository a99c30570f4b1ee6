//! `--test` when the login cannot happen: a server without the mechanism or without STARTTLS
//! (the token is never sent), a server that stops answering (timeout, 75), garbage replies (a
//! clear error, no panic), and a certificate from an untrusted CA.

use crate::support::Sandbox;
use crate::support::mail::{
    Behaviour, CACHED_TOKEN, MailServer, ScriptFn, Session, TestCa, endpoints, run_trusting,
    run_trusting_with_timeout, server, url, write_account,
};
use mailtoken::mailserver::Protocol;
use mailtoken::sasl::SaslMethod;

const PROTOCOLS: [Protocol; 3] = [Protocol::Imap, Protocol::Pop, Protocol::Smtp];

/// A token file with one endpoint, on a token endpoint that must not be needed.
fn account(sandbox: &Sandbox, protocol: Protocol, url: String, method: SaslMethod) -> String {
    write_account(
        sandbox,
        "http://127.0.0.1:9/token",
        method,
        &endpoints(protocol, url),
    )
    .to_str()
    .unwrap()
    .to_string()
}

/// No line the server received carries the token, encoded in either mechanism or raw.
fn token_never_sent(lines: &[String]) {
    for line in lines {
        let upper = line.to_ascii_uppercase();
        assert!(
            !upper.starts_with("AUTH") && !upper.contains(" AUTHENTICATE"),
            "no login was attempted: {lines:?}"
        );
        assert!(!line.contains(CACHED_TOKEN), "{lines:?}");
        assert!(
            !crate::support::mail::b64decode(line).contains(CACHED_TOKEN),
            "{lines:?}"
        );
    }
}

fn no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("RUST_BACKTRACE"), "{stderr}");
}

#[test]
fn a_mechanism_the_server_does_not_offer_is_not_tried() {
    for protocol in PROTOCOLS {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let mut behaviour = Behaviour::accepting(CACHED_TOKEN);
        behaviour.mechanisms = vec!["PLAIN".into(), "XOAUTH2".into()];
        let server = server(&ca, protocol, true, behaviour);
        let url = url(protocol, true, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Oauthbearer);

        let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (69, ""), "{}", run.stderr);
        let line = format!(
            "{:<4}  {url}  OAUTHBEARER  mechanism not offered  (",
            protocol.name()
        );
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "the server does not offer OAUTHBEARER (it offers: PLAIN XOAUTH2); the token was not sent"
            ),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("hint: the server offers XOAUTH2: try --sasl-method XOAUTH2"),
            "{}",
            run.stderr
        );
        token_never_sent(&server.lines());
    }
}

#[test]
fn a_starttls_endpoint_without_starttls_never_gets_the_token() {
    for protocol in PROTOCOLS {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let mut behaviour = Behaviour::accepting(CACHED_TOKEN);
        behaviour.starttls = false;
        let server = server(&ca, protocol, false, behaviour);
        let url = url(protocol, false, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Xoauth2);

        let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (69, ""), "{}", run.stderr);
        let line = format!("{:<4}  {url}  XOAUTH2  no STARTTLS  (", protocol.name());
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        assert!(
            run.stderr
                .contains("the token was not sent over an unencrypted connection"),
            "{}",
            run.stderr
        );
        let received = server.received();
        assert!(!received.is_empty(), "the client did talk to the server");
        assert!(received.iter().all(|got| !got.tls));
        token_never_sent(&server.lines());
    }
}

/// A server that answers STARTTLS with a refusal although it advertised it.
#[test]
fn a_refused_starttls_stops_the_test() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = MailServer::start(&ca, false, |s: &mut Session| {
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
    let url = url(Protocol::Pop, false, server.port);
    let path = account(&sandbox, Protocol::Pop, url, SaslMethod::Xoauth2);

    let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

    assert_eq!(run.code, 69, "{}", run.stderr);
    assert!(run.stderr.contains("no STARTTLS"), "{}", run.stderr);
    assert!(
        run.stderr.contains("server said: -ERR TLS is broken today"),
        "{}",
        run.stderr
    );
    token_never_sent(&server.lines());
}

#[test]
fn a_server_that_never_greets_times_out() {
    for protocol in PROTOCOLS {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, true, |s: &mut Session| s.stall());
        let url = url(protocol, true, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Xoauth2);

        let run = run_trusting_with_timeout(&sandbox, &ca, "1", &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
        let line = format!("{:<4}  {url}  XOAUTH2  timed out  (", protocol.name());
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        assert!(
            run.stderr.contains("no answer within 1 s"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("mailtoken: error: could not complete the test: "),
            "{}",
            run.stderr
        );
        no_panic(&run.stderr);
    }
}

/// The server stops answering once it has the token: a timeout, not a refusal.
#[test]
fn a_server_that_stalls_after_the_token_times_out() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = MailServer::start(&ca, true, |s: &mut Session| {
        s.send("* OK ready");
        while let Some(line) = s.line() {
            let tag = line.split(' ').next().unwrap_or("").to_string();
            if line.contains("CAPABILITY") {
                s.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2");
                s.send(&format!("{tag} OK done"));
            } else if line.contains("AUTHENTICATE") {
                s.send("+ ");
                let _ = s.line();
                s.stall();
                return;
            }
        }
    });
    let url = url(Protocol::Imap, true, server.port);
    let path = account(&sandbox, Protocol::Imap, url, SaslMethod::Xoauth2);

    let run = run_trusting_with_timeout(&sandbox, &ca, "1", &[&path, "--test"]);

    assert_eq!(run.code, 75, "{}", run.stderr);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(run.stderr.contains("during AUTHENTICATE"), "{}", run.stderr);
}

#[test]
fn a_garbage_greeting_is_a_clear_error() {
    for protocol in PROTOCOLS {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, true, |s: &mut Session| {
            s.send("HTTP/1.1 400 Bad Request");
            s.send_raw(b"\x00\xff\xfe\x1b[31m garbage\r\n");
            s.stall();
        });
        let url = url(protocol, true, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Xoauth2);

        let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
        let line = format!("{:<4}  {url}  XOAUTH2  bad reply  (", protocol.name());
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        assert!(
            !run.stderr.contains('\x1b'),
            "control characters are removed"
        );
        no_panic(&run.stderr);
        token_never_sent(&server.lines());
    }
}

/// Garbage where the answer to the token belongs, for each protocol.
#[test]
fn a_garbage_answer_to_the_login_is_a_clear_error() {
    let scripts: [(Protocol, ScriptFn); 3] = [
        (Protocol::Imap, |s| {
            s.send("* OK ready");
            while let Some(line) = s.line() {
                let tag = line.split(' ').next().unwrap_or("").to_string();
                if line.contains("CAPABILITY") {
                    s.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2");
                    s.send(&format!("{tag} OK done"));
                } else if line.contains("AUTHENTICATE") {
                    s.send("+ ");
                    let _ = s.line();
                    s.send("\u{2603} what is this {{{ ((( \"");
                    s.stall();
                    return;
                }
            }
        }),
        (Protocol::Pop, |s| {
            s.send("+OK ready");
            while let Some(line) = s.line() {
                match line.as_str() {
                    "CAPA" => s.send("+OK\r\nSASL XOAUTH2\r\n."),
                    "AUTH XOAUTH2" => {
                        s.send("+ ");
                        let _ = s.line();
                        s.send("250 this is SMTP, not POP");
                        s.stall();
                        return;
                    }
                    _ => s.send("-ERR"),
                }
            }
        }),
        (Protocol::Smtp, |s| {
            s.send("220 ready");
            while let Some(line) = s.line() {
                if line.starts_with("EHLO") {
                    s.send("250-x\r\n250 AUTH XOAUTH2");
                } else if line.starts_with("AUTH") {
                    s.send("* OK this is IMAP");
                    s.stall();
                    return;
                } else {
                    s.send("250 ok");
                }
            }
        }),
    ];
    for (protocol, script) in scripts {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, true, script);
        let url = url(protocol, true, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Xoauth2);

        let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
        let line = format!("{:<4}  {url}  XOAUTH2  bad reply  (", protocol.name());
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        no_panic(&run.stderr);
    }
}

/// A server that sends endless data without a line end is cut off, not buffered forever.
#[test]
fn an_endless_reply_is_cut_off() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = MailServer::start(&ca, true, |s: &mut Session| {
        let chunk = vec![b'x'; 64 * 1024];
        for _ in 0..64 {
            s.send_raw(&chunk);
        }
        s.stall();
    });
    let url = url(Protocol::Pop, true, server.port);
    let path = account(&sandbox, Protocol::Pop, url, SaslMethod::Xoauth2);

    let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

    assert_eq!(run.code, 75, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the server sent more than 1048576 bytes"),
        "{}",
        run.stderr
    );
    no_panic(&run.stderr);
}

#[test]
fn a_certificate_from_an_unknown_ca_is_refused_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = server(
        &ca,
        Protocol::Imap,
        true,
        Behaviour::accepting(CACHED_TOKEN),
    );
    let url = url(Protocol::Imap, true, server.port);
    let path = account(&sandbox, Protocol::Imap, url, SaslMethod::Xoauth2);
    let other_ca = TestCa::new();

    // Trusting another CA: the server's certificate must not verify.
    let run = run_trusting(&sandbox, &other_ca, &[&path, "--test"]);

    assert_eq!(run.code, 75, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("the server's TLS certificate was not accepted"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("SSL_CERT_FILE"), "{}", run.stderr);
    assert!(server.lines().is_empty(), "{:?}", server.lines());
}

#[test]
fn smtp_certificate_from_an_unknown_ca_is_refused_too() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = server(
        &ca,
        Protocol::Smtp,
        false,
        Behaviour::accepting(CACHED_TOKEN),
    );
    let url = url(Protocol::Smtp, false, server.port);
    let path = account(&sandbox, Protocol::Smtp, url, SaslMethod::Xoauth2);

    let run = run_trusting(&sandbox, &TestCa::new(), &[&path, "--test"]);

    assert_eq!(run.code, 75, "{}", run.stderr);
    assert!(run.stderr.contains("certificate"), "{}", run.stderr);
    token_never_sent(&server.lines());
}

/// A server that answers one byte at a time is stopped by the connection's limit on the whole
/// conversation: every read gets data in time, so per-read timeouts alone would never fire.
#[test]
fn a_trickling_server_is_cut_off() {
    let message = "the conversation took longer than 4 s, the limit for one server (waiting for the greeting)";
    let scripts: [(Protocol, ScriptFn, &str); 3] = [
        (
            Protocol::Imap,
            |s| {
                s.send_raw(b"* OK ");
                s.trickle();
            },
            message,
        ),
        (
            Protocol::Pop,
            |s| {
                s.send_raw(b"+OK ");
                s.trickle();
            },
            message,
        ),
        (
            Protocol::Smtp,
            |s| {
                s.send_raw(b"220 ");
                s.trickle();
            },
            message,
        ),
    ];
    for (protocol, script, message) in scripts {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, true, script);
        let url = url(protocol, true, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Xoauth2);

        let run = run_trusting_with_timeout(&sandbox, &ca, "1", &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
        let line = format!("{:<4}  {url}  XOAUTH2  timed out  (", protocol.name());
        assert!(run.stderr.starts_with(&line), "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
        no_panic(&run.stderr);
    }
}

/// Bytes that follow the server's yes to STARTTLS arrived in the clear, from the server or from
/// someone in between; taken as if they came over TLS, an injected success would hide a refusal
/// (the class of CVE-2011-0411). The test stops before the token is sent.
#[test]
fn a_reply_injected_after_starttls_stops_the_test() {
    let scripts: [(Protocol, ScriptFn); 3] = [
        (Protocol::Imap, |s| {
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
        (Protocol::Pop, |s| {
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
        (Protocol::Smtp, |s| {
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
    for (protocol, script) in scripts {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, false, script);
        let url = url(protocol, false, server.port);
        let path = account(&sandbox, protocol, url.clone(), SaslMethod::Xoauth2);

        let run = run_trusting(&sandbox, &ca, &[&path, "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
        assert!(!run.stderr.contains("  ok  ("), "{}", run.stderr);
        if protocol != Protocol::Imap {
            // IMAP reads the STARTTLS reply a byte at a time: the injected bytes reach the TLS
            // handshake, which fails on them.
            assert!(
                run.stderr
                    .contains("someone may be tampering with the connection"),
                "{}",
                run.stderr
            );
        }
        token_never_sent(&server.lines());
        no_panic(&run.stderr);
    }
}
