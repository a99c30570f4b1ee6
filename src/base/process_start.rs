//! What the standard library's start-up did that a run relies on, for the binary that skips it.
//!
//! On Linux with glibc, `src/main.rs` is C's `main` itself (`#![no_main]`): Rust's start-up
//! around a `fn main` spends a tenth of the cached-token call finding the main thread's stack
//! (glibc's `pthread_getattr_np` parses `/proc/self/maps` with `sscanf`) only to print "has
//! overflowed its stack" should the stack ever overflow; without it such a run still ends, by
//! SIGSEGV, with no message. The arguments and the environment need no start-up there: the
//! standard library reads them from glibc's `.init_array` call. Two parts of that start-up do
//! matter, and [`prepare`] does them, in safe code:
//!
//! - **The standard descriptors.** A run started with stdin, stdout or stderr closed would hand
//!   that number to the next file it opens: a token file opened as descriptor 1 would receive
//!   what is printed. Each closed one is opened on `/dev/null`, as the standard library does.
//! - **SIGPIPE.** Its default action ends the process: writing to a mail client that went away,
//!   to a pipe command that exited, or to a closed connection would end a refresh between
//!   spending a refresh token and storing its successor. With a handler the write fails with
//!   EPIPE instead, and the error paths run. Children start with the default action again
//!   (`exec` resets handlers), as they do after the standard library's own start-up.

use std::os::fd::{BorrowedFd, IntoRawFd};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Opens each closed standard descriptor on `/dev/null`, and catches SIGPIPE.
pub(crate) fn prepare() {
    let closed = [
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        rustix::stdio::stderr(),
    ]
    .map(is_closed);
    // Ascending: each `open` takes the lowest free number, which is the next closed one.
    for _ in closed.into_iter().filter(|&closed| closed) {
        let null = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/null");
        // Kept open for the whole run, under the number it took.
        let _ = null.map(IntoRawFd::into_raw_fd);
    }
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGPIPE,
        Arc::new(AtomicBool::new(false)),
    );
}

/// Asks the kernel about the number, as the standard library's start-up does (it polls): the
/// descriptor is not read or written, so a number not open yet is only an answer, EBADF.
fn is_closed(fd: BorrowedFd<'_>) -> bool {
    rustix::io::fcntl_getfd(fd) == Err(rustix::io::Errno::BADF)
}
