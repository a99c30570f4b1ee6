//! A fake OAuth2 authorization server for the `--authorize` tests: /authorize answers with the
//! redirect a browser would follow, /token checks PKCE, state, the redirect URI and each grant's
//! fields as RFC 6749, 7636 and 8628 say, /device starts a device flow, and the metadata is
//! served where the test wants it. What it does is the test's to change (`with`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::http::{FakeServer, Received, Reply, percent_decode, percent_encode, query_of};
use super::sandbox::strings;

/// The client id the fake authorization server expects.
pub const CLIENT_ID: &str = "test-client";

/// The device code the fake server hands out.
pub const DEVICE_CODE: &str = "device-code-1";

/// The user code the fake server hands out.
pub const USER_CODE: &str = "WDJB-MJHT";

/// The sign-in flags of a person: an address, the public client the fake server knows, no secret.
pub const PERSON: [&str; 6] = [
    "--email",
    "user@example.com",
    "--client-id",
    CLIENT_ID,
    "--client-secret",
    "",
];

/// The sign-in flags of a service (clientcredentials): an address, the client and its secret.
pub const SERVICE: [&str; 6] = [
    "--email",
    "robot@example.com",
    "--client-id",
    CLIENT_ID,
    "--client-secret",
    "s3cret",
];

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

/// How the fake registration endpoint (RFC 7591) answers, when the metadata names one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registering {
    /// A public client as asked, with the client id the server knows.
    AsAsked,
    /// glewlwyd 2.7.5's quirk (issue 34): with `token_endpoint_auth_method: none` a confidential
    /// client without a secret, without the member a public one.
    ConfidentialWhenAskedForNone,
    /// A confidential client without a secret, whatever is asked.
    AlwaysConfidential,
    /// glewlwyd 2.7.5 as the end-to-end suite sees it (scenario 43): 200, the request's members
    /// echoed with `client_id`, `client_id_issued_at` and `client_secret_expires_at`, nothing
    /// else; asked for `token_endpoint_auth_method: none`, the answer still says `none`, but the
    /// client is confidential without a secret, and the token endpoint refuses it 403
    /// `{"error":"unauthorized_client"}`. Without the member, a public client.
    GlewlwydObserved,
    /// glewlwyd's refusal of a redirect it does not take.
    RefuseRedirect,
    /// 401 with no body: registration needs an initial access token.
    Unauthorized,
}

/// One code the fake authorization endpoint issued, and what it was issued for.
#[derive(Clone, Debug)]
pub struct Issued {
    pub code_challenge: String,
    pub redirect_uri: String,
    pub client_id: String,
    /// The authorization request's `nonce` (OpenID Connect Core 3.1.2.1), empty when none.
    pub nonce: String,
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
    /// `scopes_supported` in the metadata (RFC 8414 section 2), when published.
    pub scopes_supported: Option<Vec<&'static str>>,
    /// Who signs in, when the token responses of the code and device grants carry an ID token
    /// (OpenID Connect Core 3.1.3.3): its `email`, with the issuer, audience, expiry and the
    /// authorization request's nonce as a real provider sends them.
    pub id_token_user: Option<String>,
    /// A change to every ID token's claims before it is sent (a wrong nonce, issuer...).
    pub id_token_edit: Option<fn(&mut serde_json::Value)>,
    /// The access token the code and device grants issue, instead of an opaque one.
    pub access_token: Option<String>,
    /// Who the UserInfo endpoint (`/userinfo`, published in the metadata) says signed in; it
    /// answers only the bearer of the access token it issued.
    pub userinfo_user: Option<String>,
    /// Publish `/revoke` (RFC 7009) in the metadata.
    pub revocation: bool,
    /// A registration endpoint in the metadata, and how it answers.
    pub registering: Option<Registering>,
    /// What `/revoke` answers, instead of 200.
    pub revocation_answer: Option<Reply>,
    /// `token_endpoint_auth_methods_supported` in the metadata (RFC 8414 section 2), if any.
    pub auth_methods: Option<Vec<&'static str>>,
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
            // What oidc-provider, the end-to-end suite's provider, publishes with its default
            // configuration (`scopes: ['openid', 'offline_access']`).
            scopes_supported: Some(vec!["openid", "offline_access"]),
            id_token_user: None,
            id_token_edit: None,
            access_token: None,
            userinfo_user: None,
            revocation: false,
            registering: None,
            revocation_answer: None,
            auth_methods: None,
        }));
        let handler_state = Arc::clone(&state);
        let server = FakeServer::start(move |request| provider_reply(&handler_state, request));
        state.lock().unwrap().url = server.url.clone();
        FakeProvider { server, state }
    }

    /// A provider whose clients must authenticate with the secret `SERVICE` gives.
    pub fn for_service() -> FakeProvider {
        let provider = FakeProvider::start();
        provider.with(|s| s.client_secret = Some(SERVICE[5].into()));
        provider
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

    /// `PATH --authorize --authflow FLOW`, the sign-in flags `who` (`PERSON`, `SERVICE`) and
    /// `extra`, then this server's endpoints: a first sign-in at this provider.
    pub fn sign_in(&self, path: &Path, flow: &str, who: &[&str], extra: &[&str]) -> Vec<String> {
        let mut args = strings(&[path.to_str().unwrap(), "--authorize", "--authflow", flow]);
        args.extend(strings(who));
        args.extend(strings(extra));
        args.extend(self.endpoint_args());
        args
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Received> {
        self.server.requests_to(prefix)
    }
}

/// RFC 7636 section 4.2: BASE64URL(SHA256(verifier)), no padding.
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
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
                return Reply::oauth_error(400, "invalid_client", "unknown client_id");
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
        ("GET", "/userinfo") => {
            let bearer = request
                .headers
                .get("authorization")
                .cloned()
                .unwrap_or_default();
            let issued = state
                .access_token
                .clone()
                .unwrap_or("access-from-code".into());
            match &state.userinfo_user {
                Some(user) if bearer == format!("Bearer {issued}") => {
                    Reply::json(200, serde_json::json!({"sub": "subject-1", "email": user}))
                }
                _ => Reply::raw(401, "text/plain", ""),
            }
        }
        ("POST", "/register") if state.registering.is_some() => register_reply(&state, request),
        ("POST", "/revoke") => {
            state
                .revocation_answer
                .clone()
                .unwrap_or(Reply::raw(200, "text/plain", ""))
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
    let mut metadata = serde_json::json!({
        "issuer": state.metadata_issuer.clone().unwrap_or_else(|| url.clone()),
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "device_authorization_endpoint": format!("{url}/device"),
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": state.iss.is_some(),
    });
    if let Some(scopes) = &state.scopes_supported {
        metadata["scopes_supported"] = serde_json::json!(scopes);
    }
    if state.userinfo_user.is_some() {
        metadata["userinfo_endpoint"] = format!("{url}/userinfo").into();
    }
    if state.revocation {
        metadata["revocation_endpoint"] = format!("{url}/revoke").into();
    }
    if state.registering.is_some() {
        metadata["registration_endpoint"] = format!("{url}/register").into();
    }
    if let Some(methods) = &state.auth_methods {
        metadata["token_endpoint_auth_methods_supported"] = serde_json::json!(methods);
    }
    metadata
}

/// A token response of the code or device grant: the access token the test chose (or `access`),
/// a refresh token, and an ID token when the test says who signs in.
fn user_token_reply(state: &ProviderState, access: &str, refresh: &str, nonce: &str) -> Reply {
    let access = state.access_token.as_deref().unwrap_or(access);
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": refresh,
    });
    if let Some(user) = &state.id_token_user {
        let mut claims = serde_json::json!({
            "iss": state.metadata_issuer.clone().unwrap_or_else(|| state.url.clone()),
            "sub": "subject-1",
            "aud": CLIENT_ID,
            "exp": chrono::Utc::now().timestamp() + 3600,
            "iat": chrono::Utc::now().timestamp(),
            "email": user,
        });
        if !nonce.is_empty() {
            claims["nonce"] = nonce.into();
        }
        if let Some(edit) = state.id_token_edit {
            edit(&mut claims);
        }
        body["id_token"] = unsigned_jwt(&claims).into();
    }
    Reply::json(200, body)
}

/// A JWT with these claims and a signature nobody checks (mailtoken reads an ID token it got
/// straight from the token endpoint without its signature, OpenID Connect Core 3.1.3.7 step 6).
pub fn unsigned_jwt(claims: &serde_json::Value) -> String {
    use base64::Engine;
    let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    format!(
        "{}.{}.c2lnbmF0dXJl",
        encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        encode(claims.to_string().as_bytes())
    )
}

/// The registration endpoint: RFC 7591 section 3.2.1's answer (201, the metadata registered,
/// a registration access token), or the refusal or quirk the test chose.
fn register_reply(state: &ProviderState, request: &Received) -> Reply {
    let Ok(asked) = serde_json::from_str::<serde_json::Value>(&request.body) else {
        return Reply::oauth_error(400, "invalid_client_metadata", "not JSON");
    };
    let says_none = asked.get("token_endpoint_auth_method").is_some();
    let mut answer = asked.clone();
    answer["client_id"] = CLIENT_ID.into();
    answer["registration_access_token"] = "registration-token-1".into();
    answer["registration_client_uri"] = format!("{}/register/{CLIENT_ID}", state.url).into();
    match state.registering.unwrap() {
        Registering::AsAsked => {}
        Registering::ConfidentialWhenAskedForNone if !says_none => {}
        Registering::ConfidentialWhenAskedForNone | Registering::AlwaysConfidential => {
            // RECONSTRUCTED: glewlwyd's client object marks it `confidential` (its source); the
            // answer's other members are as asked.
            answer["client_id"] = "confidential-client".into();
            answer["confidential"] = true.into();
        }
        // glewlwyd 2.7.5, protocol_oidc.c, is_client_registration_valid.
        Registering::GlewlwydObserved => {
            let mut echoed = asked.clone();
            echoed["client_id"] = if says_none {
                "confidential-client"
            } else {
                CLIENT_ID
            }
            .into();
            echoed["client_id_issued_at"] = 1_796_534_935.into();
            echoed["client_secret_expires_at"] = 0.into();
            return Reply::json(200, echoed);
        }
        Registering::RefuseRedirect => {
            return Reply::oauth_error(
                400,
                "invalid_redirect_uri",
                "a redirect_uri must be a 'https://' uri or a 'http://localhost' uri without credentials",
            );
        }
        Registering::Unauthorized => return Reply::raw(401, "text/plain", ""),
    }
    Reply::json(201, answer)
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
    let mut location = format!("{redirect_uri}?state={}", percent_encode(&get("state")));
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
                    nonce: get("nonce"),
                },
            );
        }
    }
    if let Some(iss) = &state.iss {
        location.push_str(&format!("&iss={}", percent_encode(iss)));
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
    // A client registered confidential without a secret (glewlwyd's answer, observed).
    if client_id == "confidential-client" {
        return Reply::json(403, serde_json::json!({"error": "unauthorized_client"}));
    }
    if client_id != CLIENT_ID {
        return Reply::oauth_error(400, "invalid_client", "unknown client_id");
    }
    if let Some(expected) = &state.client_secret
        && client_secret.as_deref() != Some(expected.as_str())
    {
        return Reply::oauth_error(400, "invalid_client", "wrong client secret");
    }
    match get("grant_type").as_str() {
        "authorization_code" => {
            let Some(issued) = state.codes.remove(&get("code")) else {
                return Reply::oauth_error(400, "invalid_grant", "unknown or reused code");
            };
            if s256(&get("code_verifier")) != issued.code_challenge {
                return Reply::oauth_error(
                    400,
                    "invalid_grant",
                    "PKCE verifier does not match the challenge",
                );
            }
            if get("redirect_uri") != issued.redirect_uri {
                return Reply::oauth_error(
                    400,
                    "invalid_grant",
                    "redirect_uri differs from the authorization request",
                );
            }
            if issued.client_id != client_id {
                return Reply::oauth_error(400, "invalid_grant", "code issued to another client");
            }
            user_token_reply(
                state,
                "access-from-code",
                "refresh-from-code",
                &issued.nonce,
            )
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            state.device_polls.push(std::time::Instant::now());
            if get("device_code") != DEVICE_CODE {
                return Reply::oauth_error(400, "invalid_grant", "unknown device code");
            }
            if state.device_always_pending {
                return Reply::oauth_error(400, "authorization_pending", "waiting for the user");
            }
            match state.device_script.pop_front() {
                Some(error) => Reply::oauth_error(400, error, &format!("scripted {error}")),
                None => user_token_reply(state, "access-from-device", "refresh-from-device", ""),
            }
        }
        "client_credentials" => {
            if client_secret.unwrap_or_default().is_empty() {
                return Reply::oauth_error(400, "invalid_client", "client authentication required");
            }
            Reply::token("access-from-client-credentials", None, 3600)
        }
        _ => Reply::oauth_error(400, "unsupported_grant_type", "not supported here"),
    }
}
