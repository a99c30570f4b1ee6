//! The one TLS configuration every connection uses: rustls with the ring provider, trusting the
//! system's roots plus any bundle named by `SSL_CERT_FILE` / `SSL_CERT_DIR`. Certificate
//! verification is never switched off.
//!
//! The roots are read once per run, when the first TLS connection needs them, and from the
//! system's one bundle file where it has one (as curl reads them), not from the hundreds of
//! files of its certificate directory: a refresh reads them at most once, and a request to a
//! plain-http loopback endpoint never. `SSL_CERT_FILE` and `SSL_CERT_DIR` add to them.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::{ClientConfig, RootCertStore};

use crate::base::error::{Error, Result};

/// Where Linux distributions keep the system bundle; read in addition to `SSL_CERT_FILE`, which
/// otherwise replaces the system roots in rustls-native-certs.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// The system's bundle of trusted certificates, where a distribution keeps one.
fn system_bundle() -> Option<&'static Path> {
    SYSTEM_BUNDLES
        .iter()
        .map(Path::new)
        .find(|path| path.exists())
}

/// The trusted roots: the system's and, when set, those of `SSL_CERT_FILE` / `SSL_CERT_DIR`.
pub(crate) fn root_store() -> Result<RootCertStore> {
    let bundle = system_bundle();
    // A variable that names the system's own bundle, or the directory beside it (which holds the
    // same roots, one file each: update-ca-certificates and update-ca-trust make both), adds
    // nothing to the bundle.
    let variable = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let file = variable("SSL_CERT_FILE").filter(|file| Some(Path::new(file)) != bundle);
    let dir = variable("SSL_CERT_DIR")
        .filter(|dir| Some(Path::new(dir)) != bundle.and_then(Path::parent));
    let mut roots = RootCertStore::empty();
    let mut sources = Vec::new();
    let mut add = |loaded: rustls_native_certs::CertificateResult, from: String| {
        for error in &loaded.errors {
            crate::base::log::warn(format!("while loading trusted certificates: {error}"));
        }
        let (added, _) = roots.add_parsable_certificates(loaded.certs);
        sources.push(format!("{added} from {from}"));
    };
    if file.is_some() || dir.is_some() {
        add(
            rustls_native_certs::load_certs_from_paths(
                file.as_deref().map(Path::new),
                dir.as_deref().map(Path::new),
            ),
            "SSL_CERT_FILE and SSL_CERT_DIR".into(),
        );
    }
    match bundle {
        Some(bundle) => {
            add(
                rustls_native_certs::load_certs_from_paths(Some(bundle), None),
                bundle.display().to_string(),
            );
        }
        // No bundle where distributions keep one: the platform's own way (rustls-native-certs).
        None => {
            add(
                rustls_native_certs::load_native_certs(),
                "the system".into(),
            );
        }
    }
    crate::base::log::debug(format!(
        "trusting {} CA certificates: {}",
        roots.len(),
        sources.join(", ")
    ));
    if roots.is_empty() {
        return Err(Error::config("no trusted CA certificates found")
            .hint("install ca-certificates, or name a PEM bundle in SSL_CERT_FILE"));
    }
    Ok(roots)
}

/// What to do about a certificate from an authority nobody here trusts: the places trusted now
/// (the system's store, and `SSL_CERT_FILE` as it is set or not), and the variable that adds one.
pub(crate) fn trust_hint() -> String {
    let system = system_bundle().map_or_else(
        || "the system's store".to_string(),
        |path| format!("the system's store ({})", path.display()),
    );
    let file = match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        Some(value) => format!("SSL_CERT_FILE ({})", Path::new(&value).display()),
        None => "SSL_CERT_FILE (not set)".to_string(),
    };
    format!(
        "mailtoken trusts {system} and {file}: name the PEM file of the server's certificate \
         authority in SSL_CERT_FILE where mailtoken runs (the mail client's environment too), or \
         add it to the system's store; certificates are always verified"
    )
}

/// The rustls client configuration shared by HTTPS, IMAP, POP and SMTP connections: made once per
/// run, on first use.
pub(crate) fn client_config() -> Result<Arc<ClientConfig>> {
    static MADE: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(config) = MADE.get() {
        return Ok(Arc::clone(config));
    }
    let config = Arc::new(config_trusting(root_store()?)?);
    Ok(Arc::clone(MADE.get_or_init(|| config)))
}

/// A configuration that trusts nothing, for a client that only ever speaks plain http to this
/// machine's loopback (RFC 8252 section 8.3): it reads no certificate, and could verify none.
pub(crate) fn plain_http_config() -> Result<ClientConfig> {
    config_trusting(RootCertStore::empty())
}

fn config_trusting(roots: RootCertStore) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
