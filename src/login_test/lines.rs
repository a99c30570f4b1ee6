//! The line-by-line conversation POP and SMTP share: open the connection, send a command line,
//! read a reply line, and upgrade to TLS after STARTTLS/STLS without trusting anything that
//! arrived in the clear.

use std::io::{BufRead, BufReader, Write};

use super::attempt::Attempt;
use super::connection::{Connection, io_failure};
use super::failure::{Failure, Kind};
use super::transcript::SharedTranscript;

/// One server conversation made of CRLF-terminated lines.
pub struct LineConnection<'a> {
    reader: BufReader<Connection>,
    pub transcript: SharedTranscript,
    pub attempt: &'a Attempt,
}

impl<'a> LineConnection<'a> {
    /// Connects to the attempt's endpoint, with TLS from the start for implicit-TLS endpoints.
    pub fn open(attempt: &'a Attempt) -> Result<LineConnection<'a>, Failure> {
        let transcript = attempt.transcript();
        let connection = Connection::open(attempt, transcript.clone())?;
        Ok(LineConnection {
            reader: BufReader::new(connection),
            transcript,
            attempt,
        })
    }

    /// Sends one command line; `doing` says what for, in messages.
    pub fn send(&mut self, line: &str, doing: &str) -> Result<(), Failure> {
        let stream = self.reader.get_mut();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| io_failure(&e, doing, self.attempt.timeout))
    }

    /// Reads one line, without its CR LF. A line the server never finished is a closed connection.
    pub fn read_line(&mut self, doing: &str) -> Result<String, Failure> {
        let mut line = Vec::new();
        // Nothing read (end of stream) leaves the line empty, which is not a complete line either.
        self.reader
            .read_until(b'\n', &mut line)
            .map_err(|e| io_failure(&e, doing, self.attempt.timeout))?;
        complete_line(&line).ok_or_else(|| {
            Failure::new(
                Kind::Network,
                format!("the server closed the connection {doing}"),
            )
            .with_last_reply(&self.transcript)
        })
    }

    /// Starts TLS once the server has agreed to `command`. Nothing may follow its positive reply
    /// before the handshake (RFC 2595 section 4, RFC 3207 section 4.2): bytes already buffered
    /// came in the clear, from the server or from someone in between, so the login stops there.
    /// `implicit_example` names the endpoint that has no unencrypted phase to tamper with.
    pub fn start_tls(
        self,
        command: &str,
        implicit_example: &str,
    ) -> Result<LineConnection<'a>, Failure> {
        if !self.reader.buffer().is_empty() {
            return Err(Failure::new(
                Kind::Protocol,
                format!(
                    "the server sent more after agreeing to {command}, before TLS began: someone \
                     may be tampering with the connection; the token was not sent"
                ),
            )
            .hint(format!(
                "the implicit-TLS endpoint (e.g. {implicit_example}) has no unencrypted phase to \
                 tamper with"
            )));
        }
        let connection = self.reader.into_inner().start_tls()?;
        Ok(LineConnection {
            reader: BufReader::new(connection),
            ..self
        })
    }
}

/// A line as `read_until(b'\n')` returned it, without its CR LF; `None` when the server never
/// finished it (the connection closed first).
pub fn complete_line(raw: &[u8]) -> Option<String> {
    if raw.last() != Some(&b'\n') {
        return None;
    }
    Some(
        String::from_utf8_lossy(raw)
            .trim_end_matches(['\r', '\n'])
            .to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finished_lines_are_lines() {
        assert_eq!(
            complete_line(b"+OK ready\r\n").as_deref(),
            Some("+OK ready")
        );
        assert_eq!(complete_line(b"250 ok\n").as_deref(), Some("250 ok"));
        assert_eq!(complete_line(b"\r\n").as_deref(), Some(""));
        assert_eq!(complete_line(b"+OK cut"), None);
        assert_eq!(complete_line(b""), None);
    }
}
