//! Links the `mailtoken` binary as a position-dependent executable on Linux.
//!
//! The cached-token path runs on every mail-client call and must cost about as much as `cat`
//! reading the file (benches/cached.sh). As a PIE, the dynamic loader applies some 12,000
//! relative relocations at every start, writing into (and so copying) every page of
//! `.data.rel.ro`; a position-dependent link resolves them once, at link time, and cut the
//! cached path from 1.56x to 1.34x `cat`. The executable's own base address is then fixed;
//! libraries, heap and stack are still randomized, and the program has no unsafe code.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
