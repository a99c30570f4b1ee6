//! Asking for missing values, as mutt_oauth2.py does, but only when stdin is a terminal: a script
//! or a cron job gets exit 64 and the flag to pass instead of a prompt nobody answers.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::mpsc;
use std::time::Instant;

use crate::base::error::{Error, Result};
use crate::base::secret::Secret;
use crate::base::terminal::Guard;

/// A line pasted into the terminal may be a whole redirect URL; Microsoft's run to a few
/// kilobytes. Far more than that is not a URL.
pub(crate) const MAX_LINE: u64 = 64 * 1024;

/// How many times an empty answer is asked again before giving up.
const ATTEMPTS: usize = 3;

/// Whether questions can be asked.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prompter {
    terminal: bool,
}

impl Prompter {
    /// Asks only when stdin is a terminal.
    pub(crate) fn for_stdin() -> Prompter {
        Prompter {
            terminal: std::io::stdin().is_terminal(),
        }
    }

    pub(crate) fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// A required value: asked for on a terminal, otherwise exit 64 naming `flag`
    /// (e.g. "--email ADDRESS").
    pub(crate) fn value(&self, what: &str, flag: &str, question: &str) -> Result<String> {
        if !self.terminal {
            return Err(missing(what, flag));
        }
        let _guard = Guard::new();
        for _ in 0..ATTEMPTS {
            eprint!("{question}: ");
            let _ = std::io::stderr().flush();
            let answer = read_line(&mut std::io::stdin().lock())?;
            let answer = answer.trim();
            if !answer.is_empty() {
                return Ok(answer.to_string());
            }
        }
        Err(missing(what, flag))
    }

    /// A required value that `check` accepts: a wrong answer is said wrong, and asked again.
    pub(crate) fn checked(
        &self,
        what: &str,
        flag: &str,
        question: &str,
        check: impl Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        for _ in 0..ATTEMPTS {
            let answer = self.value(what, flag, question)?;
            match check(&answer) {
                Ok(()) => return Ok(answer),
                Err(why) => eprintln!("{why}; try again"),
            }
        }
        Err(Error::usage(format!("no valid {what} was given")).hint(format!("pass {flag}")))
    }

    /// A secret, read without echo; empty is a valid answer when `may_be_empty`, and asked
    /// again otherwise.
    pub(crate) fn secret(
        &self,
        what: &str,
        flag: &str,
        question: &str,
        may_be_empty: bool,
    ) -> Result<Secret> {
        if !self.terminal {
            return Err(missing(what, flag));
        }
        let _guard = Guard::new();
        for _ in 0..ATTEMPTS {
            let answer = rpassword::prompt_password(format!("{question}: "))
                .map(|answer| Secret::new(answer.trim().to_string()))
                .map_err(|e| {
                    Error::usage(format!("cannot read the {what} from the terminal ({e})"))
                })?;
            if may_be_empty || !answer.is_empty() {
                return Ok(answer);
            }
            eprintln!("this provider's clients have a {what}; try again");
        }
        Err(missing(what, flag))
    }
}

fn missing(what: &str, flag: &str) -> Error {
    Error::usage(format!(
        "no {what} was given, and stdin is not a terminal to ask for it"
    ))
    .hint(format!("pass {flag}"))
}

/// Reads one line of at most `MAX_LINE` bytes, without its line ending. End of input before
/// anything was read is an error.
pub(crate) fn read_line(input: &mut impl BufRead) -> Result<String> {
    let mut bytes = Vec::new();
    input
        .take(MAX_LINE + 1)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| Error::io(format!("cannot read from stdin: {e}")))?;
    if bytes.is_empty() {
        return Err(Error::usage("stdin ended before an answer was given"));
    }
    if bytes.len() as u64 > MAX_LINE {
        return Err(Error::usage(format!(
            "the line read from stdin is longer than {MAX_LINE} bytes"
        )));
    }
    // Without canonical mode the terminal no longer applies backspace itself.
    let mut edited = Vec::with_capacity(bytes.len());
    for byte in bytes {
        match byte {
            0x7f | 0x08 => {
                edited.pop();
            }
            byte => edited.push(byte),
        }
    }
    let text = String::from_utf8(edited)
        .map_err(|_| Error::usage("the line read from stdin is not UTF-8"))?;
    Ok(text.trim_end_matches(['\n', '\r']).to_string())
}

/// Reads one line from stdin, giving up at `deadline`. The reading thread is left behind when the
/// deadline passes; the program ends right after.
///
/// On a terminal, the line discipline's canonical mode caps a line (1024 bytes on macOS, 4095 on
/// Linux) and silently drops the rest of a long pasted address, a recurring mutt_oauth2.py bug.
/// Canonical mode is therefore switched off while reading and restored afterwards, whatever
/// happens.
pub(crate) fn read_line_until(deadline: Instant) -> Option<Result<String>> {
    let guard = Guard::new();
    // Echo and Ctrl-C stay as they are; the guard restores the rest, even after a signal.
    guard.read_bytes_as_typed();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(read_line(&mut std::io::stdin().lock()));
    });
    let remaining = deadline.checked_duration_since(Instant::now())?;
    receiver.recv_timeout(remaining).ok()
}

/// Lines pasted at the terminal while something else is awaited (the browser's redirect of a
/// loopback sign-in): read on a thread of their own, canonical mode off as for
/// `read_line_until`, and the terminal restored when this is dropped.
pub(crate) struct PastedLines {
    _guard: Guard,
    pub lines: mpsc::Receiver<Result<String>>,
}

/// Starts reading pasted lines, when stdin is a terminal.
pub(crate) fn pasted_lines() -> Option<PastedLines> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let guard = Guard::new();
    guard.read_bytes_as_typed();
    let (sender, lines) = mpsc::channel();
    std::thread::spawn(move || {
        loop {
            let line = read_line(&mut std::io::stdin().lock());
            let ended = line.is_err();
            if sender.send(line).is_err() || ended {
                return;
            }
        }
    });
    Some(PastedLines {
        _guard: guard,
        lines,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_read_whole() {
        let long = format!("http://localhost/?code={}&state=s", "x".repeat(20_000));
        let mut input = std::io::Cursor::new(format!("{long}\r\nnext\n"));
        assert_eq!(read_line(&mut input).unwrap(), long);
        assert_eq!(read_line(&mut input).unwrap(), "next");
        assert!(read_line(&mut input).is_err());
    }

    #[test]
    fn backspace_edits_the_line() {
        let mut input = std::io::Cursor::new(b"abx\x7fc\n".to_vec());
        assert_eq!(read_line(&mut input).unwrap(), "abc");
    }

    #[test]
    fn absurd_lines_are_refused() {
        let mut input = std::io::Cursor::new("y".repeat(MAX_LINE as usize + 5));
        assert!(read_line(&mut input).is_err());
    }
}
