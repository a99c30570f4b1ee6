//! `--client-file FILE`: the registration read from the file the provider's console gave the
//! user, in place of `--provider`, `--client-id`, `--client-secret` and the endpoints, and
//! checked (`registration_check`) before the browser opens. Flags given beside it still win,
//! except `--client-id`, which clap refuses beside it: a file names its own client.

use super::registration_check::{self, Attempt, Defect};
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::secret::Secret;
use crate::cli::settings::Settings;
use crate::oauth::client_file::{self, Audience, ClientFile, GoogleKind};
use crate::oauth::provider::Registration;
use crate::store::tokenfile::Flow;

/// `settings` with what the client file says, and the file; `None` without `--client-file`.
pub(super) fn apply(settings: &Settings) -> Result<Option<(Settings, ClientFile)>> {
    let Some(path) = &settings.authorize.client_file else {
        return Ok(None);
    };
    let file = client_file::read(path)?;
    let shown = path.display();
    let mut settings = settings.clone();
    let flags = &mut settings.overrides;
    let mut said = format!(
        "mailtoken: {shown} is {}, client id {}",
        file.kind(),
        log::sanitize(file.client_id())
    );
    match &file {
        ClientFile::Google(client) => {
            if client.kind == GoogleKind::Web {
                return Err(web_client(path));
            }
            flags.provider.get_or_insert_with(|| "google".into());
            flags.client_id = Some(client.client_id.clone());
            if flags.client_secret.is_none() {
                // A Desktop client's secret is not secret in Google's sense, but its token
                // endpoint wants it; an empty one says "public".
                flags.client_secret = Some(client.client_secret.clone().unwrap_or_default());
            }
            // The file's endpoints are Google's current ones for this client.
            for (field, value, what) in [
                (
                    &mut flags.authorize_endpoint,
                    &client.auth_uri,
                    "authorization endpoint",
                ),
                (
                    &mut flags.token_endpoint,
                    &client.token_uri,
                    "token endpoint",
                ),
            ] {
                if field.is_none()
                    && let Some(value) = value
                {
                    crate::oauth::provider::check_endpoint(what, value)?;
                    *field = Some(value.clone());
                }
            }
            if let Some(project) = &client.project_id {
                said.push_str(&format!(" (project {})", log::sanitize(project)));
            }
        }
        ClientFile::Entra(app) => {
            flags.provider.get_or_insert_with(|| "microsoft".into());
            flags.client_id = Some(app.app_id.clone());
            // The tenant the app's audience calls for, when none was given: its own for a
            // single-tenant app (AADSTS50194 at common), consumers for a personal-only one.
            if flags.tenant.is_none() {
                flags.tenant = match (&app.audience, &app.publisher_domain) {
                    (Some(Audience::MyOrg), Some(domain)) => Some(domain.clone()),
                    // Only for an address that is a personal account's: another address with
                    // a personal-only app is a defect the check names.
                    (Some(Audience::PersonalOnly), _) if personal(flags.email.as_deref()) => {
                        Some("consumers".into())
                    }
                    _ => None,
                };
                if let Some(tenant) = &flags.tenant {
                    said.push_str(&format!(
                        "; signing in at tenant {} (its audience is {})",
                        log::sanitize(tenant),
                        app.audience
                            .as_ref()
                            .map(Audience::name)
                            .unwrap_or_default()
                    ));
                }
            }
            let delegated = settings.authorize.flow != Some(Flow::Clientcredentials)
                && settings.authorize.client_certificate.is_none();
            // A public client unless a secret is given: an Entra app used by a person's
            // sign-in must not present one (AADSTS700025).
            if delegated
                && flags.client_secret.is_none()
                && crate::base::environment::client_secret().is_none()
            {
                flags.client_secret = Some(Secret::default());
            }
        }
    }
    log::say(said);
    Ok(Some((settings, file)))
}

/// Whether an address is at a domain of Microsoft's personal accounts (outlook.com, ...), or
/// there is no address to tell by.
fn personal(email: Option<&str>) -> bool {
    let Some(domain) = email.map(crate::oauth::provider::domains::domain_of) else {
        return true;
    };
    domain
        .and_then(crate::oauth::provider::domains::by_domain)
        .is_some_and(|guess| guess.tenant == Some("consumers"))
}

/// Google sends a Web application's sign-in only to the exact addresses registered in the
/// console: mailtoken's loopback listener, on a port chosen for each sign-in, is not one of them,
/// so Google would answer redirect_uri_mismatch in the browser. A Desktop app client accepts any
/// loopback port ("OAuth 2.0 for Mobile & Desktop Apps", loopback IP address).
fn web_client(path: &std::path::Path) -> Error {
    Error::config(format!(
        "{} is a Google \"Web application\" client: Google sends its sign-in only to the \
         addresses registered for it, never to mailtoken's loopback address (redirect_uri_mismatch \
         in the browser), so nothing was opened",
        path.display()
    ))
    .hint(
        "in the Google Cloud console, APIs & Services, Credentials: Create credentials, OAuth \
         client ID, application type \"Desktop app\" (it accepts any loopback port); download its \
         JSON and pass that with --client-file",
    )
}

/// Checks the registration against this sign-in: warnings said, defects that must fail said and
/// then refused with 78, before anything opens.
pub(super) fn check(
    file: &ClientFile,
    flow: Flow,
    registration: &Registration,
    email: &str,
    secret: bool,
) -> Result<()> {
    let ClientFile::Entra(app) = file else {
        return Ok(());
    };
    let attempt = Attempt {
        flow,
        registration,
        email: Some(email),
        secret,
    };
    report(&registration_check::entra(app, &attempt))
}

fn report(defects: &[Defect]) -> Result<()> {
    let failing = defects.iter().filter(|defect| defect.fails).count();
    for defect in defects {
        if defect.fails {
            log::say(format!("mailtoken: registration: {}", defect.line));
        } else {
            log::warn(format!("registration: {}", defect.line));
        }
    }
    if failing == 0 {
        return Ok(());
    }
    Err(Error::config(format!(
        "the app registration cannot sign in this way ({failing} defect{} above); nothing was \
         opened",
        if failing == 1 { "" } else { "s" }
    ))
    .hint("fix the registration as each line says, export its manifest again and run this again"))
}
