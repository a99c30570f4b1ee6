//! The connections the listener serves at once, and who gets a place when they are all taken.
//!
//! Each connection is a thread, so their number is capped. A full house must not keep the
//! browser's redirect out: another user of the machine can open connections to a loopback port
//! and leave them idle (reproduced with 40; each would otherwise hold its place for the whole
//! idle timeout). So at the cap a newcomer takes the place of the oldest connection that has not
//! yet sent a whole request head, which is closed; and on Linux, where `/proc/net/tcp` tells
//! who owns the other end, another user's connection is given up first and can never take the
//! place of one of the user's own: the browser, which runs as the user, always gets in.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Connections served at once. A browser opens a few; more is someone else's doing, and each one
/// is a thread.
pub(crate) const MAX_CONNECTIONS: usize = 32;

/// What a connection's thread tells the slots about it. Dropped when the thread ends, it gives
/// the place back and closes the slots' handle on the connection, so the connection ends then.
pub(crate) struct Progress {
    id: u64,
    answering: Arc<AtomicBool>,
    slots: Arc<Slots>,
}

impl Progress {
    /// A whole request head arrived: the connection is no longer given up for another.
    pub(crate) fn answering(&self) {
        self.answering.store(true, Ordering::Relaxed);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.slots.lock().1.retain(|slot| slot.id != self.id);
    }
}

struct Slot {
    id: u64,
    /// A handle on the connection, to close it when its place is given to another.
    stream: TcpStream,
    local: Option<SocketAddr>,
    peer: Option<SocketAddr>,
    answering: Arc<AtomicBool>,
}

impl Slot {
    fn waiting(&self) -> bool {
        !self.answering.load(Ordering::Relaxed)
    }
}

/// The connections being served, oldest first, shared by the listening sockets; and the next id.
#[derive(Default)]
pub(crate) struct Slots(Mutex<(u64, Vec<Slot>)>);

impl Slots {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, Vec<Slot>)> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A place for `stream`, or `None` when it gets none (it is then simply closed). The
    /// returned `Progress` goes with the connection's thread.
    pub(crate) fn admit(self: &Arc<Self>, stream: &TcpStream) -> Option<Progress> {
        let handle = stream.try_clone().ok()?;
        let mut guard = self.lock();
        let (next_id, slots) = &mut *guard;
        if slots.len() >= MAX_CONNECTIONS {
            let victim = choose_victim(slots, stream)?;
            let given_up = slots.remove(victim);
            let _ = given_up.stream.shutdown(std::net::Shutdown::Both);
        }
        *next_id += 1;
        let answering = Arc::new(AtomicBool::new(false));
        slots.push(Slot {
            id: *next_id,
            local: handle.local_addr().ok(),
            peer: handle.peer_addr().ok(),
            stream: handle,
            answering: Arc::clone(&answering),
        });
        Some(Progress {
            id: *next_id,
            answering,
            slots: Arc::clone(self),
        })
    }
}

/// The oldest waiting connection of another user, else (for a newcomer of the user's own) the
/// oldest waiting one at all.
fn choose_victim(slots: &[Slot], newcomer: &TcpStream) -> Option<usize> {
    let owners = PeerOwners::read();
    let me = crate::base::private_files::my_uid();
    let theirs = |local: Option<SocketAddr>, peer: Option<SocketAddr>| {
        owners.owner(local, peer).is_some_and(|uid| uid != me)
    };
    let newcomer_theirs = theirs(newcomer.local_addr().ok(), newcomer.peer_addr().ok());
    slots
        .iter()
        .position(|slot| slot.waiting() && theirs(slot.local, slot.peer))
        .or_else(|| {
            (!newcomer_theirs)
                .then(|| slots.iter().position(Slot::waiting))
                .flatten()
        })
}

/// Who owns the client end of each TCP connection on this machine (Linux's `/proc/net/tcp` and
/// `tcp6`, proc(5)); knows nothing elsewhere, where every connection counts as the user's.
struct PeerOwners(Vec<(String, String, u32)>);

impl PeerOwners {
    fn read() -> PeerOwners {
        let mut entries = Vec::new();
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                if let (Some(local), Some(remote), Some(Ok(uid))) = (
                    fields.get(1),
                    fields.get(2),
                    fields.get(7).map(|uid| uid.parse::<u32>()),
                ) {
                    entries.push((local.to_string(), remote.to_string(), uid));
                }
            }
        }
        PeerOwners(entries)
    }

    /// The owner of the socket at `peer` connected to `local`: the line whose local address is
    /// the peer and whose remote address is ours.
    fn owner(&self, local: Option<SocketAddr>, peer: Option<SocketAddr>) -> Option<u32> {
        let (local, peer) = (encoded(local?), encoded(peer?));
        self.0
            .iter()
            .find(|(their_local, their_remote, _)| *their_local == peer && *their_remote == local)
            .map(|(_, _, uid)| *uid)
    }
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

    #[test]
    fn the_owner_of_a_loopback_connection_is_found() {
        if !std::path::Path::new("/proc/net/tcp").exists() {
            crate::ci_skips::unavailable("feature proc", "no /proc/net/tcp on this machine");
            return;
        }
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let owners = PeerOwners::read();
        assert_eq!(
            owners.owner(server_side.local_addr().ok(), server_side.peer_addr().ok()),
            Some(crate::base::private_files::my_uid())
        );
    }
}
