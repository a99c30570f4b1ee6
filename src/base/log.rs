//! Messages for people, always on stderr.
//!
//! stdout belongs to the token: NeoMutt sends the first line of it to the server. Everything else,
//! at every verbosity, goes through these functions to stderr, and none of it can drive the
//! terminal: a value from a file or a server that was not sanitised where it was put into a
//! message loses its control and format characters here (`terminal_safe`). Only `say_raw`, for
//! the QR code's colours, writes escape sequences.

use std::sync::atomic::{AtomicU8, Ordering};

/// How much to say: 0 warnings and errors, 1 `--verbose`, 2 `--debug`.
static LEVEL: AtomicU8 = AtomicU8::new(0);

pub(crate) const VERBOSE: u8 = 1;
pub(crate) const DEBUG: u8 = 2;

pub(crate) fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub(crate) fn enabled(level: u8) -> bool {
    LEVEL.load(Ordering::Relaxed) >= level
}

/// A progress note shown with `--verbose` or `--debug`.
pub(crate) fn verbose(message: impl std::fmt::Display) {
    if enabled(VERBOSE) {
        eprintln!("mailtoken: {}", terminal_safe(&message.to_string()));
    }
}

/// A protocol trace shown with `--debug`. Callers redact secrets by name before they get here;
/// every secret sent is removed again, wherever an echo put it.
pub(crate) fn debug(message: impl std::fmt::Display) {
    if enabled(DEBUG) {
        eprintln!(
            "mailtoken: debug: {}",
            terminal_safe(&crate::base::redact::scrub(&message.to_string()))
        );
    }
}

/// Something the user should know even though the command succeeds.
pub(crate) fn warn(message: impl std::fmt::Display) {
    eprintln!(
        "mailtoken: warning: {}",
        terminal_safe(&message.to_string())
    );
}

/// Information the user asked for by running an interactive command (never secret).
pub(crate) fn say(message: impl std::fmt::Display) {
    eprintln!("{}", terminal_safe(&message.to_string()));
}

/// A line of our own that carries escape sequences on purpose (the QR code's colours); never
/// anything read from a file or a server.
pub(crate) fn say_raw(message: impl std::fmt::Display) {
    eprintln!("{message}");
}

/// A moment as every message shows it: to the second, in local time, with the zone's offset
/// ("2026-03-14 09:26:53 +01:00"), as `--status` does.
pub(crate) fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// A whole message made harmless for a terminal, whatever went into it: line breaks and tabs
/// stay, other control characters become spaces and format characters go. Unlike `sanitize` it
/// neither cuts nor trims: it is the last net under messages of any length, not the treatment
/// of a value.
pub(crate) fn terminal_safe(text: &str) -> String {
    if !text
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || is_format_character(c))
    {
        return text.to_string();
    }
    text.chars()
        .filter(|c| !is_format_character(*c))
        .map(|c| match c {
            '\n' | '\t' => c,
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// Text from a remote party (an `error_description`, a server reply) or from a file, made safe
/// to print: control characters could rewrite the terminal or forge log lines, an endless reply
/// could flood it, and an echo of what we sent could show a secret (`redact`). Secrets go first,
/// before the text is cut, so no bound can leave a piece of one behind.
pub fn sanitize(text: &str) -> String {
    const MAX_CHARS: usize = 500;
    /// Enough of a long text to find every secret in what is shown.
    const MAX_SCANNED: usize = 16 * MAX_CHARS;
    let visible: String = text
        .chars()
        .filter(|c| !is_format_character(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_SCANNED)
        .collect();
    let visible = crate::base::redact::scrub(&visible);
    let mut clean: String = visible.chars().take(MAX_CHARS).collect();
    if visible.chars().count() > MAX_CHARS {
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

    #[test]
    fn whole_messages_keep_their_lines_and_lose_escapes() {
        assert_eq!(
            terminal_safe("provider evil\x1b]0;title\x07\u{202e}x\nhint: run\tit"),
            "provider evil ]0;title x\nhint: run\tit"
        );
        assert_eq!(terminal_safe("plain"), "plain");
    }
}
