//! The words a newcomer reads (issue #23): network failures said once, with the host and port;
//! an https:// URL to a server without TLS is a configuration error; times to the second with
//! the zone; where `--authorize` saved the account; what `--json` goes with.

use std::time::Duration;

use crate::support::*;

/// reqwest's layers and the OS's numbers, which a message must not repeat.
const CHAIN_WORDS: [&str; 5] = [
    "error sending request",
    "client error",
    "tcp connect error",
    "os error",
    "dns error",
];

/// An account whose access token expired a minute ago, refreshing at `token_endpoint`.
fn expired_at(token_endpoint: &str) -> (Sandbox, std::path::PathBuf) {
    let sandbox = Sandbox::new();
    let path = sandbox.account(token_endpoint, minutes_from_now(-1));
    (sandbox, path)
}

/// A loopback port nothing listens on: bound, then let go.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A plain-HTTP server as real ones are to a TLS client: the ClientHello is no request line,
/// so it answers 400 and closes. Reconstructed from RFC 9112 section 3 ("Recipients of an
/// invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301 (Moved
/// Permanently) redirect"); tiny_http would wait for a line end that never comes. Its address.
fn plain_http_server() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut connection in listener.incoming().flatten() {
            let mut hello = [0; 1024];
            let _ = connection.read(&mut hello);
            let _ = connection.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    address
}

fn says_it_once(run: &Run) {
    for words in CHAIN_WORDS {
        run.never_says(words);
    }
    let errors = run.stderr.matches("mailtoken: error:").count();
    assert_eq!(errors, 1, "{}", run.stderr);
}

#[test]
fn a_refused_connection_is_said_once_with_the_host_and_port() {
    let port = closed_port();
    let (sandbox, path) = expired_at(&format!("http://127.0.0.1:{port}/token"));
    let before = Snapshot::of(&path);

    let run = sandbox.run(&[&path]);

    run.expect(75, "");
    run.says(&format!(
        "error: the refresh token request failed: cannot connect to 127.0.0.1:{port}: connection refused"
    ));
    says_it_once(&run);
    before.unchanged();
}

#[test]
fn a_server_that_never_answers_is_a_timeout_naming_it() {
    let server =
        FakeServer::answering(Reply::token("late", None, 3600).delayed(Duration::from_secs(8)));
    let (sandbox, path) = expired_at(&server.token_endpoint());
    let address = server.url.trim_start_matches("http://");

    let run = sandbox.run_with(&[&path], &[("MAILTOKEN_HTTP_TIMEOUT", "1")]);

    run.expect(75, "");
    run.says(&format!(
        "{address} timed out: no complete answer within 1 s"
    ));
    says_it_once(&run);
}

/// RFC 6761 section 6.4: `.invalid` names never resolve, so the lookup fails wherever it is
/// asked (NXDOMAIN from a resolver, or at once on a machine without one).
#[test]
fn a_name_that_does_not_resolve_is_a_dns_failure_naming_it() {
    let (sandbox, path) = expired_at("https://token.mailtoken.invalid/token");

    let run = sandbox.run_with(&[&path], &[("RES_OPTIONS", "timeout:1 attempts:1")]);

    run.expect(75, "");
    run.says("cannot find the address of token.mailtoken.invalid: ");
    says_it_once(&run);
}

/// An https:// token endpoint on a plain-HTTP port: rustls reads "HTTP/1.1 400" where a TLS
/// record should be ("received corrupt message of type InvalidContentType"). Retrying cannot
/// help, so it is a configuration error (78) that names the scheme.
#[test]
fn an_https_url_to_a_plain_http_server_is_a_configuration_error() {
    let address = plain_http_server();
    let (sandbox, path) = expired_at(&format!("https://{address}/token"));
    let before = Snapshot::of(&path);

    let run = sandbox.run(&[&path]);

    run.expect(78, "");
    run.says(&format!(
        "{address} does not speak TLS; is the URL http:// rather than https://?"
    ));
    run.never_says("InvalidContentType");
    says_it_once(&run);
    before.unchanged();
}

#[test]
fn an_https_issuer_on_a_plain_http_port_is_a_configuration_error() {
    let sandbox = Sandbox::new();
    let address = plain_http_server();
    let mut args = strings(&["acct", "--authorize", "--authflow", "clientcredentials"]);
    args.extend(strings(&SERVICE));
    args.extend(strings(&[
        "--provider",
        "example",
        "--issuer",
        &format!("https://{address}"),
    ]));

    let run = sandbox.run(&args);

    run.expect(78, "");
    run.says(&format!(
        "cannot discover the endpoints of https://{address}: {address} does not speak TLS; is \
         the URL http:// rather than https://?"
    ));
    assert_eq!(
        run.stderr.matches("TLS").count(),
        1,
        "said once: {}",
        run.stderr
    );
    run.never_says("InvalidContentType");
    says_it_once(&run);
    assert!(!sandbox.accounts_dir().join("acct").exists());
}

#[test]
fn an_untrusted_certificate_names_the_host_and_ssl_cert_file() {
    let ca = crate::support::mail::TestCa::new();
    // Reading drives the handshake, which the client ends at the certificate.
    let server = crate::support::mail::MailServer::start(&ca, true, |session| {
        let _ = session.line();
    });
    let (sandbox, path) = expired_at(&format!("https://localhost:{}/token", server.port));

    let run = sandbox.run(&[&path]);

    // Retrying cannot help: 78, at once, naming the trust to change (issue 32, item 7).
    run.expect(78, "");
    run.says(&format!(
        "the TLS handshake with localhost:{} failed: its certificate comes from an authority \
         not trusted here",
        server.port
    ));
    run.says("SSL_CERT_FILE");
    says_it_once(&run);
}

/// `-v` shows the new token's expiry to the second, in local time with the zone's offset, as
/// `--status` does (the sandbox's zone is UTC).
#[test]
fn verbose_times_are_to_the_second_with_the_zone() {
    let server = FakeServer::answering(Reply::token("fresh", None, 3600));
    let (sandbox, path) = expired_at(&server.token_endpoint());

    let run = sandbox.run(&["-v", path.to_str().unwrap()]);

    run.expect(0, "fresh\n");
    let line = run
        .stderr
        .lines()
        .find(|line| line.contains("valid until "))
        .unwrap_or_else(|| panic!("no expiry in:\n{}", run.stderr));
    let shown = line.split("valid until ").nth(1).unwrap();
    let parsed = chrono::DateTime::parse_from_str(shown, "%Y-%m-%d %H:%M:%S %:z")
        .unwrap_or_else(|e| panic!("{shown:?} is not to the second with a zone: {e}"));
    assert_eq!(shown, parsed.format("%Y-%m-%d %H:%M:%S +00:00").to_string());
}

/// A sign-in ends by saying where the account was saved, on stderr; stdout is the token alone.
#[test]
fn authorize_ends_by_saying_where_the_account_was_saved() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::for_service();
    let path = sandbox.path("service");
    let args = provider.sign_in(&path, "clientcredentials", &SERVICE, &[]);
    // A PATH with no mail client, then one with neomutt: the next steps name what is there.
    let bin = sandbox.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let bin = bin.to_str().unwrap().to_string();

    let run = sandbox.run_with(&args, &[("PATH", &bin)]);

    run.expect(0, "access-from-client-credentials\n");
    let shown = path.display().to_string();
    let tail: Vec<&str> = run.stderr.lines().rev().take(3).collect();
    assert_eq!(
        tail,
        [
            format!(
                "mailtoken: then configure a mail client: mailtoken --print-config CLIENT \
                 {shown} (CLIENT: neomutt, mutt, msmtp, mbsync, aerc, offlineimap, getmail)"
            ),
            format!("mailtoken: next, check the login: mailtoken {shown} --test"),
            format!("mailtoken: signed in; saved to {shown}"),
        ],
        "{}",
        run.stderr
    );

    let neomutt = sandbox.path("bin/neomutt");
    std::fs::write(&neomutt, "#!/bin/sh\n").unwrap();
    set_mode(&neomutt, 0o755);
    let run = sandbox.run_with(&args, &[("PATH", &bin)]);
    run.expect_code(0);
    assert_eq!(
        run.stderr.lines().last(),
        Some(format!("    mailtoken --print-config neomutt {shown}").as_str()),
        "{}",
        run.stderr
    );
}

/// `--json` alone, or with an action it does not go with, says what it goes with; clap's
/// generic "required arguments" text would have won, as TOKENFILE was required first.
#[test]
fn json_alone_says_what_it_goes_with() {
    let sandbox = Sandbox::new();
    let cases: [&[&str]; 3] = [&["--json"], &["--json", "--check"], &["--json", "acct"]];
    each_case(cases.map(|args| (format!("{args:?}"), args)), |args| {
        let run = sandbox.run(args);
        run.expect_exactly(
            64,
            "",
            "mailtoken: error: --json goes with --list, --status or --admin-request\n",
        );
    });
    // With --status, TOKENFILE is still required.
    let run = sandbox.run(&["--json", "--status"]);
    run.expect(64, "");
    run.says("<TOKENFILE>");
}
