//! Mozilla's mail autoconfiguration document (`config-v1.1.xml`), as a domain serves it at
//! `https://autoconfig.DOMAIN/mail/config-v1.1.xml` or
//! `https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml` (IETF draft "Mail Autoconfig",
//! benbucksch/autoconfig-spec, 1.1 and 1.2) and Thunderbird's ISPDB holds: the servers
//! (`incomingServer` of type `imap` or `pop3`, `outgoingServer` of type `smtp`, each with
//! `hostname`, `port`, `socketType` and `authentication`) and an `oAuth2` element with the
//! `issuer`, `scope`, `authURL`, `tokenURL` and, in the draft, a `clientID`.
//!
//! The document comes from anyone who controls the domain's web server, so it is read with a
//! bound on everything: its size (`MAX_DOCUMENT`), its nodes, no DTD (so no entity can expand:
//! roxmltree refuses a DTD unless asked), no plain-text server (`socketType` `plain` is skipped:
//! a token must not cross the network in clear), and host names that are host names.

use super::mailserver::{MailEndpoint, Protocol};

/// The largest document read. The ISPDB's biggest entries are a few kB.
pub const MAX_DOCUMENT: usize = 64 * 1024;

/// The most XML nodes parsed (elements, text, comments).
const MAX_NODES: u32 = 4096;

/// What a document says.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Autoconfig {
    pub imap: Option<MailEndpoint>,
    pub pop: Option<MailEndpoint>,
    pub smtp: Option<MailEndpoint>,
    pub oauth2: Option<OAuth2>,
}

/// The `oAuth2` element.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OAuth2 {
    /// A host name in the ISPDB (`login.microsoftonline.com`), perhaps a URL elsewhere.
    pub issuer: Option<String>,
    pub scope: Option<String>,
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
}

/// Reads a document for `address` (whose parts fill the `%EMAILDOMAIN%` placeholders).
pub fn parse(document: &[u8], address: &str) -> Result<Autoconfig, String> {
    if document.len() > MAX_DOCUMENT {
        return Err(format!("it is larger than {MAX_DOCUMENT} bytes"));
    }
    let text = std::str::from_utf8(document).map_err(|_| "it is not UTF-8".to_string())?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..roxmltree::ParsingOptions::default()
    };
    let xml = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| format!("it is not XML this reader takes ({e})"))?;
    let root = xml.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err("its root is not <clientConfig>".into());
    }
    let mut found = Autoconfig::default();
    for server in root.descendants().filter(|n| n.is_element()) {
        let protocol = match (server.tag_name().name(), server.attribute("type")) {
            ("incomingServer", Some("imap")) => Protocol::Imap,
            ("incomingServer", Some("pop3")) => Protocol::Pop,
            ("outgoingServer", Some("smtp")) => Protocol::Smtp,
            _ => continue,
        };
        let slot = match protocol {
            Protocol::Imap => &mut found.imap,
            Protocol::Pop => &mut found.pop,
            Protocol::Smtp => &mut found.smtp,
        };
        // The first usable server of each kind, as the document orders them by preference.
        if slot.is_none() {
            *slot = endpoint(server, protocol, address);
        }
    }
    if let Some(element) = root
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "oAuth2")
    {
        found.oauth2 = Some(OAuth2 {
            issuer: child_text(element, "issuer"),
            scope: child_text(element, "scope"),
            auth_url: child_text(element, "authURL"),
            token_url: child_text(element, "tokenURL"),
            client_id: child_text(element, "clientID"),
        });
    }
    Ok(found)
}

/// One server, when it can carry a token: TLS, a host name, a port.
fn endpoint(server: roxmltree::Node, protocol: Protocol, address: &str) -> Option<MailEndpoint> {
    let host = fill(&child_text(server, "hostname")?, address)?;
    let port: u16 = child_text(server, "port")?.parse().ok()?;
    let scheme = match (child_text(server, "socketType")?.as_str(), protocol) {
        ("SSL", Protocol::Imap) => "imaps",
        ("SSL", Protocol::Pop) => "pop3s",
        ("SSL", Protocol::Smtp) => "smtps",
        ("STARTTLS", Protocol::Imap) => "imap",
        ("STARTTLS", Protocol::Pop) => "pop3",
        ("STARTTLS", Protocol::Smtp) => "smtp",
        // `plain`, or anything else: never for a token.
        _ => return None,
    };
    MailEndpoint::parse(protocol, &format!("{scheme}://{host}:{port}")).ok()
}

/// A host name with the draft's placeholders filled in; `None` unless it is a host name.
fn fill(hostname: &str, address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@').unwrap_or(("", address));
    let host = hostname
        .replace("%EMAILDOMAIN%", domain)
        .replace("%EMAILLOCALPART%", local)
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    valid.then_some(host)
}

/// The trimmed text of the first child element named `name`.
fn child_text(node: roxmltree::Node, name: &str) -> Option<String> {
    node.children()
        .find(|child| child.is_element() && child.tag_name().name() == name)?
        .text()
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .map(|text| text.chars().filter(|c| !c.is_control()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_documents_are_refused_cleanly() {
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">\
                      <!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]><clientConfig>&lol2;</clientConfig>";
        assert!(parse(laughs.as_bytes(), "a@b.example").is_err());
        let deep = "<a>".repeat(100_000);
        assert!(parse(deep.as_bytes(), "a@b.example").is_err());
        assert!(parse(&vec![b' '; MAX_DOCUMENT + 1], "a@b.example").is_err());
        assert!(parse(b"<html><body>hi</body></html>", "a@b.example").is_err());
        assert!(parse(&[0xff, 0xfe], "a@b.example").is_err());
    }

    #[test]
    fn plain_text_servers_and_odd_host_names_are_skipped() {
        let document = r#"<clientConfig version="1.1"><emailProvider id="x">
            <incomingServer type="imap"><hostname>imap.x.example</hostname><port>143</port>
              <socketType>plain</socketType></incomingServer>
            <incomingServer type="imap"><hostname>bad host/</hostname><port>993</port>
              <socketType>SSL</socketType></incomingServer>
            <incomingServer type="imap"><hostname>imap.%EMAILDOMAIN%</hostname><port>993</port>
              <socketType>SSL</socketType></incomingServer>
            </emailProvider></clientConfig>"#;
        let found = parse(document.as_bytes(), "me@x.example").unwrap();
        assert_eq!(found.imap.unwrap().url(), "imaps://imap.x.example:993");
        assert!(found.smtp.is_none() && found.oauth2.is_none());
    }
}
