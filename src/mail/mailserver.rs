//! Mail servers: the protocols mailtoken signs in to, how each connection is protected, and the
//! `imaps://HOST:PORT` endpoints the flags and token files name them by.

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// A mail protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    Imap,
    Pop,
    Smtp,
}

impl Protocol {
    /// Every protocol, in the order `--test` tries them.
    pub const ALL: [Protocol; 3] = [Protocol::Imap, Protocol::Pop, Protocol::Smtp];

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Imap => "IMAP",
            Protocol::Pop => "POP",
            Protocol::Smtp => "SMTP",
        }
    }
}

/// How a mail connection is protected. Never plain: a token is a password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// TLS from the first byte (imaps, pop3s, smtps).
    Implicit,
    /// Plain connection upgraded with STARTTLS/STLS before anything secret is sent.
    StartTls,
}

/// A mail server endpoint, written as a URL: `imaps://host:993`, `imap://host:143`, `pop3s://`,
/// `pop3://`, `smtps://`, `smtp://`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailEndpoint {
    pub protocol: Protocol,
    pub tls: Tls,
    pub host: String,
    pub port: u16,
}

impl MailEndpoint {
    /// Parses a URL or a bare `host` / `host:port`; a bare host takes the protocol's usual TLS port.
    /// The URL is read by the `url` crate (WHATWG URL, which reqwest reads its URLs with too):
    /// brackets, ports and the characters a host may hold are its business.
    pub fn parse(protocol: Protocol, text: &str) -> Result<MailEndpoint, String> {
        let (tls, url) = match text.split_once("://") {
            Some((scheme, _)) => {
                let (scheme_protocol, tls) = scheme_of(scheme).ok_or_else(|| {
                    format!(
                        "unknown scheme {:?} in {text:?}",
                        scheme.to_ascii_lowercase()
                    )
                })?;
                if scheme_protocol != protocol {
                    return Err(format!("{text:?} is not a {} endpoint", protocol.name()));
                }
                (Some(tls), text.to_string())
            }
            // A bare host, read as the authority of a URL; a bare IPv6 address gets the brackets
            // a URL needs.
            None if text.parse::<std::net::Ipv6Addr>().is_ok() => (None, format!("x://[{text}]")),
            None => (None, format!("x://{text}")),
        };
        let (host, port) = host_and_port(&url).map_err(|why| format!("{text:?} {why}"))?;
        let port = port.unwrap_or_else(|| default_port(protocol, tls.unwrap_or(Tls::Implicit)));
        let tls = tls.unwrap_or_else(|| tls_for_port(protocol, port));
        Ok(MailEndpoint {
            protocol,
            tls,
            host,
            port,
        })
    }

    /// The same server at the protocol's implicit-TLS port (993, 995, 465): what to suggest for
    /// a STARTTLS endpoint without STARTTLS, or for a port that speaks no TLS.
    pub(crate) fn at_implicit_tls_port(&self) -> MailEndpoint {
        MailEndpoint {
            tls: Tls::Implicit,
            port: default_port(self.protocol, Tls::Implicit),
            ..self.clone()
        }
    }

    /// The same host and port with STARTTLS.
    pub(crate) fn with_starttls(&self) -> MailEndpoint {
        MailEndpoint {
            tls: Tls::StartTls,
            ..self.clone()
        }
    }

    /// The URL form stored in token files and shown in messages.
    pub fn url(&self) -> String {
        let scheme = match (self.protocol, self.tls) {
            (Protocol::Imap, Tls::Implicit) => "imaps",
            (Protocol::Imap, Tls::StartTls) => "imap",
            (Protocol::Pop, Tls::Implicit) => "pop3s",
            (Protocol::Pop, Tls::StartTls) => "pop3",
            (Protocol::Smtp, Tls::Implicit) => "smtps",
            (Protocol::Smtp, Tls::StartTls) => "smtp",
        };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// The protocol and protection an endpoint URL's scheme names (any case), as mail clients spell
/// them.
fn scheme_of(scheme: &str) -> Option<(Protocol, Tls)> {
    Some(match scheme.to_ascii_lowercase().as_str() {
        "imaps" => (Protocol::Imap, Tls::Implicit),
        "imap" => (Protocol::Imap, Tls::StartTls),
        "pop3s" | "pops" => (Protocol::Pop, Tls::Implicit),
        "pop3" | "pop" => (Protocol::Pop, Tls::StartTls),
        "smtps" => (Protocol::Smtp, Tls::Implicit),
        "smtp" | "submission" => (Protocol::Smtp, Tls::StartTls),
        _ => return None,
    })
}

/// The host (an IPv6 address without its brackets) and port of a URL that names nothing but a
/// server: no user, path, query or fragment, and a host that `MailEndpoint::url` writes back
/// unchanged (nothing the URL parser had to percent-encode).
fn host_and_port(text: &str) -> Result<(String, Option<u16>), String> {
    let url = Url::parse(text).map_err(|why| format!("is not a server address ({why})"))?;
    let host = match url.host() {
        Some(Host::Ipv6(address)) => address.to_string(),
        Some(Host::Ipv4(address)) => address.to_string(),
        Some(Host::Domain(name)) if !name.is_empty() && !name.contains('%') => name.to_string(),
        _ => return Err("has no valid host name".into()),
    };
    let extra = !url.username().is_empty()
        || url.password().is_some()
        || !matches!(url.path(), "" | "/")
        || url.query().is_some()
        || url.fragment().is_some();
    if extra {
        return Err("names more than a server (a user, path or query)".into());
    }
    match url.port() {
        Some(0) => Err("has the invalid port 0".into()),
        port => Ok((host, port)),
    }
}

fn default_port(protocol: Protocol, tls: Tls) -> u16 {
    match (protocol, tls) {
        (Protocol::Imap, Tls::Implicit) => 993,
        (Protocol::Imap, Tls::StartTls) => 143,
        (Protocol::Pop, Tls::Implicit) => 995,
        (Protocol::Pop, Tls::StartTls) => 110,
        (Protocol::Smtp, Tls::Implicit) => 465,
        (Protocol::Smtp, Tls::StartTls) => 587,
    }
}

/// A bare `host:port` takes the TLS mode that port conventionally uses.
fn tls_for_port(protocol: Protocol, port: u16) -> Tls {
    match (protocol, port) {
        (Protocol::Imap, 143) | (Protocol::Pop, 110) | (Protocol::Smtp, 25 | 587) => Tls::StartTls,
        (Protocol::Smtp, 465) => Tls::Implicit,
        (Protocol::Smtp, _) => Tls::StartTls,
        _ => Tls::Implicit,
    }
}

impl Serialize for MailEndpoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.url())
    }
}

/// Endpoints are stored as URLs; which protocol they belong to follows from the scheme.
impl<'de> Deserialize<'de> for MailEndpoint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        // The scheme only picks the protocol; `parse` reads the whole URL (once, on every call
        // that loads the file: the cached path).
        let scheme = text.split_once("://").map_or("", |(scheme, _)| scheme);
        let Some((protocol, _)) = scheme_of(scheme) else {
            return Err(serde::de::Error::custom(format!(
                "{text:?} is not an endpoint URL"
            )));
        };
        MailEndpoint::parse(protocol, &text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_parse_and_print() {
        let e = MailEndpoint::parse(Protocol::Imap, "imap://mail.example.com:1143").unwrap();
        assert_eq!((e.tls, e.port), (Tls::StartTls, 1143));
        assert_eq!(e.url(), "imap://mail.example.com:1143");
        let e = MailEndpoint::parse(Protocol::Smtp, "smtp.example.com").unwrap();
        assert_eq!(e.url(), "smtps://smtp.example.com:465");
        let e = MailEndpoint::parse(Protocol::Smtp, "smtp.example.com:587").unwrap();
        assert_eq!(e.url(), "smtp://smtp.example.com:587");
        let e = MailEndpoint::parse(Protocol::Pop, "pop3s://[::1]:9995").unwrap();
        assert_eq!(
            (e.host.as_str(), e.url().as_str()),
            ("::1", "pop3s://[::1]:9995")
        );
    }

    // Found by the tokenfile fuzz target (fuzz/plateau, 17 million runs): `smt:.gom:58]7` was
    // taken as a bare IPv6 address, and its URL `smtp://[smt:.gom:58]7]:587` did not parse back,
    // so a token file holding it could not be read after it was written.
    #[test]
    fn a_host_with_a_colon_must_be_an_ipv6_address() {
        assert!(MailEndpoint::parse(Protocol::Smtp, "smtp://smt:.gom:58]7").is_err());
        assert!(MailEndpoint::parse(Protocol::Smtp, "smtp://[smt:.gom]:587").is_err());
        assert!(MailEndpoint::parse(Protocol::Imap, "imaps://a]b:993").is_err());
        for good in ["imaps://[::1]:993", "::1", "imaps://mail.example.com:993"] {
            let endpoint = MailEndpoint::parse(Protocol::Imap, good).unwrap();
            assert_eq!(
                MailEndpoint::parse(Protocol::Imap, &endpoint.url()),
                Ok(endpoint),
                "{good}"
            );
        }
    }

    #[test]
    fn only_a_server_is_an_endpoint_and_what_is_taken_reads_back() {
        for bad in [
            "imaps://user@mail.example:993",
            "imaps://mail.example/INBOX",
            "imaps://mail.example:993?x",
            "imaps://mail example:993",
            "imaps://mail.example:0",
            "imaps://mail\u{7}.example:993",
            "mail.example/x",
        ] {
            assert!(MailEndpoint::parse(Protocol::Imap, bad).is_err(), "{bad}");
        }
        for good in [
            "imaps://mail.example:993/",
            "IMAPS://Mail.Example:993",
            "imaps://192.0.2.1",
            "[2001:db8::1]:993",
            "imap://xn--bcher-kva.example",
        ] {
            let endpoint = MailEndpoint::parse(Protocol::Imap, good).unwrap();
            assert_eq!(
                MailEndpoint::parse(Protocol::Imap, &endpoint.url()),
                Ok(endpoint),
                "{good}"
            );
        }
    }

    #[test]
    fn endpoint_parse_rejects_nonsense() {
        assert!(MailEndpoint::parse(Protocol::Imap, "smtps://x:465").is_err());
        assert!(MailEndpoint::parse(Protocol::Imap, "http://x").is_err());
        assert!(MailEndpoint::parse(Protocol::Imap, "imaps://x:99999").is_err());
        assert!(MailEndpoint::parse(Protocol::Imap, "imaps://:993").is_err());
    }

    #[test]
    fn the_suggested_endpoints_keep_the_host_and_change_only_what_they_say() {
        let plain = MailEndpoint::parse(Protocol::Smtp, "smtps://[2001:db8::1]:587").unwrap();
        assert_eq!(plain.with_starttls().url(), "smtp://[2001:db8::1]:587");
        assert_eq!(
            plain.at_implicit_tls_port().url(),
            "smtps://[2001:db8::1]:465"
        );
        let imap = MailEndpoint::parse(Protocol::Imap, "imap://mail.example:143").unwrap();
        assert_eq!(
            imap.at_implicit_tls_port().url(),
            "imaps://mail.example:993"
        );
        let pop = MailEndpoint::parse(Protocol::Pop, "pop3://mail.example:110").unwrap();
        assert_eq!(pop.at_implicit_tls_port().url(), "pop3s://mail.example:995");
    }
}
