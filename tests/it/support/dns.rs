//! A tiny DNS server on loopback for the tests of the provider from the address: UDP, answering
//! MX queries (RFC 1035 section 4) from a table, NXDOMAIN for any other name, or never answering
//! at all. It stops when dropped.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// MX type and IN class (RFC 1035 section 3.2).
const MX: u16 = 15;
const IN: u16 = 1;

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
        let zone: BTreeMap<String, Vec<(u16, String)>> = zone
            .iter()
            .map(|(name, hosts)| {
                (
                    name.to_string(),
                    hosts.iter().map(|(p, h)| (*p, h.to_string())).collect(),
                )
            })
            .collect();
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let address = socket.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let queries = Arc::new(std::sync::Mutex::new(Vec::new()));
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
                if silent {
                    continue;
                }
                let answers = if qtype == MX { zone.get(&name) } else { None };
                let reply = answer(&buffer[..question_end], answers);
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
