//! What mailtoken remembers about a login between calls: that the provider ended it, or since
//! when the provider could not be reached. Kept in `TOKENFILE.state`, beside the token file.
//!
//! A provider that ends a login (`invalid_grant` after reuse detection, a revoked grant, a
//! password change) does not revoke the access token already issued in every case, and a mail
//! client asks again every few minutes. Without a record, the next call would print the cached
//! token as if nothing had happened, and every surface would read "ok" until it expired. So the
//! provider's answer is recorded here, and the login stays ended until a sign-in replaces the file.
//!
//! Why a file of its own and not a member of the token file: recording must not rewrite the token
//! file (with gpg or a pipe that is a subprocess, perhaps a prompt, and a write that could fail
//! half-way through a login that is still needed for a diagnosis); and it holds nothing secret,
//! so it is plain JSON, readable without a key. Why beside the token file and not under
//! `$XDG_STATE_HOME`: cron and systemd often have another environment than the shell, and a call
//! through a symbolic link must find the same record, so it is keyed on the real path, like the
//! lock.
//!
//! The record names the version of the token file it is about ([`FileId`]): a file replaced
//! since (by a sign-in, a restored backup, a copy from another machine) is another login, and the
//! record no longer applies to it. A successful write removes it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::base::log;
use crate::base::private_files::{self, FileId};

/// The longest reason kept, in characters: a provider's description with its ids fits.
const MAX_REASON: usize = 600;

/// The record, as `TOKENFILE.state` holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Remembered {
    /// The version of the token file this is about.
    pub file: FileId,
    /// The provider ended the login: only a new sign-in helps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Ended>,
    /// Refreshes have failed for a temporary reason since then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<Unreachable>,
}

/// The provider's answer that ended the login.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ended {
    pub at: DateTime<Utc>,
    /// The OAuth2 error code (`invalid_grant`), when the answer had one.
    pub code: Option<String>,
    /// What failed, in the words of the error it ended with; sanitised, without secrets.
    pub reason: String,
}

/// A refresh that failed for a temporary reason (network, outage, HTTP 5xx).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Unreachable {
    /// The first failure of this run of failures.
    pub since: DateTime<Utc>,
    /// The latest.
    pub last: DateTime<Utc>,
    pub reason: String,
}

/// Where the record of the token file at `real_path` (symbolic links resolved) lives.
pub(crate) fn path_for(real_path: &Path) -> PathBuf {
    let mut name = real_path.as_os_str().to_owned();
    name.push(".state");
    PathBuf::from(name)
}

/// The record about the token file at `real_path` as it is now (`file`): none when there is
/// none, when it is about another version of the file, or when it cannot be read (a damaged
/// record must not stop a working login; the next failure writes a new one).
pub(crate) fn read(real_path: &Path, file: &FileId) -> Option<Remembered> {
    let bytes = private_files::read_kept(&path_for(real_path)).ok()?;
    let remembered: Remembered = serde_json::from_slice(&bytes).ok()?;
    (remembered.file == *file).then_some(remembered)
}

/// Records that the provider ended the login held in the token file `file`.
pub(crate) fn record_ended(real_path: &Path, file: FileId, code: Option<&str>, reason: &str) {
    let remembered = Remembered {
        file,
        ended: Some(Ended {
            at: Utc::now(),
            code: code.map(bounded),
            reason: bounded(reason),
        }),
        unreachable: None,
    };
    write(real_path, &remembered);
}

/// Keeps an ended login's record, as it was, for the file's new version (`--set` rewrote it).
pub(crate) fn carry_ended(real_path: &Path, file: FileId, ended: Ended) {
    let remembered = Remembered {
        file,
        ended: Some(ended),
        unreachable: None,
    };
    write(real_path, &remembered);
}

/// Records a temporary failure, keeping when the failures began.
pub(crate) fn record_unreachable(real_path: &Path, file: FileId, reason: &str) {
    let now = Utc::now();
    let mut remembered = read(real_path, &file).unwrap_or(Remembered {
        file,
        ..Remembered::default()
    });
    let since = remembered
        .unreachable
        .as_ref()
        .map_or(now, |earlier| earlier.since);
    remembered.unreachable = Some(Unreachable {
        since,
        last: now,
        reason: bounded(reason),
    });
    write(real_path, &remembered);
}

/// Forgets everything about the login: a write replaced it, or it was revoked.
pub(crate) fn forget(real_path: &Path) {
    match std::fs::remove_file(path_for(real_path)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => log::warn(format!(
            "cannot remove {}: {e}",
            path_for(real_path).display()
        )),
        _ => {}
    }
}

fn write(real_path: &Path, remembered: &Remembered) {
    let path = path_for(real_path);
    let written = serde_json::to_vec_pretty(remembered)
        .map_err(std::io::Error::other)
        .and_then(|json| private_files::write_atomic(&path, &json));
    if let Err(e) = written {
        log::warn(format!(
            "cannot record the login's state in {}: {e}; the next call cannot know what \
             happened",
            path.display()
        ));
    }
}

/// Provider text, sanitised for a terminal and bounded.
fn bounded(text: &str) -> String {
    log::sanitize(text).chars().take(MAX_REASON).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(inode: u64) -> FileId {
        FileId {
            inode,
            ..FileId::default()
        }
    }

    #[test]
    fn a_record_applies_only_to_the_version_it_was_made_about() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("work");
        record_ended(
            &token,
            file(7),
            Some("invalid_grant"),
            "the login has ended",
        );
        let read_back = read(&token, &file(7)).expect("the record");
        let ended = read_back.ended.expect("ended");
        assert_eq!(ended.code.as_deref(), Some("invalid_grant"));
        assert_eq!(ended.reason, "the login has ended");
        assert_eq!(read(&token, &file(8)), None, "another version of the file");
        forget(&token);
        assert_eq!(read(&token, &file(7)), None);
    }

    #[test]
    fn temporary_failures_keep_when_they_began() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("work");
        record_unreachable(&token, file(1), "first");
        let first = read(&token, &file(1)).unwrap().unreachable.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        record_unreachable(&token, file(1), "second");
        let second = read(&token, &file(1)).unwrap().unreachable.unwrap();
        assert_eq!(second.since, first.since);
        assert!(second.last > first.last);
        assert_eq!(second.reason, "second");
        // A new version of the file starts a new run of failures.
        record_unreachable(&token, file(2), "third");
        let third = read(&token, &file(2)).unwrap().unreachable.unwrap();
        assert!(third.since > first.since);
    }

    #[test]
    fn reasons_are_sanitised_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("work");
        let long = format!("\u{1b}]0;title\u{7}{}", "x".repeat(5000));
        record_ended(&token, file(1), None, &long);
        let reason = read(&token, &file(1)).unwrap().ended.unwrap().reason;
        assert!(!reason.contains('\u{1b}'));
        assert!(reason.chars().count() <= MAX_REASON);
    }
}
