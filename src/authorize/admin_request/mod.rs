//! `--admin-request`: what the administrator of a Microsoft Entra tenant must do before the
//! users of an app can sign in, printed for the user to send on. It is needed before the first
//! sign-in, so it is made from a TOKENFILE, or from the flags `--authorize` takes (a client file
//! too), and it changes nothing. No secret is ever part of it.
//!
//! Its parts, each from Microsoft's documentation:
//! - the v2.0 admin-consent URL (entra-docs, "Admin consent on the Microsoft identity platform":
//!   `https://login.microsoftonline.com/{tenant}/v2.0/adminconsent?client_id=...&scope=...
//!   &redirect_uri=...`; `tenant` "Can be provided in GUID or friendly name format OR generically
//!   referenced with `organizations`... Do not use 'common'"; the redirect "must exactly match one
//!   of the redirect URIs that you registered"), on the account's cloud's login host;
//! - for an app that signs in as itself, the scope `https://outlook.office365.com/.default` and
//!   the Exchange Online PowerShell lines that register its service principal and grant it the
//!   mailbox ("Authenticate an IMAP, POP or SMTP connection using OAuth", service principals), and
//!   `Add-RecipientPermission ... -AccessRights SendAs` for sending (the same page's note; the
//!   line as Microsoft's Exchange Online documentation writes it);
//! - for SMTP, `Set-CASMailbox -Identity ... -SmtpClientAuthenticationDisabled $false` (Microsoft's
//!   troubleshooting article for 5.7.139, which `--test` names).
//!
//! Gathering is here; the words are `letter`.

mod letter;

use super::client_file;
use super::prompt::Prompter;
use super::registration_choice;
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::cli::settings::Settings;
use crate::oauth::client_file::ClientFile;
use crate::oauth::http::Http;
use crate::oauth::provider::Registration;
use crate::store::tokenfile::{Flow, TokenFile};

pub(crate) use letter::Request;

/// The redirect registered for a Microsoft public client when nothing else says which:
/// docs/providers.md's "Register `http://localhost` (Public client/native)".
const DEFAULT_REDIRECT: &str = "http://localhost";

/// Prints the request for the account, or for the flags given.
pub(crate) fn run(settings: &Settings) -> Result<()> {
    let from_file = client_file::apply(settings)?;
    let (settings, file) = match &from_file {
        Some((settings, file)) => (settings, Some(file)),
        None => (settings, None),
    };
    let stored = stored(settings)?;
    let ask = Prompter::for_stdin();
    let http = Http::new();
    let registration =
        registration_choice::resolve(&http, settings, stored.as_ref(), &ask)?.registration;
    let request = gather(settings, stored.as_ref(), file, &registration)?;
    let text = if settings.json {
        format!("{}\n", request.json())
    } else {
        request.letter()
    };
    crate::cli::output::print_text(&text)
}

/// The account's file, when TOKENFILE names one that exists.
fn stored(settings: &Settings) -> Result<Option<TokenFile>> {
    if settings.token_given.is_empty() {
        return Ok(None);
    }
    let account = settings.account();
    if !account.exists() {
        return Ok(None);
    }
    account.load().map(|loaded| Some(loaded.token))
}

/// Everything the request says, or why there is nothing to request.
pub(crate) fn gather(
    settings: &Settings,
    stored: Option<&TokenFile>,
    file: Option<&ClientFile>,
    registration: &Registration,
) -> Result<Request> {
    let provider = log::sanitize(&registration.provider);
    if registration.provider != "microsoft" {
        return Err(Error::usage(format!(
            "--admin-request is for Microsoft Entra tenants, and this account is at {provider}: \
             no tenant administrator consents for its users there"
        ))
        .hint(
            "an organisation's own policy is set in the provider's console by its administrator; \
             a personal account needs nobody's consent but its own, at sign-in",
        ));
    }
    let tenant = registration
        .tenant
        .clone()
        .unwrap_or_else(|| "common".into());
    if tenant == "consumers" {
        return Err(Error::usage(
            "this account signs in at the consumers tenant: personal Microsoft accounts have no \
             administrator, and each user consents for themself at sign-in, so there is nothing \
             to request",
        )
        .hint("for a work or school account, give its tenant with --tenant"));
    }
    let client_id = settings
        .overrides
        .client_id
        .clone()
        .or_else(|| stored.map(|token| token.client_id.clone()))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::usage("no client id: the administrator needs the app's id")
                .hint("pass --client-id ID or --client-file FILE, or name an account's TOKENFILE")
        })?;
    let app = match file {
        Some(ClientFile::Entra(app)) => Some(app.as_ref()),
        _ => None,
    };
    let flow = settings
        .authorize
        .flow
        .or(stored.map(|token| token.flow))
        .unwrap_or(if settings.authorize.client_certificate.is_some() {
            Flow::Clientcredentials
        } else {
            Flow::Localhostauthcode
        });
    // The redirect of the admin consent must be registered exactly, and a loopback one is
    // registered without its port (Microsoft ignores the port of the sign-ins' own).
    let redirect_uri = registration
        .redirect_uri
        .clone()
        .or_else(|| {
            app.and_then(|app| {
                app.public_client_redirects
                    .iter()
                    .chain(&app.web_redirects)
                    .next()
                    .cloned()
            })
        })
        .map(|redirect| super::registration_check::registrable(&redirect))
        .unwrap_or_else(|| DEFAULT_REDIRECT.into());
    let mailbox = settings
        .overrides
        .email
        .clone()
        .or_else(|| stored.map(|token| token.email.clone()))
        .filter(|email| !email.is_empty());
    Ok(Request {
        cloud: registration.cloud.unwrap_or_default(),
        tenant,
        app_id: client_id,
        app_name: app.and_then(|app| app.display_name.clone()),
        app_only: flow == Flow::Clientcredentials,
        scope: registration.scope.clone(),
        redirect_uri,
        mailbox,
        imap: registration.imap_endpoint.is_some(),
        pop: registration.pop_endpoint.is_some(),
        smtp: registration.smtp_endpoint.is_some(),
    })
}
