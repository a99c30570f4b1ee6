//! The token endpoint over real TLS: trusted through `SSL_CERT_FILE`, refused without it, and
//! never contacted in plaintext when it is an https URL; `SSL_CERT_FILE` adds to the system's
//! roots rather than replacing them.

use std::sync::{Arc, Mutex};

use crate::support::mail::{MailServer, Session, TestCa};
use crate::support::{Sandbox, Snapshot, minutes_from_now};

/// An HTTPS token endpoint that answers every request with a new token and records the body.
fn https_token_endpoint(ca: &TestCa, bodies: Arc<Mutex<Vec<String>>>) -> MailServer {
    MailServer::start(ca, true, move |session: &mut Session| {
        // No request line: the client refused the handshake.
        let Some(_request_line) = session.line() else {
            return;
        };
        let mut length = 0;
        while let Some(line) = session.line() {
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let body = session.bytes(length);
        bodies
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&body).into_owned());
        let json = r#"{"access_token":"over-tls","token_type":"Bearer","expires_in":3600}"#;
        session.send_raw(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                json.len()
            )
            .as_bytes(),
        );
    })
}

#[test]
fn an_https_token_endpoint_is_trusted_through_ssl_cert_file_and_only_then() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let server = https_token_endpoint(&ca, Arc::clone(&bodies));
    let endpoint = format!("https://localhost:{}/token", server.port);
    let path = sandbox.account(&endpoint, minutes_from_now(-1));
    let before = Snapshot::of(&path);

    // Without the CA the certificate is unknown: the refresh fails and nothing is sent. Trying
    // again cannot help, so it is a configuration error (78) that names where trust comes from.
    let run = sandbox.run(&[&path]);
    run.expect(78, "");
    run.says("its certificate comes from an authority not trusted here");
    run.says("SSL_CERT_FILE (not set)");
    run.says("the system's store");
    assert!(
        bodies.lock().unwrap().is_empty(),
        "no request got through an untrusted connection"
    );
    before.unchanged();

    let ca_file = sandbox.path("ca.pem");
    ca.write_pem(&ca_file);
    let run = sandbox.run_with(&[&path], &[("SSL_CERT_FILE", ca_file.to_str().unwrap())]);
    run.expect(0, "over-tls\n");
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("grant_type=refresh_token"),
        "{}",
        bodies[0]
    );
}

/// The README's promise for private CAs: `SSL_CERT_FILE` is trusted in addition to the system's
/// bundle, which rustls-native-certs alone would drop when the variable is set.
#[test]
fn ssl_cert_file_adds_to_the_system_roots() {
    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let ca_file = sandbox.path("ca.pem");
    ca.write_pem(&ca_file);
    let server = https_token_endpoint(&ca, Arc::new(Mutex::new(Vec::new())));
    let endpoint = format!("https://localhost:{}/token", server.port);
    let path = sandbox.account(&endpoint, minutes_from_now(-1));

    let run = sandbox.run_with(
        &["-d", path.to_str().unwrap()],
        &[("SSL_CERT_FILE", ca_file.to_str().unwrap())],
    );

    run.expect(0, "over-tls\n");
    run.says("1 from SSL_CERT_FILE and SSL_CERT_DIR");
    let system = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ]
    .into_iter()
    .find(|bundle| std::path::Path::new(bundle).exists());
    match system {
        Some(bundle) => run.says(&format!(" from {bundle}")),
        None => eprintln!("no system CA bundle on this machine: only SSL_CERT_FILE was checked"),
    }
}

/// A refresh reads the trusted certificates at most once (they were read twice, once for the
/// client of the world outside and once for loopback's), and not at all for a plain-http
/// loopback endpoint, which can verify none (issue 37, item 7). `--debug` says each reading.
#[test]
fn a_refresh_reads_the_trusted_certificates_once_and_for_plain_http_never() {
    let readings = |stderr: &str| stderr.matches("CA certificates").count();

    let sandbox = Sandbox::new();
    let ca = TestCa::new();
    let server = https_token_endpoint(&ca, Arc::new(Mutex::new(Vec::new())));
    let endpoint = format!("https://localhost:{}/token", server.port);
    let path = sandbox.account(&endpoint, minutes_from_now(-1));
    let ca_file = sandbox.path("ca.pem");
    ca.write_pem(&ca_file);
    let run = sandbox.run_with(
        &[path.to_str().unwrap(), "--debug"],
        &[("SSL_CERT_FILE", ca_file.to_str().unwrap())],
    );
    run.expect(0, "over-tls\n");
    assert_eq!(readings(&run.stderr), 1, "{}", run.stderr);

    // Variables that name the system's own bundle and its directory (as some environments set
    // them) read the one bundle file, not the directory's hundreds of files again.
    let bundle = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .into_iter()
    .find(|bundle| std::path::Path::new(bundle).exists());
    if let Some(bundle) = bundle {
        let dir = std::path::Path::new(bundle).parent().unwrap();
        let run = sandbox.run_with(
            &[path.to_str().unwrap(), "--debug", "--force-refresh"],
            &[
                ("SSL_CERT_FILE", bundle),
                ("SSL_CERT_DIR", dir.to_str().unwrap()),
            ],
        );
        run.expect(78, "");
        assert_eq!(readings(&run.stderr), 1, "{}", run.stderr);
        run.says("CA certificates: ");
        assert!(!run.stderr.contains("SSL_CERT_DIR"), "{}", run.stderr);
    }

    let server = crate::support::FakeServer::answering(crate::support::Reply::token(
        "over-http",
        None,
        3600,
    ));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    let run = sandbox.run(&[path.to_str().unwrap(), "--debug"]);
    run.expect(0, "over-http\n");
    assert!(run.stderr.contains("refresh"), "{}", run.stderr);
    assert_eq!(readings(&run.stderr), 0, "{}", run.stderr);
}
