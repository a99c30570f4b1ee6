//! The SMTP login test with lettre: greeting and EHLO, STARTTLS when the endpoint asks for it
//! (RFC 3207), EHLO again, AUTH with the token as initial response (RFC 4954), QUIT. No mail is
//! sent.
//!
//! lettre connects, reads replies and upgrades to TLS, with its timeout on every connect, read
//! and write. Three steps are done here instead, through its raw `command`:
//! - the AUTH exchange: lettre's mechanisms do not include OAUTHBEARER, and its XOAUTH2 cannot
//!   answer a failure challenge with the empty line the server waits for;
//! - the mechanism check: lettre's parsed EHLO keeps only the mechanisms it knows, so the AUTH
//!   line is read from one more EHLO reply (RFC 5321 section 4.1.4 allows repeating EHLO);
//! - the `--debug` trace: lettre only traces through `tracing`, which would show the token, so
//!   the commands and replies are traced here, redacted.
//!
//! lettre builds its own rustls configuration; it is given exactly the roots of
//! [`crate::tls::trusted_certificates`], and the ring provider, so SMTP trusts what IMAP, POP
//! and HTTPS trust. Verification is never relaxed.

use std::fmt;

use lettre::transport::smtp::client::{
    Certificate, CertificateStore, SmtpConnection, TlsParameters,
};
use lettre::transport::smtp::commands::{Ehlo, Quit};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use rustls::RootCertStore;

use super::challenge::{self, Challenge};
use super::connection::{self, SharedTranscript, io_failure};
use super::{Attempt, Failure, Kind};
use crate::sasl;
use crate::secret::Secret;

/// A failure challenge is answered at most this often.
const MAX_CHALLENGES: usize = 3;

/// One command line; `Display` is what lettre's `command` sends.
struct Line<'a>(&'a str);

impl fmt::Display for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\r\n", self.0)
    }
}

struct Smtp<'a> {
    connection: SmtpConnection,
    transcript: SharedTranscript,
    attempt: &'a Attempt,
}

impl Smtp<'_> {
    /// Sends one command, traced with secrets redacted, and returns the positive reply.
    fn command(&mut self, command: impl fmt::Display, doing: &str) -> Result<Response, Failure> {
        let text = command.to_string();
        self.transcript.borrow().note(format!(
            "C: {}",
            self.transcript.borrow().redact(text.trim_end())
        ));
        match self.connection.command(&text) {
            Ok(response) => {
                self.trace_reply(&reply_text(&response));
                Ok(response)
            }
            Err(error) => {
                let failure = failure(&error, doing, self.attempt);
                if let Some(reply) = &failure.reply {
                    self.trace_reply(reply);
                }
                Err(failure)
            }
        }
    }

    fn trace_reply(&self, reply: &str) {
        let transcript = self.transcript.borrow();
        transcript.note(format!("S: {}", transcript.redact(reply)));
    }

    fn quit(&mut self) {
        if let Err(failure) = self.command(Quit, "closing the session") {
            self.transcript.borrow().note(format!(
                "QUIT did not complete cleanly: {}",
                failure.message
            ));
        }
    }
}

/// A reply as one line: `235 2.7.0 Accepted`.
fn reply_text(response: &Response) -> String {
    let message: Vec<&str> = response.message().collect();
    format!("{} {}", response.code(), message.join(" / "))
        .trim_end()
        .to_string()
}

/// lettre's TLS parameters for `host`, trusting exactly our roots.
fn tls_parameters(host: &str) -> Result<TlsParameters, Failure> {
    let mut builder =
        TlsParameters::builder(host.to_string()).certificate_store(CertificateStore::None);
    let mut usable = RootCertStore::empty();
    for certificate in crate::tls::trusted_certificates() {
        // lettre rejects the whole set when one root does not parse; such roots are skipped,
        // as tls::root_store skips them.
        if usable.add(certificate.clone()).is_ok() {
            let certificate = Certificate::from_der(certificate.to_vec()).map_err(|e| {
                Failure::new(Kind::Network, format!("cannot use a trusted root: {e}"))
            })?;
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder
        .build_rustls()
        .map_err(|e| Failure::new(Kind::Network, format!("TLS setup failed: {e}")))
}

pub fn login(attempt: &Attempt) -> Result<(), Failure> {
    let transcript = attempt.transcript();
    let endpoint = &attempt.endpoint;
    let addresses = connection::resolve(&endpoint.host, endpoint.port, attempt.timeout)?;
    let tls = tls_parameters(&endpoint.host)?;
    let hello = ClientId::default();
    let implicit = attempt.implicit_tls();
    let connection = SmtpConnection::connect(
        &addresses[..],
        Some(attempt.timeout),
        &hello,
        implicit.then_some(&tls),
        None,
    )
    .map_err(|e| {
        let mut failure = failure(&e, "connecting (greeting and EHLO)", attempt);
        if failure.kind == Kind::Refused {
            // A negative greeting or EHLO reply: the server will not talk to us now.
            failure.kind = Kind::Network;
            failure.message = "the server refused the connection".into();
        }
        failure
    })?;
    transcript.borrow().note(format!(
        "connected{}; greeting and EHLO read by lettre: {}",
        if implicit { " with TLS" } else { "" },
        transcript
            .borrow()
            .redact(&connection.server_info().to_string())
    ));
    let mut smtp = Smtp {
        connection,
        transcript: transcript.clone(),
        attempt,
    };

    if !implicit {
        if !smtp.connection.can_starttls() {
            smtp.quit();
            return Err(Failure::new(
                Kind::NoStartTls,
                "the server does not offer STARTTLS; the token was not sent over an unencrypted \
                 connection",
            )
            .hint(format!(
                "use the server's implicit-TLS endpoint if it has one, e.g. smtps://{}:465",
                endpoint.host
            )));
        }
        smtp.transcript
            .borrow()
            .note("C: STARTTLS (and EHLO), by lettre");
        smtp.connection.starttls(&tls, &hello).map_err(|e| {
            let failure = failure(&e, "starting TLS", attempt);
            if failure.kind == Kind::Refused {
                Failure {
                    kind: Kind::NoStartTls,
                    message: "the server refused STARTTLS; the token was not sent".into(),
                    ..failure
                }
            } else {
                failure
            }
        })?;
        if !smtp.connection.is_encrypted() {
            return Err(Failure::new(
                Kind::Network,
                "STARTTLS did not encrypt the connection",
            ));
        }
        transcript
            .borrow()
            .note("TLS established, certificate verified");
    }

    let ehlo = smtp.command(Ehlo::new(hello.clone()), "reading the AUTH mechanisms")?;
    let offered = auth_mechanisms(&ehlo);
    if !offered
        .iter()
        .any(|m| m.eq_ignore_ascii_case(attempt.method.name()))
    {
        smtp.quit();
        return Err(super::not_offered(attempt.method, &offered));
    }

    let doing = "during AUTH";
    let response = sasl::base64(&attempt.initial_response());
    let command = Secret::new(format!(
        "AUTH {} {}",
        attempt.method.name(),
        response.expose()
    ));
    let mut reply = smtp.command(Line(command.expose()), doing);
    let mut challenge: Option<Challenge> = None;
    let mut answered = 0;
    loop {
        match reply {
            Ok(response) if response.has_code(235) => break,
            Ok(response) if response.has_code(334) && answered < MAX_CHALLENGES => {
                answered += 1;
                challenge =
                    Challenge::from_base64(response.first_line().unwrap_or("")).or(challenge);
                let dummy = Secret::new(String::from_utf8_lossy(challenge::dummy_response(
                    attempt.method,
                )));
                reply = smtp.command(Line(sasl::base64(&dummy).expose()), doing);
            }
            Ok(response) => {
                let reply = reply_text(&response);
                smtp.quit();
                return Err(Failure::new(
                    Kind::Protocol,
                    "the server's reply to AUTH is neither success nor refusal",
                )
                .reply(Some(reply))
                .challenge(challenge));
            }
            Err(mut failure) => {
                if failure.kind == Kind::Refused {
                    failure.message = "the server refused the token".into();
                }
                if failure.kind == Kind::Refused && is_unsupported(failure.reply.as_deref()) {
                    failure.kind = Kind::Unsupported;
                    failure.message =
                        format!("the server does not accept AUTH {}", attempt.method.name());
                }
                // After a timeout or nonsense the session is in no known state: no QUIT.
                if matches!(failure.kind, Kind::Refused | Kind::Unsupported) {
                    smtp.quit();
                }
                return Err(failure.challenge(challenge));
            }
        }
    }
    smtp.quit();
    Ok(())
}

/// 504: "Unrecognized authentication type" (RFC 4954 section 6).
fn is_unsupported(reply: Option<&str>) -> bool {
    reply.is_some_and(|reply| reply.starts_with("504"))
}

/// The mechanisms on the EHLO reply's AUTH line (also the old `AUTH=` form).
fn auth_mechanisms(ehlo: &Response) -> Vec<String> {
    ehlo.message()
        .filter_map(|line| {
            let (keyword, rest) = line.split_at(line.find([' ', '=']).unwrap_or(line.len()));
            keyword
                .eq_ignore_ascii_case("AUTH")
                .then(|| rest.trim_start_matches([' ', '=']).to_string())
        })
        .flat_map(|rest| {
            rest.split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .fold(Vec::new(), |mut all, mechanism| {
            if !all
                .iter()
                .any(|m: &String| m.eq_ignore_ascii_case(&mechanism))
            {
                all.push(mechanism);
            }
            all
        })
}

/// Classifies a lettre error: a negative reply, a timeout, TLS, the network, or nonsense.
fn failure(error: &lettre::transport::smtp::Error, doing: &str, attempt: &Attempt) -> Failure {
    use std::error::Error as _;
    if let Some(code) = error.status() {
        let message = error.source().map(|s| s.to_string()).unwrap_or_default();
        let reply = Some(format!("{code} {message}").trim_end().to_string());
        return if error.is_permanent() {
            Failure::new(Kind::Refused, format!("the server said no {doing}")).reply(reply)
        } else {
            // 4xx (RFC 5321 section 4.2.1), e.g. 454 when the server cannot check tokens now.
            Failure::new(
                Kind::Unavailable,
                format!("the server reported a temporary failure {doing}: a problem on its side"),
            )
            .reply(reply)
        };
    }
    let mut source = error.source();
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return io_failure(io, doing, attempt.timeout);
        }
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls.clone());
            return io_failure(&io, doing, attempt.timeout);
        }
        source = inner.source();
    }
    if error.is_response() {
        // lettre's parse error ends with the text it could not parse: the server's reply.
        let text = error.to_string();
        let reply = text
            .split_once(" at: ")
            .map(|(_, rest)| rest.lines().next().unwrap_or("").to_string());
        return Failure::new(
            Kind::Protocol,
            format!("the server's reply {doing} is not SMTP"),
        )
        .reply(reply);
    }
    Failure::new(Kind::Network, format!("{error} {doing}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_lines_are_read() {
        let ehlo: Response = "250-mail.example.com\r\n250-AUTH PLAIN XOAUTH2\r\n250-AUTH=LOGIN OAUTHBEARER\r\n250 SIZE 100\r\n"
            .parse()
            .unwrap();
        assert_eq!(
            auth_mechanisms(&ehlo),
            vec!["PLAIN", "XOAUTH2", "LOGIN", "OAUTHBEARER"]
        );
    }

    #[test]
    fn reply_text_joins_lines() {
        let response: Response = "535 5.7.8 Authentication failed\r\n".parse().unwrap();
        assert_eq!(reply_text(&response), "535 5.7.8 Authentication failed");
    }
}
