//! Fake mail servers: a throwaway CA made in the test, TLS (implicit or after STARTTLS) with
//! rustls and ring, and scripted IMAP, POP and SMTP servers on 127.0.0.1 that record every line
//! they receive and whether it arrived encrypted.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use mailtoken::testing::mailserver::Protocol;

use super::base64::{decode_text, encode};

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
    /// IMAP: offer SASL-IR (RFC 4959) and take the initial response on the AUTHENTICATE line.
    pub sasl_ir: bool,
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
            sasl_ir: false,
        }
    }

    /// Whether STARTTLS is on offer now: asked for, and not done yet.
    fn offers_starttls(&self, s: &Session) -> bool {
        self.starttls && !s.is_tls()
    }

    fn offers(&self, mechanism: &str) -> bool {
        self.mechanisms
            .iter()
            .any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// Answers the SASL `response`: `ok` when it carries an accepted token; else the failure
    /// challenge after `prompt` and, once the client has answered that, `refusal`. False when the
    /// client went away instead.
    fn answer(
        &self,
        s: &mut Session,
        response: &str,
        prompt: &str,
        ok: &str,
        refusal: &str,
    ) -> bool {
        let decoded = decode_text(response);
        if bearer_token(&decoded).is_some_and(|token| self.accept.iter().any(|t| t == token)) {
            s.send(ok);
            return true;
        }
        s.send(&format!("{prompt}{}", encode(&self.challenge)));
        let answered = s.line().is_some();
        if answered {
            s.send(refusal);
        }
        answered
    }
}

/// The first `N` words of a command line, the last one with the rest of the line.
fn words<const N: usize>(line: &str) -> [String; N] {
    let mut words = line.splitn(N, ' ');
    std::array::from_fn(|_| words.next().unwrap_or("").to_string())
}

/// The token in an XOAUTH2 or OAUTHBEARER response.
fn bearer_token(decoded: &str) -> Option<&str> {
    let start = decoded.find("auth=Bearer ")? + "auth=Bearer ".len();
    let rest = &decoded[start..];
    Some(&rest[..rest.find('\x01')?])
}

/// The scripted server for `protocol`, offering and accepting what `behaviour` says.
pub fn serving(protocol: Protocol, behaviour: Behaviour) -> Box<Script> {
    match protocol {
        Protocol::Imap => Box::new(move |s: &mut Session| imap(s, &behaviour)),
        Protocol::Pop => Box::new(move |s: &mut Session| pop(s, &behaviour)),
        Protocol::Smtp => Box::new(move |s: &mut Session| smtp(s, &behaviour)),
    }
}

/// An IMAP server (RFC 3501) that does CAPABILITY, STARTTLS, AUTHENTICATE, EXAMINE and LOGOUT.
fn imap(s: &mut Session, behaviour: &Behaviour) {
    s.send("* OK fake IMAP ready");
    while let Some(line) = s.line() {
        let [tag, command, argument] = words(&line);
        let command = command.to_ascii_uppercase();
        match command.as_str() {
            "CAPABILITY" => {
                let mut caps = vec!["IMAP4rev1".to_string()];
                if behaviour.offers_starttls(s) {
                    caps.push("STARTTLS".into());
                }
                if behaviour.sasl_ir {
                    caps.push("SASL-IR".into());
                }
                caps.extend(behaviour.mechanisms.iter().map(|m| format!("AUTH={m}")));
                s.send(&format!("* CAPABILITY {}", caps.join(" ")));
                s.send(&format!("{tag} OK CAPABILITY completed"));
            }
            "STARTTLS" if behaviour.offers_starttls(s) => {
                s.send(&format!("{tag} OK Begin TLS negotiation now"));
                s.start_tls();
            }
            "AUTHENTICATE" if !behaviour.offers(argument.split(' ').next().unwrap()) => {
                s.send(&format!(
                    "{tag} NO [CANNOT] Unsupported authentication mechanism"
                ));
            }
            "AUTHENTICATE" => {
                let response = match argument.split_once(' ') {
                    Some((_, initial)) if behaviour.sasl_ir => initial.to_string(),
                    Some(_) => {
                        s.send(&format!("{tag} BAD SASL-IR not offered"));
                        continue;
                    }
                    None => {
                        s.send("+ ");
                        let Some(response) = s.line() else { return };
                        response
                    }
                };
                let why = match behaviour.echo {
                    true => format!("refused {response}"),
                    false => "Authentication failed.".to_string(),
                };
                let ok = format!("{tag} OK Logged in");
                let refusal = format!("{tag} NO [AUTHENTICATIONFAILED] {why}");
                if !behaviour.answer(s, &response, "+ ", &ok, &refusal) {
                    return;
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

/// A POP3 server (RFC 1939, 2449, 5034, 2595) that does CAPA, STLS, AUTH, STAT and QUIT.
fn pop(s: &mut Session, behaviour: &Behaviour) {
    s.send("+OK fake POP3 ready");
    while let Some(line) = s.line() {
        let [command, argument] = words(&line);
        match command.to_ascii_uppercase().as_str() {
            "CAPA" => {
                s.send("+OK Capability list follows");
                s.send("USER");
                if behaviour.offers_starttls(s) {
                    s.send("STLS");
                }
                if !behaviour.mechanisms.is_empty() {
                    s.send(&format!("SASL {}", behaviour.mechanisms.join(" ")));
                }
                s.send(".");
            }
            "STLS" if behaviour.offers_starttls(s) => {
                s.send("+OK Begin TLS negotiation");
                s.start_tls();
            }
            "AUTH" if !behaviour.offers(&argument) => {
                s.send("-ERR Unsupported authentication mechanism.");
            }
            "AUTH" => {
                s.send("+ ");
                let Some(response) = s.line() else { return };
                let refusal = "-ERR [AUTH] Authentication failed.";
                if !behaviour.answer(s, &response, "+ ", "+OK Logged in.", refusal) {
                    return;
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

/// An SMTP submission server (RFC 5321, 3207, 4954) that does EHLO, STARTTLS, AUTH and QUIT.
fn smtp(s: &mut Session, behaviour: &Behaviour) {
    s.send("220 fake.example ESMTP ready");
    while let Some(line) = s.line() {
        let [command, mechanism, initial] = words(&line);
        match command.to_ascii_uppercase().as_str() {
            "EHLO" => {
                let mut lines = vec!["fake.example".to_string()];
                if behaviour.offers_starttls(s) {
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
            "STARTTLS" if behaviour.offers_starttls(s) => {
                s.send("220 2.0.0 Ready to start TLS");
                s.start_tls();
            }
            "AUTH" if !behaviour.offers(&mechanism) => {
                s.send("504 5.5.4 Unrecognized authentication type");
            }
            "AUTH" => {
                let ok = "235 2.7.0 Authentication successful";
                let refusal = "535 5.7.8 Authentication credentials invalid";
                if !behaviour.answer(s, &initial, "334 ", ok, refusal) {
                    return;
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

/// What a client said to an `xoauth2_only` server, after the greeting and the capabilities.
pub enum Said<'a> {
    /// The login, its SASL response read (SMTP's is on the AUTH line itself).
    Login,
    /// Any other command line.
    Command(&'a str),
}

/// How an `xoauth2_only` server answers: given the session, the line's first word (the IMAP tag)
/// and what was said; false ends the conversation.
pub type Answer = fn(&mut Session, &str, Said) -> bool;

/// The plainest greeting of `protocol`.
pub fn greet(s: &mut Session, protocol: Protocol) {
    s.send(match protocol {
        Protocol::Imap => "* OK ready",
        Protocol::Pop => "+OK ready",
        Protocol::Smtp => "220 ready",
    });
}

/// Answers `line` when it asks for the capabilities, offering XOAUTH2 and no STARTTLS; false
/// for any other line, which is the caller's to answer.
pub fn offered_xoauth2_only(s: &mut Session, protocol: Protocol, line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    match protocol {
        Protocol::Imap if upper.contains("CAPABILITY") => {
            let tag = line.split(' ').next().unwrap_or("");
            s.send("* CAPABILITY IMAP4rev1 AUTH=XOAUTH2");
            s.send(&format!("{tag} OK done"));
        }
        Protocol::Pop if upper == "CAPA" => s.send("+OK\r\nSASL XOAUTH2\r\n."),
        Protocol::Smtp if upper.starts_with("EHLO") => s.send("250-x\r\n250 AUTH XOAUTH2"),
        _ => return false,
    }
    true
}

/// A server for `protocol` with the plainest greeting and capabilities, offering XOAUTH2 and no
/// STARTTLS, that leaves the answer to the login and to every other command to `answer`: for
/// servers that misbehave in one place.
pub fn xoauth2_only(protocol: Protocol, answer: Answer) -> impl Fn(&mut Session) + Send + Sync {
    move |s: &mut Session| {
        greet(s, protocol);
        while let Some(line) = s.line() {
            let tag = line.split(' ').next().unwrap_or("").to_string();
            if offered_xoauth2_only(s, protocol, &line) {
                continue;
            }
            let said = match protocol {
                Protocol::Imap if line.contains("AUTHENTICATE") => {
                    s.send("+ ");
                    let _ = s.line();
                    Said::Login
                }
                Protocol::Pop if line == "AUTH XOAUTH2" => {
                    s.send("+ ");
                    let _ = s.line();
                    Said::Login
                }
                Protocol::Smtp if line.starts_with("AUTH") => Said::Login,
                _ => Said::Command(&line),
            };
            if !answer(s, &tag, said) {
                return;
            }
        }
    }
}

/// A server script that fits in a table of test cases.
pub type ScriptFn = fn(&mut Session);
