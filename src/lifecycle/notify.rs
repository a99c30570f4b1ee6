//! The notify hook: when a call nobody watches (a mail client, cron, `--check`) ends because the
//! login needs a new sign-in, run the user's `$XDG_CONFIG_HOME/mailtoken/notify`, so a desktop
//! notification (or a mail, or a chat message) says so instead of a silently failing mail client.
//!
//! Only on that failure path, never on the cached one. The hook runs detached: mailtoken does not
//! wait for it, so the caller gets its exit status at once, and the hook's fate never changes it.
//! A mail client polling every minute would call it every minute, so each account is notified at
//! most once per `INTERVAL`, remembered in `$XDG_STATE_HOME/mailtoken/`.

use std::io::IsTerminal;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use crate::base::log;
use crate::base::paths;
use crate::base::private_files;
use crate::base::refresh_lock;
use crate::lifecycle::login_end;
use crate::store::tokenfile::Account;

/// The least time between two notifications about one account.
pub(crate) const INTERVAL: Duration = Duration::from_secs(3600);

/// How long to wait for another process deciding about the same account's notification.
const STATE_LOCK_WAIT: Duration = Duration::from_secs(2);

/// The hook's path: `$XDG_CONFIG_HOME/mailtoken/notify`.
pub(crate) fn hook_path() -> Option<PathBuf> {
    Some(paths::config_home().ok()?.join("mailtoken").join("notify"))
}

/// `$XDG_STATE_HOME/mailtoken`, or `~/.local/state/mailtoken` (XDG Base Directory spec).
pub(crate) fn state_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_STATE_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => paths::home().ok()?.join(".local/state"),
    };
    Some(base.join("mailtoken"))
}

/// True unless stdin, stdout and stderr are all a terminal, i.e. unless a person typed the
/// command at a shell and reads its message there. Mail clients always read the token from a pipe
/// (neomutt leaves stdin and stderr on its own terminal, where its screen hides the message);
/// cron and systemd give no terminal at all.
pub(crate) fn unattended() -> bool {
    !(std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal())
}

/// What the hook is told about.
#[derive(Clone, Debug)]
pub(crate) enum Event {
    /// The login has ended: a sign-in is needed now (`MAILTOKEN_EVENT=ended`).
    Ended,
    /// The login ends soon (`--check --warn-days`, `MAILTOKEN_EVENT=ending`).
    Ending(login_end::End),
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Ended => "ended",
            Event::Ending(_) => "ending",
        }
    }

    /// How often one account may be told: a failing mail client calls every minute, so an
    /// ended login at most hourly; a coming end once a day.
    fn interval(&self) -> Duration {
        match self {
            Event::Ended => INTERVAL,
            Event::Ending(_) => ENDING_INTERVAL,
        }
    }

    /// The stamp's name prefix, one per event, so a warning never holds back the news of an end.
    fn stamp_prefix(&self) -> &'static str {
        match self {
            Event::Ended => "notified",
            Event::Ending(_) => "warned",
        }
    }
}

/// The least time between two warnings that one account's login ends soon.
pub(crate) const ENDING_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Runs the hook for `account` whose login ends at `end`, at most once a day.
pub(crate) fn login_ending(
    account: &Account,
    name: &str,
    email: Option<&str>,
    end: login_end::End,
) {
    let reason = format!(
        "the login ends {} ({}); sign in again before then",
        log::local_time(end.at),
        end.basis.words()
    );
    let event = Event::Ending(end);
    if let Some(hook) = due_hook(account, &event) {
        hook.run(account, name, email, &reason, &event, None);
    }
}

/// A sign-in link for the hook (`MAILTOKEN_SIGN_IN_URL`): the address that finishes a sign-in
/// waiting in the background, and for the device flow the code to enter there.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct SignInLink {
    pub url: String,
    /// The device flow's user code (`MAILTOKEN_USER_CODE`).
    pub user_code: Option<String>,
    /// Until when the sign-in waits, in seconds since the epoch (`MAILTOKEN_SIGN_IN_UNTIL`).
    pub until: i64,
    /// The process that waits (not for the hook: for a sign-in at a terminal, which stops it).
    pub pid: u32,
}

/// A hook that may run now: there is one, it is the user's own, and the account is due a
/// notification of this kind (which is recorded: whoever holds this runs it).
pub(crate) struct DueHook {
    hook: PathBuf,
    program: PathBuf,
}

/// The hook, when it exists, may be trusted, and `account` is due `event`; `None` otherwise,
/// with a warning for trouble and a verbose line for a notification given too recently.
pub(crate) fn due_hook(account: &Account, event: &Event) -> Option<DueHook> {
    let hook = hook_path()?;
    let metadata = match std::fs::symlink_metadata(&hook) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            log::warn(format!("cannot look at {}: {e}", hook.display()));
            return None;
        }
    };
    let program = match trusted(&hook, &metadata) {
        Ok(program) => program,
        Err(why) => {
            log::warn(format!("{} {why}, so it was not run", hook.display()));
            return None;
        }
    };
    let state_dir = state_dir()?;
    match due(&state_dir, account.path(), event) {
        Ok(true) => Some(DueHook { hook, program }),
        Ok(false) => {
            log::verbose(match event {
                Event::Ended => "the notify hook already ran for this account within the hour",
                Event::Ending(_) => "the notify hook already warned about this account today",
            });
            None
        }
        Err(e) => {
            log::warn(format!(
                "cannot record the notification in {}: {e}",
                state_dir.display()
            ));
            None
        }
    }
}

impl DueHook {
    /// Starts the hook, detached, with the account's story in its environment. Never fails:
    /// trouble with the hook is a warning at most.
    pub(crate) fn run(
        self,
        account: &Account,
        name: &str,
        email: Option<&str>,
        reason: &str,
        event: &Event,
        link: Option<&SignInLink>,
    ) {
        let DueHook { hook, program } = self;
        // The client secret stays ours, as with every child.
        // The file judged is the file run: its real path, every directory of which only the
        // user (or root) can change.
        let mut command = crate::base::environment::command(&program);
        command
            .env("MAILTOKEN_EVENT", event.name())
            .env("MAILTOKEN_ACCOUNT", name)
            .env("MAILTOKEN_EMAIL", one_line(email.unwrap_or("")))
            .env("MAILTOKEN_REASON", one_line(reason))
            .env("MAILTOKEN_AUTHORIZE_COMMAND", account.authorize_command());
        if let Event::Ending(end) = event {
            command
                .env(
                    "MAILTOKEN_LOGIN_ENDS",
                    end.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                )
                .env("MAILTOKEN_LOGIN_ENDS_BASIS", end.basis.name());
        }
        if let Some(link) = link {
            command.env("MAILTOKEN_SIGN_IN_URL", one_line(&link.url));
            if let Some(code) = &link.user_code {
                command.env("MAILTOKEN_USER_CODE", one_line(code));
            }
            if let Some(until) = chrono::DateTime::from_timestamp(link.until, 0) {
                command.env(
                    "MAILTOKEN_SIGN_IN_UNTIL",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                );
            }
        }
        let spawned = command
            // Nothing of ours: the caller may be reading our stdout until it closes.
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C meant for the mail client does not reach it. It
            // is never waited for; when mailtoken exits, init adopts and reaps it.
            .process_group(0)
            .spawn();
        match spawned {
            Ok(child) => {
                log::verbose(format!(
                    "ran the notify hook {} (pid {})",
                    hook.display(),
                    child.id()
                ));
                drop(child);
            }
            Err(e) => log::warn(format!("cannot run {}: {e}", hook.display())),
        }
    }
}

/// Whether the account is due a notification; if so, records that it gets one now. Serialized
/// by a lock, so two mail clients failing at once notify once.
fn due(state_dir: &Path, token_path: &Path, event: &Event) -> std::io::Result<bool> {
    private_files::create_private_dir(state_dir)?;
    let stamp = state_dir.join(stamp_name(event.stamp_prefix(), token_path));
    let _lock = refresh_lock::lock(&stamp, STATE_LOCK_WAIT).map_err(|e| match e {
        refresh_lock::LockError::Io(e) => e,
        refresh_lock::LockError::TimedOut => std::io::Error::other("its lock is held"),
    })?;
    if let Ok(modified) = std::fs::metadata(&stamp).and_then(|m| m.modified()) {
        let age = SystemTime::now()
            .duration_since(modified)
            .unwrap_or(Duration::ZERO);
        if age < event.interval() {
            return Ok(false);
        }
    }
    private_files::write_atomic(&stamp, b"")?;
    Ok(true)
}

/// `PREFIX-NAME-HASH` (`notified-` for an ended login, `warned-` for one ending soon): the file
/// name for people, a hash of the full path so that two accounts
/// of one name in different directories do not share a stamp.
pub(crate) fn stamp_name(prefix: &str, token_path: &Path) -> String {
    let full = std::fs::canonicalize(token_path).unwrap_or_else(|_| token_path.to_path_buf());
    let name: String = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect();
    // FNV-1a: not for security, only to tell paths apart.
    let hash = full
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{prefix}-{name}-{hash:016x}")
}

/// Whether the hook may run, and the path to run it by: what runs with the user's rights must be
/// the user's, as token files are (`private_files`): a link only when the user owns it, a
/// regular file the user owns and nobody else can change, whose every directory, from the root
/// down, belongs to the user or root and can be changed by nobody else (a sticky one, like /tmp,
/// lets others change only their own entries). Only then can nobody else swap the file, or a
/// directory on its way, between the check and the run; and it is run by that real path, so the
/// file checked is the file run.
fn trusted(hook: &Path, link: &std::fs::Metadata) -> Result<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;
    let me = private_files::my_uid();
    if link.file_type().is_symlink() && link.uid() != me {
        return Err(format!(
            "is a link that belongs to another user (uid {})",
            link.uid()
        ));
    }
    let real = std::fs::canonicalize(hook).map_err(|e| format!("cannot be resolved ({e})"))?;
    let file = std::fs::symlink_metadata(&real).map_err(|e| format!("cannot be read ({e})"))?;
    if !file.is_file() || file.mode() & 0o100 == 0 {
        return Err("is not an executable file".into());
    }
    if file.uid() != me {
        return Err(format!("belongs to another user (uid {})", file.uid()));
    }
    if file.mode() & 0o022 != 0 {
        return Err(format!(
            "can be changed by others (mode {:o}; chmod go-w fixes it)",
            file.mode() & 0o7777
        ));
    }
    for dir in real.ancestors().skip(1) {
        let metadata = std::fs::symlink_metadata(dir)
            .map_err(|e| format!("is in {}, which cannot be read ({e})", dir.display()))?;
        let others_can_replace = metadata.mode() & 0o022 != 0 && metadata.mode() & 0o1000 == 0;
        if others_can_replace || ![me, 0].contains(&metadata.uid()) {
            return Err(format!("is in {}, which others can change", dir.display()));
        }
    }
    Ok(real)
}

/// Text for the hook as one line: sanitised, newlines gone, bounded, and without the markup a
/// desktop notification would render (`notify-send` reads a subset of HTML in its body: a
/// provider's `<a href>` or `<img>` is shown as its look-alike, never followed).
fn one_line(text: &str) -> String {
    log::sanitize(&text.replace(['\n', '\r'], " "))
        .chars()
        .map(|c| match c {
            '<' => '‹',
            '>' => '›',
            '&' => '＆',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_differ_by_path_and_read_as_the_name() {
        let a = stamp_name("notified", Path::new("/nowhere/a/work"));
        let b = stamp_name("notified", Path::new("/nowhere/b/work"));
        assert_ne!(a, b);
        assert!(a.starts_with("notified-work-"), "{a}");
    }

    #[test]
    fn reasons_are_one_line() {
        assert_eq!(one_line("a\nb\r\n\x1b[2Jc"), "a b   [2Jc");
    }

    #[test]
    fn reasons_carry_no_markup() {
        assert_eq!(
            one_line("<b>x</b> & <a href=\"https://evil\">y</a>"),
            "‹b›x‹/b› ＆ ‹a href=\"https://evil\"›y‹/a›"
        );
    }
}
