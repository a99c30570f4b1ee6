//! The loopback listener of the localhostauthcode flow (RFC 8252 sections 7.3 and 8.3): it
//! receives the browser's redirect carrying the authorization code.
//!
//! It listens on 127.0.0.1 and ::1 with the same port, because a browser may resolve `localhost`
//! to either. It never listens on another interface. Each connection is served on its own thread
//! with a read timeout and a size cap, so a browser's idle speculative connection, or anything else
//! that connects, cannot stall or exhaust it; the decision about each request is taken by the
//! caller on one thread, in order.
//!
//! Only the user's own connections are answered (`peers`): the browser runs as the user, and a
//! redirect delivered by another user of the machine must not complete, or end, the sign-in.
//!
//! `http1` reads the request head and writes the answer; `peers` tells who is at the other end;
//! `slots` caps the connections served at once, and makes room for the browser when idle
//! connections fill them; `https` makes the listener speak https for registrations that accept
//! only an `https://localhost` redirect.
//!
//! tiny_http was the first choice, but it reads header lines without any length limit and sets no
//! timeout on accepted connections, so the two guarantees above could not be given with it.

use std::io::{self, Read};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

mod http1;
mod https;
mod peers;
mod slots;

pub(crate) use http1::Answer;
use http1::{Connection, HeadError, read_head, write_answer};
pub use http1::{Head, MAX_REQUEST, parse_request_head};
pub(crate) use https::one_sign_in_config;
use slots::{Progress, Slots};

/// The TLS configuration of an https listener.
pub(crate) type TlsConfig = Arc<rustls::server::ServerConfig>;

/// How long a connection may stay silent. Browsers open speculative connections that never carry
/// a request; those are closed after this, without holding anything else up.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the accept loops look for new connections and for the order to stop.
const ACCEPT_POLL: Duration = Duration::from_millis(20);

/// How many ephemeral ports to try before giving up on finding one free on both addresses.
const EPHEMERAL_ATTEMPTS: usize = 20;

/// Why the listener could not be set up.
#[derive(Debug)]
pub(crate) enum BindError {
    /// The fixed port is taken on this address.
    InUse(SocketAddr),
    Other(SocketAddr, io::Error),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::InUse(addr) => {
                write!(f, "port {} is already in use on {}", addr.port(), addr.ip())
            }
            BindError::Other(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
        }
    }
}

/// One HTTP request from the browser: its method and request target (path and query).
#[derive(Debug)]
pub(crate) struct Incoming {
    pub method: String,
    pub target: String,
    reply: Sender<Answer>,
    /// Told when the answer has been written and the connection closed.
    written: Receiver<()>,
}

impl Incoming {
    /// Sends the answer and waits until it is written, so the browser has the whole page even
    /// when the program ends right after (a refused sign-in does). A browser that has gone away
    /// is not an error; the wait is bounded like every write.
    pub(crate) fn respond(self, answer: Answer) {
        if self.reply.send(answer).is_ok() {
            let _ = self.written.recv_timeout(IDLE_TIMEOUT);
        }
    }
}

/// Listening sockets on 127.0.0.1 and, when the machine has IPv6, ::1, sharing one port.
pub(crate) struct Listener {
    port: u16,
    addresses: Vec<SocketAddr>,
    requests: Receiver<Incoming>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    /// Listens on `port`, or on a free ephemeral port when `None`; speaking TLS with `tls` when
    /// given: every connection is then a TLS connection, served with the same deadlines, caps and
    /// limits as a plain one.
    pub(crate) fn bind_with(
        port: Option<u16>,
        tls: Option<TlsConfig>,
    ) -> Result<Listener, BindError> {
        let (listeners, port) = match port {
            Some(port) => (bind_pair(port)?, port),
            None => bind_ephemeral()?,
        };
        let addresses = listeners
            .iter()
            .filter_map(|listener| listener.local_addr().ok())
            .collect();
        let (sender, requests) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let slots = Arc::new(Slots::default());
        for listener in listeners {
            let sender = sender.clone();
            let stop = Arc::clone(&stop);
            let slots = Arc::clone(&slots);
            let tls = tls.clone();
            thread::spawn(move || accept_loop(listener, sender, stop, slots, tls));
        }
        Ok(Listener {
            port,
            addresses,
            requests,
            stop,
        })
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The addresses actually listened on.
    pub(crate) fn addresses(&self) -> &[SocketAddr] {
        &self.addresses
    }

    /// The next request, or `None` once `deadline` has passed.
    pub(crate) fn next(&self, deadline: Instant) -> Option<Incoming> {
        loop {
            let remaining = deadline.checked_duration_since(Instant::now())?;
            match self.requests.recv_timeout(remaining) {
                Ok(incoming) => return Some(incoming),
                Err(RecvTimeoutError::Timeout) => return None,
                // Cannot happen while the accept threads hold senders; wait out the deadline.
                Err(RecvTimeoutError::Disconnected) => thread::sleep(ACCEPT_POLL),
            }
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn loopback(port: u16) -> [SocketAddr; 2] {
    [
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ]
}

/// Binds both loopback addresses on a fixed port. A machine without IPv6 gets only 127.0.0.1.
fn bind_pair(port: u16) -> Result<Vec<TcpListener>, BindError> {
    let [v4, v6] = loopback(port);
    let first = bind_one(v4)?;
    match bind_one(v6) {
        Ok(second) => Ok(vec![first, second]),
        Err(BindError::Other(_, e)) if ipv6_unavailable(&e) => {
            crate::base::log::verbose(
                "no IPv6 loopback on this machine; listening on 127.0.0.1 only",
            );
            Ok(vec![first])
        }
        Err(e) => Err(e),
    }
}

fn bind_one(addr: SocketAddr) -> Result<TcpListener, BindError> {
    TcpListener::bind(addr).map_err(|e| match e.kind() {
        io::ErrorKind::AddrInUse => BindError::InUse(addr),
        _ => BindError::Other(addr, e),
    })
}

fn ipv6_unavailable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::Unsupported
    ) || e.raw_os_error() == Some(97) // EAFNOSUPPORT on Linux
}

/// Lets the system choose a port on 127.0.0.1, then takes the same port on ::1; if that one is
/// taken there, tries again with another.
fn bind_ephemeral() -> Result<(Vec<TcpListener>, u16), BindError> {
    let mut last = None;
    for _ in 0..EPHEMERAL_ATTEMPTS {
        let first = bind_one(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let port = first
            .local_addr()
            .map_err(|e| BindError::Other(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), e))?
            .port();
        match bind_one(SocketAddr::from((Ipv6Addr::LOCALHOST, port))) {
            Ok(second) => return Ok((vec![first, second], port)),
            Err(BindError::Other(_, e)) if ipv6_unavailable(&e) => {
                crate::base::log::verbose(
                    "no IPv6 loopback on this machine; listening on 127.0.0.1 only",
                );
                return Ok((vec![first], port));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        BindError::Other(
            SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
            io::Error::other("no free port"),
        )
    }))
}

fn accept_loop(
    listener: TcpListener,
    sender: Sender<Incoming>,
    stop: Arc<AtomicBool>,
    slots: Arc<Slots>,
    tls: Option<TlsConfig>,
) {
    // Non-blocking, so the loop notices the order to stop; the listening socket closes with it.
    if listener.set_nonblocking(true).is_err() {
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                // Another user's connection is closed unanswered: nothing it sends is read.
                match peers::of(&stream) {
                    peers::Peer::Ours => {}
                    peers::Peer::Theirs(uid) => {
                        refused_theirs(uid);
                        continue;
                    }
                    peers::Peer::Unknown => cannot_tell_users_apart(),
                }
                // No place (the cap is reached and none may be given up): closed at once.
                let Some(progress) = slots.admit(&stream) else {
                    continue;
                };
                let sender = sender.clone();
                let tls = tls.clone();
                // No thread to be had (a task limit): this connection is dropped, not the
                // sign-in; its progress goes with the closure and frees the place.
                let _ = thread::Builder::new().spawn(move || serve(stream, sender, progress, tls));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // ECONNABORTED and the like concern one connection, not the listener.
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

/// Says once per run that another user's connection was refused: on a machine shared with
/// others it may be an attempt to take over the sign-in.
fn refused_theirs(uid: Option<u32>) {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        let who = uid.map_or_else(|| "a closed socket".to_string(), |uid| format!("uid {uid}"));
        crate::base::log::warn(format!(
            "refused a connection to the sign-in listener from another user of this machine \
             ({who}); only your own browser is answered"
        ));
    }
}

/// Says once per run that users cannot be told apart here.
fn cannot_tell_users_apart() {
    static SAID: AtomicBool = AtomicBool::new(false);
    if !SAID.swap(true, Ordering::Relaxed) {
        crate::base::log::verbose(
            "cannot tell which user connects to the listener here (no /proc/net/tcp): every \
             connection is answered, and judged by the sign-in's state alone",
        );
    }
}

/// Serves one connection, over TLS when `tls` is given.
fn serve(stream: TcpStream, sender: Sender<Incoming>, progress: Progress, tls: Option<TlsConfig>) {
    if stream.set_nonblocking(false).is_err()
        || stream.set_read_timeout(Some(IDLE_TIMEOUT)).is_err()
        || stream.set_write_timeout(Some(IDLE_TIMEOUT)).is_err()
    {
        return;
    }
    // One absolute deadline for the whole request, TLS handshake included: a client trickling a
    // byte at a time must not hold a thread (and a connection slot) for longer.
    let deadline = Instant::now() + IDLE_TIMEOUT;
    match tls {
        None => answer_one(stream, sender, deadline, progress),
        Some(config) => {
            if let Ok(connection) = https::TlsConn::new(config, stream, deadline) {
                answer_one(connection, sender, deadline, progress);
            }
        }
    }
}

/// Reads one request from a connection, hands it over, writes the answer, closes.
fn answer_one(
    mut stream: impl Connection,
    sender: Sender<Incoming>,
    deadline: Instant,
    progress: Progress,
) {
    let head = read_head(&mut stream, deadline);
    if !matches!(head, Err(HeadError::Io)) {
        progress.answering();
    }
    let answer = match head {
        Ok(Some((method, target))) => {
            let (reply, answer) = mpsc::channel();
            let (done, written) = mpsc::channel();
            if sender
                .send(Incoming {
                    method,
                    target,
                    reply,
                    written,
                })
                .is_err()
            {
                return;
            }
            // The redirect is answered once the code has been exchanged (the page says how the
            // sign-in ended): one token request at most, so its bound and a little more.
            let wait = IDLE_TIMEOUT + crate::oauth::http::total_timeout();
            let Ok(answer) = answer.recv_timeout(wait) else {
                return;
            };
            let _ = write_answer(&mut stream, &answer);
            // The end of the page said (TLS's close_notify, TCP's FIN), then both handles closed
            // (ours and the slots'): the browser has the end of the page.
            stream.close_write();
            drop(stream);
            drop(progress);
            let _ = done.send(());
            return;
        }
        Ok(None) => Answer::page(400, super::pages::BAD_REQUEST),
        Err(HeadError::TooLarge) => {
            let _ = write_answer(&mut stream, &Answer::page(431, super::pages::BAD_REQUEST));
            // Closing with unread input would reset the connection and lose the answer: read a
            // little more first, bounded in size and time.
            stream.close_write();
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let _ = io::copy(
                &mut (&mut stream).take(4 * MAX_REQUEST as u64),
                &mut io::sink(),
            );
            return;
        }
        Err(HeadError::Io) => return,
    };
    let _ = write_answer(&mut stream, &answer);
    stream.close_write();
}

#[cfg(test)]
mod tests;
