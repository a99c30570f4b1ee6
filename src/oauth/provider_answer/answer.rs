//! Reading a provider's error answer, whatever form it takes (OAuth2 JSON, Yahoo's and Google's
//! error objects, the parameters of a redirect, an HTML page, nothing), into one
//! [`ProviderAnswer`], and saying in one line what the provider said. Everything kept is
//! sanitised for the terminal and bounded in length.

use std::collections::HashMap;

use crate::base::log;

/// The longest provider description shown; Microsoft's run to several hundred characters.
const MAX_DESCRIPTION: usize = 300;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::error::ExitStatus::{Config, Reauthorize, Temporary};
    use crate::oauth::provider_answer::{Endpoint, classify};

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

    /// Issue #34, item 3: a refresh refused without an OAuth2 error body is a refusal of that
    /// refresh token; what a retry can fix stays "later"; an OAuth2 code keeps its row.
    #[test]
    fn a_refresh_refused_without_a_reason_has_ended_the_login() {
        let bare = |status| ProviderAnswer::from_http(status, None, None, None, b"");
        for status in [400, 401] {
            assert_eq!(
                classify(&bare(status), Endpoint::Refresh).status,
                Reauthorize
            );
            // Elsewhere (a code exchange, client credentials) it says nothing about a login.
            assert_eq!(classify(&bare(status), Endpoint::Token).status, Temporary);
        }
        let page = ProviderAnswer::from_http(400, Some("text/html"), None, None, b"<html>");
        assert_eq!(classify(&page, Endpoint::Refresh).status, Reauthorize);
        for (status, location) in [(407, None), (302, Some("https://portal/")), (429, None)] {
            let answer = ProviderAnswer::from_http(status, None, None, location, b"");
            assert_eq!(
                classify(&answer, Endpoint::Refresh).status,
                Temporary,
                "{status}"
            );
        }
        for status in [500, 502, 503] {
            assert_eq!(classify(&bare(status), Endpoint::Refresh).status, Temporary);
        }
        let client = json(401, r#"{"error":"invalid_client"}"#);
        assert_eq!(classify(&client, Endpoint::Refresh).status, Config);
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
