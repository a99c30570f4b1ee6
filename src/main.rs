//! The `mailtoken` binary; everything lives in the library so tests and generators can reach it.

fn main() -> std::process::ExitCode {
    mailtoken::main()
}
