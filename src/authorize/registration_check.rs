//! The registration checked before the browser opens: what a client file says about the app,
//! against the address, tenant and flow of this sign-in. One line per defect, naming what it
//! would cause (the provider's error code, as Microsoft's error table and users' reports give it)
//! and the fix in the provider's console. A defect that must fail stops the sign-in with 78
//! before anything opens; one that may work (a permission the user can still consent to at sign-in)
//! is a warning.
//!
//! The rules, with their sources:
//! - AADSTS9002332 ("configured for use by Microsoft Entra users only. Please do not use the
//!   /consumers endpoint") and AADSTS50194 ("isn't configured as a multitenant application. Usage
//!   of the /common endpoint isn't supported"): Microsoft's error-code table.
//! - AADSTS9002331 ("configured for use by Microsoft Account users only. Please use the /consumers
//!   endpoint"): the text as a user met it (oxalica/onedrive-api#3); the number is Microsoft's
//!   neighbour of 9002332, not shown beside the text anywhere we found (reconstructed).
//! - AADSTS7000218 for a public client whose app does not allow public client flows, or whose
//!   loopback redirect is registered as a Web redirect ("Entra considers applications having only a
//!   'web' redirect URI to be confidential clients", Azure/azure-sdk-for-go#22386).
//! - AADSTS700025 ("Client is public so neither 'client_assertion' nor 'client_secret' should be
//!   presented") and AADSTS50011 (the reply address is not registered): Microsoft's table.
//! - AADSTS65001 ("The user or administrator hasn't consented"): a permission not requested by the
//!   app must be consented at sign-in, which an organisation may not let its users do.

use crate::base::log;
use crate::oauth::client_file::{
    Audience, EXCHANGE_ONLINE, EntraApp, MICROSOFT_GRAPH, PermissionKind,
};
use crate::oauth::provider::{Registration, domains};
use crate::store::tokenfile::Flow;

/// Where to fix an app registration.
const PORTAL: &str = "in the Microsoft Entra admin center (App registrations, the app)";

/// One thing wrong with the registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Defect {
    /// The sign-in cannot succeed while it is there.
    pub fails: bool,
    pub line: String,
}

fn fails(line: String) -> Defect {
    Defect { fails: true, line }
}

fn may_work(line: String) -> Defect {
    Defect { fails: false, line }
}

/// What this sign-in is: the flow, the address, and whether a secret will be sent.
pub(crate) struct Attempt<'a> {
    pub flow: Flow,
    pub registration: &'a Registration,
    pub email: Option<&'a str>,
    pub secret: bool,
}

/// Who signs in, as far as the address and tenant say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Account {
    Personal,
    Work,
    Unknown,
}

fn account_kind(attempt: &Attempt) -> Account {
    match attempt.registration.tenant.as_deref() {
        Some("consumers") => return Account::Personal,
        Some("organizations") => return Account::Work,
        _ => {}
    }
    let Some(domain) = attempt.email.and_then(domains::domain_of) else {
        return Account::Unknown;
    };
    match domains::by_domain(domain) {
        Some(guess) if guess.tenant == Some("consumers") => Account::Personal,
        Some(_) => Account::Unknown,
        None => Account::Work,
    }
}

/// Every defect of an Entra app registration for this sign-in, most serious first.
pub(crate) fn entra(app: &EntraApp, attempt: &Attempt) -> Vec<Defect> {
    let mut found = Vec::new();
    audience(app, attempt, &mut found);
    let tenant = attempt.registration.tenant.as_deref().unwrap_or("common");
    if app.audience == Some(Audience::MyOrg) && ["common", "organizations"].contains(&tenant) {
        let fix = match &app.publisher_domain {
            Some(domain) => format!("--tenant {}", log::sanitize(domain)),
            None => "--tenant TENANT-ID".to_string(),
        };
        found.push(fails(format!(
            "the app is single-tenant (signInAudience AzureADMyOrg) and would be signed in with \
             the {tenant} endpoint: Microsoft answers AADSTS50194; sign in at the app's own \
             tenant with {fix}, or {PORTAL}, Authentication, make it multitenant"
        )));
    }
    if attempt.flow != Flow::Clientcredentials {
        public_client(app, attempt, &mut found);
    }
    permissions(app, attempt, &mut found);
    found.sort_by_key(|defect| !defect.fails);
    found
}

fn audience(app: &EntraApp, attempt: &Attempt, found: &mut Vec<Defect>) {
    let Some(audience) = &app.audience else {
        return;
    };
    let address = attempt.email.map(log::sanitize).unwrap_or_default();
    let types = format!("{PORTAL}, Authentication, Supported account types");
    match account_kind(attempt) {
        Account::Personal if !audience.takes_personal_accounts() => found.push(fails(format!(
            "the app takes work and school accounts only (signInAudience {}), and {address} is \
             a personal Microsoft account: Microsoft answers AADSTS9002332 (configured for use by \
             Microsoft Entra users only); {types}: choose one that includes personal Microsoft \
             accounts",
            audience.name()
        ))),
        Account::Work if !audience.takes_work_accounts() => found.push(fails(format!(
            "the app takes personal Microsoft accounts only (signInAudience \
             PersonalMicrosoftAccount), and {address} is a work or school account: Microsoft \
             answers AADSTS9002331 (configured for use by Microsoft Account users only); {types}: \
             choose one that includes organizational directories"
        ))),
        _ if *audience == Audience::PersonalOnly
            && attempt.registration.tenant.as_deref() != Some("consumers") =>
        {
            found.push(fails(
                "the app takes personal Microsoft accounts only (signInAudience \
                 PersonalMicrosoftAccount) and would be signed in at another endpoint than \
                 /consumers: Microsoft answers AADSTS9002331 (please use the /consumers \
                 endpoint); pass --tenant consumers"
                    .to_string(),
            ))
        }
        _ => {}
    }
}

/// The redirect and client type a delegated sign-in needs.
fn public_client(app: &EntraApp, attempt: &Attempt, found: &mut Vec<Defect>) {
    let flows_on = app.public_client_flows == Some(true);
    if attempt.flow == Flow::Devicecode {
        if !flows_on && !attempt.secret {
            found.push(fails(format!(
                "the device flow is a public client flow, and the app does not allow public \
                 client flows (isFallbackPublicClient is {}): Microsoft answers AADSTS7000218; \
                 {PORTAL}, Authentication, Advanced settings: set \"Allow public client flows\" \
                 to Yes",
                if app.public_client_flows.is_some() {
                    "false"
                } else {
                    "not set"
                }
            )));
        }
        if flows_on && attempt.secret {
            found.push(secret_on_public_client());
        }
        return;
    }
    let redirect = redirect_of(attempt);
    let public = app
        .public_client_redirects
        .iter()
        .any(|r| same_redirect(r, &redirect));
    let web = app
        .web_redirects
        .iter()
        .chain(&app.spa_redirects)
        .any(|r| same_redirect(r, &redirect));
    let shown = log::sanitize(&redirect);
    if public && attempt.secret {
        found.push(secret_on_public_client());
    } else if !public && web && !attempt.secret {
        found.push(fails(format!(
            "{shown} is registered as a Web redirect, so Microsoft treats the app as a \
             confidential client and wants a secret: it answers AADSTS7000218; {PORTAL}, \
             Authentication: add {shown} under \"Mobile and desktop applications\" instead"
        )));
    } else if !public && !web {
        let flow = attempt.flow.name();
        found.push(fails(format!(
            "the {flow} flow sends the redirect address {shown}, which the app does not list: \
             Microsoft answers AADSTS50011 in the browser; {PORTAL}, Authentication, \"Mobile and \
             desktop applications\": add {}",
            log::sanitize(&registrable(&redirect))
        )));
    }
}

fn secret_on_public_client() -> Defect {
    fails(format!(
        "a client secret would be sent for a public client (the redirect is a \"Mobile and \
         desktop applications\" one, or public client flows are on): Microsoft answers \
         AADSTS700025 (Client is public so neither 'client_assertion' nor 'client_secret' should \
         be presented); leave the secret out with --client-secret '', or {PORTAL} register the \
         redirect as a Web one"
    ))
}

/// The permissions the app requests ahead of the sign-in.
fn permissions(app: &EntraApp, attempt: &Attempt, found: &mut Vec<Defect>) {
    let exchange = |kind| {
        app.permissions
            .iter()
            .any(|p| p.resource == EXCHANGE_ONLINE && p.kind == kind)
    };
    if attempt.flow == Flow::Clientcredentials {
        if !app.has_secrets && !app.has_certificates {
            found.push(may_work(format!(
                "the app has no client secret and no certificate, and signing in as itself needs                  one: Microsoft answers AADSTS7000215 to any secret given; {PORTAL}, Certificates                  & secrets: add one"
            )));
        }
        if !exchange(PermissionKind::Application) {
            found.push(may_work(format!(
                "the app requests no application permission of Office 365 Exchange Online \
                 (IMAP.AccessAsApp, POP.AccessAsApp or SMTP.SendAsApp): its token will carry no \
                 mail role and the mail servers refuse it; {PORTAL}, API permissions: add them \
                 and have an administrator grant them (mailtoken --admin-request says what to ask)"
            )));
        }
        return;
    }
    let named = |name: &str| {
        app.permissions.iter().any(|p| {
            p.kind == PermissionKind::Delegated
                && (p.resource == MICROSOFT_GRAPH || p.resource == EXCHANGE_ONLINE)
                && p.name() == Some(name)
        })
    };
    let mail = exchange(PermissionKind::Delegated)
        || ["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"]
            .iter()
            .any(|name| named(name));
    let mut missing = Vec::new();
    if !mail {
        missing.push("IMAP.AccessAsUser.All, POP.AccessAsUser.All or SMTP.Send");
    }
    if !named("offline_access") {
        missing.push("offline_access");
    }
    if !missing.is_empty() {
        found.push(may_work(format!(
            "the app requests no {} permission: the sign-in asks for it, which works only where \
             users may consent themselves (otherwise AADSTS65001 or AADSTS90094); {PORTAL}, API \
             permissions: add the delegated permissions (mailtoken --admin-request says what to \
             ask an administrator)",
            missing.join(" and no ")
        )));
    }
}

/// The redirect address the sign-in's flow sends (as `code` and `loopback` choose it).
fn redirect_of(attempt: &Attempt) -> String {
    let registration = attempt.registration;
    if let Some(uri) = &registration.redirect_uri {
        return uri.clone();
    }
    match attempt.flow {
        Flow::Authcode => crate::oauth::provider::microsoft_native_client(registration),
        _ => super::code::default_loopback_redirect(&registration.provider).to_string(),
    }
}

/// Whether a registered redirect takes the one sent: Microsoft ignores the port of a loopback
/// redirect ("Redirect URI (reply URL) restrictions": localhost with any port), and a trailing
/// slash makes no difference to a bare host.
fn same_redirect(registered: &str, sent: &str) -> bool {
    let parse = |text: &str| oauth2::url::Url::parse(text).ok();
    let (Some(registered), Some(sent)) = (parse(registered), parse(sent)) else {
        return registered == sent;
    };
    let loopback = crate::oauth::provider::is_loopback_url(&sent);
    registered.scheme() == sent.scheme()
        && registered.host_str() == sent.host_str()
        && (loopback || registered.port_or_known_default() == sent.port_or_known_default())
        && registered.path().trim_end_matches('/') == sent.path().trim_end_matches('/')
}

/// The address to register for a redirect: a loopback one without its port.
pub(super) fn registrable(redirect: &str) -> String {
    match oauth2::url::Url::parse(redirect) {
        Ok(mut url) if crate::oauth::provider::is_loopback_url(&url) => {
            let _ = url.set_port(None);
            url.as_str().trim_end_matches('/').to_string()
        }
        _ => redirect.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port_and_others_exactly() {
        assert!(same_redirect("http://localhost", "http://localhost:8400/"));
        assert!(same_redirect("http://localhost/", "http://localhost/"));
        assert!(!same_redirect(
            "https://localhost",
            "http://localhost:8400/"
        ));
        assert!(!same_redirect("http://127.0.0.1", "http://localhost/"));
        assert!(same_redirect(
            "https://login.microsoftonline.com/common/oauth2/nativeclient",
            "https://login.microsoftonline.com/common/oauth2/nativeclient"
        ));
        assert!(!same_redirect(
            "https://example.com:8443/cb",
            "https://example.com/cb"
        ));
        assert_eq!(registrable("http://localhost:8400/"), "http://localhost");
    }
}
