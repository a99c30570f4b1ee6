//! The `mailtoken` binary; everything lives in the library so tests and generators can reach it.
//!
//! On Linux with glibc this file is C's `main` itself, with no Rust start-up around it: that
//! start-up costs a tenth of the cached-token call, for a message on stack overflow. What of it
//! a run does need, the library does first (`base::process_start`, which says why). Elsewhere
//! the binary starts as any Rust program.

#![cfg_attr(all(target_os = "linux", target_env = "gnu", not(test)), no_main)]

/// C's `main`, called by glibc's `__libc_start_main`. The arguments are not read here: the
/// standard library has them from glibc already (its `.init_array` call), for `std::env::args`.
// `unsafe` is the attribute's, not the code's: the binary exports one symbol named `main`, this
// one (Rust's own `main` is not generated under `no_main`), with C's signature.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(
    _argc: std::ffi::c_int,
    _argv: *const *const std::ffi::c_char,
) -> std::ffi::c_int {
    mailtoken::main_without_std_start()
}

// Also the test harness's build of this file, which brings its own `main`.
#[cfg(any(test, not(all(target_os = "linux", target_env = "gnu"))))]
fn main() -> std::process::ExitCode {
    mailtoken::main()
}
