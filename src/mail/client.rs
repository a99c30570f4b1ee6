//! The mail clients `--print-config` writes a configuration for: their names on the command line,
//! the program each runs as, and the Debian package that installs it.

/// A mail client mailtoken can configure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailClient {
    Neomutt,
    Mutt,
    Msmtp,
    Mbsync,
    Aerc,
    Offlineimap,
    Getmail,
}

impl MailClient {
    /// Every client, in the order the help and the documentation list them.
    pub const ALL: [MailClient; 7] = [
        MailClient::Neomutt,
        MailClient::Mutt,
        MailClient::Msmtp,
        MailClient::Mbsync,
        MailClient::Aerc,
        MailClient::Offlineimap,
        MailClient::Getmail,
    ];

    /// The name `--print-config` takes.
    pub fn name(self) -> &'static str {
        match self {
            MailClient::Neomutt => "neomutt",
            MailClient::Mutt => "mutt",
            MailClient::Msmtp => "msmtp",
            MailClient::Mbsync => "mbsync",
            MailClient::Aerc => "aerc",
            MailClient::Offlineimap => "offlineimap",
            MailClient::Getmail => "getmail",
        }
    }

    /// The program on `PATH`.
    pub fn program(self) -> &'static str {
        match self {
            // isync's program.
            MailClient::Mbsync => "mbsync",
            other => other.name(),
        }
    }

    /// The Debian (and Ubuntu) package that installs the program.
    pub fn debian_package(self) -> &'static str {
        match self {
            MailClient::Mbsync => "isync",
            MailClient::Offlineimap => "offlineimap3",
            MailClient::Getmail => "getmail6",
            other => other.name(),
        }
    }
}
