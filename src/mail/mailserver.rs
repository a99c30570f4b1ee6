//! Mail servers: the protocols mailtoken signs in to, how each connection is protected, and the
//! `imaps://HOST:PORT` endpoints the flags and token files name them by.

use serde::{Deserialize, Serialize};

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
    pub fn parse(protocol: Protocol, text: &str) -> Result<MailEndpoint, String> {
        let (tls, rest) = match text.split_once("://") {
            Some((scheme, rest)) => {
                let (scheme_protocol, tls) = match scheme.to_ascii_lowercase().as_str() {
                    "imaps" => (Protocol::Imap, Tls::Implicit),
                    "imap" => (Protocol::Imap, Tls::StartTls),
                    "pop3s" | "pops" => (Protocol::Pop, Tls::Implicit),
                    "pop3" | "pop" => (Protocol::Pop, Tls::StartTls),
                    "smtps" => (Protocol::Smtp, Tls::Implicit),
                    "smtp" | "submission" => (Protocol::Smtp, Tls::StartTls),
                    other => return Err(format!("unknown scheme {other:?} in {text:?}")),
                };
                if scheme_protocol != protocol {
                    return Err(format!("{text:?} is not a {} endpoint", protocol.name()));
                }
                (Some(tls), rest.trim_end_matches('/'))
            }
            None => (None, text),
        };
        let (host, port) = split_host_port(rest)?;
        if !valid_host(host) {
            return Err(format!("{text:?} has no valid host name"));
        }
        let port = port.unwrap_or_else(|| default_port(protocol, tls.unwrap_or(Tls::Implicit)));
        let tls = tls.unwrap_or_else(|| tls_for_port(protocol, port));
        Ok(MailEndpoint {
            protocol,
            tls,
            host: host.to_string(),
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

/// A host `url` writes back unchanged: a name without URL delimiters, brackets or control
/// characters, or an IPv6 address (the only hosts with a colon, written in brackets).
fn valid_host(host: &str) -> bool {
    if host.contains(':') {
        return host.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && !host.contains(['/', '?', '#', '@', ' ', '[', ']'])
        && !host.chars().any(char::is_control)
}

fn split_host_port(text: &str) -> Result<(&str, Option<u16>), String> {
    let parse_port = |port: &str| {
        port.parse::<u16>()
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| format!("invalid port {port:?}"))
    };
    if let Some(bracketed) = text.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| format!("unclosed '[' in {text:?}"))?;
        return match after.strip_prefix(':') {
            Some(port) => Ok((host, Some(parse_port(port)?))),
            None if after.is_empty() => Ok((host, None)),
            None => Err(format!("unexpected {after:?} after the host")),
        };
    }
    match text.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => Ok((host, Some(parse_port(port)?))),
        _ => Ok((text, None)),
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
        let scheme = text
            .split_once("://")
            .map(|(scheme, _)| scheme)
            .unwrap_or("");
        let protocol = match scheme {
            "imaps" | "imap" => Protocol::Imap,
            "pop3s" | "pop3" | "pops" | "pop" => Protocol::Pop,
            "smtps" | "smtp" | "submission" => Protocol::Smtp,
            _ => {
                return Err(serde::de::Error::custom(format!(
                    "{text:?} is not an endpoint URL"
                )));
            }
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
