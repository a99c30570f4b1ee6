//! `--test`: log in to IMAP, POP and SMTP with the token. (Delivered by the --test issue.)

use crate::error::{Error, Result};
use crate::settings::Settings;

/// Tests every mail endpoint of the account.
pub fn run(_settings: &Settings) -> Result<()> {
    Err(Error::usage("--test is not available in this build yet"))
}
