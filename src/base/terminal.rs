//! The terminal is left as it was found, whatever ends the program.
//!
//! Prompts change the terminal: the secret prompt turns echo off (rpassword), the paste prompt
//! turns canonical mode off for long addresses. A normal return restores it, but SIGINT, SIGTERM,
//! SIGHUP or SIGQUIT would end the process first and leave the user's shell without echo. While a
//! `Guard` is alive, the settings from before (read with `tcgetattr`, through rustix's safe
//! termios calls, in-process) are put back before the process ends on such a signal.
//!
//! The handlers are installed on the first prompt and stay: with none left the signals would be
//! ignored, so the handler thread ends the process as the default action would, with the
//! conventional status 128 + signal number.

use std::io::IsTerminal;
use std::sync::{Mutex, Once};

use rustix::termios::{self, LocalModes, OptionalActions, SpecialCodeIndex, Termios};
use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};

/// The settings to restore, while a guard is alive.
static SAVED: Mutex<Option<Termios>> = Mutex::new(None);

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
    saved: Option<Termios>,
}

impl Guard {
    /// Saves the terminal's settings, if stdin is a terminal.
    pub(crate) fn new() -> Guard {
        let stdin = std::io::stdin();
        let saved = stdin
            .is_terminal()
            .then(|| termios::tcgetattr(&stdin).ok())
            .flatten();
        if let Some(settings) = &saved {
            install_handlers();
            *SAVED.lock().unwrap_or_else(|e| e.into_inner()) = Some(settings.clone());
        }
        Guard { saved }
    }

    /// Switches canonical mode off (each byte is read as it arrives, and a line has no length
    /// limit), echo and signals left as they are; `drop` restores the mode.
    pub(crate) fn read_bytes_as_typed(&self) {
        let Some(saved) = &self.saved else {
            return;
        };
        let mut changed = saved.clone();
        changed.local_modes.remove(LocalModes::ICANON);
        changed.special_codes[SpecialCodeIndex::VMIN] = 1;
        changed.special_codes[SpecialCodeIndex::VTIME] = 0;
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &changed);
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
            restore(&settings);
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
                    restore(&settings);
                    // The interrupted prompt's line is ended before the shell prints its own.
                    eprintln!();
                }
                std::process::exit(128 + signal);
            }
        });
    });
}

/// Puts the terminal that is stdin back to `settings`.
fn restore(settings: &Termios) {
    let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, settings);
}
