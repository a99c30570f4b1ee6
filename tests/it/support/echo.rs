//! Servers that send back what they were sent: token and revocation endpoints quoting the
//! request in every place an answer has text (a description, a plain body, a `Location`, an HTML
//! title, a JSON member), whole, recased, encoded or cut short; and mail servers whose failure
//! challenge is the client's own SASL string. And `leaks`, the one test of whether a text shows
//! any of a secret.

use mailtoken::testing::mailserver::Protocol;

use super::base64::{decode_text, encode};
use super::http::{FakeServer, Received, Reply, percent_encode};
use super::mail::Session;
use super::mail_scripts::{greet, offered_xoauth2_only};

/// Where an endpoint puts the request it echoes.
#[derive(Clone, Copy, Debug)]
pub enum HttpEcho {
    /// Spring Security OAuth's `DefaultTokenServices.refreshAccessToken` answers an unknown
    /// refresh token with `InvalidGrantException("Invalid refresh token: " + refreshTokenValue)`,
    /// which its endpoint sends as 400 `{"error":"invalid_grant","error_description":"Invalid
    /// refresh token: VALUE"}` (spring-attic/spring-security-oauth,
    /// spring-security-oauth2/src/main/java/org/springframework/security/oauth2/provider/token/
    /// DefaultTokenServices.java). The description here quotes the whole form and the
    /// `Authorization` header, as the same code quoting another parameter would.
    Description,
    /// The same description in capitals (reconstructed).
    Recased,
    /// The description cut after 40 characters of each value (reconstructed).
    Cut,
    /// A 400 whose plain-text body is the form as received, still encoded (reconstructed).
    PlainBody,
    /// A 302 to a portal carrying the form in its query (reconstructed).
    Location,
    /// An HTML error page titled with the form (reconstructed).
    Title,
    /// An OAuth2 error whose JSON repeats the form fields in a member of its own (reconstructed).
    JsonMember,
    /// The description quotes the form base64-encoded, as a debugging server dumps a body
    /// (reconstructed; issue #30 item 4 found these four forms passing the scrub).
    Base64,
    /// The values base64url-encoded without padding, as JWT-minded servers print them
    /// (reconstructed).
    Base64Url,
    /// The values in hex (reconstructed).
    Hex,
    /// The values written as HTML character references, decimal, hex and named (reconstructed).
    HtmlReferences,
    /// A plain body with the values' punctuation as JSON `\u` escapes (reconstructed).
    JsonEscapes,
}

impl HttpEcho {
    pub const ALL: [HttpEcho; 12] = [
        HttpEcho::Description,
        HttpEcho::Recased,
        HttpEcho::Cut,
        HttpEcho::PlainBody,
        HttpEcho::Location,
        HttpEcho::Title,
        HttpEcho::JsonMember,
        HttpEcho::Base64,
        HttpEcho::Base64Url,
        HttpEcho::Hex,
        HttpEcho::HtmlReferences,
        HttpEcho::JsonEscapes,
    ];
}

/// Each value the server read (the `Authorization` credentials decoded too), written with
/// `encode`, one `name=VALUE` a pair.
fn values_encoded(request: &Received, encode: impl Fn(&str) -> String) -> String {
    let mut values: Vec<String> = request
        .form
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect();
    if let Some(authorization) = request.headers.get("authorization") {
        let credentials = authorization.split(' ').nth(1).unwrap_or("");
        values.push(format!("credentials={}", encode(credentials)));
        values.push(format!("decoded={}", encode(&decode_text(credentials))));
    }
    values.join(", ")
}

/// The request's form as sent (percent-encoded) and its `Authorization` header.
fn as_sent(request: &Received) -> String {
    let mut form: Vec<String> = request
        .form
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect();
    if let Some(authorization) = request.headers.get("authorization") {
        form.push(format!("authorization={authorization}"));
    }
    form.join("&")
}

/// The request's values as the server read them, each cut after `cut` characters.
fn values_cut(request: &Received, cut: usize) -> String {
    let mut values: Vec<String> = request
        .form
        .iter()
        .map(|(name, value)| format!("{name} {}", value.chars().take(cut).collect::<String>()))
        .collect();
    if let Some(authorization) = request.headers.get("authorization") {
        let credentials = authorization.split(' ').nth(1).unwrap_or("");
        values.push(format!(
            "credentials {}",
            &credentials[..credentials.len().min(cut)]
        ));
        values.push(format!("decoded {}", decode_text(credentials)));
    }
    values.join(", ")
}

/// The answer of an endpoint that echoes `request` as `how` says.
pub fn echo_reply(how: HttpEcho, request: &Received) -> Reply {
    let sent = as_sent(request);
    let invalid = |description: String| Reply::oauth_error(400, "invalid_grant", &description);
    match how {
        HttpEcho::Description => invalid(format!(
            "Invalid refresh token: {}; read {}",
            request.form.get("refresh_token").map_or("", String::as_str),
            values_cut(request, usize::MAX)
        )),
        HttpEcho::Recased => invalid(format!("INVALID REQUEST: {}", sent.to_uppercase())),
        HttpEcho::Cut => invalid(format!("Invalid request: {}", values_cut(request, 40))),
        HttpEcho::PlainBody => Reply::raw(400, "text/plain", sent),
        HttpEcho::Location => Reply::raw(302, "text/plain", "").with_header(
            "Location",
            &format!(
                "https://portal.example/login?next={}",
                percent_encode(&sent)
            ),
        ),
        HttpEcho::Title => Reply::raw(
            403,
            "text/html",
            format!("<html><head><title>Forbidden: {sent}</title></head></html>"),
        ),
        HttpEcho::Base64 => invalid(format!("Bad request body (base64): {}", encode(&sent))),
        HttpEcho::Base64Url => invalid(format!(
            "Invalid values: {}",
            values_encoded(request, |value| {
                use base64::Engine;
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
            })
        )),
        HttpEcho::Hex => invalid(format!(
            "Invalid values: {}",
            values_encoded(request, |value| value
                .bytes()
                .map(|b| format!("{b:02x}"))
                .collect())
        )),
        HttpEcho::HtmlReferences => invalid(format!(
            "Invalid values: {}",
            values_encoded(request, |value| {
                value
                    .chars()
                    .enumerate()
                    .map(|(index, c)| match (c, index % 3) {
                        ('/', _) => "&sol;".to_string(),
                        (c, 0) => format!("&#{};", c as u32),
                        (c, 1) => format!("&#x{:X};", c as u32),
                        (c, _) => c.to_string(),
                    })
                    .collect()
            })
        )),
        HttpEcho::JsonEscapes => Reply::raw(
            400,
            "text/plain",
            values_encoded(request, |value| {
                value
                    .chars()
                    .map(|c| match c {
                        c if c.is_ascii_alphanumeric() => c.to_string(),
                        c => format!("\\u{:04x}", c as u32),
                    })
                    .collect()
            }),
        ),
        HttpEcho::JsonMember => Reply::json(
            400,
            serde_json::json!({
                "error": "invalid_request",
                "error_description": "bad request",
                "request": {"body": sent, "fields": request.form},
            }),
        ),
    }
}

/// A token (or revocation) endpoint echoing every request as `how` says.
pub fn echoing_endpoint(how: HttpEcho) -> FakeServer {
    FakeServer::start(move |request| echo_reply(how, request))
}

/// Whether `text` shows any of `secret`: the whole of it or any eight characters in a row, in
/// any case, plain or percent-encoded; in the text as it is, or once its HTML character
/// references and JSON escapes are read, or in what any run of it decodes to as base64 (either
/// alphabet, any alignment) or hex.
pub fn leaks(text: &str, secret: &str) -> bool {
    let mut readings = vec![text.to_string(), unescaped(text)];
    for reading in readings.clone() {
        readings.extend(decoded_runs(&reading));
    }
    readings
        .iter()
        .any(|reading| shows_plainly(&reading.to_lowercase(), secret))
}

fn shows_plainly(text: &str, secret: &str) -> bool {
    [secret.to_string(), percent_encode(secret)]
        .iter()
        .map(|form| form.to_lowercase())
        .any(|form| {
            let chars: Vec<char> = form.chars().collect();
            chars.windows(8.min(chars.len())).any(|window| {
                let piece: String = window.iter().collect();
                text.contains(&piece)
            })
        })
}

/// `text` with HTML character references (decimal, hex, and the few named ones a token's
/// characters have) and JSON `\uXXXX` escapes read.
fn unescaped(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let numeric = |digits: &str, radix| {
            let end = digits
                .find(|c: char| !c.is_digit(radix))
                .unwrap_or(digits.len());
            let value = u32::from_str_radix(&digits[..end], radix).ok()?;
            let length = end + usize::from(digits[end..].starts_with(';'));
            Some((char::from_u32(value)?, length))
        };
        let found = if let Some(hex) = rest.strip_prefix("&#x").or(rest.strip_prefix("&#X")) {
            numeric(hex, 16).map(|(c, n)| (c, 3 + n))
        } else if let Some(decimal) = rest.strip_prefix("&#") {
            numeric(decimal, 10).map(|(c, n)| (c, 2 + n))
        } else if let Some(unicode) = rest.strip_prefix("\\u") {
            unicode
                .get(..4)
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .and_then(char::from_u32)
                .map(|c| (c, 6))
        } else {
            [
                ("&sol;", '/'),
                ("&amp;", '&'),
                ("&plus;", '+'),
                ("&equals;", '='),
            ]
            .iter()
            .find(|(name, _)| rest.starts_with(name))
            .map(|(name, c)| (*c, name.len()))
        };
        let (character, length) = found.unwrap_or((c, c.len_utf8()));
        out.push(character);
        rest = &rest[length..];
    }
    out
}

/// What each run of base64 or hex characters in `text` decodes to, at every alignment.
fn decoded_runs(text: &str) -> Vec<String> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut decoded = Vec::new();
    for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c))) {
        for skip in 0..4.min(run.len()) {
            let chars = &run[skip..];
            let usable = &chars[..chars.len() - chars.len() % 4];
            for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                if let Ok(bytes) = engine.decode(usable) {
                    decoded.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        if run.len() >= 16 && run.chars().all(|c| c.is_ascii_hexdigit()) {
            for skip in 0..2 {
                let hex = &run[skip..run.len() - (run.len() - skip) % 2];
                let bytes: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                    .collect();
                decoded.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
    }
    decoded
}

/// How a mail server sends the client's SASL string back as its failure challenge.
#[derive(Clone, Copy, Debug)]
pub enum SaslEcho {
    /// The base64 line as received (reconstructed).
    Encoded,
    /// Decoded, in clear after the continuation (reconstructed).
    Raw,
    /// Inside the JSON failure challenge of RFC 7628 section 3.2.2 (reconstructed).
    Json,
    /// Decoded and cut after 48 characters (reconstructed).
    Cut,
    /// Decoded, in capitals (reconstructed).
    Recased,
}

impl SaslEcho {
    pub const ALL: [SaslEcho; 5] = [
        SaslEcho::Encoded,
        SaslEcho::Raw,
        SaslEcho::Json,
        SaslEcho::Cut,
        SaslEcho::Recased,
    ];

    /// The challenge for the client's `response` (base64, as sent).
    fn challenge(self, response: &str) -> String {
        let raw = decode_text(response);
        match self {
            SaslEcho::Encoded => response.to_string(),
            SaslEcho::Raw => raw,
            SaslEcho::Json => encode(
                serde_json::json!({"status": "401", "schemes": "bearer", "scope": raw}).to_string(),
            ),
            SaslEcho::Cut => raw.chars().take(48).collect(),
            SaslEcho::Recased => raw.to_uppercase(),
        }
    }
}

/// A server for `protocol`, offering XOAUTH2 and no STARTTLS, that answers every login with the
/// client's SASL string as its challenge, then refuses it, quoting the challenge again.
pub fn echoing_mail_server(
    protocol: Protocol,
    how: SaslEcho,
) -> impl Fn(&mut Session) + Send + Sync {
    move |s: &mut Session| {
        greet(s, protocol);
        while let Some(line) = s.line() {
            let tag = line.split(' ').next().unwrap_or("").to_string();
            let upper = line.to_ascii_uppercase();
            if offered_xoauth2_only(s, protocol, &line) {
                continue;
            }
            let response = match protocol {
                Protocol::Imap if upper.contains("AUTHENTICATE") => {
                    s.send("+ ");
                    s.line().unwrap_or_default()
                }
                Protocol::Pop if upper.starts_with("AUTH") => {
                    s.send("+ ");
                    s.line().unwrap_or_default()
                }
                Protocol::Smtp if upper.starts_with("AUTH") => {
                    line.split(' ').nth(2).unwrap_or("").to_string()
                }
                Protocol::Imap if upper.contains("LOGOUT") => {
                    s.send(&format!("{tag} OK bye"));
                    return;
                }
                _ => {
                    s.send(match protocol {
                        Protocol::Imap => "* BAD unknown",
                        Protocol::Pop => "-ERR unknown",
                        Protocol::Smtp => "502 unknown",
                    });
                    continue;
                }
            };
            let challenge = how.challenge(&response);
            s.send(&match protocol {
                Protocol::Smtp => format!("334 {challenge}"),
                _ => format!("+ {challenge}"),
            });
            if s.line().is_none() {
                return;
            }
            s.send(&match protocol {
                Protocol::Imap => format!("{tag} NO [AUTHENTICATIONFAILED] refused {challenge}"),
                Protocol::Pop => format!("-ERR [AUTH] refused {challenge}"),
                Protocol::Smtp => format!("535 5.7.8 refused {challenge}"),
            });
        }
    }
}
