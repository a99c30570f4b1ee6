//! Why an HTTP exchange never got an answer, said once and in words, with the host and port:
//! "cannot connect to login.example.com:443: connection refused" rather than reqwest's whole
//! chain ("error sending request for url (...): client error (Connect): tcp connect error:
//! Connection refused (os error 111)"), which repeats itself and names the layers, not the cause.
//!
//! The cause is read from the chain's typed errors (the OS's `io::Error`, rustls' `Error`), not
//! from its wording, except for hyper's "dns error", which has no type of its own.

use std::error::Error as StdError;
use std::io::ErrorKind;
use std::time::Duration;

/// What kind of failure it was: how it is classified (temporary or configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// No answer in time.
    Timeout,
    /// No connection: refused, unreachable, no such host. The network may come back.
    Connect,
    /// The server answered the TLS handshake with something that is not TLS: plain HTTP on an
    /// https:// URL. Trying again cannot help; the URL must change.
    NotTls,
    /// The server's certificate comes from an authority nobody here trusts: trying again cannot
    /// help; the trust must change (`SSL_CERT_FILE`, the system's store).
    Untrusted,
    /// Anything else: a refused certificate, a connection closed mid-answer.
    Other,
}

/// A failure in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub kind: Kind,
    pub words: String,
}

/// `host:port` of a URL, the port given or the scheme's own, as messages name a server.
pub(crate) fn address(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("(no host)");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Describes a failed request to `address` (`host:port`). `connect_timeout` and `total` are the
/// deadlines that were in force, for the words of a timeout.
pub(crate) fn describe(
    error: &reqwest::Error,
    address: &str,
    connect_timeout: Duration,
    total: Duration,
) -> Failure {
    let causes = chain(error);
    if let Some(tls) = causes.iter().find_map(|cause| rustls_error(*cause)) {
        return tls_failure(tls, address);
    }
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    let text = |cause: &dyn StdError| cause.to_string();
    if causes.iter().any(|cause| text(*cause) == "dns error") {
        return Failure {
            kind: Kind::Connect,
            words: format!(
                "cannot find the address of {host}: {}",
                lowercase_first(
                    innermost(&causes).trim_start_matches("failed to lookup address information: ")
                )
            ),
        };
    }
    // The deepest I/O error is the OS's own; the ones around it are wrappers (kind Other).
    let io = causes
        .iter()
        .rev()
        .find_map(|cause| cause.downcast_ref::<std::io::Error>());
    if error.is_timeout() || io.is_some_and(|io| io.kind() == ErrorKind::TimedOut) {
        let words = if error.is_connect() {
            format!(
                "cannot connect to {address}: timed out after {}",
                seconds(connect_timeout)
            )
        } else {
            timed_out(address, total)
        };
        return Failure {
            kind: Kind::Timeout,
            words,
        };
    }
    if let Some(io) = io
        && let Some(reason) = io_reason(io.kind())
    {
        let kind = if error.is_connect() {
            Kind::Connect
        } else {
            Kind::Other
        };
        let words = match (kind, io.kind()) {
            (Kind::Connect, _) => format!("cannot connect to {address}: {reason}"),
            (_, ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset) => {
                format!("{address} closed the connection before answering in full")
            }
            _ => format!("the connection to {address} failed: {reason}"),
        };
        return Failure { kind, words };
    }
    if error.is_connect() {
        return Failure {
            kind: Kind::Connect,
            words: format!("cannot connect to {address}: {}", innermost(&causes)),
        };
    }
    Failure {
        kind: Kind::Other,
        words: format!("the exchange with {address} failed: {}", innermost(&causes)),
    }
}

/// Describes a failure while reading the answer of `address`, after the request was sent.
pub(crate) fn describe_read(error: &std::io::Error, address: &str, total: Duration) -> Failure {
    let causes = chain(error);
    let timeout = error.kind() == ErrorKind::TimedOut
        || causes.iter().any(|cause| {
            cause
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout)
        });
    if timeout {
        return Failure {
            kind: Kind::Timeout,
            words: timed_out(address, total),
        };
    }
    let words = match error.kind() {
        ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset => {
            format!("{address} closed the connection before answering in full")
        }
        _ => format!(
            "reading the answer of {address} failed: {}",
            innermost(&causes)
        ),
    };
    Failure {
        kind: Kind::Other,
        words,
    }
}

/// The words of an exchange that outlived its deadline.
pub(crate) fn timed_out(address: &str, total: Duration) -> String {
    format!(
        "{address} timed out: no complete answer within {}",
        seconds(total)
    )
}

/// An error and its causes, outermost first. An `io::Error` wrapping another error hands on
/// that error itself: its own `source()` skips it (the standard library returns the wrapped
/// error's source), and rustls' error travels inside two of them.
fn chain<'a>(error: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut causes = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        causes.push(cause);
        next = match cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => cause.source(),
        };
    }
    causes
}

/// The deepest cause's own words, without the OS's error number: the one that says why.
fn innermost(causes: &[&(dyn StdError + 'static)]) -> String {
    let text = causes
        .last()
        .map(|cause| cause.to_string())
        .unwrap_or_default();
    let text = match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    };
    lowercase_first(&text)
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        // Only a capital followed by a small letter ("Connection refused"), not an acronym.
        Some(first)
            if first.is_uppercase() && chars.clone().next().is_some_and(char::is_lowercase) =>
        {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

/// rustls' error, when it is this cause.
fn rustls_error<'a>(cause: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    cause.downcast_ref::<rustls::Error>()
}

fn tls_failure(error: &rustls::Error, address: &str) -> Failure {
    match error {
        // The first bytes back were not a TLS record: a plain-HTTP server (RFC 8446 section
        // 5.1: a record's first byte is its content type, and "HTTP/1.1" starts with 0x48).
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => Failure {
            kind: Kind::NotTls,
            words: format!(
                "{address} does not speak TLS; is the URL http:// rather than https://?"
            ),
        },
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => Failure {
            kind: Kind::Untrusted,
            words: format!(
                "the TLS handshake with {address} failed: its certificate comes from an \
                 authority not trusted here"
            ),
        },
        rustls::Error::InvalidCertificate(reason) => Failure {
            kind: Kind::Other,
            words: format!(
                "the TLS handshake with {address} failed: its certificate was not accepted \
                 ({reason}); for a private CA, name its certificate in SSL_CERT_FILE"
            ),
        },
        other => Failure {
            kind: Kind::Other,
            words: format!("the TLS handshake with {address} failed: {other}"),
        },
    }
}

/// The OS's reasons a connection failed, in words.
fn io_reason(kind: ErrorKind) -> Option<&'static str> {
    Some(match kind {
        ErrorKind::ConnectionRefused => "connection refused",
        ErrorKind::ConnectionReset => "connection reset",
        ErrorKind::ConnectionAborted => "connection aborted",
        ErrorKind::HostUnreachable => "host unreachable",
        ErrorKind::NetworkUnreachable => "network unreachable",
        ErrorKind::NetworkDown => "network down",
        ErrorKind::AddrNotAvailable => "address not available",
        ErrorKind::UnexpectedEof => "connection closed",
        ErrorKind::PermissionDenied => "permission denied",
        _ => return None,
    })
}

/// "10 s", "1.5 s".
fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_os_words_lose_their_number_and_capital() {
        let refused = std::io::Error::other("Connection refused (os error 111)");
        let causes: Vec<&(dyn StdError + 'static)> = vec![&refused];
        assert_eq!(innermost(&causes), "connection refused");
        assert_eq!(lowercase_first("TLS alert"), "TLS alert");
    }

    #[test]
    fn addresses_name_the_scheme_port() {
        let url = reqwest::Url::parse("https://login.example.com/token").unwrap();
        assert_eq!(address(&url), "login.example.com:443");
        let url = reqwest::Url::parse("http://127.0.0.1:8080/token").unwrap();
        assert_eq!(address(&url), "127.0.0.1:8080");
    }
}
