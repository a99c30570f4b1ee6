//! Protections for the whole process, set before anything secret is read.
//!
//! A core dump of mailtoken holds the refresh token and the client secret in clear, and another
//! process of the same user could read its memory through ptrace or `/proc/PID/mem`. Linux's
//! "dumpable" flag (prctl PR_SET_DUMPABLE) controls both, and RLIMIT_CORE makes sure no core
//! file is written even where the flag does not reach (children inherit the limit).

use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::AtomicBool;

/// No core dumps, no ptrace by other processes of the user. Two system calls: cheap enough for
/// the cached path, and failures are ignored (a container may forbid prctl; nothing else breaks).
pub(crate) fn protect_memory() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
    }
    let _ = rustix::process::setrlimit(
        rustix::process::Resource::Core,
        rustix::process::Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    );
}

/// Writes past RLIMIT_FSIZE raise SIGXFSZ, whose default action kills the process before it can
/// remove its temporary file. With a handler installed the write fails with EFBIG instead, and
/// the error path cleans up. Installed once, by the first write.
pub(crate) fn survive_file_size_limit() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = signal_hook::flag::register(
            signal_hook::consts::SIGXFSZ,
            Arc::new(AtomicBool::new(false)),
        );
    });
}
