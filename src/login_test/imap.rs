//! The IMAP login test, written directly over the shared line reader (`lines`): greeting,
//! CAPABILITY, STARTTLS when the endpoint asks for it, AUTHENTICATE with the token (RFC 3501
//! section 6.2.2, with the initial response on the command line when the server offers SASL-IR,
//! RFC 4959), EXAMINE INBOX to prove the login is real, LOGOUT.
//!
//! EXAMINE is the read-only SELECT (RFC 3501 section 6.3.2): it proves the mailbox opens, as
//! SELECT would, without clearing the \Recent flags the user's mail client relies on. Microsoft
//! has answered OK to a bad AUTHENTICATE and failed the next command, so the test never stops at
//! the login's OK.
//!
//! Not the `imap` crate, which this replaced: its 3.0 line is an alpha (pinned), its parser
//! (imap-proto) panicked on `INTERNALDATE NIL` and overflowed the stack on deeply nested lists in
//! any unsolicited FETCH, which needed a screen of its own in front of it, and it has no way to
//! send a command before the login (STARTTLS, LOGOUT). These six commands need only the first
//! words of each response; `lines` frames responses, literals included, and `imap_response`
//! reads them, without recursion.

use super::attempt::Attempt;
use super::challenge::{self, Challenge, MAX_CHALLENGES};
use super::failure::{Failure, Kind, not_offered};
use super::imap_response::{
    Response, Status, capabilities, check_greeting, has, mechanisms, parse, response_code,
};
use super::lines::LineConnection;
use crate::base::secret::Secret;
use crate::mail::sasl;

/// Logs in to the attempt's IMAP endpoint and opens INBOX, one step per method of `Imap`.
pub(crate) fn login(attempt: &Attempt) -> Result<(), Failure> {
    let mut imap = Imap {
        lines: LineConnection::open(attempt)?,
        tags: 0,
        alerts: Vec::new(),
    };
    imap.greeting()?;
    if !attempt.implicit_tls() {
        imap = imap.start_tls()?;
    }
    let result = imap.log_in();
    result.map_err(|failure| with_alerts(failure, std::mem::take(&mut imap.alerts)))
}

/// One IMAP conversation.
struct Imap<'a> {
    lines: LineConnection<'a>,
    /// Commands sent so far: each gets the tag `a1`, `a2`, ... (RFC 3501 section 2.2.1 asks for a
    /// tag of its own for each command).
    tags: u32,
    /// What the server flagged `[ALERT]` outside a command's own reply: RFC 3501 section 7.1
    /// says it must reach the user, so it goes with a failure.
    alerts: Vec<String>,
}

/// A command's tagged completion, and the untagged responses that came before it.
struct Completion {
    status: Status,
    line: String,
    untagged: Vec<String>,
}

impl Imap<'_> {
    fn next_tag(&mut self) -> String {
        self.tags += 1;
        format!("a{}", self.tags)
    }

    /// Reads one response, keeping any untagged alert.
    fn read(&mut self, doing: &str) -> Result<String, Failure> {
        let response = self.lines.read_response(doing)?;
        if let Some(Response::UntaggedStatus { text, .. }) = parse(&response)
            && response_code(text).is_some_and(|(name, _)| name == "ALERT")
        {
            self.alerts.push(response.clone());
        }
        Ok(response)
    }

    /// Sends `command` with the next tag and reads up to its completion.
    fn command(&mut self, command: &str, doing: &str) -> Result<Completion, Failure> {
        let tag = self.next_tag();
        self.lines.send(&format!("{tag} {command}"), doing)?;
        let mut untagged = Vec::new();
        loop {
            let response = self.read(doing)?;
            match parse(&response) {
                Some(Response::Tagged { tag: t, status, .. }) if t == tag => {
                    return Ok(Completion {
                        status,
                        line: response,
                        untagged,
                    });
                }
                Some(Response::UntaggedStatus {
                    status: Status::Bye,
                    ..
                }) => return Err(ended(response, doing)),
                Some(Response::UntaggedStatus { .. } | Response::Data(_)) => {
                    untagged.push(response);
                }
                _ => return Err(garbage(response, doing)),
            }
        }
    }

    /// LOGOUT for a session that will not log in: sent, not waited for.
    fn goodbye(&mut self) {
        let tag = self.next_tag();
        let _ = self
            .lines
            .send(&format!("{tag} LOGOUT"), "closing the session");
    }

    /// LOGOUT, reading the server's BYE and completion (RFC 3501 section 6.1.3).
    fn logout(&mut self) -> Result<(), Failure> {
        let doing = "closing the session";
        let tag = self.next_tag();
        self.lines.send(&format!("{tag} LOGOUT"), doing)?;
        loop {
            let response = self.lines.read_response(doing)?;
            match parse(&response) {
                Some(Response::Tagged { tag: t, .. }) if t == tag => return Ok(()),
                Some(Response::UntaggedStatus { .. } | Response::Data(_)) => {}
                _ => return Err(garbage(response, doing)),
            }
        }
    }
}

/// The steps of the login, in order.
impl Imap<'_> {
    fn greeting(&mut self) -> Result<(), Failure> {
        let greeting = self.read("waiting for the greeting")?;
        check_greeting(greeting.as_bytes())
    }

    /// STARTTLS (RFC 3501 section 6.2.1), refusing to go on when the server does not offer it.
    fn start_tls(mut self) -> Result<Self, Failure> {
        let implicit_example = self.lines.attempt.endpoint.at_implicit_tls_port().url();
        let agreed = self.agree_to_start_tls(&implicit_example);
        let Imap {
            lines,
            tags,
            alerts,
        } = self;
        if let Err(failure) = agreed {
            return Err(with_alerts(failure, alerts));
        }
        match lines.start_tls("STARTTLS", &implicit_example) {
            Ok(lines) => Ok(Imap {
                lines,
                tags,
                alerts,
            }),
            Err(failure) => Err(with_alerts(failure, alerts)),
        }
    }

    /// Whether the server offers STARTTLS and agrees to it.
    fn agree_to_start_tls(&mut self, implicit_example: &str) -> Result<(), Failure> {
        if !has(&self.capabilities()?, "STARTTLS") {
            self.goodbye();
            return Err(Failure::new(
                Kind::NoStartTls,
                "the server does not offer STARTTLS; the token was not sent over an \
                 unencrypted connection",
            )
            .hint(format!(
                "use the server's implicit-TLS endpoint if it has one, e.g. {implicit_example}"
            )));
        }
        let completion = self.command("STARTTLS", "starting TLS")?;
        if completion.status != Status::Ok {
            return Err(Failure::new(
                Kind::NoStartTls,
                "the server refused STARTTLS; the token was not sent",
            )
            .reply(Some(completion.line)));
        }
        Ok(())
    }

    /// Over TLS: the mechanism checked, the login, and the mailbox opened.
    fn log_in(&mut self) -> Result<(), Failure> {
        // Capabilities change with TLS, so they are asked for (again) now (RFC 3501 section
        // 6.2.1); nothing the server said in the clear is kept.
        let capabilities = self.capabilities()?;
        let method = self.lines.attempt.method;
        let offered = mechanisms(&capabilities);
        if !offered
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method.name()))
        {
            self.goodbye();
            return Err(not_offered(method, &offered));
        }
        self.authenticate(has(&capabilities, "SASL-IR"))?;
        self.examine_inbox()
    }

    /// CAPABILITY: the list on its untagged response, or in a response code of its reply.
    fn capabilities(&mut self) -> Result<Vec<String>, Failure> {
        let doing = "asking for the capabilities";
        let completion = self.command("CAPABILITY", doing)?;
        if completion.status != Status::Ok {
            // RFC 3501 section 6.1.1 allows only OK (and BAD for a mistyped command).
            return Err(garbage(completion.line, doing));
        }
        let mut all = Vec::new();
        for response in completion.untagged.iter().chain([&completion.line]) {
            if let Some(listed) = parse(response).as_ref().and_then(capabilities) {
                all.extend(listed);
            }
        }
        Ok(all)
    }

    /// AUTHENTICATE with the token: on the command line with SASL-IR (RFC 4959), else after the
    /// server's first `+`. A failure challenge is answered so that the server can finish with its
    /// NO (RFC 7628 section 3.2.3), and kept for the report; a NO before the token was sent means
    /// the mechanism is not supported after all.
    fn authenticate(&mut self, sasl_ir: bool) -> Result<(), Failure> {
        let attempt = self.lines.attempt;
        let method = attempt.method;
        let doing = "during AUTHENTICATE";
        let tag = self.next_tag();
        let response = sasl::base64(&attempt.initial_response());
        let command = format!("{tag} AUTHENTICATE {}", method.name());
        let mut sent = sasl_ir;
        if sasl_ir {
            let line = Secret::new(format!("{command} {}", response.expose()));
            self.lines.send(line.expose(), doing)?;
        } else {
            self.lines.send(&command, doing)?;
        }
        let mut challenge: Option<Challenge> = None;
        let mut answered = 0;
        loop {
            let reply = self.read(doing)?;
            match parse(&reply) {
                // XOAUTH2 and OAUTHBEARER start with an empty continuation; the token goes first.
                Some(Response::Continue(_)) if !sent => {
                    sent = true;
                    self.lines.send(response.expose(), doing)?;
                }
                Some(Response::Continue(data)) if answered < MAX_CHALLENGES => {
                    answered += 1;
                    challenge = Challenge::from_base64(data).or(challenge);
                    let dummy =
                        Secret::new(String::from_utf8_lossy(challenge::dummy_response(method)));
                    self.lines.send(sasl::base64(&dummy).expose(), doing)?;
                }
                Some(Response::Tagged { tag: t, status, .. }) if t == tag => {
                    if status == Status::Ok {
                        return Ok(());
                    }
                    let failure = if sent {
                        Failure::new(Kind::Refused, "the server refused the token")
                    } else {
                        Failure::new(
                            Kind::Unsupported,
                            format!(
                                "the server refused AUTHENTICATE {} before the token was sent",
                                method.name()
                            ),
                        )
                    };
                    return Err(failure.reply(Some(reply)).challenge(challenge));
                }
                Some(Response::UntaggedStatus {
                    status: Status::Bye,
                    ..
                }) => return Err(ended(reply, doing).challenge(challenge)),
                Some(Response::UntaggedStatus { .. } | Response::Data(_)) => {}
                _ => return Err(garbage(reply, doing).challenge(challenge)),
            }
        }
    }

    /// EXAMINE INBOX proves the login is real; then LOGOUT.
    fn examine_inbox(&mut self) -> Result<(), Failure> {
        let completion = self.command("EXAMINE INBOX", "opening INBOX after the login")?;
        if completion.status != Status::Ok {
            let mut failure = Failure::new(
                Kind::Refused,
                "the login was accepted, then opening INBOX was refused",
            )
            .reply(Some(completion.line));
            failure.after_login = true;
            let _ = self.logout();
            return Err(failure);
        }
        if let Err(failure) = self.logout() {
            self.lines.transcript.borrow().note(format!(
                "LOGOUT did not complete cleanly: {}",
                failure.message
            ));
        }
        Ok(())
    }
}

/// The failure, with the alerts its own reply does not already show.
fn with_alerts(mut failure: Failure, alerts: Vec<String>) -> Failure {
    failure.alerts = alerts
        .into_iter()
        .filter(|alert| failure.reply.as_ref() != Some(alert))
        .collect();
    failure
}

/// The server said BYE in the middle of a command: it is closing the connection.
fn ended(reply: String, doing: &str) -> Failure {
    Failure::new(
        Kind::Network,
        format!("the server ended the session {doing}"),
    )
    .reply(Some(reply))
}

fn garbage(reply: String, doing: &str) -> Failure {
    Failure::new(
        Kind::Protocol,
        format!("the server's reply {doing} is not valid IMAP"),
    )
    .reply(Some(reply))
}
