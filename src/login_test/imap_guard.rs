//! Stops server bytes that would crash the IMAP parser before it sees them.
//!
//! imap-proto (0.16.7, and 0.17.0 still) panics on `INTERNALDATE NIL` in a FETCH response: it
//! reads an nstring there and unwraps it. RFC 3501 section 9 requires a date-time, so such a
//! server is wrong, but servers sending NIL where a date belongs have been seen
//! (thunderbird-android issue #1819, a Zarafa 7.2.4 server), any server may send an unsolicited
//! FETCH, and with `panic = "abort"` the panic would end `--test` without a report. Found by
//! fuzzing (`fuzz/fuzz_targets/imap_lines.rs`, which checks that what passes here parses).
//!
//! Every read is screened, keeping the end of the previous one, so the words are caught when a
//! read boundary splits them too. The screen is a substring match: it may also stop a message
//! body that quotes the words, which `--test` never fetches.

use std::io::{self, Read, Write};

/// What imap-proto cannot read, matched regardless of case as its parser matches it.
const UNREADABLE: &[u8] = b"INTERNALDATE NIL";

/// Whether `bytes` hold something imap-proto would panic on.
pub fn imap_proto_cannot_read(bytes: &[u8]) -> bool {
    bytes
        .windows(UNREADABLE.len())
        .any(|window| window.eq_ignore_ascii_case(UNREADABLE))
}

/// The marker inside the I/O error a screened read raises; `connection::io_failure` reports it
/// as a reply that is not valid IMAP, as it does a reply that is too long.
#[derive(Debug)]
pub struct Unreadable;

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "the server sent INTERNALDATE NIL, which RFC 3501 does not allow and the IMAP parser \
             cannot read,",
        )
    }
}

impl std::error::Error for Unreadable {}

/// A stream whose reads are screened; writes pass through.
pub struct Screened<S> {
    stream: S,
    /// The last bytes read, fewer than [`UNREADABLE`]'s length.
    tail: Vec<u8>,
}

impl<S> Screened<S> {
    pub fn new(stream: S) -> Self {
        Screened {
            stream,
            tail: Vec::new(),
        }
    }

    pub fn into_inner(self) -> S {
        self.stream
    }
}

impl<S: Read> Read for Screened<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.stream.read(buf)?;
        self.tail.extend_from_slice(&buf[..n]);
        if imap_proto_cannot_read(&self.tail) {
            return Err(io::Error::new(io::ErrorKind::InvalidData, Unreadable));
        }
        let keep_from = self.tail.len().saturating_sub(UNREADABLE.len() - 1);
        self.tail.drain(..keep_from);
        Ok(n)
    }
}

impl<S: Write> Write for Screened<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `chunks` one per read (or what of one fits the buffer).
    struct Chunks(Vec<&'static [u8]>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let Some(chunk) = self.0.first_mut() else {
                return Ok(0);
            };
            let n = chunk.len().min(buf.len());
            buf[..n].copy_from_slice(&chunk[..n]);
            *chunk = &chunk[n..];
            if chunk.is_empty() {
                self.0.remove(0);
            }
            Ok(n)
        }
    }

    fn is_unreadable(error: &io::Error) -> bool {
        error
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<Unreadable>().is_some())
    }

    fn read_all(chunks: Vec<&'static [u8]>) -> io::Result<Vec<u8>> {
        let mut screened = Screened::new(Chunks(chunks));
        let mut all = Vec::new();
        screened.read_to_end(&mut all)?;
        Ok(all)
    }

    #[test]
    fn the_words_are_stopped_in_one_read_or_split_across_two() {
        for chunks in [
            vec![b"* 2 FETCH (INTERNALDATE NIL)\r\n".as_slice()],
            vec![b"* 2 FETCH (internalDate ", b"nil)\r\n"],
            vec![b"* OK hi\r\n* 2 FETCH (INTERNA", b"LDATE N", b"IL)\r\n"],
        ] {
            let error = read_all(chunks).unwrap_err();
            assert!(is_unreadable(&error), "{error}");
        }
    }

    #[test]
    fn everything_else_passes_whole() {
        let chunks: Vec<&[u8]> = vec![
            b"* 2 FETCH (INTERNALDATE \"17-Jul-1996 02:44:25 -0700\")\r\n",
            b"* 3 FETCH (INTERNALDATE",
            b" \"17-Jul-1996 02:44:25 -0700\")\r\n* 4 FETCH (FLAGS (NIL))\r\n",
        ];
        assert_eq!(read_all(chunks.clone()).unwrap(), chunks.concat());
    }

    /// The panic this module prevents, so the screen can go when imap-proto is fixed: this test
    /// fails then.
    #[test]
    fn imap_proto_still_panics_on_the_words() {
        let line = b"* 2 FETCH (INTERNALDATE NIL)\r\n";
        assert!(imap_proto_cannot_read(line));
        assert!(std::panic::catch_unwind(|| imap_proto::parser::parse_response(line)).is_err());
    }
}
