//! TLS for the loopback listener, for registrations that accept only an `https://localhost`
//! redirect (organisation-made Microsoft registrations, AADSTS50011 otherwise; pizauth added an
//! https listener in 1.0.6 for them).
//!
//! The certificate is made for this one sign-in: self-signed, for the loopback names and
//! addresses only, valid from a minute ago until the sign-in's deadline has passed, its key
//! generated here and kept in memory only, never written anywhere. No browser trusts it, so the
//! user is told beforehand that the browser will warn, and why that is expected.
//!
//! `TlsConn` reads with the same absolute deadline as a plain connection: every read from the
//! socket, handshake included, waits at most until the deadline, so a client that trickles its
//! handshake cannot hold a connection longer than one that trickles its request.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::ServerConnection;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::ServerConfig;

use super::http1::Connection;

/// How far back the certificate's validity starts, for a browser whose clock is a little behind.
const CLOCK_SKEW: Duration = Duration::from_secs(60);

/// A certificate for `localhost`, 127.0.0.1 and ::1, valid until `lifetime` from now, and the
/// server configuration that presents it.
pub(crate) fn one_sign_in_config(lifetime: Duration) -> Result<Arc<ServerConfig>, String> {
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};
    let key = KeyPair::generate().map_err(|e| format!("cannot make a key: {e}"))?;
    let mut params = CertificateParams::new(vec!["localhost".to_string()])
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
    params.subject_alt_names.extend([
        SanType::IpAddress(Ipv4Addr::LOCALHOST.into()),
        SanType::IpAddress(Ipv6Addr::LOCALHOST.into()),
    ]);
    params.distinguished_name.push(
        DnType::CommonName,
        "mailtoken sign-in on this machine (one sign-in only)",
    );
    let now = SystemTime::now();
    params.not_before = (now - CLOCK_SKEW).into();
    params.not_after = (now + lifetime).into();
    let certificate = params
        .self_signed(&key)
        .map_err(|e| format!("cannot sign the certificate: {e}"))?;
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(certificate.der().to_vec())],
                private,
            )
            .map_err(|e| e.to_string())?;
    Ok(Arc::new(config))
}

/// A TLS connection from the browser, read against an absolute deadline.
pub(crate) struct TlsConn {
    tls: ServerConnection,
    socket: TcpStream,
    deadline: Instant,
}

impl TlsConn {
    pub(crate) fn new(
        config: Arc<ServerConfig>,
        socket: TcpStream,
        deadline: Instant,
    ) -> io::Result<TlsConn> {
        let tls = ServerConnection::new(config).map_err(io::Error::other)?;
        Ok(TlsConn {
            tls,
            socket,
            deadline,
        })
    }

    /// Sends whatever TLS has queued (handshake messages, alerts, data).
    fn send_pending(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            self.tls.write_tls(&mut self.socket)?;
        }
        Ok(())
    }
}

impl Connection for TlsConn {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        if let Some(timeout) = timeout {
            self.deadline = self.deadline.min(Instant::now() + timeout);
        }
        Ok(())
    }

    fn close_write(&mut self) {
        self.tls.send_close_notify();
        let _ = self.send_pending();
        let _ = self.socket.shutdown(std::net::Shutdown::Write);
    }
}

impl Read for TlsConn {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            self.send_pending()?;
            match self.tls.reader().read(buffer) {
                Ok(count) => return Ok(count),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::ErrorKind::TimedOut.into());
            }
            self.socket.set_read_timeout(Some(left))?;
            if self.tls.read_tls(&mut self.socket)? == 0 {
                return Ok(0);
            }
            if let Err(error) = self.tls.process_new_packets() {
                // The alert saying why (a browser that refused the certificate sees it).
                let _ = self.send_pending();
                return Err(io::Error::new(io::ErrorKind::InvalidData, error));
            }
        }
    }
}

impl Write for TlsConn {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.tls.writer().write(bytes)?;
        self.send_pending()?;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tls.writer().flush()?;
        self.send_pending()
    }
}
