//! `--test`: log in to the account's IMAP, POP and SMTP servers with the access token, and when a
//! login fails, say in plain words why.
//!
//! This module picks the endpoints, gets the token, runs each login with a time limit, and
//! retries once with a refreshed token when a cached one is refused. The chapters import from
//! each other and from `attempt` (one login's inputs, the vocabulary they share), never from this
//! story: `imap`, `pop`, `smtp` (one protocol each, sharing `lines`, the reader of lines and of
//! IMAP's literals; `imap_response` reads what IMAP's responses say), `connection`
//! (TCP, TLS, timeouts), `transcript` (the redacted `--debug` trace), `challenge` (reading the
//! server's failure challenge), `causes` (the likely causes of a refusal, in plain words),
//! `failure` (what went wrong, and its kind) and `report` (the lines on stderr and the exit
//! status: 0 all logged in, 69 a login refused, 75 a network problem, timeout or server trouble).

mod attempt;
mod causes;
mod challenge;
mod connection;
mod failure;
mod imap;
mod imap_response;
mod lines;
mod pop;
mod report;
mod smtp;
mod transcript;

/// The pure parsers of mail server replies, public only so that the fuzz targets (fuzz/) can
/// run them; nothing else outside the crate uses them.
#[doc(hidden)]
pub mod parsers {
    pub use super::causes::{Facts, explain};
    pub use super::challenge::Challenge;
    pub use super::failure::{Failure, Kind};
    pub use super::imap_response::{
        Response, Status, capabilities, check_greeting, has, mechanisms, parse as imap_response,
        response_code, status_word,
    };
    pub use super::lines::{MAX_LITERAL, Unread, announced_literal, complete_line, read_response};
    pub use super::pop::{capability, continuation, is_err, is_ok};
    pub use super::smtp::{auth_mechanisms, parse_line as smtp_line};
}

use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::settings::Settings;
use crate::lifecycle::refresh::{self, Current, Source};
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::mail::sasl::SaslMethod;
use crate::oauth::provider::Registration;
use crate::store::tokenfile::Account;

use attempt::{Attempt, DEADLINE_FACTOR, seconds};
use failure::{Failure, Kind};
use report::{explain, outcome, say_detail, say_line, say_reply};

/// Time allowed for each connect, read and write with a mail server. Interactive mail servers
/// answer in well under a second; 20 s leaves room for slow links without hanging a script.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// Environment variable overriding [`TIMEOUT`], in seconds (fractions allowed): slow links, and
/// tests of a server that stops answering.
pub(crate) const TIMEOUT_VARIABLE: &str = "MAILTOKEN_MAIL_TIMEOUT";

/// The timeout in force.
fn timeout() -> Duration {
    crate::base::environment::seconds_from_env(
        TIMEOUT_VARIABLE,
        TIMEOUT,
        Duration::from_secs(86_400),
    )
}

/// Runs one login on a thread of its own and waits at most a little longer than the
/// conversation's limit. The connection stops itself at that limit; this is the backstop should
/// any step escape it (a library looping without reading). A thread given up on ends with the
/// process.
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
pub(crate) fn run(settings: &Settings) -> Result<()> {
    let account = settings.account();
    let current = refresh::current_token(&account, &settings.overrides, settings.force_refresh)?;
    log::verbose(match current.source {
        Source::Cached => "testing with the cached access token",
        Source::CachedAfterFailure => "testing with the cached access token (the refresh failed)",
        Source::Refreshed | Source::RefreshedUnsaved => {
            "testing with a freshly refreshed access token"
        }
        Source::RefreshedElsewhere => "testing with the token another process just refreshed",
    });
    let registration = settings
        .overrides
        .registration_for_this_run(&current.token.registration);
    let endpoints = endpoints(settings.protocol, &registration, &settings.token_given)?;
    if current.token.sasl_user().is_empty() {
        return Err(
            Error::config("the account has no e-mail address to log in as")
                .hint("pass --email ADDRESS"),
        );
    }
    let mut tester = Tester {
        settings,
        account,
        config: crate::net::tls::client_config()?,
        timeout: timeout(),
        method: registration.sasl_method,
        may_refresh: current.source == Source::Cached,
        current,
    };
    let mut failed: Vec<(Protocol, Kind)> = Vec::new();
    for endpoint in &endpoints {
        if let Some(kind) = tester.test(endpoint)? {
            failed.push((endpoint.protocol, kind));
        }
    }
    outcome(&failed)
}

/// What the logins of one run share: the token (refreshed at most once), the TLS configuration,
/// the timeout and the SASL mechanism.
struct Tester<'a> {
    settings: &'a Settings,
    account: Account,
    current: Current,
    config: Arc<ClientConfig>,
    timeout: Duration,
    method: SaslMethod,
    /// A refused cached token is refreshed once per run, at the first server that refuses it.
    may_refresh: bool,
}

impl Tester<'_> {
    /// Tests one endpoint and reports it on stderr; the kind of failure when it failed. Ends the
    /// whole test (77) when the refresh finds that the provider ended the login: no server can
    /// accept it then, and its refusal says nothing about scopes or settings.
    fn test(&mut self, endpoint: &MailEndpoint) -> Result<Option<Kind>> {
        let (result, elapsed) = self.try_login(endpoint);
        let fresh = matches!(
            self.current.source,
            Source::Refreshed | Source::RefreshedElsewhere | Source::RefreshedUnsaved
        );
        match result {
            Err(failure) if self.may_refresh && failure.kind == Kind::Refused => {
                self.may_refresh = false;
                self.retry_refreshed(endpoint, failure, elapsed, fresh)
            }
            result => Ok(self.report(endpoint, result, elapsed, fresh, false)),
        }
    }

    /// One login with the current token, and how long it took.
    fn try_login(&self, endpoint: &MailEndpoint) -> (std::result::Result<(), Failure>, Duration) {
        let started = Instant::now();
        let trial = Attempt {
            endpoint: endpoint.clone(),
            method: self.method,
            user: self.current.token.sasl_user().to_string(),
            sender: self.current.token.mailbox.clone(),
            token: self.current.token.access_token.clone(),
            config: Arc::clone(&self.config),
            timeout: self.timeout,
            account: self.settings.token_given.clone(),
        };
        // An echoing server, or a library quoting what it sent, must not put the token or
        // the SASL string on the terminal.
        let secrets = trial.secrets();
        let result = attempt(trial).map_err(|failure| failure.redact(&secrets));
        (result, started.elapsed())
    }

    /// The cached token was refused: says so, refreshes it and tries once more.
    fn retry_refreshed(
        &mut self,
        endpoint: &MailEndpoint,
        failure: Failure,
        elapsed: Duration,
        fresh: bool,
    ) -> Result<Option<Kind>> {
        say_line(endpoint, self.method, failure.kind.word(), elapsed);
        say_reply(&failure);
        say_detail("the cached token was refused; refreshing it and trying once more");
        match refresh::current_token(&self.account, &self.settings.overrides, true) {
            Ok(refreshed) => {
                self.current = refreshed;
                let (result, elapsed) = self.try_login(endpoint);
                Ok(self.report(endpoint, result, elapsed, true, true))
            }
            Err(error) if error.status() == crate::base::error::ExitStatus::Reauthorize => {
                Err(error)
            }
            Err(error) => {
                say_detail(format!("the refresh failed: {}", error.message()));
                if let Some(hint) = error.hint_text() {
                    say_detail(format!("hint: {hint}"));
                }
                explain(&failure, endpoint, &self.current.token, fresh, false);
                Ok(Some(Kind::Refused))
            }
        }
    }

    /// The line for the endpoint and, under a failure, what went wrong; `retried` when this was
    /// the second try, with a token refreshed because the cached one was refused.
    fn report(
        &self,
        endpoint: &MailEndpoint,
        result: std::result::Result<(), Failure>,
        elapsed: Duration,
        fresh: bool,
        retried: bool,
    ) -> Option<Kind> {
        match result {
            Ok(()) => {
                say_line(endpoint, self.method, "ok", elapsed);
                if retried {
                    say_detail(
                        "with a refreshed token: the cached one was stale (revoked or expired \
                         early), and the file now holds the new one",
                    );
                }
                None
            }
            Err(failure) => {
                say_line(endpoint, self.method, failure.kind.word(), elapsed);
                if retried && failure.kind == Kind::Refused {
                    say_detail(
                        "refused again with a freshly refreshed token: this is a real refusal, \
                         not a stale token",
                    );
                }
                explain(&failure, endpoint, &self.current.token, fresh, true);
                Some(failure.kind)
            }
        }
    }
}

/// The endpoints to test: the registration's (with the command line's), narrowed by `--protocol`.
fn endpoints(
    only: Option<Protocol>,
    registration: &Registration,
    account: &str,
) -> Result<Vec<MailEndpoint>> {
    let protocols = match only {
        Some(protocol) => vec![protocol],
        None => Protocol::ALL.to_vec(),
    };
    let mut endpoints = Vec::new();
    for protocol in protocols {
        match registration.endpoint(protocol) {
            Some(endpoint) => endpoints.push(endpoint.clone()),
            None if only.is_some() => {
                return Err(Error::config(format!(
                    "the account has no {} endpoint to test",
                    protocol.name()
                ))
                .hint(format!(
                    "pass --{0}-endpoint URL, or record it with 'mailtoken --set {1} \
                     --{0}-endpoint URL'",
                    protocol.name().to_lowercase(),
                    crate::base::paths::shell_quote(account)
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
            Error::config("the account has no IMAP, POP or SMTP endpoint to test").hint(format!(
                "record one with 'mailtoken --set {} --imap-endpoint URL' (or --pop-endpoint, \
                 --smtp-endpoint)",
                crate::base::paths::shell_quote(account)
            )),
        );
    }
    Ok(endpoints)
}
