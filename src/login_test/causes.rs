//! The likely causes of a refused login, in plain words, most likely first: from what the server
//! replied, its failure challenge, the host (Microsoft 365 and Gmail refuse in their own ways)
//! and the scope the token was granted.

use super::challenge::Challenge;
use crate::mail::mailserver::Protocol;
use crate::oauth::provider::GMAIL_SCOPE;

/// What is known about a refused login.
pub struct Facts<'a> {
    pub protocol: Protocol,
    /// The mail server's host name.
    pub host: &'a str,
    /// The SASL user: the account's address, or its shared mailbox.
    pub email: &'a str,
    /// Who signed in, when that is not the SASL user: the delegate of a shared mailbox
    /// (`--mailbox`).
    pub delegate: Option<&'a str>,
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

    // Microsoft 365: "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is
    // disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled ..." (MailKit and
    // email-oauth2-proxy threads, tests/corpus/mail_answers.md).
    if reply.contains("smtpclientauthentication is disabled") {
        causes.push(
            "SMTP AUTH is turned off for the whole Microsoft 365 tenant: an administrator must \
             turn it on (https://aka.ms/smtp_auth_disabled); mailtoken --admin-request prints \
             the line to send them"
                .to_string(),
        );
    } else if ["disabled", "not enabled"]
        .iter()
        .any(|word| reply.contains(word))
    {
        // Gmail: "Your account is not enabled for IMAP use".
        causes.push(format!(
            "{protocol} access is disabled for this account: turn it on in the mailbox's settings \
             (or ask its administrator)"
        ));
    }

    if let Some(missing) = missing_scope(facts) {
        causes.push(missing);
    }
    if is_microsoft(facts) {
        causes.extend(microsoft_causes(facts, &reply));
    }
    if is_gmail(facts) {
        causes.extend(gmail_causes(facts));
    }

    causes.extend(delegate_causes(facts, &reply));
    if facts.after_login && facts.delegate.is_none() {
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
    let mut seen = std::collections::HashSet::new();
    causes.retain(|cause| seen.insert(cause.clone()));
    causes
}

/// A mailbox the login may not open or send as. Exchange Online accepts the login of a user
/// without rights on the SASL user's mailbox, then answers the next IMAP command "BAD User is
/// authenticated but not connected." (simonrob/email-oauth2-proxy#74 and #275, imapsync#411),
/// and SMTP a sender it may not use "550 5.7.60 SMTP; Client does not have permissions to send as
/// this sender" (gophish#1600), at the end of the message "554 5.2.252 SendAsDenied; ... not
/// allowed to send as ..." (gophish#2900): tests/corpus/mail_answers.md. For a shared mailbox
/// the rights are Full Access and Send As, granted by the mailbox's administrator
/// ("Authenticate an IMAP, POP or SMTP connection using OAuth", shared mailboxes).
fn delegate_causes(facts: &Facts, reply: &str) -> Vec<String> {
    let mailbox = facts.email;
    let not_connected = reply.contains("authenticated but not connected");
    let send_as = [
        "sendasdenied",
        "5.7.60",
        "not allowed to send as",
        "send as this sender",
    ]
    .iter()
    .any(|words| reply.contains(words));
    match (facts.delegate, not_connected, send_as) {
        (Some(delegate), true, _) => vec![format!(
            "{delegate} signed in, but may not open the mailbox {mailbox}: it lacks Full Access \
             to it, which the mailbox's administrator grants (Exchange Online: \
             Add-MailboxPermission -Identity {mailbox} -User {delegate} -AccessRights FullAccess)"
        )],
        (Some(delegate), _, true) => vec![format!(
            "{delegate} signed in, but may not send as {mailbox}: it lacks Send As, which the \
             mailbox's administrator grants (Exchange Online: Add-RecipientPermission -Identity \
             {mailbox} -Trustee {delegate} -AccessRights SendAs)"
        )],
        (None, true, _) => vec![format!(
            "the login is not {mailbox}'s: someone else signed in (--status says who); sign in \
             as {mailbox} again, or, if {mailbox} is a shared mailbox, give --mailbox {mailbox} \
             with --email set to the address that signs in"
        )],
        (None, _, true) => vec![format!(
            "the signed-in user may not send as {mailbox}: its mailbox's administrator grants \
             Send As"
        )],
        _ => Vec::new(),
    }
}

fn is_microsoft(facts: &Facts) -> bool {
    let host = facts.host.to_ascii_lowercase();
    host.ends_with(".office365.com") || host.ends_with(".outlook.com")
}

fn is_gmail(facts: &Facts) -> bool {
    facts.host.to_ascii_lowercase().ends_with(".gmail.com")
        || facts
            .challenge
            .and_then(|c| c.scope.as_deref())
            .is_some_and(|scope| scope == GMAIL_SCOPE)
}

/// Exchange Online refuses with no challenge and one fixed line per protocol (IMAP "NO
/// AUTHENTICATE failed.", POP "-ERR Authentication failure: unknown user name or bad password.",
/// SMTP "535 5.7.3 Authentication unsuccessful"); Microsoft's "Authenticate an IMAP, POP or SMTP
/// connection using OAuth" and the threads in tests/corpus/mail_answers.md name the causes.
fn microsoft_causes(facts: &Facts, reply: &str) -> Vec<String> {
    let email = facts.email;
    let generic = reply.contains("authenticate failed")
        || reply.contains("authentication failure")
        || reply.contains("5.7.3");
    if !generic {
        return Vec::new();
    }
    let switch = match facts.protocol {
        Protocol::Imap => {
            "IMAP is disabled for the mailbox (an administrator runs \
                           Set-CASMailbox -ImapEnabled $true)"
        }
        Protocol::Pop => {
            "POP is disabled for the mailbox (an administrator runs \
                          Set-CASMailbox -PopEnabled $true)"
        }
        Protocol::Smtp => {
            "SMTP AUTH is disabled for the mailbox, or the tenant's security \
                           defaults block it (an administrator runs Set-CASMailbox \
                           -SmtpClientAuthenticationDisabled $false)"
        }
    };
    vec![
        switch.to_string(),
        format!(
            "{email} is not the mailbox the token was issued for (change it with --email); with \
             client credentials, the app's service principal lacks access to the mailbox \
             (Add-MailboxPermission)"
        ),
        "the token is for another resource: the scopes must be the \
         https://outlook.office.com/... ones, not Microsoft Graph's"
            .to_string(),
    ]
}

/// Gmail answers an invalid or under-scoped token with the challenge
/// {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"} (not only 401), then
/// "NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)" or "535-5.7.8 Username and Password
/// not accepted" (google/gmail-oauth2-tools#78, PHPMailer#2693).
fn gmail_causes(facts: &Facts) -> Vec<String> {
    let granted = words(facts.token_scope);
    let mut causes = Vec::new();
    if !granted.is_empty() && !granted.contains(&GMAIL_SCOPE) {
        causes.push(format!(
            "the token lacks {GMAIL_SCOPE}, the only scope Gmail accepts for {} (it has {}): \
             sign in again with --authorize --scope {GMAIL_SCOPE}",
            facts.protocol.name(),
            granted.join(" ")
        ));
    } else if granted.is_empty()
        && facts
            .challenge
            .is_some_and(|c| c.status_is(&["400", "401"]))
    {
        causes.push(format!(
            "Gmail refuses the token: it lacks {GMAIL_SCOPE} (Gmail answers \"400\" for a token \
             without it), or it was revoked"
        ));
    }
    // A token issued moments ago gets its own sentence about the address below.
    if !facts.fresh_token {
        causes.push(format!(
            "{} is not the Google account that signed in (change it with --email)",
            facts.email
        ));
    }
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
            host: "mail.example.com",
            email: "user@example.com",
            delegate: None,
            token_scope: Some("https://mail.google.com/"),
            fresh_token: false,
            after_login: false,
            reply,
            challenge,
        }
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

    // Gmail's challenge for a token without https://mail.google.com/ (google/gmail-oauth2-tools#78):
    // S: + eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==
    // S: ILPK1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)
    #[test]
    fn gmail_status_400_puts_the_scope_and_the_account_first() {
        let challenge = Challenge::from_base64(
            "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
        )
        .unwrap();
        let reply = "ILPK1 NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)";
        let mut f = facts(Some(&challenge), Some(reply));
        f.host = "imap.gmail.com";
        f.token_scope = Some("https://www.googleapis.com/auth/gmail.modify");
        let causes = explain(&f);
        assert!(
            causes[0].contains("lacks https://mail.google.com/")
                && causes[0].contains("gmail.modify"),
            "{causes:?}"
        );
        assert!(causes[1].contains("not the Google account"), "{causes:?}");

        // Scope unknown: still the scope first, then the account.
        f.token_scope = None;
        let causes = explain(&f);
        assert!(causes[0].contains("Gmail answers \"400\""), "{causes:?}");
        assert!(causes[1].contains("not the Google account"), "{causes:?}");
    }

    // Exchange Online's three refusals, verbatim from Microsoft's "Authenticate an IMAP, POP or
    // SMTP connection using OAuth" and MailKit#690, email-oauth2-proxy#244, MailKit#1126.
    #[test]
    fn microsoft_refusals_name_the_mailbox_switches() {
        for (protocol, reply, switch) in [
            (
                Protocol::Imap,
                "B00000001 NO AUTHENTICATE failed.",
                "-ImapEnabled",
            ),
            (
                Protocol::Pop,
                "-ERR Authentication failure: unknown user name or bad password.",
                "-PopEnabled",
            ),
            (
                Protocol::Smtp,
                "535 5.7.3 Authentication unsuccessful [GVYP280CA0011.SWEP280.PROD.OUTLOOK.COM \
                 2023-02-06T21:34:15.820Z 08DB0823FF6976E9]",
                "-SmtpClientAuthenticationDisabled",
            ),
        ] {
            let mut f = facts(None, Some(reply));
            f.protocol = protocol;
            f.host = "outlook.office365.com";
            f.token_scope = Some(
                "offline_access https://outlook.office.com/IMAP.AccessAsUser.All \
                 https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
            );
            let causes = explain(&f);
            assert!(causes[0].contains(switch), "{causes:?}");
            assert!(causes[1].contains("not the mailbox"), "{causes:?}");
        }
    }

    // MailKit and email-oauth2-proxy threads (tests/corpus/mail_answers.md).
    #[test]
    fn smtp_auth_off_for_the_tenant_is_named() {
        let reply = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled \
                     for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. \
                     [MN2PR05CA0004.namprd05.prod.outlook.com 2023-09-12T20:59:57.214Z 08DBB276B7E699C4]";
        let mut f = facts(None, Some(reply));
        f.protocol = Protocol::Smtp;
        f.host = "smtp.office365.com";
        let causes = explain(&f);
        assert!(causes[0].contains("--admin-request"), "{causes:?}");
        assert!(
            causes[0].contains("whole Microsoft 365 tenant")
                && causes[0].contains("aka.ms/smtp_auth_disabled"),
            "{causes:?}"
        );
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
