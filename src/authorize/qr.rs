//! A QR code of the device flow's address, drawn on the terminal with Unicode half blocks, so a
//! phone's camera opens the sign-in page directly.
//!
//! The encoder is `qrcodegen` (Project Nayuki's reference implementation): one file, no
//! dependencies, no features, no unsafe code, and nothing but the encoder, where the `qrcode`
//! crate brings image rendering behind features that must be switched off and keeps more code.
//! Only the device flow calls it; the cached-token path never does.

use qrcodegen::{QrCode, QrCodeEcc};

/// Light modules around the code. The standard asks for 4; 2 is what terminal renderers use and
/// phone cameras read, and it keeps the code within a 80x24 terminal for addresses of a typical
/// length.
const QUIET_ZONE: i32 = 2;

/// Black on white, whatever the terminal's colours: a code drawn in the terminal's own
/// foreground would come out inverted on dark terminals, which many scanners refuse. Each line
/// resets the colours at its end, so nothing leaks into the rest of the output.
const COLOURS: &str = "\x1b[30;47m";
const RESET: &str = "\x1b[0m";

/// The QR code of `text` as terminal lines, two modules per character cell: `▀` has the top one
/// dark, `▄` the bottom one, `█` both. `None` when the text is too long for any QR code.
pub(crate) fn render(text: &str) -> Option<Vec<String>> {
    // Low error correction: the smallest code, and a screen is not a smudged sticker.
    let code = QrCode::encode_text(text, QrCodeEcc::Low).ok()?;
    let size = code.size();
    let dark = |x: i32, y: i32| code.get_module(x, y);
    let range = -QUIET_ZONE..size + QUIET_ZONE;
    let mut lines = Vec::new();
    let mut y = -QUIET_ZONE;
    while y < size + QUIET_ZONE {
        let mut line = String::from(COLOURS);
        for x in range.clone() {
            // get_module is false outside the code, which draws the quiet zone.
            line.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        line.push_str(RESET);
        lines.push(line);
        y += 2;
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_square_code_with_its_finder_patterns() {
        let lines = render("https://microsoft.com/devicelogin?code=WDJB-MJHT").unwrap();
        let cells: Vec<Vec<char>> = lines
            .iter()
            .map(|line| {
                line.trim_start_matches(COLOURS)
                    .trim_end_matches(RESET)
                    .chars()
                    .collect()
            })
            .collect();
        let width = cells[0].len();
        assert!(cells.iter().all(|row| row.len() == width));
        // Two modules per line: the height is half the width, rounded up.
        assert_eq!(lines.len(), width.div_ceil(2));
        // The quiet zone's first line is blank; the top-left finder pattern starts with a full
        // dark row of seven modules right after two light columns.
        assert!(cells[0].iter().all(|c| *c == ' '));
        let finder: String = cells[1][2..9].iter().collect();
        assert_eq!(finder, "█▀▀▀▀▀█");
    }

    #[test]
    fn absurd_text_has_no_code() {
        assert!(render(&"x".repeat(5000)).is_none());
    }
}
