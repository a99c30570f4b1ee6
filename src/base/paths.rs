//! Where things live: the XDG base directories, token-file name resolution, the age identity.

use std::path::{Path, PathBuf};

use crate::base::error::{Error, Result};

/// The user's home directory, from `$HOME`.
pub(crate) fn home() -> Result<PathBuf> {
    match std::env::var_os("HOME") {
        Some(home) if !home.is_empty() => Ok(PathBuf::from(home)),
        _ => Err(Error::config("$HOME is not set").hint("set HOME, or give TOKENFILE as a path")),
    }
}

/// `$XDG_DATA_HOME`, or `~/.local/share` when unset or not absolute (XDG Base Directory spec).
pub(crate) fn data_home() -> Result<PathBuf> {
    xdg_dir("XDG_DATA_HOME", ".local/share")
}

/// `$XDG_CONFIG_HOME`, or `~/.config` when unset or not absolute.
pub(crate) fn config_home() -> Result<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config")
}

/// `$XDG_STATE_HOME`, or `~/.local/state` when unset or not absolute.
pub(crate) fn state_home() -> Result<PathBuf> {
    xdg_dir("XDG_STATE_HOME", ".local/state")
}

fn xdg_dir(variable: &str, fallback: &str) -> Result<PathBuf> {
    match std::env::var_os(variable).map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => Ok(dir),
        _ => Ok(home()?.join(fallback)),
    }
}

/// TOKENFILE as given when it is a path (`./work`, `dir/work`, `/abs/work`), as mutt_oauth2.py
/// users' relative paths are; a bare name means the account `$XDG_DATA_HOME/mailtoken/NAME`.
/// A bare name that exists only in the current directory is used from there, with a warning
/// that says how to name it without one (`./NAME`), so an old setup keeps working and says why.
pub(crate) fn resolve_token_path(given: &Path) -> Result<PathBuf> {
    let is_bare_name = given.components().count() == 1
        && !given.as_os_str().as_encoded_bytes().contains(&b'/')
        && given != Path::new(".")
        && given != Path::new("..");
    if !is_bare_name {
        return Ok(given.to_path_buf());
    }
    let account = data_home()?.join("mailtoken").join(given);
    if !account.exists() && given.exists() {
        crate::base::log::warn(format!(
            "{0} is not an account in {1}; using ./{0} from the current directory (write \
             ./{0} to say so)",
            crate::base::log::sanitize(&given.to_string_lossy()),
            account.parent().unwrap_or(&account).display()
        ));
        return Ok(given.to_path_buf());
    }
    Ok(account)
}

/// The default age identity: `$XDG_CONFIG_HOME/mailtoken/age-identity.txt`.
pub(crate) fn default_age_identity() -> Result<PathBuf> {
    Ok(config_home()?.join("mailtoken").join("age-identity.txt"))
}

/// The lock file that serializes refreshes of one token file: `TOKENFILE.lock`, beside it.
pub fn lock_path(token_path: &Path) -> PathBuf {
    let mut name = token_path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Quotes a path for a command line the user can paste into a shell (POSIX sh quoting, by shlex;
/// a path as it is when it needs none). Text with a NUL byte, which no command line can hold,
/// is quoted without it.
pub fn shell_quote(text: &str) -> String {
    let text = text.replace('\0', "");
    shlex::try_quote(&text).map_or_else(|_| format!("'{text}'"), |quoted| quoted.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_file_sits_beside_the_token_file() {
        assert_eq!(
            lock_path(Path::new("/a/b/work")),
            PathBuf::from("/a/b/work.lock")
        );
    }

    #[test]
    fn shell_quote_leaves_plain_paths_alone() {
        assert_eq!(shell_quote("/home/u/.mutt/tok"), "/home/u/.mutt/tok");
        assert_eq!(shell_quote("my token"), "'my token'");
        assert_eq!(shell_quote("it's"), r#""it's""#);
        assert_eq!(shell_quote("~/tok"), "'~/tok'");
        assert_eq!(shell_quote("$(touch x)"), "'$(touch x)'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn paths_with_a_slash_are_taken_as_given() {
        assert_eq!(
            resolve_token_path(Path::new("./x/y")).unwrap(),
            PathBuf::from("./x/y")
        );
    }
}
