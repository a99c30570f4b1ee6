//! The connections the listener serves at once, and who gets a place when they are all taken.
//!
//! Each connection is a thread, so their number is capped. A full house must not keep the
//! browser's redirect out: idle connections (a browser's speculative ones, or, where the listener
//! cannot tell users apart, another user's: reproduced with 40) would otherwise hold their places
//! for the whole idle timeout. So at the cap a newcomer takes the place of the oldest connection
//! that has not yet sent a whole request head, which is closed. Where the kernel tells who
//! connects (`peers`), another user's connections are refused before they get a place at all.

use std::net::TcpStream;
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
            let victim = slots.iter().position(Slot::waiting)?;
            let given_up = slots.remove(victim);
            let _ = given_up.stream.shutdown(std::net::Shutdown::Both);
        }
        *next_id += 1;
        let answering = Arc::new(AtomicBool::new(false));
        slots.push(Slot {
            id: *next_id,
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
