//! The little HTTP/1.1 the loopback listener speaks (RFC 9112): judge a request head as it
//! arrives, bounded in size and time, and write a complete answer that leaves nothing behind in
//! the browser (no caching, no referrer, no scripts).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

/// The answer to one request.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    /// A complete HTML page; never built from request input.
    pub html: &'static str,
    /// Where a redirect (302) sends the browser: the sign-in page of the provider, handed over
    /// here rather than on the browser's command line (`loopback`).
    pub location: Option<String>,
}

impl Answer {
    pub(crate) fn page(status: u16, html: &'static str) -> Answer {
        Answer {
            status,
            html,
            location: None,
        }
    }

    /// A 302 to `location`, with `html` for a client that does not follow it.
    pub(crate) fn redirect(location: String, html: &'static str) -> Answer {
        Answer {
            status: 302,
            html,
            location: Some(location),
        }
    }
}

/// A redirect request is a URL with a code, a state and perhaps an `iss`; providers' codes are at
/// most a few kilobytes. Anything larger is not a redirect and is refused with 431.
pub const MAX_REQUEST: usize = 16 * 1024;

pub(crate) enum HeadError {
    TooLarge,
    Io,
}

/// What the bytes received so far on a connection amount to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// The head has not ended yet and is within [`MAX_REQUEST`]: read more.
    Incomplete,
    /// More than [`MAX_REQUEST`] bytes without the end of the head: answered with 431.
    TooLarge,
    /// A complete head whose request line is not `METHOD TARGET HTTP/1.x`: answered with 400.
    Malformed,
    /// The request line's method and target (path and query).
    Request { method: String, target: String },
}

/// Judges the bytes received so far: the head ends at the first empty line (RFC 9112 section
/// 2.1), and only its request line is read. Pure, so the fuzz targets (fuzz/) can run it.
pub fn parse_request_head(bytes: &[u8]) -> Head {
    let head = match find_head_end(bytes) {
        Some(end) if end > MAX_REQUEST => return Head::TooLarge,
        Some(end) => &bytes[..end],
        None if bytes.len() > MAX_REQUEST => return Head::TooLarge,
        None => return Head::Incomplete,
    };
    let Ok(text) = std::str::from_utf8(head) else {
        return Head::Malformed;
    };
    let request_line = text.split("\r\n").next().unwrap_or("");
    let mut parts = request_line.split(' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(version), None)
            if version.starts_with("HTTP/1.") && !method.is_empty() =>
        {
            Head::Request {
                method: method.to_string(),
                target: target.to_string(),
            }
        }
        _ => Head::Malformed,
    }
}

/// Reads up to the end of the request head and returns the request line's method and target;
/// `None` when the request line is malformed.
/// A connection from the browser: a plain TCP stream, or TLS over one (`https`).
pub(crate) trait Connection: Read + Write {
    /// Bounds the next read.
    fn set_read_timeout(&mut self, timeout: Option<std::time::Duration>) -> io::Result<()>;
    /// Says no more will be written (TCP's half-close, TLS's close_notify).
    fn close_write(&mut self);
}

impl Connection for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<std::time::Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn close_write(&mut self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

pub(crate) fn read_head(
    stream: &mut impl Connection,
    deadline: Instant,
) -> Result<Option<(String, String)>, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        match parse_request_head(&head) {
            Head::Incomplete => {}
            Head::TooLarge => return Err(HeadError::TooLarge),
            Head::Malformed => return Ok(None),
            Head::Request { method, target } => return Ok(Some((method, target))),
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return Err(HeadError::Io);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(HeadError::Io),
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Io),
        }
    }
}

fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(4).position(|window| window == b"\r\n\r\n")
}

pub(crate) fn write_answer(stream: &mut impl Write, answer: &Answer) -> io::Result<()> {
    let reason = match answer.status {
        200 => "OK",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    // The address bar holds the code until the page is left: no referrer, no caching, no scripts.
    // A location is a URL mailtoken built, never request input; a line break in it would
    // end the header.
    let location = answer
        .location
        .as_deref()
        .filter(|url| !url.contains(['\r', '\n']))
        .map_or_else(String::new, |url| format!("Location: {url}\r\n"));
    let head = format!(
        "HTTP/1.1 {} {reason}\r\n\
         {location}\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n",
        answer.status,
        answer.html.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(answer.html.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_heads_are_judged_as_read_head_did() {
        assert_eq!(
            parse_request_head(b"GET /?code=c&state=s HTTP/1.1\r\nHost: x\r\n\r\nbody"),
            Head::Request {
                method: "GET".into(),
                target: "/?code=c&state=s".into()
            }
        );
        assert_eq!(
            parse_request_head(b"GET / HTTP/1.1\r\nHost: x\r\n"),
            Head::Incomplete
        );
        assert_eq!(parse_request_head(b"NONSENSE\r\n\r\n"), Head::Malformed);
        assert_eq!(
            parse_request_head(b"GET  / HTTP/1.1\r\n\r\n"),
            Head::Malformed
        );
        assert_eq!(
            parse_request_head(b"GET /\xff HTTP/1.1\r\n\r\n"),
            Head::Malformed
        );
        let mut huge = b"GET /?".to_vec();
        huge.extend(std::iter::repeat_n(b'a', MAX_REQUEST));
        assert_eq!(parse_request_head(&huge), Head::TooLarge);
        huge.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        assert_eq!(parse_request_head(&huge), Head::TooLarge);
    }
}
