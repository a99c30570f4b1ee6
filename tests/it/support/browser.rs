//! Playing the browser of a sign-in: a `$BROWSER` script that records the address it is asked
//! to open, and a minimal HTTP/1.1 client that visits the authorization endpoint and follows its
//! redirect to mailtoken's loopback listener, as a browser would.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use super::sandbox::{Sandbox, eventually, set_mode};

/// A fake browser: a /bin/sh script for $BROWSER that records the URL it is asked to open.
pub struct FakeBrowser {
    pub script: PathBuf,
    pub record: PathBuf,
}

impl FakeBrowser {
    pub fn new(sandbox: &Sandbox) -> FakeBrowser {
        let script = sandbox.path("browser.sh");
        let record = sandbox.path("browser-url");
        let temporary = sandbox.path("browser-url.tmp");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" > '{}' && mv '{}' '{}'\n",
                temporary.display(),
                temporary.display(),
                record.display()
            ),
        )
        .unwrap();
        set_mode(&script, 0o755);
        FakeBrowser { script, record }
    }

    /// The address the browser was started with, waiting for it up to ten seconds: the
    /// listener's page that sends it on to the sign-in (issue #30: the sign-in URL is never on a
    /// command line, where every user can read it).
    pub fn started_with(&self) -> String {
        assert!(
            eventually(|| self.record.exists()),
            "the browser was never opened"
        );
        std::fs::read_to_string(&self.record)
            .unwrap()
            .trim()
            .to_string()
    }

    /// The sign-in URL the browser was sent on to, as a browser follows the listener's page.
    pub fn opened_url(&self) -> String {
        let start = self.started_with();
        assert!(
            start.contains("/mailtoken-sign-in/"),
            "the browser was started with {start}, not the listener's page"
        );
        let answer = if start.starts_with("https://") {
            let shown = super::tls_browser::Shown::default();
            super::tls_browser::https_get(&start, ipv4(), shown.config()).unwrap()
        } else {
            get_url(&start, ipv4())
        };
        assert_eq!(answer.status, 302, "{answer:?}");
        location_of(&answer.head)
    }
}

/// The `Location` header of an answer's head.
pub fn location_of(head: &str) -> String {
    head.lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no Location in {head}"))
}

/// A parsed HTTP answer.
#[derive(Debug)]
pub struct HttpAnswer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// A plain HTTP/1.1 GET to `addr` for `target`, with `Host: host`, as a browser would send.
pub fn http_get(addr: SocketAddr, host: &str, target: &str) -> HttpAnswer {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fake-browser\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP status in {head:?}"));
    HttpAnswer {
        status,
        head: head.to_string(),
        body: body.to_string(),
    }
}

/// Splits `http://host:port/target` into the address to connect to (localhost as `loopback`),
/// the Host header and the request target.
pub fn split_url(url: &str, loopback: IpAddr) -> (SocketAddr, String, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, target) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = authority.rsplit_once(':').expect("a port");
    let ip = match host {
        "localhost" => loopback,
        "[::1]" => IpAddr::from(Ipv6Addr::LOCALHOST),
        other => other.parse().expect("an IP address"),
    };
    (
        SocketAddr::new(ip, port.parse().expect("a port number")),
        authority.to_string(),
        target.to_string(),
    )
}

/// GETs an absolute http URL (`localhost` connecting to `loopback`).
pub fn get_url(url: &str, loopback: IpAddr) -> HttpAnswer {
    let (addr, host, target) = split_url(url, loopback);
    http_get(addr, &host, &target)
}

/// 127.0.0.1.
pub fn ipv4() -> IpAddr {
    IpAddr::from(Ipv4Addr::LOCALHOST)
}
