//! What this machine has: a program on `PATH`, and what it says about itself (`--version`,
//! `-v`), each asked with a deadline, its output capped, and nothing of ours in its environment
//! but what it had.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::base::environment;

/// How long a client may take to say its version. They answer in milliseconds; a program that
/// waits on a terminal or a network must not hold `--print-config`.
pub(crate) const VERSION_DEADLINE: Duration = Duration::from_secs(3);

/// More than this of a version text is not a version text.
const MAX_OUTPUT: u64 = 64 * 1024;

/// The program's path on `PATH`, if it is there and executable.
pub(crate) fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|candidate| executable(candidate))
}

fn executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// What `program ARGS` prints on stdout and stderr, or `None` when it cannot be run or does not
/// end within `deadline` (it is killed then).
pub(crate) fn output_of(program: &Path, args: &[&str], deadline: Duration) -> Option<String> {
    let mut child = environment::command(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = stream.take(MAX_OUTPUT).read_to_end(&mut text);
            text
        })
    })
    .collect();
    let until = Instant::now() + deadline;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut text = Vec::new();
    for reader in readers {
        text.extend(reader.join().unwrap_or_default());
    }
    Some(String::from_utf8_lossy(&text).into_owned())
}

/// The first dotted version number in `text` (`msmtp version 1.8.23` gives 1.8.23;
/// `NeoMutt 20220429` gives 20220429), as numbers.
pub(crate) fn version_in(text: &str, after: &str) -> Option<Vec<u64>> {
    let start = text.find(after)? + after.len();
    let word = text[start..]
        .split_whitespace()
        .next()?
        .trim_start_matches('v');
    let numbers: Vec<u64> = word
        .split('.')
        .map_while(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect();
    (!numbers.is_empty()).then_some(numbers)
}

/// A version for messages: `1.8.23`.
pub(crate) fn shown(version: &[u64]) -> String {
    version
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_what_clients_print() {
        // msmtp 1.8.23 and NeoMutt 20220429, as Debian 12's print them.
        assert_eq!(
            version_in("msmtp version 1.8.23\nPlatform: x86_64", "msmtp version"),
            Some(vec![1, 8, 23])
        );
        assert_eq!(
            version_in("NeoMutt 20220429\nCopyright", "NeoMutt"),
            Some(vec![20220429])
        );
        assert_eq!(version_in("isync 1.4.4", "isync"), Some(vec![1, 4, 4]));
        assert_eq!(version_in("nothing here", "msmtp version"), None);
        assert_eq!(shown(&[1, 8, 13]), "1.8.13");
    }

    #[test]
    fn a_program_that_does_not_answer_is_given_up_on() {
        let started = Instant::now();
        let sleep = find("sleep").expect("sleep is on PATH");
        assert_eq!(output_of(&sleep, &["30"], Duration::from_millis(200)), None);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
