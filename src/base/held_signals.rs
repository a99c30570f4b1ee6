//! Every signal that would end the process, held off while a refresh is between its request and
//! the storage of the answer.
//!
//! Once a refresh request has been sent, the provider may already have rotated the refresh token
//! and revoked the one in the file: ending the process before the answer is stored ends the
//! login (reuse detection revokes the whole grant when the old token is sent again). A mail
//! client that gives up on a slow call sends SIGTERM or SIGINT, a closed terminal SIGHUP, a user
//! Ctrl-\ (SIGQUIT), a wrapper's timer SIGALRM, and scripts SIGUSR1 and the like, at any moment.
//! While a [`Held`] is alive such a signal is noted instead of ending the process; when it is
//! dropped (the answer is stored, or kept in the recovery file), a noted signal ends the process
//! as it would have, with the signal's own status. Outside the window they act as always.
//!
//! Held: every signal whose default action ends the process and that another process sends
//! (signal(7)): HUP, INT, QUIT, ABRT, USR1, USR2, ALRM, TERM, VTALRM, PROF, XCPU, and on Linux
//! IO (POLL), PWR, STKFLT and the real-time signals. Not held: KILL (it cannot be); SEGV, ILL,
//! FPE, BUS, TRAP and SYS, which the kernel sends for a fault of the process itself, where a
//! handler that returns would run the faulting instruction again for ever; PIPE, which is caught
//! or ignored from the start (`process_start`, or elsewhere than glibc the standard library's
//! start-up: a write to a closed pipe fails instead); and XFSZ, which every write already
//! catches for good (`hardening`: a write past the file-size limit must fail, not end the
//! process), so it never ends a refresh. docs/safety.md gives the size of the window that
//! SIGKILL still has.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::signal::{
    SIGABRT, SIGALRM, SIGHUP, SIGINT, SIGPROF, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGVTALRM,
    SIGXCPU,
};

/// The signals held off whose default action `signal_hook` knows how to take.
const KNOWN: [i32; 11] = [
    SIGHUP, SIGINT, SIGQUIT, SIGABRT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGVTALRM, SIGPROF,
    SIGXCPU,
];

/// The signals held off that end a Linux process by default but that `signal_hook` cannot act
/// out (it takes SIGIO for the BSDs' "ignore" and knows neither SIGPWR, SIGSTKFLT nor the
/// real-time signals): they end it with the shell's status for a signal, 128 + its number.
fn others() -> Vec<i32> {
    #[cfg(target_os = "linux")]
    {
        let mut others = vec![libc::SIGIO, libc::SIGPWR, libc::SIGSTKFLT];
        others.extend(libc::SIGRTMIN()..=libc::SIGRTMAX());
        others
    }
    #[cfg(not(target_os = "linux"))]
    {
        Vec::new()
    }
}

/// The signals held off.
fn held() -> Vec<i32> {
    KNOWN.iter().copied().chain(others()).collect()
}

/// What the handlers share: whether a window is open, and which signals arrived during it.
struct Handlers {
    /// True outside every window: a signal then takes its default action at once.
    outside: Arc<AtomicBool>,
    arrived: Vec<(i32, Arc<AtomicBool>)>,
}

static HANDLERS: OnceLock<Option<Handlers>> = OnceLock::new();

/// Installs the handlers once, on the first refresh of the process (never on the cached path).
/// A signal that cannot be handled here (a platform's reserved one) is left as it is.
fn handlers() -> Option<&'static Handlers> {
    HANDLERS
        .get_or_init(|| {
            let outside = Arc::new(AtomicBool::new(true));
            let mut arrived = Vec::new();
            for signal in held() {
                let flag = Arc::new(AtomicBool::new(false));
                // The default action first, so that outside a window the flag never matters.
                let acted_out = if KNOWN.contains(&signal) {
                    signal_hook::flag::register_conditional_default(signal, Arc::clone(&outside))
                } else {
                    signal_hook::flag::register_conditional_shutdown(
                        signal,
                        128 + signal,
                        Arc::clone(&outside),
                    )
                };
                if acted_out.is_ok()
                    && signal_hook::flag::register(signal, Arc::clone(&flag)).is_ok()
                {
                    arrived.push((signal, flag));
                }
            }
            Some(Handlers { outside, arrived })
        })
        .as_ref()
}

/// The window; signals are held off until it is dropped.
pub(crate) struct Held {
    handlers: Option<&'static Handlers>,
}

/// Opens the window.
pub(crate) fn hold() -> Held {
    let handlers = handlers();
    if let Some(handlers) = handlers {
        for (_, arrived) in &handlers.arrived {
            arrived.store(false, Ordering::SeqCst);
        }
        handlers.outside.store(false, Ordering::SeqCst);
    }
    Held { handlers }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(handlers) = self.handlers else {
            return;
        };
        handlers.outside.store(true, Ordering::SeqCst);
        for (signal, arrived) in &handlers.arrived {
            if arrived.swap(false, Ordering::SeqCst) {
                crate::base::log::verbose(
                    "a signal arrived during the refresh; ending now that it is stored",
                );
                if KNOWN.contains(signal) {
                    let _ = signal_hook::low_level::emulate_default_handler(*signal);
                }
                signal_hook::low_level::exit(128 + signal);
            }
        }
    }
}
