//! The configuration block of each mail client, in its own syntax and words: where mailtoken and
//! the token file are, the SASL user, the servers and their TLS mode, the mechanism, and the
//! trust file when `SSL_CERT_FILE` names one. Each block is minimal and ready to append; its
//! comments say what each part is for. The sources of each setting are cited beside it, and the
//! end-to-end suite runs every block against a real Dovecot (tests/e2e, scenarios 12-17, 27).

use crate::base::error::{Error, Result};
use crate::base::paths::shell_quote;
use crate::mail::client::MailClient;
use crate::mail::mailserver::{MailEndpoint, Protocol, Tls};
use crate::mail::sasl::SaslMethod;

/// What a block is made of: everything comes from the account and this machine.
#[derive(Clone, Debug)]
pub(crate) struct Facts {
    /// The running mailtoken, absolute.
    pub mailtoken: String,
    /// The token file, absolute.
    pub tokenfile: String,
    /// The account as the user typed it, for commands in comments and hints.
    pub account: String,
    /// A label for sections and channels: the file's name.
    pub label: String,
    /// The SASL user (`TokenFile::sasl_user`).
    pub user: String,
    pub imap: Option<MailEndpoint>,
    pub smtp: Option<MailEndpoint>,
    pub method: SaslMethod,
    /// `SSL_CERT_FILE`, when set: the CA the servers' certificates come from.
    pub trust_file: Option<String>,
}

impl Facts {
    /// The command a client runs, as a shell reads it.
    fn command(&self) -> String {
        format!(
            "{} {}",
            shell_quote(&self.mailtoken),
            shell_quote(&self.tokenfile)
        )
    }

    /// The server of `protocol`, or the error that names the flag setting it.
    fn server(&self, client: MailClient, protocol: Protocol) -> Result<&MailEndpoint> {
        let endpoint = match protocol {
            Protocol::Smtp => self.smtp.as_ref(),
            _ => self.imap.as_ref(),
        };
        endpoint.ok_or_else(|| {
            let flag = format!("--{}-endpoint", protocol.name().to_lowercase());
            Error::config(format!(
                "{} needs the account's {} server, and it has none",
                client.name(),
                protocol.name()
            ))
            .hint(format!(
                "run 'mailtoken --set {} {flag} URL' to record it",
                shell_quote(&self.account)
            ))
        })
    }
}

/// The block for `client`, or why none can be written for this account.
pub(crate) fn block(client: MailClient, facts: &Facts) -> Result<String> {
    match client {
        MailClient::Neomutt | MailClient::Mutt => mutt(client, facts),
        MailClient::Msmtp => msmtp(facts),
        MailClient::Mbsync => mbsync(facts),
        MailClient::Aerc => aerc(facts),
        MailClient::Offlineimap => offlineimap(facts),
        MailClient::Getmail => getmail(facts),
    }
}

/// A muttrc string: double quotes, with what mutt expands inside them (backslash, `$`,
/// backticks) escaped.
fn muttrc_string(text: &str) -> String {
    let mut quoted = String::from("\"");
    for c in text.chars() {
        if matches!(c, '\\' | '"' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// A string in double quotes with backslash and the quote escaped: msmtp's and mbsync's.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Percent-encodes what may not stand in a URL's user part (RFC 3986 section 3.2.1).
fn url_user(user: &str) -> String {
    user.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `host:port`, with brackets around an IPv6 address.
fn host_port(endpoint: &MailEndpoint) -> String {
    if endpoint.host.contains(':') {
        format!("[{}]:{}", endpoint.host, endpoint.port)
    } else {
        format!("{}:{}", endpoint.host, endpoint.port)
    }
}

/// A string for Python (offlineimap's expression, getmail's tuple): JSON's string literal is one.
fn python_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// The first line of every block: what it is and what wrote it.
fn header(comment: &str, client: MailClient, facts: &Facts) -> String {
    format!(
        "{comment} {} for {}, written by 'mailtoken --print-config {} {}'\n",
        client.name(),
        facts.user,
        client.name(),
        shell_quote(&facts.account)
    )
}

/// neomutt and mutt: the same variables. Both run the refresh command for the bare token at
/// every login and build the SASL string themselves (NeoMutt manual, "OAUTHBEARER and XOAUTH2
/// Support"; mutt 2 manual, "OAuth"), so a refreshed token is picked up without a restart.
fn mutt(client: MailClient, facts: &Facts) -> Result<String> {
    let imap = facts.server(client, Protocol::Imap)?;
    let smtp = facts.server(client, Protocol::Smtp)?;
    let mechanism = facts.method.name().to_lowercase();
    let command = muttrc_string(&facts.command());
    let scheme = |endpoint: &MailEndpoint, tls: &str, plain: &str| match endpoint.tls {
        Tls::Implicit => tls.to_string(),
        Tls::StartTls => plain.to_string(),
    };
    let mut text = header("#", client, facts);
    text.push_str(&format!(
        "# The mailbox: {} ({}), logged in as this user with {} (OAuth2).\n",
        imap.url(),
        tls_words(imap),
        facts.method.name()
    ));
    text.push_str(&format!("set imap_user = {}\n", muttrc_string(&facts.user)));
    text.push_str(&format!(
        "set folder = {}\n",
        muttrc_string(&format!(
            "{}://{}/",
            scheme(imap, "imaps", "imap"),
            host_port(imap)
        ))
    ));
    text.push_str("set spoolfile = \"+INBOX\"\n");
    text.push_str(&format!("set imap_authenticators = \"{mechanism}\"\n"));
    text.push_str("# mailtoken prints a fresh access token at every login.\n");
    text.push_str(&format!("set imap_oauth_refresh_command = {command}\n"));
    text.push_str(&format!(
        "# Sending: {} ({}), the same user and token.\n",
        smtp.url(),
        tls_words(smtp)
    ));
    text.push_str(&format!(
        "set smtp_url = {}\n",
        muttrc_string(&format!(
            "{}://{}@{}/",
            scheme(smtp, "smtps", "smtp"),
            url_user(&facts.user),
            host_port(smtp)
        ))
    ));
    text.push_str(&format!("set smtp_authenticators = \"{mechanism}\"\n"));
    text.push_str(&format!("set smtp_oauth_refresh_command = {command}\n"));
    text.push_str(
        "# Never send the token without TLS; STARTTLS where the URL says imap:// or smtp://.\n",
    );
    text.push_str("set ssl_force_tls = yes\nset ssl_starttls = yes\n");
    if let Some(trust) = &facts.trust_file {
        text.push_str("# The servers' certificates come from this CA (SSL_CERT_FILE).\n");
        text.push_str(&format!(
            "set ssl_ca_certificates_file = {}\n",
            muttrc_string(trust)
        ));
    }
    Ok(text)
}

/// msmtp: `passwordeval` prints the token; msmtp builds the SASL string from `user` (msmtp(1),
/// "oauthbearer or its predecessor xoauth2").
fn msmtp(facts: &Facts) -> Result<String> {
    let smtp = facts.server(MailClient::Msmtp, Protocol::Smtp)?;
    let mut text = header("#", MailClient::Msmtp, facts);
    text.push_str(&format!(
        "# Send with 'msmtp -a {0}', or add 'account default : {0}' after it.\n",
        facts.label
    ));
    text.push_str(&format!("account {}\n", facts.label));
    text.push_str(&format!(
        "# The server: {} ({}).\n",
        smtp.url(),
        tls_words(smtp)
    ));
    text.push_str(&format!("host {}\nport {}\n", smtp.host, smtp.port));
    text.push_str("tls on\n");
    text.push_str(match smtp.tls {
        Tls::Implicit => "tls_starttls off\n",
        Tls::StartTls => "tls_starttls on\n",
    });
    if let Some(trust) = &facts.trust_file {
        text.push_str("# The server's certificate comes from this CA (SSL_CERT_FILE).\n");
        text.push_str(&format!("tls_trust_file {}\n", quoted(trust)));
    }
    text.push_str(&format!(
        "# OAuth2: the user and a fresh token from mailtoken, with {}.\n",
        facts.method.name()
    ));
    text.push_str(&format!("auth {}\n", facts.method.name().to_lowercase()));
    text.push_str(&format!("user {}\nfrom {}\n", facts.user, facts.user));
    text.push_str(&format!("passwordeval {}\n", quoted(&facts.command())));
    Ok(text)
}

/// mbsync (isync): `PassCmd`'s output goes to Cyrus SASL as the password, and a Cyrus plugin for
/// the mechanism sends it as the token (mbsync(1), `AuthMechs`; the plugin: docs/recipes.md).
fn mbsync(facts: &Facts) -> Result<String> {
    let imap = facts.server(MailClient::Mbsync, Protocol::Imap)?;
    let label = &facts.label;
    let mut text = header("#", MailClient::Mbsync, facts);
    text.push_str(&format!(
        "# The mailbox: {} ({}).\n",
        imap.url(),
        tls_words(imap)
    ));
    text.push_str(&format!("IMAPAccount {label}\n"));
    text.push_str(&format!(
        "Host {}\nPort {}\nUser {}\n",
        imap.host, imap.port, facts.user
    ));
    text.push_str("# A fresh access token at every connection, through Cyrus SASL's plugin.\n");
    text.push_str(&format!("PassCmd {}\n", quoted(&facts.command())));
    text.push_str(&format!("AuthMechs {}\n", facts.method.name()));
    text.push_str("# isync 1.5 also calls it TLSType; 1.4 knows only SSLType.\n");
    text.push_str(match imap.tls {
        Tls::Implicit => "SSLType IMAPS\n",
        Tls::StartTls => "SSLType STARTTLS\n",
    });
    if let Some(trust) = &facts.trust_file {
        text.push_str("# The server's certificate comes from this CA (SSL_CERT_FILE).\n");
        text.push_str(&format!("CertificateFile {}\n", quoted(trust)));
    }
    text.push_str(&format!("\nIMAPStore {label}-remote\nAccount {label}\n\n"));
    text.push_str(&format!(
        "# Where the mail goes: a Maildir of its own (make it first: mkdir -p ~/Mail/{label}).\n"
    ));
    text.push_str(&format!(
        "MaildirStore {label}-local\nPath ~/Mail/{label}/\nInbox ~/Mail/{label}/INBOX\n\n"
    ));
    text.push_str(&format!(
        "Channel {label}\nFar :{label}-remote:\nNear :{label}-local:\nPatterns *\nCreate Near\nSyncState *\n"
    ));
    Ok(text)
}

/// aerc: `*-cred-cmd` prints the token, taken as the access token when the URL has no
/// `token_endpoint` (aerc-imap(5)); each command runs with `sh -c`. aerc 0.14 names its OAuth
/// schemes after implicit TLS (`imaps+`, `smtps+`); STARTTLS is `imap+` and, for SMTP,
/// `smtp+` with `smtp-starttls` (aerc-smtp(5)).
fn aerc(facts: &Facts) -> Result<String> {
    let imap = facts.server(MailClient::Aerc, Protocol::Imap)?;
    let smtp = facts.server(MailClient::Aerc, Protocol::Smtp)?;
    let mechanism = facts.method.name().to_lowercase();
    let user = url_user(&facts.user);
    let mut text = header("#", MailClient::Aerc, facts);
    text.push_str("# In ~/.config/aerc/accounts.conf (mode 0600).\n");
    text.push_str(&format!("[{}]\n", facts.label));
    text.push_str(&format!(
        "# The mailbox: {} ({}), with {}.\n",
        imap.url(),
        tls_words(imap),
        facts.method.name()
    ));
    let imap_scheme = match imap.tls {
        Tls::Implicit => "imaps",
        Tls::StartTls => "imap",
    };
    text.push_str(&format!(
        "source = {imap_scheme}+{mechanism}://{user}@{}\n",
        host_port(imap)
    ));
    text.push_str(&format!("source-cred-cmd = {}\n", facts.command()));
    text.push_str(&format!(
        "# Sending: {} ({}).\n",
        smtp.url(),
        tls_words(smtp)
    ));
    let smtp_scheme = match smtp.tls {
        Tls::Implicit => "smtps",
        Tls::StartTls => "smtp",
    };
    text.push_str(&format!(
        "outgoing = {smtp_scheme}+{mechanism}://{user}@{}\n",
        host_port(smtp)
    ));
    if smtp.tls == Tls::StartTls {
        text.push_str("smtp-starttls = true\n");
    }
    text.push_str(&format!("outgoing-cred-cmd = {}\n", facts.command()));
    text.push_str("# A fresh token for every message: the first one lives an hour.\n");
    text.push_str("outgoing-cred-cmd-cache = false\n");
    text.push_str(&format!("from = {}\n", facts.user));
    if let Some(trust) = &facts.trust_file {
        text.push_str(&format!(
            "# aerc has no setting for a CA: start it as 'SSL_CERT_FILE={} aerc'.\n",
            shell_quote(trust)
        ));
    }
    Ok(text)
}

/// offlineimap: the expression is Python, evaluated once per run with no module imported, and
/// its value (newline stripped) is the access token; only XOAUTH2 is implemented (offlineimap3's
/// imapserver.py). Its STARTTLS verifies no certificate and goes on in plain text when the
/// server offers none (imaplib's `starttls()` with no context, and `__start_tls`), so only an
/// implicit-TLS server gets a block.
fn offlineimap(facts: &Facts) -> Result<String> {
    let imap = facts.server(MailClient::Offlineimap, Protocol::Imap)?;
    implicit_only(MailClient::Offlineimap, imap, facts)?;
    let label = &facts.label;
    // The configuration is read with interpolation: a '%' is written '%%'.
    let escape = |text: &str| text.replace('%', "%%");
    let mut text = header("#", MailClient::Offlineimap, facts);
    text.push_str(&format!("[general]\naccounts = {label}\n\n"));
    text.push_str(&format!(
        "[Account {label}]\nlocalrepository = {label}-local\nremoterepository = {label}-remote\n\n"
    ));
    text.push_str("# Where the mail goes: a Maildir of its own.\n");
    text.push_str(&format!(
        "[Repository {label}-local]\ntype = Maildir\nlocalfolders = ~/Mail/{label}\n\n"
    ));
    text.push_str(&format!(
        "# The mailbox: {} (TLS from the first byte).\n",
        imap.url()
    ));
    text.push_str(&format!(
        "[Repository {label}-remote]\ntype = IMAP\nremotehost = {}\nremoteport = {}\nremoteuser = {}\n",
        imap.host,
        imap.port,
        escape(&facts.user)
    ));
    text.push_str("ssl = yes\n");
    text.push_str(&format!(
        "sslcacertfile = {}\n",
        escape(facts.trust_file.as_deref().unwrap_or("OS-DEFAULT"))
    ));
    text.push_str(
        "# offlineimap speaks XOAUTH2 only; the token is read once per run: run it with -o.\n",
    );
    text.push_str("auth_mechanisms = XOAUTH2\n");
    text.push_str(&escape(&format!(
        "oauth2_access_token_eval = __import__(\"subprocess\").check_output([{}, {}], text=True)\n",
        python_string(&facts.mailtoken),
        python_string(&facts.tokenfile)
    )));
    Ok(text)
}

/// getmail (getmail6): `password_command`'s output is the bearer token of its XOAUTH2 login
/// (getmail6's _retrieverbases.py), over implicit TLS only: 6.18 has no STARTTLS, and XOAUTH2 for
/// IMAP alone (its configuration.txt, `use_xoauth2`).
fn getmail(facts: &Facts) -> Result<String> {
    let imap = facts.server(MailClient::Getmail, Protocol::Imap)?;
    implicit_only(MailClient::Getmail, imap, facts)?;
    let mut text = header("#", MailClient::Getmail, facts);
    text.push_str(&format!(
        "# In ~/.getmail/getmailrc, getmail's file by default. The mailbox: {}.\n",
        imap.url()
    ));
    text.push_str("[retriever]\ntype = SimpleIMAPSSLRetriever\n");
    text.push_str(&format!(
        "server = {}\nport = {}\nusername = {}\n",
        imap.host, imap.port, facts.user
    ));
    if let Some(trust) = &facts.trust_file {
        text.push_str("# The server's certificate comes from this CA (SSL_CERT_FILE).\n");
        text.push_str(&format!("ca_certs = {trust}\n"));
    }
    text.push_str("# getmail speaks XOAUTH2 only, with the token the command prints.\n");
    text.push_str("use_xoauth2 = True\n");
    text.push_str(&format!(
        "password_command = ({}, {})\n\n",
        python_string(&facts.mailtoken),
        python_string(&facts.tokenfile)
    ));
    text.push_str(&format!(
        "# Where the mail goes: a Maildir of its own (make it first: mkdir -p ~/Mail/{0}/cur ~/Mail/{0}/new ~/Mail/{0}/tmp).\n",
        facts.label
    ));
    text.push_str(&format!(
        "[destination]\ntype = Maildir\npath = ~/Mail/{}/\n",
        facts.label
    ));
    Ok(text)
}

/// Refuses a STARTTLS server for a client that would not protect the token on it.
fn implicit_only(client: MailClient, endpoint: &MailEndpoint, facts: &Facts) -> Result<()> {
    if endpoint.tls == Tls::Implicit {
        return Ok(());
    }
    Err(Error::config(format!(
        "{} would send the token over {} without the protection mailtoken requires: it \
         verifies no certificate after STARTTLS, or has no STARTTLS at all",
        client.name(),
        endpoint.url()
    ))
    .hint(format!(
        "give it the server's TLS port: 'mailtoken --set {} --imap-endpoint {}', if the server \
         offers it",
        shell_quote(&facts.account),
        endpoint.at_implicit_tls_port().url()
    )))
}

fn tls_words(endpoint: &MailEndpoint) -> &'static str {
    match endpoint.tls {
        Tls::Implicit => "TLS from the first byte",
        Tls::StartTls => "STARTTLS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_for_each_syntax() {
        assert_eq!(muttrc_string("a\"b$c`d\\"), "\"a\\\"b\\$c\\`d\\\\\"");
        assert_eq!(quoted("x \"y\" \\"), "\"x \\\"y\\\" \\\\\"");
        assert_eq!(url_user("a+b@c.d"), "a%2Bb%40c.d");
        assert_eq!(python_string("it's \"x\""), "\"it's \\\"x\\\"\"");
    }
}
