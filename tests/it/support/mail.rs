//! Fake mail servers for the `--test` integration tests: a throwaway CA made in the test, TLS
//! (implicit or after STARTTLS) with rustls and ring, and scripted IMAP, POP and SMTP servers on
//! 127.0.0.1 that record every line they receive and whether it arrived encrypted.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use mailtoken::mailserver::Protocol;
use mailtoken::sasl::SaslMethod;

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
    /// Which connection (0 for the first accepted).
    pub connection: usize,
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
    pub connection: usize,
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
            connection: self.connection,
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

type Script = dyn Fn(&mut Session) + Send + Sync;

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
        let counter = Arc::new(AtomicUsize::new(0));
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
                        connection: counter.fetch_add(1, Ordering::SeqCst),
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

/// What a scripted server offers and accepts.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// Offer STARTTLS (STLS) on a plain connection.
    pub starttls: bool,
    /// The SASL mechanisms offered.
    pub mechanisms: Vec<String>,
    /// Access tokens the server accepts; any other is refused after a failure challenge.
    pub accept: Vec<String>,
    /// The JSON failure challenge.
    pub challenge: String,
    /// IMAP: quote the client's SASL response in the final NO, as a careless server might.
    pub echo: bool,
}

/// Google's XOAUTH2 failure challenge.
pub const GOOGLE_CHALLENGE: &str =
    r#"{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}"#;

impl Behaviour {
    /// Offers STARTTLS, XOAUTH2 and OAUTHBEARER, and accepts `token`.
    pub fn accepting(token: &str) -> Behaviour {
        Behaviour {
            starttls: true,
            mechanisms: vec!["XOAUTH2".into(), "OAUTHBEARER".into()],
            accept: vec![token.to_string()],
            challenge: GOOGLE_CHALLENGE.to_string(),
            echo: false,
        }
    }

    fn offers(&self, mechanism: &str) -> bool {
        self.mechanisms
            .iter()
            .any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// Whether the base64 SASL response carries an accepted token.
    fn accepts(&self, response: &str) -> bool {
        let decoded = b64decode(response);
        bearer_token(&decoded).is_some_and(|token| self.accept.iter().any(|t| t == token))
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes base64 into text ("" when it is not base64).
pub fn b64decode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

/// The token in an XOAUTH2 or OAUTHBEARER response.
pub fn bearer_token(decoded: &str) -> Option<&str> {
    let start = decoded.find("auth=Bearer ")? + "auth=Bearer ".len();
    let rest = &decoded[start..];
    Some(&rest[..rest.find('\x01')?])
}

/// An IMAP server (RFC 3501) that does CAPABILITY, STARTTLS, AUTHENTICATE, EXAMINE and LOGOUT.
pub fn imap_script(behaviour: Behaviour) -> impl Fn(&mut Session) + Send + Sync + 'static {
    move |s: &mut Session| {
        s.send("* OK fake IMAP ready");
        while let Some(line) = s.line() {
            let mut words = line.splitn(3, ' ');
            let tag = words.next().unwrap_or("").to_string();
            let command = words.next().unwrap_or("").to_ascii_uppercase();
            let argument = words.next().unwrap_or("").to_string();
            match command.as_str() {
                "CAPABILITY" => {
                    let mut caps = vec!["IMAP4rev1".to_string()];
                    if behaviour.starttls && !s.is_tls() {
                        caps.push("STARTTLS".into());
                    }
                    caps.extend(behaviour.mechanisms.iter().map(|m| format!("AUTH={m}")));
                    s.send(&format!("* CAPABILITY {}", caps.join(" ")));
                    s.send(&format!("{tag} OK CAPABILITY completed"));
                }
                "STARTTLS" if behaviour.starttls && !s.is_tls() => {
                    s.send(&format!("{tag} OK Begin TLS negotiation now"));
                    s.start_tls();
                }
                "AUTHENTICATE" if !behaviour.offers(&argument) => {
                    s.send(&format!(
                        "{tag} NO [CANNOT] Unsupported authentication mechanism"
                    ));
                }
                "AUTHENTICATE" => {
                    s.send("+ ");
                    let Some(response) = s.line() else { return };
                    if behaviour.accepts(&response) {
                        s.send(&format!("{tag} OK Logged in"));
                    } else {
                        s.send(&format!("+ {}", b64(behaviour.challenge.as_bytes())));
                        let Some(_dummy) = s.line() else { return };
                        if behaviour.echo {
                            s.send(&format!(
                                "{tag} NO [AUTHENTICATIONFAILED] refused {response}"
                            ));
                        } else {
                            s.send(&format!(
                                "{tag} NO [AUTHENTICATIONFAILED] Authentication failed."
                            ));
                        }
                    }
                }
                "EXAMINE" | "SELECT" => {
                    s.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
                    s.send("* 2 EXISTS");
                    s.send("* 0 RECENT");
                    s.send("* OK [UIDVALIDITY 1] UIDs valid");
                    s.send(&format!("{tag} OK [READ-ONLY] {command} completed"));
                }
                "LOGOUT" => {
                    s.send("* BYE Logging out");
                    s.send(&format!("{tag} OK Logout completed"));
                    return;
                }
                _ => s.send(&format!("{tag} BAD Unknown command")),
            }
        }
    }
}

/// A POP3 server (RFC 1939, 2449, 5034, 2595) that does CAPA, STLS, AUTH, STAT and QUIT.
pub fn pop_script(behaviour: Behaviour) -> impl Fn(&mut Session) + Send + Sync + 'static {
    move |s: &mut Session| {
        s.send("+OK fake POP3 ready");
        while let Some(line) = s.line() {
            let mut words = line.splitn(2, ' ');
            let command = words.next().unwrap_or("").to_ascii_uppercase();
            let argument = words.next().unwrap_or("").to_string();
            match command.as_str() {
                "CAPA" => {
                    s.send("+OK Capability list follows");
                    s.send("USER");
                    if behaviour.starttls && !s.is_tls() {
                        s.send("STLS");
                    }
                    if !behaviour.mechanisms.is_empty() {
                        s.send(&format!("SASL {}", behaviour.mechanisms.join(" ")));
                    }
                    s.send(".");
                }
                "STLS" if behaviour.starttls && !s.is_tls() => {
                    s.send("+OK Begin TLS negotiation");
                    s.start_tls();
                }
                "AUTH" if !behaviour.offers(&argument) => {
                    s.send("-ERR Unsupported authentication mechanism.");
                }
                "AUTH" => {
                    s.send("+ ");
                    let Some(response) = s.line() else { return };
                    if behaviour.accepts(&response) {
                        s.send("+OK Logged in.");
                    } else {
                        s.send(&format!("+ {}", b64(behaviour.challenge.as_bytes())));
                        let Some(_dummy) = s.line() else { return };
                        s.send("-ERR [AUTH] Authentication failed.");
                    }
                }
                "STAT" => s.send("+OK 2 320"),
                "QUIT" => {
                    s.send("+OK Logging out.");
                    return;
                }
                _ => s.send("-ERR Unknown command"),
            }
        }
    }
}

/// An SMTP submission server (RFC 5321, 3207, 4954) that does EHLO, STARTTLS, AUTH and QUIT.
pub fn smtp_script(behaviour: Behaviour) -> impl Fn(&mut Session) + Send + Sync + 'static {
    move |s: &mut Session| {
        s.send("220 fake.example ESMTP ready");
        while let Some(line) = s.line() {
            let mut words = line.split(' ');
            let command = words.next().unwrap_or("").to_ascii_uppercase();
            let mechanism = words.next().unwrap_or("").to_string();
            let initial = words.next().unwrap_or("").to_string();
            match command.as_str() {
                "EHLO" => {
                    let mut lines = vec!["fake.example".to_string()];
                    if behaviour.starttls && !s.is_tls() {
                        lines.push("STARTTLS".into());
                    }
                    if !behaviour.mechanisms.is_empty() {
                        lines.push(format!("AUTH {}", behaviour.mechanisms.join(" ")));
                    }
                    lines.push("8BITMIME".into());
                    let last = lines.len() - 1;
                    for (i, text) in lines.iter().enumerate() {
                        let separator = if i == last { ' ' } else { '-' };
                        s.send(&format!("250{separator}{text}"));
                    }
                }
                "STARTTLS" if behaviour.starttls && !s.is_tls() => {
                    s.send("220 2.0.0 Ready to start TLS");
                    s.start_tls();
                }
                "AUTH" if !behaviour.offers(&mechanism) => {
                    s.send("504 5.5.4 Unrecognized authentication type");
                }
                "AUTH" => {
                    if behaviour.accepts(&initial) {
                        s.send("235 2.7.0 Authentication successful");
                    } else {
                        s.send(&format!("334 {}", b64(behaviour.challenge.as_bytes())));
                        let Some(_dummy) = s.line() else { return };
                        s.send("535 5.7.8 Authentication credentials invalid");
                    }
                }
                "QUIT" => {
                    s.send("221 2.0.0 Bye");
                    return;
                }
                _ => s.send("502 5.5.2 Command not recognized"),
            }
        }
    }
}

/// The access token in the token files these tests write.
pub const CACHED_TOKEN: &str = "cached-access-token";

/// Where each protocol's fake server listens, as endpoint URLs.
#[derive(Default)]
pub struct Endpoints {
    pub imap: Option<String>,
    pub pop: Option<String>,
    pub smtp: Option<String>,
}

/// Writes a valid (cached, 30 minutes left) token file for `user@example.com` whose registration
/// points at `endpoints`, with the token endpoint at `token_endpoint`.
pub fn write_account(
    sandbox: &super::Sandbox,
    token_endpoint: &str,
    method: SaslMethod,
    endpoints: &Endpoints,
) -> std::path::PathBuf {
    use mailtoken::mailserver::MailEndpoint;
    let mut registration = super::test_registration(token_endpoint);
    registration.sasl_method = method;
    let parse = |protocol, url: &Option<String>| {
        url.as_deref()
            .map(|url| MailEndpoint::parse(protocol, url).expect("endpoint URL"))
    };
    registration.imap_endpoint = parse(Protocol::Imap, &endpoints.imap);
    registration.pop_endpoint = parse(Protocol::Pop, &endpoints.pop);
    registration.smtp_endpoint = parse(Protocol::Smtp, &endpoints.smtp);
    let token = super::token_file(
        registration,
        sandbox.age_spec(),
        chrono::Utc::now() + chrono::Duration::minutes(30),
    );
    let path = sandbox.path("account");
    sandbox.write_token(&path, &token);
    path
}

/// Runs the binary trusting the test CA. The mail timeout is generous, so a busy machine does
/// not turn a working server into a timeout.
pub fn run_trusting(sandbox: &super::Sandbox, ca: &TestCa, args: &[&str]) -> super::Run {
    run_trusting_with_timeout(sandbox, ca, "10", args)
}

/// Runs the binary trusting the test CA, with `MAILTOKEN_MAIL_TIMEOUT` set to `seconds`.
pub fn run_trusting_with_timeout(
    sandbox: &super::Sandbox,
    ca: &TestCa,
    seconds: &str,
    args: &[&str],
) -> super::Run {
    let ca_path = sandbox.path("test-ca.pem");
    ca.write_pem(&ca_path);
    super::Run::from(
        sandbox
            .command()
            .env("SSL_CERT_FILE", &ca_path)
            .env("MAILTOKEN_MAIL_TIMEOUT", seconds)
            .args(args)
            .output()
            .expect("mailtoken runs"),
    )
}

/// The exact raw SASL response for `token` at `localhost:port`, as the tests expect it.
pub fn expected_sasl(method: SaslMethod, port: u16, token: &str) -> String {
    match method {
        SaslMethod::Xoauth2 => {
            format!("user=user@example.com\x01auth=Bearer {token}\x01\x01")
        }
        SaslMethod::Oauthbearer => format!(
            "n,a=user@example.com,\x01host=localhost\x01port={port}\x01auth=Bearer {token}\x01\x01"
        ),
    }
}

/// Starts the fake server for `protocol`; `implicit` picks imaps/pop3s/smtps over STARTTLS.
pub fn server(ca: &TestCa, protocol: Protocol, implicit: bool, behaviour: Behaviour) -> MailServer {
    match protocol {
        Protocol::Imap => MailServer::start(ca, implicit, imap_script(behaviour)),
        Protocol::Pop => MailServer::start(ca, implicit, pop_script(behaviour)),
        Protocol::Smtp => MailServer::start(ca, implicit, smtp_script(behaviour)),
    }
}

pub fn url(protocol: Protocol, implicit: bool, port: u16) -> String {
    let scheme = match (protocol, implicit) {
        (Protocol::Imap, true) => "imaps",
        (Protocol::Imap, false) => "imap",
        (Protocol::Pop, true) => "pop3s",
        (Protocol::Pop, false) => "pop3",
        (Protocol::Smtp, true) => "smtps",
        (Protocol::Smtp, false) => "smtp",
    };
    format!("{scheme}://localhost:{port}")
}

pub fn endpoints(protocol: Protocol, url: String) -> Endpoints {
    let mut endpoints = Endpoints::default();
    match protocol {
        Protocol::Imap => endpoints.imap = Some(url),
        Protocol::Pop => endpoints.pop = Some(url),
        Protocol::Smtp => endpoints.smtp = Some(url),
    }
    endpoints
}

/// The lines that carried a SASL initial response, with how they arrived.
pub fn sasl_lines(protocol: Protocol, received: &[Got]) -> Vec<Got> {
    let mut found = Vec::new();
    for (i, got) in received.iter().enumerate() {
        let upper = got.line.to_ascii_uppercase();
        match protocol {
            Protocol::Imap if upper.contains(" AUTHENTICATE ") => {
                found.extend(received.get(i + 1).cloned())
            }
            Protocol::Pop if upper.starts_with("AUTH ") => {
                found.extend(received.get(i + 1).cloned())
            }
            Protocol::Smtp if upper.starts_with("AUTH ") => found.push(Got {
                line: got.line.split(' ').nth(2).unwrap_or("").to_string(),
                ..got.clone()
            }),
            _ => {}
        }
    }
    found
}

/// A server script that fits in a table of test cases.
pub type ScriptFn = fn(&mut Session);
