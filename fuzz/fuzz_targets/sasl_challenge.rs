//! SASL failure challenges (RFC 7628 section 3.2.2), raw and base64 as they follow `+ ` or
//! `334 `: an empty challenge is none, the base64 form reads as its decoded bytes, the summary is
//! safe to print, and explaining a refusal with it does not panic.
//!
//! Input: `REPLY\nCHALLENGE`.
#![no_main]

mod common;

use base64::Engine;
use common::{SANITIZED, assert_terminal_safe, fields};
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::login_test::parsers::{Challenge, Facts, explain};
use mailtoken::testing::mailserver::Protocol;

fuzz_target!(|data: &[u8]| {
    let ([reply], bytes) = fields::<1>(data);
    let reply = String::from_utf8_lossy(reply);
    let challenge = Challenge::parse(bytes);
    assert_eq!(
        challenge.is_none(),
        bytes.iter().all(u8::is_ascii_whitespace)
    );
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    assert_eq!(Challenge::from_base64(&encoded), challenge);
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Some(parsed) = Challenge::from_base64(text) {
            assert_terminal_safe("challenge summary", &parsed.summary(), SANITIZED);
        }
    }
    if let Some(challenge) = &challenge {
        assert_terminal_safe("challenge summary", &challenge.summary(), SANITIZED);
    }
    for protocol in [Protocol::Imap, Protocol::Pop, Protocol::Smtp] {
        for host in [
            "imap.gmail.com",
            "outlook.office365.com",
            "mail.example.com",
        ] {
            let facts = Facts {
                protocol,
                host,
                email: "user@example.com",
                // A shared mailbox's delegate on every other input (issue 33).
                delegate: (bytes.len() % 5 == 0).then_some("delegate@example.com"),
                token_scope: challenge
                    .as_ref()
                    .and_then(|c| c.scope.as_deref())
                    .or(Some("https://outlook.office.com/IMAP.AccessAsUser.All")),
                fresh_token: bytes.len() % 2 == 0,
                after_login: bytes.len() % 3 == 0,
                reply: Some(&reply),
                challenge: challenge.as_ref(),
            };
            let causes = explain(&facts);
            assert!(!causes.is_empty(), "a refusal always gets a likely cause");
            let mut seen = std::collections::HashSet::new();
            assert!(causes.iter().all(|c| seen.insert(c)), "{causes:?}");
        }
    }
});
