//! HTTP for the OAuth2 endpoints: one blocking client with timeouts, proxy support from the
//! environment (never for loopback), our TLS configuration, size caps, and `--debug` traces with
//! secrets redacted. Every secret a request carries is remembered before it is sent, so that no
//! echo of it is ever shown (`redact`).
//!
//! It is only constructed when a request is about to be made: the cached-token path never builds
//! it, so printing a valid token costs no TLS setup and no async runtime.

use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};

use crate::base::log;
use crate::base::redact;
use crate::oauth::provider_answer::ProviderAnswer;

/// Time allowed to establish a connection (TCP and TLS).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for a whole request and response. Mail clients wait for us: never hang.
pub(crate) const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Environment variable overriding `TOTAL_TIMEOUT`, in seconds (slow links, tests).
pub(crate) const TIMEOUT_VARIABLE: &str = "MAILTOKEN_HTTP_TIMEOUT";

/// Token and discovery responses are small; a larger body is a misbehaving server.
pub(crate) const MAX_RESPONSE: u64 = 256 * 1024;

/// Why an HTTP exchange failed before there was a usable response.
#[derive(Debug)]
pub(crate) enum HttpError {
    /// Each network failure carries its words from `network`, host and port included.
    Timeout(String),
    Connect(String),
    /// An https:// URL whose server does not speak TLS: the URL is wrong, retrying cannot help.
    NotTls(String),
    /// A certificate from an authority not trusted here: retrying cannot help.
    Untrusted(String),
    /// The URL is not https (nor http on loopback): nothing was sent.
    Insecure(String),
    /// The server answered, and not with success: any status but 2xx, an HTML page, or a 200
    /// whose JSON is an OAuth2 error (Microsoft's device endpoint answers errors with 200).
    Answer(Box<ProviderAnswer>),
    TooLarge,
    Other(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Timeout(detail)
            | HttpError::Connect(detail)
            | HttpError::NotTls(detail)
            | HttpError::Untrusted(detail) => f.write_str(detail),
            HttpError::Answer(answer) => f.write_str(&answer.summary()),
            HttpError::Insecure(detail) => f.write_str(detail),
            HttpError::TooLarge => write!(f, "response larger than {MAX_RESPONSE} bytes"),
            HttpError::Other(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for HttpError {}

/// The HTTP client. Its clients are made when a request first needs them, so a run reads the
/// trusted certificates only when it speaks TLS, and at most once (`net::tls`).
pub(crate) struct Http {
    /// For the world outside, through a proxy when one is set.
    world: OnceLock<reqwest::blocking::Client>,
    /// For https on this machine's loopback: never through a proxy.
    loopback_https: OnceLock<reqwest::blocking::Client>,
    /// For plain http on this machine's loopback: no proxy, and no certificate read.
    loopback_http: OnceLock<reqwest::blocking::Client>,
    /// The deadline of one whole exchange.
    total: Duration,
}

impl Http {
    /// A client whose exchanges end after the usual deadline. Nothing is set up yet: a failure
    /// to set up (no trusted certificate) is the first request's.
    pub(crate) fn new() -> Http {
        Http::with_deadline(total_timeout())
    }

    /// A client whose every exchange ends after `total` (a lookup that may find nothing).
    pub(crate) fn with_deadline(total: Duration) -> Http {
        Http {
            world: OnceLock::new(),
            loopback_https: OnceLock::new(),
            loopback_http: OnceLock::new(),
            total,
        }
    }

    /// GETs a document of any type (an autoconfiguration): its bytes on a 200, up to
    /// `MAX_RESPONSE`.
    pub(crate) fn get_bytes(&self, url: &str) -> std::result::Result<Vec<u8>, HttpError> {
        let request = oauth2::http::Request::get(url)
            .body(Vec::new())
            .map_err(|e| HttpError::Other(format!("invalid URL {url:?}: {e}")))?;
        let response = self.execute(request)?;
        if response.status() != 200 {
            return Err(HttpError::Other(format!(
                "HTTP status {}",
                response.status()
            )));
        }
        Ok(response.into_body())
    }

    /// The client for `uri`: this machine's loopback is never reached through a proxy. http is
    /// allowed only there (RFC 8252 section 8.3), because it never leaves the machine; through
    /// `http_proxy` or `ALL_PROXY` the request, refresh token and all, would cross the network
    /// in clear. Proxies are for the world outside.
    fn client_for(
        &self,
        uri: &oauth2::http::Uri,
    ) -> std::result::Result<reqwest::blocking::Client, HttpError> {
        let url = oauth2::url::Url::parse(&uri.to_string()).ok();
        let loopback = url
            .as_ref()
            .is_some_and(crate::oauth::provider::is_loopback_url);
        let plain = url.as_ref().is_some_and(|url| url.scheme() == "http");
        let made = match (loopback, plain) {
            (false, _) => &self.world,
            (true, false) => &self.loopback_https,
            (true, true) => &self.loopback_http,
        };
        if let Some(client) = made.get() {
            return Ok(client.clone());
        }
        let tls = if loopback && plain {
            crate::net::tls::plain_http_config()
        } else {
            crate::net::tls::client_config().map(|config| (*config).clone())
        }
        .map_err(|e| HttpError::Untrusted(e.message().to_string()))?;
        let mut builder = builder(self.total, tls);
        if loopback {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| HttpError::Other(format!("cannot set up HTTP: {}", error_chain(&e))))?;
        Ok(made.get_or_init(|| client).clone())
    }

    /// GETs a JSON document (discovery metadata).
    pub(crate) fn get_json(&self, url: &str) -> std::result::Result<serde_json::Value, HttpError> {
        self.json_answer(url, http_get(url)?)
    }

    /// GETs a JSON document a bearer token opens (RFC 6750 section 2.1): the UserInfo endpoint.
    /// The token is remembered as sent, like every secret of a request.
    pub(crate) fn get_json_with_bearer(
        &self,
        url: &str,
        token: &str,
    ) -> std::result::Result<serde_json::Value, HttpError> {
        let mut request = http_get(url)?;
        let value = format!("Bearer {token}")
            .parse()
            .map_err(|_| HttpError::Other("the access token cannot be sent in a header".into()))?;
        request
            .headers_mut()
            .insert(oauth2::http::header::AUTHORIZATION, value);
        self.json_answer(url, request)
    }

    fn json_answer(
        &self,
        url: &str,
        request: HttpRequest,
    ) -> std::result::Result<serde_json::Value, HttpError> {
        let response = self.execute(request)?;
        if response.status() != 200 {
            return Err(HttpError::Other(format!(
                "HTTP status {} from {url}",
                response.status()
            )));
        }
        serde_json::from_slice(response.body())
            .map_err(|e| HttpError::Other(format!("{url} did not return JSON ({e})")))
    }

    /// POSTs a JSON document and reads the JSON answer (RFC 7591 registration: 201, or 200 as
    /// some servers answer).
    pub(crate) fn post_json(
        &self,
        url: &str,
        body: &serde_json::Value,
    ) -> std::result::Result<serde_json::Value, HttpError> {
        let request = oauth2::http::Request::post(url)
            .header(oauth2::http::header::CONTENT_TYPE, "application/json")
            .header(oauth2::http::header::ACCEPT, "application/json")
            .body(body.to_string().into_bytes())
            .map_err(|e| HttpError::Other(format!("invalid URL {url:?}: {e}")))?;
        let response = self.execute(request)?;
        serde_json::from_slice(response.body())
            .map_err(|e| HttpError::Other(format!("{url} did not return JSON ({e})")))
    }

    /// Sends one request. Only a successful answer comes back as a response; every other answer
    /// becomes `HttpError::Answer`, read whatever its status, so its JSON error is never lost.
    ///
    /// The whole exchange, body included, has one absolute deadline: reqwest's own timeouts
    /// restart with every byte read, so a server trickling its answer could hold a mail client
    /// for minutes. The exchange runs on its own thread and is abandoned at the deadline.
    pub(crate) fn execute(
        &self,
        request: HttpRequest,
    ) -> std::result::Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        // The last line of defence: whatever the caller checked, no secret leaves unencrypted.
        if let Err(error) =
            crate::oauth::provider::check_endpoint("endpoint", &parts.uri.to_string())
        {
            return Err(HttpError::Insecure(error.to_string()));
        }
        // Before a byte leaves: whatever the server echoes of it is then removed from every
        // message, trace and hook variable.
        redact::remember_request(&parts, &body);
        trace_request(&parts, &body);
        let client = self.client_for(&parts.uri)?;
        let (done, outcome) = std::sync::mpsc::channel();
        let address = reqwest::Url::parse(&parts.uri.to_string())
            .map(|url| crate::net::network::address(&url))
            .unwrap_or_else(|_| parts.uri.to_string());
        let total = self.total;
        let words = address.clone();
        std::thread::Builder::new()
            .spawn(move || {
                let _ = done.send(exchange(&client, parts, body, &words, total));
            })
            .map_err(|e| HttpError::Other(format!("cannot start the request ({e})")))?;
        let (status, headers, body) = outcome.recv_timeout(self.total).map_err(|_| {
            HttpError::Timeout(crate::net::network::timed_out(&address, self.total))
        })??;
        trace_response(status.as_u16(), &body);
        if body.len() as u64 > MAX_RESPONSE {
            return Err(HttpError::TooLarge);
        }
        if let Some(answer) = failed_answer(status.as_u16(), &headers, &body) {
            return Err(HttpError::Answer(Box::new(answer)));
        }
        let mut converted = oauth2::http::Response::new(body);
        *converted.status_mut() = status;
        *converted.headers_mut() = headers;
        Ok(converted)
    }
}

/// Every client's settings: timeouts, the TLS configuration `tls`, and no redirects.
fn builder(total: Duration, tls: rustls::ClientConfig) -> reqwest::blocking::ClientBuilder {
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(CONNECT_TIMEOUT.min(total))
        .timeout(total)
        .user_agent(concat!("mailtoken/", env!("CARGO_PKG_VERSION")))
        // Never follow redirects from a token endpoint: a redirect would resend the grant.
        .redirect(reqwest::redirect::Policy::none())
}

/// One request and its whole answer, on the exchange's own thread.
fn exchange(
    client: &reqwest::blocking::Client,
    parts: oauth2::http::request::Parts,
    body: Vec<u8>,
    address: &str,
    total: Duration,
) -> std::result::Result<(reqwest::StatusCode, reqwest::header::HeaderMap, Vec<u8>), HttpError> {
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .map_err(|error| classify(&error, address, total))?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    response
        .take(MAX_RESPONSE + 1)
        .read_to_end(&mut body)
        .map_err(|e| classify_io(&e, address, total))?;
    Ok((status, headers, body))
}

impl oauth2::SyncHttpClient for Http {
    type Error = HttpError;

    fn call(&self, request: HttpRequest) -> std::result::Result<HttpResponse, HttpError> {
        self.execute(request)
    }
}

/// The answer as a failure, unless it is a success: a 2xx that is neither an HTML page nor an
/// OAuth2 error object (RFC 6749 section 5.2 members) in a 200.
fn failed_answer(
    status: u16,
    headers: &oauth2::http::HeaderMap,
    body: &[u8],
) -> Option<ProviderAnswer> {
    let header = |name: oauth2::http::header::HeaderName| {
        headers.get(name).and_then(|value| value.to_str().ok())
    };
    let content_type = header(oauth2::http::header::CONTENT_TYPE);
    let html = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("text/html"));
    let error_object = || {
        serde_json::from_slice::<serde_json::Value>(body)
            .is_ok_and(|json| json.get("error").is_some() && json.get("access_token").is_none())
    };
    if (200..300).contains(&status) && !html && !error_object() {
        return None;
    }
    Some(ProviderAnswer::from_http(
        status,
        content_type,
        header(oauth2::http::header::RETRY_AFTER),
        header(oauth2::http::header::LOCATION),
        body,
    ))
}

fn http_get(url: &str) -> std::result::Result<HttpRequest, HttpError> {
    oauth2::http::Request::get(url)
        .header(oauth2::http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| HttpError::Other(format!("invalid URL {url:?}: {e}")))
}

/// How long one exchange may take in all (`MAILTOKEN_HTTP_TIMEOUT`, else `TOTAL_TIMEOUT`).
pub(crate) fn total_timeout() -> Duration {
    crate::base::environment::seconds_from_env(
        TIMEOUT_VARIABLE,
        TOTAL_TIMEOUT,
        Duration::from_secs(1_000_000_000),
    )
}

/// A request that got no answer, in words (`network`), sorted by what it means.
fn classify(error: &reqwest::Error, address: &str, total: Duration) -> HttpError {
    let failure = crate::net::network::describe(error, address, CONNECT_TIMEOUT.min(total), total);
    match failure.kind {
        crate::net::network::Kind::Timeout => HttpError::Timeout(failure.words),
        crate::net::network::Kind::Connect => HttpError::Connect(failure.words),
        crate::net::network::Kind::NotTls => HttpError::NotTls(failure.words),
        crate::net::network::Kind::Untrusted => HttpError::Untrusted(failure.words),
        crate::net::network::Kind::Other => HttpError::Other(failure.words),
    }
}

/// A failure while the answer was being read, in words.
fn classify_io(error: &std::io::Error, address: &str, total: Duration) -> HttpError {
    let failure = crate::net::network::describe_read(error, address, total);
    match failure.kind {
        crate::net::network::Kind::Timeout => HttpError::Timeout(failure.words),
        _ => HttpError::Other(failure.words),
    }
}

/// An error and its causes on one line: reqwest's top-level message alone rarely says why.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn trace_request(parts: &oauth2::http::request::Parts, body: &[u8]) {
    if !log::enabled(log::DEBUG) {
        return;
    }
    log::debug(format!("> {} {}", parts.method, parts.uri));
    for (name, value) in &parts.headers {
        let shown = if name == oauth2::http::header::AUTHORIZATION {
            "(redacted)".to_string()
        } else {
            log::sanitize(value.to_str().unwrap_or("(binary)"))
        };
        log::debug(format!(">   {name}: {shown}"));
    }
    if !body.is_empty() {
        log::debug(format!(
            ">   {}",
            redact::redact_form(&String::from_utf8_lossy(body))
        ));
    }
}

fn trace_response(status: u16, body: &[u8]) {
    if !log::enabled(log::DEBUG) {
        return;
    }
    log::debug(format!("< HTTP {status}, {} bytes", body.len()));
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut json) => {
            redact::redact_json(&mut json);
            log::debug(format!("<   {json}"));
        }
        // Not JSON: a form-encoded token response (some servers send one) has its secret
        // values replaced; anything else is described, never shown, as it may hold a token.
        Err(_) if !body.is_empty() => {
            let text = String::from_utf8_lossy(body);
            let shown = if !text.contains(char::is_whitespace) && text.contains('=') {
                redact::redact_form(&log::sanitize(&text))
            } else {
                match ProviderAnswer::from_http(status, None, None, None, body).body {
                    Some(crate::oauth::provider_answer::Body::Html(Some(title))) => {
                        format!("an HTML page titled {title:?}")
                    }
                    _ => "(not JSON; not shown)".to_string(),
                }
            };
            log::debug(format!("<   {shown}"));
        }
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_successes_pass() {
        let mut headers = oauth2::http::HeaderMap::new();
        let token = br#"{"access_token":"a","token_type":"bearer"}"#;
        assert!(failed_answer(200, &headers, token).is_none());
        assert!(failed_answer(200, &headers, br#"{"error":"invalid_client"}"#).is_some());
        assert!(failed_answer(400, &headers, token).is_some());
        assert!(failed_answer(302, &headers, b"").is_some());
        headers.insert(
            oauth2::http::header::CONTENT_TYPE,
            "text/html; charset=UTF-8".parse().unwrap(),
        );
        assert!(failed_answer(200, &headers, b"<html></html>").is_some());
    }
}
