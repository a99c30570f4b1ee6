//! What the fake mail servers say: a well-behaved IMAP, POP or SMTP server with a configurable
//! `Behaviour` (`serving`), and the plainest XOAUTH2-only server that leaves one answer to the
//! test (`xoauth2_only`), for servers that misbehave in one place.

use mailtoken::testing::mailserver::Protocol;

use super::base64::{decode_text, encode};
use super::mail::{Script, Session};

/// What a scripted server offers and accepts.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Offer STARTTLS (STLS) on a plain connection.
    pub starttls: bool,
    /// The SASL mechanisms offered.
    pub mechanisms: Vec<String>,
    /// Access tokens the server accepts; any other is refused after a failure challenge.
    pub accept: Vec<String>,
    /// The JSON failure challenge.
    pub challenge: String,
    /// IMAP: quote the client's SASL response in the final NO, as a careless server might.
    pub echo: bool,
    /// IMAP: offer SASL-IR (RFC 4959) and take the initial response on the AUTHENTICATE line.
    pub sasl_ir: bool,
}

/// Google's XOAUTH2 failure challenge.
pub const GOOGLE_CHALLENGE: &str =
    r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#;

impl Behaviour {
    /// Offers STARTTLS, XOAUTH2 and OAUTHBEARER, and accepts `token`.
    pub fn accepting(token: &str) -> Behaviour {
        Behaviour {
            starttls: true,
            mechanisms: vec!["XOAUTH2".into(), "OAUTHBEARER".into()],
            accept: vec![token.to_string()],
            challenge: GOOGLE_CHALLENGE.to_string(),
            echo: false,
            sasl_ir: false,
        }
    }

    /// Whether STARTTLS is on offer now: asked for, and not done yet.
    fn offers_starttls(&self, s: &Session) -> bool {
        self.starttls && !s.is_tls()
    }

    fn offers(&self, mechanism: &str) -> bool {
        self.mechanisms
            .iter()
            .any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// Answers the SASL `response`: `ok` when it carries an accepted token; else the failure
    /// challenge after `prompt` and, once the client has answered that, `refusal`. False when the
    /// client went away instead.
    fn answer(
        &self,
        s: &mut Session,
        response: &str,
        prompt: &str,
        ok: &str,
        refusal: &str,
    ) -> bool {
        let decoded = decode_text(response);
        if bearer_token(&decoded).is_some_and(|token| self.accept.iter().any(|t| t == token)) {
            s.send(ok);
            return true;
        }
        s.send(&format!("{prompt}{}", encode(&self.challenge)));
        let answered = s.line().is_some();
        if answered {
            s.send(refusal);
        }
        answered
    }
}

/// The first `N` words of a command line, the last one with the rest of the line.
fn words<const N: usize>(line: &str) -> [String; N] {
    let mut words = line.splitn(N, ' ');
    std::array::from_fn(|_| words.next().unwrap_or("").to_string())
}

/// The token in an XOAUTH2 or OAUTHBEARER response.
fn bearer_token(decoded: &str) -> Option<&str> {
    let start = decoded.find("auth=Bearer ")? + "auth=Bearer ".len();
    let rest = &decoded[start..];
    Some(&rest[..rest.find('\x01')?])
}

/// The scripted server for `protocol`, offering and accepting what `behaviour` says.
pub fn serving(protocol: Protocol, behaviour: Behaviour) -> Box<Script> {
    match protocol {
        Protocol::Imap => Box::new(move |s: &mut Session| imap(s, &behaviour)),
        Protocol::Pop => Box::new(move |s: &mut Session| pop(s, &behaviour)),
        Protocol::Smtp => Box::new(move |s: &mut Session| smtp(s, &behaviour)),
    }
}

/// An IMAP server (RFC 3501) that does CAPABILITY, STARTTLS, AUTHENTICATE, EXAMINE and LOGOUT.
fn imap(s: &mut Session, behaviour: &Behaviour) {
    s.send("* OK fake IMAP ready");
    while let Some(line) = s.line() {
        let [tag, command, argument] = words(&line);
        let command = command.to_ascii_uppercase();
        match command.as_str() {
            "CAPABILITY" => {
                let mut caps = vec!["IMAP4rev1".to_string()];
                if behaviour.offers_starttls(s) {
                    caps.push("STARTTLS".into());
                }
                if behaviour.sasl_ir {
                    caps.push("SASL-IR".into());
                }
                caps.extend(behaviour.mechanisms.iter().map(|m| format!("AUTH={m}")));
                s.send(&format!("* CAPABILITY {}", caps.join(" ")));
                s.send(&format!("{tag} OK CAPABILITY completed"));
            }
            "STARTTLS" if behaviour.offers_starttls(s) => {
                s.send(&format!("{tag} OK Begin TLS negotiation now"));
                s.start_tls();
            }
            "AUTHENTICATE" if !behaviour.offers(argument.split(' ').next().unwrap()) => {
                s.send(&format!(
                    "{tag} NO [CANNOT] Unsupported authentication mechanism"
                ));
            }
            "AUTHENTICATE" => {
                let response = match argument.split_once(' ') {
                    Some((_, initial)) if behaviour.sasl_ir => initial.to_string(),
                    Some(_) => {
                        s.send(&format!("{tag} BAD SASL-IR not offered"));
                        continue;
                    }
                    None => {
                        s.send("+ ");
                        let Some(response) = s.line() else { return };
                        response
                    }
                };
                let why = match behaviour.echo {
                    true => format!("refused {response}"),
                    false => "Authentication failed.".to_string(),
                };
                let ok = format!("{tag} OK Logged in");
                let refusal = format!("{tag} NO [AUTHENTICATIONFAILED] {why}");
                if !behaviour.answer(s, &response, "+ ", &ok, &refusal) {
                    return;
                }
            }
            "EXAMINE" | "SELECT" => {
                s.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
                s.send("* 2 EXISTS");
                s.send("* 0 RECENT");
                s.send("* OK [UIDVALIDITY 1] UIDs valid");
                s.send(&format!("{tag} OK [READ-ONLY] {command} completed"));
            }
            "LOGOUT" => {
                s.send("* BYE Logging out");
                s.send(&format!("{tag} OK Logout completed"));
                return;
            }
            _ => s.send(&format!("{tag} BAD Unknown command")),
        }
    }
}

/// A POP3 server (RFC 1939, 2449, 5034, 2595) that does CAPA, STLS, AUTH, STAT and QUIT.
fn pop(s: &mut Session, behaviour: &Behaviour) {
    s.send("+OK fake POP3 ready");
    while let Some(line) = s.line() {
        let [command, argument] = words(&line);
        match command.to_ascii_uppercase().as_str() {
            "CAPA" => {
                s.send("+OK Capability list follows");
                s.send("USER");
                if behaviour.offers_starttls(s) {
                    s.send("STLS");
                }
                if !behaviour.mechanisms.is_empty() {
                    s.send(&format!("SASL {}", behaviour.mechanisms.join(" ")));
                }
                s.send(".");
            }
            "STLS" if behaviour.offers_starttls(s) => {
                s.send("+OK Begin TLS negotiation");
                s.start_tls();
            }
            "AUTH" if !behaviour.offers(&argument) => {
                s.send("-ERR Unsupported authentication mechanism.");
            }
            "AUTH" => {
                s.send("+ ");
                let Some(response) = s.line() else { return };
                let refusal = "-ERR [AUTH] Authentication failed.";
                if !behaviour.answer(s, &response, "+ ", "+OK Logged in.", refusal) {
                    return;
                }
            }
            "STAT" => s.send("+OK 2 320"),
            "QUIT" => {
                s.send("+OK Logging out.");
                return;
            }
            _ => s.send("-ERR Unknown command"),
        }
    }
}

/// An SMTP submission server (RFC 5321, 3207, 4954) that does EHLO, STARTTLS, AUTH and QUIT.
fn smtp(s: &mut Session, behaviour: &Behaviour) {
    s.send("220 fake.example ESMTP ready");
    while let Some(line) = s.line() {
        let [command, mechanism, initial] = words(&line);
        match command.to_ascii_uppercase().as_str() {
            "EHLO" => {
                let mut lines = vec!["fake.example".to_string()];
                if behaviour.offers_starttls(s) {
                    lines.push("STARTTLS".into());
                }
                if !behaviour.mechanisms.is_empty() {
                    lines.push(format!("AUTH {}", behaviour.mechanisms.join(" ")));
                }
                lines.push("8BITMIME".into());
                let last = lines.len() - 1;
                for (i, text) in lines.iter().enumerate() {
                    let separator = if i == last { ' ' } else { '-' };
                    s.send(&format!("250{separator}{text}"));
                }
            }
            "STARTTLS" if behaviour.offers_starttls(s) => {
                s.send("220 2.0.0 Ready to start TLS");
                s.start_tls();
            }
            "AUTH" if !behaviour.offers(&mechanism) => {
                s.send("504 5.5.4 Unrecognized authentication type");
            }
            "AUTH" => {
                let ok = "235 2.7.0 Authentication successful";
                let refusal = "535 5.7.8 Authentication credentials invalid";
                if !behaviour.answer(s, &initial, "334 ", ok, refusal) {
                    return;
                }
            }
            "QUIT" => {
                s.send("221 2.0.0 Bye");
                return;
            }
            _ => s.send("502 5.5.2 Command not recognized"),
        }
    }
}

/// What a client said to an `xoauth2_only` server, after the greeting and the capabilities.
pub enum Said<'a> {
    /// The login, its SASL response read (SMTP's is on the AUTH line itself).
    Login,
    /// Any other command line.
    Command(&'a str),
}

/// How an `xoauth2_only` server answers: given the session, the line's first word (the IMAP tag)
/// and what was said; false ends the conversation.
pub type Answer = fn(&mut Session, &str, Said) -> bool;

/// The plainest greeting of `protocol`.
pub fn greet(s: &mut Session, protocol: Protocol) {
    s.send(match protocol {
        Protocol::Imap => "* OK ready",
        Protocol::Pop => "+OK ready",
        Protocol::Smtp => "220 ready",
    });
}

/// Answers `line` when it asks for the capabilities, offering XOAUTH2 and no STARTTLS; false
/// for any other line, which is the caller's to answer.
pub fn offered_xoauth2_only(s: &mut Session, protocol: Protocol, line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    match protocol {
        Protocol::Imap if upper.contains("CAPABILITY") => {
            let tag = line.split(' ').next().unwrap_or("");
            s.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2");
            s.send(&format!("{tag} OK done"));
        }
        Protocol::Pop if upper == "CAPA" => s.send("+OK\r\nSASL XOAUTH2\r\n."),
        Protocol::Smtp if upper.starts_with("EHLO") => s.send("250-x\r\n250 AUTH XOAUTH2"),
        _ => return false,
    }
    true
}

/// A server for `protocol` with the plainest greeting and capabilities, offering XOAUTH2 and no
/// STARTTLS, that leaves the answer to the login and to every other command to `answer`: for
/// servers that misbehave in one place.
pub fn xoauth2_only(protocol: Protocol, answer: Answer) -> impl Fn(&mut Session) + Send + Sync {
    move |s: &mut Session| {
        greet(s, protocol);
        while let Some(line) = s.line() {
            let tag = line.split(' ').next().unwrap_or("").to_string();
            if offered_xoauth2_only(s, protocol, &line) {
                continue;
            }
            let said = match protocol {
                Protocol::Imap if line.contains("AUTHENTICATE") => {
                    s.send("+ ");
                    let _ = s.line();
                    Said::Login
                }
                Protocol::Pop if line == "AUTH XOAUTH2" => {
                    s.send("+ ");
                    let _ = s.line();
                    Said::Login
                }
                Protocol::Smtp if line.starts_with("AUTH") => Said::Login,
                _ => Said::Command(&line),
            };
            if !answer(s, &tag, said) {
                return;
            }
        }
    }
}

/// A server script that fits in a table of test cases.
pub type ScriptFn = fn(&mut Session);
