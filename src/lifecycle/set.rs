//! `--set`: change what is not the login (the mail servers, the SASL mechanism, `--min-valid`,
//! the shared mailbox)
//! without a sign-in, and say what changed. The tokens, the client and the provider's endpoints
//! are never touched; the write is the token file's one locked, atomic, read-back write
//! (`Account::update`), and a file that cannot be read is not rewritten.

use crate::base::error::Result;
use crate::base::log;
use crate::cli::settings::Settings;
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::store::tokenfile::TokenFile;

pub(crate) fn run(settings: &Settings) -> Result<()> {
    // `--min-valid` here is the value to store, not a margin for this call.
    let account = settings.account().with_min_valid(None);
    let flags = &settings.overrides;
    let min_valid = settings.min_valid;
    let changed = account.update(|token| {
        let mut changed = Vec::new();
        for (protocol, given) in [
            (Protocol::Imap, &flags.imap_endpoint),
            (Protocol::Pop, &flags.pop_endpoint),
            (Protocol::Smtp, &flags.smtp_endpoint),
        ] {
            if let Some(endpoint) = given {
                changed.extend(set_endpoint(token, protocol, endpoint));
            }
        }
        if let Some(method) = flags.sasl_method
            && token.registration.sasl_method != method
        {
            changed.push(format!(
                "SASL method {} (was {})",
                method.name(),
                token.registration.sasl_method.name()
            ));
            token.registration.sasl_method = method;
        }
        // `--mailbox`: the shared mailbox that is the SASL user; '' removes it (issue 33).
        if let Some(mailbox) = &flags.mailbox {
            let new = Some(mailbox.clone()).filter(|m| !m.is_empty());
            if token.mailbox != new {
                changed.push(format!(
                    "mailbox {} (was {})",
                    new.as_deref().unwrap_or("none"),
                    token.mailbox.as_deref().unwrap_or("none")
                ));
                token.mailbox = new;
            }
        }
        if let Some(minutes) = min_valid {
            let new = Some(minutes).filter(|m| *m > 0);
            if token.min_valid_minutes != new {
                changed.push(format!(
                    "--min-valid {} (was {})",
                    shown_minutes(new),
                    shown_minutes(token.min_valid_minutes)
                ));
                token.min_valid_minutes = new;
            }
        }
        changed
    })?;
    let shown = account.path().display();
    if changed.is_empty() {
        log::say(format!(
            "mailtoken: {shown} already has these values; nothing was written"
        ));
    }
    for change in changed {
        log::say(format!("mailtoken: {shown}: {}", log::sanitize(&change)));
    }
    Ok(())
}

/// Replaces one mail server; what changed, if anything.
fn set_endpoint(
    token: &mut TokenFile,
    protocol: Protocol,
    endpoint: &MailEndpoint,
) -> Option<String> {
    let field = match protocol {
        Protocol::Imap => &mut token.registration.imap_endpoint,
        Protocol::Pop => &mut token.registration.pop_endpoint,
        Protocol::Smtp => &mut token.registration.smtp_endpoint,
    };
    if field.as_ref() == Some(endpoint) {
        return None;
    }
    let was = field
        .as_ref()
        .map_or_else(|| "none".to_string(), MailEndpoint::url);
    *field = Some(endpoint.clone());
    Some(format!(
        "{} server {} (was {was})",
        protocol.name(),
        endpoint.url()
    ))
}

fn shown_minutes(minutes: Option<u32>) -> String {
    minutes.map_or_else(|| "none".to_string(), |m| format!("{m} minutes"))
}
