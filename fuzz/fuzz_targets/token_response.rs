//! Successful token responses (RFC 6749 section 5.1): whatever the provider sends, what is kept
//! is a visible-ASCII access token, a non-empty refresh token or none, and an expiry that is
//! neither in the past nor absurdly far; and the updated token file round-trips.
#![no_main]

mod common;

use chrono::{TimeZone, Utc};
use common::{SANITIZED, assert_terminal_safe};
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::encryption::EncryptionSpec;
use mailtoken::testing::grant::{GrantFailure, TokenReply, granted};
use oauth2::TokenResponse;
use mailtoken::testing::tokenfile;

/// A mutt_oauth2.py file: the shortest way to a whole token file.
const BASE: &[u8] = br#"{"registration": "google", "email": "u@example.com", "access_token": "old", "refresh_token": "rt"}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(response) = serde_json::from_slice::<TokenReply>(data) else {
        return;
    };
    // A refused answer that rotated the refresh token carries the new one, exactly as sent, for
    // the file to keep; the refusal itself is judged as any other.
    let refused = granted(&response).map_err(|failure| match failure {
        GrantFailure::Rotated {
            refresh_token,
            then,
        } => {
            let sent = response.refresh_token().map(|t| t.secret().as_str());
            assert_eq!(Some(refresh_token.expose()), sent, "the rotated token changed");
            assert!(!refresh_token.is_empty());
            *then
        }
        failure => failure,
    });
    let unrotated = |reply: &TokenReply| {
        granted(reply).map_err(|failure| match failure {
            GrantFailure::Rotated { then, .. } => *then,
            failure => failure,
        })
    };
    let granted = match refused {
        Ok(granted) => granted,
        // Unusable: not a bearer token (refused, 78); Malformed: not a usable access token.
        Err(GrantFailure::Malformed(message) | GrantFailure::Unusable(message)) => {
            // The refusal names what is wrong, never the token itself: with another token of the
            // same kind (unusable for its type, or malformed like the empty one) the words are
            // the same. (A token type that quotes the token is the provider's text, not ours.)
            let mut other = serde_json::to_value(&response).unwrap();
            other["access_token"] = "".into();
            if matches!(unrotated(&response), Err(GrantFailure::Unusable(_))) {
                other["access_token"] = "another-token".into();
            }
            let other = serde_json::from_value::<TokenReply>(other).unwrap();
            match unrotated(&other) {
                Err(GrantFailure::Malformed(again) | GrantFailure::Unusable(again)) => {
                    assert_eq!(message, again, "the refusal depends on the token");
                }
                _ => panic!("another token of the same kind was taken"),
            }
            assert_terminal_safe("the refusal", &message, SANITIZED + 100);
            return;
        }
        Err(other) => panic!("a token response can only be malformed or unusable: {other:?}"),
    };
    let token = granted.access_token.expose();
    assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()));
    if let Some(refresh) = &granted.refresh_token {
        assert!(!refresh.is_empty());
    }
    let access_token = token.to_string();
    let had_refresh = granted.refresh_token.is_some();

    let (mut file, _) = tokenfile::parse(BASE, || Ok(EncryptionSpec::AgePassphrase)).unwrap();
    let requested_at = Utc.with_ymd_and_hms(2026, 5, 1, 12, 0, 0).unwrap();
    file.record(granted, requested_at);
    assert_eq!(file.access_token.expose(), access_token);
    assert!(had_refresh || file.refresh_token.as_ref().map(|t| t.expose()) == Some("rt"));
    let lifetime = file.access_token_expiry - requested_at;
    assert!(
        lifetime >= chrono::Duration::zero() && lifetime <= chrono::Duration::days(366),
        "{lifetime}"
    );
    let json = file.to_json();
    let (again, _) = tokenfile::parse(&json, || unreachable!()).expect("the updated file parses");
    assert_eq!(again.to_json(), json);
});
