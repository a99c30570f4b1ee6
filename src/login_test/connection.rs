//! One connection to a mail server for `--test`: name resolution, TCP and TLS (implicit or after
//! STARTTLS) with a timeout on every step, an overall deadline, a cap on what the server may send,
//! and every byte handed to the `--debug` trace (`transcript`, which redacts the token). I/O errors
//! become failures that say what was being done.
//!
//! The IMAP, POP and SMTP code read and write through [`Connection`] (by way of `lines`), so all
//! of this holds for every protocol.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use super::attempt::{Attempt, DEADLINE_FACTOR, seconds};
use super::failure::{Failure, Kind};
use super::transcript::SharedTranscript;
use crate::mail::mailserver::MailEndpoint;

/// More than this from one server during a login test is a misbehaving server, not a mailbox.
const MAX_RECEIVED: usize = 1024 * 1024;

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
pub(crate) struct Connection {
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
            seconds(self.0)
        )
    }
}

impl std::error::Error for PastDeadline {}

impl Connection {
    /// Connects to the attempt's endpoint; for an implicit-TLS endpoint, completes the TLS
    /// handshake before returning.
    pub(crate) fn open(
        attempt: &Attempt,
        transcript: SharedTranscript,
    ) -> Result<Connection, Failure> {
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
            connection
                .start_tls()
                .map_err(|failure| match failure.kind {
                    Kind::NotTls => {
                        let hint = starttls_hint(&attempt.endpoint, &attempt.account);
                        failure.hint(hint)
                    }
                    _ => failure,
                })
        } else {
            greeting_or_tls_port(connection.stream.tcp(), attempt)?;
            Ok(connection)
        }
    }

    /// Upgrades a plain connection to TLS (implicit TLS, or after the server agreed to STARTTLS),
    /// verifying the certificate against the host name. Anything the server sent before the
    /// handshake and was not read yet is not part of the connection any more (RFC 3207 section
    /// 4.2, RFC 2595 section 3.1): callers hand over only this, never a buffered reader.
    pub(crate) fn start_tls(self) -> Result<Connection, Failure> {
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
            format!("resolving {host} took longer than {}", seconds(timeout)),
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
pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Turns an I/O error into a failure that says what was being done.
pub(crate) fn io_failure(error: &io::Error, doing: &str, timeout: Duration) -> Failure {
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
            format!("no answer within {} {doing}{detail}", seconds(timeout)),
        );
    }
    if let Some(inner) = error.get_ref() {
        // Replies refused on the way in: too long.
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

/// What to give instead of an implicit-TLS endpoint that speaks plain text: the same port with
/// STARTTLS, or the protocol's TLS port.
fn starttls_hint(endpoint: &MailEndpoint, account: &str) -> String {
    let flag = format!(
        "--{}-endpoint",
        endpoint.protocol.name().to_ascii_lowercase()
    );
    format!(
        "port {} is not a TLS port: try {flag} {} (STARTTLS) or {flag} {} (TLS) with --test, \
         and keep the one that works with 'mailtoken --set {} {flag} URL'",
        endpoint.port,
        endpoint.with_starttls().url(),
        endpoint.at_implicit_tls_port().url(),
        crate::base::paths::shell_quote(account)
    )
}

/// How long a STARTTLS endpoint's greeting is waited for before asking whether the port speaks
/// TLS from the first byte instead: servers greet at once, and a TLS port waits for the client
/// to speak first (RFC 8446 section 4.1.2), so without asking the test would wait the whole
/// timeout and then call it a network problem (issue #32: 21 s, exit 75).
const GREETING_PROBE: Duration = Duration::from_secs(3);

/// Waits a little for the greeting of a STARTTLS endpoint (a peek: nothing is consumed); when
/// none comes, tries a TLS handshake on a second connection to the same address. A port that
/// answers it speaks TLS from the first byte: the URL is wrong, whatever is tried again.
fn greeting_or_tls_port(tcp: &TcpStream, attempt: &Attempt) -> Result<(), Failure> {
    let wait = GREETING_PROBE.min(attempt.timeout / 2);
    if tcp.set_read_timeout(Some(wait)).is_err() {
        return Ok(());
    }
    let mut byte = [0u8; 1];
    match tcp.peek(&mut byte) {
        Err(error) if is_timeout(&error) => {}
        _ => return Ok(()),
    }
    let Ok(address) = tcp.peer_addr() else {
        return Ok(());
    };
    if !speaks_tls(address, attempt) {
        return Ok(());
    }
    let endpoint = &attempt.endpoint;
    let tls_url = MailEndpoint {
        tls: crate::mail::mailserver::Tls::Implicit,
        ..endpoint.clone()
    }
    .url();
    let flag = format!(
        "--{}-endpoint",
        endpoint.protocol.name().to_ascii_lowercase()
    );
    Err(Failure::new(
        Kind::TlsPort,
        format!(
            "no greeting came within {}, and port {} answers a TLS handshake: it speaks TLS from \
             the first byte, not STARTTLS; the token was not sent",
            seconds(wait),
            endpoint.port
        ),
    )
    .hint(format!(
        "the URL is {tls_url}: 'mailtoken --set {} {flag} {tls_url}'",
        crate::base::paths::shell_quote(&attempt.account)
    )))
}

/// Whether `address` answers a TLS handshake: any TLS record back (a server hello, an alert, a
/// certificate rustls refuses) says so; plain text, silence or a closed connection does not.
fn speaks_tls(address: SocketAddr, attempt: &Attempt) -> bool {
    let Ok(mut tcp) = TcpStream::connect_timeout(&address, attempt.timeout) else {
        return false;
    };
    if set_timeouts(&tcp, attempt.timeout).is_err() {
        return false;
    }
    let Ok(name) = ServerName::try_from(attempt.endpoint.host.clone()) else {
        return false;
    };
    let Ok(mut tls) = ClientConnection::new(Arc::clone(&attempt.config), name) else {
        return false;
    };
    let deadline = Instant::now() + attempt.timeout;
    while tls.is_handshaking() && Instant::now() < deadline {
        if let Err(error) = tls.complete_io(&mut tcp) {
            return error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .is_some_and(|tls| {
                    !matches!(
                        tls,
                        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
                    )
                });
        }
    }
    !tls.is_handshaking()
}

fn tls_failure(error: &rustls::Error, doing: &str) -> Failure {
    match error {
        // Trying again cannot change who is trusted: 78, naming what is trusted now. A CA of the
        // same name but another key (BadSignature) is as untrusted as an unknown one.
        rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer | rustls::CertificateError::BadSignature,
        ) => Failure::new(
            Kind::Untrusted,
            format!(
                "the server's TLS certificate comes from a certificate authority not \
                     trusted here {doing}; the token was not sent"
            ),
        )
        .hint(crate::net::tls::trust_hint()),
        rustls::Error::InvalidCertificate(reason) => Failure::new(
            Kind::Network,
            format!("the server's TLS certificate was not accepted ({reason:?}) {doing}"),
        )
        .hint(
            "a private CA must be named in SSL_CERT_FILE; the host name must match the certificate",
        ),
        // A TLS record starts with a content type of 20 to 24 (RFC 8446 section 5.1); a mail
        // server's plain-text greeting ("* OK", "+OK", "220") starts with a printable byte,
        // which rustls reads as no content type at all.
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => Failure::new(
            Kind::NotTls,
            format!("the server answered in plain text, not TLS, {doing}"),
        ),
        other => Failure::new(Kind::Network, format!("TLS failed {doing}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
