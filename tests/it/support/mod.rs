//! What the integration tests share: the sandbox the binary runs in, token files, fake OAuth2
//! endpoints and a fake authorization server, a fake browser, fake mail servers, and one way to
//! run a table of cases.

pub mod base64;
pub mod browser;
pub mod ci;
pub mod dns;
pub mod echo;
pub mod http;
pub mod jwt;
pub mod login_test;
pub mod mail;
pub mod mail_scripts;
pub mod provider;
pub mod sandbox;
pub mod tls_browser;
pub mod tokens;

pub use browser::*;
pub use ci::unavailable;
pub use http::*;
pub use provider::*;
pub use sandbox::*;
pub use tokens::*;

use std::any::Any;
use std::fmt::Display;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// A file of the repository (documentation, the checked-in man page and completions), wherever
/// the tests run from.
pub fn repository(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `check` on every case of a table, then fails naming each case that failed, with its
/// message: one test for cases that differ only in data, still saying which case broke.
#[track_caller]
pub fn each_case<N: Display, T>(cases: impl IntoIterator<Item = (N, T)>, check: impl Fn(T)) {
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|(name, case)| {
            let outcome = catch_unwind(AssertUnwindSafe(|| check(case)));
            outcome
                .err()
                .map(|panic| format!("{name}: {}", message(&*panic)))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// What a panic said.
fn message(panic: &(dyn Any + Send)) -> &str {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => text,
        (_, Some(text)) => text,
        _ => "(a panic without a message)",
    }
}
