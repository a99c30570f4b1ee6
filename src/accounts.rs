//! Every account at once: the token files in `$XDG_DATA_HOME/mailtoken/`, and `--list`.
//!
//! Each file is read and decrypted once, nothing more: no lock, no refresh, no network. A file
//! that cannot be read is listed as unreadable, with the reason, and the others still are.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::error::{Error, Result};
use crate::log;
use crate::output;
use crate::paths;
use crate::settings::Settings;
use crate::status::{self, State, Summary};
use crate::tokenfile::Account;

/// The directory bare TOKENFILE names live in.
pub fn directory() -> Result<PathBuf> {
    Ok(paths::data_home()?.join("mailtoken"))
}

/// The token files in `dir`, by name: regular files only (or links to them), leaving out lock
/// files, the `.unreadable-*` and `.recovery*` copies kept of damaged files, hidden files and the
/// temporaries of an atomic write. A missing directory holds no accounts.
pub fn token_files(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
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
pub fn is_token_file_name(name: &str) -> bool {
    !(name.starts_with('.')
        || name.ends_with(".lock")
        || name.ends_with(".tmp")
        || name.ends_with('~')
        || name.contains(".unreadable-")
        || name.contains(".recovery"))
}

/// The accounts `--check` works on, with their names: those named, or every one in the
/// directory (a bare name there is also what `--authorize` takes).
pub fn accounts(settings: &Settings) -> Result<Vec<(String, Account)>> {
    let named: Vec<(String, PathBuf)> = if settings.token_files.is_empty() {
        token_files(&directory()?)?
    } else {
        settings
            .token_files
            .iter()
            .map(|(path, given)| (given.clone(), path.clone()))
            .collect()
    };
    Ok(named
        .into_iter()
        .map(|(name, path)| {
            let account = Account::new(path, name.clone(), settings.encryption.clone());
            (name, account)
        })
        .collect())
}

/// One account's summary; an unreadable file is a state, not a failure.
pub fn summarize(account: &Account, name: &str) -> Summary {
    let path = account.path().display().to_string();
    match account.load() {
        Ok(loaded) => Summary::of(name, &path, &loaded.token, Utc::now()),
        Err(error) => Summary::unreadable(name, &path, &error),
    }
}

/// `--list`: a table, or with `--json` an array of `--status --json` objects.
pub fn list(settings: &Settings) -> Result<()> {
    let dir = directory()?;
    let summaries: Vec<Summary> = token_files(&dir)?
        .into_iter()
        .map(|(name, path)| {
            let account = Account::new(path, name.clone(), settings.encryption.clone());
            summarize(&account, &name)
        })
        .collect();
    if settings.json {
        return output::print_text(&status::to_json(&summaries)?);
    }
    if summaries.is_empty() {
        log::say(format!(
            "mailtoken: no accounts in {}; sign in with 'mailtoken --authorize NAME'",
            dir.display()
        ));
        return Ok(());
    }
    output::print_text(&table(&summaries))
}

/// The accounts aligned in columns, one line each.
pub fn table(summaries: &[Summary]) -> String {
    let rows: Vec<[String; 4]> = summaries
        .iter()
        .map(|s| {
            let state = match (&s.state, &s.error) {
                (State::Unreadable, Some(error)) => format!("unreadable: {error}"),
                (state, _) => state.words().to_string(),
            };
            [
                s.name.clone(),
                s.email.clone().unwrap_or_else(|| "-".into()),
                s.provider.clone().unwrap_or_else(|| "-".into()),
                state,
            ]
        })
        .collect();
    let header = ["ACCOUNT", "E-MAIL", "PROVIDER", "STATE"].map(String::from);
    let mut widths = [0; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    std::iter::once(&header)
        .chain(&rows)
        .map(|row| {
            format!(
                "{:w0$}  {:w1$}  {:w2$}  {}\n",
                row[0],
                row[1],
                row[2],
                row[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_token_files_count_as_accounts() {
        for name in ["work", "gmail", "a.b"] {
            assert!(is_token_file_name(name), "{name}");
        }
        for name in [
            "work.lock",
            ".work.123.456.tmp",
            ".hidden",
            "work.unreadable-20261129T052233Z",
            "work.recovery",
            "work.recovery-1",
            "work~",
        ] {
            assert!(!is_token_file_name(name), "{name}");
        }
    }
}
