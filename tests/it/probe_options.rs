//! `--test` and its options: all three protocols in one run, `--protocol`, `--sasl-method`,
//! `--email`, command-line endpoints, `--debug` with the token redacted, and the servers that
//! accept the login and refuse the next command.

use crate::support::Sandbox;
use crate::support::mail::{
    Behaviour, CACHED_TOKEN, Endpoints, MailServer, ScriptFn, TestCa, b64, b64decode, endpoints,
    expected_sasl, run_trusting, sasl_lines, server, url, write_account,
};
use mailtoken::mailserver::Protocol;
use mailtoken::sasl::SaslMethod;

struct Three {
    imap: MailServer,
    pop: MailServer,
    smtp: MailServer,
    endpoints: Endpoints,
}

fn three_servers(ca: &TestCa, behaviour: Behaviour) -> Three {
    let imap = server(ca, Protocol::Imap, true, behaviour.clone());
    let pop = server(ca, Protocol::Pop, false, behaviour.clone());
    let smtp = server(ca, Protocol::Smtp, false, behaviour);
    let endpoints = Endpoints {
        imap: Some(url(Protocol::Imap, true, imap.port)),
        pop: Some(url(Protocol::Pop, false, pop.port)),
        smtp: Some(url(Protocol::Smtp, false, smtp.port)),
    };
    Three {
        imap,
        pop,
        smtp,
        endpoints,
    }
}

#[test]
fn every_endpoint_is_tested_in_order() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let servers = three_servers(&ca, Behaviour::accepting(CACHED_TOKEN));
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Oauthbearer,
        &servers.endpoints,
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    let expected = [
        ("IMAP", &servers.endpoints.imap),
        ("POP ", &servers.endpoints.pop),
        ("SMTP", &servers.endpoints.smtp),
    ];
    for (line, (name, url)) in lines.iter().zip(expected) {
        let prefix = format!("{name}  {}  OAUTHBEARER  ok  (", url.as_deref().unwrap());
        assert!(line.starts_with(&prefix), "{line:?} vs {prefix:?}");
    }
    for (protocol, server) in [
        (Protocol::Imap, &servers.imap),
        (Protocol::Pop, &servers.pop),
        (Protocol::Smtp, &servers.smtp),
    ] {
        let sasl = sasl_lines(protocol, &server.received());
        assert_eq!(
            b64decode(&sasl[0].line),
            expected_sasl(SaslMethod::Oauthbearer, server.port, CACHED_TOKEN),
            "OAUTHBEARER names each endpoint's own port"
        );
    }
}

#[test]
fn protocol_narrows_the_test_and_sasl_method_overrides() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let servers = three_servers(&ca, Behaviour::accepting(CACHED_TOKEN));
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Oauthbearer,
        &servers.endpoints,
    );

    let run = run_trusting(
        &sandbox,
        &ca,
        &[
            path.to_str().unwrap(),
            "--test",
            "--protocol",
            "pop",
            "--sasl-method",
            "xoauth2",
        ],
    );

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("POP   pop3://localhost:"),
        "{}",
        run.stderr
    );
    assert!(servers.imap.lines().is_empty());
    assert!(servers.smtp.lines().is_empty());
    let sasl = sasl_lines(Protocol::Pop, &servers.pop.received());
    assert_eq!(
        b64decode(&sasl[0].line),
        expected_sasl(SaslMethod::Xoauth2, servers.pop.port, CACHED_TOKEN)
    );
}

#[test]
fn email_and_endpoint_from_the_command_line() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = server(
        &ca,
        Protocol::Smtp,
        true,
        Behaviour::accepting(CACHED_TOKEN),
    );
    // The stored endpoint points nowhere; the command line's wins.
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Smtp, "smtps://localhost:9".into()),
    );
    let given = url(Protocol::Smtp, true, server.port);

    let run = run_trusting(
        &sandbox,
        &ca,
        &[
            path.to_str().unwrap(),
            "--test",
            "--smtp-endpoint",
            &given,
            "--email",
            "other@example.com",
        ],
    );

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let sasl = sasl_lines(Protocol::Smtp, &server.received());
    assert_eq!(
        b64decode(&sasl[0].line),
        format!("user=other@example.com\x01auth=Bearer {CACHED_TOKEN}\x01\x01")
    );
}

#[test]
fn debug_shows_the_conversation_without_the_token() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let servers = three_servers(&ca, Behaviour::accepting(CACHED_TOKEN));
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Xoauth2,
        &servers.endpoints,
    );

    let run = run_trusting(
        &sandbox,
        &ca,
        &[path.to_str().unwrap(), "--test", "--debug"],
    );

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    for expected in [
        "IMAP C: a2 AUTHENTICATE XOAUTH2",
        "IMAP C: (redacted)",
        "IMAP S: a2 OK Logged in",
        "POP C: STLS",
        "POP C: AUTH XOAUTH2",
        "POP C: (redacted)",
        "POP S: +OK 2 320",
        "SMTP C: STARTTLS",
        "SMTP C: AUTH XOAUTH2 (redacted)",
        "SMTP S: 235 2.7.0 Authentication successful",
        "certificate verified",
    ] {
        assert!(
            run.stderr.contains(expected),
            "{expected:?} in {}",
            run.stderr
        );
    }
    for port in [servers.imap.port, servers.pop.port, servers.smtp.port] {
        let sasl = b64(expected_sasl(SaslMethod::Xoauth2, port, CACHED_TOKEN).as_bytes());
        assert!(!run.stderr.contains(&sasl), "{}", run.stderr);
        assert!(!run.stderr.contains(&sasl[..40]), "{}", run.stderr);
    }
    assert!(!run.stderr.contains(CACHED_TOKEN), "{}", run.stderr);
}

#[test]
fn a_protocol_without_an_endpoint_is_a_configuration_error() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Imap, "imaps://localhost:9".into()),
    );

    let run = run_trusting(
        &sandbox,
        &ca,
        &[path.to_str().unwrap(), "--test", "--protocol", "pop"],
    );

    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (
            78,
            "",
            "mailtoken: error: the account has no POP endpoint to test\nhint: pass --pop-endpoint URL\n"
        )
    );
}

#[test]
fn nothing_listening_is_a_network_error() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Xoauth2,
        &endpoints(Protocol::Imap, format!("imaps://127.0.0.1:{port}")),
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "IMAP  imaps://127.0.0.1:{port}  XOAUTH2  network error  ("
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("connecting to 127.0.0.1 port {port}")),
        "{}",
        run.stderr
    );
}

/// Microsoft has answered OK to a bad login and refused the next command: the test goes on to
/// open the mailbox and reports that refusal.
#[test]
fn ok_to_the_login_then_a_refused_mailbox_is_a_refusal() {
    let scripts: [(Protocol, ScriptFn); 2] = [
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
                    s.send(&format!("{tag} OK AUTHENTICATE completed."));
                } else if line.contains("EXAMINE") {
                    s.send(&format!(
                        "{tag} NO User is authenticated but not connected."
                    ));
                } else {
                    s.send(&format!("{tag} OK bye"));
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
                        s.send("+OK User successfully authenticated.");
                    }
                    "STAT" => s.send("-ERR Protocol error. Connection is closed. 10"),
                    _ => {
                        s.send("+OK");
                        return;
                    }
                }
            }
        }),
    ];
    for (protocol, script) in scripts {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, true, script);
        let path = write_account(
            &sandbox,
            "http://127.0.0.1:9/token",
            SaslMethod::Xoauth2,
            &endpoints(protocol, url(protocol, true, server.port)),
        );

        let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

        assert_eq!((run.code, run.stdout.as_str()), (69, ""), "{}", run.stderr);
        assert!(run.stderr.contains("  refused  ("), "{}", run.stderr);
        assert!(
            run.stderr.contains("the login was accepted, then"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("likely: the server accepted the login and then refused"),
            "{}",
            run.stderr
        );
    }
}

/// Microsoft's tokens make a SASL line over 4 KB; no piece of it may reach the trace.
#[test]
fn debug_hides_every_piece_of_a_long_token() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let long_token: String = (0..5000)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36]))
        .collect();
    let servers = three_servers(&ca, Behaviour::accepting(&long_token));
    let path = write_account(
        &sandbox,
        "http://127.0.0.1:9/token",
        SaslMethod::Xoauth2,
        &servers.endpoints,
    );
    let mut token = sandbox.read_token(&path);
    token.access_token = mailtoken::secret::Secret::new(long_token.clone());
    sandbox.write_token(&path, &token);

    let run = run_trusting(
        &sandbox,
        &ca,
        &[path.to_str().unwrap(), "--test", "--debug"],
    );

    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let sasl = b64(expected_sasl(SaslMethod::Xoauth2, 0, &long_token).as_bytes());
    for secret in [&sasl, &long_token] {
        for start in (0..secret.len() - 24).step_by(8) {
            let piece = &secret[start..start + 24];
            assert!(!run.stderr.contains(piece), "{piece} leaked");
        }
    }
    assert!(run.stderr.contains("IMAP C: (redacted)"), "{}", run.stderr);
}
