//! One connection to a mail server for `--test`: name resolution, TCP and TLS (implicit or after
//! STARTTLS) with a timeout on every step, an overall deadline, a cap on what the server may send,
//! and the `--debug` trace of the conversation with the token redacted.
//!
//! The IMAP crate and the POP and SMTP code read and write through [`Connection`], so all of this
//! holds for every protocol.

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::{Attempt, DEADLINE_FACTOR, Failure, Kind};
use crate::log;
use crate::secret::Secret;

/// More than this from one server during a login test is a misbehaving server, not a mailbox.
const MAX_RECEIVED: usize = 1024 * 1024;

/// A server line longer than this is cut in the trace (replies are sanitized and capped again on
/// output). Lines we send are never cut: a cut SASL line would no longer match the secret it is
/// redacted by, and Microsoft's tokens make it over 4 KB.
const MAX_TRACE_LINE: usize = 4096;

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

/// Shared between a [`Connection`] (which may be owned by the IMAP crate) and the protocol code.
pub type SharedTranscript = Rc<RefCell<Transcript>>;

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

    fn received(&mut self, bytes: &[u8]) {
        self.from_server.extend_from_slice(bytes);
        while let Some(line) = take_line(&mut self.from_server, MAX_TRACE_LINE) {
            let text = String::from_utf8_lossy(&line).into_owned();
            log::debug(format!("{} S: {}", self.label, self.redact(&text)));
            self.last_server_line = Some(text);
        }
    }

    fn sent(&mut self, bytes: &[u8]) {
        self.from_client.extend_from_slice(bytes);
        while let Some(line) = take_line(&mut self.from_client, MAX_RECEIVED) {
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

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref(),
        }
    }
}

/// A connection to a mail server; reads and writes fail with `TimedOut` rather than wait.
pub struct Connection {
    stream: Stream,
    host: String,
    config: Arc<ClientConfig>,
    timeout: Duration,
    deadline: Instant,
    received: usize,
    transcript: SharedTranscript,
}

/// The marker inside the I/O error raised when a server sends more than [`MAX_RECEIVED`].
#[derive(Debug)]
struct TooMuch;

impl std::fmt::Display for TooMuch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the server sent more than {MAX_RECEIVED} bytes")
    }
}

impl std::error::Error for TooMuch {}

/// The marker inside the I/O error raised when the whole conversation's time is up.
#[derive(Debug)]
struct PastDeadline(Duration);

impl std::fmt::Display for PastDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the conversation took longer than {}, the limit for one server",
            super::seconds(self.0)
        )
    }
}

impl std::error::Error for PastDeadline {}

impl Connection {
    /// Connects to the attempt's endpoint; for an implicit-TLS endpoint, completes the TLS
    /// handshake before returning.
    pub fn open(attempt: &Attempt, transcript: SharedTranscript) -> Result<Connection, Failure> {
        let (host, port, timeout) = (
            &attempt.endpoint.host,
            attempt.endpoint.port,
            attempt.timeout,
        );
        let deadline = Instant::now() + timeout * DEADLINE_FACTOR;
        let addresses = resolve(host, port, timeout)?;
        let tcp = connect_any(host, port, &addresses, timeout)?;
        if let Ok(peer) = tcp.peer_addr() {
            transcript.borrow().note(format!("connected to {peer}"));
        }
        let connection = Connection {
            stream: Stream::Plain(tcp),
            host: host.clone(),
            config: Arc::clone(&attempt.config),
            timeout,
            deadline,
            received: 0,
            transcript,
        };
        if attempt.implicit_tls() {
            connection.start_tls()
        } else {
            Ok(connection)
        }
    }

    /// Upgrades a plain connection to TLS (implicit TLS, or after the server agreed to STARTTLS),
    /// verifying the certificate against the host name. Anything the server sent before the
    /// handshake and was not read yet is not part of the connection any more (RFC 3207 section
    /// 4.2, RFC 2595 section 3.1): callers hand over only this, never a buffered reader.
    pub fn start_tls(self) -> Result<Connection, Failure> {
        let Connection {
            stream,
            host,
            config,
            timeout,
            deadline,
            received,
            transcript,
        } = self;
        let mut tcp = match stream {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(_) => {
                return Err(Failure::new(Kind::Protocol, "TLS was already started"));
            }
        };
        let name = ServerName::try_from(host.clone()).map_err(|_| {
            Failure::new(
                Kind::Network,
                format!("{host:?} is not a host name TLS can verify"),
            )
        })?;
        let mut tls = ClientConnection::new(Arc::clone(&config), name)
            .map_err(|e| Failure::new(Kind::Network, format!("TLS setup failed: {e}")))?;
        set_timeouts(&tcp, timeout)?;
        let started = Instant::now();
        while tls.is_handshaking() {
            if Instant::now() >= deadline {
                return Err(Failure::new(
                    Kind::Timeout,
                    "the TLS handshake took too long",
                ));
            }
            tls.complete_io(&mut tcp)
                .map_err(|e| io_failure(&e, "during the handshake", timeout))?;
        }
        transcript.borrow().note(format!(
            "TLS {} established in {:.2} s, certificate verified for {host}",
            tls.protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            started.elapsed().as_secs_f64()
        ));
        Ok(Connection {
            stream: Stream::Tls(Box::new(StreamOwned::new(tls, tcp))),
            host,
            config,
            timeout,
            deadline,
            received,
            transcript,
        })
    }

    pub fn transcript(&self) -> &SharedTranscript {
        &self.transcript
    }

    /// How long the next read or write may wait: the per-operation timeout, or less near the
    /// deadline.
    fn allowance(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.past_deadline());
        }
        Ok(left.min(self.timeout))
    }

    fn past_deadline(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            PastDeadline(self.timeout * DEADLINE_FACTOR),
        )
    }

    /// A socket timeout cut short by the deadline is the deadline's doing: say so.
    fn explain_timeout(&self, error: io::Error) -> io::Error {
        if is_timeout(&error) && Instant::now() >= self.deadline {
            self.past_deadline()
        } else {
            error
        }
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.received >= MAX_RECEIVED {
            return Err(io::Error::new(io::ErrorKind::InvalidData, TooMuch));
        }
        let allowance = self.allowance()?;
        self.stream.tcp().set_read_timeout(Some(allowance))?;
        let n = match &mut self.stream {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
        .map_err(|e| self.explain_timeout(e))?;
        self.received += n;
        self.transcript.borrow_mut().received(&buf[..n]);
        Ok(n)
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let allowance = self.allowance()?;
        self.stream.tcp().set_write_timeout(Some(allowance))?;
        let n = match &mut self.stream {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
        .map_err(|e| self.explain_timeout(e))?;
        self.transcript.borrow_mut().sent(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        let allowance = self.allowance()?;
        self.stream.tcp().set_write_timeout(Some(allowance))?;
        match &mut self.stream {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
        .map_err(|e| self.explain_timeout(e))
    }
}

/// Resolves the host name within the timeout: the system resolver has none of its own, so it
/// runs on a helper thread that is abandoned if it does not answer in time.
fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, Failure> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let target = (host.to_string(), port);
    std::thread::spawn(move || {
        let _ = sender.send(
            target
                .to_socket_addrs()
                .map(|addresses| addresses.collect::<Vec<_>>()),
        );
    });
    match receiver.recv_timeout(timeout) {
        Ok(Ok(addresses)) if !addresses.is_empty() => Ok(addresses),
        Ok(Ok(_)) => Err(Failure::new(
            Kind::Network,
            format!("{host} has no address"),
        )),
        Ok(Err(e)) => Err(Failure::new(
            Kind::Network,
            format!("cannot resolve {host}: {e}"),
        )),
        Err(_) => Err(Failure::new(
            Kind::Timeout,
            format!(
                "resolving {host} took longer than {}",
                super::seconds(timeout)
            ),
        )),
    }
}

fn connect_any(
    host: &str,
    port: u16,
    addresses: &[SocketAddr],
    timeout: Duration,
) -> Result<TcpStream, Failure> {
    let mut last = None;
    for address in addresses {
        match TcpStream::connect_timeout(address, timeout) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    let error = last.unwrap_or_else(|| io::Error::other("no address to connect to"));
    Err(io_failure(
        &error,
        &format!("connecting to {host} port {port}"),
        timeout,
    ))
}

fn set_timeouts(tcp: &TcpStream, timeout: Duration) -> Result<(), Failure> {
    tcp.set_read_timeout(Some(timeout))
        .and_then(|()| tcp.set_write_timeout(Some(timeout)))
        .map_err(|e| Failure::new(Kind::Network, format!("cannot set a timeout: {e}")))
}

/// Is this I/O error a timeout? Linux reports an expired socket timeout as `WouldBlock`.
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Turns an I/O error into a failure that says what was being done.
pub fn io_failure(error: &io::Error, doing: &str, timeout: Duration) -> Failure {
    if let Some(deadline) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<PastDeadline>())
    {
        return Failure::new(Kind::Timeout, format!("{deadline} ({doing})"));
    }
    if is_timeout(error) {
        let detail = error
            .get_ref()
            .map(|inner| format!(" ({inner})"))
            .unwrap_or_default();
        return Failure::new(
            Kind::Timeout,
            format!(
                "no answer within {} {doing}{detail}",
                super::seconds(timeout)
            ),
        );
    }
    if let Some(inner) = error.get_ref() {
        if inner.downcast_ref::<TooMuch>().is_some() {
            return Failure::new(Kind::Protocol, format!("{inner} {doing}"));
        }
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return tls_failure(tls, doing);
        }
    }
    match error.kind() {
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset => Failure::new(
            Kind::Network,
            format!("the server closed the connection {doing}"),
        ),
        _ => Failure::new(Kind::Network, format!("{error} {doing}")),
    }
}

fn tls_failure(error: &rustls::Error, doing: &str) -> Failure {
    match error {
        rustls::Error::InvalidCertificate(reason) => Failure::new(
            Kind::Network,
            format!("the server's TLS certificate was not accepted ({reason:?}) {doing}"),
        )
        .hint(
            "a private CA must be named in SSL_CERT_FILE; the host name must match the certificate",
        ),
        other => Failure::new(Kind::Network, format!("TLS failed {doing}: {other}")),
    }
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

    #[test]
    fn socket_timeouts_are_recognised() {
        assert!(is_timeout(&io::Error::from(io::ErrorKind::WouldBlock)));
        let failure = io_failure(
            &io::Error::from(io::ErrorKind::TimedOut),
            "waiting for the greeting",
            Duration::from_secs(2),
        );
        assert_eq!(failure.kind, Kind::Timeout);
        assert!(failure.message.contains("2 s"), "{}", failure.message);
    }
}
