//! `--print-config CLIENT`: a mail client's configuration for one account on stdout, ready to
//! append, and on stderr what the client lacks on this machine, each with its fix.
//!
//! The story: read the account (no refresh, no network, no lock: printing a configuration spends
//! nothing), gather the `blocks::Facts` (absolute paths, the SASL user, the servers, the
//! mechanism, `SSL_CERT_FILE`), write the block (`blocks`), then look at the machine (`needs`,
//! which asks `machine` for programs and versions and `cyrus` for SASL plugins).

mod blocks;
mod cyrus;
mod machine;
mod needs;

use std::path::Path;

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::output;
use crate::cli::settings::Settings;
use crate::mail::client::MailClient;

/// Prints `client`'s block for the account, then what the client lacks here.
pub(crate) fn print(settings: &Settings, client: MailClient) -> Result<()> {
    let account = settings.account();
    let token = account.load()?.token;
    let registration = settings
        .overrides
        .registration_for_this_run(&token.registration);
    let user = token.sasl_user().to_string();
    if user.is_empty() {
        return Err(
            Error::config("the account has no e-mail address to log in as").hint(format!(
                "sign in again with 'mailtoken --authorize {} --email ADDRESS'",
                crate::base::paths::shell_quote(&settings.token_given)
            )),
        );
    }
    let facts = blocks::Facts {
        mailtoken: absolute(
            &std::env::current_exe()
                .map_err(|e| Error::config(format!("cannot tell where this mailtoken is: {e}")))?,
        ),
        tokenfile: absolute(account.path()),
        account: settings.token_given.clone(),
        label: label(account.path()),
        user,
        imap: registration.imap_endpoint.clone(),
        smtp: registration.smtp_endpoint.clone(),
        method: registration.sasl_method,
        trust_file: std::env::var_os("SSL_CERT_FILE")
            .filter(|value| !value.is_empty())
            .map(|value| absolute(Path::new(&value))),
    };
    let text = blocks::block(client, &facts)?;
    output::print_text(&text)?;
    let missing = needs::missing(
        client,
        registration.sasl_method,
        &token.access_token,
        &settings.token_given,
    );
    if missing.is_empty() {
        log::verbose(format!(
            "{} is installed, with what this account needs",
            client.program()
        ));
    }
    for item in missing {
        log::say(format!("mailtoken: missing: {}", item.what));
        log::say(format!("  fix: {}", item.fix));
    }
    Ok(())
}

/// The clients installed on this machine (on `PATH`), in the documentation's order.
pub(crate) fn installed() -> Vec<MailClient> {
    MailClient::ALL
        .into_iter()
        .filter(|client| machine::find(client.program()).is_some())
        .collect()
}

/// An absolute form of `path` for a configuration another program reads from anywhere; the
/// path itself when the current directory cannot be read.
fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// The name of sections, channels and folders: the file's name, with anything a configuration
/// syntax could read as its own written `-`.
fn label(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let label: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if label.is_empty() || label.starts_with('.') {
        format!("mail{label}")
    } else {
        label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_plain_words() {
        assert_eq!(label(Path::new("/a/work")), "work");
        assert_eq!(label(Path::new("/a/my mail[1]")), "my-mail-1-");
        assert_eq!(label(Path::new("/a/.hidden")), "mail.hidden");
    }
}
