//! The IMAP login test, with the `imap` crate over our own [`Connection`]: greeting, CAPABILITY,
//! STARTTLS when the endpoint asks for it, AUTHENTICATE with the token (RFC 3501 section 6.2.2),
//! EXAMINE INBOX to prove the login is real, LOGOUT.
//!
//! EXAMINE is the read-only SELECT (RFC 3501 section 6.3.2): it proves the mailbox opens, as
//! SELECT would, without clearing the \Recent flags the user's mail client relies on. Microsoft
//! has answered OK to a bad AUTHENTICATE and failed the next command, so the test never stops at
//! the login's OK.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};

use super::attempt::Attempt;
use super::challenge::{self, Challenge};
use super::connection::{Connection, io_failure};
use super::failure::{Failure, Kind, not_offered};
use super::imap_guard::Screened;
use super::transcript::SharedTranscript;
use crate::sasl::SaslMethod;
use crate::secret::Secret;

type Client = imap::Client<Screened<Connection>>;
type Session = imap::Session<Screened<Connection>>;

/// Logs in to the attempt's IMAP endpoint and opens INBOX, one step per method of `Login`.
pub fn login(attempt: &Attempt) -> Result<(), Failure> {
    let login = Login {
        attempt,
        transcript: attempt.transcript(),
    };
    let connection = Connection::open(attempt, login.transcript.clone())?;
    let mut client = Client::new(Screened::new(connection));
    let greeting = client
        .read_greeting()
        .map_err(|e| login.fail(e, "waiting for the greeting"))?;
    check_greeting(&greeting)?;
    if !attempt.implicit_tls() {
        client = login.start_tls(client)?;
    }
    let client = login.require_mechanism(client)?;
    let session = login.authenticate(client)?;
    login.examine_inbox(session)
}

/// One IMAP login: the attempt, and the trace that tells a real NO from an unparsable reply.
struct Login<'a> {
    attempt: &'a Attempt,
    transcript: SharedTranscript,
}

impl Login<'_> {
    fn fail(&self, error: imap::Error, doing: &str) -> Failure {
        failure(error, doing, &self.transcript, self.attempt)
    }

    /// STARTTLS, refusing to go on when the server does not offer it.
    fn start_tls(&self, mut client: Client) -> Result<Client, Failure> {
        let capabilities = client
            .capabilities()
            .map_err(|e| self.fail(e, "asking for the capabilities"))?;
        if !capabilities.iter().any(
            |c| matches!(c, imap_proto::Capability::Atom(a) if a.eq_ignore_ascii_case("STARTTLS")),
        ) {
            goodbye(client);
            return Err(no_starttls(&self.attempt.endpoint));
        }
        // into_inner drops whatever was buffered; nothing is pending after a tagged reply.
        let connection = client
            .into_inner()
            .map_err(|e| self.fail(e, "starting TLS"))?;
        let connection = starttls(connection.into_inner(), self.attempt)?.start_tls()?;
        Ok(Client::new(Screened::new(connection)))
    }

    /// Checks that the server offers the SASL mechanism before the token is sent.
    fn require_mechanism(&self, mut client: Client) -> Result<Client, Failure> {
        // Capabilities change with TLS, so they are asked for (again) now (RFC 3501 section 6.2.1).
        let capabilities = client
            .capabilities()
            .map_err(|e| self.fail(e, "asking for the capabilities"))?;
        let mut offered: Vec<String> = capabilities
            .iter()
            .filter_map(|c| match c {
                imap_proto::Capability::Auth(mechanism) => Some(mechanism.to_string()),
                _ => None,
            })
            .collect();
        // The crate keeps capabilities in a set; sorted, the report is the same on every run.
        offered.sort();
        let method = self.attempt.method;
        if !offered
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method.name()))
        {
            goodbye(client);
            return Err(not_offered(method, &offered));
        }
        Ok(client)
    }

    /// AUTHENTICATE with the token; a refusal keeps the server's challenge, and a refusal before
    /// the token was sent means the mechanism is not supported after all.
    fn authenticate(&self, client: Client) -> Result<Session, Failure> {
        let method = self.attempt.method;
        let responder = Responder {
            initial: self.attempt.initial_response(),
            method,
            calls: Cell::new(0),
            challenge: RefCell::new(None),
        };
        client
            .authenticate(method.name(), &responder)
            .map_err(|(error, _client)| {
                let mut failure = self.fail(error, "during AUTHENTICATE");
                if matches!(failure.kind, Kind::Refused | Kind::Protocol) {
                    failure.challenge = responder.challenge.take().map(Box::new);
                }
                if failure.kind == Kind::Refused {
                    failure.message = "the server refused the token".into();
                }
                if failure.kind == Kind::Refused && responder.calls.get() == 0 {
                    failure.kind = Kind::Unsupported;
                    failure.message = format!(
                        "the server refused AUTHENTICATE {} before the token was sent",
                        method.name()
                    );
                }
                failure
            })
    }

    /// EXAMINE INBOX proves the login is real; then LOGOUT.
    fn examine_inbox(&self, mut session: Session) -> Result<(), Failure> {
        let examined = session.examine("INBOX");
        if let Err(error) = examined {
            let mut failure = self.fail(error, "opening INBOX after the login");
            if failure.kind == Kind::Refused {
                failure.after_login = true;
                failure.message = "the login was accepted, then opening INBOX was refused".into();
                // Only a session that answered is worth a LOGOUT; after a timeout it would wait again.
                let _ = session.logout();
            }
            return Err(failure);
        }
        if let Err(error) = session.logout() {
            self.transcript
                .borrow()
                .note(format!("LOGOUT did not complete cleanly: {error}"));
        }
        Ok(())
    }
}

/// STARTTLS (RFC 3501 section 6.2.1), written here: the imap crate's `Client` has no public way
/// to send a command before login, and its own STARTTLS is tied to its TLS backends. The reply
/// is read a byte at a time so nothing after it is consumed before the TLS handshake.
fn starttls(mut connection: Connection, attempt: &Attempt) -> Result<Connection, Failure> {
    let doing = "starting TLS";
    let timeout = attempt.timeout;
    connection
        .write_all(b"s1 STARTTLS\r\n")
        .and_then(|()| connection.flush())
        .map_err(|e| io_failure(&e, doing, timeout))?;
    loop {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while line.last() != Some(&b'\n') {
            match connection.read(&mut byte) {
                Ok(0) => {
                    return Err(Failure::new(
                        Kind::Network,
                        format!("the server closed the connection {doing}"),
                    )
                    .with_last_reply(connection.transcript()));
                }
                Ok(_) => line.push(byte[0]),
                Err(e) => return Err(io_failure(&e, doing, timeout)),
            }
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text.starts_with("* ") {
            continue;
        }
        let tagged = text.starts_with("s1 ");
        return match status_word(&text).as_deref() {
            Some("OK") if tagged => Ok(connection),
            Some("NO" | "BAD") if tagged => Err(Failure::new(
                Kind::NoStartTls,
                "the server refused STARTTLS; the token was not sent",
            )
            .reply(Some(text))),
            _ => Err(Failure::new(
                Kind::Protocol,
                format!("the server's reply {doing} is not valid IMAP"),
            )
            .reply(Some(text))),
        };
    }
}

/// Ends a session that will not log in: LOGOUT without waiting for the reply (the crate's
/// `Client` has no logout before login).
fn goodbye(client: Client) {
    if let Ok(mut connection) = client.into_inner() {
        let _ = connection
            .write_all(b"s9 LOGOUT\r\n")
            .and_then(|()| connection.flush());
    }
}

/// `* OK` (or `* PREAUTH`) opens a session; `* BYE` means the server will not talk to us.
pub fn check_greeting(greeting: &[u8]) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(greeting);
    let reply = Some(text.trim_end().to_string());
    match status_word(&text).as_deref() {
        Some("OK" | "PREAUTH") if text.starts_with("* ") => Ok(()),
        Some("BYE") if text.starts_with("* ") => {
            Err(Failure::new(Kind::Network, "the server refused the connection").reply(reply))
        }
        _ => Err(Failure::new(Kind::Protocol, "the server's greeting is not IMAP").reply(reply)),
    }
}

/// The status of a response line: `* OK ...` → OK, `a1 NO ...` → NO.
pub fn status_word(line: &str) -> Option<String> {
    let word = line.split_whitespace().nth(1)?.to_ascii_uppercase();
    ["OK", "NO", "BAD", "BYE", "PREAUTH"]
        .contains(&word.as_str())
        .then_some(word)
}

fn no_starttls(endpoint: &crate::mailserver::MailEndpoint) -> Failure {
    Failure::new(
        Kind::NoStartTls,
        "the server does not offer STARTTLS; the token was not sent over an unencrypted connection",
    )
    .hint(format!(
        "use the server's implicit-TLS endpoint if it has one, e.g. imaps://{}:993",
        endpoint.host
    ))
}

/// Classifies an error of the imap crate, using the server's last line to tell a real NO/BAD/BYE
/// from a reply the crate could not parse.
fn failure(
    error: imap::Error,
    doing: &str,
    transcript: &SharedTranscript,
    attempt: &Attempt,
) -> Failure {
    let last = transcript.borrow().last_server_line();
    let status = last.as_deref().and_then(status_word);
    let failure = match error {
        imap::Error::Io(io) => io_failure(&io, doing, attempt.timeout),
        imap::Error::ConnectionLost => Failure::new(
            Kind::Network,
            format!("the server closed the connection {doing}"),
        ),
        imap::Error::No(_) | imap::Error::Bad(_) if status.is_some() => {
            Failure::new(Kind::Refused, format!("the server said no {doing}"))
        }
        imap::Error::Bye(_) if status.as_deref() == Some("BYE") => Failure::new(
            Kind::Network,
            format!("the server ended the session {doing}"),
        ),
        // The crate reports a line it cannot parse as a BYE "with no explanation".
        imap::Error::Bye(_) => Failure::new(
            Kind::Protocol,
            format!("the server's reply {doing} is not valid IMAP"),
        ),
        other => Failure::new(
            Kind::Protocol,
            format!("the server's reply {doing} is not valid IMAP ({other})"),
        ),
    };
    failure.with_last_reply(transcript)
}

/// Answers the AUTHENTICATE continuations: the initial response first, then to a failure
/// challenge the reply that lets the server finish with its NO.
struct Responder {
    initial: Secret,
    method: SaslMethod,
    calls: Cell<usize>,
    challenge: RefCell<Option<Challenge>>,
}

/// Response bytes that are wiped when dropped, like every other copy of the token.
struct SecretBytes(Secret);

impl AsRef<[u8]> for SecretBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.expose().as_bytes()
    }
}

impl imap::Authenticator for Responder {
    type Response = SecretBytes;

    fn process(&self, data: &[u8]) -> SecretBytes {
        let call = self.calls.get();
        self.calls.set(call + 1);
        if call == 0 {
            // XOAUTH2 and OAUTHBEARER start with an empty continuation; the token goes first.
            return SecretBytes(self.initial.clone());
        }
        if let Some(challenge) = Challenge::parse(data) {
            *self.challenge.borrow_mut() = Some(challenge);
        }
        let reply = challenge::dummy_response(self.method);
        SecretBytes(Secret::new(String::from_utf8_lossy(reply)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words() {
        assert_eq!(
            status_word("a1 NO [AUTHENTICATIONFAILED] x").as_deref(),
            Some("NO")
        );
        assert_eq!(status_word("* BYE going").as_deref(), Some("BYE"));
        assert_eq!(status_word("garbage"), None);
        assert_eq!(status_word("HTTP/1.1 400 Bad"), None);
    }

    #[test]
    fn greetings() {
        assert!(check_greeting(b"* OK ready\r\n").is_ok());
        assert_eq!(
            check_greeting(b"* BYE too many\r\n").unwrap_err().kind,
            Kind::Network
        );
        assert_eq!(
            check_greeting(b"+OK POP3 ready\r\n").unwrap_err().kind,
            Kind::Protocol
        );
    }
}
