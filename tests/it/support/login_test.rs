//! The `--test` setups: accounts whose mail endpoints are fake servers, runs that trust the
//! test CA, the exact SASL bytes a login must carry, and `Probe`, one fake server with an
//! account whose only endpoint it is.

use std::path::PathBuf;

use mailtoken::testing::mailserver::{MailEndpoint, Protocol};
use mailtoken::testing::sasl::SaslMethod;

use super::mail::{Got, MailServer, Session, TestCa};
use super::sandbox::{Run, Sandbox};
use super::tokens::{UNUSED_TOKEN_ENDPOINT, minutes_from_now, test_registration, token_file};

/// Where each protocol's fake server listens, as endpoint URLs.
#[derive(Default)]
pub struct Endpoints {
    pub imap: Option<String>,
    pub pop: Option<String>,
    pub smtp: Option<String>,
}

impl Endpoints {
    /// Only `protocol`'s, at `url`.
    pub fn one(protocol: Protocol, url: &str) -> Endpoints {
        let mut endpoints = Endpoints::default();
        let url = Some(url.to_string());
        match protocol {
            Protocol::Imap => endpoints.imap = url,
            Protocol::Pop => endpoints.pop = url,
            Protocol::Smtp => endpoints.smtp = url,
        }
        endpoints
    }
}

/// Writes a valid (cached, 30 minutes left) token file for `user@example.com` whose registration
/// points at `endpoints`, with the token endpoint at `token_endpoint`.
pub fn write_account(
    sandbox: &Sandbox,
    token_endpoint: &str,
    method: SaslMethod,
    endpoints: &Endpoints,
) -> PathBuf {
    let mut registration = test_registration(token_endpoint);
    registration.sasl_method = method;
    let parse = |protocol, url: &Option<String>| {
        url.as_deref()
            .map(|url| MailEndpoint::parse(protocol, url).expect("endpoint URL"))
    };
    registration.imap_endpoint = parse(Protocol::Imap, &endpoints.imap);
    registration.pop_endpoint = parse(Protocol::Pop, &endpoints.pop);
    registration.smtp_endpoint = parse(Protocol::Smtp, &endpoints.smtp);
    let token = token_file(registration, sandbox.age_spec(), minutes_from_now(30));
    sandbox.save("account", &token)
}

/// Runs the binary trusting the test CA. The mail timeout is generous, so a busy machine does
/// not turn a working server into a timeout.
pub fn run_trusting(sandbox: &Sandbox, ca: &TestCa, args: &[&str]) -> Run {
    run_trusting_with_timeout(sandbox, ca, "10", args)
}

/// Runs the binary trusting the test CA, with `MAILTOKEN_MAIL_TIMEOUT` set to `seconds`.
pub fn run_trusting_with_timeout(
    sandbox: &Sandbox,
    ca: &TestCa,
    seconds: &str,
    args: &[&str],
) -> Run {
    let ca_path = sandbox.path("test-ca.pem");
    ca.write_pem(&ca_path);
    Run::of(
        sandbox
            .command()
            .env("SSL_CERT_FILE", &ca_path)
            .env("MAILTOKEN_MAIL_TIMEOUT", seconds)
            .args(args),
    )
}

/// The exact raw SASL response for `token` at `localhost:port`, as the tests expect it.
pub fn expected_sasl(method: SaslMethod, port: u16, token: &str) -> String {
    match method {
        SaslMethod::Xoauth2 => {
            format!("user=user@example.com\x01auth=Bearer {token}\x01\x01")
        }
        SaslMethod::Oauthbearer => format!(
            "n,a=user@example.com,\x01host=localhost\x01port={port}\x01auth=Bearer {token}\x01\x01"
        ),
    }
}

/// The endpoint URL of a fake server at `localhost:port`: implicit TLS or STARTTLS.
pub fn url(protocol: Protocol, implicit: bool, port: u16) -> String {
    let scheme = match (protocol, implicit) {
        (Protocol::Imap, true) => "imaps",
        (Protocol::Imap, false) => "imap",
        (Protocol::Pop, true) => "pop3s",
        (Protocol::Pop, false) => "pop3",
        (Protocol::Smtp, true) => "smtps",
        (Protocol::Smtp, false) => "smtp",
    };
    format!("{scheme}://localhost:{port}")
}

/// The lines that carried a SASL initial response, with how they arrived.
pub fn sasl_lines(protocol: Protocol, received: &[Got]) -> Vec<Got> {
    let mut found = Vec::new();
    for (i, got) in received.iter().enumerate() {
        let upper = got.line.to_ascii_uppercase();
        match protocol {
            // With SASL-IR (RFC 4959) the response is the AUTHENTICATE line's last word.
            Protocol::Imap if upper.contains(" AUTHENTICATE ") => {
                match got.line.split(' ').nth(3) {
                    Some(initial) => found.push(Got {
                        line: initial.to_string(),
                        ..got.clone()
                    }),
                    None => found.extend(received.get(i + 1).cloned()),
                }
            }
            Protocol::Pop if upper.starts_with("AUTH ") => {
                found.extend(received.get(i + 1).cloned())
            }
            Protocol::Smtp if upper.starts_with("AUTH ") => found.push(Got {
                line: got.line.split(' ').nth(2).unwrap_or("").to_string(),
                ..got.clone()
            }),
            _ => {}
        }
    }
    found
}

/// One `--test` setup: a fake server for one protocol, and an account whose only endpoint it is.
pub struct Probe {
    pub sandbox: Sandbox,
    pub ca: TestCa,
    pub server: MailServer,
    pub protocol: Protocol,
    pub url: String,
    pub path: PathBuf,
}

impl Probe {
    /// `script` serves `protocol` on implicit TLS (`implicit`) or STARTTLS; the account logs in
    /// with XOAUTH2 and must not need a refresh.
    pub fn start(
        protocol: Protocol,
        implicit: bool,
        script: impl Fn(&mut Session) + Send + Sync + 'static,
    ) -> Probe {
        let sandbox = Sandbox::new();
        let ca = TestCa::new();
        let server = MailServer::start(&ca, implicit, script);
        let url = url(protocol, implicit, server.port);
        let path = sandbox.path("account");
        Probe {
            sandbox,
            ca,
            server,
            protocol,
            url,
            path,
        }
        .with_account(SaslMethod::Xoauth2, UNUSED_TOKEN_ENDPOINT)
    }

    /// The account (re)written to log in with `method` and refresh at `token_endpoint`.
    pub fn with_account(self, method: SaslMethod, token_endpoint: &str) -> Probe {
        let endpoints = Endpoints::one(self.protocol, &self.url);
        write_account(&self.sandbox, token_endpoint, method, &endpoints);
        self
    }

    /// `mailtoken ACCOUNT --test ARGS`, trusting the test CA.
    pub fn test(&self, args: &[&str]) -> Run {
        self.test_within("10", args)
    }

    /// The same with `MAILTOKEN_MAIL_TIMEOUT` set to `seconds`.
    pub fn test_within(&self, seconds: &str, args: &[&str]) -> Run {
        let account = [self.path.to_str().unwrap(), "--test"];
        run_trusting_with_timeout(&self.sandbox, &self.ca, seconds, &[&account, args].concat())
    }

    /// How the report's line for this endpoint starts: `PROTO  URL  METHOD  OUTCOME  (`.
    pub fn line(&self, method: &str, outcome: &str) -> String {
        format!(
            "{:<4}  {}  {method}  {outcome}  (",
            self.protocol.name(),
            self.url
        )
    }

    /// The SASL responses the server received, decoded.
    pub fn logins(&self) -> Vec<String> {
        sasl_lines(self.protocol, &self.server.received())
            .iter()
            .map(|got| super::base64::decode_text(&got.line))
            .collect()
    }
}
