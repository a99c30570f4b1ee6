//! What every layer stands on: the error type and exit statuses, messages, secrets and their
//! redaction, where files live and how they are written, the terminal and signals, and the
//! process's own protections. Nothing here imports from another folder.

pub(crate) mod environment;
pub(crate) mod error;
pub(crate) mod hardening;
pub(crate) mod held_signals;
pub(crate) mod log;
pub(crate) mod paths;
pub(crate) mod private_files;
pub(crate) mod process_start;
pub(crate) mod redact;
pub(crate) mod refresh_lock;
pub(crate) mod secret;
pub(crate) mod terminal;
