//! Environment variables read below the command line: the deadlines tests and slow links
//! adjust, and the client secret that `--authorize` reads and no child process may inherit;
//! so every child process starts from [`command`].

use std::time::Duration;

/// A duration in seconds (fractions allowed) from `variable`, for the deadlines tests and slow
/// links adjust; `default` when it is unset, not a number, not positive, or not below `max`.
pub(crate) fn seconds_from_env(variable: &str, default: Duration, max: Duration) -> Duration {
    std::env::var(variable)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| *seconds > 0.0 && seconds.is_finite() && *seconds < max.as_secs_f64())
        .map(Duration::from_secs_f64)
        .unwrap_or(default)
}

/// Whether this is Windows Subsystem for Linux: its init sets `WSL_DISTRO_NAME` and
/// `WSL_INTEROP` (WSL 2), and its kernel's release names Microsoft (`/proc/sys/kernel/osrelease`,
/// "...-microsoft-standard-WSL2"). There the browser is Windows', and connections from it reach
/// the loopback listener through WSL's own relay.
pub(crate) fn is_wsl() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    set("WSL_DISTRO_NAME")
        || set("WSL_INTEROP")
        || std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .is_ok_and(|release| release.to_ascii_lowercase().contains("microsoft"))
}

/// The environment variable that gives `--authorize` the client secret without the argument list.
pub(crate) const CLIENT_SECRET_VARIABLE: &str = "MAILTOKEN_CLIENT_SECRET";

/// `MAILTOKEN_CLIENT_SECRET`, when it is set and not empty. Only `--authorize` reads it.
pub(crate) fn client_secret() -> Option<crate::base::secret::Secret> {
    std::env::var(CLIENT_SECRET_VARIABLE)
        .ok()
        .filter(|secret| !secret.is_empty())
        .map(crate::base::secret::Secret::new)
}

/// A command for a child process (gpg, a pipe, the browser, the notify hook), without the
/// client secret in its environment. Every program mailtoken runs is started from here (a test
/// below holds the source to that), so no new child can forget it.
pub(crate) fn command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command.env_remove(CLIENT_SECRET_VARIABLE);
    command
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The source files under `dir`, recursively.
    fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn every_child_process_starts_without_the_client_secret() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let own = Path::new(file!()).file_name().unwrap();
        let starts: Vec<String> = files
            .iter()
            .filter(|path| path.file_name() != Some(own))
            .filter(|path| {
                let text = std::fs::read_to_string(path).unwrap();
                text.contains(&["Command", "::new("].concat())
            })
            .map(|path| path.display().to_string())
            .collect();
        assert!(
            starts.is_empty(),
            "start child processes with environment::command: {starts:?}"
        );
        let child = super::command("env").output().unwrap();
        assert!(child.status.success());
    }
}
