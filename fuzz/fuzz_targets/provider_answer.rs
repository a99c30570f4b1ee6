//! Provider error answers (RFC 6749 section 5.2, RFC 8628 section 3.5), over HTTP and in the
//! browser's redirect: reading and classifying never panics, and what reaches the terminal has
//! no control or format characters and is bounded.
//!
//! Input: `STATUS\nCONTENT-TYPE\nRETRY-AFTER\nLOCATION\nBODY` (an empty header line is no
//! header), or `?QUERY` for the parameters of a redirect.
#![no_main]

mod common;

use std::collections::HashMap;

use common::{SANITIZED, assert_terminal_safe, fields};
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::log;
use mailtoken::testing::provider_answer::{Body, Endpoint, ProviderAnswer, Situation, classify, into_error};

/// The summary joins at most nine sanitised fields (each at most [`SANITIZED`] characters) and a
/// body start of 121 characters that `{:?}` may escape to ten times its length, with fixed words.
const MAX_SUMMARY: usize = 9 * SANITIZED + 121 * 10 + 200;

fuzz_target!(|data: &[u8]| {
    let answer = if let Some(query) = data.strip_prefix(b"?") {
        let mut parameters = HashMap::new();
        for (key, value) in oauth2::url::form_urlencoded::parse(query) {
            parameters
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        let answer = ProviderAnswer::from_redirect(&parameters);
        assert_eq!(answer.http_status, None);
        answer
    } else {
        let ([status, content_type, retry_after, location], body) = fields::<4>(data);
        let status = std::str::from_utf8(status)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(400);
        let text = |bytes: &[u8]| -> Option<String> {
            Some(String::from_utf8_lossy(bytes).into_owned()).filter(|s| !s.is_empty())
        };
        let (content_type, retry_after, location) =
            (text(content_type), text(retry_after), text(location));
        let answer = ProviderAnswer::from_http(
            status,
            content_type.as_deref(),
            retry_after.as_deref(),
            location.as_deref(),
            body,
        );
        assert_eq!(answer.http_status, Some(status));
        assert!(answer.body.is_some());
        if let Some(Body::Text(start)) = &answer.body {
            assert_terminal_safe("body start", start, 121);
        }
        if let Some(Body::Html(Some(title))) = &answer.body {
            assert_terminal_safe("html title", title, 121);
        }
        answer
    };
    for (name, field) in [
        ("error", &answer.error),
        ("subcode", &answer.subcode),
        ("trace id", &answer.trace_id),
        ("correlation id", &answer.correlation_id),
        ("retry-after", &answer.retry_after),
        ("location", &answer.location),
    ] {
        if let Some(value) = field {
            assert_terminal_safe(name, value, SANITIZED);
        }
    }
    if let Some(description) = &answer.description {
        assert_terminal_safe("description", description, 301);
        assert!(!description.is_empty() && !description.contains("Trace ID:"));
    }
    let summary = answer.summary();
    assert_terminal_safe("summary", &summary, MAX_SUMMARY);

    let situation = Situation {
        what: "refresh token",
        host: "login.example.com",
        provider: "microsoft",
        authorize_command: "mailtoken --authorize /tmp/account",
        redirect_uri: Some("http://localhost:8080/"),
        login_exists: true,
    };
    for endpoint in [
        Endpoint::Token,
        Endpoint::Refresh,
        Endpoint::Revocation,
        Endpoint::DeviceAuthorization,
        Endpoint::DevicePoll,
        Endpoint::Redirect,
    ] {
        let verdict = classify(&answer, endpoint);
        if answer.is_transient_status() {
            assert_eq!(verdict.status, mailtoken::testing::error::ExitStatus::Temporary);
        }
        let error = into_error(&answer, endpoint, &situation);
        assert_eq!(error.status(), verdict.status);
        // Error messages are one line: stderr is read line by line by mail clients' logs.
        assert!(!error.to_string().contains(['\r', '\u{1b}']), "{error}");
    }

    // The sanitiser itself: safe, bounded and idempotent on any text, with a secret remembered
    // so that its scrub, escapes and encodings included, runs on every input.
    static SECRET: std::sync::Once = std::sync::Once::new();
    SECRET.call_once(|| mailtoken::testing::redact::remember("1//0gFuzzSecret-Q7x_Abc?def+ghi"));
    let text = String::from_utf8_lossy(data);
    let scrubbed = mailtoken::testing::redact::scrub(&text);
    assert!(!scrubbed.contains("0gFuzzSe"), "{scrubbed}");
    let clean = log::sanitize(&text);
    assert_terminal_safe("sanitised text", &clean, SANITIZED);
    assert_eq!(
        log::sanitize(&clean),
        clean,
        "sanitising twice changed the text"
    );
});
