//! The POP3 login test, written directly over the [`Connection`]: greeting, CAPA (RFC 2449),
//! STLS when the endpoint asks for it (RFC 2595 section 4), AUTH with the response on its own
//! line (RFC 5034; Microsoft refuses the initial response on the AUTH line), STAT to prove the
//! login is real, QUIT.

use super::attempt::Attempt;
use super::challenge::{self, Challenge, MAX_CHALLENGES};
use super::failure::{Failure, Kind, not_offered};
use super::lines::LineConnection;
use crate::base::secret::Secret;
use crate::mail::sasl;

struct Pop<'a> {
    lines: LineConnection<'a>,
}

impl Pop<'_> {
    fn send(&mut self, line: &str, doing: &str) -> Result<(), Failure> {
        self.lines.send(line, doing)
    }

    fn read_line(&mut self, doing: &str) -> Result<String, Failure> {
        self.lines.read_line(doing)
    }

    fn command(&mut self, line: &str, doing: &str) -> Result<String, Failure> {
        self.send(line, doing)?;
        self.read_line(doing)
    }

    /// The capability lines, or `None` when the server has no CAPA command.
    fn capabilities(&mut self) -> Result<Option<Vec<String>>, Failure> {
        let doing = "asking for the capabilities";
        let first = self.command("CAPA", doing)?;
        if is_err(&first) {
            return Ok(None);
        }
        if !is_ok(&first) {
            return Err(self.garbage(&first, doing));
        }
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(doing)?;
            if line == "." {
                return Ok(Some(lines));
            }
            lines.push(line);
        }
    }

    fn garbage(&self, line: &str, doing: &str) -> Failure {
        Failure::new(
            Kind::Protocol,
            format!("the server's reply {doing} is not POP3"),
        )
        .reply(Some(line.to_string()))
    }
}

pub fn is_ok(line: &str) -> bool {
    line == "+OK" || line.starts_with("+OK ")
}

pub fn is_err(line: &str) -> bool {
    line == "-ERR" || line.starts_with("-ERR ")
}

/// A SASL continuation: `+` alone or `+ ` and base64 (RFC 5034 section 4).
pub fn continuation(line: &str) -> Option<&str> {
    if line == "+" {
        Some("")
    } else {
        line.strip_prefix("+ ")
    }
}

/// The capability line starting with `name`, without the name.
pub fn capability<'l>(lines: &'l [String], name: &str) -> Option<&'l str> {
    lines.iter().find_map(|line| {
        let mut words = line.splitn(2, ' ');
        let first = words.next()?;
        first
            .eq_ignore_ascii_case(name)
            .then(|| words.next().unwrap_or(""))
    })
}

/// Logs in to the attempt's POP3 endpoint and runs STAT, one step per method of `Pop`.
pub(crate) fn login(attempt: &Attempt) -> Result<(), Failure> {
    let mut pop = Pop {
        lines: LineConnection::open(attempt)?,
    };
    pop.greeting()?;
    let mut capabilities = pop.capabilities()?;
    if !attempt.implicit_tls() {
        pop = pop.start_tls(capabilities.as_deref())?;
        capabilities = pop.capabilities()?;
    }
    pop.require_mechanism(capabilities.as_deref())?;
    pop.authenticate()?;
    pop.stat()?;
    if let Err(failure) = pop.command("QUIT", "closing the session") {
        pop.lines.transcript.borrow().note(format!(
            "QUIT did not complete cleanly: {}",
            failure.message
        ));
    }
    Ok(())
}

/// The steps of the login, in order.
impl Pop<'_> {
    fn greeting(&mut self) -> Result<(), Failure> {
        let greeting = self.read_line("waiting for the greeting")?;
        if is_err(&greeting) {
            return Err(
                Failure::new(Kind::Network, "the server refused the connection")
                    .reply(Some(greeting)),
            );
        }
        if !is_ok(&greeting) {
            return Err(self.garbage(&greeting, "in the greeting"));
        }
        Ok(())
    }

    /// STLS, when the capabilities offer it or the server has no CAPA to say; the token is never
    /// sent in the clear.
    fn start_tls(mut self, capabilities: Option<&[String]>) -> Result<Self, Failure> {
        let implicit_example = self.lines.attempt.endpoint.at_implicit_tls_port().url();
        let offered = capabilities.is_none_or(|lines| capability(lines, "STLS").is_some());
        let reply = if offered {
            Some(self.command("STLS", "starting TLS")?)
        } else {
            None
        };
        match reply {
            Some(reply) if is_ok(&reply) => {}
            Some(reply) if !is_err(&reply) => return Err(self.garbage(&reply, "to STLS")),
            reply => {
                let _ = self.command("QUIT", "closing the session");
                return Err(Failure::new(
                    Kind::NoStartTls,
                    "the server does not offer STLS (STARTTLS); the token was not sent over an \
                     unencrypted connection",
                )
                .reply(reply)
                .hint(format!(
                    "use the server's implicit-TLS endpoint if it has one, e.g. {implicit_example}"
                )));
            }
        }
        self.lines = self.lines.start_tls("STLS", &implicit_example)?;
        Ok(self)
    }

    /// Checks the SASL capability, when there is one, before the token is sent.
    fn require_mechanism(&mut self, capabilities: Option<&[String]>) -> Result<(), Failure> {
        let method = self.lines.attempt.method;
        if let Some(mechanisms) = capabilities.and_then(|lines| capability(lines, "SASL")) {
            let offered: Vec<String> = mechanisms.split_whitespace().map(String::from).collect();
            if !offered
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method.name()))
            {
                let _ = self.command("QUIT", "closing the session");
                return Err(not_offered(method, &offered));
            }
        }
        Ok(())
    }

    /// AUTH, then the token on its own line, then the server's verdict.
    fn authenticate(&mut self) -> Result<(), Failure> {
        let attempt = self.lines.attempt;
        let doing = "during AUTH";
        let reply = self.command(&format!("AUTH {}", attempt.method.name()), doing)?;
        if continuation(&reply).is_none() {
            if is_err(&reply) {
                return Err(Failure::new(
                    Kind::Unsupported,
                    format!(
                        "the server refused AUTH {} before the token was sent",
                        attempt.method.name()
                    ),
                )
                .reply(Some(reply)));
            }
            return Err(self.garbage(&reply, doing));
        }
        let response = sasl::base64(&attempt.initial_response());
        self.send(response.expose(), doing)?;
        self.verdict(doing)
    }

    /// Reads the answers to the token until +OK or -ERR, answering a failure challenge so that
    /// the server can finish with its -ERR (RFC 7628 section 3.2.3).
    fn verdict(&mut self, doing: &str) -> Result<(), Failure> {
        let method = self.lines.attempt.method;
        let mut challenge: Option<Challenge> = None;
        let mut answered = 0;
        loop {
            let reply = self.read_line(doing)?;
            if is_ok(&reply) {
                return Ok(());
            }
            if is_err(&reply) {
                let _ = self.command("QUIT", "closing the session");
                return Err(Failure::new(Kind::Refused, "the server refused the token")
                    .reply(Some(reply))
                    .challenge(challenge));
            }
            match continuation(&reply) {
                Some(data) if answered < MAX_CHALLENGES => {
                    answered += 1;
                    challenge = Challenge::from_base64(data).or(challenge);
                    let dummy =
                        Secret::new(String::from_utf8_lossy(challenge::dummy_response(method)));
                    self.send(sasl::base64(&dummy).expose(), doing)?;
                }
                _ => return Err(self.garbage(&reply, doing).challenge(challenge)),
            }
        }
    }

    /// STAT proves the login is real; a refusal here comes after an accepted login.
    fn stat(&mut self) -> Result<(), Failure> {
        let doing = "running STAT after the login";
        let stat = self.command("STAT", doing)?;
        if is_err(&stat) {
            let mut failure = Failure::new(
                Kind::Refused,
                "the login was accepted, then STAT was refused",
            )
            .reply(Some(stat));
            failure.after_login = true;
            let _ = self.command("QUIT", "closing the session");
            return Err(failure);
        }
        if !is_ok(&stat) {
            return Err(self.garbage(&stat, doing));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_told_apart() {
        assert!(is_ok("+OK") && is_ok("+OK 2 320") && !is_ok("+OKAY"));
        assert!(is_err("-ERR no") && !is_err("-ERRATIC"));
        assert_eq!(continuation("+"), Some(""));
        assert_eq!(continuation("+ eyJ9"), Some("eyJ9"));
        assert_eq!(continuation("+OK"), None);
    }

    #[test]
    fn capability_lines_are_found() {
        let lines = vec!["USER".to_string(), "SASL PLAIN XOAUTH2".to_string()];
        assert_eq!(capability(&lines, "sasl"), Some("PLAIN XOAUTH2"));
        assert_eq!(capability(&lines, "STLS"), None);
        assert_eq!(capability(&lines, "USER"), Some(""));
    }
}
