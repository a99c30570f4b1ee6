//! The one error type and the exit-status table.
//!
//! Mail clients cannot read our stderr, but scripts and cron jobs can read the exit status, so every
//! failure maps to one sysexits(3)-style code. The table below is the single source: `--help`, the
//! README and the man page are all produced from or checked against it.

use std::fmt;

/// Why the program ended; each value is one row of the documented exit-status table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// The token (or SASL string) was printed, or the requested action succeeded.
    Success,
    /// The command line is wrong, or a required value is missing and there is no terminal to ask.
    Usage,
    /// The token file is unreadable, corrupt, or cannot be decrypted.
    BadTokenFile,
    /// The token file does not exist.
    NoTokenFile,
    /// A login with the token was refused during `--test`.
    LoginFailed,
    /// Writing the token file (or its lock) failed.
    Io,
    /// A temporary failure: network, timeout, HTTP 408/429/5xx. Trying again later may work.
    Temporary,
    /// The login is gone (invalid_grant, no refresh token, access denied): run `--authorize`.
    Reauthorize,
    /// A configuration problem: file permissions, client registration, encryption setup.
    Config,
}

/// `(status, code, meaning)` for every exit status, in table order.
pub const EXIT_STATUS_TABLE: &[(ExitStatus, u8, &str)] = &[
    (
        ExitStatus::Success,
        0,
        "success: the token was printed or the action completed",
    ),
    (
        ExitStatus::Usage,
        64,
        "usage error: bad flags, or a missing value and no terminal to ask",
    ),
    (
        ExitStatus::BadTokenFile,
        65,
        "token file unreadable, corrupt or not decryptable",
    ),
    (
        ExitStatus::NoTokenFile,
        66,
        "no token file: run the suggested --authorize command",
    ),
    (ExitStatus::LoginFailed, 69, "a login failed during --test"),
    (
        ExitStatus::Io,
        74,
        "I/O error writing the token file or its lock",
    ),
    (
        ExitStatus::Temporary,
        75,
        "temporary failure (network, timeout, HTTP 408/429/5xx): retry later",
    ),
    (
        ExitStatus::Reauthorize,
        77,
        "re-authorization needed (invalid_grant, no refresh token, denied)",
    ),
    (
        ExitStatus::Config,
        78,
        "configuration error (permissions, client, encryption setup, a mail server's URL)",
    ),
];

/// The table in one line, for `-h`: the words before the first ':' or '(' of each meaning.
pub(crate) fn exit_status_summary() -> String {
    let entries: Vec<String> = EXIT_STATUS_TABLE
        .iter()
        .map(|(_, code, meaning)| {
            let short = meaning.split([':', '(']).next().unwrap_or(meaning).trim();
            format!("{code} {short}")
        })
        .collect();
    format!("Exit status: {}. Details: --help.", entries.join("; "))
}

impl ExitStatus {
    /// The numeric process exit code.
    pub fn code(self) -> u8 {
        EXIT_STATUS_TABLE
            .iter()
            .find(|(status, _, _)| *status == self)
            .map(|(_, code, _)| *code)
            .unwrap_or(1)
    }
}

/// The exit-status table as plain text, for `--help` and the man page.
pub(crate) fn exit_status_help() -> String {
    let mut text = String::from("Exit status:\n");
    for (_, code, meaning) in EXIT_STATUS_TABLE {
        text.push_str(&format!("  {code:>3}  {meaning}\n"));
    }
    text
}

/// A failure: what went wrong, what to do about it, and which exit status it ends with.
#[derive(Debug)]
pub struct Error {
    status: ExitStatus,
    message: String,
    hint: Option<String>,
}

/// The crate-wide result type.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure with the given exit status and a message saying what went wrong.
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Error {
            status,
            message: message.into(),
            hint: None,
        }
    }

    /// Adds the "what to do next" line printed after the message.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds context in front of the message, keeping status and hint.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    pub fn status(&self) -> ExitStatus {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// A failure whose details were already reported (line by line, by `--check`): only the exit
    /// status is left to give.
    pub fn reported(status: ExitStatus) -> Self {
        Error::new(status, "")
    }

    /// True for `reported` failures, which print nothing more.
    pub fn is_reported(&self) -> bool {
        self.message.is_empty()
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::new(ExitStatus::Usage, message)
    }
    pub fn bad_token_file(message: impl Into<String>) -> Self {
        Error::new(ExitStatus::BadTokenFile, message)
    }
    pub fn io(message: impl Into<String>) -> Self {
        Error::new(ExitStatus::Io, message)
    }
    pub fn temporary(message: impl Into<String>) -> Self {
        Error::new(ExitStatus::Temporary, message)
    }
    pub fn reauthorize(message: impl Into<String>) -> Self {
        Error::new(ExitStatus::Reauthorize, message)
    }
    pub fn config(message: impl Into<String>) -> Self {
        Error::new(ExitStatus::Config, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_sysexits_code() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::Usage.code(), 64);
        assert_eq!(ExitStatus::BadTokenFile.code(), 65);
        assert_eq!(ExitStatus::NoTokenFile.code(), 66);
        assert_eq!(ExitStatus::LoginFailed.code(), 69);
        assert_eq!(ExitStatus::Io.code(), 74);
        assert_eq!(ExitStatus::Temporary.code(), 75);
        assert_eq!(ExitStatus::Reauthorize.code(), 77);
        assert_eq!(ExitStatus::Config.code(), 78);
    }

    #[test]
    fn the_summary_names_every_code_briefly() {
        let summary = exit_status_summary();
        assert!(
            summary.starts_with("Exit status: 0 success; 64 usage error; 65 token file"),
            "{summary}"
        );
        assert!(
            summary.contains("77 re-authorization needed; 78 configuration error."),
            "{summary}"
        );
    }

    /// The table as `--help` and the man page show it, written out: a check built from the
    /// table itself could not fail, whatever became of a row.
    #[test]
    fn help_is_the_documented_table() {
        assert_eq!(
            exit_status_help(),
            "Exit status:
    0  success: the token was printed or the action completed
   64  usage error: bad flags, or a missing value and no terminal to ask
   65  token file unreadable, corrupt or not decryptable
   66  no token file: run the suggested --authorize command
   69  a login failed during --test
   74  I/O error writing the token file or its lock
   75  temporary failure (network, timeout, HTTP 408/429/5xx): retry later
   77  re-authorization needed (invalid_grant, no refresh token, denied)
   78  configuration error (permissions, client, encryption setup, a mail server's URL)
"
        );
    }
}
