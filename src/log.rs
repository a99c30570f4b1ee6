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

/// A moment as every message shows it: to the second, in local time, with the zone's offset
/// ("2026-03-14 09:26:53 +01:00"), as `--status` does.
pub fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// Text from a remote party (an `error_description`, a server reply), made safe to print: control
/// characters could rewrite the terminal or forge log lines, and an endless reply could flood it.
pub fn sanitize(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    let mut clean: String = text
        .chars()
        .filter(|c| !is_format_character(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_CHARS)
        .collect();
    if text.chars().count() > MAX_CHARS {
        clean.push('…');
    }
    clean.trim().to_string()
}

/// Unicode's format characters (general category Cf): invisible, yet they reorder what a terminal
/// shows (U+202E RIGHT-TO-LEFT OVERRIDE makes `gro.elpmaxe` read as `example.org`) or hide text.
fn is_format_character(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{600}'..='\u{605}'
            | '\u{61C}'
            | '\u{6DD}'
            | '\u{70F}'
            | '\u{890}'..='\u{891}'
            | '\u{8E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_to_the_second_with_the_zone() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-03-14T09:26:53.123456789Z")
            .unwrap()
            .to_utc();
        let shown = local_time(at);
        // The zone is the machine's; the shape is fixed: no fraction, an offset at the end.
        assert_eq!(shown.len(), "2026-03-14 09:26:53 +00:00".len(), "{shown}");
        assert!(!shown.contains('.') && !shown.contains('T'), "{shown}");
        assert!(shown[20..].starts_with(['+', '-']), "{shown}");
    }

    #[test]
    fn sanitize_strips_control_characters_and_caps_length() {
        assert_eq!(sanitize("bad\x1b[31m grant\r\n"), "bad [31m grant");
        assert_eq!(
            sanitize("evil\u{202E}gro.elpmaxe\u{200B}"),
            "evilgro.elpmaxe"
        );
        let long = "x".repeat(2000);
        assert_eq!(sanitize(&long).chars().count(), 501);
    }
}
