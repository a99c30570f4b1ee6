//! mailtoken: OAuth2 access tokens for terminal mail clients.
//!
//! A call flows through: `cli` (flags) → `settings` (validated) → `app` (dispatch) →
//! `refresh` (cached or refreshed token) → `account` (load/save/lock one file) → `store` (disk),
//! `encryption` (age/gpg/pipes) and `tokenfile` (schema); `grant` and `http` talk to the token
//! endpoint; `sasl` and `output` produce what is printed. `--authorize` runs `authorize` (the
//! sign-in flows), which uses `discovery` (`--issuer`) and `listener` (the loopback redirect).
//! The account lifecycle: `accounts` (`--list`), `status` (`--status`, `--json`), `check`
//! (`--check`, for cron), `notify` (the hook run when a sign-in is needed) and `revoke`.

#![forbid(unsafe_code)]

pub mod accounts;
pub mod app;
pub mod authorize;
pub mod check;
pub mod cli;
pub mod discovery;
pub mod encryption;
pub mod environment;
pub mod error;
pub mod grant;
pub mod hardening;
pub mod http;
pub mod log;
pub mod login_test;
pub mod mailserver;
pub mod notify;
pub mod output;
pub mod paths;
pub mod private_files;
pub mod provider;
pub mod provider_answer;
pub mod refresh;
pub mod revoke;
pub mod sasl;
pub mod secret;
pub mod settings;
pub mod status;
pub mod terminal;
pub mod tls;
pub mod tokenfile;
