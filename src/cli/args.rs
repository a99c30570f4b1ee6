//! The command line, and nothing else: clap definitions only, so the man page and the shell
//! completions can be generated from this one place.
//!
//! Every flag of mutt_oauth2.py is here with the same spelling and meaning, so replacing the
//! script's name in a muttrc is the whole migration.

use std::path::PathBuf;

use clap::{ArgAction, CommandFactory, Parser};

use super::values::ProviderName;

use crate::cli::output::Format;
use crate::mail::client::MailClient;
use crate::mail::mailserver::Protocol;
use crate::mail::sasl::SaslMethod;
use crate::oauth::provider::Cloud;
use crate::store::encryption::EncryptionKind;
use crate::store::tokenfile::Flow;

/// The headings of `-h` and `--help`, in the order a newcomer meets them (clap orders headings by
/// their first option below).
const SIGN: &str = "Signing in";
const PROVIDER: &str = "Provider";
const MAIL: &str = "Mail servers";
const ENC: &str = "Encryption";
const OUTPUT: &str = "Output";
const ACCOUNTS: &str = "Accounts";
const DIAG: &str = "Diagnostics";

/// The command line of `mailtoken`.
#[derive(Parser, Debug, Clone, Default)]
#[command(
    name = "mailtoken",
    version,
    about = "Print a fresh OAuth2 access token for IMAP, POP and SMTP from an encrypted token file",
    long_about = "Print a fresh OAuth2 access token for IMAP, POP and SMTP from an encrypted token file.\n\n\
        Mail clients (mutt, neomutt, msmtp, mbsync, aerc, cron scripts) run mailtoken and read the token \
        from its standard output. The token is refreshed silently when it is about to expire; run \
        `mailtoken --authorize TOKENFILE` once to sign in. Only the token is ever printed on stdout; \
        every message goes to stderr.",
    after_help = crate::base::error::exit_status_summary(),
    after_long_help = crate::base::error::exit_status_help(),
    max_term_width = 100,
    disable_help_flag = true,
    disable_version_flag = true
)]
pub struct Cli {
    /// Token file: a path, or a bare NAME meaning $XDG_DATA_HOME/mailtoken/NAME
    ///
    /// With --check: any number (none: every account); with --list: none.
    // Not required with --json either, so that `mailtoken --json` alone is told what --json goes
    // with (settings) rather than that a TOKENFILE is missing.
    #[arg(
        value_name = "TOKENFILE",
        required_unless_present_any = ["list", "check", "json", "admin_request"]
    )]
    pub tokenfile: Vec<PathBuf>,

    /// Sign in and (re)create the token file
    #[arg(short, long, help_heading = SIGN)]
    pub authorize: bool,

    /// Sign-in flow; stored as the account's default
    #[arg(long, value_enum, value_name = "FLOW", help_heading = SIGN)]
    pub authflow: Option<Flow>,

    /// E-mail address of the account (the SASL user name)
    #[arg(long, value_name = "ADDRESS", help_heading = SIGN)]
    pub email: Option<String>,

    /// The Google app is in Testing status: its logins end 7 days after each sign-in
    ///
    /// Google says nothing of it in its answers; --status and --check then foresee the end. Known
    /// for every account of the client from then on (also learnt when a login ends so).
    #[arg(long, help_heading = SIGN, hide_short_help = true)]
    pub testing_app: bool,

    /// Shared or delegated mailbox opened with --email's login (the SASL user then)
    ///
    /// For a Microsoft 365 shared mailbox, or another user's mailbox the signed-in user has Full
    /// Access (or Send As) on: --email is who signs in, --mailbox the mailbox the mail client
    /// opens, sent as the SASL user. Stored by --authorize; --mailbox '' removes it.
    #[arg(long, value_name = "ADDRESS", help_heading = SIGN, hide_short_help = true)]
    pub mailbox: Option<String>,

    /// OAuth2 client id; stored in the token file
    #[arg(long, value_name = "ID", help_heading = SIGN)]
    pub client_id: Option<String>,

    /// OAuth2 client secret; stored in the token file
    ///
    /// Visible to other users in the process list: prefer --client-secret-file,
    /// MAILTOKEN_CLIENT_SECRET (read by --authorize only) or the prompt. An empty value means a
    /// public client.
    // Not in -h: the short help points at nothing that shows a secret to other users.
    #[arg(long, value_name = "SECRET", help_heading = SIGN, hide_short_help = true)]
    pub client_secret: Option<String>,

    /// Read the OAuth2 client secret from FILE (`-` for stdin); stored in the token file
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "client_secret",
        help_heading = SIGN,
        hide_short_help = true
    )]
    pub client_secret_file: Option<PathBuf>,

    /// The client file your provider's console gave you: Google's client JSON, an Entra manifest
    ///
    /// Google's downloaded client_secret_*.json (a "Desktop app" client) or a Microsoft Entra app
    /// manifest (the portal's Manifest page, or az ad app show): the client id, secret, endpoints
    /// and tenant are taken from it, and the registration is checked against this sign-in before
    /// the browser opens (exit 78 for a defect that must fail).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "client_id",
        help_heading = SIGN,
        hide_short_help = true
    )]
    pub client_file: Option<PathBuf>,

    /// Google service account key (JSON) acting for --email's mailbox (domain-wide delegation)
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["client_certificate", "client_secret", "client_secret_file"],
        help_heading = SIGN,
        hide_short_help = true
    )]
    pub service_account: Option<PathBuf>,

    /// PEM file with an RSA key and its certificate: clientcredentials without a secret
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["client_secret", "client_secret_file"],
        help_heading = SIGN,
        hide_short_help = true
    )]
    pub client_certificate: Option<PathBuf>,

    /// Fixed loopback port for localhostauthcode (for `ssh -L`); default: any free port
    #[arg(long, value_name = "PORT", help_heading = SIGN, hide_short_help = true)]
    pub port: Option<u16>,

    /// Print the sign-in URL without opening a browser
    #[arg(long, help_heading = SIGN, hide_short_help = true)]
    pub no_browser: bool,

    /// Give up on an interactive sign-in after this many seconds (default 300; for devicecode,
    /// the code's own lifetime)
    #[arg(long, value_name = "SECONDS", help_heading = SIGN, hide_short_help = true)]
    pub auth_timeout: Option<u64>,

    /// A preset (google, microsoft, yahoo, aol, yandex, mailru) or any name
    #[arg(
        long,
        value_name = "NAME",
        value_parser = ProviderName,
        hide_possible_values = true,
        help_heading = PROVIDER
    )]
    pub provider: Option<String>,

    /// Microsoft tenant: common, consumers, organizations or a tenant id
    #[arg(long, value_name = "TENANT", help_heading = PROVIDER, hide_short_help = true)]
    pub tenant: Option<String>,

    /// Microsoft cloud: global, usgov, usgov-dod or china (login host, scopes, mail servers)
    #[arg(long, value_enum, value_name = "CLOUD", help_heading = PROVIDER, hide_short_help = true)]
    pub cloud: Option<Cloud>,

    /// Discover the endpoints of this issuer (RFC 8414, OpenID Connect)
    #[arg(long, value_name = "URL", help_heading = PROVIDER)]
    pub issuer: Option<String>,

    /// Scope to request (space-separated); the preset's by default
    #[arg(long, value_name = "SCOPE", help_heading = PROVIDER)]
    pub scope: Option<String>,

    /// Authorization endpoint URL
    #[arg(long, value_name = "URL", help_heading = PROVIDER, hide_short_help = true)]
    pub authorize_endpoint: Option<String>,

    /// Token endpoint URL
    #[arg(long, value_name = "URL", help_heading = PROVIDER, hide_short_help = true)]
    pub token_endpoint: Option<String>,

    /// Device authorization endpoint URL (RFC 8628)
    #[arg(long, value_name = "URL", help_heading = PROVIDER, hide_short_help = true)]
    pub devicecode_endpoint: Option<String>,

    /// Redirect URI registered for the client
    #[arg(long, value_name = "URI", help_heading = PROVIDER, hide_short_help = true)]
    pub redirect_uri: Option<String>,

    /// IMAP server: imaps://HOST:993 (TLS) or imap://HOST:143 (STARTTLS)
    ///
    /// A bare HOST means imaps://HOST:993; for HOST:PORT the port decides between TLS and STARTTLS.
    #[arg(long, value_name = "URL", help_heading = MAIL)]
    pub imap_endpoint: Option<String>,

    /// POP server: pop3s://HOST:995 (TLS) or pop3://HOST:110 (STARTTLS)
    ///
    /// A bare HOST means pop3s://HOST:995; for HOST:PORT the port decides between TLS and STARTTLS.
    // Not in -h: POP is the rarest of the three; --help has it.
    #[arg(long, value_name = "URL", help_heading = MAIL, hide_short_help = true)]
    pub pop_endpoint: Option<String>,

    /// SMTP server: smtps://HOST:465 (TLS) or smtp://HOST:587 (STARTTLS)
    ///
    /// A bare HOST means smtps://HOST:465; for HOST:PORT the port decides between TLS and STARTTLS.
    #[arg(long, value_name = "URL", help_heading = MAIL)]
    pub smtp_endpoint: Option<String>,

    /// SASL mechanism
    ///
    /// The mechanism of --format sasl|msasl and of the logins of --test; the provider's own by default.
    #[arg(long, value_enum, ignore_case = true, value_name = "METHOD", help_heading = MAIL)]
    pub sasl_method: Option<SaslMethod>,

    /// Encryption of a new file
    ///
    /// How a new token file is encrypted; the default is age, to the age identity.
    #[arg(long, value_enum, value_name = "KIND", help_heading = ENC)]
    pub encryption: Option<EncryptionKind>,

    /// Command that decrypts the token file, stdin to stdout
    ///
    /// Needed on every call for files made with --encryption-pipe, as with mutt_oauth2.py.
    // Not in -h: only files made with --encryption-pipe need it, and their owner chose that.
    #[arg(long, value_name = "COMMAND", help_heading = ENC, hide_short_help = true)]
    pub decryption_pipe: Option<String>,

    /// Command that encrypts stdin to stdout; stored in the token file
    #[arg(long, value_name = "COMMAND", help_heading = ENC, hide_short_help = true)]
    pub encryption_pipe: Option<String>,

    /// age identity file (X25519, or an unencrypted OpenSSH ed25519/RSA key)
    #[arg(long, value_name = "FILE", help_heading = ENC, hide_short_help = true)]
    pub age_identity: Option<PathBuf>,

    /// Encrypt with gpg to this key (implies --encryption gpg)
    #[arg(long, value_name = "ID", help_heading = ENC, hide_short_help = true)]
    pub gpg_recipient: Option<String>,

    /// What to print
    #[arg(long, value_enum, default_value_t = Format::Token, help_heading = OUTPUT)]
    pub format: Format,

    /// Protocol for --format and --test
    ///
    /// The protocol of --format sasl|msasl (default imap); with --test, test only this protocol.
    #[arg(long, value_enum, help_heading = OUTPUT, hide_short_help = true)]
    pub protocol: Option<Protocol>,

    /// Refresh even if the cached token looks valid
    ///
    /// For when a server has just rejected the token.
    // Not in -h: a newcomer needs --print-config there more; the troubleshooting that needs
    // this flag names it.
    #[arg(long, help_heading = OUTPUT, hide_short_help = true)]
    pub force_refresh: bool,

    /// Refresh first when the token has less than MINUTES left; --authorize stores it
    ///
    /// For servers that refuse a token about to expire (Microsoft's high-volume SMTP wants 10
    /// minutes). Given with --authorize it becomes the account's default (0 removes it); on any
    /// other call it applies to that call alone.
    #[arg(long, value_name = "MINUTES", help_heading = OUTPUT, hide_short_help = true)]
    pub min_valid: Option<u32>,

    // Account lifecycle: listing, state, health checks from cron, revocation (issue #12), all
    // under Accounts; the ways of looking at what happens under Diagnostics.
    /// Every account in $XDG_DATA_HOME/mailtoken and its state
    ///
    /// One line each: name, e-mail address, provider, state. No TOKENFILE; no network.
    #[arg(
        long,
        conflicts_with_all = ["authorize", "test", "force_refresh", "status", "check", "revoke"],
        help_heading = ACCOUNTS
    )]
    pub list: bool,

    /// Print the account's state (no secrets) to stdout and exit
    // `requires`: with --json, which lifts TOKENFILE's requirement so that `--json` alone can
    // say what it goes with, --status still needs its TOKENFILE.
    #[arg(
        long,
        conflicts_with_all = ["authorize", "test", "force_refresh"],
        requires = "tokenfile",
        help_heading = ACCOUNTS
    )]
    pub status: bool,

    /// With --list, --status or --admin-request: print JSON instead of text
    ///
    /// An array of accounts for --list, one object for --status; the schema is stable and holds
    /// no secrets.
    #[arg(long, help_heading = ACCOUNTS)]
    pub json: bool,

    /// For cron: refresh expired and idle accounts; silent unless one needs you
    ///
    /// Every account, or each TOKENFILE given. Exit 0 when all work, 77 when any needs a new
    /// sign-in, 75 when only temporary failures occurred.
    #[arg(
        long,
        conflicts_with_all = ["authorize", "test", "force_refresh", "status", "revoke"],
        help_heading = ACCOUNTS
    )]
    pub check: bool,

    /// With --check: also refresh accounts not refreshed for this many days, so logins that
    /// expire when unused stay alive (0: every account, every time)
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = DEFAULT_KEEPALIVE_DAYS,
        requires = "check",
        help_heading = ACCOUNTS,
        hide_short_help = true
    )]
    pub keepalive: u32,

    /// With --check: warn through the notify hook when a login ends within this many days
    ///
    /// The hook runs with MAILTOKEN_EVENT=ending once a day per account while the login's
    /// foreseen end (--status's "login ends") is that close; a login whose end moves with use
    /// (Microsoft's 90 days, Google's six months) is refreshed instead. 0 turns the warning off.
    #[arg(
        long,
        value_name = "DAYS",
        default_value_t = DEFAULT_WARN_DAYS,
        requires = "check",
        help_heading = ACCOUNTS,
        hide_short_help = true
    )]
    pub warn_days: u32,

    /// Revoke the login at the provider (RFC 7009), then delete the token file
    #[arg(
        long,
        conflicts_with_all = ["authorize", "test", "force_refresh", "status"],
        help_heading = ACCOUNTS
    )]
    pub revoke: bool,

    /// With --revoke: do not ask for confirmation on a terminal
    #[arg(long, requires = "revoke", help_heading = ACCOUNTS, hide_short_help = true)]
    pub yes: bool,

    /// Change the account's mail servers, SASL method or --min-valid, without a sign-in
    ///
    /// With --imap-endpoint, --pop-endpoint, --smtp-endpoint, --sasl-method, --min-valid (0
    /// removes it) and --mailbox ('' removes it): each given replaces the stored value, and what
    /// changed is said. The tokens and the login are never touched.
    // Not in -h: the messages that need it name it (a missing server, a mechanism to change).
    #[arg(
        long,
        conflicts_with_all = ["authorize", "test", "force_refresh", "status", "list", "check", "revoke", "admin_request"],
        help_heading = ACCOUNTS,
        hide_short_help = true
    )]
    pub set: bool,

    /// A mail client's configuration for the account, ready to append
    ///
    /// CLIENT is neomutt, mutt, msmtp, mbsync, aerc, offlineimap or getmail. The block names
    /// this mailtoken and the token file by their absolute paths, the user, the servers and the
    /// mechanism; stderr says what the client still lacks on this machine (the program, a Cyrus
    /// SASL plugin, a version, NeoMutt's token length), each with its fix.
    #[arg(
        long,
        value_enum,
        value_name = "CLIENT",
        hide_possible_values = true,
        conflicts_with_all = ["authorize", "test", "force_refresh", "status", "list", "check", "revoke", "set", "admin_request"],
        help_heading = OUTPUT
    )]
    pub print_config: Option<MailClient>,

    /// Print what a Microsoft tenant's administrator must grant, and how
    ///
    /// From TOKENFILE, or from the flags --authorize takes (before the first sign-in): the app id,
    /// tenant and permissions, the admin-consent URL, and for an app that signs in as itself the
    /// Exchange Online PowerShell lines. No secret is printed; --json prints the fields.
    #[arg(
        long,
        conflicts_with_all = ["authorize", "test", "force_refresh", "status", "check", "revoke", "list"],
        help_heading = ACCOUNTS,
        hide_short_help = true
    )]
    pub admin_request: bool,

    /// Leave the e-mail address out of the sign-in URL (no login_hint)
    #[arg(long, help_heading = SIGN, hide_short_help = true)]
    pub no_login_hint: bool,

    /// Log in to IMAP, POP and SMTP with the token; explain failures
    #[arg(short, long, help_heading = DIAG)]
    pub test: bool,

    /// Say what is happening, on stderr
    #[arg(short, long, help_heading = DIAG)]
    pub verbose: bool,

    /// Trace every HTTP and mail-protocol exchange on stderr, with secrets redacted
    #[arg(short, long, help_heading = DIAG)]
    pub debug: bool,

    /// Print help (see more with '--help')
    #[arg(short, long, action = ArgAction::Help, help_heading = DIAG)]
    pub help: Option<bool>,

    /// Print version
    #[arg(short = 'V', long, action = ArgAction::Version, help_heading = DIAG)]
    pub version: Option<bool>,
}

/// The command as the man page and the completions show it: every option with its one-line
/// description. clap_mangen shows an option's long help, or its short help only when the option
/// is in `-h`, so an option left out of `-h` whose doc comment is one line (no long help) would
/// be listed there with no words at all; here its one line is its long help too.
pub fn documented_command() -> clap::Command {
    Cli::command().mut_args(|argument| {
        match (argument.get_long_help(), argument.get_help().cloned()) {
            (None, Some(help)) => argument.long_help(help),
            _ => argument,
        }
    })
}

impl Cli {
    /// The mail client's call, `mailtoken TOKENFILE` and nothing else, as clap would parse it,
    /// without building clap's parser: on the cached-token path that is about a sixth of the
    /// call's instructions (benches/README.md). `None` for anything else (a flag, several
    /// arguments, a word starting with `-`), which clap parses as usual. A unit test holds it equal
    /// to clap's result.
    pub fn token_call(mut args: impl Iterator<Item = std::ffi::OsString>) -> Option<Cli> {
        let _program = args.next()?;
        let tokenfile = args.next()?;
        if args.next().is_some()
            || tokenfile.is_empty()
            || tokenfile.as_encoded_bytes().starts_with(b"-")
        {
            return None;
        }
        Some(Cli {
            tokenfile: vec![PathBuf::from(tokenfile)],
            keepalive: DEFAULT_KEEPALIVE_DAYS,
            warn_days: DEFAULT_WARN_DAYS,
            ..Cli::default()
        })
    }
}

/// `--keepalive`'s default, in days.
const DEFAULT_KEEPALIVE_DAYS: u32 = 7;

/// `--warn-days`'s default: three days, so that a daily check warns on three days before a
/// Google Testing app's 7-day login ends, with time left to sign in at a convenient moment.
const DEFAULT_WARN_DAYS: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_token_call_is_what_clap_parses() {
        let args = |words: &[&str]| {
            words
                .iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        for name in ["work", "./work", "/home/u/.mutt/token", "a b", "é", "--"] {
            let words = args(&["mailtoken", name]);
            match Cli::token_call(words.clone().into_iter()) {
                Some(fast) => {
                    let parsed = Cli::try_parse_from(words).unwrap();
                    assert_eq!(format!("{fast:?}"), format!("{parsed:?}"), "{name}");
                }
                None => assert!(name.starts_with('-'), "{name} was not taken"),
            }
        }
        for words in [
            &["mailtoken"][..],
            &["mailtoken", ""],
            &["mailtoken", "-v"],
            &["mailtoken", "work", "-v"],
            &["mailtoken", "work", "gmail"],
        ] {
            assert!(
                Cli::token_call(args(words).into_iter()).is_none(),
                "{words:?}"
            );
        }
    }

    #[test]
    fn accepts_mutt_oauth2_command_lines() {
        let cli = Cli::try_parse_from([
            "mailtoken",
            "/home/u/.mutt/token",
            "--format",
            "msasl",
            "--protocol",
            "smtp",
            "-v",
            "--decryption-pipe",
            "gpg --decrypt",
        ])
        .unwrap();
        assert_eq!(cli.format, Format::Msasl);
        assert_eq!(cli.protocol, Some(Protocol::Smtp));
        assert!(cli.verbose);
    }

    /// A flow and a SASL method are spelt in three places: the command line (above), `name()`
    /// (messages, `--status`), and the token file (serde). A file written with one spelling must
    /// be readable with the flag spelt as the messages spell it, so the three must agree.
    #[test]
    fn sasl_method_is_case_insensitive() {
        let cli = Cli::try_parse_from(["mailtoken", "f", "--sasl-method", "xoauth2"]).unwrap();
        assert_eq!(cli.sasl_method, Some(SaslMethod::Xoauth2));
    }
}
