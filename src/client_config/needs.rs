//! What a client needs on this machine to use its block, each missing thing with its one-line
//! fix: the client itself; the Cyrus SASL plugin for the account's mechanism where the client
//! logs in through Cyrus SASL; NeoMutt's limit on a token's length, against this account's token;
//! and a version new enough for the mechanism. Every look is local or a client's own version
//! text, asked with a deadline (`machine`); nothing secret is shown, only a token's length.

use std::path::Path;

use super::cyrus;
use super::machine::{self, VERSION_DEADLINE};
use crate::base::secret::Secret;
use crate::mail::client::MailClient;
use crate::mail::sasl::SaslMethod;

/// One thing missing, and the line that fixes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Missing {
    pub what: String,
    pub fix: String,
}

/// msmtp's first release with each mechanism (its NEWS: OAUTHBEARER added in 1.8.4 and fixed in
/// 1.8.5, XOAUTH2 added in 1.8.13).
const MSMTP_MINIMUM: [(SaslMethod, [u64; 3]); 2] = [
    (SaslMethod::Oauthbearer, [1, 8, 5]),
    (SaslMethod::Xoauth2, [1, 8, 13]),
];

/// NeoMutt's limit on the refresh command's line (conn/connaccount.c,
/// `mutt_account_getoauthbearer`): a read buffer of 512 bytes for OAUTHBEARER; 4096 for XOAUTH2
/// from 20220408 on (neomutt PR #3138), 2048 before. The buffer holds the line, its newline and
/// a NUL, and grows in steps of 256.
fn neomutt_limit(method: SaslMethod, version: Option<&[u64]>) -> usize {
    match method {
        SaslMethod::Oauthbearer => 512,
        SaslMethod::Xoauth2 if version.is_some_and(|v| v < [20220408].as_slice()) => 2048,
        SaslMethod::Xoauth2 => 4096,
    }
}

/// The longest token NeoMutt takes under a buffer limit: the limit less the newline and NUL.
fn fits_neomutt(length: usize, limit: usize) -> bool {
    length + 2 <= limit
}

/// Everything `client` lacks here for this account's `method` and `token`.
pub(crate) fn missing(
    client: MailClient,
    method: SaslMethod,
    token: &Secret,
    account: &str,
) -> Vec<Missing> {
    let Some(program) = machine::find(client.program()) else {
        return vec![Missing {
            what: format!("{} is not installed (not on PATH)", client.program()),
            fix: install(client.debian_package()),
        }];
    };
    let mut missing = Vec::new();
    match client {
        MailClient::Mbsync => missing.extend(cyrus_plugin(client, method, account)),
        MailClient::Neomutt | MailClient::Mutt => {
            let text = machine::output_of(&program, &["-v"], VERSION_DEADLINE).unwrap_or_default();
            if built_with_cyrus(client, &text) {
                missing.extend(cyrus_plugin(client, method, account));
            }
            if client == MailClient::Neomutt {
                let version = machine::version_in(&text, "NeoMutt");
                missing.extend(neomutt_token(method, version.as_deref(), token, account));
            }
        }
        MailClient::Msmtp => missing.extend(msmtp_version(&program, method)),
        _ => {}
    }
    missing
}

/// Whether `-v` says the program was built with Cyrus SASL (NeoMutt's compile options list
/// `+sasl`, mutt's `+USE_SASL`; GNU SASL is `+gsasl` and `+USE_GSASL`, Debian 12's builds).
fn built_with_cyrus(client: MailClient, version_text: &str) -> bool {
    let flag = match client {
        MailClient::Neomutt => "+sasl",
        _ => "+USE_SASL",
    };
    version_text.split_whitespace().any(|word| word == flag)
}

/// A Cyrus SASL plugin for `method` where the library looks.
fn cyrus_plugin(client: MailClient, method: SaslMethod, account: &str) -> Option<Missing> {
    let (dirs, from_variable) = cyrus::search_path();
    let found = cyrus::offering(&dirs, method);
    if found.iter().any(|plugin| !plugin.other_kind) {
        return None;
    }
    let looked = if dirs.is_empty() {
        "no plugin directory exists".to_string()
    } else {
        format!(
            "looked in {}{}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            if from_variable { " (SASL_PATH)" } else { "" }
        )
    };
    if let Some(plugin) = found.iter().find(|plugin| plugin.other_kind) {
        return Some(Missing {
            what: format!(
                "{} logs in through Cyrus SASL, and its {} plugin here is {}, which takes a \
                 token file of its own as the password, not mailtoken's token",
                client.program(),
                method.name(),
                plugin.path.display()
            ),
            fix: plugin_package(method, account),
        });
    }
    let elsewhere: Vec<String> = cyrus::offering(&cyrus::other_dirs(), method)
        .into_iter()
        .filter(|plugin| !plugin.other_kind && !dirs.iter().any(|d| plugin.path.starts_with(d)))
        .map(|plugin| plugin.path.display().to_string())
        .collect();
    if let Some(path) = elsewhere.first() {
        let dir = Path::new(path).parent().unwrap_or(Path::new("/"));
        let mut all: Vec<String> = vec![dir.display().to_string()];
        all.extend(dirs.iter().map(|d| d.display().to_string()));
        return Some(Missing {
            what: format!(
                "{} logs in through Cyrus SASL, which does not look where its {} plugin is \
                 ({path}; {looked})",
                client.program(),
                method.name()
            ),
            fix: format!(
                "export SASL_PATH={} where {} runs",
                all.join(":"),
                client.program()
            ),
        });
    }
    Some(Missing {
        what: format!(
            "{} logs in through Cyrus SASL, and no Cyrus SASL plugin offers {} ({looked})",
            client.program(),
            method.name()
        ),
        fix: plugin_package(method, account),
    })
}

/// The package with a Cyrus plugin for `method`.
fn plugin_package(method: SaslMethod, account: &str) -> String {
    match method {
        SaslMethod::Xoauth2 => format!(
            "{} (elsewhere: the cyrus-sasl-xoauth2 plugin; Arch: cyrus-sasl-xoauth2-git)",
            install("libsasl2-modules-kdexoauth2")
        ),
        // No distribution packages one for Cyrus SASL 2.1.28 that research found.
        SaslMethod::Oauthbearer => format!(
            "install a Cyrus SASL plugin for OAUTHBEARER, or use XOAUTH2 if the server offers \
             it: 'mailtoken --set {account} --sasl-method XOAUTH2'"
        ),
    }
}

/// NeoMutt's length limit against this account's current token.
fn neomutt_token(
    method: SaslMethod,
    version: Option<&[u64]>,
    token: &Secret,
    account: &str,
) -> Option<Missing> {
    let length = token.expose().len();
    let limit = neomutt_limit(method, version);
    if token.is_empty() || fits_neomutt(length, limit) {
        return None;
    }
    let other_fits = method == SaslMethod::Oauthbearer
        && fits_neomutt(length, neomutt_limit(SaslMethod::Xoauth2, version));
    Some(Missing {
        what: format!(
            "this account's access token is {length} bytes, and NeoMutt refuses a token that \
             does not fit its {limit}-byte buffer for {} (\"OAUTH token is too big\")",
            method.name()
        ),
        fix: if other_fits {
            format!(
                "use XOAUTH2, whose limit it fits, if the server offers it: 'mailtoken --set \
                 {account} --sasl-method XOAUTH2', then print the block again"
            )
        } else {
            "use mutt (2.0 or newer, the same settings, any length), or read with mbsync and \
             send with msmtp"
                .to_string()
        },
    })
}

/// msmtp's version against the mechanism's first release.
fn msmtp_version(program: &Path, method: SaslMethod) -> Option<Missing> {
    let text = machine::output_of(program, &["--version"], VERSION_DEADLINE)?;
    let version = machine::version_in(&text, "msmtp version")?;
    let (_, minimum) = MSMTP_MINIMUM.iter().find(|(m, _)| *m == method)?;
    (version.as_slice() < minimum.as_slice()).then(|| Missing {
        what: format!(
            "msmtp {} is older than {}, the first with auth {}",
            machine::shown(&version),
            machine::shown(minimum),
            method.name().to_lowercase()
        ),
        fix: format!(
            "install msmtp {} or newer (Debian 12 has 1.8.23)",
            machine::shown(minimum)
        ),
    })
}

/// The line that installs a Debian package, or names it elsewhere.
fn install(package: &str) -> String {
    if Path::new("/etc/debian_version").exists() {
        format!("sudo apt install {package}")
    } else {
        format!("install your distribution's package of {package} (Debian's name)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neomutt_limits_follow_its_source() {
        // A 510-character token fills the 512-byte buffer with its newline and NUL.
        assert!(fits_neomutt(
            510,
            neomutt_limit(SaslMethod::Oauthbearer, None)
        ));
        assert!(!fits_neomutt(
            511,
            neomutt_limit(SaslMethod::Oauthbearer, None)
        ));
        let debian = [20220429];
        assert!(fits_neomutt(
            2500,
            neomutt_limit(SaslMethod::Xoauth2, Some(&debian))
        ));
        assert!(!fits_neomutt(
            2500,
            neomutt_limit(SaslMethod::Xoauth2, Some(&[20211015]))
        ));
        let microsoft = Secret::new("x".repeat(2000));
        let missing =
            neomutt_token(SaslMethod::Oauthbearer, Some(&debian), &microsoft, "work").unwrap();
        assert!(missing.what.contains("2000 bytes"), "{missing:?}");
        assert!(missing.fix.contains("--sasl-method XOAUTH2"), "{missing:?}");
        assert!(neomutt_token(SaslMethod::Xoauth2, Some(&debian), &microsoft, "work").is_none());
    }

    #[test]
    fn cyrus_builds_are_told_from_gnu_sasl_builds() {
        // From `neomutt -v` and `mutt -v` of Debian 12 (GNU SASL), and as a Cyrus build says it.
        assert!(!built_with_cyrus(
            MailClient::Neomutt,
            "+fcntl -flock +gsasl +gss -sasl +smime"
        ));
        assert!(built_with_cyrus(MailClient::Neomutt, "+gss +sasl +smime"));
        assert!(!built_with_cyrus(
            MailClient::Mutt,
            "-USE_SSL_OPENSSL  +USE_SSL_GNUTLS  -USE_SASL  +USE_GSASL"
        ));
        assert!(built_with_cyrus(
            MailClient::Mutt,
            "+USE_SSL_GNUTLS  +USE_SASL"
        ));
    }
}
