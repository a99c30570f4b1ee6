//! `--authorize`: sign the user in once and write the token file.
//!
//! The pieces, in order: the previous file (re-authorizing keeps its registration, client and
//! encryption, flags overriding), the registration (`registration_choice`: presets, discovery, flags),
//! missing values (`prompt`, only on a terminal), the flow (`code` for authcode and
//! localhostauthcode, `device`, or the client-credentials grant), and finally one locked, atomic
//! write. Nothing is written until the new tokens have arrived, so a failed sign-in leaves a
//! working login untouched. What every flow is given and gives back is in `request`.

pub(crate) mod admin_request;
mod autoconfig_lookup;
mod browser;
mod choices;
mod client_file;
mod code;
mod credentials;
mod device;
mod dynamic;
mod from_address;
pub(crate) mod listener;
mod loopback;
mod pages;
mod prompt;
mod qr;
mod questions;
mod registration_check;
mod registration_choice;
mod request;
mod reuse;
mod signed_in_user;

use std::time::Instant;

use chrono::Utc;

use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::base::secret::Secret;
use crate::cli::settings::Settings;
use crate::lifecycle::background_sign_in;
use crate::oauth::grant;
use crate::oauth::http::Http;
use crate::oauth::provider_answer::Endpoint;
use crate::store::encryption::EncryptionSpec;
use crate::store::tokenfile::{Account, FORMAT_VERSION, Flow, SignedIn, TokenFile};

pub use choices::automatic_flow;
use choices::{
    check_encryption, check_flow, check_nothing_missing, choose_encryption, choose_flow,
    command_as_given, missing_provider,
};
use prompt::Prompter;
use request::{Obtained, Request};

/// How long a sign-in at a terminal waits for the background one it stopped to let go.
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Signs the user in, writes the token file, and returns it.
pub(crate) fn run(settings: &Settings) -> Result<TokenFile> {
    let account = settings.account();
    // A name that leads through another user's link is refused before anyone signs in.
    account.real_path()?;
    // One sign-in of an account at a time, refused at once, before anything is read or opened.
    let _signing_in = match account.lock_sign_in() {
        // A sign-in waiting in the background for a link nobody opened gives way to this one.
        Err(_) if !settings.authorize.background && background_sign_in::stop_waiting(&account) => {
            log::say(
                "mailtoken: stopped the sign-in that waited in the background; this one replaces it",
            );
            account.lock_sign_in_within(STOP_WAIT)?
        }
        taken => taken?,
    };
    let previous = load_previous(&account)?;
    let ask = Prompter::for_stdin();
    let http = Http::new();
    // A signing key (service account, certificate): what it implies for the sign-in.
    let credential = credentials::signing(settings, previous.as_ref())?;
    let implied = credential
        .as_ref()
        .map(|credential| credentials::implied(settings, credential, previous.as_ref()))
        .transpose()?;
    let settings = implied.as_ref().unwrap_or(settings);
    // `--client-file`: the provider's own description of the registration, said first.
    let from_file = client_file::apply(settings)?;
    let settings = from_file
        .as_ref()
        .map_or(settings, |(settings, _)| settings);
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
    let resolved = registration_choice::resolve(&http, settings, previous.as_ref(), &ask)?;
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
    if settings.authorize.background {
        check_background(previous.as_ref(), flow)?;
    }
    let testing_app = settings.testing_app;
    if testing_app && registration.provider != "google" {
        return Err(Error::usage(
            "--testing-app is about Google apps in Testing status, and this account is not Google's",
        )
        .hint("leave out --testing-app"));
    }
    // A person's sign-in asks the provider to say who signed in, where that costs nothing.
    if flow != Flow::Clientcredentials
        && credential.is_none()
        && settings.overrides.scope.is_none()
        && let Some(scope) = crate::oauth::provider::person_scope(&registration)
    {
        registration.scope = scope;
    }
    // No client at all, and the issuer registers clients: mailtoken registers itself.
    let registered = dynamic::register_if_needed(
        &http,
        settings,
        previous.as_ref(),
        &registration,
        resolved.registration_endpoint.as_ref(),
        flow,
    )?;
    let settings = registered
        .as_ref()
        .map_or(settings, |(settings, _)| settings);
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
    if let Some((_, file)) = &from_file {
        client_file::check(
            file,
            flow,
            &registration,
            &client.email,
            client.secret.is_some(),
        )?;
    }
    let spec = choose_encryption(settings, previous.as_ref(), &ask)?;
    check_encryption(&account, &spec)?;
    // Forgets the link when the sign-in ends, however it ends (dropped after the write).
    let announcer = settings
        .authorize
        .background
        .then(|| background_sign_in::Announcer::new(&account));

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
        background: announcer.as_ref(),
    };
    let obtained = run_flow(flow, &request)?;
    // Who signed in, read before anything is written; an account without a user has nobody to
    // ask about.
    let learnt = match flow {
        Flow::Clientcredentials => None,
        _ => signed_in_user::learn(&request, &obtained)?,
    };
    let authorize_command = request.authorize_command.clone();
    let Obtained {
        granted,
        requested_at,
        ..
    } = obtained;
    if flow != Flow::Clientcredentials && granted.refresh_token.is_none() {
        log::warn(
            "the provider issued no refresh token: when this access token expires you must sign in again",
        );
    }

    // `--port` is kept as the account's redirect address: a provider that matches the port
    // exactly accepts only the one registered, at every later sign-in too.
    if let (Flow::Localhostauthcode, Some(port), None) =
        (flow, settings.authorize.port, &registration.redirect_uri)
    {
        registration.redirect_uri = Some(code::loopback_redirect_on(&registration.provider, port));
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
        // The login begins now: Google's Testing apps count their 7 days from the consent.
        login_started: Some(requested_at),
        login_ends_stated: None,
        signed_in: None,
        // `--mailbox` becomes the account's SASL user; `--mailbox ''` removes it.
        mailbox: settings
            .overrides
            .mailbox
            .clone()
            .or(previous.as_ref().and_then(|p| p.mailbox.clone()))
            .filter(|mailbox| !mailbox.is_empty()),
        dynamic_client: match registered {
            Some((_, record)) => Some(record),
            None => previous.as_ref().and_then(|p| p.dynamic_client.clone()),
        },
        min_valid_this_call: None,
        unknown: previous
            .as_ref()
            .and_then(|previous| previous.unknown.clone()),
    };
    token.record(granted, requested_at);
    if flow != Flow::Clientcredentials {
        settle_who_signed_in(&mut token, learnt, requested_at, &authorize_command)?;
    }
    save(&account, &mut token, &ask, previous.is_none())?;
    if testing_app {
        crate::store::testing_clients::remember(&token.client_id);
    }
    Ok(token)
}

/// Holds who signed in against the account's address: a sign-in as someone else writes nothing
/// (exit 78) and its new login is revoked where the provider allows; an account given no address
/// takes the one that signed in; what the provider does not say is said to be unknown, once.
fn settle_who_signed_in(
    token: &mut TokenFile,
    learnt: Option<signed_in_user::Learnt>,
    when: chrono::DateTime<Utc>,
    authorize_command: &str,
) -> Result<()> {
    let Some(learnt) = learnt else {
        if token.email.is_empty() {
            let revoked = crate::lifecycle::revoke::revoke_unsaved(token);
            return Err(Error::usage(format!(
                "the provider did not say who signed in, and no e-mail address was given, so \
                 nothing was saved ({revoked})"
            ))
            .hint("pass --email ADDRESS, the address of the account you sign in with"));
        }
        log::say(format!(
            "mailtoken: the provider did not say who signed in, so it was not checked that it \
             was {}",
            log::sanitize(&token.email)
        ));
        return Ok(());
    };
    let user = log::sanitize(learnt.user());
    if token.email.is_empty() {
        log::say(format!(
            "mailtoken: signed in as {user}, which becomes the account's address"
        ));
        token.email = learnt.user().to_string();
    } else if !learnt.is(&token.email) {
        let expected = log::sanitize(&token.email);
        let revoked = crate::lifecycle::revoke::revoke_unsaved(token);
        return Err(Error::config(format!(
            "signed in as {user}, but the account is {expected}'s: nothing was saved ({revoked})"
        ))
        .hint(format!(
            "to sign in as {expected}, run '{authorize_command}' again and choose that account \
             at the provider's page (Google: \"Use another account\"; Microsoft: \"Use another \
             account\" or sign out of {user} first); if {expected} is a mailbox {user} may open \
             (shared or delegated), sign in as {user} and name the mailbox: --email {user} \
             --mailbox {expected}"
        )));
    }
    token.signed_in = Some(SignedIn {
        user: learnt.user().to_string(),
        since: when,
        from: learnt.from.to_string(),
    });
    Ok(())
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
        // Without a terminal a person's address is the one that signs in, learnt afterwards
        // (`identity`); an account without a user must name its mailbox.
        _ if !ask.is_terminal() && flow != Flow::Clientcredentials => String::new(),
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

/// A sign-in in the background renews an account whose flow needs no terminal.
fn check_background(previous: Option<&TokenFile>, flow: Flow) -> Result<()> {
    if previous.is_none() {
        return Err(Error::usage(
            "a sign-in in the background renews an account; this one has no file",
        ));
    }
    if !background_sign_in::waits_in_background(flow) {
        return Err(Error::usage(format!(
            "a sign-in in the background needs the localhostauthcode or devicecode flow, not {}",
            flow.name()
        )));
    }
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
            .map(|granted| Obtained::without_nonce(granted, requested_at))
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
