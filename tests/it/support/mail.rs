//! Fake mail servers: a throwaway CA made in the test, TLS (implicit or after STARTTLS) with
//! rustls and ring, and servers on 127.0.0.1 that run a script (`mail_scripts` has the IMAP, POP
//! and SMTP ones) and record every line they receive and whether it arrived encrypted.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// How long a fake server waits for the client before giving up on the connection.
const SERVER_PATIENCE: Duration = Duration::from_secs(30);

/// A CA made for one test, and a server certificate for `localhost` and `127.0.0.1` it signed.
pub struct TestCa {
    pub ca_pem: String,
    config: Arc<ServerConfig>,
}

impl TestCa {
    pub fn new() -> TestCa {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "mailtoken test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();

        let server_key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        let server_cert = params.signed_by(&server_key, &ca).unwrap();

        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![server_cert.der().clone()], key)
                .unwrap();
        TestCa {
            ca_pem: ca.pem(),
            config: Arc::new(config),
        }
    }

    /// Writes the CA certificate where `SSL_CERT_FILE` can name it.
    pub fn write_pem(&self, path: &Path) {
        std::fs::write(path, &self.ca_pem).unwrap();
    }
}

/// One line a fake server received.
#[derive(Clone, Debug)]
pub struct Got {
    /// Whether it arrived over TLS.
    pub tls: bool,
    pub line: String,
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
    Gone,
}

/// The server side of one connection, driven by a script.
pub struct Session {
    stream: Stream,
    config: Arc<ServerConfig>,
    log: Arc<Mutex<Vec<Got>>>,
}

impl Session {
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Sends raw bytes; a client that went away is not the server's problem.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let _ = match &mut self.stream {
            Stream::Plain(tcp) => tcp.write_all(bytes).and_then(|()| tcp.flush()),
            Stream::Tls(tls) => tls.write_all(bytes).and_then(|()| tls.flush()),
            Stream::Gone => Ok(()),
        };
    }

    /// Sends one line with CR LF.
    pub fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes());
    }

    /// Sends `line` and returns `go_on`: an `Answer` that replies and says whether the
    /// conversation goes on.
    pub fn reply(&mut self, line: &str, go_on: bool) -> bool {
        self.send(line);
        go_on
    }

    /// The next line from the client without CR LF; `None` when it closed or went silent.
    pub fn line(&mut self) -> Option<String> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            let read = match &mut self.stream {
                Stream::Plain(tcp) => tcp.read(&mut byte),
                Stream::Tls(tls) => tls.read(&mut byte),
                Stream::Gone => return None,
            };
            match read {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) => line.push(byte[0]),
                _ => return None,
            }
        }
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let line = String::from_utf8_lossy(&line).into_owned();
        self.log.lock().unwrap().push(Got {
            tls: self.is_tls(),
            line: line.clone(),
        });
        Some(line)
    }

    /// Exactly `count` bytes from the client (an HTTP body), or fewer if it went away.
    pub fn bytes(&mut self, count: usize) -> Vec<u8> {
        let mut buffer = vec![0u8; count];
        let read = match &mut self.stream {
            Stream::Plain(tcp) => tcp.read_exact(&mut buffer),
            Stream::Tls(tls) => tls.read_exact(&mut buffer),
            Stream::Gone => return Vec::new(),
        };
        if read.is_err() {
            buffer.clear();
        }
        buffer
    }

    /// Switches to TLS after a STARTTLS reply.
    pub fn start_tls(&mut self) {
        self.stream = match std::mem::replace(&mut self.stream, Stream::Gone) {
            Stream::Plain(tcp) => {
                let connection = ServerConnection::new(Arc::clone(&self.config)).unwrap();
                Stream::Tls(Box::new(StreamOwned::new(connection, tcp)))
            }
            other => other,
        };
    }

    /// Sends one byte every 200 ms, never ending the line, until the client goes away: each
    /// read gets data in time, so only a limit on the whole conversation stops it.
    pub fn trickle(&mut self) {
        let started = Instant::now();
        while started.elapsed() < SERVER_PATIENCE {
            let written = match &mut self.stream {
                Stream::Plain(tcp) => tcp.write_all(b"x").and_then(|()| tcp.flush()),
                Stream::Tls(tls) => tls.write_all(b"x").and_then(|()| tls.flush()),
                Stream::Gone => return,
            };
            if written.is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Says nothing until the client gives up and closes the connection.
    pub fn stall(&mut self) {
        let started = Instant::now();
        while started.elapsed() < SERVER_PATIENCE {
            let mut byte = [0u8; 1];
            let read = match &mut self.stream {
                Stream::Plain(tcp) => tcp.read(&mut byte),
                Stream::Tls(tls) => tls.read(&mut byte),
                Stream::Gone => return,
            };
            match read {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    }
}

/// What a fake server does with each connection.
pub type Script = dyn Fn(&mut Session) + Send + Sync;

/// A fake mail server on 127.0.0.1: every accepted connection runs the script on its own thread.
pub struct MailServer {
    pub port: u16,
    log: Arc<Mutex<Vec<Got>>>,
    stop: Arc<AtomicBool>,
}

impl MailServer {
    pub fn start(
        ca: &TestCa,
        implicit_tls: bool,
        script: impl Fn(&mut Session) + Send + Sync + 'static,
    ) -> MailServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: Arc<Script> = Arc::new(script);
        let config = Arc::clone(&ca.config);
        {
            let log = Arc::clone(&log);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                for tcp in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(tcp) = tcp else { continue };
                    let _ = tcp.set_read_timeout(Some(SERVER_PATIENCE));
                    let _ = tcp.set_write_timeout(Some(SERVER_PATIENCE));
                    let mut session = Session {
                        stream: Stream::Plain(tcp),
                        config: Arc::clone(&config),
                        log: Arc::clone(&log),
                    };
                    if implicit_tls {
                        session.start_tls();
                    }
                    let script = Arc::clone(&script);
                    std::thread::spawn(move || script(&mut session));
                }
            });
        }
        MailServer { port, log, stop }
    }

    /// Every line received, in order.
    pub fn received(&self) -> Vec<Got> {
        self.log.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.received().into_iter().map(|got| got.line).collect()
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
