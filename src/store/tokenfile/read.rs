//! Reading an account's token file: read as the user's own private file, decrypted (with the
//! hint each failure needs: a sign-in for a damaged file, the other identity for another
//! machine's), and parsed in either schema (`parse`).

use super::account::{Account, Loaded};
use super::parse::Schema;
use crate::base::error::{Error, ExitStatus, Result};
use crate::base::paths;
use crate::base::private_files::{self, ReadError};

/// Reads, checks, decrypts and parses `account`'s file; with `to_update`, the members this version
/// does not know are remembered for the rewrite.
pub(super) fn read(account: &Account, to_update: bool) -> Result<Loaded> {
    let shown = account.path.display();
    let (bytes, file) = private_files::read_private_identified(&account.path).map_err(|error| {
        match error {
            ReadError::Missing => {
                let create = format!("run '{}' once to sign in", account.authorize_command());
                let typo = (!account.given.contains('/'))
                    .then(|| crate::store::known_accounts::nearest(&account.given))
                    .flatten();
                Error::new(ExitStatus::NoTokenFile, format!("no token file at {shown}")).hint(
                    match typo {
                        Some(account) => format!(
                            "did you mean '{}'? To make a new account of this name, {create}",
                            paths::shell_quote(&account)
                        ),
                        None => create,
                    },
                )
            }
            // chmod is suggested only for what looks like a token file: telling a user to
            // narrow the mode of some other file they pointed at by mistake helps no one.
            ReadError::Exposed(mode)
                if crate::store::encryption::detect(&private_files::peek(&account.path))
                    != crate::store::encryption::Detected::Unknown =>
            {
                Error::config(format!(
                    "{shown} can be read by other users (mode {mode:04o}); it holds a login"
                ))
                .hint(format!(
                    "run 'chmod 600 {}'",
                    paths::shell_quote(&account.path.to_string_lossy())
                ))
            }
            ReadError::Exposed(mode) => Error::config(format!(
                "{shown} can be read by other users (mode {mode:04o}) and does not look like a \
             token file"
            ))
            .hint("check the TOKENFILE argument"),
            ReadError::NotOwned(uid) => Error::config(format!(
                "{shown} belongs to another user (uid {uid}); mailtoken reads only the user's own \
             token files, and follows only the user's own links"
            ))
            .hint("check the TOKENFILE argument; a token file is created by --authorize"),
            ReadError::NotAFile => Error::bad_token_file(format!("{shown} is not a regular file")),
            ReadError::TooLarge => {
                Error::bad_token_file(format!("{shown} is far too large to be a token file"))
            }
            ReadError::Io(e) => Error::bad_token_file(format!("cannot read {shown}: {e}")),
        }
    })?;
    if bytes.is_empty() {
        return Err(Error::bad_token_file(format!(
            "{shown} is empty (a sign-in that never finished?)"
        ))
        .hint(format!("run '{}' to sign in", account.authorize_command())));
    }
    let (plaintext, read_with) =
        account
            .crypto
            .decrypt(&account.path, &bytes)
            .map_err(|error| {
                match account.crypto.found_damage() {
            // No key or flag opens a damaged file: a sign-in replaces it, and keeps the
            // damaged one aside.
            true => error.hint(format!(
                "run '{}' to sign in again; the damaged file is kept aside as {}.unreadable-TIME",
                account.authorize_command(),
                shown
            )),
            // Another identity's file: that identity, or a new sign-in.
            false if account.crypto.found_foreign() => {
                let restore = error.hint_text().unwrap_or_default().to_string();
                error.hint(format!(
                    "{restore}; or run '{}' to sign in again (this file is kept aside)",
                    account.authorize_command()
                ))
            }
            false => error,
        }
            })?;
    let (mut token, schema) = super::parse::parse(&plaintext, || {
        account.crypto.spec_for_unrecorded(&read_with)
    })
    .map_err(|e| e.context(shown))?;
    if to_update && schema == Schema::Mailtoken {
        token.remember_unknown(&plaintext);
    }
    token.min_valid_this_call = account.min_valid;
    Ok(Loaded {
        token,
        schema,
        file,
        plaintext,
    })
}
