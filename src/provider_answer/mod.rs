//! What an authorization server's "no" means: one table from the answers real providers give to
//! the exit status, the reason in words and the flag that fixes it.
//!
//! Every failure at the token endpoint (RFC 6749 section 5.2), the device authorization endpoint
//! (RFC 8628 section 3.2), the device poll (RFC 8628 section 3.5) and in the browser's redirect
//! (RFC 6749 section 4.1.2.1) is read into one [`ProviderAnswer`] and judged by [`RULES`], so the
//! same error code means the same thing wherever it arrives. The rule that decides most: exit 77
//! ("sign in again") only when signing in again can succeed; when it would fail the same way the
//! answer is a configuration problem (78) and the hint names the flag to change.
//!
//! Microsoft's answers carry an AADSTS number (in `error_codes` and in the description) that says
//! far more than the OAuth2 code, and trace and correlation ids that Microsoft's support asks for;
//! Yahoo and AOL put an `errorId` inside an `error` object. All of it is kept, sanitised for the
//! terminal and bounded in length.

use std::collections::HashMap;

use crate::error::{Error, ExitStatus};
use crate::log;

/// The longest provider description shown; Microsoft's run to several hundred characters.
const MAX_DESCRIPTION: usize = 300;

/// Where an answer came from: the same code can need a different fix at another endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The refresh_token or client_credentials grant, or the code exchange.
    Token,
    /// The device authorization request (RFC 8628 section 3.1).
    DeviceAuthorization,
    /// A device access token poll (RFC 8628 section 3.4).
    DevicePoll,
    /// The authorization response the browser brought back.
    Redirect,
    /// A token revocation request (RFC 7009 section 2.1), for `--revoke`.
    Revocation,
}

/// What the body of a failed HTTP exchange was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A JSON document (an OAuth2 error, usually).
    Json,
    /// An HTML page: a proxy, a captive portal or a misconfigured server, never an OAuth2 answer.
    /// Its title, when it has one, says whose page it is.
    Html(Option<String>),
    Empty,
    /// Anything else, its start kept (sanitised) for the message.
    Text(String),
}

/// One error answer, reduced to what a person and the rules need. Nothing in it is secret:
/// error responses carry no tokens (RFC 6749 section 5.2), and only named fields are kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderAnswer {
    /// The HTTP status; `None` for a browser redirect.
    pub http_status: Option<u16>,
    /// `Retry-After` (RFC 9110 section 10.2.3), as sent.
    pub retry_after: Option<String>,
    /// `Location` of a redirect, for a 3xx from an endpoint that should not redirect.
    pub location: Option<String>,
    /// The OAuth2 `error` code (or Google's API-style `status`, Yahoo's `errorId`).
    pub error: Option<String>,
    pub description: Option<String>,
    /// Microsoft's `error_subcode` in redirects (`cancel` when the user cancelled).
    pub subcode: Option<String>,
    /// Microsoft's AADSTS number.
    pub aadsts: Option<u32>,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    pub body: Option<Body>,
}

impl ProviderAnswer {
    /// Reads an HTTP answer: status, the headers that matter and the body, whatever it is.
    pub fn from_http(
        status: u16,
        content_type: Option<&str>,
        retry_after: Option<&str>,
        location: Option<&str>,
        body: &[u8],
    ) -> ProviderAnswer {
        let mut answer = ProviderAnswer {
            http_status: Some(status),
            retry_after: retry_after.map(log::sanitize),
            location: location.map(log::sanitize),
            ..ProviderAnswer::default()
        };
        let text = String::from_utf8_lossy(body);
        let trimmed = text.trim_start();
        let html = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("html"))
            || trimmed.starts_with('<');
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(members)) => {
                answer.body = Some(Body::Json);
                answer.read_json(&members);
            }
            _ if body.iter().all(u8::is_ascii_whitespace) => answer.body = Some(Body::Empty),
            _ if html => answer.body = Some(Body::Html(html_title(&text))),
            _ => {
                answer.body = Some(Body::Text(bounded(&log::sanitize(trimmed), 120)));
            }
        }
        answer.finish();
        answer
    }

    /// Reads the error parameters of an authorization response (RFC 6749 section 4.1.2.1).
    pub fn from_redirect(parameters: &HashMap<String, String>) -> ProviderAnswer {
        let get = |name: &str| parameters.get(name).map(|v| log::sanitize(v));
        let mut answer = ProviderAnswer {
            error: get("error"),
            description: get("error_description"),
            subcode: get("error_subcode"),
            trace_id: get("trace_id"),
            correlation_id: get("correlation_id"),
            ..ProviderAnswer::default()
        };
        answer.finish();
        answer
    }

    fn read_json(&mut self, members: &serde_json::Map<String, serde_json::Value>) {
        let text = |value: Option<&serde_json::Value>| -> Option<String> {
            match value? {
                serde_json::Value::String(s) if !s.trim().is_empty() => Some(log::sanitize(s)),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }
        };
        match members.get("error") {
            // Yahoo and AOL: {"error":{"errorId":"INVALID_REFRESH_TOKEN","message":...}};
            // Google's API style: {"error":{"code":400,"message":...,"status":"INVALID_ARGUMENT"}}.
            Some(serde_json::Value::Object(inner)) => {
                self.error = text(inner.get("errorId"))
                    .or_else(|| text(inner.get("error")))
                    .or_else(|| text(inner.get("status")))
                    .or_else(|| text(inner.get("code")));
                self.description = text(inner.get("localizedMessage"))
                    .or_else(|| text(inner.get("message")))
                    .or_else(|| text(inner.get("description")));
            }
            other => {
                self.error = text(other);
                self.description = text(members.get("error_description"));
            }
        }
        self.subcode = text(members.get("suberror")).or_else(|| text(members.get("error_subcode")));
        self.trace_id = text(members.get("trace_id"));
        self.correlation_id = text(members.get("correlation_id"));
        self.aadsts = members
            .get("error_codes")
            .and_then(|codes| codes.as_array()?.first()?.as_u64())
            .and_then(|code| u32::try_from(code).ok());
    }

    /// Fills in what only the description says (Microsoft's redirects carry the AADSTS number and
    /// the ids only there), and shortens the description to what is worth showing.
    fn finish(&mut self) {
        if let Some(description) = &self.description {
            if self.aadsts.is_none() {
                self.aadsts = aadsts_in(description);
            }
            if self.trace_id.is_none() {
                self.trace_id = id_after(description, "Trace ID:");
            }
            if self.correlation_id.is_none() {
                self.correlation_id = id_after(description, "Correlation ID:");
            }
            // The ids are shown on their own; the rest of the tail is a timestamp.
            let head = description
                .split("Trace ID:")
                .next()
                .unwrap_or(description)
                .trim();
            self.description = Some(bounded(head, MAX_DESCRIPTION)).filter(|d| !d.is_empty());
        }
    }

    /// True when the HTTP status itself says "try again later" (RFC 9110 sections 15.5.9 and
    /// 15.6, RFC 6585 section 4), whatever the body says.
    pub fn is_transient_status(&self) -> bool {
        self.http_status
            .is_some_and(|s| s == 408 || s == 429 || (500..=599).contains(&s))
    }

    /// What the provider said, in one line: HTTP status, code, AADSTS number, description, ids.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        // RFC 6749 section 5.2 sends errors with 400: the status only says something otherwise.
        if let Some(status) = self.http_status
            && (status != 400 || self.error.is_none())
        {
            parts.push(format!("HTTP status {status}"));
        }
        // "invalid_grant: AADSTS70008: ..." as providers write it, and as users search for it.
        let mut said = self.error.clone().unwrap_or_default();
        if let Some(subcode) = &self.subcode {
            said.push_str(&format!(" ({subcode})"));
        }
        match (&self.description, self.aadsts) {
            (Some(description), _) => {
                if !said.is_empty() {
                    said.push_str(": ");
                }
                said.push_str(description);
            }
            (None, Some(number)) => said.push_str(&format!(" AADSTS{number}")),
            _ => {}
        }
        if !said.is_empty() {
            parts.push(said.trim().to_string());
        }
        match &self.body {
            Some(Body::Html(None)) => parts.push("an HTML page, not an OAuth2 answer".into()),
            Some(Body::Html(Some(title))) => {
                parts.push(format!("an HTML page, not an OAuth2 answer: {title:?}"));
            }
            Some(Body::Text(start)) if self.error.is_none() => parts.push(format!("{start:?}")),
            Some(Body::Empty) if self.http_status.is_some() => parts.push("no body".into()),
            _ => {}
        }
        if let Some(location) = &self.location {
            parts.push(format!("redirecting to {location}"));
        }
        let mut line = parts.join(", ");
        let ids: Vec<String> = [
            ("trace id", &self.trace_id),
            ("correlation id", &self.correlation_id),
        ]
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
        .collect();
        if !ids.is_empty() {
            line.push_str(&format!(" ({})", ids.join(", ")));
        }
        if let Some(retry_after) = &self.retry_after {
            line.push_str(&format!("; it asks to wait {retry_after} before retrying"));
        }
        line
    }
}

/// The text of an HTML page's `<title>`, sanitised and bounded.
fn html_title(page: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    let title = bounded(&log::sanitize(&page[start..end]), 120);
    Some(title).filter(|t| !t.is_empty())
}

/// `AADSTS700082` anywhere in a text.
fn aadsts_in(text: &str) -> Option<u32> {
    let start = text.find("AADSTS")? + "AADSTS".len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The word after a label such as `Trace ID:`.
fn id_after(text: &str, label: &str) -> Option<String> {
    let start = text.find(label)? + label.len();
    text[start..].split_whitespace().next().map(str::to_string)
}

fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max).collect();
    short.push('…');
    short
}

/// What the user has to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// Sign in again: the login is gone, a new one will work.
    SignIn,
    /// Sign in again, and an administrator may have to consent first.
    SignInWithConsent,
    /// Nothing now: try again later.
    Later,
    /// Change this flag (with `--authorize`), because signing in as before fails the same way.
    Flag(&'static str),
    /// The missing parameter named in the description decides the flag (AADSTS900144).
    MissingParameter,
    /// Microsoft: the app registration must allow public client flows.
    AllowPublicClientFlows,
    /// The provider's administrator (or account settings) must change something.
    Administrator,
    /// Something in the registration is wrong and the answer does not say what.
    Registration,
}

/// What an answer is matched on, most specific first.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    /// Microsoft's AADSTS number.
    Aadsts(u32),
    /// An error code together with words in its description (Google reuses invalid_request).
    CodeSaying(&'static str, &'static str),
    /// The error code (OAuth2's, Google's API status, or Yahoo's errorId).
    Code(&'static str),
    /// A code at one endpoint only.
    CodeAt(&'static str, Endpoint),
}

/// One row of the classification table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub key: Key,
    pub status: ExitStatus,
    /// What happened, in words, for the message.
    pub meaning: &'static str,
    pub fix: Fix,
}

const fn rule(key: Key, status: ExitStatus, meaning: &'static str, fix: Fix) -> Rule {
    Rule {
        key,
        status,
        meaning,
        fix,
    }
}

use ExitStatus::{Config, Reauthorize, Temporary};
use Key::{Aadsts, Code, CodeAt, CodeSaying};

/// The classification table, first match wins. README "When the provider says no" and the man
/// page list the same rows (a test keeps them in step).
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // Microsoft Entra: the AADSTS number decides (learn.microsoft.com, "Microsoft Entra
    // authentication and authorization error codes").
    rule(Aadsts(700082), Reauthorize, "Microsoft drops refresh tokens unused for 90 days", Fix::SignIn),
    rule(Aadsts(50173), Reauthorize, "the grant was revoked, for example after a password change", Fix::SignIn),
    rule(Aadsts(70043), Reauthorize, "the organisation's sign-in frequency policy requires a new sign-in", Fix::SignIn),
    rule(Aadsts(50076), Reauthorize, "multi-factor authentication is now required", Fix::SignIn),
    rule(Aadsts(50079), Reauthorize, "the account must register for multi-factor authentication", Fix::SignIn),
    rule(Aadsts(50078), Reauthorize, "the multi-factor authentication has expired", Fix::SignIn),
    rule(Aadsts(65001), Reauthorize, "the app has no consent for these permissions", Fix::SignInWithConsent),
    rule(Aadsts(65004), Reauthorize, "consent to the app was declined", Fix::SignInWithConsent),
    rule(Aadsts(70008), Reauthorize, "the refresh token or code has expired", Fix::SignIn),
    rule(Aadsts(54005), Reauthorize, "the authorization code was already used", Fix::SignIn),
    rule(Aadsts(700084), Reauthorize, "the refresh token has reached its maximum lifetime", Fix::SignIn),
    rule(Aadsts(900144), Config, "the request lacks a parameter the app registration needs", Fix::MissingParameter),
    rule(Aadsts(50011), Config, "the redirect URI is not registered for the app", Fix::Flag("--redirect-uri")),
    rule(Aadsts(500113), Config, "the app registration has no redirect URI", Fix::Flag("--redirect-uri")),
    rule(Aadsts(50059), Config, "the request names no tenant the app can be found in", Fix::Flag("--tenant")),
    rule(Aadsts(90002), Config, "the tenant does not exist", Fix::Flag("--tenant")),
    rule(Aadsts(900023), Config, "the tenant name is not valid", Fix::Flag("--tenant")),
    rule(Aadsts(700016), Config, "the app (client id) is not known in this tenant", Fix::Flag("--client-id")),
    rule(Aadsts(7000218), Config, "the app registration does not allow public client flows", Fix::AllowPublicClientFlows),
    rule(Aadsts(7000215), Config, "the client secret is wrong (the secret's id was given instead of its value?)", Fix::Flag("--client-secret")),
    rule(Aadsts(7000222), Config, "the client secret has expired", Fix::Flag("--client-secret")),
    rule(Aadsts(70011), Config, "the scope is not valid for this provider", Fix::Flag("--scope")),
    rule(Aadsts(50194), Config, "the app is single-tenant and cannot use the common endpoint", Fix::Flag("--tenant")),
    rule(Aadsts(50020), Config, "the account does not belong to this tenant", Fix::Flag("--tenant")),
    rule(Aadsts(90072), Config, "the account does not belong to this tenant", Fix::Flag("--tenant")),
    rule(Aadsts(500011), Config, "the resource named in the scope does not exist in this tenant", Fix::Flag("--scope")),
    rule(Aadsts(7000112), Config, "the app is disabled", Fix::Flag("--client-id")),
    rule(Aadsts(53003), Config, "access is blocked by a Conditional Access policy", Fix::Administrator),
    rule(Aadsts(50057), Config, "the account is disabled", Fix::Administrator),
    rule(Aadsts(90033), Temporary, "Microsoft reports a transient error", Fix::Later),
    rule(Aadsts(50196), Temporary, "Microsoft saw too many requests in a row", Fix::Later),
    // Google answers several registration mistakes with invalid_request and words.
    rule(CodeSaying("invalid_request", "client_secret is missing"), Config, "the client is confidential and no client secret was sent", Fix::Flag("--client-secret")),
    rule(CodeSaying("invalid_client", "client was not found"), Config, "the client id is not known to the provider", Fix::Flag("--client-id")),
    rule(CodeSaying("invalid_client", "unauthorized"), Config, "the client secret does not belong to the client id", Fix::Flag("--client-secret")),
    rule(CodeSaying("invalid_request", "refresh token parameter cannot be empty"), Reauthorize, "no refresh token reached the provider", Fix::SignIn),
    rule(CodeSaying("invalid_request", "redirect_uri"), Config, "the redirect URI is not accepted for this client", Fix::Flag("--redirect-uri")),
    // Google's device flow allows only a few scopes, and the Gmail scope is not one of them.
    rule(CodeAt("invalid_scope", Endpoint::DeviceAuthorization), Config, "the device flow does not allow this scope", Fix::Flag("--authflow")),
    // RFC 7009 section 2.2.1: the server cannot revoke this kind of token.
    rule(CodeAt("unsupported_token_type", Endpoint::Revocation), Config, "the provider does not revoke this kind of token", Fix::Registration),
    // RFC 6749 section 5.2 and 4.1.2.1, RFC 8628 section 3.5.
    rule(Code("invalid_grant"), Reauthorize, "the login has ended", Fix::SignIn),
    rule(Code("INVALID_REFRESH_TOKEN"), Reauthorize, "the refresh token is no longer valid", Fix::SignIn),
    rule(Code("INVALID_AUTHORIZATION_CODE"), Reauthorize, "the authorization code is no longer valid", Fix::SignIn),
    rule(Code("expired_token"), Reauthorize, "the device code expired before the sign-in was completed", Fix::SignIn),
    rule(Code("access_denied"), Reauthorize, "the sign-in was refused", Fix::SignInWithConsent),
    rule(Code("authorization_declined"), Reauthorize, "the sign-in was refused", Fix::SignInWithConsent),
    rule(Code("consent_required"), Reauthorize, "the app needs consent", Fix::SignInWithConsent),
    rule(Code("interaction_required"), Reauthorize, "the provider needs you to sign in interactively", Fix::SignIn),
    rule(Code("login_required"), Reauthorize, "the provider needs you to sign in", Fix::SignIn),
    rule(Code("invalid_client"), Config, "the provider does not accept the client id or secret", Fix::Flag("--client-id")),
    rule(Code("INVALID_CLIENT_SECRET"), Config, "the client secret is wrong", Fix::Flag("--client-secret")),
    rule(CodeSaying("INVALID_INPUT", "client id"), Config, "the client id is missing or wrong", Fix::Flag("--client-id")),
    rule(Code("INVALID_INPUT"), Config, "the provider refused the request as malformed", Fix::Registration),
    rule(Code("INVALID_CLIENT"), Config, "the provider does not accept the client id or secret", Fix::Flag("--client-id")),
    rule(CodeAt("unauthorized_client", Endpoint::DeviceAuthorization), Config, "the client may not use the device flow", Fix::Flag("--authflow")),
    rule(Code("unauthorized_client"), Config, "the client id and secret do not belong together, or the client may not use this grant", Fix::Flag("--client-id")),
    rule(Code("unsupported_grant_type"), Config, "the provider does not offer this flow to the client", Fix::Flag("--authflow")),
    rule(Code("unsupported_response_type"), Config, "the provider does not offer this flow to the client", Fix::Flag("--authflow")),
    rule(Code("invalid_scope"), Config, "the scope is not valid for this client", Fix::Flag("--scope")),
    rule(Code("redirect_uri_mismatch"), Config, "the redirect URI is not registered for the client", Fix::Flag("--redirect-uri")),
    rule(Code("invalid_tenant"), Config, "the tenant does not exist", Fix::Flag("--tenant")),
    rule(Code("admin_policy_enforced"), Config, "the organisation's administrator does not allow this app", Fix::Administrator),
    rule(Code("org_internal"), Config, "the app is limited to another organisation's users", Fix::Flag("--client-id")),
    rule(Code("invalid_request"), Config, "the provider refused the request as malformed", Fix::Registration),
    rule(Code("temporarily_unavailable"), Temporary, "the provider is temporarily unavailable", Fix::Later),
    rule(Code("server_error"), Temporary, "the provider had an internal error", Fix::Later),
    rule(Code("ACCESS_TOKEN_GENERATION_FAILED"), Temporary, "the provider failed to issue a token", Fix::Later),
];

/// The verdict on one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: ExitStatus,
    pub meaning: &'static str,
    pub fix: Fix,
}

impl Rule {
    fn matches(&self, answer: &ProviderAnswer, endpoint: Endpoint) -> bool {
        let code = answer.error.as_deref().unwrap_or("");
        match self.key {
            Key::Aadsts(number) => answer.aadsts == Some(number),
            Key::CodeSaying(wanted, words) => {
                code == wanted
                    && answer
                        .description
                        .as_deref()
                        .is_some_and(|d| d.to_ascii_lowercase().contains(words))
            }
            Key::Code(wanted) => code == wanted,
            Key::CodeAt(wanted, at) => code == wanted && endpoint == at,
        }
    }
}

/// Judges one answer. The HTTP status decides first when it says "later"; then the rows of the
/// table; then what is left: an HTML page, a redirect or a body that is no OAuth2 answer is a
/// proxy or an outage (75), an unknown code at the token endpoint a dead login (77).
pub fn classify(answer: &ProviderAnswer, endpoint: Endpoint) -> Verdict {
    let verdict = |status, meaning, fix| Verdict {
        status,
        meaning,
        fix,
    };
    if answer.is_transient_status() {
        return verdict(
            Temporary,
            "the provider is overloaded or failing",
            Fix::Later,
        );
    }
    if let Some(rule) = RULES.iter().find(|rule| rule.matches(answer, endpoint)) {
        return verdict(rule.status, rule.meaning, rule.fix);
    }
    if answer.error.is_none() {
        return match (&answer.body, answer.http_status) {
            (Some(Body::Html(_)), Some(404 | 405)) => verdict(
                Config,
                "the endpoint address does not exist",
                Fix::Flag("--token-endpoint"),
            ),
            (_, Some(300..=399)) => verdict(
                Temporary,
                "the endpoint redirected instead of answering (a proxy or captive portal?)",
                Fix::Later,
            ),
            _ => verdict(
                Temporary,
                "the answer is not an OAuth2 answer (a proxy, captive portal or outage?)",
                Fix::Later,
            ),
        };
    }
    match endpoint {
        Endpoint::Token | Endpoint::DevicePoll => {
            verdict(Reauthorize, "the provider refused the login", Fix::SignIn)
        }
        Endpoint::DeviceAuthorization | Endpoint::Redirect | Endpoint::Revocation => verdict(
            Config,
            "the provider refused the sign-in request",
            Fix::Registration,
        ),
    }
}

/// What the hints need to know about the account and the attempt.
pub struct Situation<'a> {
    /// What was sent: "refresh token", "authorization code", "device authorization".
    pub what: &'a str,
    /// Who answered.
    pub host: &'a str,
    /// The provider preset or custom name ("microsoft", "google", ...).
    pub provider: &'a str,
    /// The command that signs this account in again, with the flags the user gave.
    pub authorize_command: &'a str,
    /// The redirect URI sent, for AADSTS50011 and redirect_uri_mismatch.
    pub redirect_uri: Option<&'a str>,
}

/// The error to end with: what the provider said, what it means, and the fix.
pub fn into_error(answer: &ProviderAnswer, endpoint: Endpoint, situation: &Situation) -> Error {
    let verdict = classify(answer, endpoint);
    let host = situation.host;
    let said = answer.summary();
    // A refusal in the browser or while polling is the user's sign-in; elsewhere it is a request.
    let message = match (endpoint, verdict.status) {
        (Endpoint::Redirect | Endpoint::DevicePoll, _) => format!("{} ({said})", verdict.meaning),
        (_, Temporary) => format!(
            "the {} request to {host} failed: {} ({said})",
            situation.what, verdict.meaning
        ),
        _ => format!(
            "{} rejected by {host}: {} ({said})",
            situation.what, verdict.meaning
        ),
    };
    let hint = hint(answer, &verdict, situation);
    Error::new(verdict.status, message).hint(hint)
}

fn hint(answer: &ProviderAnswer, verdict: &Verdict, situation: &Situation) -> String {
    let command = situation.authorize_command;
    let why = reason_in_words(answer, situation.provider);
    match verdict.fix {
        Fix::SignIn => format!("run '{command}' to sign in again{why}"),
        Fix::SignInWithConsent => format!(
            "run '{command}' and grant access; in an organisation an administrator may have to \
             consent to the app first{why}"
        ),
        Fix::Later => "try again later; the login itself is fine".to_string(),
        Fix::Administrator => format!(
            "ask the account's administrator to allow this app, or use another --client-id \
             with '{command}'"
        ),
        Fix::AllowPublicClientFlows => format!(
            "in the Azure portal, open the app registration, Authentication, and set \"Allow \
             public client flows\" to Yes; or give the app's secret with --client-secret-file FILE and run \
             '{command}'"
        ),
        Fix::Registration => format!(
            "check the registration (--client-id, --scope, --redirect-uri, the endpoints) and run \
             '{command}'; --debug shows the whole exchange"
        ),
        Fix::MissingParameter => {
            let flag = missing_parameter_flag(answer.description.as_deref().unwrap_or(""));
            flag_hint(flag, command, situation)
        }
        Fix::Flag(flag) => flag_hint(flag, command, situation),
    }
}

fn flag_hint(flag: &str, command: &str, situation: &Situation) -> String {
    match flag {
        "--client-secret" => format!(
            "give the app's client secret (its value, not its id) in a file: '{command} \
             --client-secret-file FILE' (or set MAILTOKEN_CLIENT_SECRET)"
        ),
        "--redirect-uri" => {
            let sent = situation
                .redirect_uri
                .map(|uri| format!(" mailtoken sent {uri};"))
                .unwrap_or_default();
            format!(
                "register the redirect URI with the app, or pass the registered one with \
                 --redirect-uri:{sent} run '{command} --redirect-uri URI'"
            )
        }
        "--tenant" => format!(
            "pass the tenant the app and the account belong to: '{command} --tenant \
             TENANT' (a tenant id, a domain, organizations or consumers)"
        ),
        "--authflow" if situation.provider == "google" => format!(
            "Google's device flow does not allow the Gmail scope: run '{command} --authflow \
             localhostauthcode' (or authcode)"
        ),
        "--authflow" => format!(
            "choose a flow the client is registered for: '{command} --authflow \
             localhostauthcode|authcode|devicecode'"
        ),
        "--token-endpoint" => format!(
            "check the endpoint addresses (--token-endpoint, or --issuer) and run '{command}'"
        ),
        other => format!("check {other} and run '{command} {other} ...'"),
    }
}

/// AADSTS900144 names the parameter: "The request body must contain the following parameter:
/// 'client_id'."
fn missing_parameter_flag(description: &str) -> &'static str {
    let parameter = description
        .split('\'')
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase();
    match parameter.as_str() {
        "client_secret" | "client_assertion" => "--client-secret",
        "scope" => "--scope",
        "redirect_uri" => "--redirect-uri",
        // The v1 endpoint wants `code` where v2 takes `device_code`: the endpoint is wrong.
        "code" | "device_code" => "--token-endpoint",
        _ => "--client-id",
    }
}

/// The known reasons a login of this provider ends, for the "sign in again" hint.
fn reason_in_words(answer: &ProviderAnswer, provider: &str) -> &'static str {
    if answer.error.as_deref() != Some("invalid_grant") || answer.aadsts.is_some() {
        return "";
    }
    match provider {
        "google" => {
            "; Google ends a login when access is revoked or the password changes, and after 7 \
             days for apps in Testing status (publish the app to keep logins)"
        }
        "microsoft" => {
            "; Microsoft ends a login unused for 90 days, and after a password change or an \
             administrator's revocation"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(status: u16, body: &str) -> ProviderAnswer {
        ProviderAnswer::from_http(
            status,
            Some("application/json"),
            None,
            None,
            body.as_bytes(),
        )
    }

    #[test]
    fn microsoft_numbers_and_ids_are_read_from_json_and_text() {
        let answer = json(
            400,
            r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2024","error_codes":[700082],"trace_id":"t-1","correlation_id":"c-1"}"#,
        );
        assert_eq!(answer.aadsts, Some(700082));
        assert_eq!(
            answer.description.as_deref(),
            Some("AADSTS700082: The refresh token has expired.")
        );
        assert_eq!(
            answer.summary(),
            "invalid_grant: AADSTS700082: The refresh token has expired. (trace id t-1, \
             correlation id c-1)"
        );
        let mut params = HashMap::new();
        params.insert("error".to_string(), "invalid_request".to_string());
        params.insert(
            "error_description".to_string(),
            "AADSTS50011: The redirect URI does not match. Trace ID: t-2 Correlation ID: c-2"
                .to_string(),
        );
        let answer = ProviderAnswer::from_redirect(&params);
        assert_eq!(answer.aadsts, Some(50011));
        assert_eq!(answer.trace_id.as_deref(), Some("t-2"));
        assert_eq!(classify(&answer, Endpoint::Redirect).status, Config);
    }

    #[test]
    fn yahoo_error_objects_are_read() {
        let answer = json(
            400,
            r#"{"error":{"localizedMessage":"client request is not acceptable","errorId":"INVALID_REFRESH_TOKEN","message":"x"}}"#,
        );
        assert_eq!(answer.error.as_deref(), Some("INVALID_REFRESH_TOKEN"));
        assert_eq!(classify(&answer, Endpoint::Token).status, Reauthorize);
    }

    #[test]
    fn the_status_says_later_before_the_code_does() {
        let answer = json(503, r#"{"error":"invalid_grant"}"#);
        assert_eq!(classify(&answer, Endpoint::Token).status, Temporary);
        let page = ProviderAnswer::from_http(200, Some("text/html"), None, None, b"<html>");
        assert_eq!(page.body, Some(Body::Html(None)));
        assert_eq!(classify(&page, Endpoint::Token).status, Temporary);
        let moved = ProviderAnswer::from_http(302, None, None, Some("https://portal/"), b"");
        assert_eq!(classify(&moved, Endpoint::Token).status, Temporary);
        assert!(moved.summary().contains("redirecting to https://portal/"));
    }

    #[test]
    fn the_missing_parameter_names_the_flag() {
        assert_eq!(
            missing_parameter_flag(
                "AADSTS900144: The request body must contain the following parameter: 'scope'."
            ),
            "--scope"
        );
        assert_eq!(missing_parameter_flag("nothing quoted"), "--client-id");
    }

    #[test]
    fn provider_text_is_bounded_and_has_no_control_characters() {
        let long = format!(
            r#"{{"error":"invalid_grant","error_description":"{}\u001b[2J"}}"#,
            "x".repeat(2000)
        );
        let answer = json(400, &long);
        let summary = answer.summary();
        assert!(summary.chars().count() < 400, "{summary}");
        assert!(!summary.contains('\u{1b}'));
    }
}
