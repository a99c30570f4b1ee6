//! `--status`: the account's state in readable text on stdout. Never a secret; never the network.

use chrono::{DateTime, Utc};

use crate::encryption::EncryptionSpec;
use crate::error::Result;
use crate::output;
use crate::settings::Settings;
use crate::tokenfile::{Schema, TokenFile};

/// Prints the state of the account named on the command line.
pub fn show(settings: &Settings) -> Result<()> {
    let account = settings.account();
    let loaded = account.load()?;
    let text = describe(
        &account.path().display().to_string(),
        &loaded.token,
        loaded.schema,
        Utc::now(),
    );
    output::print_text(&text)
}

/// The report, one `label: value` line each.
pub fn describe(path: &str, token: &TokenFile, schema: Schema, now: DateTime<Utc>) -> String {
    let registration = &token.registration;
    let mut lines: Vec<(&str, String)> = vec![
        ("file", path.to_string()),
        (
            "format",
            match schema {
                Schema::Mailtoken => format!("mailtoken, version {}", token.version),
                Schema::MuttOauth2 => {
                    "mutt_oauth2.py (rewritten in mailtoken's format at the next refresh)".into()
                }
            },
        ),
        ("encryption", describe_encryption(&token.encryption)),
        ("provider", registration.provider.clone()),
    ];
    if let Some(tenant) = &registration.tenant {
        lines.push(("tenant", tenant.clone()));
    }
    lines.extend([
        (
            "e-mail",
            if token.email.is_empty() {
                "(none)".into()
            } else {
                token.email.clone()
            },
        ),
        ("flow", token.flow.name().into()),
        (
            "client id",
            if token.client_id.is_empty() {
                "(none)".into()
            } else {
                token.client_id.clone()
            },
        ),
        (
            "client secret",
            if token.client_secret.is_some() {
                "present".into()
            } else {
                "none (public client)".into()
            },
        ),
        ("token endpoint", registration.token_endpoint.clone()),
        ("access token", describe_expiry(token, now)),
        (
            "refresh token",
            if token.refresh_token.is_some() {
                "present".into()
            } else {
                "absent".into()
            },
        ),
        (
            "last refresh",
            token
                .access_token_obtained
                .map(|at| format!("{} ({} ago)", at.to_rfc3339(), human(now - at)))
                .unwrap_or_else(|| "unknown".into()),
        ),
        (
            "scope",
            token
                .granted_scope
                .clone()
                .unwrap_or_else(|| registration.scope.clone()),
        ),
        ("SASL method", registration.sasl_method.name().into()),
    ]);
    for (label, endpoint) in [
        ("IMAP", &registration.imap_endpoint),
        ("POP", &registration.pop_endpoint),
        ("SMTP", &registration.smtp_endpoint),
    ] {
        if let Some(endpoint) = endpoint {
            lines.push((label, endpoint.url()));
        }
    }
    let width = lines
        .iter()
        .map(|(label, _)| label.len())
        .max()
        .unwrap_or(0)
        + 1;
    lines
        .iter()
        // Every value comes from the file or a provider: sanitised for the terminal.
        .map(|(label, value)| {
            format!(
                "{:width$} {}\n",
                format!("{label}:"),
                crate::log::sanitize(value)
            )
        })
        .collect()
}

fn describe_encryption(spec: &EncryptionSpec) -> String {
    match spec {
        EncryptionSpec::Age { recipients } => format!("age, to {}", recipients.join(", ")),
        EncryptionSpec::AgePassphrase => "age, with a passphrase".into(),
        EncryptionSpec::Gpg {
            recipient: Some(recipient),
        } => format!("gpg, to {recipient}"),
        EncryptionSpec::Gpg { recipient: None } => "gpg, to your default key".into(),
        EncryptionSpec::Pipe { encrypt } => format!("command: {encrypt}"),
    }
}

fn describe_expiry(token: &TokenFile, now: DateTime<Utc>) -> String {
    if token.access_token.is_empty() {
        return "none".into();
    }
    let expiry = token.access_token_expiry;
    if token.is_expired(now) {
        format!(
            "expired at {} ({} ago)",
            expiry.to_rfc3339(),
            human(now - expiry)
        )
    } else {
        format!(
            "valid until {} ({} left)",
            expiry.to_rfc3339(),
            human(expiry - now)
        )
    }
}

fn human(duration: chrono::Duration) -> String {
    let seconds = duration.num_seconds().max(0);
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min", seconds / 60),
        3600..86400 => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
        _ => format!("{} days", seconds / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(chrono::Duration::seconds(42)), "42 s");
        assert_eq!(human(chrono::Duration::seconds(3 * 60 + 5)), "3 min");
        assert_eq!(
            human(chrono::Duration::seconds(3 * 3600 + 120)),
            "3 h 2 min"
        );
        assert_eq!(human(chrono::Duration::days(9)), "9 days");
    }
}
