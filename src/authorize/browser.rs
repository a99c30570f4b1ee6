//! Opening the sign-in URL in the user's browser: `$BROWSER` (a `:`-separated list of commands,
//! `%s` standing for the URL, as the convention from the `BROWSER` proposal and `xdg-open`
//! have it), else the desktop's opener (`xdg-open`, `open` on macOS, and under WSL Windows'
//! browser through `wslview` or `explorer.exe`).
//!
//! Written here rather than taken from the `webbrowser` crate because the browser must not
//! inherit `MAILTOKEN_CLIENT_SECRET` from our environment, and must not write to our stdout,
//! which carries the token; `webbrowser` offers neither.

use std::process::{Command, Stdio};

use crate::base::environment;

/// Starts the browser on `url` without waiting for it: a browser that stays open (or a text
/// browser) must not hold the sign-in's deadline hostage.
pub(crate) fn open(url: &str) -> Result<(), String> {
    let mut failures = Vec::new();
    for mut command in candidates(url) {
        let program = command.get_program().to_string_lossy().into_owned();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match command.spawn() {
            // Reaped on its own thread, so no zombie outlives a long wait for the sign-in.
            Ok(mut child) => {
                let _ = std::thread::Builder::new().spawn(move || child.wait());
                return Ok(());
            }
            Err(e) => failures.push(format!("{program}: {e}")),
        }
    }
    Err(failures.join("; "))
}

/// The commands to try, in order.
fn candidates(url: &str) -> Vec<Command> {
    let from_variable = std::env::var("BROWSER").unwrap_or_default();
    let mut commands: Vec<Command> = from_variable
        .split(':')
        .filter_map(|entry| command_for(entry, url))
        .collect();
    if commands.is_empty() {
        let openers: &[&str] = if cfg!(target_os = "macos") {
            &["open"]
        } else if environment::is_wsl() {
            // Windows' own browser: wslu's wslview where installed, else Explorer, which opens a
            // URL given as its one argument in the default browser (no cmd.exe, whose parsing of
            // `&` and `^` would need the URL quoted for it).
            &["wslview", "explorer.exe"]
        } else {
            &["xdg-open"]
        };
        for opener in openers {
            let mut command = environment::command(opener);
            command.arg(url);
            commands.push(command);
        }
    }
    commands
}

/// One `$BROWSER` entry as a command: split like a shell would, `%s` replaced by the URL or the
/// URL appended. The URL is always one argument of its own, never shell text.
fn command_for(entry: &str, url: &str) -> Option<Command> {
    let words = shlex::split(entry.trim())?;
    let (program, rest) = words.split_first()?;
    let mut command = environment::command(program);
    let mut placed = false;
    for word in rest {
        if word.contains("%s") {
            command.arg(word.replace("%s", url));
            placed = true;
        } else {
            command.arg(word);
        }
    }
    if !placed {
        command.arg(url);
    }
    Some(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(command: &Command) -> Vec<String> {
        std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn browser_entries_take_the_url_as_one_argument() {
        let url = "https://x/?a=1&b=2";
        assert_eq!(
            argv(&command_for("firefox", url).unwrap()),
            ["firefox", url]
        );
        assert_eq!(
            argv(&command_for("my-browser --new-tab=%s -q", url).unwrap()),
            ["my-browser", &format!("--new-tab={url}"), "-q"]
        );
        assert!(command_for("", url).is_none());
        assert!(command_for("'unclosed", url).is_none());
    }
}
