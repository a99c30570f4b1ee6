//! Properties shared by the targets.
#![allow(dead_code)] // each target uses some of these

/// Unicode's format characters (general category Cf, Unicode 15.1): bidirectional overrides and
/// isolates, zero-width characters, tag characters. Kept here, apart from the crate's own list,
/// so the targets check the crate against an independent statement of the rule.
pub fn is_format(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// Text that came from a remote party and is about to reach a terminal: no control or format
/// characters, and at most `max` characters.
pub fn assert_terminal_safe(what: &str, text: &str, max: usize) {
    if let Some(bad) = text.chars().find(|&c| c.is_control() || is_format(c)) {
        panic!("{what} has the control or format character {bad:?}: {text:?}");
    }
    let count = text.chars().count();
    assert!(
        count <= max,
        "{what} has {count} characters, more than {max}: {text:?}"
    );
}

/// The longest `log::sanitize` output: 500 characters and an ellipsis.
pub const SANITIZED: usize = 501;

/// Splits off the first `n` lines of `data` (each without its `\n`), leaving the rest whole.
pub fn fields<const N: usize>(data: &[u8]) -> ([&[u8]; N], &[u8]) {
    let mut out = [&data[..0]; N];
    let mut rest = data;
    for slot in &mut out {
        match rest.iter().position(|&b| b == b'\n') {
            Some(at) => {
                *slot = &rest[..at];
                rest = &rest[at + 1..];
            }
            None => {
                *slot = rest;
                rest = &rest[rest.len()..];
            }
        }
    }
    (out, rest)
}

/// The input cut into lines as a mail server connection reads them (`read_until(b'\n')`), the
/// last one unfinished when the input does not end in a newline.
pub fn raw_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split_inclusive(|&b| b == b'\n')
}
