//! The one TLS configuration every connection uses: rustls with the ring provider, trusting the
//! system's roots plus any bundle named by `SSL_CERT_FILE` / `SSL_CERT_DIR`. Certificate
//! verification is never switched off.

use std::sync::Arc;

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

/// The trusted roots: system roots and, when set, `SSL_CERT_FILE` / `SSL_CERT_DIR`.
pub(crate) fn root_store() -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    let loaded = rustls_native_certs::load_native_certs();
    for error in &loaded.errors {
        crate::base::log::warn(format!("while loading trusted certificates: {error}"));
    }
    let (added, _) = roots.add_parsable_certificates(loaded.certs);
    let env_set =
        std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some();
    let mut sources = vec![format!(
        "{added} from {}",
        if env_set {
            "SSL_CERT_FILE and SSL_CERT_DIR"
        } else {
            "the system"
        }
    )];
    // Looked for only when the environment replaced the system roots (the chain is lazy).
    if env_set
        && let Some(bundle) = SYSTEM_BUNDLES
            .iter()
            .map(std::path::Path::new)
            .find(|path| path.exists())
    {
        let system = rustls_native_certs::load_certs_from_paths(Some(bundle), None);
        let (from_system, _) = roots.add_parsable_certificates(system.certs);
        sources.push(format!("{from_system} from {}", bundle.display()));
    }
    crate::base::log::debug(format!(
        "trusting {} CA certificates: {}",
        roots.len(),
        sources.join(", ")
    ));
    if added == 0 && roots.is_empty() {
        return Err(Error::config("no trusted CA certificates found")
            .hint("install ca-certificates, or name a PEM bundle in SSL_CERT_FILE"));
    }
    Ok(roots)
}

/// What to do about a certificate from an authority nobody here trusts: the places trusted now
/// (the system's store, and `SSL_CERT_FILE` as it is set or not), and the variable that adds one.
pub(crate) fn trust_hint() -> String {
    let system = SYSTEM_BUNDLES
        .iter()
        .find(|path| std::path::Path::new(path).exists())
        .map_or_else(
            || "the system's store".to_string(),
            |path| format!("the system's store ({path})"),
        );
    let file = match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
        Some(value) => format!("SSL_CERT_FILE ({})", std::path::Path::new(&value).display()),
        None => "SSL_CERT_FILE (not set)".to_string(),
    };
    format!(
        "mailtoken trusts {system} and {file}: name the PEM file of the server's certificate \
         authority in SSL_CERT_FILE where mailtoken runs (the mail client's environment too), or \
         add it to the system's store; certificates are always verified"
    )
}

/// The rustls client configuration shared by HTTPS, IMAP, POP and SMTP connections.
pub(crate) fn client_config() -> Result<Arc<ClientConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("TLS setup failed: {e}")))?
        .with_root_certificates(root_store()?)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
