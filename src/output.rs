//! Standard output: the token, or the status report the user asked for, and nothing else.

use std::io::Write;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Prints the token (or SASL string) and exactly one newline.
pub fn print_secret(secret: &Secret) -> Result<()> {
    print_text(&format!("{}\n", secret.expose()))
}

/// Writes text to stdout. A reader that went away (a closed pipe) is not an error.
pub fn print_text(text: &str) -> Result<()> {
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
