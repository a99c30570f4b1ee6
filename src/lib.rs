//! mailtoken: OAuth2 access tokens for terminal mail clients.
//!
//! # The module map
//!
//! The one map of the code (CONTRIBUTING.md points here). Folders are layers, listed from the
//! top down; a module imports only from its own folder and the layers below it, and inside a
//! folder the story (`mod.rs`) imports its chapters, which share vocabulary through files of
//! their own, never through the story.
//!
//! - `app`: what one run does, in order: the mail client's call (the cached token, else the
//!   silent refresh), or the action a flag asks for.
//! - `authorize`: `--authorize`, the only thing that changes an account: the sign-in flows
//!   (authcode, localhostauthcode with its loopback `listener`, devicecode, client credentials),
//!   the questions asked on a terminal, the provider from the address.
//! - `login_test`: `--test`: a real IMAP, POP and SMTP login with the token, explained when it
//!   fails; every protocol read through one line reader.
//! - `client_config`: `--print-config CLIENT`: a mail client's configuration for the account,
//!   and what the client lacks on this machine (the program, a Cyrus SASL plugin, a version,
//!   NeoMutt's token length).
//! - `lifecycle`: the account's life after sign-in. `account_state` decides where an account
//!   stands, once for every surface; `refresh` is the silent refresh (one story); `accounts`
//!   (`--list`), `status` (`--status`, `--json`), `check` (`--check`, for cron), `notify` (the hook
//!   run when a sign-in is needed), `revoke`.
//! - `cli`: the front. `args` is the command line (clap definitions only, the flag values'
//!   words in `values`), `settings` the validated options of one run (the only reader of
//!   `args`), `output` what goes to stdout.
//! - `store`: one account's `tokenfile` (load, save, lock: where the refresh token is written),
//!   its `encryption` (age, gpg, pipes), and `known_accounts` (every account, wherever its file
//!   lives).
//! - `oauth`: talking to the authorization server. `provider` holds registrations and presets,
//!   `discovery` finds endpoints from an issuer, `grant` makes every token request through
//!   `http`, `provider_answer` judges every refusal, `signing` signs instead of a secret.
//! - `mail`: the mail side's words: `mailserver` (protocols and endpoints), `sasl` (the
//!   XOAUTH2 and OAUTHBEARER strings) and `client` (the mail clients `--print-config` knows).
//! - `net`: connections: `tls` (the one rustls configuration), `network` (why an exchange got no
//!   answer, said once), `dns` (MX lookups, a stub resolver of our own).
//! - `base`: what everything stands on: `error` (the one error type and the exit-status table),
//!   `log` (stderr only), `redact` (every secret sent, removed from whatever comes back),
//!   `secret`, `paths`, `private_files` (own files only, atomic durable writes), `refresh_lock`,
//!   `terminal`, `held_signals`, `hardening`, `process_start` (what the standard library's start-up
//!   did, for the binary that skips it), `environment`.
//!
//! Where an exit status is decided: where the error is made, by its constructor (`Error::config`,
//! `Error::usage`, ...; the table is `base::error`'s), except for failures that come back from
//! elsewhere, judged in three places: a token request's in `oauth::grant::reply` (refusals by
//! `oauth::provider_answer`), a revocation's in `lifecycle::revoke`, and the logins of `--test` in
//! `login_test::failure`.
//!
//! The crate is a binary's library: `main` is the program, and `testing` is what the tests, fuzz
//! targets and benches reach; everything else is private to the crate.

#![forbid(unsafe_code)]
#![warn(unreachable_pub)]

mod app;
mod authorize;
mod base;
mod cli;
mod client_config;
mod lifecycle;
mod login_test;
mod mail;
mod net;
mod oauth;
mod store;

pub mod testing;

/// What a unit test does when the machine lacks what it needs (IPv6 loopback, /proc): the rule of
/// the integration tests, from the same file, so that CI skips nothing `.ci/allowed-skips` does
/// not list.
#[cfg(test)]
#[allow(unreachable_pub)] // public for tests/it, which shares the file
#[path = "../tests/it/support/ci.rs"]
mod ci_skips;

pub use app::{main, main_without_std_start};
