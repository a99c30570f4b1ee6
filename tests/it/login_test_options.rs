//! `--test` and its options: all three protocols in one run, `--protocol`, `--sasl-method`,
//! `--email`, command-line endpoints, `--debug` with the token redacted, and the servers that
//! accept the login and refuse the next command.

use std::path::PathBuf;

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::sasl::SaslMethod;

use crate::support::base64::{decode_text, encode};
use crate::support::login_test::{
    Endpoints, Probe, expected_sasl, run_trusting, sasl_lines, url, write_account,
};
use crate::support::mail::{MailServer, TestCa};
use crate::support::mail_scripts::{Answer, Behaviour, Said, serving, xoauth2_only};
use crate::support::{CACHED_TOKEN, Sandbox, UNUSED_TOKEN_ENDPOINT, each_case};

/// A server for each protocol (IMAP on implicit TLS, the others on STARTTLS) that `behaviour`
/// says how to answer, and an account with all three as its endpoints.
struct Three {
    sandbox: Sandbox,
    ca: TestCa,
    imap: MailServer,
    pop: MailServer,
    smtp: MailServer,
    endpoints: Endpoints,
    path: PathBuf,
}

impl Three {
    fn start(behaviour: Behaviour, method: SaslMethod) -> Three {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let start = |protocol, implicit| {
            MailServer::start(&ca, implicit, serving(protocol, behaviour.clone()))
        };
        let (imap, pop, smtp) = (
            start(Protocol::Imap, true),
            start(Protocol::Pop, false),
            start(Protocol::Smtp, false),
        );
        let endpoints = Endpoints {
            imap: Some(url(Protocol::Imap, true, imap.port)),
            pop: Some(url(Protocol::Pop, false, pop.port)),
            smtp: Some(url(Protocol::Smtp, false, smtp.port)),
        };
        let path = write_account(&sandbox, UNUSED_TOKEN_ENDPOINT, method, &endpoints);
        Three {
            sandbox,
            ca,
            imap,
            pop,
            smtp,
            endpoints,
            path,
        }
    }

    /// `mailtoken ACCOUNT --test ARGS`, trusting the test CA.
    fn test(&self, args: &[&str]) -> crate::support::Run {
        let account = [self.path.to_str().unwrap(), "--test"];
        run_trusting(&self.sandbox, &self.ca, &[&account, args].concat())
    }

    fn servers(&self) -> [(Protocol, &MailServer); 3] {
        [
            (Protocol::Imap, &self.imap),
            (Protocol::Pop, &self.pop),
            (Protocol::Smtp, &self.smtp),
        ]
    }
}

/// The SASL response `server` received first, decoded.
fn first_login(protocol: Protocol, server: &MailServer) -> String {
    decode_text(&sasl_lines(protocol, &server.received())[0].line)
}

#[test]
fn every_endpoint_is_tested_in_order() {
    let three = Three::start(Behaviour::accepting(CACHED_TOKEN), SaslMethod::Oauthbearer);

    let run = three.test(&[]);

    run.expect(0, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    let expected = [
        ("IMAP", &three.endpoints.imap),
        ("POP ", &three.endpoints.pop),
        ("SMTP", &three.endpoints.smtp),
    ];
    for (line, (name, url)) in lines.iter().zip(expected) {
        let prefix = format!("{name}  {}  OAUTHBEARER  ok  (", url.as_deref().unwrap());
        assert!(line.starts_with(&prefix), "{line:?} vs {prefix:?}");
    }
    for (protocol, server) in three.servers() {
        assert_eq!(
            first_login(protocol, server),
            expected_sasl(SaslMethod::Oauthbearer, server.port, CACHED_TOKEN),
            "OAUTHBEARER names each endpoint's own port"
        );
    }
}

#[test]
fn protocol_narrows_the_test_and_sasl_method_overrides() {
    let three = Three::start(Behaviour::accepting(CACHED_TOKEN), SaslMethod::Oauthbearer);

    let run = three.test(&["--protocol", "pop", "--sasl-method", "xoauth2"]);

    run.expect(0, "");
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("POP   pop3://localhost:"),
        "{}",
        run.stderr
    );
    assert!(three.imap.lines().is_empty());
    assert!(three.smtp.lines().is_empty());
    assert_eq!(
        first_login(Protocol::Pop, &three.pop),
        expected_sasl(SaslMethod::Xoauth2, three.pop.port, CACHED_TOKEN)
    );
}

#[test]
fn email_and_endpoint_from_the_command_line() {
    let accepting = serving(Protocol::Smtp, Behaviour::accepting(CACHED_TOKEN));
    let probe = Probe::start(Protocol::Smtp, true, accepting);
    // The stored endpoint points nowhere; the command line's wins.
    let nowhere = Endpoints::one(Protocol::Smtp, "smtps://localhost:9");
    write_account(
        &probe.sandbox,
        UNUSED_TOKEN_ENDPOINT,
        SaslMethod::Xoauth2,
        &nowhere,
    );

    let run = probe.test(&[
        "--smtp-endpoint",
        &probe.url,
        "--email",
        "other@example.com",
    ]);

    run.expect(0, "");
    assert_eq!(
        probe.logins()[0],
        format!("user=other@example.com\x01auth=Bearer {CACHED_TOKEN}\x01\x01")
    );
}

#[test]
fn debug_shows_the_conversation_without_the_token() {
    let three = Three::start(Behaviour::accepting(CACHED_TOKEN), SaslMethod::Xoauth2);

    let run = three.test(&["--debug"]);

    run.expect(0, "");
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
        run.says(expected);
    }
    for (_, server) in three.servers() {
        let sasl = encode(expected_sasl(
            SaslMethod::Xoauth2,
            server.port,
            CACHED_TOKEN,
        ));
        run.never_says(&sasl);
        run.never_says(&sasl[..40]);
    }
    run.never_says(CACHED_TOKEN);
}

#[test]
fn a_protocol_without_an_endpoint_is_a_configuration_error() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let imap_only = Endpoints::one(Protocol::Imap, "imaps://localhost:9");
    let path = write_account(
        &sandbox,
        UNUSED_TOKEN_ENDPOINT,
        SaslMethod::Xoauth2,
        &imap_only,
    );

    let run = run_trusting(
        &sandbox,
        &ca,
        &[path.to_str().unwrap(), "--test", "--protocol", "pop"],
    );

    run.expect_exactly(
        78,
        "",
        &format!(
            "mailtoken: error: the account has no POP endpoint to test\nhint: pass --pop-endpoint \
             URL, or record it with 'mailtoken --set {} --pop-endpoint URL'\n",
            path.display()
        ),
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
    let nothing = Endpoints::one(Protocol::Imap, &format!("imaps://127.0.0.1:{port}"));
    let path = write_account(
        &sandbox,
        UNUSED_TOKEN_ENDPOINT,
        SaslMethod::Xoauth2,
        &nothing,
    );

    let run = run_trusting(&sandbox, &ca, &[path.to_str().unwrap(), "--test"]);

    run.expect(75, "");
    assert!(
        run.stderr.starts_with(&format!(
            "IMAP  imaps://127.0.0.1:{port}  XOAUTH2  network error  ("
        )),
        "{}",
        run.stderr
    );
    run.says(&format!("connecting to 127.0.0.1 port {port}"));
}

/// Microsoft has answered OK to a bad login and refused the next command: the test goes on to
/// open the mailbox and reports that refusal.
#[test]
fn ok_to_the_login_then_a_refused_mailbox_is_a_refusal() {
    let scripts: [(&str, Protocol, Answer); 2] = [
        ("IMAP", Protocol::Imap, |s, tag, said| match said {
            Said::Login => s.reply(&format!("{tag} OK AUTHENTICATE completed."), true),
            Said::Command(line) if line.contains("EXAMINE") => s.reply(
                &format!("{tag} NO User is authenticated but not connected."),
                true,
            ),
            Said::Command(_) => s.reply(&format!("{tag} OK bye"), false),
        }),
        ("POP", Protocol::Pop, |s, _, said| match said {
            Said::Login => s.reply("+OK User successfully authenticated.", true),
            Said::Command("STAT") => s.reply("-ERR Protocol error. Connection is closed. 10", true),
            Said::Command(_) => s.reply("+OK", false),
        }),
    ];
    each_case(
        scripts.map(|(name, p, a)| (name, (p, a))),
        |(protocol, answer)| {
            let script = xoauth2_only(protocol, answer);
            let probe = Probe::start(protocol, true, script);

            let run = probe.test(&[]);

            run.expect(69, "");
            run.says("  refused  (");
            run.says("the login was accepted, then");
            run.says("likely: the server accepted the login and then refused");
        },
    );
}

/// Microsoft's tokens make a SASL line over 4 KB; no piece of it may reach the trace.
#[test]
fn debug_hides_every_piece_of_a_long_token() {
    let long_token: String = (0..5000)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[i * 7 % 36]))
        .collect();
    let three = Three::start(Behaviour::accepting(&long_token), SaslMethod::Xoauth2);
    let mut token = three.sandbox.read_token(&three.path);
    token.access_token = mailtoken::testing::secret::Secret::new(long_token.clone());
    three.sandbox.write_token(&three.path, &token);

    let run = three.test(&["--debug"]);

    run.expect(0, "");
    let sasl = encode(expected_sasl(SaslMethod::Xoauth2, 0, &long_token));
    for secret in [&sasl, &long_token] {
        for start in (0..secret.len() - 24).step_by(8) {
            let piece = &secret[start..start + 24];
            assert!(!run.stderr.contains(piece), "{piece} leaked");
        }
    }
    run.says("IMAP C: (redacted)");
}
