//! The validated settings of one run, made from the parsed command line, so the rest of the
//! program never looks at raw flags.

use std::path::PathBuf;
use std::time::Duration;

use crate::base::error::{Error, Result};
use crate::base::paths;
use crate::base::secret::Secret;
use crate::cli::args::Cli;
use crate::cli::output::Format;
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::store::encryption::{EncryptionKind, EncryptionOptions};
use crate::store::tokenfile::{Account, Flow, Overrides};

/// How long an interactive sign-in waits for the user when `--auth-timeout` is not given, in
/// seconds (the device flow waits as long as its code lives instead).
pub(crate) const DEFAULT_AUTH_TIMEOUT: u64 = 300;

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Print the token (the default).
    Print,
    /// Print the account's state.
    Status,
    /// Sign in, write the file, print the token (and then `--test` if asked).
    Authorize,
    /// Log in to the mail servers.
    Test,
    /// List every account (`--list`).
    List,
    /// Refresh expired and idle accounts, for cron (`--check`).
    Check,
    /// Revoke the login and delete the file (`--revoke`).
    Revoke,
    /// Change what is not the login: mail servers, SASL method, `--min-valid` (`--set`).
    Set,
    /// Print a mail client's configuration (`--print-config CLIENT`).
    PrintConfig,
    /// Print what the tenant's administrator must grant (`--admin-request`).
    AdminRequest,
    /// Sign in with nobody at a terminal, the link going to the notify hook: what a failing
    /// call starts in a process of its own (`lifecycle::background_sign_in`).
    SignInInBackground,
}

impl Action {
    /// How the action is asked for on the command line.
    pub(crate) fn flag(self) -> &'static str {
        match self {
            Action::Print => "the mail client's call (TOKENFILE alone)",
            Action::Status => "--status",
            Action::Authorize => "--authorize",
            Action::Test => "--test",
            Action::List => "--list",
            Action::Check => "--check",
            Action::Revoke => "--revoke",
            Action::Set => "--set",
            Action::PrintConfig => "--print-config",
            Action::AdminRequest => "--admin-request",
            Action::SignInInBackground => SIGN_IN_IN_BACKGROUND,
        }
    }
}

/// The hidden flag that makes a mailtoken process the sign-in in the background of its
/// TOKENFILE (`lifecycle::background_sign_in` starts it; `app` sees it before clap would).
pub(crate) const SIGN_IN_IN_BACKGROUND: &str = "--sign-in-in-background";

/// How long a sign-in started in the background waits for the browser (or the device code's
/// entry): long enough to see a notification and click it, short enough that a forgotten one
/// does not hold the account's sign-in, and a loopback port, for long.
pub(crate) const BACKGROUND_SIGN_IN_WAIT: Duration = Duration::from_secs(15 * 60);

/// Test-only: the wait in seconds instead of `BACKGROUND_SIGN_IN_WAIT`, so the tests can watch
/// one end. Exists only in debug builds (the tests'), never in a release build.
#[cfg(debug_assertions)]
const TEST_WAIT_VARIABLE: &str = "MAILTOKEN_TEST_SIGN_IN_WAIT";

/// The wait of a sign-in in the background.
fn background_sign_in_wait() -> Duration {
    #[cfg(debug_assertions)]
    {
        crate::base::environment::seconds_from_env(
            TEST_WAIT_VARIABLE,
            BACKGROUND_SIGN_IN_WAIT,
            BACKGROUND_SIGN_IN_WAIT,
        )
    }
    #[cfg(not(debug_assertions))]
    {
        BACKGROUND_SIGN_IN_WAIT
    }
}

/// Options of the interactive sign-in.
#[derive(Clone, Debug)]
pub(crate) struct AuthorizeOptions {
    pub flow: Option<Flow>,
    pub port: Option<u16>,
    pub no_browser: bool,
    /// `--no-login-hint`: the sign-in URL carries no `login_hint`.
    pub no_login_hint: bool,
    pub deadline: Duration,
    /// Whether `--auth-timeout` was given; the device flow otherwise waits as long as its code lives.
    pub deadline_given: bool,
    /// How a newly created file is encrypted; `None` keeps the existing file's or uses age.
    pub encryption: Option<EncryptionKind>,
    /// `--cloud`: Microsoft's national cloud.
    pub cloud: Option<crate::oauth::provider::Cloud>,
    /// `--service-account FILE`: a Google service account key.
    pub service_account: Option<PathBuf>,
    /// `--client-certificate FILE`: a certificate credential.
    pub client_certificate: Option<PathBuf>,
    /// `--client-file FILE`: the registration as the provider's console gave it.
    pub client_file: Option<PathBuf>,
    /// The issuer came from a mail autoconfiguration that also gave the endpoints: its metadata
    /// is asked for (a registration endpoint), and may be missing.
    pub issuer_optional: bool,
    /// A sign-in in the background (`--sign-in-in-background`): its link goes to the call that
    /// started it, for the notify hook.
    pub background: bool,
}

/// Everything one run needs to know.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// The one TOKENFILE of the single-account actions (empty for `--list`, and for `--check`
    /// without files).
    pub token_path: PathBuf,
    pub token_given: String,
    /// Every TOKENFILE given, resolved, with the text typed: the accounts of `--check`.
    pub token_files: Vec<(PathBuf, String)>,
    pub actions: Vec<Action>,
    /// `--json`: machine-readable `--list` and `--status`.
    pub json: bool,
    /// `--keepalive DAYS` of `--check`.
    pub keepalive_days: u32,
    /// `--warn-days DAYS` of `--check`.
    pub warn_days: u32,
    /// `--testing-app` of `--authorize`.
    pub testing_app: bool,
    pub format: Format,
    pub protocol: Option<Protocol>,
    pub force_refresh: bool,
    pub encryption: EncryptionOptions,
    /// Flags that replace values the token file stores.
    pub overrides: Overrides,
    /// `--min-valid MINUTES`: for this call, and recorded by `--authorize`.
    pub min_valid: Option<u32>,
    pub authorize: AuthorizeOptions,
    /// `--print-config CLIENT`.
    pub print_config: Option<crate::mail::client::MailClient>,
    /// `--yes`: `--revoke` asks nothing.
    pub yes: bool,
}

impl Settings {
    pub(crate) fn from_cli(cli: Cli) -> Result<Settings> {
        let token_files = cli
            .tokenfile
            .iter()
            .map(|given| {
                Ok((
                    paths::resolve_token_path(given)?,
                    given.to_string_lossy().into_owned(),
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        check_combinations(&cli, token_files.len())?;
        let (token_path, token_given) = token_files.first().cloned().unwrap_or_default();
        let actions = actions(&cli);
        check_flags_apply(&cli, &actions, &token_given)?;
        check_set_changes_something(&cli)?;
        let encryption = match (cli.encryption, &cli.gpg_recipient) {
            (Some(kind), Some(_)) if kind != EncryptionKind::Gpg => {
                return Err(Error::usage("--gpg-recipient needs --encryption gpg"));
            }
            (None, Some(_)) => Some(EncryptionKind::Gpg),
            (kind, _) => kind,
        };
        let client_secret =
            client_secret(cli.client_secret.clone(), cli.client_secret_file.as_deref())?;
        Ok(Settings {
            token_path,
            token_given,
            token_files,
            actions,
            json: cli.json,
            print_config: cli.print_config,
            yes: cli.yes,
            keepalive_days: cli.keepalive,
            warn_days: cli.warn_days,
            testing_app: cli.testing_app,
            format: cli.format,
            protocol: cli.protocol,
            force_refresh: cli.force_refresh,
            min_valid: cli.min_valid,
            authorize: AuthorizeOptions {
                flow: cli.authflow,
                port: cli.port,
                no_browser: cli.no_browser,
                no_login_hint: cli.no_login_hint,
                deadline: Duration::from_secs(
                    cli.auth_timeout.unwrap_or(DEFAULT_AUTH_TIMEOUT).max(1),
                ),
                deadline_given: cli.auth_timeout.is_some(),
                encryption,
                cloud: cli.cloud,
                service_account: cli.service_account.clone(),
                client_certificate: cli.client_certificate.clone(),
                client_file: cli.client_file.clone(),
                issuer_optional: false,
                background: false,
            },
            encryption: EncryptionOptions {
                age_identity: cli.age_identity.clone(),
                decryption_pipe: cli.decryption_pipe.clone(),
                encryption_pipe: cli.encryption_pipe.clone(),
                gpg_recipient: cli.gpg_recipient.clone(),
            },
            overrides: overrides(cli, client_secret)?,
        })
    }

    /// These settings (a mail client's call: TOKENFILE and its encryption flags) as the sign-in
    /// in the background that a failing call starts: it waits its own time, for a browser
    /// nobody starts here (`lifecycle::background_sign_in`).
    pub(crate) fn in_background(mut self) -> Result<Settings> {
        if self.actions != [Action::Print] {
            return Err(Error::usage(format!(
                "{} goes with TOKENFILE and its encryption flags alone",
                SIGN_IN_IN_BACKGROUND
            )));
        }
        self.actions = vec![Action::SignInInBackground];
        self.authorize.background = true;
        self.authorize.no_browser = true;
        self.authorize.deadline = background_sign_in_wait();
        self.authorize.deadline_given = true;
        Ok(self)
    }

    /// The account named by TOKENFILE.
    pub(crate) fn account(&self) -> Account {
        Account::new(
            self.token_path.clone(),
            self.token_given.clone(),
            self.encryption.clone(),
        )
        .with_min_valid(self.min_valid)
    }
}

/// The combinations of flags and TOKENFILEs clap cannot express.
fn check_combinations(cli: &Cli, token_files: usize) -> Result<()> {
    if cli.list && token_files > 0 {
        return Err(
            Error::usage("--list takes no TOKENFILE: it lists every account")
                .hint("run 'mailtoken --status TOKENFILE' for one account"),
        );
    }
    if !cli.list && !cli.check && token_files > 1 {
        return Err(Error::usage("only --check takes several TOKENFILEs")
            .hint("name one TOKENFILE, or use --check TOKENFILE..."));
    }
    if cli.json && !cli.list && !cli.status && !cli.admin_request {
        return Err(Error::usage(
            "--json goes with --list, --status or --admin-request",
        ));
    }
    Ok(())
}

/// The actions a flag can change. Only `--authorize` changes an account: everything else a flag
/// says applies to the one run it is given with, and a flag that none of the run's actions uses
/// is refused rather than ignored (flags silently ignored once the file existed were a standing
/// complaint about mutt_oauth2.py, neomutt PR #4795).
/// `--admin-request` takes them too: it is needed before the first sign-in, and changes nothing.
const SIGN_IN: &[Action] = &[Action::Authorize, Action::AdminRequest];
/// The client and token endpoint: whatever sends a request for this account.
const CLIENT: &[Action] = &[
    Action::Print,
    Action::Authorize,
    Action::Test,
    Action::Revoke,
    Action::AdminRequest,
];
/// The e-mail address and `--mailbox`: what prints or tests a login.
const MAIL: &[Action] = &[
    Action::Print,
    Action::Authorize,
    Action::Test,
    Action::AdminRequest,
];
/// The SASL method, the mail servers and `--min-valid`: what prints or tests a login, and what
/// `--set` changes.
const MAIL_SETTINGS: &[Action] = &[
    Action::Print,
    Action::Authorize,
    Action::Test,
    Action::AdminRequest,
    Action::Set,
];

/// Refuses a flag that none of the actions asked for uses (exit 64), naming where it applies.
fn check_flags_apply(cli: &Cli, actions: &[Action], account: &str) -> Result<()> {
    let account = if account.is_empty() {
        "TOKENFILE".to_string()
    } else {
        paths::shell_quote(account)
    };
    let flags: [(bool, &str, &[Action]); 33] = [
        (cli.client_file.is_some(), "--client-file", SIGN_IN),
        (cli.testing_app, "--testing-app", SIGN_IN),
        (cli.authflow.is_some(), "--authflow", SIGN_IN),
        (cli.port.is_some(), "--port", SIGN_IN),
        (cli.service_account.is_some(), "--service-account", SIGN_IN),
        (
            cli.client_certificate.is_some(),
            "--client-certificate",
            SIGN_IN,
        ),
        (cli.no_browser, "--no-browser", SIGN_IN),
        (cli.auth_timeout.is_some(), "--auth-timeout", SIGN_IN),
        (cli.no_login_hint, "--no-login-hint", SIGN_IN),
        (cli.provider.is_some(), "--provider", SIGN_IN),
        (cli.tenant.is_some(), "--tenant", SIGN_IN),
        (cli.cloud.is_some(), "--cloud", SIGN_IN),
        (cli.issuer.is_some(), "--issuer", SIGN_IN),
        (cli.scope.is_some(), "--scope", SIGN_IN),
        (
            cli.authorize_endpoint.is_some(),
            "--authorize-endpoint",
            SIGN_IN,
        ),
        (
            cli.devicecode_endpoint.is_some(),
            "--devicecode-endpoint",
            SIGN_IN,
        ),
        (cli.redirect_uri.is_some(), "--redirect-uri", SIGN_IN),
        (cli.encryption.is_some(), "--encryption", SIGN_IN),
        (cli.gpg_recipient.is_some(), "--gpg-recipient", SIGN_IN),
        (cli.client_id.is_some(), "--client-id", CLIENT),
        (cli.client_secret.is_some(), "--client-secret", CLIENT),
        (
            cli.client_secret_file.is_some(),
            "--client-secret-file",
            CLIENT,
        ),
        (cli.token_endpoint.is_some(), "--token-endpoint", CLIENT),
        (cli.email.is_some(), "--email", MAIL),
        (cli.mailbox.is_some(), "--mailbox", MAIL_SETTINGS),
        (cli.sasl_method.is_some(), "--sasl-method", MAIL_SETTINGS),
        (
            cli.imap_endpoint.is_some(),
            "--imap-endpoint",
            MAIL_SETTINGS,
        ),
        (cli.pop_endpoint.is_some(), "--pop-endpoint", MAIL_SETTINGS),
        (
            cli.smtp_endpoint.is_some(),
            "--smtp-endpoint",
            MAIL_SETTINGS,
        ),
        (cli.protocol.is_some(), "--protocol", MAIL),
        (cli.min_valid.is_some(), "--min-valid", MAIL_SETTINGS),
        (
            cli.format != Format::Token,
            "--format",
            &[Action::Print, Action::Authorize],
        ),
        (
            cli.force_refresh,
            "--force-refresh",
            &[Action::Print, Action::Test],
        ),
    ];
    for (given, flag, applies_to) in flags {
        if given && !actions.iter().any(|action| applies_to.contains(action)) {
            let hint = if applies_to == SIGN_IN {
                format!(
                    "it is recorded by a sign-in: run 'mailtoken --authorize {account}' with it \
                     to change the account"
                )
            } else if applies_to == MAIL_SETTINGS {
                format!(
                    "it applies to the mail client's call, --authorize and --test for that run; \
                     'mailtoken --set {account} {flag} ...' stores it"
                )
            } else {
                let modes: Vec<&str> = applies_to.iter().map(|action| action.flag()).collect();
                format!(
                    "it applies to {} alone, and is never stored",
                    modes.join(", ")
                )
            };
            return Err(Error::usage(format!(
                "{flag} does nothing with {}",
                actions
                    .iter()
                    .map(|action| action.flag())
                    .collect::<Vec<_>>()
                    .join(" ")
            ))
            .hint(hint));
        }
    }
    Ok(())
}

/// `--set` with nothing to change is a mistake, said before anything is read.
fn check_set_changes_something(cli: &Cli) -> Result<()> {
    let changes = cli.imap_endpoint.is_some()
        || cli.pop_endpoint.is_some()
        || cli.smtp_endpoint.is_some()
        || cli.sasl_method.is_some()
        || cli.min_valid.is_some()
        || cli.mailbox.is_some();
    if cli.set && !changes {
        return Err(Error::usage("--set changes nothing by itself").hint(
            "give what to change: --imap-endpoint, --pop-endpoint, --smtp-endpoint URL, \
             --sasl-method METHOD, --min-valid MINUTES or --mailbox ADDRESS",
        ));
    }
    Ok(())
}

/// The actions asked for, in the order they run; printing the token when none is.
fn actions(cli: &Cli) -> Vec<Action> {
    let asked = [
        (cli.list, Action::List),
        (cli.check, Action::Check),
        (cli.revoke, Action::Revoke),
        (cli.status, Action::Status),
        (cli.admin_request, Action::AdminRequest),
        (cli.authorize, Action::Authorize),
        (cli.test, Action::Test),
        (cli.set, Action::Set),
        (cli.print_config.is_some(), Action::PrintConfig),
    ];
    let actions: Vec<Action> = asked
        .into_iter()
        .filter_map(|(given, action)| given.then_some(action))
        .collect();
    if actions.is_empty() {
        vec![Action::Print]
    } else {
        actions
    }
}

/// The flags that replace values the token file stores. Mail server URLs are parsed here, so a
/// mistyped one is a usage error before anything runs.
fn overrides(cli: Cli, client_secret: Option<Secret>) -> Result<Overrides> {
    let endpoint = |protocol: Protocol, text: &Option<String>| -> Result<Option<MailEndpoint>> {
        text.as_deref()
            .map(|text| {
                MailEndpoint::parse(protocol, text).map_err(|e| {
                    Error::usage(format!(
                        "--{}-endpoint: {e}",
                        protocol.name().to_lowercase()
                    ))
                })
            })
            .transpose()
    };
    if let Some(mailbox) = cli.mailbox.as_deref().filter(|m| !m.is_empty())
        && !looks_like_an_address(mailbox)
    {
        return Err(Error::usage(format!(
            "--mailbox {:?} is not an e-mail address",
            crate::base::log::sanitize(mailbox)
        )));
    }
    Ok(Overrides {
        email: cli.email,
        mailbox: cli.mailbox,
        client_id: cli.client_id,
        client_secret,
        imap_endpoint: endpoint(Protocol::Imap, &cli.imap_endpoint)?,
        pop_endpoint: endpoint(Protocol::Pop, &cli.pop_endpoint)?,
        smtp_endpoint: endpoint(Protocol::Smtp, &cli.smtp_endpoint)?,
        provider: cli.provider,
        tenant: cli.tenant,
        issuer: cli.issuer,
        authorize_endpoint: cli.authorize_endpoint,
        token_endpoint: cli.token_endpoint,
        devicecode_endpoint: cli.devicecode_endpoint,
        scope: cli.scope,
        redirect_uri: cli.redirect_uri,
        sasl_method: cli.sasl_method,
    })
}

/// An address as a SASL user can carry it: one `@` with something either side, no spaces or
/// control characters (the SASL strings separate their fields with ^A, RFC 7628 section 3.1).
fn looks_like_an_address(text: &str) -> bool {
    matches!(text.split_once('@'), Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'))
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The longest client secret read from a file or stdin; real ones are under 100 bytes.
const MAX_CLIENT_SECRET: u64 = 4096;

/// The client secret from `--client-secret` or `--client-secret-file`. `MAILTOKEN_CLIENT_SECRET`
/// is `--authorize`'s alone to read (`authorize::client`): a refresh uses the stored secret, and
/// an exported variable meant for one account must not go to every provider.
fn client_secret(given: Option<String>, file: Option<&std::path::Path>) -> Result<Option<Secret>> {
    if let Some(secret) = given {
        return Ok(Some(Secret::new(secret)));
    }
    file.map(read_client_secret).transpose()
}

fn read_client_secret(file: &std::path::Path) -> Result<Secret> {
    use std::io::Read;
    let shown = file.display();
    let mut text = String::new();
    let read = if file == std::path::Path::new("-") {
        std::io::stdin()
            .take(MAX_CLIENT_SECRET)
            .read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_CLIENT_SECRET).read_to_string(&mut text))
    };
    read.map_err(|e| {
        Error::usage(format!("cannot read the client secret from {shown}: {e}"))
            .hint("--client-secret-file takes a file holding only the secret, or - for stdin")
    })?;
    // A file written by an editor or `echo` ends with a newline that is not part of the secret.
    let secret = text.trim_end_matches(['\n', '\r']);
    if secret.contains(['\n', '\r']) {
        return Err(Error::usage(format!(
            "{shown} holds more than one line; a client secret is one"
        )));
    }
    Ok(Secret::new(secret.to_string()))
}
