//! `--test`: log in to the account's IMAP, POP and SMTP servers with the access token, and when a
//! login fails, say in plain words why.
//!
//! Each protocol has its own module; they share the connection (timeouts, TLS, trace) and the
//! decoding of failure challenges. This module picks the endpoints, gets the token, retries once
//! with a refreshed token when a cached one is refused, prints one line per protocol on stderr
//! and turns the results into the exit status: 0 all logged in, 69 a login refused, 75 a network
//! problem or timeout.

mod challenge;
mod connection;
mod imap;
mod pop;
mod smtp;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use crate::cli::{Protocol, SaslMethod};
use crate::error::{Error, ExitStatus, Result};
use crate::log;
use crate::provider::MailEndpoint;
use crate::refresh::{self, Current, Source};
use crate::sasl;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::tokenfile::TokenFile;

use challenge::{Challenge, Facts};
use connection::{SharedTranscript, Transcript};

/// Time allowed for each connect, read and write with a mail server. Interactive mail servers
/// answer in well under a second; 20 s leaves room for slow links without hanging a script.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Environment variable overriding [`TIMEOUT`], in seconds (fractions allowed): slow links, and
/// tests of a server that stops answering.
pub const TIMEOUT_VARIABLE: &str = "MAILTOKEN_MAIL_TIMEOUT";

/// The timeout in force.
fn timeout() -> Duration {
    std::env::var(TIMEOUT_VARIABLE)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| *seconds > 0.0 && seconds.is_finite() && *seconds < 86_400.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(TIMEOUT)
}

/// A duration for messages: "20 s", "0.5 s".
fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

/// Why a login test did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The server said no to the token (or to the first command after the login).
    Refused,
    /// The server does not offer the SASL mechanism; the token was not sent.
    Unsupported,
    /// A STARTTLS endpoint that does not offer STARTTLS; the token was not sent.
    NoStartTls,
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
    fn word(self) -> &'static str {
        match self {
            Kind::Refused => "refused",
            Kind::Unsupported => "mechanism not offered",
            Kind::NoStartTls => "no STARTTLS",
            Kind::Unavailable => "server trouble",
            Kind::Network => "network error",
            Kind::Timeout => "timed out",
            Kind::Protocol => "bad reply",
        }
    }

    /// 69 when the login cannot work as configured, 75 when trying later may help.
    fn status(self) -> ExitStatus {
        match self {
            Kind::Refused | Kind::Unsupported | Kind::NoStartTls => ExitStatus::LoginFailed,
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
    fn server_trouble(mut self) -> Failure {
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

/// Everything one login attempt needs; owned, so it can run on a thread of its own.
pub struct Attempt {
    pub endpoint: MailEndpoint,
    pub method: SaslMethod,
    pub user: String,
    pub token: Secret,
    pub config: Arc<ClientConfig>,
    pub timeout: Duration,
}

impl Attempt {
    /// The raw SASL initial response: OAUTHBEARER carries this endpoint's host and port.
    pub fn initial_response(&self) -> Secret {
        sasl::initial_response(
            self.method,
            &self.user,
            &self.endpoint.host,
            self.endpoint.port,
            &self.token,
        )
    }

    /// The `--debug` trace for this attempt, told which strings never to show.
    pub fn transcript(&self) -> SharedTranscript {
        let raw = self.initial_response();
        let encoded = sasl::base64(&raw);
        Transcript::new(
            self.endpoint.protocol.name(),
            vec![encoded, raw, self.token.clone()],
        )
    }

    fn implicit_tls(&self) -> bool {
        self.endpoint.tls == crate::provider::Tls::Implicit
    }
}

/// The failure for a server that does not list the mechanism; the token is not sent to it.
fn not_offered(method: SaslMethod, offered: &[String]) -> Failure {
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

/// A conversation with one server may last this many timeouts in all: each step has its own
/// timeout, so without a limit a server sending one byte at a time could hold `--test` forever.
const DEADLINE_FACTOR: u32 = 4;

/// Runs one login on a thread of its own and waits at most a little longer than the
/// conversation's limit. IMAP and POP stop themselves at that limit; lettre has only per-read
/// timeouts, so this is what bounds an SMTP server that trickles. A thread given up on ends with
/// the process.
fn attempt(attempt: Attempt) -> std::result::Result<(), Failure> {
    let limit = attempt.timeout * (DEADLINE_FACTOR + 1);
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let result = match attempt.endpoint.protocol {
            Protocol::Imap => imap::login(&attempt),
            Protocol::Pop => pop::login(&attempt),
            Protocol::Smtp => smtp::login(&attempt),
        };
        let _ = sender.send(result);
    });
    match receiver.recv_timeout(limit) {
        Ok(result) => result.map_err(Failure::server_trouble),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Failure::new(
            Kind::Timeout,
            format!(
                "the conversation took longer than {}, the limit for one server",
                seconds(limit)
            ),
        )),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Failure::new(
            Kind::Protocol,
            "the login test stopped unexpectedly",
        )),
    }
}

/// Tests every mail endpoint of the account (or the one `--protocol` names).
pub fn run(settings: &Settings) -> Result<()> {
    let account = settings.account();
    let mut current = refresh::current_token(&account, &settings.client, settings.force_refresh)?;
    log::verbose(match current.source {
        Source::Cached => "testing with the cached access token",
        Source::CachedAfterFailure => "testing with the cached access token (the refresh failed)",
        Source::Refreshed => "testing with a freshly refreshed access token",
        Source::RefreshedElsewhere => "testing with the token another process just refreshed",
    });
    let endpoints = endpoints(settings, &current.token)?;
    if current.token.email.is_empty() {
        return Err(
            Error::config("the account has no e-mail address to log in as")
                .hint("pass --email ADDRESS"),
        );
    }
    let config = crate::tls::client_config()?;
    let timeout = timeout();
    let method = settings
        .registration
        .sasl_method
        .unwrap_or(current.token.registration.sasl_method);

    let mut failed: Vec<(Protocol, Kind)> = Vec::new();
    let mut may_refresh = current.source == Source::Cached;
    for endpoint in &endpoints {
        let run_once = |current: &Current| {
            let started = Instant::now();
            let result = attempt(Attempt {
                endpoint: endpoint.clone(),
                method,
                user: current.token.email.clone(),
                token: current.token.access_token.clone(),
                config: Arc::clone(&config),
                timeout,
            });
            (result, started.elapsed())
        };
        let (mut result, mut elapsed) = run_once(&current);
        let mut fresh = matches!(
            current.source,
            Source::Refreshed | Source::RefreshedElsewhere
        );
        let mut retried = false;

        if may_refresh && matches!(&result, Err(failure) if failure.kind == Kind::Refused) {
            may_refresh = false;
            if let Err(failure) = &result {
                say_line(endpoint, method, failure.kind.word(), elapsed);
                say_reply(failure);
            }
            say_detail("the cached token was refused; refreshing it and trying once more");
            match refresh::current_token(&account, &settings.client, true) {
                Ok(refreshed) => {
                    current = refreshed;
                    (result, elapsed) = run_once(&current);
                    fresh = true;
                    retried = true;
                }
                Err(error) => {
                    say_detail(format!("the refresh failed: {}", error.message()));
                    if let Some(hint) = error.hint_text() {
                        say_detail(format!("hint: {hint}"));
                    }
                    if let Err(failure) = &result {
                        explain(failure, endpoint, &current.token, fresh, false);
                    }
                    failed.push((endpoint.protocol, Kind::Refused));
                    continue;
                }
            }
        }

        match result {
            Ok(()) => {
                say_line(endpoint, method, "ok", elapsed);
                if retried {
                    say_detail(
                        "with a refreshed token: the cached one was stale (revoked or expired \
                         early), and the file now holds the new one",
                    );
                }
            }
            Err(failure) => {
                say_line(endpoint, method, failure.kind.word(), elapsed);
                if retried && failure.kind == Kind::Refused {
                    say_detail(
                        "refused again with a freshly refreshed token: this is a real refusal, \
                         not a stale token",
                    );
                }
                explain(&failure, endpoint, &current.token, fresh, true);
                failed.push((endpoint.protocol, failure.kind));
            }
        }
    }
    outcome(&failed)
}

/// The endpoints to test: the registration's, a command-line endpoint replacing the stored one,
/// narrowed by `--protocol`.
fn endpoints(settings: &Settings, token: &TokenFile) -> Result<Vec<MailEndpoint>> {
    let protocols = match settings.protocol {
        Some(protocol) => vec![protocol],
        None => vec![Protocol::Imap, Protocol::Pop, Protocol::Smtp],
    };
    let mut endpoints = Vec::new();
    for protocol in protocols {
        let given = match protocol {
            Protocol::Imap => &settings.registration.imap_endpoint,
            Protocol::Pop => &settings.registration.pop_endpoint,
            Protocol::Smtp => &settings.registration.smtp_endpoint,
        };
        match given.as_ref().or(token.registration.endpoint(protocol)) {
            Some(endpoint) => endpoints.push(endpoint.clone()),
            None if settings.protocol.is_some() => {
                return Err(Error::config(format!(
                    "the account has no {} endpoint to test",
                    protocol.name()
                ))
                .hint(format!(
                    "pass --{}-endpoint URL",
                    protocol.name().to_lowercase()
                )));
            }
            None => log::verbose(format!(
                "the account has no {} endpoint; not tested",
                protocol.name()
            )),
        }
    }
    if endpoints.is_empty() {
        return Err(
            Error::config("the account has no IMAP, POP or SMTP endpoint to test")
                .hint("pass --imap-endpoint URL (or --pop-endpoint, --smtp-endpoint)"),
        );
    }
    Ok(endpoints)
}

/// The exit status: a refused login outweighs a network problem, which outweighs success.
fn outcome(failed: &[(Protocol, Kind)]) -> Result<()> {
    let names = |status: ExitStatus| {
        failed
            .iter()
            .filter(|(_, kind)| kind.status() == status)
            .map(|(protocol, _)| protocol.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let refused = names(ExitStatus::LoginFailed);
    if !refused.is_empty() {
        return Err(
            Error::new(ExitStatus::LoginFailed, format!("login failed: {refused}"))
                .hint("the lines above say why; --debug shows the conversation"),
        );
    }
    let unreachable = names(ExitStatus::Temporary);
    if !unreachable.is_empty() {
        return Err(
            Error::temporary(format!("could not complete the test: {unreachable}"))
                .hint("try again later if the network or the server was at fault; --debug shows the conversation"),
        );
    }
    Ok(())
}

/// `IMAP  imaps://imap.example.com:993  XOAUTH2  ok  (0.21 s)`
fn say_line(endpoint: &MailEndpoint, method: SaslMethod, status: &str, elapsed: Duration) {
    log::say(format!(
        "{:<4}  {}  {}  {status}  ({:.2} s)",
        endpoint.protocol.name(),
        endpoint.url(),
        method.name(),
        elapsed.as_secs_f64()
    ));
}

fn say_detail(text: impl std::fmt::Display) {
    log::say(format!("      {text}"));
}

fn say_reply(failure: &Failure) {
    if let Some(reply) = &failure.reply {
        say_detail(format!("server said: {}", log::sanitize(reply)));
    }
}

/// The detail lines under a failed protocol: what happened, the server's reply and challenge,
/// and the likely causes.
/// `show_reply` is false when the reply was already shown above, on the first attempt's line.
fn explain(
    failure: &Failure,
    endpoint: &MailEndpoint,
    token: &TokenFile,
    fresh: bool,
    show_reply: bool,
) {
    say_detail(log::sanitize(&failure.message));
    if show_reply {
        say_reply(failure);
    }
    if let Some(challenge) = &failure.challenge {
        say_detail(format!("challenge: {}", challenge.summary()));
    }
    if failure.kind == Kind::Refused {
        let scope = token
            .granted_scope
            .as_deref()
            .unwrap_or(&token.registration.scope);
        let causes = challenge::explain(&Facts {
            protocol: endpoint.protocol,
            email: &token.email,
            token_scope: Some(scope),
            fresh_token: fresh,
            after_login: failure.after_login,
            reply: failure.reply.as_deref(),
            challenge: failure.challenge.as_deref(),
        });
        for cause in causes {
            say_detail(format!("likely: {cause}"));
        }
    }
    match &failure.hint {
        Some(hint) => say_detail(format!("hint: {hint}")),
        None if failure.kind == Kind::Protocol => say_detail(format!(
            "hint: check that {} is the {} server and port (another service answers like this)",
            endpoint.url(),
            endpoint.protocol.name()
        )),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_outweigh_network_errors() {
        assert!(outcome(&[]).is_ok());
        let error = outcome(&[(Protocol::Imap, Kind::Timeout)]).unwrap_err();
        assert_eq!(error.status(), ExitStatus::Temporary);
        let error = outcome(&[
            (Protocol::Imap, Kind::Timeout),
            (Protocol::Smtp, Kind::Unsupported),
        ])
        .unwrap_err();
        assert_eq!(error.status(), ExitStatus::LoginFailed);
        assert_eq!(error.message(), "login failed: SMTP");
    }

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
    fn durations_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(20)), "20 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
    }
}
