//! Who is at the other end of a loopback connection: the listener answers only the user's own.
//!
//! Every user of the machine can connect to a port on 127.0.0.1. The sign-in URL (state and PKCE
//! challenge included) can be learnt by another user, and a redirect of theirs, carrying a code
//! for their own account, would otherwise complete the user's sign-in with it; an
//! `error=access_denied` would end it. The browser runs as the user, so a connection whose
//! client socket belongs to anyone else is closed unanswered.
//!
//! Linux tells who owns each TCP socket in `/proc/net/tcp` and `/proc/net/tcp6` (proc(5)): the
//! line whose local address is the connection's peer and whose remote address is ours is the
//! client's socket, and its `uid` column the user who made it. Only a socket in the ESTABLISHED
//! state with an inode counts: one its maker has already closed lingers as a kernel-owned
//! "timewait" socket that shows uid 0, which must not pass for root's. Where the tables cannot
//! be read (another system, a /proc without them) nobody can be told apart; the listener then
//! takes every connection, as it did before, and judges them by `state` alone (docs/safety.md).

use std::net::{IpAddr, SocketAddr, TcpStream};

/// What the socket tables say about one connection's client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A socket of the user's own.
    Ours,
    /// Another user's socket, or one no user holds any more: refused.
    Theirs(Option<u32>),
    /// The tables cannot be read here.
    Unknown,
}

/// The client of `stream`, as the kernel's socket tables name it.
pub(crate) fn of(stream: &TcpStream) -> Peer {
    // Under WSL the Windows browser's connections come through WSL's relay (or, with mirrored
    // networking, from Windows itself), which the Linux tables cannot attribute to the user.
    if crate::base::environment::is_wsl() {
        return Peer::Unknown;
    }
    let (Ok(local), Ok(peer)) = (stream.local_addr(), stream.peer_addr()) else {
        return Peer::Theirs(None);
    };
    match SocketTable::read() {
        Some(table) => match table.owner(local, peer) {
            Some(uid) if uid == crate::base::private_files::my_uid() => Peer::Ours,
            uid => Peer::Theirs(uid),
        },
        None => Peer::Unknown,
    }
}

/// One socket's line: local address, remote address, state, owner, inode.
struct Entry {
    local: String,
    remote: String,
    state: String,
    uid: u32,
    inode: u64,
}

/// The TCP sockets of this machine (of this network namespace), from Linux's `/proc/net/tcp`
/// and `tcp6`.
struct SocketTable(Vec<Entry>);

/// `st` of an ESTABLISHED socket in the tables (include/net/tcp_states.h: TCP_ESTABLISHED = 1).
const ESTABLISHED: &str = "01";

impl SocketTable {
    /// `None` when neither table can be read.
    fn read() -> Option<SocketTable> {
        let mut entries = Vec::new();
        let mut readable = false;
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            readable = true;
            entries.extend(text.lines().skip(1).filter_map(parse_line));
        }
        readable.then_some(SocketTable(entries))
    }

    /// The owner of the live socket at `peer` connected to `local`; `None` when there is none.
    fn owner(&self, local: SocketAddr, peer: SocketAddr) -> Option<u32> {
        let (local, peer) = (encoded(local), encoded(peer));
        self.0
            .iter()
            .find(|entry| {
                entry.local == peer
                    && entry.remote == local
                    && entry.state == ESTABLISHED
                    && entry.inode != 0
            })
            .map(|entry| entry.uid)
    }
}

/// One line of the tables: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn parse_line(line: &str) -> Option<Entry> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    Some(Entry {
        local: fields.get(1)?.to_string(),
        remote: fields.get(2)?.to_string(),
        state: fields.get(3)?.to_string(),
        uid: fields.get(7)?.parse().ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// An address as the kernel prints it in `/proc/net/tcp`: each 32-bit word of the address in
/// host byte order as `%08X`, then `:` and the port as `%04X`.
fn encoded(address: SocketAddr) -> String {
    let octets: Vec<u8> = match address.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    let words: String = octets
        .chunks(4)
        .map(|word| {
            format!(
                "{:08X}",
                u32::from_ne_bytes(word.try_into().expect("4 bytes"))
            )
        })
        .collect();
    format!("{words}:{:04X}", address.port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn addresses_read_as_the_kernel_writes_them() {
        let v4: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let expected = if cfg!(target_endian = "little") {
            "0100007F:1F90"
        } else {
            "7F000001:1F90"
        };
        assert_eq!(encoded(v4), expected);
        let v6: SocketAddr = "[::1]:1".parse().unwrap();
        assert_eq!(encoded(v6).len(), 32 + 5);
    }

    /// Lines as Linux 6.x prints them (proc(5)): an established socket of uid 1000, and the
    /// timewait socket a closed one leaves, which shows uid 0 and inode 0.
    #[test]
    fn only_live_sockets_name_an_owner() {
        let table = SocketTable(
            [
                "   0: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 20 4 30 10 -1",
                "   1: 0100007F:C3D4 0100007F:1F90 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 0000000000000000",
            ]
            .iter()
            .filter_map(|line| parse_line(line))
            .collect(),
        );
        let ours: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let peer = |port| SocketAddr::from(([127, 0, 0, 1], port));
        if cfg!(target_endian = "little") {
            assert_eq!(table.owner(ours, peer(0xA1B2)), Some(1000));
            assert_eq!(
                table.owner(ours, peer(0xC3D4)),
                None,
                "a timewait socket is nobody's"
            );
        }
        assert_eq!(table.owner(ours, peer(1)), None);
    }

    #[test]
    fn the_owner_of_a_loopback_connection_is_found() {
        if !std::path::Path::new("/proc/net/tcp").exists() {
            crate::ci_skips::unavailable("feature proc", "no /proc/net/tcp on this machine");
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        assert_eq!(of(&server_side), Peer::Ours);
    }
}
