//! What a failed login test is: its kind (which decides the exit status), the server's reply and
//! challenge, and the rules that turn a server's "no" into the right kind.

use super::challenge::Challenge;
use super::transcript::SharedTranscript;
use crate::base::error::ExitStatus;
use crate::base::log;
use crate::mail::sasl::SaslMethod;

/// Why a login test did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The server said no to the token (or to the first command after the login).
    Refused,
    /// The server does not offer the SASL mechanism; the token was not sent.
    Unsupported,
    /// A STARTTLS endpoint that does not offer STARTTLS; the token was not sent.
    NoStartTls,
    /// An implicit-TLS endpoint whose server answered in plain text: the port speaks STARTTLS
    /// (or nothing mail), so the URL is wrong; the token was not sent.
    NotTls,
    /// A STARTTLS endpoint whose server sent no greeting and speaks TLS from the first byte:
    /// the URL must say imaps://, pop3s:// or smtps://; the token was not sent.
    TlsPort,
    /// The server's certificate comes from an authority mailtoken does not trust: only the
    /// trust (SSL_CERT_FILE, the system's store) can change that; the token was not sent.
    Untrusted,
    /// The server reported a temporary problem of its own (a response code saying so).
    Unavailable,
    /// Could not connect, TLS failed, or the connection broke.
    Network,
    /// The server did not answer in time.
    Timeout,
    /// The server's replies are not the protocol.
    Protocol,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Refused => "refused",
            Kind::Unsupported => "mechanism not offered",
            Kind::NoStartTls => "no STARTTLS",
            Kind::NotTls => "not TLS",
            Kind::TlsPort => "TLS port",
            Kind::Untrusted => "certificate not trusted",
            Kind::Unavailable => "server trouble",
            Kind::Network => "network error",
            Kind::Timeout => "timed out",
            Kind::Protocol => "bad reply",
        }
    }

    /// 69 when the server will not take the login, 78 when the endpoint's URL is wrong (the
    /// flag that gives it is what to change), 75 when trying later may help.
    pub fn status(self) -> ExitStatus {
        match self {
            Kind::Refused | Kind::Unsupported | Kind::NoStartTls => ExitStatus::LoginFailed,
            Kind::NotTls | Kind::TlsPort | Kind::Untrusted => ExitStatus::Config,
            Kind::Unavailable | Kind::Network | Kind::Timeout | Kind::Protocol => {
                ExitStatus::Temporary
            }
        }
    }
}

/// A failed login test: what happened, and what the server said.
#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub message: String,
    pub hint: Option<String>,
    /// The server's last line, as received.
    pub reply: Option<String>,
    /// Boxed: most failures have none, and results stay small.
    pub challenge: Option<Box<Challenge>>,
    /// The login was accepted and the next command refused.
    pub after_login: bool,
    /// IMAP `[ALERT]` responses that came before, outside the reply: RFC 3501 section 7.1 says
    /// the user must see them.
    pub alerts: Vec<String>,
}

impl Failure {
    pub fn new(kind: Kind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
            hint: None,
            reply: None,
            challenge: None,
            after_login: false,
            alerts: Vec::new(),
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    pub fn reply(mut self, reply: Option<String>) -> Failure {
        self.reply = reply;
        self
    }

    pub fn challenge(mut self, challenge: Option<Challenge>) -> Failure {
        self.challenge = challenge.map(Box::new);
        self
    }

    /// A "no" whose reply carries a response code for a temporary problem of the server's own is
    /// not a refusal of the token: trying later may work, and refreshing would not help.
    pub fn server_trouble(mut self) -> Failure {
        if self.kind == Kind::Refused && self.reply.as_deref().is_some_and(has_temporary_code) {
            self.kind = Kind::Unavailable;
            self.message = if self.after_login {
                "the login worked, then the server failed to open the mailbox: a problem on its side"
            } else {
                "the server could not check the login now: a problem on its side"
            }
            .to_string();
        }
        self
    }

    /// Replaces every occurrence of `secrets` in what will be shown, and every echo of a secret
    /// sent (`redact`: recased, cut short, a piece of one).
    pub fn redact(mut self, secrets: &[crate::base::secret::Secret]) -> Failure {
        let clean = |text: &mut String| {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                if text.contains(secret.expose()) {
                    *text = text.replace(secret.expose(), "(redacted)");
                }
            }
            *text = crate::base::redact::scrub(text);
        };
        clean(&mut self.message);
        if let Some(hint) = self.hint.as_mut() {
            clean(hint);
        }
        if let Some(reply) = self.reply.as_mut() {
            clean(reply);
        }
        self.alerts.iter_mut().for_each(clean);
        self
    }

    /// Adds the server's last line from the transcript, unless a reply is already known.
    pub fn with_last_reply(mut self, transcript: &SharedTranscript) -> Failure {
        if self.reply.is_none() {
            self.reply = transcript.borrow().last_server_line();
        }
        self
    }
}

/// Response codes for a temporary problem on the server's side: IMAP's UNAVAILABLE, SERVERBUG,
/// INUSE and LIMIT (RFC 5530 section 3), POP's SYS/TEMP and IN-USE (RFC 3206 section 4) and
/// LOGIN-DELAY (RFC 2449 section 8.1.2).
const TEMPORARY_CODES: &[&str] = &[
    "[UNAVAILABLE",
    "[SERVERBUG",
    "[INUSE",
    "[LIMIT",
    "[SYS/TEMP",
    "[IN-USE",
    "[LOGIN-DELAY",
];

fn has_temporary_code(reply: &str) -> bool {
    let upper = reply.to_ascii_uppercase();
    TEMPORARY_CODES.iter().any(|code| upper.contains(code))
}

/// The failure for a server that does not list the mechanism; the token is not sent to it.
pub(crate) fn not_offered(method: SaslMethod, offered: &[String]) -> Failure {
    let other = match method {
        SaslMethod::Xoauth2 => SaslMethod::Oauthbearer,
        SaslMethod::Oauthbearer => SaslMethod::Xoauth2,
    };
    let list = if offered.is_empty() {
        "no SASL mechanism".to_string()
    } else {
        offered.join(" ")
    };
    let failure = Failure::new(
        Kind::Unsupported,
        format!(
            "the server does not offer {} (it offers: {}); the token was not sent",
            method.name(),
            log::sanitize(&list)
        ),
    );
    if offered.iter().any(|m| m.eq_ignore_ascii_case(other.name())) {
        failure.hint(format!(
            "the server offers {0}: try --sasl-method {0}",
            other.name()
        ))
    } else {
        failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_codes_are_server_trouble() {
        let refused = |reply: &str| {
            Failure::new(Kind::Refused, "no")
                .reply(Some(reply.to_string()))
                .server_trouble()
                .kind
        };
        assert_eq!(
            refused("a2 NO [UNAVAILABLE] Temporary authentication failure."),
            Kind::Unavailable
        );
        assert_eq!(refused("-ERR [SYS/TEMP] Internal error"), Kind::Unavailable);
        assert_eq!(
            refused("a2 NO [AUTHENTICATIONFAILED] Authentication failed."),
            Kind::Refused
        );
    }

    #[test]
    fn secrets_are_redacted_from_everything_shown() {
        let token = crate::base::secret::Secret::new("tok-123");
        let failure = Failure::new(Kind::Refused, "sent AUTH XOAUTH2 tok-123")
            .reply(Some("a1 NO echo: tok-123".into()))
            .hint("not tok-123")
            .redact(&[token, crate::base::secret::Secret::default()]);
        let mut alerted = Failure::new(Kind::Refused, "no");
        alerted.alerts = vec!["* OK [ALERT] you sent tok-123".into()];
        let alerted = alerted.redact(&[crate::base::secret::Secret::new("tok-123")]);
        assert_eq!(alerted.alerts, ["* OK [ALERT] you sent (redacted)"]);
        assert_eq!(failure.message, "sent AUTH XOAUTH2 (redacted)");
        assert_eq!(failure.reply.as_deref(), Some("a1 NO echo: (redacted)"));
        assert_eq!(failure.hint.as_deref(), Some("not (redacted)"));
    }

    #[test]
    fn the_other_mechanism_is_suggested() {
        let failure = not_offered(SaslMethod::Oauthbearer, &["PLAIN".into(), "xoauth2".into()]);
        assert_eq!(failure.kind, Kind::Unsupported);
        assert_eq!(
            failure.hint.as_deref(),
            Some("the server offers XOAUTH2: try --sasl-method XOAUTH2")
        );
        assert!(not_offered(SaslMethod::Xoauth2, &[]).hint.is_none());
    }
}
