//! Links the `mailtoken` binary as a position-independent executable (the toolchain's default),
//! unless `MAILTOKEN_NO_PIE=1` asks for a position-dependent one on Linux.
//!
//! Distributions' hardening checks (Debian's lintian and blhc, Fedora's annobin, checksec) expect
//! a PIE, so that the executable's own code and data are randomized like its libraries, heap and
//! stack. The price is paid at every start: the dynamic loader applies some 12,000 relative
//! relocations, writing into (and so copying) every page of `.data.rel.ro`. The cached-token path
//! runs on every mail-client call, so anyone who prefers those microseconds to the randomization
//! (the program has no unsafe code) can opt out; CONTRIBUTING.md ("PIE or not") has the figures.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MAILTOKEN_NO_PIE");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let no_pie = std::env::var("MAILTOKEN_NO_PIE").is_ok_and(|value| value == "1");
    if no_pie && os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
