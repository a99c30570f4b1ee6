//! Running the real binary: a private HOME with XDG directories and an age identity, the binary's
//! environment cleared down to that sandbox, what a run did, a run still going (for sign-ins that
//! wait on a browser or a paste), and a pseudo-terminal from script(1) for what only a person at
//! a terminal sees.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A private HOME with XDG directories and a default age identity, removed on drop.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub identity: age::x25519::Identity,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temporary directory");
        let sandbox = Sandbox {
            dir,
            identity: age::x25519::Identity::generate(),
        };
        use age::secrecy::ExposeSecret;
        // As age-keygen and mailtoken write it, with the public key in a comment.
        write_private(
            &sandbox.identity_path(),
            format!(
                "# created: test\n# public key: {}\n{}\n",
                sandbox.identity.to_public(),
                sandbox.identity.to_string().expose_secret()
            ),
        );
        sandbox
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn data_home(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where a bare account name points: `$XDG_DATA_HOME/mailtoken`.
    pub fn accounts_dir(&self) -> PathBuf {
        self.data_home().join("mailtoken")
    }

    pub fn identity_path(&self) -> PathBuf {
        self.config_home().join("mailtoken/age-identity.txt")
    }

    /// A path inside the sandbox (also the binary's working directory).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The file `name` in the sandbox, or "" when there is none.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// The binary, with nothing from the outer environment that could change its behaviour.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailtoken"));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.config_home())
            .env("XDG_DATA_HOME", self.data_home())
            .env("GNUPGHOME", self.dir.path().join("gnupg"))
            .env("MAILTOKEN_HTTP_TIMEOUT", "5")
            // The provider from the address asks DNS for MX records: never the machine's
            // resolver from a test. A loopback port nothing answers on (a test's FakeDns replaces
            // it), with a short deadline.
            .env("MAILTOKEN_TEST_NAMESERVER", "127.0.0.1:9")
            // The mail autoconfiguration is fetched from here instead of the domain's hosts: a
            // port nothing answers on, unless a test serves documents (debug builds only).
            .env("MAILTOKEN_TEST_AUTOCONFIG", "http://127.0.0.1:9")
            .env("MAILTOKEN_DNS_TIMEOUT", "1")
            // A login found ended with a notify hook installed starts a sign-in in the
            // background, which waits for a browser no test of that kind opens: it ends soon
            // (debug builds only), rather than outlive the test by 15 minutes.
            .env("MAILTOKEN_TEST_SIGN_IN_WAIT", "3")
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        command
    }

    /// Runs the binary with `args` and collects everything.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Run {
        self.run_with(args, &[])
    }

    /// Runs the binary with `args` and these variables added to its environment.
    pub fn run_with<S: AsRef<OsStr>>(&self, args: &[S], env: &[(&str, &str)]) -> Run {
        let mut command = self.command();
        command.args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        Run::of(&mut command)
    }

    /// `program` (a shell, script(1)) in the binary's environment and working directory, with
    /// `$MAILTOKEN` naming the binary, for commands that start mailtoken themselves.
    pub fn outer(&self, program: &str) -> Command {
        let command = self.command();
        let mut outer = Command::new(program);
        outer.env_clear();
        for (key, value) in command.get_envs() {
            if let Some(value) = value {
                outer.env(key, value);
            }
        }
        outer
            .env("MAILTOKEN", command.get_program())
            .current_dir(command.get_current_dir().unwrap())
            .stdin(Stdio::null());
        outer
    }

    /// `sh -c SCRIPT` under script(1), so that it has a pseudo-terminal, in the binary's
    /// environment; `$MAILTOKEN` is the binary. Stdout is what the terminal showed.
    pub fn terminal(&self, script: &str) -> Command {
        let mut command = self.outer("script");
        command.args([
            "-qfec",
            &format!("sh -c '{}'", script.replace('\'', "'\\''")),
            "/dev/null",
        ]);
        command
    }
}

/// Runs `terminal` (a `Sandbox::terminal` command) to its end with its stdin a pipe held open all
/// along. `script` passes the end of its own input on to the terminal as an end-of-file
/// character, which a prompt reading the terminal would take for the user's Ctrl-D: with stdin
/// closed from the start (as `Command::output` leaves it), a prompt that comes early enough
/// reads that and ends.
pub fn run_in_terminal(mut terminal: Command) -> std::process::Output {
    use std::process::Stdio;
    let mut child = terminal
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    let held_open = child.stdin.take();
    let output = child.wait_with_output().expect("script runs");
    drop(held_open);
    output
}

/// A script for `Sandbox::terminal` (run by `run_in_terminal`): saves the terminal's settings in `before`, starts `command`
/// in the background there, waits (up to 10 s) until the terminal's settings differ from
/// `before` (a prompt has changed them: echo off, or canonical mode off), saves them in
/// `during`, sends `signal`, and saves the exit status in `status` and the settings in `after`.
/// `during` equal to `before` means the signal came before any change: the restore was not
/// tested.
pub fn signal_once_the_terminal_changed(command: &str, signal: &str) -> String {
    format!(
        "stty -g > before; {command} & pid=$!; i=0; \
         while [ \"$(stty -g)\" = \"$(cat before)\" ] && [ $i -lt 200 ]; do \
         sleep 0.05; i=$((i + 1)); done; \
         stty -g > during; kill -{signal} $pid; wait $pid; echo $? > status; stty -g > after"
    )
}

/// Writes `contents` to `path` (making its directory) with mode 0600, as a token file is.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
    set_mode(path, 0o600);
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A file's bytes before a run, to check that the run left it byte for byte as it was: what
/// mailtoken promises for every failure.
pub struct Snapshot {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Snapshot {
    pub fn of(path: &Path) -> Snapshot {
        let bytes = std::fs::read(path).unwrap();
        Snapshot {
            path: path.to_path_buf(),
            bytes,
        }
    }

    /// The file is as it was.
    #[track_caller]
    pub fn unchanged(&self) {
        let now = std::fs::read(&self.path).unwrap();
        assert!(now == self.bytes, "{} changed", self.path.display());
    }
}

/// Strings for `args`.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// Whether `tool` is installed; when it is not, the test skips or fails as `unavailable` says
/// (outside CI a skip with a message, so that nobody mistakes a skip for a pass; in CI, where
/// `.ci/run` installs them all, a failure unless `.ci/allowed-skips` lists `tool NAME`).
pub fn require(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        super::unavailable(&format!("tool {tool}"), &format!("{tool} is not installed"));
    }
    found
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

// The checks every test makes of a run, each showing stderr when it fails: that is where the
// binary says why.
impl Run {
    /// Runs `command` (the binary, set up by the caller) to the end.
    pub fn of(command: &mut Command) -> Run {
        Run::from(command.output().expect("mailtoken runs"))
    }

    /// The exit status and the whole of stdout.
    #[track_caller]
    pub fn expect(&self, code: i32, stdout: &str) {
        self.expect_because(code, stdout, "stderr");
    }

    /// The same, saying `why` they were expected when they differ.
    #[track_caller]
    pub fn expect_because(&self, code: i32, stdout: &str, why: &str) {
        let outcome = (self.code, self.stdout.as_str());
        assert_eq!(outcome, (code, stdout), "{why}: {}", self.stderr);
    }

    /// The exit status, stdout and stderr, each whole.
    #[track_caller]
    pub fn expect_exactly(&self, code: i32, stdout: &str, stderr: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str(), self.stderr.as_str()),
            (code, stdout, stderr)
        );
    }

    /// The exit status.
    #[track_caller]
    pub fn expect_code(&self, code: i32) {
        assert_eq!(self.code, code, "{}", self.stderr);
    }

    /// Stderr says `words`.
    #[track_caller]
    pub fn says(&self, words: &str) {
        shows("stderr", &self.stderr, words, true);
    }

    /// Stderr never says `words`.
    #[track_caller]
    pub fn never_says(&self, words: &str) {
        shows("stderr", &self.stderr, words, false);
    }

    /// Stdout shows `words`.
    #[track_caller]
    pub fn prints(&self, words: &str) {
        shows("stdout", &self.stdout, words, true);
    }

    /// Stdout never shows `words`.
    #[track_caller]
    pub fn never_prints(&self, words: &str) {
        shows("stdout", &self.stdout, words, false);
    }

    /// Nothing on stderr reads like a crash.
    #[track_caller]
    pub fn no_panic(&self) {
        self.never_says("panicked");
        self.never_says("RUST_BACKTRACE");
    }

    /// Stderr is one of the binary's own error messages, not a crash.
    #[track_caller]
    pub fn errors_cleanly(&self) {
        let start = "mailtoken: error: ";
        assert!(
            self.stderr.starts_with(start),
            "{start:?} does not start:\n{}",
            self.stderr
        );
        self.no_panic();
    }
}

/// Whether `text` (the run's `stream`) contains `words`, as `expected`.
#[track_caller]
fn shows(stream: &str, text: &str, words: &str, expected: bool) {
    let missing = if expected { "missing from" } else { "on" };
    assert_eq!(
        text.contains(words),
        expected,
        "{words:?} {missing} {stream}:\n{text}"
    );
}

/// A running `mailtoken`, its stderr read line by line as it comes.
pub struct Running {
    pub child: std::process::Child,
    stderr_lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Starts the binary with `args` and stdin piped; `browser` is `$BROWSER` when given.
    pub fn start(sandbox: &Sandbox, args: &[String], browser: Option<&Path>) -> Running {
        let browser: Vec<(&str, &str)> = browser
            .map(|browser| vec![("BROWSER", browser.to_str().unwrap())])
            .unwrap_or_default();
        Running::start_with(sandbox, args, &browser)
    }

    /// Starts the binary with `args`, stdin piped, and these variables added.
    pub fn start_with(sandbox: &Sandbox, args: &[String], env: &[(&str, &str)]) -> Running {
        let mut command = sandbox.command();
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("mailtoken starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, stderr_lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            stderr_lines,
            seen: Vec::new(),
        }
    }

    /// Waits (up to ten seconds) for a stderr line containing `needle` and returns it.
    pub fn wait_for_stderr(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let give_up = Instant::now() + Duration::from_secs(10);
        loop {
            let remaining = give_up.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(remaining) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no stderr line with {needle:?}; saw {:?}", self.seen),
            }
        }
    }

    /// Writes `text` to the program's stdin and closes it.
    pub fn type_in(&mut self, text: &str) {
        use std::io::Write;
        let mut stdin = self.child.stdin.take().expect("stdin is open");
        stdin.write_all(text.as_bytes()).unwrap();
    }

    /// Waits for the program to end (it always does: every flow has a deadline).
    pub fn finish(mut self) -> Run {
        drop(self.child.stdin.take());
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        let mut stderr = self.seen.join("\n");
        while let Ok(line) = self.stderr_lines.recv_timeout(Duration::from_secs(5)) {
            stderr.push('\n');
            stderr.push_str(&line);
        }
        Run {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr,
        }
    }
}

/// Polls `done` every 20 ms for up to ten seconds; whether it came true.
pub fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let give_up = Instant::now() + Duration::from_secs(10);
    while Instant::now() < give_up {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}
