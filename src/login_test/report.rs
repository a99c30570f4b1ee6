//! What `--test` prints on stderr: one line per protocol, the detail lines under a failure, and
//! the exit status the results add up to.

use std::time::Duration;

use super::causes::{self, Facts};
use super::failure::{Failure, Kind};
use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::mail::sasl::SaslMethod;
use crate::store::tokenfile::TokenFile;

/// The exit status: a refused login outweighs a network problem, which outweighs success.
pub(crate) fn outcome(failed: &[(Protocol, Kind)]) -> Result<()> {
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
    let misconfigured = names(ExitStatus::Config);
    if !misconfigured.is_empty() {
        let untrusted = failed.iter().any(|(_, kind)| *kind == Kind::Untrusted);
        let (what, hint) = if untrusted {
            (
                "a server's certificate is not trusted here",
                "the lines above say what to trust; trying again cannot help",
            )
        } else {
            (
                "the endpoint is not what its URL says",
                "the lines above say which URL to give; --debug shows the conversation",
            )
        };
        return Err(Error::new(ExitStatus::Config, format!("{what}: {misconfigured}")).hint(hint));
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
pub(crate) fn say_line(
    endpoint: &MailEndpoint,
    method: SaslMethod,
    status: &str,
    elapsed: Duration,
) {
    log::say(format!(
        "{:<4}  {}  {}  {status}  ({:.2} s)",
        endpoint.protocol.name(),
        endpoint.url(),
        method.name(),
        elapsed.as_secs_f64()
    ));
}

/// One detail line. It quotes the server and the token file (the address, the scope), so it is
/// sanitised whole: no control character, no echo of a secret (`redact`).
pub(crate) fn say_detail(text: impl std::fmt::Display) {
    log::say(format!("      {}", log::sanitize(&text.to_string())));
}

/// The server's reply, and the alerts it sent before it.
pub(crate) fn say_reply(failure: &Failure) {
    if let Some(reply) = &failure.reply {
        say_detail(format!("server said: {}", log::sanitize(reply)));
    }
    for alert in &failure.alerts {
        say_detail(format!("server alert: {}", log::sanitize(alert)));
    }
}

/// The detail lines under a failed protocol: what happened, the server's reply and challenge,
/// and the likely causes.
/// `show_reply` is false when the reply was already shown above, on the first attempt's line.
pub(crate) fn explain(
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
        let likely = causes::explain(&Facts {
            protocol: endpoint.protocol,
            host: &endpoint.host,
            email: token.sasl_user(),
            delegate: token.mailbox.as_ref().map(|_| token.email.as_str()),
            token_scope: Some(scope),
            fresh_token: fresh,
            after_login: failure.after_login,
            reply: failure.reply.as_deref(),
            challenge: failure.challenge.as_deref(),
        });
        for cause in likely {
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
    fn a_wrong_url_outweighs_trouble_but_not_a_refusal() {
        let error = outcome(&[
            (Protocol::Imap, Kind::NotTls),
            (Protocol::Smtp, Kind::Timeout),
        ])
        .unwrap_err();
        assert_eq!(error.status(), ExitStatus::Config);
        assert_eq!(
            error.message(),
            "the endpoint is not what its URL says: IMAP"
        );
        let error = outcome(&[
            (Protocol::Imap, Kind::NotTls),
            (Protocol::Pop, Kind::Refused),
        ])
        .unwrap_err();
        assert_eq!(error.status(), ExitStatus::LoginFailed);
    }
}
