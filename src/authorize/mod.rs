//! `--authorize`: sign the user in once and write the token file.
//!
//! The pieces, in order: the previous file (re-authorizing keeps its registration, client and
//! encryption, flags overriding), the registration (`registration`: presets, discovery, flags),
//! missing values (`prompt`, only on a terminal), the flow (`code` for authcode and
//! localhostauthcode, `device`, or the client-credentials grant), and finally one locked, atomic
//! write. Nothing is written until the new tokens have arrived, so a failed sign-in leaves a
//! working login untouched. What every flow is given and gives back is in `request`.

mod browser;
mod choices;
mod code;
mod credentials;
mod device;
mod from_address;
pub(crate) mod listener;
mod loopback;
mod pages;
mod prompt;
mod qr;
mod questions;
mod registration;
mod request;
mod reuse;

use std::time::Instant;

use chrono::Utc;

use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::base::secret::Secret;
use crate::cli::settings::Settings;
use crate::oauth::grant;
use crate::oauth::http::Http;
use crate::oauth::provider_answer::Endpoint;
use crate::store::encryption::EncryptionSpec;
use crate::store::tokenfile::{Account, FORMAT_VERSION, Flow, TokenFile};

pub use choices::automatic_flow;
use choices::{
    check_encryption, check_flow, check_nothing_missing, choose_encryption, choose_flow,
    command_as_given, missing_provider,
};
use prompt::Prompter;
use request::{Obtained, Request};

/// Signs the user in, writes the token file, and returns it.
pub(crate) fn run(settings: &Settings) -> Result<TokenFile> {
    let account = settings.account();
    // A name that leads through another user's link is refused before anyone signs in.
    account.real_path()?;
    let previous = load_previous(&account)?;
    let ask = Prompter::for_stdin();
    let http = Http::new()?;
    // A signing key (service account, certificate): what it implies for the sign-in.
    let credential = credentials::signing(settings, previous.as_ref())?;
    let implied = credential
        .as_ref()
        .map(|credential| credentials::implied(settings, credential, previous.as_ref()))
        .transpose()?;
    let settings = implied.as_ref().unwrap_or(settings);
    // On a terminal the address comes first; then, as with `--email` alone, the provider its
    // domain names, said before anything else happens; the provider is asked for only when the
    // address does not say.
    let addressed = questions::address_first(settings, previous.as_ref(), &ask)?;
    let settings = addressed.as_ref().unwrap_or(settings);
    let guessed = from_address::guess(settings, previous.as_ref())?;
    let settings = guessed.as_ref().unwrap_or(settings);
    let asked = questions::provider(settings, previous.as_ref(), &ask)?;
    let settings = asked.as_ref().unwrap_or(settings);

    // Without a terminal, every missing value is reported at once: before anything else when the
    // provider is among them (nothing can be checked without it), else after the checks that
    // need no values, so an impossible flow is still refused first.
    let unattended = !ask.is_terminal();
    if unattended && missing_provider(settings, previous.as_ref()) {
        check_nothing_missing(settings, previous.as_ref())?;
    }
    let resolved = registration::resolve(&http, settings, previous.as_ref(), &ask)?;
    let mut registration = resolved.registration;
    // A new account at an issuer another account uses: that account's mail servers too.
    if previous.is_none() {
        reuse::mail_servers(settings, &mut registration);
    }
    // A new account at a provider another account uses: that account's client, if taken.
    let reused = match previous {
        None => reuse::offer(settings, &registration, &ask)?,
        Some(_) => None,
    };
    let settings = reused.as_ref().unwrap_or(settings);
    let flow = choose_flow(settings, previous.as_ref(), &registration);
    check_flow(flow, &registration)?;
    if unattended {
        check_nothing_missing(settings, previous.as_ref())?;
    }
    let client = client(
        settings,
        previous.as_ref(),
        &ask,
        flow,
        credential.is_some(),
        &registration,
    )?;
    let spec = choose_encryption(settings, previous.as_ref(), &ask)?;
    check_encryption(&account, &spec)?;

    let request = Request {
        http: &http,
        registration: &registration,
        client_id: &client.id,
        client_secret: client.secret.as_ref(),
        credential: credential.as_ref(),
        email: &client.email,
        options: &settings.authorize,
        deadline: Instant::now() + settings.authorize.deadline,
        iss_required: resolved.iss_required,
        consent_again: previous
            .as_ref()
            .is_some_and(|previous| previous.refresh_token.is_none()),
        login_exists: previous
            .as_ref()
            .is_some_and(|previous| previous.refresh_token.is_some()),
        authorize_command: match &previous {
            Some(_) => account.authorize_command(),
            None => command_as_given(),
        },
    };
    let (granted, requested_at) = run_flow(flow, &request)?;
    if flow != Flow::Clientcredentials && granted.refresh_token.is_none() {
        log::warn(
            "the provider issued no refresh token: when this access token expires you must sign in again",
        );
    }

    let mut token = TokenFile {
        version: FORMAT_VERSION,
        registration,
        flow,
        email: client.email,
        client_id: client.id,
        client_secret: client.secret,
        access_token: Secret::default(),
        access_token_expiry: requested_at,
        access_token_obtained: None,
        refresh_token: None,
        granted_scope: None,
        encryption: spec,
        // `--min-valid` becomes the account's default; `--min-valid 0` removes it.
        min_valid_minutes: settings
            .min_valid
            .or(previous.as_ref().and_then(|p| p.min_valid_minutes))
            .filter(|minutes| *minutes > 0),
        credential,
        min_valid_this_call: None,
        unknown: previous
            .as_ref()
            .and_then(|previous| previous.unknown.clone()),
    };
    token.record(granted, requested_at);
    save(&account, &mut token, &ask, previous.is_none())?;
    Ok(token)
}

/// Who signs in, and as which OAuth2 client.
struct Client {
    email: String,
    id: String,
    /// `None` for a public client.
    secret: Option<Secret>,
}

/// The e-mail address, client id and secret: from the flags, else the previous file, else asked
/// for.
fn client(
    settings: &Settings,
    previous: Option<&TokenFile>,
    ask: &Prompter,
    flow: Flow,
    signs: bool,
    registration: &crate::oauth::provider::Registration,
) -> Result<Client> {
    let email = match (&settings.overrides.email, previous) {
        (Some(email), _) => email.clone(),
        (None, Some(previous)) if !previous.email.is_empty() => previous.email.clone(),
        _ => ask.value("e-mail address", "--email ADDRESS", "E-mail address")?,
    };
    let id = match (&settings.overrides.client_id, previous) {
        (Some(id), _) => id.clone(),
        (None, Some(previous)) if !previous.client_id.is_empty() => previous.client_id.clone(),
        _ => ask.value(
            "client id",
            "--client-id ID",
            &questions::client_id_question(registration),
        )?,
    };
    if id.is_empty() {
        return Err(Error::usage("the client id is empty").hint("pass --client-id ID"));
    }
    let secret =
        client_secret(settings, previous, ask, registration)?.filter(|secret| !secret.is_empty());
    if flow == Flow::Clientcredentials && secret.is_none() && !signs {
        return Err(Error::usage(
            "the clientcredentials flow needs a confidential client, and no client secret was given",
        )
        .hint("pass --client-secret-file FILE"));
    }
    Ok(Client { email, id, secret })
}

/// The client secret: the flags', else an exported `MAILTOKEN_CLIENT_SECRET`, else the previous
/// file's, else asked for. An exported variable may be meant for another account: it is applied
/// only to an account that has a secret (or is new), and says so, naming the account; a public
/// client (a file with no secret) becomes confidential only when a flag gives the secret.
fn client_secret(
    settings: &Settings,
    previous: Option<&TokenFile>,
    ask: &Prompter,
    registration: &crate::oauth::provider::Registration,
) -> Result<Option<Secret>> {
    if let Some(secret) = &settings.overrides.client_secret {
        return Ok(Some(secret.clone()));
    }
    let exported = crate::base::environment::client_secret();
    let account = settings.account();
    let shown = account.path().display();
    let variable = crate::base::environment::CLIENT_SECRET_VARIABLE;
    match (exported, previous) {
        (Some(_), Some(previous))
            if previous.client_secret.as_ref().is_none_or(Secret::is_empty) =>
        {
            log::warn(format!(
                "{variable} is set, but {shown} is a public client (it has no secret), so it \
                 was not used; give the secret with --client-secret-file to make it confidential"
            ));
            Ok(None)
        }
        (Some(exported), _) => {
            log::say(format!(
                "mailtoken: using the client secret from {variable} for {shown}"
            ));
            Ok(Some(exported))
        }
        // A stored file says what the client is, secret or none.
        (None, Some(previous)) => Ok(previous.client_secret.clone()),
        (None, None) => {
            let (question, may_be_empty) = questions::secret_question(registration);
            ask.secret(
                "client secret",
                "--client-secret-file FILE (or --client-secret '' for a public client)",
                question,
                may_be_empty,
            )
            .map(Some)
        }
    }
}

/// The file being replaced, if any. One that cannot be read does not block the sign-in that
/// would repair it; `keep_unreadable` preserves its bytes before it is replaced.
fn load_previous(account: &Account) -> Result<Option<TokenFile>> {
    if !account.exists() {
        return Ok(None);
    }
    match account.load_to_update() {
        Ok(loaded) => Ok(Some(loaded.token)),
        Err(error) if error.status() == ExitStatus::BadTokenFile => {
            log::warn(format!(
                "{}; signing in from scratch (the old file is kept beside the new one)",
                error.message()
            ));
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Never destroy a file that could not be read: it may hold a login that only needed another
/// identity or `--decryption-pipe`. A hard link keeps its bytes under a new name while the atomic
/// write replaces the original name. An empty file (a sign-in that never finished) holds nothing.
fn keep_unreadable(account: &Account) -> Result<()> {
    let path = account.path();
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.len() > 0 => {}
        _ => return Ok(()),
    }
    let mut kept = path.as_os_str().to_owned();
    kept.push(format!(
        ".unreadable-{}",
        Utc::now().format("%Y%m%dT%H%M%SZ")
    ));
    let kept = std::path::PathBuf::from(kept);
    std::fs::hard_link(path, &kept).map_err(|e| {
        Error::io(format!(
            "cannot keep the unreadable {} as {}: {e}",
            path.display(),
            kept.display()
        ))
    })?;
    log::say(format!(
        "mailtoken: the old, unreadable token file is kept as {}",
        kept.display()
    ));
    Ok(())
}

fn run_flow(flow: Flow, request: &Request) -> Result<Obtained> {
    match flow {
        Flow::Localhostauthcode => loopback::localhost(request),
        Flow::Authcode => code::paste(request),
        Flow::Devicecode => device::run(request),
        // RFC 6749 section 4.4: no user, the confidential client asks for itself.
        Flow::Clientcredentials => {
            let requested_at = Utc::now();
            grant::without_user(
                request.http,
                request.registration,
                request.client_id,
                request.client_secret,
                request.credential,
                request.email,
            )
            .map(|granted| (granted, requested_at))
            .map_err(|failure| {
                let host = request.registration.token_host();
                failure.into_error(
                    Endpoint::Token,
                    &request.situation("client credentials", host, None),
                )
            })
        }
    }
}

/// Writes the file under the refresh lock, so no concurrent refresh interleaves with it, and
/// remembers it among the accounts when it lies outside the accounts directory. The write ends
/// whatever was remembered about an ended login.
fn save(account: &Account, token: &mut TokenFile, ask: &Prompter, no_previous: bool) -> Result<()> {
    let _lock = account.lock()?;
    if no_previous && account.exists() {
        keep_unreadable(account)?;
    }
    let mut attempts = 0;
    loop {
        match account.save(token) {
            // A mistyped passphrase confirmation must not throw the new tokens away.
            Err(error)
                if error.status() == ExitStatus::Usage
                    && token.encryption == EncryptionSpec::AgePassphrase
                    && ask.is_terminal()
                    && attempts < 2 =>
            {
                attempts += 1;
                log::warn(format!("{}; try again", error.message()));
            }
            Ok(()) => {
                crate::store::known_accounts::remember(account.path());
                return Ok(());
            }
            other => return other,
        }
    }
}
