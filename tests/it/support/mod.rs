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
use mailtoken::encryption::{Crypto, EncryptionOptions, EncryptionSpec};
use mailtoken::provider::{ClientAuth, Registration};
use mailtoken::sasl::SaslMethod;
use mailtoken::secret::Secret;
use mailtoken::tokenfile::Flow;
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
        // As age-keygen and mailtoken write it, with the public key in a comment.
        std::fs::write(
            &identity_path,
            format!(
                "# created: test\n# public key: {}\n{}\n",
                sandbox.identity.to_public(),
                sandbox.identity.to_string().expose_secret()
            ),
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

    /// Runs the binary with a shorter HTTP timeout (seconds).
    pub fn run_with_timeout(&self, args: &[&str], seconds: &str) -> Run {
        Run::from(
            self.command()
                .args(args)
                .env("MAILTOKEN_HTTP_TIMEOUT", seconds)
                .output()
                .expect("mailtoken runs"),
        )
    }

    /// Writes `token` to `path` encrypted as its `encryption` says, mode 0600.
    pub fn write_token(&self, path: &Path, token: &TokenFile) {
        // A pipe runs only when given, as `--encryption-pipe` gives it.
        let options = match &token.encryption {
            EncryptionSpec::Pipe { encrypt } => EncryptionOptions {
                encryption_pipe: Some(encrypt.clone()),
                ..Default::default()
            },
            _ => EncryptionOptions::default(),
        };
        let crypto = Crypto::new(options);
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
        let (plaintext, read_with) = crypto.decrypt(path, &bytes).expect("decrypts");
        TokenFile::parse(&plaintext, || crypto.spec_for_unrecorded(&read_with))
            .expect("parses")
            .0
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
        unknown: None,
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
    /// Further headers (Retry-After, Location, ...).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply {
            status,
            body: value.to_string().into_bytes(),
            content_type: "application/json",
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            body: body.into(),
            content_type,
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
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
                        let mut response = tiny_http::Response::from_data(reply.body)
                            .with_status_code(reply.status)
                            .with_header(header);
                        for (name, value) in &reply.headers {
                            response.add_header(
                                tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes())
                                    .unwrap(),
                            );
                        }
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

// ---------------------------------------------------------------------------------------------
// The --authorize tests: a fake authorization server, a fake browser, and a tiny HTTP client.
// ---------------------------------------------------------------------------------------------

/// The client id the fake authorization server expects.
pub const CLIENT_ID: &str = "test-client";

/// The device code the fake server hands out.
pub const DEVICE_CODE: &str = "device-code-1";

/// The user code the fake server hands out.
pub const USER_CODE: &str = "WDJB-MJHT";

/// How the fake authorization endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthorizeMode {
    /// Redirect with a code.
    Grant,
    /// Redirect with error=access_denied.
    Deny,
}

/// Where the fake server publishes its metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataAt {
    Nowhere,
    /// RFC 8414's /.well-known/oauth-authorization-server.
    OAuth,
    /// Only OpenID Connect's /.well-known/openid-configuration.
    OpenId,
}

/// One code the fake authorization endpoint issued, and what it was issued for.
#[derive(Clone, Debug)]
pub struct Issued {
    pub code_challenge: String,
    pub redirect_uri: String,
    pub client_id: String,
}

/// What the fake authorization server does and has seen.
#[derive(Debug)]
pub struct ProviderState {
    pub url: String,
    pub authorize_mode: AuthorizeMode,
    /// `iss` to add to redirects (RFC 9207), if any.
    pub iss: Option<String>,
    pub codes: BTreeMap<String, Issued>,
    /// Errors the device-code token requests get, in order, before the token.
    pub device_script: std::collections::VecDeque<&'static str>,
    /// Answer authorization_pending for ever.
    pub device_always_pending: bool,
    pub device_interval: Option<u64>,
    pub device_expires_in: u64,
    /// When each device-code token request arrived.
    pub device_polls: Vec<std::time::Instant>,
    pub metadata_at: MetadataAt,
    /// The issuer the metadata claims (defaults to the server URL).
    pub metadata_issuer: Option<String>,
    /// The client secret a confidential client must present.
    pub client_secret: Option<String>,
    /// The answer to any token request, overriding the normal handling (to make one fail).
    pub token_override: Option<Reply>,
}

/// A fake authorization server on FakeServer: /authorize answers with the URL the browser would
/// be redirected to (in the body), /token checks PKCE, state, redirect_uri and the grant's fields.
pub struct FakeProvider {
    pub server: FakeServer,
    pub state: Arc<Mutex<ProviderState>>,
}

impl FakeProvider {
    pub fn start() -> FakeProvider {
        let state = Arc::new(Mutex::new(ProviderState {
            url: String::new(),
            authorize_mode: AuthorizeMode::Grant,
            iss: None,
            codes: BTreeMap::new(),
            device_script: Default::default(),
            device_always_pending: false,
            device_interval: Some(1),
            device_expires_in: 600,
            device_polls: Vec::new(),
            metadata_at: MetadataAt::Nowhere,
            metadata_issuer: None,
            client_secret: None,
            token_override: None,
        }));
        let handler_state = Arc::clone(&state);
        let server = FakeServer::start(move |request| provider_reply(&handler_state, request));
        state.lock().unwrap().url = server.url.clone();
        FakeProvider { server, state }
    }

    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    pub fn with<R>(&self, change: impl FnOnce(&mut ProviderState) -> R) -> R {
        change(&mut self.state.lock().unwrap())
    }

    /// The flags naming this server's endpoints as a custom provider.
    pub fn endpoint_args(&self) -> Vec<String> {
        let url = self.url();
        vec![
            "--provider".into(),
            "testprovider".into(),
            "--authorize-endpoint".into(),
            format!("{url}/authorize"),
            "--token-endpoint".into(),
            format!("{url}/token"),
            "--devicecode-endpoint".into(),
            format!("{url}/device"),
            "--scope".into(),
            "mail offline_access".into(),
            "--imap-endpoint".into(),
            "imaps://imap.example.com:993".into(),
        ]
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Received> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
    }
}

/// The query parameters of a URL or request target.
pub fn query_of(target: &str) -> BTreeMap<String, String> {
    parse_form(target.split_once('?').map_or("", |(_, q)| q))
}

/// RFC 7636 section 4.2: BASE64URL(SHA256(verifier)), no padding.
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn oauth_error(error: &str, description: &str) -> Reply {
    Reply::json(
        400,
        serde_json::json!({"error": error, "error_description": description}),
    )
}

fn provider_reply(state: &Arc<Mutex<ProviderState>>, request: &Received) -> Reply {
    let mut state = state.lock().unwrap();
    let path = request.path.split('?').next().unwrap_or("");
    match (request.method.as_str(), path) {
        ("GET", "/authorize") => authorize_reply(&mut state, &query_of(&request.path)),
        ("POST", "/token") => {
            if let Some(reply) = state.token_override.clone() {
                return reply;
            }
            token_reply(&mut state, request)
        }
        ("POST", "/device") => {
            if request.form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
                return oauth_error("invalid_client", "unknown client_id");
            }
            let mut body = serde_json::json!({
                "device_code": DEVICE_CODE,
                "user_code": USER_CODE,
                "verification_uri": format!("{}/activate", state.url),
                "verification_uri_complete": format!("{}/activate?user_code={USER_CODE}", state.url),
                "expires_in": state.device_expires_in,
            });
            if let Some(interval) = state.device_interval {
                body["interval"] = interval.into();
            }
            Reply::json(200, body)
        }
        ("GET", "/.well-known/oauth-authorization-server")
            if state.metadata_at == MetadataAt::OAuth =>
        {
            Reply::json(200, metadata(&state))
        }
        ("GET", "/.well-known/openid-configuration") if state.metadata_at == MetadataAt::OpenId => {
            Reply::json(200, metadata(&state))
        }
        _ => Reply::raw(404, "text/plain", "not found"),
    }
}

fn metadata(state: &ProviderState) -> serde_json::Value {
    let url = &state.url;
    serde_json::json!({
        "issuer": state.metadata_issuer.clone().unwrap_or_else(|| url.clone()),
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "device_authorization_endpoint": format!("{url}/device"),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": state.iss.is_some(),
    })
}

/// The authorization endpoint: checks the request (RFC 6749 section 4.1.1, RFC 7636 section 4.3)
/// and answers with the redirect the browser would follow.
fn authorize_reply(state: &mut ProviderState, query: &BTreeMap<String, String>) -> Reply {
    let get = |key: &str| query.get(key).cloned().unwrap_or_default();
    let mut problems = Vec::new();
    if get("response_type") != "code" {
        problems.push("response_type must be code");
    }
    if get("client_id") != CLIENT_ID {
        problems.push("unknown client_id");
    }
    if get("code_challenge_method") != "S256" {
        problems.push("code_challenge_method must be S256");
    }
    if get("code_challenge").len() < 43 {
        problems.push("code_challenge missing or short");
    }
    if get("state").is_empty() {
        problems.push("state missing");
    }
    if get("redirect_uri").is_empty() {
        problems.push("redirect_uri missing");
    }
    if !problems.is_empty() {
        return Reply::raw(400, "text/plain", problems.join("; "));
    }
    let redirect_uri = get("redirect_uri");
    let mut location = format!("{redirect_uri}?state={}", mailtoken_encode(&get("state")));
    match state.authorize_mode {
        AuthorizeMode::Deny => location
            .push_str("&error=access_denied&error_description=The+user+declined+the+request"),
        AuthorizeMode::Grant => {
            let code = format!("code-{}", state.codes.len() + 1);
            location.push_str(&format!("&code={code}"));
            state.codes.insert(
                code,
                Issued {
                    code_challenge: get("code_challenge"),
                    redirect_uri,
                    client_id: get("client_id"),
                },
            );
        }
    }
    if let Some(iss) = &state.iss {
        location.push_str(&format!("&iss={}", mailtoken_encode(iss)));
    }
    Reply::raw(200, "text/plain", location)
}

/// The token endpoint for the authorization_code, device_code and client_credentials grants.
fn token_reply(state: &mut ProviderState, request: &Received) -> Reply {
    let form = &request.form;
    let get = |key: &str| form.get(key).cloned().unwrap_or_default();
    let basic_client = request
        .headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .map(|b| {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b)
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&decoded).into_owned();
            let (id, secret) = text.split_once(':').unwrap_or((&text, ""));
            (percent_decode(id), percent_decode(secret))
        });
    let (client_id, client_secret) = match basic_client {
        Some((id, secret)) => (id, Some(secret)),
        None => (get("client_id"), form.get("client_secret").cloned()),
    };
    if client_id != CLIENT_ID {
        return oauth_error("invalid_client", "unknown client_id");
    }
    if let Some(expected) = &state.client_secret
        && client_secret.as_deref() != Some(expected.as_str())
    {
        return oauth_error("invalid_client", "wrong client secret");
    }
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some(issued) = state.codes.remove(&get("code")) else {
                return oauth_error("invalid_grant", "unknown or reused code");
            };
            if s256(&get("code_verifier")) != issued.code_challenge {
                return oauth_error(
                    "invalid_grant",
                    "PKCE verifier does not match the challenge",
                );
            }
            if get("redirect_uri") != issued.redirect_uri {
                return oauth_error(
                    "invalid_grant",
                    "redirect_uri differs from the authorization request",
                );
            }
            if issued.client_id != client_id {
                return oauth_error("invalid_grant", "code issued to another client");
            }
            Reply::token("access-from-code", Some("refresh-from-code"), 3600)
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.device_polls.push(std::time::Instant::now());
            if get("device_code") != DEVICE_CODE {
                return oauth_error("invalid_grant", "unknown device code");
            }
            if state.device_always_pending {
                return oauth_error("authorization_pending", "waiting for the user");
            }
            match state.device_script.pop_front() {
                Some(error) => oauth_error(error, &format!("scripted {error}")),
                None => Reply::token("access-from-device", Some("refresh-from-device"), 3600),
            }
        }
        "client_credentials" => {
            if client_secret.unwrap_or_default().is_empty() {
                return oauth_error("invalid_client", "client authentication required");
            }
            Reply::token("access-from-client-credentials", None, 3600)
        }
        _ => oauth_error("unsupported_grant_type", "not supported here"),
    }
}

/// Percent-encodes a query value.
pub fn mailtoken_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A fake browser: a /bin/sh script for $BROWSER that records the URL it is asked to open.
pub struct FakeBrowser {
    pub script: PathBuf,
    pub record: PathBuf,
}

impl FakeBrowser {
    pub fn new(sandbox: &Sandbox) -> FakeBrowser {
        let script = sandbox.path("browser.sh");
        let record = sandbox.path("browser-url");
        let temporary = sandbox.path("browser-url.tmp");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}' && mv '{}' '{}'\n",
                temporary.display(),
                temporary.display(),
                record.display()
            ),
        )
        .unwrap();
        set_mode(&script, 0o755);
        FakeBrowser { script, record }
    }

    /// The URL the program opened, waiting for it up to ten seconds.
    pub fn opened_url(&self) -> String {
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < give_up {
            if let Ok(text) = std::fs::read_to_string(&self.record) {
                return text.trim().to_string();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the browser was never opened");
    }
}

/// A parsed HTTP answer.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// A plain HTTP/1.1 GET to `addr` for `target`, with `Host: host`, as a browser would send.
pub fn http_get(addr: std::net::SocketAddr, host: &str, target: &str) -> HttpAnswer {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fake-browser\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    HttpAnswer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Splits `http://host:port/target` into the address to connect to (localhost as `loopback`),
/// the Host header and the request target.
pub fn split_url(url: &str, loopback: std::net::IpAddr) -> (std::net::SocketAddr, String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = authority.rsplit_once(':').expect("a port");
    let ip = match host {
        "localhost" => loopback,
        "[::1]" => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        other => other.parse().expect("an IP address"),
    };
    (
        std::net::SocketAddr::new(ip, port.parse().expect("a port number")),
        authority.to_string(),
        target.to_string(),
    )
}

/// GETs an absolute http URL (`localhost` connecting to `loopback`).
pub fn get_url(url: &str, loopback: std::net::IpAddr) -> HttpAnswer {
    let (addr, host, target) = split_url(url, loopback);
    http_get(addr, &host, &target)
}

/// 127.0.0.1.
pub fn ipv4() -> std::net::IpAddr {
    std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST)
}

/// A running `mailtoken`, its stderr read line by line as it comes.
pub struct Running {
    pub child: std::process::Child,
    stderr_lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Starts the binary with `args`, stdin piped, and `$BROWSER` set when given.
    pub fn start(sandbox: &Sandbox, args: &[String], browser: Option<&FakeBrowser>) -> Running {
        let mut command = sandbox.command();
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(browser) = browser {
            command.env("BROWSER", &browser.script);
        }
        let mut child = command.spawn().expect("mailtoken starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, stderr_lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stderr_lines,
            seen: Vec::new(),
        }
    }

    /// Waits (up to ten seconds) for a stderr line containing `needle` and returns it.
    pub fn wait_for_stderr(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let remaining = give_up.saturating_duration_since(std::time::Instant::now());
            match self.stderr_lines.recv_timeout(remaining) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no stderr line with {needle:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Writes `text` to the program's stdin and closes it.
    pub fn type_in(&mut self, text: &str) {
        use std::io::Write;
        let mut stdin = self.child.stdin.take().expect("stdin is open");
        stdin.write_all(text.as_bytes()).unwrap();
    }

    /// Waits for the program to end (it always does: every flow has a deadline).
    pub fn finish(mut self) -> Run {
        drop(self.child.stdin.take());
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        let mut stderr = self.seen.join("\n");
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_secs(5)) {
            stderr.push('\n');
            stderr.push_str(&line);
        }
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// Strings for `args`.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}
