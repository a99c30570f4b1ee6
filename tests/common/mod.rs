//! Shared support for the integration tests: a sandboxed HOME/XDG environment with its own age
//! identity, token files written through the library, the real binary, and an in-process fake
//! OAuth2 token endpoint that records every request it receives.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mailtoken::cli::{Flow, SaslMethod};
use mailtoken::encryption::{Crypto, EncryptionOptions, EncryptionSpec};
use mailtoken::provider::{ClientAuth, Registration};
use mailtoken::secret::Secret;
use mailtoken::tokenfile::{FORMAT_VERSION, TokenFile};

pub mod mail;

/// A private HOME with XDG directories and a default age identity, removed on drop.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub identity: age::x25519::Identity,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let sandbox = Sandbox {
            dir,
            identity: age::x25519::Identity::generate(),
        };
        let identity_path = sandbox.identity_path();
        std::fs::create_dir_all(identity_path.parent().unwrap()).unwrap();
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &identity_path,
            format!("{}\n", sandbox.identity.to_string().expose_secret()),
        )
        .unwrap();
        set_mode(&identity_path, 0o600);
        sandbox
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn identity_path(&self) -> PathBuf {
        self.config_home().join("mailtoken/age-identity.txt")
    }

    /// A path inside the sandbox.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn recipient(&self) -> String {
        self.identity.to_public().to_string()
    }

    /// The age encryption of this sandbox's identity.
    pub fn age_spec(&self) -> EncryptionSpec {
        EncryptionSpec::Age {
            recipients: vec![self.recipient()],
        }
    }

    /// The binary, with nothing from the outer environment that could change its behaviour.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailtoken"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("XDG_DATA_HOME", self.data_home())
            .env("GNUPGHOME", self.dir.path().join("gnupg"))
            .env("MAILTOKEN_HTTP_TIMEOUT", "5")
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        command
    }

    /// Runs the binary with `args` and collects everything.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().expect("mailtoken runs"))
    }

    /// Writes `token` to `path` encrypted as its `encryption` says, mode 0600.
    pub fn write_token(&self, path: &Path, token: &TokenFile) {
        let crypto = Crypto::new(EncryptionOptions::default());
        let ciphertext = crypto
            .encrypt(&token.encryption, &token.to_json())
            .expect("encrypts");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, ciphertext).unwrap();
        set_mode(path, 0o600);
    }

    /// Reads back an age-encrypted token file with the sandbox identity.
    pub fn read_token(&self, path: &Path) -> TokenFile {
        let options = EncryptionOptions {
            age_identity: Some(self.identity_path()),
            ..Default::default()
        };
        let crypto = Crypto::new(options);
        let bytes = std::fs::read(path).unwrap();
        let (plaintext, spec) = crypto.decrypt(path, &bytes).expect("decrypts");
        TokenFile::parse(&plaintext, spec).expect("parses").0
    }
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// A registration whose token endpoint is the fake server.
pub fn test_registration(token_endpoint: &str) -> Registration {
    let mut registration = mailtoken::provider::preset("google", None).unwrap();
    registration.provider = "test".into();
    registration.token_endpoint = token_endpoint.to_string();
    registration.client_auth = ClientAuth::ClientSecretPost;
    registration.sasl_method = SaslMethod::Oauthbearer;
    registration
}

/// A token file for `user@example.com` whose access token expires at `expiry`.
pub fn token_file(
    registration: Registration,
    encryption: EncryptionSpec,
    expiry: DateTime<Utc>,
) -> TokenFile {
    TokenFile {
        version: FORMAT_VERSION,
        registration,
        flow: Flow::Localhostauthcode,
        email: "user@example.com".into(),
        client_id: "test-client".into(),
        client_secret: Some(Secret::new("test-secret")),
        access_token: Secret::new("cached-access-token"),
        access_token_expiry: expiry,
        access_token_obtained: Some(expiry - chrono::Duration::hours(1)),
        refresh_token: Some(Secret::new("refresh-1")),
        granted_scope: None,
        encryption,
    }
}

/// One request the fake server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The body's form fields (application/x-www-form-urlencoded), decoded.
    pub form: BTreeMap<String, String>,
}

/// The fake server's answer to one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply {
            status,
            body: value.to_string().into_bytes(),
            content_type: "application/json",
            delay: Duration::ZERO,
        }
    }

    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            body: body.into(),
            content_type,
            delay: Duration::ZERO,
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// A standard successful token response.
    pub fn token(access_token: &str, refresh_token: Option<&str>, expires_in: u64) -> Reply {
        let mut body = serde_json::json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": expires_in,
        });
        if let Some(refresh_token) = refresh_token {
            body["refresh_token"] = refresh_token.into();
        }
        Reply::json(200, body)
    }
}

type Handler = dyn Fn(&Received) -> Reply + Send + Sync;

/// An HTTP server on 127.0.0.1:0 that answers with `handler` and records every request.
pub struct FakeServer {
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    server: Arc<tiny_http::Server>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> FakeServer {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("binds"));
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let thread = {
            let server = Arc::clone(&server);
            let received = Arc::clone(&received);
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let recorded = record(&mut request);
                    received.lock().unwrap().push(recorded.clone());
                    let handler = Arc::clone(&handler);
                    // Each answer on its own thread, so a delayed one does not stall the others.
                    std::thread::spawn(move || {
                        let reply = handler(&recorded);
                        std::thread::sleep(reply.delay);
                        let header =
                            tiny_http::Header::from_bytes("Content-Type", reply.content_type)
                                .unwrap();
                        let response = tiny_http::Response::from_data(reply.body)
                            .with_status_code(reply.status)
                            .with_header(header);
                        let _ = request.respond(response);
                    });
                }
            })
        };
        FakeServer {
            url,
            received,
            server,
            thread: Some(thread),
        }
    }

    /// The token endpoint URL on this server.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.url)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn record(request: &mut tiny_http::Request) -> Received {
    let mut body = String::new();
    let _ = request
        .as_reader()
        .take(1024 * 1024)
        .read_to_string(&mut body);
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    Received {
        method: request.method().as_str().to_string(),
        path: request.url().to_string(),
        headers,
        form: parse_form(&body),
        body,
    }
}

/// Decodes `application/x-www-form-urlencoded`.
pub fn parse_form(body: &str) -> BTreeMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Expected form fields, for exact comparisons.
pub fn form(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
