//! What a sign-in uses when the flags do not say: the flow, the encryption of the new file, and,
//! without a terminal to ask on, every missing value at once. Each choice is checked before the
//! user is sent anywhere, so an impossible sign-in is refused before it starts.

use super::prompt::Prompter;
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::paths;
use crate::cli::settings::Settings;
use crate::oauth::grant;
use crate::oauth::provider::{self, Registration};
use crate::store::encryption::{self, EncryptionKind, EncryptionSpec};
use crate::store::tokenfile::{Account, Flow, TokenFile};

/// The flow: `--authflow`, else the previous file's, else the one that will work here, said out
/// loud so the user knows what to expect and how to choose another.
pub(super) fn choose_flow(
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

/// Whether a browser can be opened on this machine: a graphical session, a `$BROWSER`, or macOS.
/// An ssh session without X forwarding has none of these.
fn browser_available() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    cfg!(target_os = "macos")
        || set("DISPLAY")
        || set("WAYLAND_DISPLAY")
        || set("BROWSER")
        || crate::base::environment::is_wsl()
}

/// Google's device flow allows only a short list of scopes, and the Gmail scope is not on it.
fn google_mail(registration: &Registration) -> bool {
    registration.provider == "google"
        && grant::scopes(&registration.scope).any(|scope| scope.as_str() == provider::GMAIL_SCOPE)
}

/// Refuses, before the user does anything, a flow the registration cannot carry.
pub(super) fn check_flow(flow: Flow, registration: &Registration) -> Result<()> {
    match flow {
        Flow::Authcode | Flow::Localhostauthcode if registration.authorize_endpoint.is_none() => {
            Err(Error::usage(format!(
                "provider {} has no authorization endpoint for the {} flow",
                crate::base::log::sanitize(&registration.provider),
                flow.name()
            ))
            .hint("pass --authorize-endpoint URL or --issuer URL"))
        }
        Flow::Devicecode if registration.devicecode_endpoint.is_none() => Err(Error::usage(
            format!(
                "provider {} has no device authorization endpoint",
                crate::base::log::sanitize(&registration.provider)
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

/// True when nothing names the provider: no previous file, no `--provider`, `--issuer` or
/// `--token-endpoint`.
pub(super) fn missing_provider(settings: &Settings, previous: Option<&TokenFile>) -> bool {
    let flags = &settings.overrides;
    previous.is_none()
        && flags.provider.is_none()
        && flags.issuer.is_none()
        && flags.token_endpoint.is_none()
}

/// Without a terminal nothing can be asked: every value that would have been asked for is
/// reported at once, so a script is fixed in one round rather than one flag per run.
pub(super) fn check_nothing_missing(
    settings: &Settings,
    previous: Option<&TokenFile>,
) -> Result<()> {
    let client = &settings.overrides;
    let mut missing: Vec<(&str, &str)> = Vec::new();
    if missing_provider(settings, previous) {
        missing.push((
            "provider",
            "--provider google|microsoft|yahoo|aol|yandex|mailru (or --issuer URL)",
        ));
    }
    // A person's address can be the one that signs in (`signed_in_user`); an account without a user
    // names its mailbox.
    if client.email.is_none()
        && previous.is_none_or(|p| p.email.is_empty())
        && (settings.authorize.flow == Some(Flow::Clientcredentials)
            || settings.authorize.service_account.is_some()
            || settings.authorize.client_certificate.is_some())
    {
        missing.push(("e-mail address", "--email ADDRESS"));
    }
    if client.client_id.is_none() && previous.is_none_or(|p| p.client_id.is_empty()) {
        missing.push(("client id", "--client-id ID"));
    }
    if client.client_secret.is_none()
        && previous.is_none()
        && crate::base::environment::client_secret().is_none()
    {
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

/// Refuses to make a new default identity while other token files are encrypted to an age
/// identity and the default one is missing: the new identity would take the lost one's place, so
/// that once the backup is restored one of the two sets of files no longer opens. The account
/// being signed in is not counted: its file is replaced.
fn refuse_a_second_identity(this_account: &std::path::Path) -> Result<()> {
    let identity = paths::default_age_identity()?;
    if identity.exists() {
        return Ok(());
    }
    let this = std::fs::canonicalize(this_account).ok();
    let needing: Vec<String> = crate::store::known_accounts::all()?
        .into_iter()
        .filter(|(_, path)| this.is_none() || std::fs::canonicalize(path).ok() != this)
        .filter(|(_, path)| {
            encryption::detect(&crate::base::private_files::peek(path))
                == encryption::Detected::Age {
                    passphrase: false,
                    ssh: false,
                }
        })
        .map(|(name, _)| log::sanitize(&name))
        .collect();
    if needing.is_empty() {
        return Ok(());
    }
    Err(Error::config(format!(
        "the age identity {} is missing, and {} ({}) {} encrypted to an age identity; a new \
         identity would not open {}",
        identity.display(),
        if needing.len() == 1 {
            "one token file"
        } else {
            "token files"
        },
        needing.join(", "),
        if needing.len() == 1 { "is" } else { "are" },
        if needing.len() == 1 { "it" } else { "them" },
    ))
    .hint(format!(
        "restore {} from your backup, then run this again; if it is lost for good, move those \
         token files away first (a new identity is then created), or pass --age-identity FILE",
        identity.display()
    )))
}

/// How the new file is encrypted: the flags, else the previous file's way, else age to the
/// default identity (created on first use) or to `--age-identity`.
pub(super) fn choose_encryption(
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
            None => {
                refuse_a_second_identity(&settings.token_path)?;
                encryption::ensure_default_identity()?
            }
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
pub(super) fn check_encryption(account: &Account, spec: &EncryptionSpec) -> Result<()> {
    if *spec == EncryptionSpec::AgePassphrase {
        return Ok(());
    }
    account
        .prove_encryption(&account.crypto().effective_spec(spec))
        .map_err(|error| error.context("checking the encryption before signing in"))
}

/// This run's command line, quoted for a shell, without the value of `--client-secret` (a
/// terminal asks for it again): the command that repeats a first sign-in. An empty secret, a
/// public client's, hides nothing and stays: without it the command asks for a secret, or
/// without a terminal is refused (64), as the end-to-end suite's glewlwyd scenario 42 found.
pub(super) fn command_as_given() -> String {
    let mut words = vec!["mailtoken".to_string()];
    let mut arguments = std::env::args_os().skip(1);
    let public = || ["--client-secret".to_string(), paths::shell_quote("")];
    while let Some(argument) = arguments.next() {
        let argument = argument.to_string_lossy().into_owned();
        if argument == "--client-secret" {
            if arguments.next().is_some_and(|value| value.is_empty()) {
                words.extend(public());
            }
            continue;
        }
        if let Some(value) = argument.strip_prefix("--client-secret=") {
            if value.is_empty() {
                words.extend(public());
            }
            continue;
        }
        words.push(paths::shell_quote(&log::sanitize(&argument)));
    }
    words.join(" ")
}
