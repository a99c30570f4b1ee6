//! The terminal is left as it was found, whatever ends the program.
//!
//! Prompts change the terminal: the secret prompt turns echo off (rpassword), the paste prompt
//! turns canonical mode off for long addresses. A normal return restores it, but SIGINT, SIGTERM,
//! SIGHUP or SIGQUIT would end the process first and leave the user's shell without echo. While a
//! `Guard` is alive, the settings from before (saved with `stty -g`, POSIX, no unsafe termios
//! calls) are put back before the process ends on such a signal.
//!
//! The handlers are installed on the first prompt and stay: with none left the signals would be
//! ignored, so the handler thread ends the process as the default action would, with the
//! conventional status 128 + signal number.

use std::io::IsTerminal;
use std::sync::{Mutex, Once};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// The settings to restore, while a guard is alive.
static SAVED: Mutex<Option<String>> = Mutex::new(None);

/// Asks a yes-or-no question on the terminal; `None` when stdin is no terminal (nobody to ask),
/// else whether the answer was yes. Anything but `y` or `yes` is no, so Enter keeps what exists.
pub(crate) fn confirm(question: &str) -> Option<bool> {
    use std::io::{BufRead, Read, Write};
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let _guard = Guard::new();
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().take(1024).read_line(&mut answer);
    Some(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Restores the terminal when dropped, and on the way out of a signal while alive.
pub(crate) struct Guard {
    saved: Option<String>,
}

impl Guard {
    /// Saves the terminal's settings, if stdin is a terminal.
    pub(crate) fn new() -> Guard {
        let saved = std::io::stdin()
            .is_terminal()
            .then(|| stty(&["-g"]))
            .flatten()
            .map(|settings| settings.trim().to_string());
        if let Some(settings) = &saved {
            install_handlers();
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings.clone());
        }
        Guard { saved }
    }

    /// Whether the terminal's settings were saved (stdin is a terminal and stty works).
    pub(crate) fn is_active(&self) -> bool {
        self.saved.is_some()
    }
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(settings) = self.saved.take() {
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = None;
            let _ = stty(&[settings.as_str()]);
        }
    }
}

fn install_handlers() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let Ok(mut signals) =
            signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGQUIT])
        else {
            return;
        };
        let _ = std::thread::Builder::new().spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let saved = SAVED.lock().unwrap_or_else(|e| e.into_inner()).take();
                if let Some(settings) = saved {
                    let _ = stty(&[settings.as_str()]);
                    // The interrupted prompt's line is ended before the shell prints its own.
                    eprintln!();
                }
                std::process::exit(128 + signal);
            }
        });
    });
}

/// Runs stty on the terminal that is stdin; its output, when it succeeds.
pub(crate) fn stty(args: &[&str]) -> Option<String> {
    // Not even stty gets the client secret.
    let output = crate::base::environment::command("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}
