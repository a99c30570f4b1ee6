//! The failure challenge: the base64 JSON that XOAUTH2 and OAUTHBEARER servers send before the
//! final "no" (RFC 7628 section 3.2.2), read into what it says, and the reply that lets the server
//! finish. What it means for the user is `causes`'s business.

use base64::Engine;

use crate::mail::sasl::SaslMethod;

/// A failure challenge is answered at most this often by the POP and SMTP logins; a server
/// asking again and again is not going to accept the login.
pub(crate) const MAX_CHALLENGES: usize = 3;

/// What a failure challenge says. Servers differ in which members they send and in their types
/// (Google sends `"status":"401"`, Dovecot `"invalid_token"`), so every member is optional text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Challenge {
    pub status: Option<String>,
    pub schemes: Option<String>,
    pub scope: Option<String>,
    /// The challenge as received, when it is not a JSON object.
    pub text: Option<String>,
}

impl Challenge {
    /// Reads a challenge from the decoded bytes; an empty challenge is no challenge.
    pub fn parse(bytes: &[u8]) -> Option<Challenge> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        let member = |value: &serde_json::Value, name: &str| {
            value.get(name).and_then(|member| match member {
                serde_json::Value::String(text) => Some(text.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            })
        };
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(value) if value.is_object() => Some(Challenge {
                status: member(&value, "status"),
                schemes: member(&value, "schemes"),
                scope: member(&value, "scope"),
                text: None,
            }),
            _ => Some(Challenge {
                text: Some(String::from_utf8_lossy(bytes).into_owned()),
                ..Challenge::default()
            }),
        }
    }

    /// Reads a challenge from its base64 form, as it appears after `+ ` or `334 `.
    pub fn from_base64(text: &str) -> Option<Challenge> {
        let text = text.trim();
        match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) => Challenge::parse(&bytes),
            Err(_) => Challenge::parse(text.as_bytes()),
        }
    }

    /// One line for the report: `status 401, schemes bearer, scope https://mail.google.com/`.
    pub fn summary(&self) -> String {
        if let Some(text) = &self.text {
            return crate::base::log::sanitize(text);
        }
        let parts: Vec<String> = [
            ("status", &self.status),
            ("schemes", &self.schemes),
            ("scope", &self.scope),
        ]
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
        .collect();
        crate::base::log::sanitize(&parts.join(", "))
    }

    /// The challenge's status is one of `values` (servers write it as a number or a word).
    pub(super) fn status_is(&self, values: &[&str]) -> bool {
        self.status
            .as_deref()
            .is_some_and(|status| values.iter().any(|v| status.eq_ignore_ascii_case(v)))
    }
}

/// The reply a client sends to a failure challenge so the server can finish with its final
/// answer: XOAUTH2 wants an empty response, OAUTHBEARER a single ^A (RFC 7628 section 3.2.3).
pub(crate) fn dummy_response(method: SaslMethod) -> &'static [u8] {
    match method {
        SaslMethod::Xoauth2 => b"",
        SaslMethod::Oauthbearer => b"\x01",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_challenge_is_decoded() {
        // {"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}
        let challenge = Challenge::from_base64(
            "eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
        )
        .unwrap();
        assert_eq!(challenge.status.as_deref(), Some("401"));
        assert_eq!(
            challenge.summary(),
            "status 401, schemes bearer, scope https://mail.google.com/"
        );
    }

    #[test]
    fn non_json_and_empty_challenges() {
        assert_eq!(Challenge::parse(b""), None);
        assert_eq!(
            Challenge::parse(b"go away").unwrap().summary(),
            "go away".to_string()
        );
        let numeric = Challenge::parse(br#"{"status":401}"#).unwrap();
        assert_eq!(numeric.status.as_deref(), Some("401"));
    }

    #[test]
    fn dummy_responses_follow_rfc7628() {
        assert_eq!(dummy_response(SaslMethod::Xoauth2), b"");
        assert_eq!(dummy_response(SaslMethod::Oauthbearer), b"\x01");
    }
}
