//! A tiny DNS server on loopback for the tests of the provider from the address: UDP, answering
//! MX queries (RFC 1035 section 4) from a table, NXDOMAIN for any other name, or never answering
//! at all; or answering over UDP only that the answer is truncated, and over TCP on the same
//! port with the records; or sending a forged answer before the real one. It stops when dropped.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// MX type and IN class (RFC 1035 section 3.2).
const MX: u16 = 15;
const IN: u16 = 1;

/// How the server behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Answer,
    /// Never answers.
    Silent,
    /// Answers over UDP with TC set and no records, and over TCP in full (RFC 7766).
    TruncateUdp,
    /// Sends an answer with another transaction ID, naming another exchanger, before the real
    /// one: the off-path forgery RFC 5452 describes.
    ForgeFirst,
}

pub struct FakeDns {
    pub address: SocketAddr,
    stop: Arc<AtomicBool>,
    /// How many queries arrived.
    pub queries: Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeDns {
    /// Answers MX queries for the names of `zone` (lower-case, no final dot) with its exchangers,
    /// each `(preference, host)`; with `silent`, answers nothing.
    pub fn start(zone: &[(&str, &[(u16, &str)])], silent: bool) -> FakeDns {
        FakeDns::start_in(zone, if silent { Mode::Silent } else { Mode::Answer })
    }

    pub fn start_in(zone: &[(&str, &[(u16, &str)])], mode: Mode) -> FakeDns {
        let zone: BTreeMap<String, Vec<(u16, String)>> = zone
            .iter()
            .map(|(name, hosts)| {
                (
                    name.to_string(),
                    hosts.iter().map(|(p, h)| (*p, h.to_string())).collect(),
                )
            })
            .collect();
        // TCP first, then UDP on the port it was given.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let socket = UdpSocket::bind(address).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(std::sync::Mutex::new(Vec::new()));
        if mode == Mode::TruncateUdp {
            let (zone, stop, queries) = (zone.clone(), Arc::clone(&stop), Arc::clone(&queries));
            std::thread::spawn(move || serve_tcp(listener, &zone, &stop, &queries));
        }
        let (thread_stop, thread_queries) = (Arc::clone(&stop), Arc::clone(&queries));
        std::thread::spawn(move || {
            let mut buffer = [0u8; 512];
            // Bounded: the server stops when dropped, or after a minute whatever happens.
            let give_up = std::time::Instant::now() + Duration::from_secs(60);
            while !thread_stop.load(Ordering::Relaxed) && std::time::Instant::now() < give_up {
                let Ok((length, from)) = socket.recv_from(&mut buffer) else {
                    continue;
                };
                let Some((name, qtype, question_end)) = parse_query(&buffer[..length]) else {
                    continue;
                };
                thread_queries.lock().unwrap().push(name.clone());
                let answers = if qtype == MX { zone.get(&name) } else { None };
                let mut reply = answer(&buffer[..question_end], answers);
                match mode {
                    Mode::Silent => continue,
                    Mode::Answer => {}
                    Mode::TruncateUdp => {
                        reply = answer(&buffer[..question_end], Some(&Vec::new()));
                        reply[2] |= 0x02;
                    }
                    Mode::ForgeFirst => {
                        let forged = vec![(0, "mx.forged.example".to_string())];
                        let mut forgery = answer(&buffer[..question_end], Some(&forged));
                        forgery[1] ^= 0x55;
                        let _ = socket.send_to(&forgery, from);
                    }
                }
                let _ = socket.send_to(&reply, from);
            }
        });
        FakeDns {
            address,
            stop,
            queries,
        }
    }

    /// The environment that points mailtoken at this server, with a short deadline.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MAILTOKEN_TEST_NAMESERVER", self.address.to_string()),
            ("MAILTOKEN_DNS_TIMEOUT", "2".into()),
        ]
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Answers queries over TCP, each prefixed by its length (RFC 1035 section 4.2.2).
fn serve_tcp(
    listener: TcpListener,
    zone: &BTreeMap<String, Vec<(u16, String)>>,
    stop: &AtomicBool,
    queries: &std::sync::Mutex<Vec<String>>,
) {
    listener.set_nonblocking(true).unwrap();
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    while !stop.load(Ordering::Relaxed) && std::time::Instant::now() < give_up {
        let Ok((mut stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut length = [0u8; 2];
        if stream.read_exact(&mut length).is_err() {
            continue;
        }
        let mut query = vec![0u8; u16::from_be_bytes(length) as usize];
        if stream.read_exact(&mut query).is_err() {
            continue;
        }
        let Some((name, qtype, question_end)) = parse_query(&query) else {
            continue;
        };
        queries.lock().unwrap().push(format!("tcp:{name}"));
        let answers = if qtype == MX { zone.get(&name) } else { None };
        let reply = answer(&query[..question_end], answers);
        let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&reply);
        let _ = stream.write_all(&framed);
    }
}

/// The question of a query: its name (lower-case, no final dot), type, and where it ends.
fn parse_query(packet: &[u8]) -> Option<(String, u16, usize)> {
    if packet.len() < 12 || u16::from_be_bytes([packet[4], packet[5]]) != 1 {
        return None;
    }
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let length = *packet.get(at)? as usize;
        at += 1;
        if length == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(packet.get(at..at + length)?).to_ascii_lowercase());
        at += length;
    }
    let qtype = u16::from_be_bytes([*packet.get(at)?, *packet.get(at + 1)?]);
    Some((labels.join("."), qtype, at + 4))
}

/// The reply to a query (its header and question in `query`): the MX records, or NXDOMAIN.
fn answer(query: &[u8], records: Option<&Vec<(u16, String)>>) -> Vec<u8> {
    let mut reply = query.to_vec();
    // QR, opcode 0, AA, RD copied, RA; RCODE 3 (NXDOMAIN) when the name is unknown.
    let rd = query[2] & 0x01;
    reply[2] = 0x84 | rd;
    reply[3] = if records.is_some() { 0x80 } else { 0x83 };
    let count = records.map_or(0, Vec::len) as u16;
    reply[6..8].copy_from_slice(&count.to_be_bytes());
    reply[8..12].copy_from_slice(&[0, 0, 0, 0]);
    for (preference, host) in records.into_iter().flatten() {
        let mut exchange = Vec::new();
        for label in host.split('.').filter(|l| !l.is_empty()) {
            exchange.push(label.len() as u8);
            exchange.extend_from_slice(label.as_bytes());
        }
        exchange.push(0);
        reply.extend_from_slice(&[0xC0, 0x0C]); // the question's name
        reply.extend_from_slice(&MX.to_be_bytes());
        reply.extend_from_slice(&IN.to_be_bytes());
        reply.extend_from_slice(&300u32.to_be_bytes());
        reply.extend_from_slice(&((exchange.len() + 2) as u16).to_be_bytes());
        reply.extend_from_slice(&preference.to_be_bytes());
        reply.extend_from_slice(&exchange);
    }
    reply
}
