//! Standard output: the token, the SASL string `--format` asks for, or the status report the
//! user asked for, and nothing else.

use std::io::Write;

use crate::base::error::{Error, Result};
use crate::base::secret::Secret;
use crate::mail::mailserver::Protocol;
use crate::mail::sasl::{self, SaslMethod};
use crate::oauth::provider::Registration;
use crate::store::tokenfile::TokenFile;

/// What is printed on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// The bare access token.
    #[default]
    Token,
    /// The base64 SASL initial response.
    Sasl,
    /// The SASL mechanism name, a space, and the base64 SASL initial response.
    Msasl,
}

/// Prints the token (or SASL string) and exactly one newline. What a token file holds is not
/// printed unless it looks like a token (RFC 6750's b64token is visible ASCII): a file from
/// elsewhere could otherwise drive the terminal of whoever runs mailtoken at a shell.
pub(crate) fn print_secret(secret: &Secret) -> Result<()> {
    if !is_visible_ascii(secret.expose()) {
        return Err(Error::bad_token_file(
            "the access token in the token file holds control or non-ASCII characters, which no \
             token has; it was not printed",
        )
        .hint("sign in again with --authorize"));
    }
    print_text(&format!("{}\n", secret.expose()))
}

/// Whether every byte is visible ASCII or a space. Every byte is looked at, with no early stop,
/// so that the compiler checks many at a time: it runs on every mail client's call, over tokens
/// of 2 kB and more.
fn is_visible_ascii(text: &str) -> bool {
    text.bytes()
        .fold(true, |all, b| all & matches!(b, b' '..=b'~'))
}

/// Writes text to stdout. A reader that went away (a closed pipe) is not an error.
pub(crate) fn print_text(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::io(format!("cannot write to standard output: {e}"))),
    }
}

/// Prints the SASL string of `--format sasl`, or with `with_mechanism` of `--format msasl`, for
/// `protocol`'s server of `registration`.
pub(crate) fn print_sasl(
    with_mechanism: bool,
    protocol: Protocol,
    registration: &Registration,
    token: &TokenFile,
    account: &str,
) -> Result<()> {
    let endpoint = registration.endpoint(protocol).ok_or_else(|| {
        Error::config(format!(
            "the account has no {} endpoint for the SASL string",
            protocol.name()
        ))
        .hint(format!(
            "run 'mailtoken --set {} --{}-endpoint URL' to record one",
            crate::base::paths::shell_quote(account),
            protocol.name().to_lowercase()
        ))
    })?;
    if token.sasl_user().is_empty() {
        return Err(
            Error::config("the account has no e-mail address for the SASL string")
                .hint("pass --email ADDRESS"),
        );
    }
    // The shared mailbox, when there is one (`--mailbox`), with the delegate's token.
    print_secret(&sasl_text(
        with_mechanism,
        registration.sasl_method,
        token.sasl_user(),
        &endpoint.host,
        endpoint.port,
        &token.access_token,
    ))
}

/// The base64 SASL initial response, after the mechanism's name and a space for msasl.
fn sasl_text(
    with_mechanism: bool,
    method: SaslMethod,
    user: &str,
    host: &str,
    port: u16,
    token: &Secret,
) -> Secret {
    let response = sasl::base64(&sasl::initial_response(method, user, host, port, token));
    if with_mechanism {
        Secret::new(format!("{} {}", method.name(), response.expose()))
    } else {
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msasl_prefixes_the_mechanism() {
        let out = sasl_text(true, SaslMethod::Xoauth2, "u", "h", 1, &Secret::new("t"));
        assert_eq!(out.expose(), "XOAUTH2 dXNlcj11AWF1dGg9QmVhcmVyIHQBAQ==");
    }

    #[test]
    fn visible_ascii_is_the_space_to_the_tilde() {
        let all: Vec<u8> = (0..=255).collect();
        let taken: Vec<u8> = all
            .iter()
            .copied()
            .filter(|&b| is_visible_ascii(&char::from(b).to_string()))
            .collect();
        assert_eq!(taken, (b' '..=b'~').collect::<Vec<u8>>());
        let token = "E".repeat(2500);
        assert!(is_visible_ascii(&token));
        assert!(!is_visible_ascii(&format!("{token}\x1b]0;title\x07")));
        assert!(!is_visible_ascii(&format!("\n{token}")));
    }
}
