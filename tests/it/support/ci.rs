//! What a test does when this machine lacks what it needs (a program, root, the IPv6 loopback,
//! /proc): outside CI it says "skipping" and passes, so that `cargo test` runs with only Rust; in
//! CI (`CI` set, as `.ci/run` sets it) it fails, unless `.ci/allowed-skips` lists the need with a
//! reason. That file is the one allow-list of CI (the end-to-end scenarios and `.ci/deb-test` read
//! it too); an allowed skip is appended to `$CI_SKIP_LOG` when set, for `.ci/run`'s summary.
//!
//! Also compiled into the crate's unit tests (`src/lib.rs`, `ci_skips`), so both suites follow
//! one rule.

use std::io::Write;

/// The allow-list, beside the sources (absent from the packaged crate: nothing is allowed).
const ALLOWED_SKIPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/allowed-skips");

/// The reason `.ci/allowed-skips` gives for `need` ("tool zsh", "feature ipv6"), if it lists it:
/// lines `NEED: REASON`, `#` comments and blank lines aside.
pub fn allowed_skip(need: &str) -> Option<String> {
    let text = std::fs::read_to_string(ALLOWED_SKIPS).ok()?;
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(':'))
        .find(|(listed, reason)| listed.trim() == need && !reason.trim().is_empty())
        .map(|(_, reason)| reason.trim().to_string())
}

/// This test cannot run here for want of `need` (`tool NAME`, `feature root`, `feature ipv6`,
/// `feature proc`); `why` says so to a person. Returns (the caller skips the rest of the test)
/// outside CI and, in CI, when the allow-list lists `need`; panics in CI otherwise.
#[track_caller]
pub fn unavailable(need: &str, why: &str) {
    if std::env::var_os("CI").is_none() {
        eprintln!("skipping: {why}");
        return;
    }
    let Some(reason) = allowed_skip(need) else {
        panic!(
            "{why}: in CI a test may not skip for want of `{need}` (.ci/run installs what the \
             tests need; .ci/allowed-skips lists what may be skipped, with a reason)"
        );
    };
    eprintln!("skipping: {why} (allowed in CI by .ci/allowed-skips: {reason})");
    if let Some(log) = std::env::var_os("CI_SKIP_LOG") {
        let line = format!(
            "{need}: {}\n",
            std::thread::current().name().unwrap_or("a test")
        );
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut file| file.write_all(line.as_bytes()));
        if let Err(e) = appended {
            panic!("cannot record the skip in {}: {e}", log.to_string_lossy());
        }
    }
}
