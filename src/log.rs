//! Messages for people, always on stderr.
//!
//! stdout belongs to the token: NeoMutt sends the first line of it to the server. Everything else,
//! at every verbosity, goes through these functions to stderr.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say: 0 warnings and errors, 1 `--verbose`, 2 `--debug`.
static LEVEL: AtomicU8 = AtomicU8::new(0);

pub const VERBOSE: u8 = 1;
pub const DEBUG: u8 = 2;

pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn enabled(level: u8) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level
}

/// A progress note shown with `--verbose` or `--debug`.
pub fn verbose(message: impl std::fmt::Display) {
    if enabled(VERBOSE) {
        eprintln!("mailtoken: {message}");
    }
}

/// A protocol trace shown with `--debug`; callers redact secrets before they get here.
pub fn debug(message: impl std::fmt::Display) {
    if enabled(DEBUG) {
        eprintln!("mailtoken: debug: {message}");
    }
}

/// Something the user should know even though the command succeeds.
pub fn warn(message: impl std::fmt::Display) {
    eprintln!("mailtoken: warning: {message}");
}

/// Information the user asked for by running an interactive command (never secret).
pub fn say(message: impl std::fmt::Display) {
    eprintln!("{message}");
}

/// Text from a remote party (an `error_description`, a server reply), made safe to print: control
/// characters could rewrite the terminal or forge log lines, and an endless reply could flood it.
pub fn sanitize(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    let mut clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_CHARS)
        .collect();
    if text.chars().count() > MAX_CHARS {
        clean.push('…');
    }
    clean.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_control_characters_and_caps_length() {
        assert_eq!(sanitize("bad\x1b[31m grant\r\n"), "bad [31m grant");
        let long = "x".repeat(2000);
        assert_eq!(sanitize(&long).chars().count(), 501);
    }
}
