//! gpg and the user's `--encryption-pipe`/`--decryption-pipe` commands, run as child processes
//! that filter stdin to stdout: secrets travel through the pipes, never the argument list, the
//! client secret is kept out of the children's environment, and a child that hangs is stopped
//! at a deadline with everything it started (`stopping`).

use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::crypto::{EncryptionOptions, MAX_PLAINTEXT};
use super::stopping::Grouping;
use crate::base::error::{Error, Result};

/// How long gpg or a pipe may take: long enough to type a passphrase into a pinentry, short
/// enough that a mail client is not held forever by one that waits for nobody.
const PIPE_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variable overriding `PIPE_TIMEOUT`, in seconds.
pub(crate) const PIPE_TIMEOUT_VARIABLE: &str = "MAILTOKEN_PIPE_TIMEOUT";

fn pipe_deadline() -> Duration {
    crate::base::environment::seconds_from_env(
        PIPE_TIMEOUT_VARIABLE,
        PIPE_TIMEOUT,
        Duration::from_secs(1_000_000_000),
    )
}

/// The command mutt_oauth2.py decrypts with by default.
const GPG_DECRYPT: &[&str] = &["gpg", "--quiet", "--batch", "--decrypt"];

/// Decrypts with the `--decryption-pipe` command.
pub(super) fn decrypt_with_pipe(
    pipe: &str,
    path: &Path,
    bytes: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let shown = path.display();
    run_filter(pipe_argv(pipe, "--decryption-pipe")?, bytes)
        .map_err(|e| Error::bad_token_file(format!("cannot decrypt {shown}: {e}")))
}

/// Decrypts an OpenPGP file with gpg, as mutt_oauth2.py does.
pub(super) fn decrypt_with_gpg(path: &Path, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let shown = path.display();
    let argv = GPG_DECRYPT.iter().map(|s| s.to_string()).collect();
    run_filter(argv, bytes)
        .map_err(|e| Error::bad_token_file(format!("cannot decrypt {shown} with gpg: {e}")))
}

/// Encrypts with gpg to `recipient`, or to the default key.
pub(super) fn encrypt_with_gpg(recipient: Option<&str>, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut argv: Vec<String> = ["gpg", "--quiet", "--batch", "--yes", "--encrypt"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    match recipient {
        Some(recipient) => argv.extend(["--recipient".to_string(), recipient.to_string()]),
        None => argv.push("--default-recipient-self".to_string()),
    }
    run_filter(argv, plaintext)
        .map(|ciphertext| ciphertext.to_vec())
        .map_err(|e| {
            Error::config(format!("gpg could not encrypt the token file: {e}"))
                .hint("check that gpg has a default key, or pass --gpg-recipient")
        })
}

/// Encrypts with the pipe command `encrypt` that the token file records, which runs only when
/// the command line gives the same command.
pub(super) fn encrypt_with_pipe(
    options: &EncryptionOptions,
    encrypt: &str,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    check_pipe_may_run(options, encrypt)?;
    run_filter(pipe_argv(encrypt, "--encryption-pipe")?, plaintext)
        .map(|ciphertext| ciphertext.to_vec())
        .map_err(|e| Error::config(format!("the encryption pipe failed: {e}")))
}

/// Refuses an encryption command that is not known or not given on the command line, before
/// anything depends on it.
pub(super) fn check_pipe_may_run(options: &EncryptionOptions, encrypt: &str) -> Result<()> {
    if encrypt.is_empty() {
        return Err(Error::config(
            "this token file records no encryption and was read with --decryption-pipe, so \
             mailtoken does not know how to write it",
        )
        .hint("pass --encryption-pipe COMMAND, the counterpart of your --decryption-pipe"));
    }
    // A command read from a file is never run on the file's say-so: in a shared
    // directory a planted token file could otherwise make its reader run anything.
    if options.encryption_pipe.as_deref() != Some(encrypt) {
        return Err(Error::config(format!(
            "the token file records the encryption command {:?}, and mailtoken runs a \
             command only when it is given on the command line",
            crate::base::log::sanitize(encrypt)
        ))
        .hint("pass --encryption-pipe with that command (and --decryption-pipe) to use it"));
    }
    Ok(())
}

/// Splits a pipe command the way a POSIX shell would (mutt_oauth2.py uses `shlex.split`).
fn pipe_argv(command: &str, flag: &str) -> Result<Vec<String>> {
    match shlex::split(command) {
        Some(argv) if !argv.is_empty() => Ok(argv),
        _ => Err(Error::usage(format!(
            "{flag} {command:?} is not a valid command"
        ))),
    }
}

/// Runs `argv` with `input` on its stdin and returns its stdout. Secrets travel through the pipes,
/// never the argument list; stderr stays with the user so gpg can explain itself.
///
/// One deadline covers the filter's whole life: its output, its exit, and our writing of its
/// input. A filter that closes its output and goes on living (`sh -c 'cat; exec >&-; sleep 30'`)
/// has not finished, since only its exit status says whether the output is whole. At the
/// deadline the filter is killed with everything it started (`stopping`), and nothing more is
/// waited for but its own exit: a child that escaped (a daemon) may hold a pipe open for ever.
fn run_filter(argv: Vec<String>, input: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, String> {
    let (program, args) = argv.split_first().ok_or("empty command")?;
    let grouping = Grouping::for_here();
    let mut command = crate::base::environment::command(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    grouping.apply(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let allowed = pipe_deadline();
    let deadline = Instant::now() + allowed;
    // Write and read at once: a filter that fills its stdout pipe before draining stdin would
    // otherwise deadlock with us. The threads own what they touch, so that they can be left
    // behind at the deadline.
    let input = Zeroizing::new(input.to_vec());
    let (wrote, writing) = mpsc::channel();
    std::thread::spawn(move || {
        let result = stdin.write_all(&input);
        drop(stdin);
        let _ = wrote.send(result);
    });
    let (finished, reading) = mpsc::channel();
    std::thread::spawn(move || {
        let mut output = Zeroizing::new(Vec::new());
        let read = (&mut stdout)
            .take(MAX_PLAINTEXT + 1)
            .read_to_end(&mut output);
        let _ = finished.send((output, read));
    });
    let outcome = within(deadline, &reading).and_then(|(output, read)| {
        let status = exit_within(deadline, &mut child)?;
        let written = within(deadline, &writing)?;
        Some((output, read, status, written))
    });
    // A filter that hangs (gpg waiting for a pinentry no one sees, a wrapper's child asleep) is
    // stopped at the deadline, and nothing more is waited for but its own exit.
    let Some((output, read, status, written)) = outcome else {
        grouping.kill(&mut child);
        let _ = child.wait();
        return Err(format!(
            "{program} did not finish within {} s (set {PIPE_TIMEOUT_VARIABLE} for more)",
            allowed.as_secs()
        ));
    };
    let status = status.map_err(|e| format!("{program} did not finish: {e}"))?;
    if !status.success() {
        return Err(format!("{program} failed ({status})"));
    }
    read.map_err(|e| format!("reading from {program}: {e}"))?;
    // A filter may exit without reading all its input (EPIPE) yet succeed; its status decides.
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(format!("writing to {program}: {e}"));
    }
    if output.len() as u64 > MAX_PLAINTEXT {
        return Err(format!(
            "{program} produced more than {MAX_PLAINTEXT} bytes"
        ));
    }
    Ok(output)
}

/// What `receiver` gets before `deadline`; `None` when the deadline passes first.
fn within<T>(deadline: Instant, receiver: &mpsc::Receiver<T>) -> Option<T> {
    receiver
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// How often the filter is asked whether it has exited, once its output has ended: a filter
/// normally exits with its output, so the first look nearly always finds it done.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// The filter's exit status, if it exits before `deadline` (`None` otherwise).
fn exit_within(
    deadline: Instant,
    child: &mut std::process::Child,
) -> Option<std::io::Result<std::process::ExitStatus>> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Err(e) => return Some(Err(e)),
            Ok(None) if Instant::now() >= deadline => return None,
            Ok(None) => std::thread::sleep(
                EXIT_POLL.min(deadline.saturating_duration_since(Instant::now())),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_pass_data_through_stdin_and_stdout() {
        let out = run_filter(vec!["cat".into()], b"secret data").unwrap();
        assert_eq!(&out[..], b"secret data");
        assert!(
            run_filter(vec!["false".into()], b"x")
                .unwrap_err()
                .contains("failed")
        );
        assert!(
            run_filter(vec!["/nonexistent/cmd".into()], b"x")
                .unwrap_err()
                .contains("cannot run")
        );
    }

    #[test]
    fn pipe_commands_are_split_like_a_shell() {
        assert_eq!(
            pipe_argv("gpg --encrypt -r 'A B'", "--x").unwrap(),
            ["gpg", "--encrypt", "-r", "A B"]
        );
        assert!(pipe_argv("", "--x").is_err());
        assert!(pipe_argv("'unclosed", "--x").is_err());
    }
}
