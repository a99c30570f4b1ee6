//! A sign-in that waits in the background, so that signing in again takes one click: when a call
//! without a terminal (a mail client, cron's `--check`) finds that a login has ended and the
//! notify hook is due to say so, mailtoken starts a new sign-in of that account in a process of
//! its own and gives the hook its link (`MAILTOKEN_SIGN_IN_URL`; for a device-flow account the
//! verification address, with `MAILTOKEN_USER_CODE`). Opening the link finishes the sign-in with
//! no terminal: the process waits for the browser's redirect (or polls for the device code) for
//! at most `cli::settings::BACKGROUND_SIGN_IN_WAIT`, then ends, leaving nothing behind. pizauth's notifications carry a link the
//! same way, from a daemon; here the process lives only as long as its link.
//!
//! One at a time: the process holds the account's sign-in lock, as `--authorize` does. While it
//! waits, its link is kept (0600) in `$XDG_STATE_HOME/mailtoken/`, so a hook that runs again in
//! the meantime gets the same link, and `--authorize` at a terminal can name it. The link is as
//! private as `--authorize`'s: a loopback listener's one-time start page, which answers only this
//! user (`authorize::listener::peers`), or the provider's own device page.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use crate::base::log;
use crate::base::private_files;
use crate::cli::settings::SIGN_IN_IN_BACKGROUND;
use crate::lifecycle::notify::{self, Event, SignInLink};
use crate::store::tokenfile::{Account, Flow};

/// How long the failing call waits for the background process's link before running the hook
/// without one: a loopback link comes at once, a device code after one request to the provider.
const LINK_WAIT: Duration = Duration::from_secs(10);

/// The failure path of a call nobody watches, for an account whose login has ended: when the
/// notify hook is due, it runs with the link of a sign-in waiting in the background, started now
/// if none waits and the account's flow can wait without a terminal (the loopback redirect or
/// the device code), or without a link otherwise.
pub(crate) fn sign_in_needed(
    account: &Account,
    name: &str,
    known: Option<(&str, Flow)>,
    reason: &str,
) {
    let Some(hook) = notify::due_hook(account, &Event::Ended) else {
        return;
    };
    let email = known.map(|(email, _)| email).filter(|e| !e.is_empty());
    let already = waiting(account);
    if let Some(link) = &already {
        log::verbose(format!(
            "a sign-in already waits in the background until {}; the hook gets its link",
            until_text(link.until)
        ));
    }
    let link = already.or_else(|| {
        let (_, flow) = known?;
        if !notify::unattended() || !waits_in_background(flow) {
            return None;
        }
        start(account)
    });
    hook.run(account, name, email, reason, &Event::Ended, link.as_ref());
}

/// Whether a sign-in of this flow can wait with nobody at a terminal: the loopback listener
/// takes the browser's redirect, the device flow polls; the authcode flow needs the address
/// pasted, and an account without a user never signs in.
pub(crate) fn waits_in_background(flow: Flow) -> bool {
    matches!(flow, Flow::Localhostauthcode | Flow::Devicecode)
}

/// The link of the sign-in of `account` waiting in the background now, if one does: its record
/// is there, the user's own, not past its time, and the account's sign-in lock is held. A
/// record left by a process that died is removed.
pub(crate) fn waiting(account: &Account) -> Option<SignInLink> {
    let path = record_path(account)?;
    let bytes = private_files::read_kept(&path).ok()?;
    let link: Option<SignInLink> = serde_json::from_slice(&bytes).ok();
    match link {
        Some(link) if link.until > chrono::Utc::now().timestamp() && account.sign_in_running() => {
            Some(link)
        }
        _ => {
            let _ = std::fs::remove_file(&path);
            None
        }
    }
}

/// Stops the sign-in of `account` waiting in the background, for one at a terminal: the person
/// is here now, and one sign-in runs at a time. Only a process that is that sign-in (its command
/// line carries `SIGN_IN_IN_BACKGROUND`) is sent SIGTERM. True when one was.
pub(crate) fn stop_waiting(account: &Account) -> bool {
    let Some(link) = waiting(account) else {
        return false;
    };
    let arguments = std::fs::read(format!("/proc/{}/cmdline", link.pid)).unwrap_or_default();
    if !arguments
        .split(|byte| *byte == 0)
        .any(|argument| argument == SIGN_IN_IN_BACKGROUND.as_bytes())
    {
        return false;
    }
    let Some(pid) = i32::try_from(link.pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    let stopped = rustix::process::kill_process(pid, rustix::process::Signal::TERM).is_ok();
    // Ended by the signal, the process leaves its record: its link leads nowhere now.
    if stopped && let Some(record) = record_path(account) {
        let _ = std::fs::remove_file(record);
    }
    stopped
}

/// `$XDG_STATE_HOME/mailtoken/sign-in-NAME-HASH`: where the waiting sign-in's link is kept.
fn record_path(account: &Account) -> Option<PathBuf> {
    Some(notify::state_dir()?.join(notify::stamp_name("sign-in", account.path())))
}

/// Starts the background sign-in of `account` and waits (at most `LINK_WAIT`) for its link.
/// The process is mailtoken itself, by its real path, with the account's arguments, detached:
/// its own process group (a Ctrl-C meant for the mail client does not reach it), no terminal,
/// and only its first line of stdout ours.
fn start(account: &Account) -> Option<SignInLink> {
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(e) => {
            log::warn(format!("cannot start a sign-in in the background: {e}"));
            return None;
        }
    };
    let mut command = crate::base::environment::command(program);
    command
        .arg(SIGN_IN_IN_BACKGROUND)
        .args(account.arguments())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            log::warn(format!("cannot start a sign-in in the background: {e}"));
            return None;
        }
    };
    let pid = child.id();
    let stdout = child.stdout.take()?;
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    // Never waited for: it outlives this call; when this process exits, init reaps it.
    drop(child);
    match receiver.recv_timeout(LINK_WAIT) {
        Ok(line) => match serde_json::from_str::<SignInLink>(line.trim()) {
            Ok(link) => {
                log::verbose(format!(
                    "a sign-in waits in the background (pid {pid}) until {}",
                    until_text(link.until)
                ));
                Some(link)
            }
            Err(_) => {
                log::verbose(format!(
                    "the sign-in in the background (pid {pid}) ended without a link; \
                     '{}' says why",
                    account.authorize_command()
                ));
                None
            }
        },
        Err(_) => {
            log::verbose(format!(
                "the sign-in in the background (pid {pid}) has no link after {} s; the hook \
                 runs without one",
                LINK_WAIT.as_secs()
            ));
            None
        }
    }
}

/// How the last sign-in in the background failed: kept (0600, in the state directory) until a
/// sign-in succeeds, since nobody read that process's messages. The person who opened the link
/// saw the reason on the browser's page; `--status` and `--json` keep it for later.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Failed {
    /// When, in seconds since the epoch.
    pub at: i64,
    /// The error's message and its hint, as a terminal would have shown them (no secret: every
    /// error is made without one).
    pub reason: String,
}

/// Keeps how a sign-in in the background ended: a failure that another try would meet again is
/// kept for `--status`; a success forgets the last failure. A temporary failure (no one opened
/// the link in time, the provider out of reach) is not kept: the next hour's sign-in tries again.
pub(crate) fn remember(account: &Account, error: Option<&crate::base::error::Error>) {
    let Some(error) = error else {
        forget_failure(account);
        return;
    };
    if error.status() == crate::base::error::ExitStatus::Temporary {
        return;
    }
    let Some(path) = failure_path(account) else {
        return;
    };
    let reason = match error.hint_text() {
        Some(hint) => format!("{}; {hint}", error.message()),
        None => error.message().to_string(),
    };
    let failed = Failed {
        at: chrono::Utc::now().timestamp(),
        reason: log::sanitize(&reason),
    };
    let json = serde_json::to_string(&failed).unwrap_or_default();
    let _ = private_files::create_private_dir(private_files::parent_dir(&path))
        .and_then(|()| private_files::write_atomic(&path, json.as_bytes()));
}

/// Forgets the last failed sign-in in the background of `account`: a sign-in has succeeded.
pub(crate) fn forget_failure(account: &Account) {
    if let Some(path) = failure_path(account) {
        let _ = std::fs::remove_file(path);
    }
}

/// How the last sign-in in the background of `account` failed, if one did since the last
/// sign-in that succeeded.
pub(crate) fn last_failure(account: &Account) -> Option<Failed> {
    let bytes = private_files::read_kept(&failure_path(account)?).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// `$XDG_STATE_HOME/mailtoken/failed-sign-in-NAME-HASH`.
fn failure_path(account: &Account) -> Option<PathBuf> {
    Some(notify::state_dir()?.join(notify::stamp_name("failed-sign-in", account.path())))
}

/// `until`, seconds since the epoch, as local time.
pub(crate) fn until_text(until: i64) -> String {
    chrono::DateTime::from_timestamp(until, 0)
        .map(log::local_time)
        .unwrap_or_else(|| until.to_string())
}

/// The background process's side: makes its link known once it has one, and forgets it when
/// the sign-in ends, however it ends.
pub(crate) struct Announcer {
    record: Option<PathBuf>,
    published: std::cell::Cell<bool>,
}

impl Announcer {
    pub(crate) fn new(account: &Account) -> Announcer {
        Announcer {
            record: record_path(account),
            published: std::cell::Cell::new(false),
        }
    }

    /// Keeps the link for later hooks, then sends it, one line of JSON, to the call that started
    /// this process; stdout then points nowhere, so nothing later can block on it or reach the
    /// caller.
    pub(crate) fn announce(&self, link: &SignInLink) {
        let json = serde_json::to_string(link).unwrap_or_default();
        if let Some(record) = &self.record {
            let kept = private_files::create_private_dir(private_files::parent_dir(record))
                .and_then(|()| private_files::write_atomic(record, json.as_bytes()));
            match kept {
                Ok(()) => self.published.set(true),
                Err(e) => log::warn(format!("cannot keep the link in {}: {e}", record.display())),
            }
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{json}");
        let _ = stdout.flush();
        drop(stdout);
        silence_stdout();
    }
}

impl Drop for Announcer {
    fn drop(&mut self) {
        if let (true, Some(record)) = (self.published.get(), &self.record) {
            let _ = std::fs::remove_file(record);
        }
    }
}

/// Points stdout at /dev/null: the caller stopped reading after the link.
fn silence_stdout() {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_flows_that_need_no_terminal_wait_in_the_background() {
        assert!(waits_in_background(Flow::Localhostauthcode));
        assert!(waits_in_background(Flow::Devicecode));
        assert!(!waits_in_background(Flow::Authcode));
        assert!(!waits_in_background(Flow::Clientcredentials));
    }

    #[test]
    fn links_read_back_as_written() {
        let link = SignInLink {
            url: "http://127.0.0.1:4000/mailtoken-sign-in/00ff".into(),
            user_code: Some("ABCD-EFGH".into()),
            until: 1_800_000_000,
            pid: 4321,
        };
        let json = serde_json::to_string(&link).unwrap();
        assert_eq!(serde_json::from_str::<SignInLink>(&json).unwrap(), link);
    }
}
