//! Base64 as the tests need it: SASL strings as mail servers and `--format sasl` carry them, and
//! a stand-in for encryption (`base64` and `base64 -d` as the encryption pipes) that needs only
//! coreutils.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// Decodes one line into text ("" when it is not base64, as most lines a server gets are not).
pub fn decode_text(line: &str) -> String {
    STANDARD
        .decode(line.trim())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// Decodes what base64(1) wrote, wrapped in lines of 76 characters.
pub fn decode_wrapped(text: &str) -> Vec<u8> {
    STANDARD
        .decode(text.split_whitespace().collect::<String>())
        .expect("base64")
}
