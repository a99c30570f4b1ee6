//! A fake HTTP server for the token endpoint and everything around it (discovery, device
//! authorization, revocation, a proxy): it answers each request with the test's handler and
//! records what it received, form fields decoded, for exact comparisons.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request the fake server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: BTreeMap<String, String>,
    /// The body's form fields (application/x-www-form-urlencoded), decoded.
    pub form: BTreeMap<String, String>,
    /// The body as sent (a JSON request's).
    pub body: String,
}

/// The fake server's answer to one request.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    /// "" sends no Content-Type header.
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

    /// An OAuth2 error response (RFC 6749 section 5.2).
    pub fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
        Reply::json(
            status,
            serde_json::json!({"error": error, "error_description": description}),
        )
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
                        let mut response = tiny_http::Response::from_data(reply.body)
                            .with_status_code(reply.status);
                        // An empty content type is none at all (glewlwyd's bare refusals).
                        if !reply.content_type.is_empty() {
                            response.add_header(
                                tiny_http::Header::from_bytes("Content-Type", reply.content_type)
                                    .unwrap(),
                            );
                        }
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

    /// A server that answers every request with `reply`.
    pub fn answering(reply: Reply) -> FakeServer {
        FakeServer::start(move |_| reply.clone())
    }

    /// The token endpoint URL on this server.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.url)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect()
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

/// The query parameters of a URL or request target.
pub fn query_of(target: &str) -> BTreeMap<String, String> {
    parse_form(target.split_once('?').map_or("", |(_, q)| q))
}

/// Percent-encodes a query value.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
