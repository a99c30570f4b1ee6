//! Every account mailtoken has made, wherever its file lives.
//!
//! A bare name is an account in `$XDG_DATA_HOME/mailtoken/`, found by reading that directory.
//! But most setups name a path (`~/.mail/gmail`, mutt_oauth2.py's habit), and an account nobody
//! lists is an account `--check` never keeps alive. So every token file that a sign-in or a
//! refresh writes outside the directory is remembered in `.elsewhere` inside it: one absolute
//! path a line, plain text (paths are not secret), so the shell completions can read it too.
//!
//! A remembered file that is gone (moved or deleted) is said once, then forgotten: silently
//! skipping it would hide a login that no longer works, and repeating it forever would be noise.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::paths;
use crate::base::private_files;
use crate::base::refresh_lock;

/// The file's name in the accounts directory; hidden, so it is never taken for an account.
pub(crate) const FILE_NAME: &str = ".elsewhere";

/// How long to wait for another process updating the list: it holds the lock for one write.
const LOCK_WAIT: Duration = Duration::from_secs(5);

/// The directory bare TOKENFILE names live in: `$XDG_DATA_HOME/mailtoken`.
pub(crate) fn directory() -> Result<PathBuf> {
    Ok(paths::data_home()?.join("mailtoken"))
}

/// Every account: the token files in the directory by name, then those elsewhere by path. A file
/// elsewhere that no longer exists is reported on stderr and forgotten.
pub(crate) fn all() -> Result<Vec<(String, PathBuf)>> {
    let dir = directory()?;
    let mut accounts = token_files(&dir)?;
    let in_dir: Vec<PathBuf> = accounts
        .iter()
        .filter_map(|(_, path)| std::fs::canonicalize(path).ok())
        .collect();
    let mut gone = Vec::new();
    for path in remembered(&dir) {
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {
                log::say(format!(
                    "mailtoken: the account at {} is gone (moved or deleted); it is no longer \
                     listed or checked. Sign in at its new place with 'mailtoken --authorize \
                     PATH'",
                    path.display()
                ));
                gone.push(path);
            }
            _ => {
                let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
                if !in_dir.contains(&real) {
                    accounts.push((path.display().to_string(), path));
                }
            }
        }
    }
    if !gone.is_empty() {
        update(&dir, |paths| paths.retain(|path| !gone.contains(path)));
    }
    Ok(accounts)
}

/// The token files in `dir`, by name: regular files only (or links to them), leaving out lock
/// files, the `.state` records and `.unreadable-*` and `.recovery*` copies kept beside token
/// files, hidden files and the temporaries of an atomic write. A missing directory holds no
/// accounts.
pub(crate) fn token_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("cannot read {}: {e}", dir.display()))),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("cannot read {}: {e}", dir.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !is_token_file_name(&name) {
            continue;
        }
        let path = entry.path();
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            files.push((name, path));
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a name in the accounts directory can be an account.
pub(crate) fn is_token_file_name(name: &str) -> bool {
    !(name.starts_with('.')
        || name.ends_with(".lock")
        || name.ends_with(".state")
        || name.ends_with(".tmp")
        || name.ends_with('~')
        || name.contains(".unreadable-")
        || name.contains(".recovery"))
}

/// Remembers the token file at `path` when it lies outside the accounts directory. Never fails:
/// a list that cannot be written costs a line on stderr, not the login.
pub(crate) fn remember(path: &Path) {
    let Ok(dir) = directory() else { return };
    let Ok(absolute) = std::path::absolute(path) else {
        return;
    };
    let real_parent = absolute
        .parent()
        .and_then(|parent| std::fs::canonicalize(parent).ok());
    if real_parent.is_some() && real_parent == std::fs::canonicalize(&dir).ok() {
        return;
    }
    if absolute.as_os_str().as_encoded_bytes().contains(&b'\n') {
        log::warn(format!(
            "{} has a line break in its name, so --list and --check cannot remember it",
            log::sanitize(&absolute.to_string_lossy())
        ));
        return;
    }
    if remembered(&dir).contains(&absolute) {
        return;
    }
    update(&dir, |paths| {
        if !paths.contains(&absolute) {
            paths.push(absolute.clone());
        }
    });
}

/// The existing account whose name is nearest to `given`, a name that is no account: a typo's
/// likely target (at most two edits away, a swap of neighbours counting as one). Accounts
/// elsewhere are offered by their whole path.
pub(crate) fn nearest(given: &str) -> Option<String> {
    let dir = directory().ok()?;
    let mut candidates: Vec<(String, String)> = token_files(&dir)
        .ok()?
        .into_iter()
        .map(|(name, _)| (name.clone(), name))
        .collect();
    for path in remembered(&dir) {
        if let Some(name) = path.file_name() {
            candidates.push((
                name.to_string_lossy().into_owned(),
                path.display().to_string(),
            ));
        }
    }
    let limit = if given.chars().count() <= 3 { 1 } else { 2 };
    candidates
        .into_iter()
        .map(|(name, shown)| (strsim::osa_distance(given, &name), shown))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, shown)| shown)
}

/// Forgets the token file at `path` (it was revoked and deleted).
pub(crate) fn forget(path: &Path) {
    let (Ok(dir), Ok(absolute)) = (directory(), std::path::absolute(path)) else {
        return;
    };
    if remembered(&dir).contains(&absolute) {
        update(&dir, |paths| paths.retain(|known| *known != absolute));
    }
}

/// The paths remembered in `dir`; none when there is no list or it cannot be read.
fn remembered(dir: &Path) -> Vec<PathBuf> {
    match private_files::read_kept(&dir.join(FILE_NAME)) {
        Ok(bytes) => String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.starts_with('/'))
            .map(PathBuf::from)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Changes the list under its lock, so two sign-ins at once both end up in it.
fn update(dir: &Path, change: impl FnOnce(&mut Vec<PathBuf>)) {
    let list = dir.join(FILE_NAME);
    let written = refresh_lock::lock(&list, LOCK_WAIT)
        .map_err(|error| match error {
            refresh_lock::LockError::TimedOut => "another mailtoken process holds its lock".into(),
            refresh_lock::LockError::Io(e) => e.to_string(),
        })
        .and_then(|_lock| {
            let mut paths = remembered(dir);
            change(&mut paths);
            let text: String = paths
                .iter()
                .map(|path| format!("{}\n", path.display()))
                .collect();
            private_files::write_atomic(&list, text.as_bytes()).map_err(|e| e.to_string())
        });
    if let Err(why) = written {
        log::warn(format!("cannot update {}: {why}", list.display()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The measure `nearest` uses counts a swap of neighbours as one edit ("wrok"), as a plain
    /// Levenshtein distance would not.
    #[test]
    fn typos_are_a_few_edits_away() {
        let edit_distance = strsim::osa_distance;
        assert_eq!(edit_distance("wrok", "work"), 1);
        assert_eq!(edit_distance("gmial", "gmail"), 1);
        assert_eq!(edit_distance("work", "work"), 0);
        assert_eq!(edit_distance("wok", "work"), 1);
        assert_eq!(edit_distance("personal", "work"), 7);
        assert_eq!(edit_distance("", "ab"), 2);
    }

    #[test]
    fn only_token_files_count_as_accounts() {
        for name in ["work", "gmail", "a.b"] {
            assert!(is_token_file_name(name), "{name}");
        }
        for name in [
            "work.lock",
            "work.state",
            ".work.123.456.tmp",
            ".hidden",
            FILE_NAME,
            "work.unreadable-20261129T052233Z",
            "work.recovery",
            "work.recovery-1",
            "work~",
        ] {
            assert!(!is_token_file_name(name), "{name}");
        }
    }
}
