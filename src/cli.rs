//! The command line, and nothing else: clap definitions only, so the man page and the shell
//! completions can be generated from this one place.
//!
//! Every flag of mutt_oauth2.py is here with the same spelling and meaning, so replacing the
//! script's name in a muttrc is the whole migration.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The command line of `mailtoken`.
#[derive(Parser, Debug, Clone)]
#[command(
    name = "mailtoken",
    version,
    about = "Print a fresh OAuth2 access token for IMAP, POP and SMTP from an encrypted token file",
    long_about = "Print a fresh OAuth2 access token for IMAP, POP and SMTP from an encrypted token file.\n\n\
        Mail clients (mutt, neomutt, msmtp, mbsync, aerc, cron scripts) run mailtoken and read the token \
        from its standard output. The token is refreshed silently when it is about to expire; run \
        `mailtoken --authorize TOKENFILE` once to sign in. Only the token is ever printed on stdout; \
        every message goes to stderr.",
    after_help = crate::error::exit_status_summary(),
    after_long_help = crate::error::exit_status_help(),
)]
pub struct Cli {
    /// Token file: a path, or a bare NAME meaning $XDG_DATA_HOME/mailtoken/NAME (several, or none
    /// for every account, with --check; none with --list)
    #[arg(value_name = "TOKENFILE", required_unless_present_any = ["list", "check"])]
    pub tokenfile: Vec<PathBuf>,

    /// Say what is happening, on stderr
    #[arg(short, long)]
    pub verbose: bool,

    /// Trace every HTTP and mail-protocol exchange on stderr, with secrets redacted
    #[arg(short, long)]
    pub debug: bool,

    /// Sign in interactively and (re)create the token file
    #[arg(short, long)]
    pub authorize: bool,

    /// Authorization flow; stored in the token file as the account's default
    #[arg(long, value_enum, value_name = "FLOW")]
    pub authflow: Option<Flow>,

    /// Log in to IMAP, POP and SMTP with the token and explain any failure
    #[arg(short, long)]
    pub test: bool,

    /// What to print: the bare token, a base64 SASL string, or "METHOD base64"
    #[arg(long, value_enum, default_value_t = Format::Token)]
    pub format: Format,

    /// Protocol for --format sasl|msasl (default imap); narrows --test to one protocol
    #[arg(long, value_enum)]
    pub protocol: Option<Protocol>,

    /// Provider: google, microsoft, yahoo, aol, or a name for a custom registration
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,

    /// E-mail address of the account (the SASL user name)
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,

    /// OAuth2 client id; stored in the token file
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// OAuth2 client secret; stored in the token file. Visible to other users in the process
    /// list: prefer --client-secret-file, MAILTOKEN_CLIENT_SECRET (read by --authorize) or the prompt
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,

    /// Read the OAuth2 client secret from FILE (`-` for stdin); stored in the token file
    #[arg(long, value_name = "FILE", conflicts_with = "client_secret")]
    pub client_secret_file: Option<PathBuf>,

    /// Command that encrypts stdin to stdout; stored in the token file
    #[arg(long, value_name = "COMMAND")]
    pub encryption_pipe: Option<String>,

    /// Command that decrypts stdin to stdout (needed on every call, as with mutt_oauth2.py)
    #[arg(long, value_name = "COMMAND")]
    pub decryption_pipe: Option<String>,

    /// Refresh even if the cached token looks valid (a server just rejected it)
    #[arg(long)]
    pub force_refresh: bool,

    /// Print the account's state (no secrets) to stdout and exit
    #[arg(long, conflicts_with_all = ["authorize", "test", "force_refresh"])]
    pub status: bool,

    /// age identity file (X25519, or an unencrypted OpenSSH ed25519/RSA key)
    #[arg(long, value_name = "FILE")]
    pub age_identity: Option<PathBuf>,

    /// Encrypt with gpg to this key (implies --encryption gpg)
    #[arg(long, value_name = "ID")]
    pub gpg_recipient: Option<String>,

    /// How a new token file is encrypted (default age)
    #[arg(long, value_enum, value_name = "KIND")]
    pub encryption: Option<EncryptionKind>,

    /// Microsoft tenant: common, consumers, organizations or a tenant id
    #[arg(long, value_name = "TENANT")]
    pub tenant: Option<String>,

    /// Discover the endpoints of this issuer (RFC 8414, then OpenID Connect discovery)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// Authorization endpoint URL
    #[arg(long, value_name = "URL")]
    pub authorize_endpoint: Option<String>,

    /// Token endpoint URL
    #[arg(long, value_name = "URL")]
    pub token_endpoint: Option<String>,

    /// Device authorization endpoint URL (RFC 8628)
    #[arg(long, value_name = "URL")]
    pub devicecode_endpoint: Option<String>,

    /// Scope to request (space-separated)
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// Redirect URI registered for the client
    #[arg(long, value_name = "URI")]
    pub redirect_uri: Option<String>,

    /// SASL mechanism for --format and --test
    #[arg(long, value_enum, ignore_case = true, value_name = "METHOD")]
    pub sasl_method: Option<SaslMethod>,

    /// IMAP server: imaps://host:993 (TLS), imap://host:143 (STARTTLS) or a bare host
    #[arg(long, value_name = "URL")]
    pub imap_endpoint: Option<String>,

    /// POP server: pop3s://host:995 (TLS), pop3://host:110 (STARTTLS) or a bare host
    #[arg(long, value_name = "URL")]
    pub pop_endpoint: Option<String>,

    /// SMTP server: smtps://host:465 (TLS), smtp://host:587 (STARTTLS) or a bare host
    #[arg(long, value_name = "URL")]
    pub smtp_endpoint: Option<String>,

    /// Fixed loopback port for localhostauthcode (for `ssh -L`); default: any free port
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Print the sign-in URL without opening a browser
    #[arg(long)]
    pub no_browser: bool,

    /// Give up on an interactive sign-in after this many seconds (default 300; for devicecode,
    /// the code's own lifetime)
    #[arg(long, value_name = "SECONDS")]
    pub auth_timeout: Option<u64>,

    // Account lifecycle: listing, health checks from cron, revocation (issue #12).
    /// List every account in $XDG_DATA_HOME/mailtoken with its state (no TOKENFILE), and exit
    #[arg(long, conflicts_with_all = ["authorize", "test", "force_refresh", "status", "check", "revoke"])]
    pub list: bool,

    /// With --list or --status: print JSON (an array, or one object) instead of text
    #[arg(long)]
    pub json: bool,

    /// For cron: refresh expired and idle accounts (every account, or each TOKENFILE); silent
    /// unless one needs you
    #[arg(long, conflicts_with_all = ["authorize", "test", "force_refresh", "status", "revoke"])]
    pub check: bool,

    /// With --check: also refresh accounts not refreshed for this many days, so logins that
    /// expire when unused stay alive (0: every account, every time)
    #[arg(long, value_name = "DAYS", default_value_t = 7, requires = "check")]
    pub keepalive: u32,

    /// Revoke the login at the provider (RFC 7009), then delete the token file
    #[arg(long, conflicts_with_all = ["authorize", "test", "force_refresh", "status"])]
    pub revoke: bool,

    /// Leave the e-mail address out of the sign-in URL (no login_hint)
    #[arg(long)]
    pub no_login_hint: bool,
}

/// How the user signs in.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Open a URL, paste back the code or the whole redirected URL
    Authcode,
    /// Open a browser; a loopback listener receives the code (RFC 8252)
    Localhostauthcode,
    /// Enter a short code on another device (RFC 8628)
    Devicecode,
    /// No user: a confidential client gets tokens directly (RFC 6749 section 4.4)
    Clientcredentials,
}

/// What is printed on stdout.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The bare access token
    Token,
    /// The base64 SASL initial response
    Sasl,
    /// The SASL mechanism name, a space, and the base64 SASL initial response
    Msasl,
}

/// A mail protocol.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Imap,
    Pop,
    Smtp,
}

/// A SASL mechanism that carries an OAuth2 bearer token.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SaslMethod {
    /// Google's and Microsoft's mechanism
    #[value(name = "XOAUTH2")]
    #[serde(rename = "XOAUTH2")]
    Xoauth2,
    /// The standard mechanism (RFC 7628)
    #[value(name = "OAUTHBEARER")]
    #[serde(rename = "OAUTHBEARER")]
    Oauthbearer,
}

/// How a new token file is encrypted.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptionKind {
    /// age, to the recipient of the age identity (no prompt: works from cron)
    Age,
    /// age with a passphrase asked on the terminal (interactive use only)
    Passphrase,
    /// gpg, to --gpg-recipient or your default key
    Gpg,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "IMAP",
            Protocol::Pop => "POP",
            Protocol::Smtp => "SMTP",
        }
    }
}

impl SaslMethod {
    pub fn name(self) -> &'static str {
        match self {
            SaslMethod::Xoauth2 => "XOAUTH2",
            SaslMethod::Oauthbearer => "OAUTHBEARER",
        }
    }
}

impl Flow {
    pub fn name(self) -> &'static str {
        match self {
            Flow::Authcode => "authcode",
            Flow::Localhostauthcode => "localhostauthcode",
            Flow::Devicecode => "devicecode",
            Flow::Clientcredentials => "clientcredentials",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_definition_is_consistent() {
        Cli::command().debug_assert();
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

    #[test]
    fn sasl_method_is_case_insensitive() {
        let cli = Cli::try_parse_from(["mailtoken", "f", "--sasl-method", "xoauth2"]).unwrap();
        assert_eq!(cli.sasl_method, Some(SaslMethod::Xoauth2));
    }
}
