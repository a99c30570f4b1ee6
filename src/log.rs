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
/// characters could rewrite the terminal or forge log lines, format characters (bidirectional
/// overrides, zero-width characters) could make a line read other than it is, and an endless
/// reply could flood it.
pub fn sanitize(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    let mut clean: String = text
        .chars()
        .map(|c| {
            if c.is_control() || is_format(c) {
                ' '
            } else {
                c
            }
        })
        .take(MAX_CHARS)
        .collect();
    if text.chars().count() > MAX_CHARS {
        clean.push('…');
    }
    clean.trim().to_string()
}

/// Unicode's format characters (general category Cf, Unicode 15.1), which std does not classify:
/// the bidirectional marks, embeddings, overrides and isolates (the "Trojan Source" characters),
/// zero-width spaces and joiners, invisible operators, and tag characters.
fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
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

    // Found by the provider_answer fuzz target: U+061C (ARABIC LETTER MARK) in an
    // error_description reached the terminal, and with it every bidirectional control.
    #[test]
    fn sanitize_strips_format_characters() {
        assert_eq!(
            sanitize("invalid\u{61c}_grant \u{202e}dilav\u{2066}x\u{200b}y\u{feff}"),
            "invalid _grant  dilav x y"
        );
        assert_eq!(
            sanitize("caf\u{e9} \u{4e2d}\u{6587}"),
            "caf\u{e9} \u{4e2d}\u{6587}"
        );
    }
}
