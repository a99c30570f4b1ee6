//! The `--debug` trace of a conversation with a mail server, with the token and the SASL string
//! redacted, and the server's last line for the report. Every byte the connection reads or
//! writes passes through here. The connection knows the trace; the trace knows nothing of the
//! connection.

use std::cell::RefCell;
use std::rc::Rc;

use crate::base::log;
use crate::base::secret::Secret;

/// A server line longer than this is cut in the trace (replies are sanitized and capped again on
/// output). Lines we send are never cut: a cut SASL line would no longer match the secret it is
/// redacted by, and Microsoft's tokens make it over 4 KB.
const MAX_TRACE_LINE: usize = 4096;

/// A line we send longer than this is cut in the trace; no line of ours comes near it (the
/// longest is the SASL line, a few KB with Microsoft's tokens), so in practice lines we send are
/// shown whole, and a SASL line whole is what matches the secret it is redacted by.
const MAX_SENT_LINE: usize = 1024 * 1024;

/// A piece of text this long that is part of a secret is redacted as a whole.
const MIN_SECRET_FRAGMENT: usize = 16;

/// The conversation as seen by `--debug`, and the server's last line for the report.
pub struct Transcript {
    label: &'static str,
    /// Strings never shown: the access token and the SASL response carrying it.
    secrets: Vec<Secret>,
    from_server: Vec<u8>,
    from_client: Vec<u8>,
    last_server_line: Option<String>,
}

/// Shared between the connection, which feeds it every byte, and the protocol code, which reads
/// the server's last line for the report.
pub(crate) type SharedTranscript = Rc<RefCell<Transcript>>;

impl Transcript {
    pub fn new(label: &'static str, secrets: Vec<Secret>) -> SharedTranscript {
        Rc::new(RefCell::new(Transcript {
            label,
            secrets,
            from_server: Vec::new(),
            from_client: Vec::new(),
            last_server_line: None,
        }))
    }

    /// A `--debug` note about the connection itself (TLS, address).
    pub fn note(&self, message: impl std::fmt::Display) {
        log::debug(format!("{}: {message}", self.label));
    }

    /// The server's last line (or the start of an unfinished one), as received.
    pub fn last_server_line(&self) -> Option<String> {
        if !self.from_server.is_empty() {
            return Some(String::from_utf8_lossy(&self.from_server).into_owned());
        }
        self.last_server_line.clone()
    }

    /// Bytes the server sent: traced line by line, the last line kept.
    pub(super) fn received(&mut self, bytes: &[u8]) {
        self.from_server.extend_from_slice(bytes);
        while let Some(line) = take_line(&mut self.from_server, MAX_TRACE_LINE) {
            let text = String::from_utf8_lossy(&line).into_owned();
            log::debug(format!("{} S: {}", self.label, self.redact(&text)));
            self.last_server_line = Some(text);
        }
    }

    /// Bytes sent to the server: traced line by line.
    pub(super) fn sent(&mut self, bytes: &[u8]) {
        self.from_client.extend_from_slice(bytes);
        while let Some(line) = take_line(&mut self.from_client, MAX_SENT_LINE) {
            let text = String::from_utf8_lossy(&line).into_owned();
            log::debug(format!("{} C: {}", self.label, self.redact(&text)));
        }
    }

    /// The text with every secret replaced, sanitized for the terminal.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.secrets {
            if !secret.is_empty() {
                text = text.replace(secret.expose(), "(redacted)");
            }
        }
        // Defence in depth: a piece of a secret (a cut or split line) is hidden too.
        let trimmed = text.trim();
        if trimmed.len() >= MIN_SECRET_FRAGMENT
            && self
                .secrets
                .iter()
                .any(|secret| secret.expose().contains(trimmed))
        {
            return "(redacted)".to_string();
        }
        log::sanitize(&text)
    }
}

/// Removes and returns the first complete line (without CR LF), or an over-long fragment.
fn take_line(buffer: &mut Vec<u8>, max: usize) -> Option<Vec<u8>> {
    let end = match buffer.iter().position(|&b| b == b'\n') {
        Some(newline) => newline + 1,
        None if buffer.len() > max => max,
        None => return None,
    };
    let mut line: Vec<u8> = buffer.drain(..end).collect();
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_long_fragments_cut() {
        let mut buffer = b"a1 OK done\r\n* partial".to_vec();
        assert_eq!(
            take_line(&mut buffer, MAX_TRACE_LINE).as_deref(),
            Some(&b"a1 OK done"[..])
        );
        assert_eq!(take_line(&mut buffer, MAX_TRACE_LINE), None);
        let mut long = vec![b'x'; MAX_TRACE_LINE + 10];
        assert_eq!(
            take_line(&mut long, MAX_TRACE_LINE).map(|l| l.len()),
            Some(MAX_TRACE_LINE)
        );
    }

    #[test]
    fn secrets_are_redacted_in_the_trace() {
        let transcript = Transcript::new("IMAP", vec![Secret::new("dXNlcj1"), Secret::new("")]);
        assert_eq!(
            transcript.borrow().redact("dXNlcj1\r"),
            "(redacted)".to_string()
        );
        let long = Transcript::new("IMAP", vec![Secret::new("a".repeat(40) + &"b".repeat(40))]);
        assert_eq!(long.borrow().redact(&"b".repeat(20)), "(redacted)");
        assert_eq!(long.borrow().redact("a short aaaa"), "a short aaaa");
    }
}
