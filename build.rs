//! Links the `mailtoken` binary: as a position-independent executable (the toolchain's default)
//! unless `MAILTOKEN_NO_PIE=1` asks for a position-dependent one on Linux, and with the code the
//! cached-token call runs placed together (`hot-text.ld`) when the linker takes that script.
//!
//! PIE: distributions' hardening checks (Debian's lintian and blhc, Fedora's annobin, checksec)
//! expect one, so that the executable's own code and data are randomized like its libraries,
//! heap and stack. The price is paid at every start: the dynamic loader applies some 12,000
//! relative relocations, writing into (and so copying) every page of `.data.rel.ro`. The
//! cached-token path runs on every mail-client call, so anyone who prefers those microseconds to
//! the randomization (the library forbids unsafe code; the binary's one unsafe attribute only
//! exports C's `main`) can opt out; benches/README.md ("PIE or not") has the figures.
//!
//! Hot text: the kernel maps a program's code in 64 KiB windows around each page it touches
//! ("fault-around"), so the 300 KB the cached call runs, scattered over 5.7 MB of code, made
//! 2.7 MB resident. `hot-text.ld` names those functions (without their hashes, so it outlives a
//! rebuild) and puts them in one output section before `.text`; benches/README.md ("Hot text")
//! has the figures and how to regenerate it. GNU ld and LLD take the script; a linker that does
//! not (mold, gold, or none found) is found out by linking an empty program with it first, and
//! then the binary is linked as before. `MAILTOKEN_NO_HOT_TEXT=1` skips it.
//!
//! The unwinder: Rust's standard library links GCC's unwinder as the shared `libgcc_s.so.1`
//! for its panic backtraces (the release build aborts on panic, so nothing unwinds). Loading a
//! third shared object costs every call its mapping, its own relocations and the symbol lookups
//! of `BIND_NOW`; linking GCC's static unwinder (`libgcc_eh.a`, what `gcc -static-libgcc` does
//! for a C program) before it lets `--as-needed` drop the shared one. benches/README.md ("The
//! unwinder") has the figures. Where the linker does not find `libgcc_eh.a` (clang without GCC's
//! files, or a musl target, which has no `libgcc_s` to drop) the probe below fails and the binary
//! links as before.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=hot-text.ld");
    println!("cargo:rerun-if-env-changed=MAILTOKEN_NO_PIE");
    println!("cargo:rerun-if-env-changed=MAILTOKEN_NO_HOT_TEXT");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let no_pie = std::env::var("MAILTOKEN_NO_PIE").is_ok_and(|value| value == "1");
    if no_pie && os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    let no_hot_text = std::env::var("MAILTOKEN_NO_HOT_TEXT").is_ok_and(|value| value == "1");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hot-text.ld");
    let hot_text = format!("-Clink-arg=-Wl,-T,{}", script.display());
    if os == "linux" && !no_hot_text && linker_takes("hot_text_probe", &hot_text) {
        println!("cargo:rustc-link-arg-bins=-Wl,-T,{}", script.display());
    }
    // Listed with the library, so it comes before the standard library's `-lgcc_s` on every link
    // of this package (binary, tests, examples): the first to define the unwinder's symbols wins.
    if os == "linux" && env == "gnu" && linker_takes("unwinder_probe", STATIC_UNWINDER) {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}

/// GCC's static unwinder, as rustc names it to the linker (`-bundle`: linked from where the
/// linker finds it, not copied into the library's rlib).
const STATIC_UNWINDER: &str = "-lstatic:-bundle=gcc_eh";

/// Whether the linker this build uses links an empty program with `flag` given to rustc: the
/// same compiler, target, linker and flags as the real link. `name` names the probe's files.
fn linker_takes(name: &str, flag: &str) -> bool {
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return false;
    };
    let source = out.join(format!("{name}.rs"));
    if std::fs::write(&source, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut probe = Command::new(rustc);
    probe.arg(&source).arg("-o").arg(out.join(name)).arg(flag);
    if let Ok(target) = std::env::var("TARGET") {
        probe.arg("--target").arg(target);
    }
    if let Some(linker) = std::env::var_os("RUSTC_LINKER") {
        probe
            .arg("-C")
            .arg(format!("linker={}", linker.to_string_lossy()));
    }
    if let Ok(flags) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        probe.args(flags.split('\x1f').filter(|flag| !flag.is_empty()));
    }
    probe
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
