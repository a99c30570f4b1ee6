//! Every account at once (`known_accounts`: those in `$XDG_DATA_HOME/mailtoken/` and those
//! signed in elsewhere), and `--list`.
//!
//! Each file is read and decrypted once, nothing more: no lock, no refresh, no network. A file
//! that cannot be read is listed as unreadable, with the reason, and the others still are.

use std::path::PathBuf;

use crate::base::error::Result;
use crate::base::log;
use crate::cli::output;
use crate::cli::settings::Settings;
use crate::lifecycle::status::{self, Summary};
use crate::store::known_accounts;
use crate::store::tokenfile::Account;

/// The accounts `--check` works on, with their names: those named, or every one known (a bare
/// name in the directory is also what `--authorize` takes).
pub(crate) fn accounts(settings: &Settings) -> Result<Vec<(String, Account)>> {
    let named: Vec<(String, PathBuf)> = if settings.token_files.is_empty() {
        known_accounts::all()?
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

/// `--list`: a table, or with `--json` an array of `--status --json` objects.
pub(crate) fn list(settings: &Settings) -> Result<()> {
    let summaries: Vec<Summary> = accounts(settings)?
        .iter()
        .map(|(name, account)| Summary::of_account(name, account))
        .collect();
    if settings.json {
        return output::print_text(&status::to_json(&summaries)?);
    }
    if summaries.is_empty() {
        log::say(format!(
            "mailtoken: no accounts in {} or elsewhere; sign in with 'mailtoken --authorize NAME'",
            known_accounts::directory()?.display()
        ));
        return Ok(());
    }
    output::print_text(&table(&summaries))
}

/// The E-MAIL column: the address mail servers get (the shared mailbox, when there is one), and
/// who signed in when that is someone else.
fn address_column(summary: &Summary) -> String {
    let address = summary
        .mailbox
        .as_ref()
        .or(summary.email.as_ref())
        .cloned()
        .unwrap_or_else(|| "-".into());
    match &summary.signed_in_as {
        Some(who) if !who.eq_ignore_ascii_case(&address) => {
            format!("{address} (signed in as {who})")
        }
        _ => address,
    }
}

/// The accounts aligned in columns, one line each.
pub(crate) fn table(summaries: &[Summary]) -> String {
    let rows: Vec<[String; 4]> = summaries
        .iter()
        .map(|s| {
            [
                s.name.clone(),
                address_column(s),
                s.provider.clone().unwrap_or_else(|| "-".into()),
                s.state_words.clone(),
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
