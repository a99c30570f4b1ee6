//! `--authorize`: sign the user in once and write the token file.
//!
//! The pieces, in order: the previous file (re-authorizing keeps its registration, client and
//! encryption, flags overriding), the registration (`registration`: presets, discovery, flags),
//! missing values (`prompt`, only on a terminal), the flow (`code` for authcode and
//! localhostauthcode, `device`, or the client-credentials grant), and finally one locked, atomic
//! write. Nothing is written until the new tokens have arrived, so a failed sign-in leaves a
//! working login untouched.

mod browser;
mod code;
mod device;
pub mod listener;
mod pages;
mod prompt;
mod qr;
mod registration;

use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::encryption::EncryptionKind;
use crate::encryption::{self, EncryptionSpec};
use crate::error::{Error, ExitStatus, Result};
use crate::grant::{self, Granted};
use crate::http::Http;
use crate::log;
use crate::paths;
use crate::provider::Registration;
use crate::provider_answer::{Endpoint, Situation};
use crate::secret::Secret;
use crate::settings::{AuthorizeOptions, Settings};
use crate::tokenfile::Account;
use crate::tokenfile::Flow;
use crate::tokenfile::{FORMAT_VERSION, TokenFile};

use prompt::Prompter;

/// Google's scope for IMAP, POP and SMTP.
const GMAIL_SCOPE: &str = "https://mail.google.com/";

/// A token response and when its request was sent: the token's lifetime counts from then.
pub(crate) type Obtained = (Granted, DateTime<Utc>);

/// Everything a flow needs.
pub(crate) struct Request<'a> {
    pub http: &'a Http,
    pub registration: &'a Registration,
    pub client_id: &'a str,
    pub client_secret: Option<&'a Secret>,
    pub email: &'a str,
    pub options: &'a AuthorizeOptions,
    /// When to give up waiting for the user (`--auth-timeout`).
    pub deadline: Instant,
    /// The provider's metadata promises `iss` in authorization responses (RFC 9207 section 3).
    pub iss_required: bool,
    /// The account had a file without a refresh token: ask for consent again, so the provider
    /// issues one (Google issues refresh tokens only with a consent).
    pub consent_again: bool,
    /// How to run this sign-in again: the stored account's command, or for a first sign-in every
    /// flag the user gave (no file remembers them yet).
    pub authorize_command: String,
}

impl Request<'_> {
    /// What the classification of provider answers needs to word its hints.
    pub fn situation<'a>(
        &'a self,
        what: &'a str,
        host: &'a str,
        redirect_uri: Option<&'a str>,
    ) -> Situation<'a> {
        Situation {
            what,
            host,
            provider: &self.registration.provider,
            authorize_command: &self.authorize_command,
            redirect_uri,
        }
    }
}

/// Signs the user in, writes the token file, and returns it.
pub fn run(settings: &Settings) -> Result<TokenFile> {
    let account = settings.account();
    let previous = load_previous(&account)?;
    let ask = Prompter::for_stdin();
    let http = Http::new()?;

    // Without a terminal, every missing value is reported at once: before anything else when the
    // provider is among them (nothing can be checked without it), else after the checks that
    // need no values, so an impossible flow is still refused first.
    let unattended = !ask.is_terminal();
    if unattended && missing_provider(settings, previous.as_ref()) {
        check_nothing_missing(settings, previous.as_ref())?;
    }
    let resolved = registration::resolve(&http, settings, previous.as_ref(), &ask)?;
    let registration = resolved.registration;
    let flow = choose_flow(settings, previous.as_ref(), &registration);
    check_flow(flow, &registration)?;
    if unattended {
        check_nothing_missing(settings, previous.as_ref())?;
    }
    let email = match (&settings.overrides.email, &previous) {
        (Some(email), _) => email.clone(),
        (None, Some(previous)) if !previous.email.is_empty() => previous.email.clone(),
        _ => ask.value("e-mail address", "--email ADDRESS", "E-mail address")?,
    };
    let client_id = match (&settings.overrides.client_id, &previous) {
        (Some(id), _) => id.clone(),
        (None, Some(previous)) if !previous.client_id.is_empty() => previous.client_id.clone(),
        _ => ask.value("client id", "--client-id ID", "OAuth2 client id")?,
    };
    if client_id.is_empty() {
        return Err(Error::usage("the client id is empty").hint("pass --client-id ID"));
    }
    let client_secret = match (&settings.overrides.client_secret, &previous) {
        (Some(secret), _) => Some(secret.clone()),
        // A stored file says what the client is, secret or none.
        (None, Some(previous)) => previous.client_secret.clone(),
        (None, None) => Some(ask.secret(
            "client secret",
            "--client-secret-file FILE (or --client-secret '' for a public client)",
            "OAuth2 client secret (empty for a public client)",
        )?),
    }
    .filter(|secret| !secret.is_empty());
    if flow == Flow::Clientcredentials && client_secret.is_none() {
        return Err(Error::usage(
            "the clientcredentials flow needs a confidential client, and no client secret was given",
        )
        .hint("pass --client-secret-file FILE or set MAILTOKEN_CLIENT_SECRET"));
    }
    let spec = choose_encryption(settings, previous.as_ref(), &ask)?;
    check_encryption(&account, &spec)?;

    let request = Request {
        http: &http,
        registration: &registration,
        client_id: &client_id,
        client_secret: client_secret.as_ref(),
        email: &email,
        options: &settings.authorize,
        deadline: Instant::now() + settings.authorize.deadline,
        iss_required: resolved.iss_required,
        consent_again: previous
            .as_ref()
            .is_some_and(|previous| previous.refresh_token.is_none()),
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
        email,
        client_id,
        client_secret,
        access_token: Secret::default(),
        access_token_expiry: requested_at,
        access_token_obtained: None,
        refresh_token: None,
        granted_scope: None,
        encryption: spec,
        unknown: previous
            .as_ref()
            .and_then(|previous| previous.unknown.clone()),
    };
    token.record(granted, requested_at);
    save(&account, &mut token, &ask, previous.is_none())?;
    log::verbose(format!("signed in; wrote {}", account.path().display()));
    Ok(token)
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

/// The flow: `--authflow`, else the previous file's, else the one that will work here, said out
/// loud so the user knows what to expect and how to choose another.
fn choose_flow(
    settings: &Settings,
    previous: Option<&TokenFile>,
    registration: &Registration,
) -> Flow {
    if let Some(flow) = settings.authorize.flow {
        return flow;
    }
    if let Some(previous) = previous {
        return previous.flow;
    }
    let browser = !settings.authorize.no_browser && browser_available();
    let (flow, why) = automatic_flow(registration, browser);
    log::say(format!(
        "mailtoken: signing in with the {} flow: {why} (--authflow chooses another)",
        flow.name()
    ));
    flow
}

/// Whether a browser can be opened on this machine: a graphical session, a `$BROWSER`, or macOS.
/// An ssh session without X forwarding has none of these.
fn browser_available() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    cfg!(target_os = "macos") || set("DISPLAY") || set("WAYLAND_DISPLAY") || set("BROWSER")
}

/// The flow for a first sign-in: a browser on this machine (the least typing), else the device
/// flow where the provider offers one that allows mail scopes (not Google's: it refuses the Gmail
/// scope), else pasting the address back.
pub fn automatic_flow(registration: &Registration, browser: bool) -> (Flow, &'static str) {
    let code_flows = registration.authorize_endpoint.is_some();
    let device = registration.devicecode_endpoint.is_some() && !google_mail(registration);
    if browser && code_flows {
        (Flow::Localhostauthcode, "a browser opens on this machine")
    } else if device {
        (
            Flow::Devicecode,
            "no browser here, so you enter a code on any device",
        )
    } else {
        (
            Flow::Authcode,
            "no browser here, so you open the address anywhere and paste back where it leads",
        )
    }
}

/// Google's device flow allows only a short list of scopes, and the Gmail scope is not on it.
fn google_mail(registration: &Registration) -> bool {
    registration.provider == "google"
        && grant::scopes(&registration.scope).any(|scope| scope.as_str() == GMAIL_SCOPE)
}

/// True when nothing names the provider: no previous file, no `--provider`, `--issuer` or
/// `--token-endpoint`.
fn missing_provider(settings: &Settings, previous: Option<&TokenFile>) -> bool {
    let flags = &settings.overrides;
    previous.is_none()
        && flags.provider.is_none()
        && flags.issuer.is_none()
        && flags.token_endpoint.is_none()
}

/// Without a terminal nothing can be asked: every value that would have been asked for is
/// reported at once, so a script is fixed in one round rather than one flag per run.
fn check_nothing_missing(settings: &Settings, previous: Option<&TokenFile>) -> Result<()> {
    let client = &settings.overrides;
    let mut missing: Vec<(&str, &str)> = Vec::new();
    if missing_provider(settings, previous) {
        missing.push((
            "provider",
            "--provider google|microsoft|yahoo|aol (or --issuer URL)",
        ));
    }
    if client.email.is_none() && previous.is_none_or(|p| p.email.is_empty()) {
        missing.push(("e-mail address", "--email ADDRESS"));
    }
    if client.client_id.is_none() && previous.is_none_or(|p| p.client_id.is_empty()) {
        missing.push(("client id", "--client-id ID"));
    }
    if client.client_secret.is_none() && previous.is_none() {
        missing.push((
            "client secret",
            "--client-secret-file FILE (or --client-secret '' for a public client)",
        ));
    }
    if missing.is_empty() {
        return Ok(());
    }
    let (what, flags): (Vec<&str>, Vec<&str>) = missing.into_iter().unzip();
    let what = match what.as_slice() {
        [one] => format!("no {one} was given"),
        [rest @ .., last] => format!("no {} or {last} was given", rest.join(", ")),
        [] => unreachable!("missing is not empty"),
    };
    Err(Error::usage(format!(
        "{what}, and stdin is not a terminal to ask for {}",
        if flags.len() == 1 { "it" } else { "them" }
    ))
    .hint(format!("pass {}", flags.join(" and "))))
}

/// Refuses, before the user does anything, a flow the registration cannot carry.
fn check_flow(flow: Flow, registration: &Registration) -> Result<()> {
    match flow {
        Flow::Authcode | Flow::Localhostauthcode if registration.authorize_endpoint.is_none() => {
            Err(Error::usage(format!(
                "provider {} has no authorization endpoint for the {} flow",
                registration.provider,
                flow.name()
            ))
            .hint("pass --authorize-endpoint URL or --issuer URL"))
        }
        Flow::Devicecode if registration.devicecode_endpoint.is_none() => Err(Error::usage(
            format!(
                "provider {} has no device authorization endpoint",
                registration.provider
            ),
        )
        .hint("pass --devicecode-endpoint URL, or use --authflow localhostauthcode or authcode")),
        // Google's device flow allows only a short list of scopes, and the Gmail scope is not on
        // it ("OAuth 2.0 for TV and Limited-Input Device Applications", allowed scopes): the
        // sign-in could only end in invalid_scope, so it is not started.
        Flow::Devicecode if google_mail(registration) => {
            Err(Error::usage(
                "Google's device flow does not allow the Gmail scope (https://mail.google.com/), \
                 so this sign-in cannot work",
            )
            .hint(
                "use --authflow localhostauthcode (a browser on this machine; over ssh add \
                 --port PORT and forward it with ssh -L) or --authflow authcode (paste the address)",
            ))
        }
        _ => Ok(()),
    }
}

fn run_flow(flow: Flow, request: &Request) -> Result<Obtained> {
    match flow {
        Flow::Localhostauthcode => code::localhost(request),
        Flow::Authcode => code::paste(request),
        Flow::Devicecode => device::run(request),
        // RFC 6749 section 4.4: no user, the confidential client asks for itself.
        Flow::Clientcredentials => {
            let requested_at = Utc::now();
            grant::client_credentials(
                request.http,
                request.registration,
                request.client_id,
                request.client_secret,
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

/// This run's command line, quoted for a shell, without the value of `--client-secret` (a
/// terminal asks for it again): the command that repeats a first sign-in.
fn command_as_given() -> String {
    let mut words = vec!["mailtoken".to_string()];
    let mut arguments = std::env::args_os().skip(1);
    while let Some(argument) = arguments.next() {
        let argument = argument.to_string_lossy().into_owned();
        if argument == "--client-secret" {
            arguments.next();
            continue;
        }
        if argument.starts_with("--client-secret=") {
            continue;
        }
        words.push(paths::shell_quote(&log::sanitize(&argument)));
    }
    words.join(" ")
}

/// How the new file is encrypted: the flags, else the previous file's way, else age to the
/// default identity (created on first use) or to `--age-identity`.
fn choose_encryption(
    settings: &Settings,
    previous: Option<&TokenFile>,
    ask: &Prompter,
) -> Result<EncryptionSpec> {
    let options = &settings.encryption;
    if let Some(pipe) = &options.encryption_pipe {
        return Ok(EncryptionSpec::Pipe {
            encrypt: pipe.clone(),
        });
    }
    let age = || -> Result<EncryptionSpec> {
        let identity = match &options.age_identity {
            Some(path) => path.clone(),
            None => encryption::ensure_default_identity()?,
        };
        Ok(EncryptionSpec::Age {
            recipients: encryption::age_recipients_of(&identity)?,
        })
    };
    let spec = match (settings.authorize.encryption, previous) {
        (Some(EncryptionKind::Age), _) => age()?,
        (Some(EncryptionKind::Passphrase), _) => EncryptionSpec::AgePassphrase,
        (Some(EncryptionKind::Gpg), _) => EncryptionSpec::Gpg {
            recipient: options.gpg_recipient.clone(),
        },
        (None, Some(previous)) => previous.encryption.clone(),
        (None, None) => age()?,
    };
    let new_passphrase = spec == EncryptionSpec::AgePassphrase
        && previous.is_none_or(|p| p.encryption != EncryptionSpec::AgePassphrase);
    if new_passphrase && !ask.is_terminal() {
        return Err(Error::usage(
            "--encryption passphrase asks for the passphrase, and stdin is not a terminal",
        )
        .hint("run it in a terminal, or use the default age encryption (no passphrase)"));
    }
    Ok(spec)
}

/// Encrypts and reads back a throwaway document first, so a broken gpg or pipe, or an identity
/// that cannot open what is written, is found before the user signs in rather than after, when
/// the new tokens would be lost.
fn check_encryption(account: &Account, spec: &EncryptionSpec) -> Result<()> {
    if *spec == EncryptionSpec::AgePassphrase {
        return Ok(());
    }
    account
        .prove_encryption(&account.crypto().effective_spec(spec))
        .map_err(|error| error.context("checking the encryption before signing in"))
}

/// Writes the file under the refresh lock, so no concurrent refresh interleaves with it.
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
            other => return other,
        }
    }
}
