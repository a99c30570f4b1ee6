//! SIGTERM, SIGINT and SIGHUP held off while a refresh is between the provider's answer and its
//! storage.
//!
//! Once a refresh request has been sent, the provider may already have rotated the refresh token
//! and revoked the one in the file: ending the process before the answer is stored ends the
//! login (reuse detection revokes the whole grant when the old token is sent again). A mail
//! client that gives up on a slow call sends SIGTERM or SIGINT, and a closed terminal SIGHUP, at
//! any moment. While a [`Held`] is alive such a signal is noted instead of ending the process;
//! when it is dropped (the answer is stored, or kept in the recovery file), a noted signal ends
//! the process as it would have, with the signal's own status. Outside the window they act as
//! always. SIGKILL cannot be held off; docs/safety.md gives the size of that window.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

/// The signals held off.
const HELD: [i32; 3] = [SIGTERM, SIGINT, SIGHUP];

/// What the handlers share: whether a window is open, and which signals arrived during it.
struct Handlers {
    /// True outside every window: a signal then takes its default action at once.
    outside: Arc<AtomicBool>,
    arrived: [Arc<AtomicBool>; 3],
}

static HANDLERS: OnceLock<Option<Handlers>> = OnceLock::new();

/// Installs the handlers once, on the first refresh of the process (never on the cached path).
fn handlers() -> Option<&'static Handlers> {
    HANDLERS
        .get_or_init(|| {
            let handlers = Handlers {
                outside: Arc::new(AtomicBool::new(true)),
                arrived: std::array::from_fn(|_| Arc::new(AtomicBool::new(false))),
            };
            for (signal, arrived) in HELD.iter().zip(&handlers.arrived) {
                signal_hook::flag::register(*signal, Arc::clone(arrived)).ok()?;
                signal_hook::flag::register_conditional_default(
                    *signal,
                    Arc::clone(&handlers.outside),
                )
                .ok()?;
            }
            Some(handlers)
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
        for arrived in &handlers.arrived {
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
        for (signal, arrived) in HELD.iter().zip(&handlers.arrived) {
            if arrived.swap(false, Ordering::SeqCst) {
                crate::base::log::verbose(
                    "a signal arrived during the refresh; ending now that it is stored",
                );
                let _ = signal_hook::low_level::emulate_default_handler(*signal);
            }
        }
    }
}
