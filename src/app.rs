//! What one run does, in order: parse, validate, act, report. Errors are printed once, here.

use std::process::ExitCode;

use clap::Parser;

use crate::authorize;
use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::cli::args::Cli;
use crate::cli::output;
use crate::cli::output::Format;
use crate::cli::settings::{Action, Settings};
use crate::lifecycle::accounts;
use crate::lifecycle::background_sign_in;
use crate::lifecycle::check;
use crate::lifecycle::notify;
use crate::lifecycle::refresh::{self, Source};
use crate::lifecycle::revoke;
use crate::lifecycle::set;
use crate::lifecycle::status;
use crate::login_test;
use crate::mail::client::MailClient;
use crate::mail::mailserver::Protocol;
use crate::mail::sasl;
use crate::store::tokenfile::TokenFile;

/// The program for a `fn main`.
pub fn main() -> ExitCode {
    ExitCode::from(program())
}

/// The program as C's `main`, where the binary skips the standard library's start-up (Linux
/// with glibc; `base::process_start` says why): the part of that start-up a run needs, the
/// program, and the flush of stdout the standard library's exit would have done.
pub fn main_without_std_start() -> i32 {
    crate::base::process_start::prepare();
    let status = program();
    let _ = std::io::Write::flush(&mut std::io::stdout());
    i32::from(status)
}

/// Parses the command line, runs, and turns the outcome into an exit status.
fn program() -> u8 {
    crate::base::hardening::protect_memory();
    // The sign-in a failing call starts in the background: its flag first, then the call's own
    // arguments; no person types it, so it is in no help, man page or completion.
    let in_background = std::env::args_os()
        .nth(1)
        .is_some_and(|first| first == crate::cli::settings::SIGN_IN_IN_BACKGROUND);
    let arguments = || {
        std::env::args_os()
            .enumerate()
            .filter(move |(index, _)| !(in_background && *index == 1))
            .map(|(_, argument)| argument)
    };
    let parsed = match Cli::token_call(arguments()) {
        Some(cli) => Ok(cli),
        None => Cli::try_parse_from(arguments()),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            // Help and version go to stdout because they were asked for.
            let _ = error.print();
            return 0;
        }
        Err(error) => {
            // clap's usage errors read like every other error, `mailtoken: error: ...`, and keep
            // its tip and usage lines after it.
            eprint!("mailtoken: {}", error.render());
            return ExitStatus::Usage.code();
        }
    };
    log::set_level(if cli.debug {
        log::DEBUG
    } else if cli.verbose {
        log::VERBOSE
    } else {
        0
    });
    let settings = match Settings::from_cli(cli).and_then(|settings| match in_background {
        true => settings.in_background(),
        false => Ok(settings),
    }) {
        Ok(settings) => settings,
        Err(error) => {
            report(&error);
            return error.status().code();
        }
    };
    match run(&settings) {
        Ok(()) => 0,
        Err(error) => {
            report(&error);
            if error.status() == ExitStatus::Reauthorize
                && settings.actions == [Action::Print]
                && notify::unattended()
            {
                notify_sign_in_needed(&settings, &error);
            }
            error.status().code()
        }
    }
}

/// Runs the requested actions in order.
pub(crate) fn run(settings: &Settings) -> Result<()> {
    for action in &settings.actions {
        match action {
            Action::Print => print_token(settings)?,
            Action::Status => status::show(settings)?,
            Action::Authorize => {
                sign_in(settings)?;
                background_sign_in::forget_failure(&settings.account());
            }
            Action::Test => login_test::run(settings)?,
            Action::List => accounts::list(settings)?,
            Action::Check => check::run(settings)?,
            Action::Revoke => revoke::run(settings)?,
            Action::Set => set::run(settings)?,
            Action::PrintConfig => {
                if let Some(client) = settings.print_config {
                    crate::client_config::print(settings, client)?;
                }
            }
            Action::AdminRequest => authorize::admin_request::run(settings)?,
            // Nobody reads this process's messages; its stdout carries only the link. How it
            // ended is kept for --status.
            Action::SignInInBackground => {
                let outcome = authorize::run(settings);
                background_sign_in::remember(&settings.account(), outcome.as_ref().err());
                outcome?;
            }
        }
    }
    Ok(())
}

/// The default action: print a valid access token, refreshing it when needed.
fn print_token(settings: &Settings) -> Result<()> {
    let account = settings.account();
    let current = refresh::current_token(&account, &settings.overrides, settings.force_refresh)?;
    match current.source {
        Source::Cached => log::verbose("using the cached access token"),
        Source::CachedAfterFailure | Source::RefreshedUnsaved => {}
        Source::Refreshed => log::verbose("refreshed the access token"),
        Source::RefreshedElsewhere => {
            log::verbose("using the token another process just refreshed")
        }
    }
    print_formatted(settings, &current.token)
}

/// `--authorize`: sign in, say where the account was saved, then print the token as
/// mutt_oauth2.py does, unless a test follows.
fn sign_in(settings: &Settings) -> Result<()> {
    let token = authorize::run(settings)?;
    if let Some(warning) = sasl::neomutt_warning(&token.access_token) {
        log::warn(warning);
    }
    // The last words of a sign-in: where the account now lives, and what to run next (stdout
    // keeps only the token).
    log::say(format!(
        "mailtoken: signed in; saved to {}",
        settings.account().path().display()
    ));
    for line in next_steps(&settings.token_given, &crate::client_config::installed()) {
        log::say(line);
    }
    if settings.actions.contains(&Action::Test) {
        return Ok(());
    }
    print_formatted(settings, &token)
}

/// What to run after a sign-in: the login test, then the configuration of each mail client found
/// on this machine (or of any, when none is).
fn next_steps(given: &str, installed: &[MailClient]) -> Vec<String> {
    let account = crate::base::paths::shell_quote(given);
    let mut lines = vec![format!(
        "mailtoken: next, check the login: mailtoken {account} --test"
    )];
    if installed.is_empty() {
        let all: Vec<&str> = MailClient::ALL.iter().map(|c| c.name()).collect();
        lines.push(format!(
            "mailtoken: then configure a mail client: mailtoken --print-config CLIENT {account} \
             (CLIENT: {})",
            all.join(", ")
        ));
    } else {
        lines.push("mailtoken: then configure the mail clients found here:".to_string());
        for client in installed {
            lines.push(format!(
                "    mailtoken --print-config {} {account}",
                client.name()
            ));
        }
    }
    lines
}

/// Prints the token, or the SASL string `--format` asks for, with the flags' SASL method and
/// mail servers over the account's. The bare token, what mail clients ask for on every call,
/// needs none of that.
fn print_formatted(settings: &Settings, token: &TokenFile) -> Result<()> {
    if settings.format == Format::Token {
        return output::print_secret(&token.access_token);
    }
    let registration = settings
        .overrides
        .registration_for_this_run(&token.registration);
    let protocol = settings.protocol.unwrap_or(Protocol::Imap);
    let with_mechanism = settings.format == Format::Msasl;
    output::print_sasl(
        with_mechanism,
        protocol,
        &registration,
        token,
        &settings.token_given,
    )
}

/// Prints an error once, as `mailtoken: error: ...` and its hint.
fn report(error: &Error) {
    if error.is_reported() {
        return;
    }
    // Whatever a message quotes from a file or a server, it cannot drive the terminal.
    eprintln!("mailtoken: error: {}", log::terminal_safe(error.message()));
    if let Some(hint) = error.hint_text() {
        eprintln!("hint: {}", log::terminal_safe(hint));
    }
}

/// The failure path of a mail client's call: the notify hook, with a sign-in waiting in the
/// background when the account's file can still be read and its flow allows one.
fn notify_sign_in_needed(settings: &Settings, error: &Error) {
    let account = settings.account();
    let loaded = account.load().ok();
    background_sign_in::sign_in_needed(
        &account,
        &settings.token_given,
        loaded
            .as_ref()
            .map(|loaded| (loaded.token.email.as_str(), loaded.token.flow)),
        error.message(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_steps_name_the_account_and_the_clients_found() {
        let lines = next_steps("my work", &[MailClient::Neomutt, MailClient::Msmtp]);
        assert_eq!(
            lines[0],
            "mailtoken: next, check the login: mailtoken 'my work' --test"
        );
        assert_eq!(lines[2], "    mailtoken --print-config neomutt 'my work'");
        assert_eq!(lines[3], "    mailtoken --print-config msmtp 'my work'");
        let none = next_steps("work", &[]);
        assert!(none[1].contains("CLIENT: neomutt, mutt, msmtp"), "{none:?}");
    }
}
