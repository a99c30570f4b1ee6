//! Credentials that sign instead of a client secret, for accounts without a user: a Google
//! service account's key (`--service-account FILE`, domain-wide delegation) and a certificate
//! credential (`--client-certificate FILE`, Microsoft's alternative to secrets that expire within
//! two years). Everything about them is in this folder: this file is what a credential is and how
//! its file is read, `key` the RSA key and certificate, `jwt` the assertions they sign (RFC 7523);
//! `grant::assertion` sends those assertions as every token request is sent.
//!
//! The key file must be the user's own and readable by no one else (exit 78 otherwise, as for a
//! token file): it is a secret. `--authorize` reads it once and keeps its contents encrypted
//! inside the token file, so no refresh needs the file again; the key is never in argv, a log,
//! an error message or `--debug` output.

pub(crate) mod jwt;
mod key;

use std::path::Path;

use serde::{Deserialize, Serialize};

use self::key::SigningKey;
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::private_files::{self, ReadError};
use crate::base::secret::Secret;

/// A signing credential, as the token file keeps it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Credential {
    /// A Google service account: RFC 7523 section 2.1's JWT bearer grant, issued by
    /// `client_email` for the mailbox (`sub`).
    ServiceAccount {
        client_email: String,
        /// `private_key_id`, the JWT's `kid`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_id: Option<String>,
        /// The PKCS#8 RSA key, PEM.
        private_key: Secret,
        /// Where the key's JSON says to send the assertion (its `aud`).
        token_uri: String,
    },
    /// A certificate credential: RFC 7523 section 2.2's client assertion, with the
    /// certificate's SHA-1 thumbprint as Microsoft's `x5t`.
    Certificate {
        /// The RSA key, PEM (PKCS#8 or PKCS#1).
        private_key: Secret,
        /// The certificate, PEM (public).
        certificate: String,
    },
}

/// The most a key file can hold: Google's JSON keys are about 2.3 kB.
const MAX_KEY_FILE: usize = 64 * 1024;

/// Reads a key file that must be the user's own and private, for `flag`.
fn read_key_file(path: &Path, flag: &str) -> Result<String> {
    let shown = path.display();
    let bytes = private_files::read_private(path).map_err(|error| match error {
        ReadError::Exposed(mode) => Error::config(format!(
            "{shown} (given to {flag}) can be read by other users (mode {mode:04o}); it holds a \
             private key"
        ))
        .hint(format!(
            "run 'chmod 600 {}'",
            crate::base::paths::shell_quote(&path.to_string_lossy())
        )),
        ReadError::NotOwned(uid) => Error::config(format!(
            "{shown} (given to {flag}) belongs to another user (uid {uid}); a private key must \
             be in a file of your own"
        )),
        ReadError::Missing => Error::config(format!("{flag}: there is no file {shown}")),
        ReadError::NotAFile => Error::config(format!("{flag}: {shown} is not a regular file")),
        ReadError::TooLarge => Error::config(format!("{flag}: {shown} is far too large")),
        ReadError::Io(e) => Error::config(format!("{flag}: cannot read {shown}: {e}")),
    })?;
    if bytes.len() > MAX_KEY_FILE {
        return Err(Error::config(format!("{flag}: {shown} is far too large")));
    }
    String::from_utf8(bytes).map_err(|_| Error::config(format!("{flag}: {shown} is not text")))
}

/// Google's service account key file (JSON, "type": "service_account").
#[derive(Deserialize)]
struct ServiceAccountFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<Secret>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// `--service-account FILE`.
pub(crate) fn read_service_account(path: &Path) -> Result<Credential> {
    const FLAG: &str = "--service-account";
    let text = Secret::new(read_key_file(path, FLAG)?);
    let bad = |what: &str| {
        Error::config(format!(
            "{FLAG}: {} is not a Google service account key ({what})",
            path.display()
        ))
        .hint("download a JSON key of the service account (IAM, Service accounts, Keys)")
    };
    // The parse error is not shown: it could quote the key.
    let file: ServiceAccountFile =
        serde_json::from_str(text.expose()).map_err(|_| bad("not JSON"))?;
    if file.kind.as_deref() != Some("service_account") {
        return Err(bad("its \"type\" is not \"service_account\""));
    }
    let client_email = file.client_email.ok_or_else(|| bad("no client_email"))?;
    let private_key = file.private_key.ok_or_else(|| bad("no private_key"))?;
    let token_uri = file.token_uri.ok_or_else(|| bad("no token_uri"))?;
    SigningKey::from_pem(private_key.expose())
        .map_err(|why| bad(&format!("its private_key {why}")))?;
    crate::oauth::provider::check_endpoint("token_uri of the service account", &token_uri)?;
    Ok(Credential::ServiceAccount {
        client_email,
        key_id: file.private_key_id,
        private_key,
        token_uri,
    })
}

/// `--client-certificate FILE`: PEM with the private key and the certificate.
pub(crate) fn read_certificate(path: &Path) -> Result<Credential> {
    const FLAG: &str = "--client-certificate";
    let text = Secret::new(read_key_file(path, FLAG)?);
    let bad = |what: &str| {
        Error::config(format!("{FLAG}: {} {what}", path.display())).hint(
            "give one PEM file holding the RSA private key and the certificate uploaded to the \
             app registration (cat key.pem cert.pem > credential.pem)",
        )
    };
    SigningKey::from_pem(text.expose())
        .map_err(|why| bad(&format!("holds no usable key: {why}")))?;
    let certificate =
        key::certificate_pem(text.expose()).ok_or_else(|| bad("holds no certificate"))?;
    log::verbose(format!(
        "the certificate's thumbprint (x5t) is {}",
        key::thumbprint(&certificate).unwrap_or_default()
    ));
    Ok(Credential::Certificate {
        private_key: text,
        certificate,
    })
}
