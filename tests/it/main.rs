//! The integration tests, as one test binary: each module is one area of behaviour, run against
//! the real `mailtoken` binary in a sandbox (`support`). One binary links the library and the
//! test helpers once, where a binary per area linked them once per area.
//!
//! Run one area with `cargo test --test it refresh::`, one test with its full name.

mod support;

mod account_state;
mod admin_request;
mod authorize_device;
mod authorize_https;
mod authorize_localhost;
mod authorize_other;
mod autoconfig;
mod background_sign_in;
mod cached;
mod client_config;
mod client_file;
mod completions;
mod concurrency;
mod docs_links;
mod dynamic_registration;
mod echoes;
mod files;
mod from_address;
mod generated;
mod hints;
mod house;
mod https;
mod identity;
mod lifecycle;
mod login_end;
mod login_test_errors;
mod login_test_imap;
mod login_test_logins;
mod login_test_options;
mod login_test_refusal;
mod messages;
mod min_valid;
mod neighbours;
mod output;
mod pipes;
mod presets;
mod process_start;
mod provider_answers;
mod readme;
mod refresh;
mod registration_check;
mod reuse;
mod revoke_confirm;
mod safety;
mod set;
mod sign_in_questions;
mod signing_keys;
mod storage_safety;
mod stored_text;
