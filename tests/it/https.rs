//! The token endpoint over real TLS: trusted through `SSL_CERT_FILE`, refused without it, and
//! never contacted in plaintext when it is an https URL.

use crate::support::mail::{MailServer, Session, TestCa};
use crate::support::{Sandbox, test_registration, token_file};
use chrono::{Duration, Utc};

/// An HTTPS token endpoint that answers every request with a new token and records the body.
fn https_token_endpoint(
    ca: &TestCa,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) -> MailServer {
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
    let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let server = https_token_endpoint(&ca, std::sync::Arc::clone(&bodies));
    let path = sandbox.path("account");
    let endpoint = format!("https://localhost:{}/token", server.port);
    sandbox.write_token(
        &path,
        &token_file(
            test_registration(&endpoint),
            sandbox.age_spec(),
            Utc::now() - Duration::minutes(1),
        ),
    );
    let before = std::fs::read(&path).unwrap();

    // Without the CA the certificate is unknown: the refresh fails and nothing is sent.
    let run = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    assert!(
        bodies.lock().unwrap().is_empty(),
        "no request got through an untrusted connection"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let ca_file = sandbox.path("ca.pem");
    ca.write_pem(&ca_file);
    let run = crate::support::Run::from(
        sandbox
            .command()
            .arg(&path)
            .env("SSL_CERT_FILE", &ca_file)
            .output()
            .unwrap(),
    );
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "over-tls\n"),
        "{}",
        run.stderr
    );
    let bodies = bodies.lock().unwrap();
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("grant_type=refresh_token"),
        "{}",
        bodies[0]
    );
}
