//! `--authorize`: the interactive sign-in flows. (Delivered by the --authorize issue.)

use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::tokenfile::TokenFile;

/// Signs the user in, writes the token file, and returns it.
pub fn run(_settings: &Settings) -> Result<TokenFile> {
    Err(Error::usage(
        "--authorize is not available in this build yet",
    ))
}
