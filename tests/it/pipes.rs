//! Issue #22, item 9: the deadline of `--decryption-pipe` ends the pipe with everything it
//! started. A wrapper's child holding the output open (`sh -c 'sleep 30; cat'`, `pass`, `sh -c
//! gpg ...`) held a mail client for as long as it lived.

use std::time::{Duration, Instant};

use crate::support::*;

/// A wrapper script as the pipe: it waits for a sleeping child that holds its stdout, having
/// written the child's pid to `sleeper` in the sandbox.
fn wrapper(sandbox: &Sandbox) -> String {
    let script = sandbox.path("wrapper");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nsleep 30 &\necho $! > '{}'\nwait $!\nexec cat\n",
            sandbox.path("sleeper").display()
        ),
    )
    .unwrap();
    set_mode(&script, 0o700);
    script.to_string_lossy().into_owned()
}

/// Whether the process is gone (or a zombie no one reaped: it holds nothing open). Told from
/// /proc: without it every process would read as gone, so no answer is given there.
fn ended(pid: &str) -> bool {
    assert!(
        std::path::Path::new("/proc/self/stat").exists(),
        "no /proc: cannot tell whether process {pid} ended"
    );
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat[stat.rfind(')').unwrap() + 2..].starts_with('Z')
    })
}

#[track_caller]
fn stopped_at_the_deadline(sandbox: &Sandbox, run: &Run, started: Instant) {
    run.expect(65, "");
    run.says("did not finish within 2 s");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}: the pipe's child was waited for",
        started.elapsed()
    );
    let sleeper = sandbox.read("sleeper");
    let sleeper = sleeper.trim();
    assert!(!sleeper.is_empty(), "the pipe never started its child");
    assert!(eventually(|| ended(sleeper)), "the pipe's child lives on");
}

#[test]
fn a_pipe_without_a_terminal_is_ended_with_its_children() {
    if !require("setsid") {
        return;
    }
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    write_private(&path, b"anything");
    let pipe = wrapper(&sandbox);
    let started = Instant::now();
    // No controlling terminal, as under cron or systemd: the pipe gets a process group.
    let run = Run::of(
        sandbox
            .outer("setsid")
            .arg(env!("CARGO_BIN_EXE_mailtoken"))
            .args([path.to_str().unwrap(), "--decryption-pipe", &pipe])
            .env("MAILTOKEN_PIPE_TIMEOUT", "2"),
    );
    stopped_at_the_deadline(&sandbox, &run, started);
}

#[test]
fn a_pipe_in_the_foreground_of_a_terminal_is_ended_with_its_children() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    write_private(&path, b"anything");
    let pipe = wrapper(&sandbox);
    // As neomutt runs it: in the terminal's foreground, where the pipe may ask for a passphrase.
    let script = format!(
        "MAILTOKEN_PIPE_TIMEOUT=2 \"$MAILTOKEN\" {} --decryption-pipe {pipe} > out 2> err; \
         echo $? > status",
        path.display()
    );
    let started = Instant::now();
    let output = run_in_terminal(sandbox.terminal(&script));
    let run = Run {
        code: sandbox.read("status").trim().parse().unwrap_or(-1),
        stdout: sandbox.read("out"),
        stderr: sandbox.read("err"),
    };
    assert!(output.status.success(), "{output:?}");
    stopped_at_the_deadline(&sandbox, &run, started);
}

/// In the foreground of a terminal a pipe may ask there (a passphrase for `age -d -i`): it is
/// not put into a background process group, where reading the terminal would stop it.
#[test]
fn a_pipe_can_still_ask_on_the_terminal() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    write_private(&path, b"anything");
    let asking = sandbox.path("asking");
    std::fs::write(
        &asking,
        format!(
            "#!/bin/sh\nIFS= read -r word < /dev/tty\nprintf '%s' \"$word\" > '{}'\nexec cat\n",
            sandbox.path("typed").display()
        ),
    )
    .unwrap();
    set_mode(&asking, 0o700);
    let script = format!(
        "MAILTOKEN_PIPE_TIMEOUT=20 \"$MAILTOKEN\" {} --decryption-pipe {} > out 2> err",
        path.display(),
        asking.display()
    );
    let started = Instant::now();
    let mut terminal = sandbox.terminal(&script);
    let mut child = terminal
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("script runs");
    use std::io::Write;
    let mut keyboard = child.stdin.take().unwrap();
    keyboard.write_all(b"typed-word\n").unwrap();
    child.wait().unwrap();
    drop(keyboard);
    assert_eq!(
        sandbox.read("typed"),
        "typed-word",
        "{}",
        sandbox.read("err")
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the pipe could not ask"
    );
}

/// Issue #30, item 3: the deadline covers the pipe's whole life, not only its output. A pipe that
/// prints, closes its output and lives on was waited for until it exited on its own.
#[test]
fn a_pipe_that_closes_its_output_and_lives_on_is_ended_at_the_deadline() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    write_private(&path, b"anything");
    let script = sandbox.path("lingering");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho $$ > '{}'\ncat\nexec >&-\nexec sleep 30\n",
            sandbox.path("sleeper").display()
        ),
    )
    .unwrap();
    set_mode(&script, 0o700);
    let started = Instant::now();
    let run = sandbox.run_with(
        &[
            path.to_str().unwrap(),
            "--decryption-pipe",
            script.to_str().unwrap(),
        ],
        &[("MAILTOKEN_PIPE_TIMEOUT", "2")],
    );
    stopped_at_the_deadline(&sandbox, &run, started);
}
