//! A token daemon and its client, for `benches/cached.sh` to time mailtoken against what a
//! daemon-based helper such as pizauth costs per call (`pizauth show`: start a small Rust
//! program, ask the daemon over a Unix socket, print the answer), in the same run, where pizauth
//! itself is not installed. It does the least such a client can: no configuration, no argument
//! parsing beyond its two words, one request, one answer. So it is a floor under any real
//! daemon's client, built with the same profile as mailtoken.
//!
//! `daemon serve SOCKET FILE` answers every connection with FILE's contents, until killed;
//! `daemon show SOCKET` asks once and prints the answer. Not a timing harness.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let done = match args.as_slice() {
        [verb, socket, file] if verb == "serve" => serve(socket, file),
        [verb, socket] if verb == "show" => show(socket),
        _ => {
            eprintln!("usage: daemon serve SOCKET FILE | daemon show SOCKET");
            return ExitCode::from(64);
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daemon: {e}");
            ExitCode::from(74)
        }
    }
}

fn serve(socket: &str, file: &str) -> std::io::Result<()> {
    let answer = std::fs::read(file)?;
    let _ = std::fs::remove_file(socket);
    let listener = UnixListener::bind(socket)?;
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut request = [0u8; 64];
        let _ = stream.read(&mut request)?;
        stream.write_all(&answer)?;
    }
    Ok(())
}

fn show(socket: &str) -> std::io::Result<()> {
    let mut stream = UnixStream::connect(socket)?;
    stream.write_all(b"showtoken account\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    std::io::stdout().write_all(&answer)
}
