//! The SMTP login test, written directly over the [`Connection`]: greeting, EHLO, STARTTLS when
//! the endpoint asks for it (RFC 3207), EHLO again, AUTH with the token as initial response
//! (RFC 4954), QUIT. No mail is sent.
//!
//! Not lettre, which the issue suggested: lettre 0.11 keeps what it had buffered before its
//! STARTTLS upgrade and reads it as if it came over TLS, so a man in the middle can append
//! `235` to the plaintext `220` and make a refused login look accepted (the class of
//! CVE-2011-0411; RFC 3207 section 4.2). It also cannot take our rustls configuration, only
//! roots, and traces only through `tracing`, which would show the token. Here a reply followed
//! by anything before the TLS handshake stops the test, and the connection is ours: one TLS
//! configuration, one deadline, one redacted trace.

use super::attempt::Attempt;
use super::challenge::{self, Challenge, MAX_CHALLENGES};
use super::failure::{Failure, Kind, not_offered};
use super::lines::LineConnection;
use crate::base::secret::Secret;
use crate::mail::sasl;

/// The EHLO argument: an address literal, as RFC 5321 section 4.1.4 asks of a client without a
/// name of its own worth giving.
const EHLO_NAME: &str = "[127.0.0.1]";

/// One SMTP reply: the code and its text lines (RFC 5321 section 4.2).
#[derive(Debug)]
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// The reply as one line for the report: `535 5.7.8 Authentication failed`.
    fn text(&self) -> String {
        format!("{} {}", self.code, self.lines.join(" / "))
            .trim_end()
            .to_string()
    }
}

struct Smtp<'a> {
    lines: LineConnection<'a>,
}

impl Smtp<'_> {
    fn send(&mut self, line: &str, doing: &str) -> Result<(), Failure> {
        self.lines.send(line, doing)
    }

    /// Reads one reply, all its lines: `250-first`, `250-...`, `250 last`.
    fn reply(&mut self, doing: &str) -> Result<Reply, Failure> {
        let mut lines = Vec::new();
        let mut code = None;
        loop {
            let line = self.lines.read_line(doing)?;
            let Some((this, last, text)) = parse_line(&line) else {
                return Err(self.garbage(&line, doing));
            };
            if code.is_some_and(|code| code != this) {
                return Err(self.garbage(&line, doing));
            }
            code = Some(this);
            lines.push(text.to_string());
            if last {
                return Ok(Reply { code: this, lines });
            }
        }
    }

    fn command(&mut self, line: &str, doing: &str) -> Result<Reply, Failure> {
        self.send(line, doing)?;
        self.reply(doing)
    }

    fn garbage(&self, line: &str, doing: &str) -> Failure {
        Failure::new(
            Kind::Protocol,
            format!("the server's reply {doing} is not SMTP"),
        )
        .reply(Some(line.to_string()))
    }

    /// QUIT, for a session that is still in step; the answer does not matter.
    fn quit(&mut self) {
        if let Err(failure) = self.command("QUIT", "closing the session") {
            self.lines.transcript.borrow().note(format!(
                "QUIT did not complete cleanly: {}",
                failure.message
            ));
        }
    }

    /// EHLO, returning the mechanisms on the AUTH line and whether STARTTLS is offered.
    fn ehlo(&mut self) -> Result<(Vec<String>, bool), Failure> {
        let doing = "greeting the server (EHLO)";
        let reply = self.command(&format!("EHLO {EHLO_NAME}"), doing)?;
        if reply.code != 250 {
            return Err(unexpected(&reply, doing));
        }
        let starttls = reply
            .lines
            .iter()
            .any(|line| line.trim().eq_ignore_ascii_case("STARTTLS"));
        Ok((auth_mechanisms(&reply.lines), starttls))
    }
}

/// `250-text` → (250, false, "text"); `250 text` or `250` → (250, true, ...).
pub fn parse_line(line: &str) -> Option<(u16, bool, &str)> {
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !(b'2'..=b'5').contains(&digits.as_bytes()[0])
    {
        return None;
    }
    let code = digits.parse().ok()?;
    match line.as_bytes().get(3) {
        None => Some((code, true, "")),
        Some(b' ') => Some((code, true, &line[4..])),
        Some(b'-') => Some((code, false, &line[4..])),
        Some(_) => None,
    }
}

/// The failure for a reply that is valid SMTP but not what the step expects.
fn unexpected(reply: &Reply, doing: &str) -> Failure {
    let (kind, message) = match reply.code {
        400..=499 => (
            Kind::Unavailable,
            format!("the server reported a temporary failure {doing}: a problem on its side"),
        ),
        500..=599 => (Kind::Network, format!("the server refused {doing}")),
        _ => (
            Kind::Protocol,
            format!("the server's reply {doing} is not what SMTP prescribes"),
        ),
    };
    Failure::new(kind, message).reply(Some(reply.text()))
}

/// The mechanisms on the EHLO reply's AUTH line (also the old `AUTH=` form).
pub fn auth_mechanisms(lines: &[String]) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for line in lines {
        let (keyword, rest) = line.split_at(line.find([' ', '=']).unwrap_or(line.len()));
        if !keyword.eq_ignore_ascii_case("AUTH") {
            continue;
        }
        for mechanism in rest.trim_start_matches([' ', '=']).split_whitespace() {
            if !all.iter().any(|m| m.eq_ignore_ascii_case(mechanism)) {
                all.push(mechanism.to_string());
            }
        }
    }
    all
}

/// Logs in to the attempt's SMTP endpoint, one step per method of `Smtp`; no mail is sent.
pub(crate) fn login(attempt: &Attempt) -> Result<(), Failure> {
    let mut smtp = Smtp {
        lines: LineConnection::open(attempt)?,
    };
    smtp.greeting()?;
    let (mut mechanisms, starttls) = smtp.ehlo()?;
    if !attempt.implicit_tls() {
        (smtp, mechanisms) = smtp.start_tls(starttls)?;
    }
    if !mechanisms
        .iter()
        .any(|m| m.eq_ignore_ascii_case(attempt.method.name()))
    {
        smtp.quit();
        return Err(not_offered(attempt.method, &mechanisms));
    }
    smtp.authenticate()
}

/// The steps of the login, in order.
impl Smtp<'_> {
    fn greeting(&mut self) -> Result<(), Failure> {
        let doing = "waiting for the greeting";
        let greeting = self.reply(doing)?;
        if greeting.code != 220 {
            let mut failure = unexpected(&greeting, doing);
            if greeting.code >= 500 {
                failure.message = "the server refused the connection".into();
            }
            return Err(failure);
        }
        Ok(())
    }

    /// STARTTLS when EHLO offered it (`offered`), then EHLO again; returns the mechanisms offered
    /// over TLS. The token is never sent in the clear.
    fn start_tls(mut self, offered: bool) -> Result<(Self, Vec<String>), Failure> {
        let implicit_example = self.lines.attempt.endpoint.at_implicit_tls_port().url();
        if !offered {
            self.quit();
            return Err(Failure::new(
                Kind::NoStartTls,
                "the server does not offer STARTTLS; the token was not sent over an unencrypted \
                 connection",
            )
            .hint(format!(
                "use the server's implicit-TLS endpoint if it has one, e.g. {implicit_example}"
            )));
        }
        let doing = "starting TLS";
        let reply = self.command("STARTTLS", doing)?;
        if reply.code != 220 {
            let mut failure = unexpected(&reply, doing);
            if reply.code >= 500 {
                failure.kind = Kind::NoStartTls;
                failure.message = "the server refused STARTTLS; the token was not sent".into();
            }
            return Err(failure);
        }
        self.lines = self.lines.start_tls("STARTTLS", &implicit_example)?;
        // What the server offered in the clear is forgotten (RFC 3207 section 4.2).
        let (mechanisms, _) = self.ehlo()?;
        Ok((self, mechanisms))
    }

    /// AUTH with the token as initial response, answering a failure challenge so that the server
    /// can finish with its final reply (RFC 7628 section 3.2.3), then the verdict and QUIT.
    fn authenticate(&mut self) -> Result<(), Failure> {
        let method = self.lines.attempt.method;
        let doing = "during AUTH";
        let response = sasl::base64(&self.lines.attempt.initial_response());
        let command = Secret::new(format!("AUTH {} {}", method.name(), response.expose()));
        let mut reply = self.command(command.expose(), doing)?;
        let mut challenge: Option<Challenge> = None;
        let mut answered = 0;
        while reply.code == 334 && answered < MAX_CHALLENGES {
            answered += 1;
            let data = reply.lines.first().map(String::as_str).unwrap_or("");
            challenge = Challenge::from_base64(data).or(challenge);
            let dummy = Secret::new(String::from_utf8_lossy(challenge::dummy_response(method)));
            reply = self.command(sasl::base64(&dummy).expose(), doing)?;
        }
        let failure = match reply.code {
            235 => {
                if let Some(sender) = self.lines.attempt.sender.clone() {
                    self.may_send_as(&sender)?;
                }
                self.quit();
                return Ok(());
            }
            // 504: "Unrecognized authentication type" (RFC 4954 section 6).
            504 => Failure::new(
                Kind::Unsupported,
                format!("the server does not accept AUTH {}", method.name()),
            ),
            500..=599 => Failure::new(Kind::Refused, "the server refused the token"),
            _ => unexpected(&reply, doing),
        };
        if matches!(failure.kind, Kind::Refused | Kind::Unsupported) {
            self.quit();
        }
        Err(failure.reply(Some(reply.text())).challenge(challenge))
    }
}

impl Smtp<'_> {
    /// After the login of a delegate: may it send as the shared mailbox? `MAIL FROM` names it
    /// (RFC 5321 section 3.3) and `RSET` drops the transaction (section 4.1.1.5), so nothing is
    /// sent. Exchange Online refuses a sender the login may not use ("550 5.7.60 SMTP; Client
    /// does not have permissions to send as this sender", gophish/gophish#1600).
    fn may_send_as(&mut self, sender: &str) -> Result<(), Failure> {
        let doing = "naming the shared mailbox as the sender after the login";
        let reply = self.command(&format!("MAIL FROM:<{sender}>"), doing)?;
        if reply.code / 100 == 2 {
            self.command("RSET", doing)?;
            return Ok(());
        }
        let mut failure = if reply.code >= 500 {
            Failure::new(
                Kind::Refused,
                format!("the login worked, then the server refused {sender} as the sender"),
            )
        } else {
            unexpected(&reply, doing)
        };
        failure.after_login = true;
        self.quit();
        Err(failure.reply(Some(reply.text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_are_parsed() {
        assert_eq!(
            parse_line("250-AUTH PLAIN"),
            Some((250, false, "AUTH PLAIN"))
        );
        assert_eq!(parse_line("250 OK"), Some((250, true, "OK")));
        assert_eq!(parse_line("221"), Some((221, true, "")));
        assert_eq!(parse_line("* OK this is IMAP"), None);
        assert_eq!(parse_line("HTTP/1.1 400"), None);
        assert_eq!(parse_line("250xyz"), None);
        assert_eq!(parse_line("999 nine"), None);
    }

    #[test]
    fn auth_lines_are_read() {
        let lines: Vec<String> = [
            "mail.example.com",
            "AUTH PLAIN XOAUTH2",
            "AUTH=LOGIN OAUTHBEARER",
            "SIZE 100",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            auth_mechanisms(&lines),
            vec!["PLAIN", "XOAUTH2", "LOGIN", "OAUTHBEARER"]
        );
    }

    #[test]
    fn replies_read_as_one_line() {
        let reply = Reply {
            code: 535,
            lines: vec!["5.7.8 Authentication failed".into()],
        };
        assert_eq!(reply.text(), "535 5.7.8 Authentication failed");
    }
}
