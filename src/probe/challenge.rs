//! The server's side of a refused login, in plain words: the base64 JSON challenge that XOAUTH2
//! and OAUTHBEARER servers send before the final "no" (RFC 7628 section 3.2.2), and the likely
//! reasons behind it.

use base64::Engine;

use crate::cli::{Protocol, SaslMethod};

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
            return crate::log::sanitize(text);
        }
        let parts: Vec<String> = [
            ("status", &self.status),
            ("schemes", &self.schemes),
            ("scope", &self.scope),
        ]
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name} {v}")))
        .collect();
        crate::log::sanitize(&parts.join(", "))
    }

    fn status_is(&self, values: &[&str]) -> bool {
        self.status
            .as_deref()
            .is_some_and(|status| values.iter().any(|v| status.eq_ignore_ascii_case(v)))
    }
}

/// The reply a client sends to a failure challenge so the server can finish with its final
/// answer: XOAUTH2 wants an empty response, OAUTHBEARER a single ^A (RFC 7628 section 3.2.3).
pub fn dummy_response(method: SaslMethod) -> &'static [u8] {
    match method {
        SaslMethod::Xoauth2 => b"",
        SaslMethod::Oauthbearer => b"\x01",
    }
}

/// What is known about a refused login.
pub struct Facts<'a> {
    pub protocol: Protocol,
    pub email: &'a str,
    /// The scope the token was granted (or requested, when the provider did not say).
    pub token_scope: Option<&'a str>,
    /// The token was issued during this run, so it cannot have expired.
    pub fresh_token: bool,
    /// The server accepted the login and refused the next command.
    pub after_login: bool,
    pub reply: Option<&'a str>,
    pub challenge: Option<&'a Challenge>,
}

/// The likely causes, most likely first, each a sentence for a person.
pub fn explain(facts: &Facts) -> Vec<String> {
    let protocol = facts.protocol.name();
    let email = facts.email;
    let reply = facts.reply.unwrap_or("").to_ascii_lowercase();
    let mut causes = Vec::new();

    // Gmail: "Your account is not enabled for IMAP use"; Microsoft 365:
    // "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant".
    if ["disabled", "not enabled", "5.7.139"]
        .iter()
        .any(|word| reply.contains(word))
    {
        causes.push(format!(
            "{protocol} access is disabled for this account: turn it on in the mailbox's settings \
             (or ask its administrator)"
        ));
    }

    if let Some(missing) = missing_scope(facts) {
        causes.push(missing);
    }

    if facts.after_login {
        causes.push(format!(
            "the server accepted the login and then refused to open the mailbox: Microsoft does \
             this when {email} is not the account that signed in, or the mailbox has no {protocol} \
             licence"
        ));
    }

    let challenge = facts.challenge;
    if challenge.is_some_and(|c| c.status_is(&["400", "invalid_request"])) {
        causes.push(format!(
            "the server could not use the login request: {email} may not be the address of the \
             account that signed in (change it with --email)"
        ));
    }

    if causes.is_empty() || challenge.is_some_and(|c| c.status_is(&["401", "invalid_token"])) {
        if facts.fresh_token {
            causes.push(format!(
                "the token was issued moments ago, so it has not expired: {email} is probably not \
                 the account that signed in (change it with --email), or {protocol} access is \
                 disabled for the account"
            ));
        } else {
            causes.push(format!(
                "the token is not valid for this server: it may have been revoked or have expired \
                 early, {email} may not be the account that signed in, or {protocol} access may \
                 be disabled for the account"
            ));
        }
    }

    if let Some(different) = different_scope(facts) {
        causes.push(different);
    }
    causes.dedup();
    causes
}

fn words(scope: Option<&str>) -> Vec<&str> {
    scope
        .map(|scope| scope.split_whitespace().collect())
        .unwrap_or_default()
}

/// A sentence when the token certainly lacks a scope: the server says so (RFC 6750 section
/// 3.1 `insufficient_scope`), or a Microsoft token lacks the protocol's own scope.
fn missing_scope(facts: &Facts) -> Option<String> {
    let protocol = facts.protocol.name();
    let granted = words(facts.token_scope);
    let wanted = words(facts.challenge.and_then(|c| c.scope.as_deref()));

    if facts
        .challenge
        .is_some_and(|c| c.status_is(&["403", "insufficient_scope"]))
    {
        let wanted = if wanted.is_empty() {
            "a scope for this server".to_string()
        } else {
            wanted.join(" ")
        };
        let granted = if granted.is_empty() {
            "an unknown scope".to_string()
        } else {
            granted.join(" ")
        };
        return Some(format!(
            "the token lacks the scope the server requires ({wanted}); it has {granted}: sign in \
             again with --authorize and --scope"
        ));
    }

    // Microsoft's scopes name the protocol; a token without it is refused with no challenge.
    let microsoft_scope = match facts.protocol {
        Protocol::Imap => "IMAP.AccessAsUser.All",
        Protocol::Pop => "POP.AccessAsUser.All",
        Protocol::Smtp => "SMTP.Send",
    };
    let is_microsoft = granted
        .iter()
        .any(|scope| scope.contains("outlook.office.com/") || scope.contains("outlook.office365"));
    let has_protocol = granted.iter().any(|scope| scope.ends_with(microsoft_scope));
    if is_microsoft && !has_protocol {
        return Some(format!(
            "the token lacks the {protocol} scope (https://outlook.office.com/{microsoft_scope}): \
             sign in again with --authorize and a --scope that includes it"
        ));
    }
    None
}

/// A weaker sentence when the challenge names a scope the token does not have: servers name
/// scopes their own way (Dovecot says `mail` by default), so it may not matter.
fn different_scope(facts: &Facts) -> Option<String> {
    let granted = words(facts.token_scope);
    let wanted = words(facts.challenge.and_then(|c| c.scope.as_deref()));
    if wanted.is_empty()
        || granted.is_empty()
        || wanted.iter().any(|scope| granted.contains(scope))
        || facts
            .challenge
            .is_some_and(|c| c.status_is(&["403", "insufficient_scope"]))
    {
        return None;
    }
    Some(format!(
        "the server names the scope {} and the token has {}: if the server needs exactly that, \
         sign in again with --authorize and --scope",
        wanted.join(" "),
        granted.join(" ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(challenge: Option<&'a Challenge>, reply: Option<&'a str>) -> Facts<'a> {
        Facts {
            protocol: Protocol::Imap,
            email: "user@example.com",
            token_scope: Some("https://mail.google.com/"),
            fresh_token: false,
            after_login: false,
            reply,
            challenge,
        }
    }

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

    #[test]
    fn a_missing_scope_is_named() {
        let challenge = Challenge {
            status: Some("insufficient_scope".into()),
            scope: Some("mail-r mail-w".into()),
            ..Challenge::default()
        };
        let causes = explain(&facts(Some(&challenge), None));
        assert!(causes[0].contains("lacks the scope"), "{causes:?}");
        assert!(causes[0].contains("mail-r mail-w"), "{causes:?}");
    }

    #[test]
    fn a_differently_named_scope_comes_last() {
        // Dovecot's XOAUTH2 challenge names its own default scope.
        let challenge = Challenge {
            status: Some("401".into()),
            schemes: Some("bearer".into()),
            scope: Some("mail".into()),
            ..Challenge::default()
        };
        let causes = explain(&facts(Some(&challenge), None));
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert!(
            causes[0].starts_with("the token is not valid"),
            "{causes:?}"
        );
        assert!(
            causes[1].starts_with("the server names the scope mail"),
            "{causes:?}"
        );
    }

    #[test]
    fn a_disabled_protocol_is_recognised() {
        let causes = explain(&facts(
            None,
            Some("a1 NO [ALERT] Your account is not enabled for IMAP use."),
        ));
        assert!(causes[0].contains("IMAP access is disabled"), "{causes:?}");
    }

    #[test]
    fn a_fresh_token_points_at_the_address() {
        let challenge = Challenge {
            status: Some("401".into()),
            scope: Some("https://mail.google.com/".into()),
            ..Challenge::default()
        };
        let mut f = facts(Some(&challenge), None);
        f.fresh_token = true;
        let causes = explain(&f);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert!(causes[0].contains("user@example.com is probably not"));
    }

    #[test]
    fn microsoft_scope_without_the_protocol() {
        let mut f = facts(None, Some("a1 NO AUTHENTICATE failed."));
        f.protocol = Protocol::Pop;
        f.token_scope = Some("offline_access https://outlook.office.com/IMAP.AccessAsUser.All");
        let causes = explain(&f);
        assert!(causes[0].contains("POP.AccessAsUser.All"), "{causes:?}");
    }
}
