//! The checked-in completions, run by the real shells: TOKENFILE completes the account names in
//! `$XDG_DATA_HOME/mailtoken` (and never a lock file or a helper copy) and the paths of the
//! accounts signed in elsewhere, `--provider` the presets,
//! and every enumerated flag its possible values. bash is driven through its `complete -F`
//! function, zsh through a pseudo-terminal (`zsh/zpty`) pressing Tab, fish through `complete -C`.
//!
//! A shell that is not installed skips the test with a message, except in CI (`CI` set), where
//! `.ci/run` installs bash, zsh and fish and a missing one is a failure (`support::ci`).

use std::path::PathBuf;
use std::process::Command;

use clap::CommandFactory;
use mailtoken::testing::cli::Cli;

use crate::support::{Sandbox, each_case, repository, require, strings};

/// A sandbox with two accounts beside the files that are not accounts, and an empty working
/// directory, so that file-name completion adds nothing of its own.
struct Fixture {
    sandbox: Sandbox,
}

impl Fixture {
    fn new() -> Fixture {
        let sandbox = Sandbox::new();
        let accounts = sandbox.accounts_dir();
        std::fs::create_dir_all(&accounts).unwrap();
        for name in [
            "work",
            "gmail",
            "work.lock",
            "gmail.lock",
            "work.state",
            ".work.1234.5678.tmp",
            "work.unreadable-20261129T050000",
            "gmail.recovery",
            "work.tmp3",
        ] {
            std::fs::write(accounts.join(name), "x").unwrap();
        }
        std::fs::create_dir(accounts.join("a-directory")).unwrap();
        // An account signed in at a path, as `known_accounts` remembers it.
        std::fs::write(accounts.join(".elsewhere"), format!("{ELSEWHERE}\n")).unwrap();
        std::fs::create_dir_all(sandbox.path("cwd")).unwrap();
        std::fs::create_dir_all(sandbox.home()).unwrap();
        Fixture { sandbox }
    }

    fn command(&self, program: &str) -> Command {
        let mut command = self.sandbox.outer(program);
        command
            .current_dir(self.sandbox.path("cwd"))
            .env("TERM", "dumb");
        command
    }

    fn script(&self, name: &str, text: &str) -> PathBuf {
        let path = self.sandbox.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    /// What `shell` offers when Tab is pressed at the end of `line`, sorted and without duplicates.
    fn complete(&self, shell: &str, line: &str) -> Vec<String> {
        let output = match shell {
            "bash" => self
                .command("bash")
                .arg("--norc")
                .arg(self.script("complete.bash", BASH_DRIVER))
                .arg(repository("completions/mailtoken.bash"))
                .arg(line)
                .output(),
            "zsh" => self
                .command("zsh")
                .arg("-f")
                .arg(self.script("complete.zsh", ZSH_DRIVER))
                .arg(repository("completions"))
                .arg(line)
                .arg(self.sandbox.path("zsh.out"))
                .output(),
            "fish" => self
                .command("fish")
                .arg("--no-config")
                .arg("-c")
                .arg("source $argv[1]; complete -C $argv[2]")
                .arg(repository("completions/mailtoken.fish"))
                .arg(line)
                .output(),
            _ => unreachable!(),
        }
        .unwrap();
        assert!(
            output.status.success(),
            "{shell} completing {line:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut words: Vec<String> = String::from_utf8_lossy(&output.stdout)
            .lines()
            // fish prints "word<TAB>description".
            .map(|line| line.split('\t').next().unwrap_or("").trim().to_string())
            .filter(|word| !word.is_empty())
            .collect();
        words.sort();
        words.dedup();
        words
    }
}

/// Completes like bash does for `complete -F`: sets COMP_WORDS and friends from the line and calls
/// the function registered for mailtoken with the command, the current and the previous word.
const BASH_DRIVER: &str = r#"
source "$1"
line=$2
read -ra words <<<"$line"
if [[ $line == *' ' ]]; then words+=(""); fi
COMP_WORDS=("${words[@]}")
COMP_CWORD=$((${#words[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
function=$(complete -p mailtoken | sed -E 's/.*-F ([^ ]+).*/\1/')
"$function" mailtoken "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;

/// Types the line into an interactive zsh on a pseudo-terminal and presses Tab. Every match the
/// completion system adds is also written to a file, then the shell exits.
const ZSH_DRIVER: &str = r#"
zmodload zsh/zpty || exit 2
fpath_dir=$1 line=$2 out=$3
: >"$out"
zpty z zsh -f -i
zpty -w z "PS1=''; PROMPT=''; RPROMPT=''; unsetopt zle_bracketed_paste 2>/dev/null"
zpty -w z "fpath=(${(q)fpath_dir} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd() { local -a __hits; builtin compadd -A __hits \"\$@\"; print -rl -- \$__hits >>${(q)out}; builtin compadd \"\$@\"; }"
zpty -w z "__done() { print -r -- '<done>' >>${(q)out}; }; comppostfuncs=(__done)"
zpty -w z "bindkey '^I' complete-word"
zpty -n -w z "$line"$'\t'
local i
for ((i = 0; i < 100; i++)); do
    grep -q '^<done>$' "$out" && break
    zpty -r -t z _ 2>/dev/null
    sleep 0.05
done
zpty -d z
grep -q '^<done>$' "$out" || { echo "zsh did not finish completing" >&2; exit 1; }
grep -v '^<done>$' "$out"
"#;

/// The path of the account signed in outside the accounts directory (it need not exist).
const ELSEWHERE: &str = "/nonexistent-mailtoken/mail/tok";

/// What each line completes to beyond the enumerated values, and what that shows.
fn expected_completions() -> Vec<(&'static str, Vec<String>, &'static str)> {
    let accounts = strings(&[ELSEWHERE, "gmail", "work"]);
    let presets = mailtoken::testing::provider::PRESET_NAMES
        .iter()
        .map(|s| s.to_string());
    vec![
        (
            "mailtoken ",
            accounts.clone(),
            "account names for TOKENFILE",
        ),
        (
            "mailtoken w",
            strings(&["work"]),
            "account names with a prefix",
        ),
        (
            "mailtoken --format msasl ",
            accounts,
            "account names after an option's value",
        ),
        (
            "mailtoken /nonexistent-m",
            strings(&[ELSEWHERE]),
            "an account signed in elsewhere, by its path",
        ),
        (
            "mailtoken --provider ",
            sorted(presets),
            "--provider presets",
        ),
    ]
}

fn check_shell(shell: &str) {
    if !require(shell) {
        return;
    }
    let fixture = Fixture::new();
    for (line, expected, what) in expected_completions() {
        assert_eq!(fixture.complete(shell, line), expected, "{shell}: {what}");
    }
    for argument in Cli::command().get_arguments() {
        let values: Vec<String> = argument
            .get_possible_values()
            .iter()
            .filter(|value| !value.is_hide_set())
            .map(|value| value.get_name().to_string())
            .collect();
        let Some(long) = argument.get_long() else {
            continue;
        };
        if values.is_empty() || !argument.get_action().takes_values() {
            continue;
        }
        assert_eq!(
            fixture.complete(shell, &format!("mailtoken --{long} ")),
            sorted(values),
            "{shell}: the values of --{long}"
        );
    }
}

fn sorted(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut values: Vec<String> = values.into_iter().collect();
    values.sort();
    values
}

#[test]
fn each_shell_completes_accounts_presets_and_values() {
    each_case(
        ["bash", "zsh", "fish"].map(|shell| (shell, shell)),
        check_shell,
    );
}

/// Account names as anyone may make them: a file in the accounts directory, or a path in its
/// `.elsewhere` registry, whose name is shell code. Issue #30, item 5: bash's `compgen -W "$(...)"`
/// expanded each name as it completed, so pressing Tab ran the code.
const HOSTILE: &[&str] = &[
    "x$(touch PWNED-dollar)",
    "x`touch PWNED-backtick`",
    "x${IFS}$(touch${IFS}PWNED-ifs)",
    "x;touch PWNED-semicolon",
    "x'$(touch PWNED-quoted)'",
];

#[test]
fn hostile_account_names_are_offered_as_they_are_and_never_run() {
    each_case(
        ["bash", "zsh", "fish"].map(|shell| (shell, shell)),
        |shell| {
            if !require(shell) {
                return;
            }
            let fixture = Fixture::new();
            let accounts = fixture.sandbox.accounts_dir();
            for name in HOSTILE {
                std::fs::write(accounts.join(name), "x").unwrap();
            }
            let elsewhere: String = HOSTILE
                .iter()
                .map(|name| format!("/nonexistent-mailtoken/{name}\n"))
                .collect();
            std::fs::write(accounts.join(".elsewhere"), elsewhere).unwrap();
            for line in [
                "mailtoken ",
                "mailtoken x",
                "mailtoken /nonexistent-mailtoken/x",
            ] {
                let offered = fixture.complete(shell, line);
                // The names were read: a completion that offered nothing would prove nothing.
                assert!(
                    offered.iter().any(|word| word.contains("touch")),
                    "{shell} {line:?}: no hostile name offered: {offered:?}"
                );
            }
            // Every place a command might have run in: the working directory, home, the sandbox.
            for dir in [
                fixture.sandbox.path("cwd"),
                fixture.sandbox.home(),
                fixture.sandbox.path(""),
                accounts,
            ] {
                for entry in std::fs::read_dir(&dir).unwrap() {
                    let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                    assert!(
                        !name.starts_with("PWNED"),
                        "{shell}: completing ran a name's code ({name} in {})",
                        dir.display()
                    );
                }
            }
        },
    );
}
