//! The line-by-line conversation IMAP, POP and SMTP share: open the connection, send a command
//! line, read a reply line (or, for IMAP, a response whose lines are joined by literals), and
//! upgrade to TLS after STARTTLS/STLS without trusting anything that arrived in the clear.
//!
//! An IMAP response is a line, unless the line ends by announcing a literal: `{N}` then CR LF
//! then exactly N octets of any value, after which the same response goes on with another line
//! (RFC 3501 section 4.3; RFC 9051 section 4.3). RFC 7888's non-synchronizing `{N+}` and RFC
//! 3516's binary literal8 `~{N}` are framed the same way, so the reader takes all three. A login
//! never asks for anything that comes back as a literal, but a server may send one unasked (an
//! unsolicited FETCH, a mailbox name in LIST or STATUS), and reading it as lines would take its
//! octets for responses.

use std::io::{self, BufRead, BufReader, Read, Write};

use super::attempt::Attempt;
use super::connection::{Connection, io_failure};
use super::failure::{Failure, Kind};
use super::transcript::SharedTranscript;

/// The largest literal read. The login test asks for nothing that comes as a literal; what a
/// server may send unasked is a mailbox name, an ID value or an envelope string, short text. A
/// larger announcement ends the test before anything is read or allocated for it (the connection
/// also stops at `MAX_RECEIVED` in all, and every read has the timeout).
pub const MAX_LITERAL: u64 = 64 * 1024;

/// One server conversation made of CRLF-terminated lines.
pub(crate) struct LineConnection<'a> {
    reader: BufReader<Connection>,
    pub transcript: SharedTranscript,
    pub attempt: &'a Attempt,
}

impl<'a> LineConnection<'a> {
    /// Connects to the attempt's endpoint, with TLS from the start for implicit-TLS endpoints.
    pub(crate) fn open(attempt: &'a Attempt) -> Result<LineConnection<'a>, Failure> {
        let transcript = attempt.transcript();
        let connection = Connection::open(attempt, transcript.clone())?;
        Ok(LineConnection {
            reader: BufReader::new(connection),
            transcript,
            attempt,
        })
    }

    /// Sends one command line; `doing` says what for, in messages.
    pub(crate) fn send(&mut self, line: &str, doing: &str) -> Result<(), Failure> {
        let stream = self.reader.get_mut();
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .and_then(|()| stream.flush())
            .map_err(|e| io_failure(&e, doing, self.attempt.timeout))
    }

    /// Reads one line, without its CR LF. A line the server never finished is a closed connection.
    pub(crate) fn read_line(&mut self, doing: &str) -> Result<String, Failure> {
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

    /// Reads one IMAP response, literals and all ([`read_response`]), without its last CR LF.
    pub(crate) fn read_response(&mut self, doing: &str) -> Result<String, Failure> {
        read_response(&mut self.reader)
            .map_err(|unread| unread.failure(doing, self.attempt.timeout, &self.transcript))
    }

    /// Starts TLS once the server has agreed to `command`. Nothing may follow its positive reply
    /// before the handshake (RFC 2595 section 4, RFC 3207 section 4.2): bytes already buffered
    /// came in the clear, from the server or from someone in between, so the login stops there.
    /// `implicit_example` names the endpoint that has no unencrypted phase to tamper with.
    pub(crate) fn start_tls(
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

/// Why an IMAP response could not be read whole.
#[derive(Debug)]
pub enum Unread {
    Io(io::Error),
    /// The connection closed before the line, or a literal's octets, ended.
    Closed,
    /// A literal larger than [`MAX_LITERAL`] was announced (its size, at most `u64::MAX`).
    TooLong(u64),
}

impl Unread {
    fn failure(
        self,
        doing: &str,
        timeout: std::time::Duration,
        last: &SharedTranscript,
    ) -> Failure {
        match self {
            Unread::Io(error) => io_failure(&error, doing, timeout),
            Unread::Closed => Failure::new(
                Kind::Network,
                format!("the server closed the connection {doing}"),
            ),
            Unread::TooLong(size) => Failure::new(
                Kind::Protocol,
                format!(
                    "the server announced a literal of {size} bytes {doing}; a login test \
                     reads at most {MAX_LITERAL}"
                ),
            ),
        }
        .with_last_reply(last)
    }
}

/// Reads one IMAP response from `reader`: a line, and while a line ends by announcing a literal,
/// the literal's octets and the next line, all as one response (RFC 3501 section 4.3). Returns it
/// without its last line end; the line ends after announcements, and the literals' octets, stay
/// as received. A continuation request (`+`, RFC 3501 section 7.5) is one line whatever it ends
/// with: its text is base64 or human-readable, never a literal.
pub fn read_response(reader: &mut impl BufRead) -> Result<String, Unread> {
    let mut response = Vec::new();
    loop {
        let start = response.len();
        reader
            .read_until(b'\n', &mut response)
            .map_err(Unread::Io)?;
        // Nothing read (end of stream) is no line, even after a literal that ended in LF.
        if response.len() == start || response.last() != Some(&b'\n') {
            return Err(Unread::Closed);
        }
        let line = without_line_end(&response[start..]);
        let size = match announced_literal(line) {
            Some(_) if start == 0 && line.starts_with(b"+") => break,
            Some(size) => size,
            None => break,
        };
        if size > MAX_LITERAL {
            return Err(Unread::TooLong(size));
        }
        let read = reader
            .by_ref()
            .take(size)
            .read_to_end(&mut response)
            .map_err(Unread::Io)?;
        if (read as u64) < size {
            return Err(Unread::Closed);
        }
    }
    let end = without_line_end(&response).len();
    response.truncate(end);
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// The size a line announces by ending in `{N}` or `{N+}` (without its line end); literal8's
/// `~{N}` ends the same way. A number too large for `u64` is `u64::MAX`, as refused as any other
/// size over the limit.
pub fn announced_literal(line: &[u8]) -> Option<u64> {
    let inside = line.strip_suffix(b"}")?;
    let open = inside.iter().rposition(|&b| b == b'{')?;
    let number = &inside[open + 1..];
    let digits = number.strip_suffix(b"+").unwrap_or(number);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |size, digit| {
        size.saturating_mul(10)
            .saturating_add(u64::from(digit - b'0'))
    }))
}

/// The line without its LF or CR LF.
fn without_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
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

    /// Reads `chunks` one per read (or what of one fits the buffer), as a socket may deliver them.
    struct Chunks(Vec<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(chunk) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            chunk.drain(..n);
            if chunk.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    /// Every response in `bytes`, read as the login reads them, and how the reading ended.
    fn responses(reader: &mut impl BufRead) -> (Vec<String>, Unread) {
        let mut all = Vec::new();
        loop {
            match read_response(reader) {
                Ok(response) => all.push(response),
                Err(unread) => return (all, unread),
            }
        }
    }

    fn read_all(bytes: &[u8]) -> (Vec<String>, Unread) {
        responses(&mut &bytes[..])
    }

    #[test]
    fn a_literal_carries_the_response_over_its_line_end() {
        let (read, end) =
            read_all(b"* 1 FETCH (BODY[] {11}\r\na1 OK no)\r\n)\r\na1 OK [READ-ONLY] done\r\n");
        assert_eq!(
            read,
            [
                "* 1 FETCH (BODY[] {11}\r\na1 OK no)\r\n)",
                "a1 OK [READ-ONLY] done"
            ]
        );
        assert!(matches!(end, Unread::Closed), "{end:?}");
    }

    /// RFC 7888's `{N+}`, RFC 3516's `~{N}`, an empty literal, two in one response, and a
    /// literal whose octets look like an announcement (only a line's own end announces).
    #[test]
    fn non_synchronizing_binary_empty_and_repeated_literals() {
        let (read, _) = read_all(
            b"* LIST () \"/\" {3+}\r\nabc\r\n* 2 FETCH (BINARY[1] ~{4}\r\n\0\r\n\xff)\r\n\
              * 3 FETCH (BODY[] {0}\r\n FLAGS (\\Seen) X {3}\r\n{5})\r\n",
        );
        assert_eq!(
            read,
            [
                "* LIST () \"/\" {3+}\r\nabc",
                "* 2 FETCH (BINARY[1] ~{4}\r\n\0\r\n\u{fffd})",
                "* 3 FETCH (BODY[] {0}\r\n FLAGS (\\Seen) X {3}\r\n{5})",
            ]
        );
    }

    /// However the reads split the bytes, inside an announcement, a line end or the literal's
    /// octets, the responses are the same.
    #[test]
    fn a_literal_split_across_reads_is_read_whole() {
        let bytes: &[u8] = b"* OK hi\r\n* 1 FETCH (BODY[] {12+}\r\n{3}\r\nxyz\r\n)\r\na1 OK\r\n";
        let (whole, _) = read_all(bytes);
        assert_eq!(whole.len(), 3, "{whole:?}");
        for at in 1..bytes.len() {
            let chunks = Chunks(vec![bytes[..at].to_vec(), bytes[at..].to_vec()]);
            let (split, end) = responses(&mut BufReader::with_capacity(4, chunks));
            assert_eq!(split, whole, "split at {at}");
            assert!(matches!(end, Unread::Closed));
        }
        let bytewise = Chunks(bytes.chunks(1).map(<[u8]>::to_vec).collect());
        assert_eq!(responses(&mut BufReader::new(bytewise)).0, whole);
    }

    /// An announcement over the limit is refused as soon as it is read: nothing is waited for,
    /// so the reader's end of stream is never reached.
    #[test]
    fn an_oversized_literal_is_refused_before_it_is_read() {
        let largest = format!("* 1 FETCH (BODY[] {{{MAX_LITERAL}}}\r\n");
        let mut bytes = largest.into_bytes();
        bytes.resize(bytes.len() + usize::try_from(MAX_LITERAL).unwrap(), b'x');
        bytes.extend_from_slice(b")\r\n");
        assert_eq!(read_all(&bytes).0.len(), 1);
        for (announcement, size) in [
            ("{65537}", MAX_LITERAL + 1),
            ("{4294967296+}", 1 << 32),
            ("~{99999999999999999999999}", u64::MAX),
        ] {
            let line = format!("* 1 FETCH (BODY[] {announcement}\r\n");
            let (read, end) = read_all(line.as_bytes());
            assert!(read.is_empty());
            assert!(matches!(end, Unread::TooLong(n) if n == size), "{end:?}");
        }
        let transcript = super::super::transcript::Transcript::new("IMAP", Vec::new());
        let failure = Unread::TooLong(70_000).failure(
            "asking for the capabilities",
            std::time::Duration::from_secs(1),
            &transcript,
        );
        assert_eq!(failure.kind, Kind::Protocol);
        assert_eq!(
            failure.message,
            "the server announced a literal of 70000 bytes asking for the capabilities; a login \
             test reads at most 65536"
        );
    }

    /// The server closes the connection in a line or a literal: the response is not a response.
    #[test]
    fn a_response_cut_short_by_the_end_of_the_stream_is_no_response() {
        for cut in [
            &b"a1 OK done"[..],
            b"* 1 FETCH (BODY[] {10}\r\nabc",
            b"* 1 FETCH (BODY[] {4}\r\nabc\n",
            b"* 1 FETCH (BODY[] {4}\r\nabcd",
            b"* 1 FETCH (BODY[] {4}\r\nabcd)",
        ] {
            let (read, end) = read_all(cut);
            assert!(read.is_empty(), "{read:?}");
            assert!(matches!(end, Unread::Closed), "{cut:?}: {end:?}");
        }
    }

    /// Only `{digits}` or `{digits+}` at the very end announce a literal; a continuation request
    /// never does.
    #[test]
    fn what_is_and_is_not_an_announcement() {
        for (line, size) in [
            (&b"x {5}"[..], Some(5)),
            (b"x {5+}", Some(5)),
            (b"x ~{0}", Some(0)),
            (b"{007}", Some(7)),
            (b"x {}", None),
            (b"x {+}", None),
            (b"x {5++}", None),
            (b"x {-5}", None),
            (b"x {5} ", None),
            (b"x {5", None),
            (b"x 5}", None),
            (b"x {a5}", None),
        ] {
            assert_eq!(announced_literal(line), size, "{line:?}");
        }
        let (read, _) = read_all(b"+ {5}\r\na1 NO [AUTHENTICATIONFAILED] no\r\n");
        assert_eq!(read, ["+ {5}", "a1 NO [AUTHENTICATIONFAILED] no"]);
        let (read, _) = read_all(b"a1 OK {2}\n\r\n\n");
        assert_eq!(read, ["a1 OK {2}\n\r\n"]);
    }
}
