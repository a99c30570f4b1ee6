//! mailtoken: OAuth2 access tokens for terminal mail clients.
//!
//! A call flows through: `cli` (flags) → `settings` (validated, the only reader of `cli`) →
//! `app` (what one run does, in order) → `refresh` (the silent refresh, one story) → `tokenfile`
//! (load, save and lock one account's file: where the refresh token is written) →
//! `private_files` (own files only, atomic durable writes, the lock) and `encryption` (age, gpg,
//! pipes). `grant` makes every token request through `http` and `tls` (`network` words its
//! failures), and `provider_answer` judges every refusal; `provider` and `mailserver` hold
//! registrations and mail servers; `output` prints (`sasl` builds SASL strings). `--authorize`
//! runs `authorize` (the sign-in flows and their loopback `listener`, with `discovery` for
//! `--issuer`, and `dns` for the MX records of an address's domain); `--test` runs `login_test`. The account lifecycle: `account_state` (where an
//! account stands, decided once for every surface), `known_accounts` (every account, wherever its
//! file lives), `accounts` (`--list`), `status` (`--status`, `--json`), `check` (`--check`, for
//! cron), `notify` (the hook run when a sign-in is needed) and `revoke`.
//! `redact` remembers every secret sent and removes it from whatever comes back; `log` prints.

#![forbid(unsafe_code)]

pub mod account_state;
pub mod accounts;
pub mod app;
pub mod authorize;
pub mod check;
pub mod cli;
pub mod credential;
pub mod discovery;
pub mod dns;
pub mod encryption;
pub mod environment;
pub mod error;
pub mod grant;
pub mod hardening;
pub mod held_signals;
pub mod http;
pub mod known_accounts;
pub mod log;
pub mod login_test;
pub mod mailserver;
pub mod network;
pub mod notify;
pub mod output;
pub mod paths;
pub mod private_files;
pub mod provider;
pub mod provider_answer;
pub mod redact;
pub mod refresh;
pub mod revoke;
pub mod sasl;
pub mod secret;
pub mod settings;
pub mod status;
pub mod terminal;
pub mod tls;
pub mod tokenfile;
