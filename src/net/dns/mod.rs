//! MX lookups, for telling Google Workspace and Microsoft 365 domains apart when `--authorize`
//! is given an address and no provider. A stub resolver of our own: one MX question, over UDP
//! to the nameservers of /etc/resolv.conf in turn, again over TCP when the answer was truncated
//! (RFC 1035 section 4.2, RFC 7766). The whole lookup has one deadline, and a lookup that fails
//! or times out only means the provider is asked for as before.
//!
//! Why not a resolver crate: this is one question asked once per sign-in, and the resolver
//! crates are built for many (caches, a runtime, server statistics). The one we used brought an
//! async runtime and libm into every call of the binary, the cached-token call included, for a
//! lookup that call never makes (benches/README.md).

mod message;

use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

pub use message::{Answer, NotOurs, mx_query, read_answer};

/// Test-only: `IP:PORT` of the one nameserver to ask instead of /etc/resolv.conf's, so the tests
/// can answer MX queries from a server on loopback. Not for users: nothing else changes where
/// DNS goes, so it exists only in debug builds (the tests'), never in a release build.
#[cfg(debug_assertions)]
const TEST_NAMESERVER_VARIABLE: &str = "MAILTOKEN_TEST_NAMESERVER";

/// Test-only, like the nameserver: the deadline of one MX lookup in seconds, instead of
/// `LOOKUP_DEADLINE`.
#[cfg(debug_assertions)]
const DEADLINE_VARIABLE: &str = "MAILTOKEN_DNS_TIMEOUT";

/// How long one MX lookup may take in all, every server included: a slow resolver must not hold
/// up a sign-in for long, as the provider can always be asked for or given with `--provider`.
const LOOKUP_DEADLINE: Duration = Duration::from_secs(5);

/// The largest answer we read: RFC 1035's 512 octets over UDP (we send no EDNS0 option, so no
/// server may send more), and a TCP answer's own two-octet length.
const UDP_ANSWER: usize = 512;

/// The mail exchangers of `domain`, most preferred first, lower-case and without the final dot;
/// `Err` says why there are none to be had (no records, no answer in time, no resolver).
pub(crate) fn mx_hosts(domain: &str) -> Result<Vec<String>, String> {
    let deadline = Instant::now() + lookup_deadline();
    let query = mx_query(transaction_id()?, domain)?;
    let servers = nameservers()?;
    let mut failures = Vec::new();
    for (index, server) in servers.iter().enumerate() {
        // Each server gets an equal share of what is left, so one silent server cannot use up
        // the time of those after it.
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / u32::try_from(servers.len() - index).unwrap_or(1);
        match ask(*server, &query, Instant::now() + share) {
            Ok(Answer::Exchangers(records)) if records.is_empty() => {
                return Err(format!("{domain} has no MX records"));
            }
            Ok(Answer::Exchangers(records)) => {
                return Ok(records.into_iter().map(|(_, host)| host).collect());
            }
            Ok(Answer::NoSuchDomain) => return Err(format!("{domain} does not exist")),
            Ok(Answer::Truncated) => failures.push(format!("{server}: a truncated answer")),
            Ok(Answer::Refused(code)) => failures.push(format!("{server}: RCODE {code}")),
            Err(why) => failures.push(format!("{server}: {why}")),
        }
    }
    Err(failures.join("; "))
}

/// A transaction ID no off-path sender can guess (RFC 5452 section 9.2).
fn transaction_id() -> Result<u16, String> {
    let mut id = [0u8; 2];
    getrandom::getrandom(&mut id).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(u16::from_be_bytes(id))
}

/// How long the whole lookup may take: `LOOKUP_DEADLINE`, or in a test build what the test says.
fn lookup_deadline() -> Duration {
    #[cfg(debug_assertions)]
    {
        crate::base::environment::seconds_from_env(
            DEADLINE_VARIABLE,
            LOOKUP_DEADLINE,
            Duration::from_secs(60),
        )
    }
    #[cfg(not(debug_assertions))]
    {
        LOOKUP_DEADLINE
    }
}

/// The test's nameserver (test builds only), or the system's.
fn nameservers() -> Result<Vec<SocketAddr>, String> {
    #[cfg(debug_assertions)]
    if let Ok(address) = std::env::var(TEST_NAMESERVER_VARIABLE) {
        let address = address
            .parse()
            .map_err(|_| format!("{TEST_NAMESERVER_VARIABLE} is not IP:PORT"))?;
        return Ok(vec![address]);
    }
    match std::fs::read_to_string("/etc/resolv.conf") {
        Ok(text) => Ok(nameservers_in(&text)),
        // resolv.conf(5): with no file, the name server on the local machine is used.
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(nameservers_in("")),
        Err(e) => Err(format!("cannot read /etc/resolv.conf: {e}")),
    }
}

/// The `nameserver` lines of a resolv.conf, port 53; the local machine's when there are none,
/// as resolv.conf(5) says. An IPv6 address with a zone (`fe80::1%eth0`) is skipped: reaching it
/// needs the interface's index, and such a resolver is always listed beside a routable one.
pub(crate) fn nameservers_in(resolv_conf: &str) -> Vec<SocketAddr> {
    let mut servers: Vec<SocketAddr> = resolv_conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver")).then(|| words.next())?
        })
        .filter_map(|address| address.parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect();
    if servers.is_empty() {
        servers.push(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53));
    }
    servers
}

/// Asks one server before `deadline`: over UDP, and over TCP when the answer did not fit.
fn ask(server: SocketAddr, query: &[u8], deadline: Instant) -> Result<Answer, String> {
    match ask_udp(server, query, deadline)? {
        Answer::Truncated => ask_tcp(server, query, deadline),
        answer => Ok(answer),
    }
}

fn ask_udp(server: SocketAddr, query: &[u8], deadline: Instant) -> Result<Answer, String> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let socket = UdpSocket::bind(local).map_err(|e| e.to_string())?;
    // Connected: the kernel drops datagrams from anyone but the server, and a server that is
    // not listening is said at once (ICMP port unreachable) instead of at the deadline.
    socket.connect(server).map_err(|e| e.to_string())?;
    socket.send(query).map_err(|e| e.to_string())?;
    let mut buffer = [0u8; UDP_ANSWER];
    loop {
        socket
            .set_read_timeout(Some(time_left(deadline)?))
            .map_err(|e| e.to_string())?;
        let length = socket.recv(&mut buffer).map_err(|e| said(&e, deadline))?;
        match read_answer(query, &buffer[..length]) {
            Ok(answer) => return Ok(answer),
            Err(NotOurs::Stray) => continue,
            Err(NotOurs::Malformed(why)) => return Err(why.to_string()),
        }
    }
}

/// RFC 1035 section 4.2.2: the same message, prefixed by its length, over one TCP connection.
fn ask_tcp(server: SocketAddr, query: &[u8], deadline: Instant) -> Result<Answer, String> {
    let mut stream = TcpStream::connect_timeout(&server, time_left(deadline)?)
        .map_err(|e| said(&e, deadline))?;
    let mut framed = u16::try_from(query.len())
        .map_err(|_| "the query is too long")?
        .to_be_bytes()
        .to_vec();
    framed.extend_from_slice(query);
    stream
        .set_write_timeout(Some(time_left(deadline)?))
        .and_then(|()| stream.write_all(&framed))
        .map_err(|e| said(&e, deadline))?;
    let mut length = [0u8; 2];
    let mut read = |buffer: &mut [u8]| -> Result<(), String> {
        stream
            .set_read_timeout(Some(time_left(deadline)?))
            .and_then(|()| stream.read_exact(buffer))
            .map_err(|e| said(&e, deadline))
    };
    read(&mut length)?;
    let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
    read(&mut answer)?;
    match read_answer(query, &answer) {
        Ok(Answer::Truncated) => Err("a truncated answer over TCP".into()),
        Ok(answer) => Ok(answer),
        Err(NotOurs::Stray) => Err("an answer to another question".into()),
        Err(NotOurs::Malformed(why)) => Err(why.to_string()),
    }
}

/// The time until `deadline`, or why there is none.
fn time_left(deadline: Instant) -> Result<Duration, String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err("no answer in time".into());
    }
    Ok(left)
}

/// A socket error in words; a timeout says so plainly.
fn said(error: &std::io::Error, deadline: Instant) -> String {
    match error.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => "no answer in time".into(),
        _ if Instant::now() >= deadline => "no answer in time".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_gives_its_nameservers_in_order() {
        let text = "# a comment\nsearch example.com\nnameserver 10.0.0.1\n\
                    nameserver  2001:db8::53 \nnameserver fe80::1%eth0\nnameserver\noptions ndots:2\n";
        assert_eq!(
            nameservers_in(text),
            vec![
                "10.0.0.1:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8::53]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn without_nameservers_the_local_machine_is_asked() {
        assert_eq!(
            nameservers_in("search example.com\n"),
            vec!["127.0.0.1:53".parse::<SocketAddr>().unwrap()]
        );
    }
}
