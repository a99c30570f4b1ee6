//! Ending a filter that ran past its deadline, with everything it started.
//!
//! A wrapper (`sh -c 'gpg ...'`, `pass`) passes its pipes on to its own children, so killing the
//! filter alone ends nothing: the child keeps the output open, and whoever reads it waits for
//! the child. So a filter runs in a process group of its own, and the whole group is killed at
//! the deadline.
//!
//! Except when mailtoken runs in the foreground of a terminal: a process group of its own would
//! be a background group there, and a filter asking for a passphrase on `/dev/tty` (`age -d -i`
//! with a protected identity) would be stopped by SIGTTIN instead of asking. There the filter
//! stays in the terminal's foreground group, and at the deadline its descendants are found
//! through `/proc` (Linux), frozen so that none can start another, and killed. Elsewhere only
//! the filter itself can be found; the caller stops waiting for the output either way.

use std::collections::{BTreeSet, HashMap};
use std::process::{Child, Command};

use rustix::process::{Pid, Signal};

/// How a filter is run, decided before it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Grouping {
    /// In a process group of its own, killed as one.
    OwnGroup,
    /// In the terminal's foreground group, killed with its descendants one by one.
    Foreground,
}

impl Grouping {
    /// `Foreground` when this process is in the foreground of its controlling terminal.
    pub(super) fn for_here() -> Grouping {
        let foreground = std::fs::File::open("/dev/tty")
            .ok()
            .and_then(|tty| rustix::termios::tcgetpgrp(&tty).ok())
            .is_some_and(|group| group == rustix::process::getpgrp());
        if foreground {
            Grouping::Foreground
        } else {
            Grouping::OwnGroup
        }
    }

    /// Sets up `command` for this grouping.
    pub(super) fn apply(self, command: &mut Command) {
        use std::os::unix::process::CommandExt;
        if self == Grouping::OwnGroup {
            command.process_group(0);
        }
    }

    /// Kills `child` and everything it started that can be found.
    pub(super) fn kill(self, child: &mut Child) {
        let pid = Pid::from_child(child);
        match self {
            Grouping::OwnGroup => {
                let _ = rustix::process::kill_process_group(pid, Signal::KILL);
            }
            Grouping::Foreground => {
                let family = freeze_descendants(pid);
                for member in family {
                    let _ = rustix::process::kill_process(member, Signal::KILL);
                }
            }
        }
        let _ = child.kill();
    }
}

/// Stops `root` and its descendants, repeating until no new one appears (a process may fork
/// between two looks), and returns them all, the root first.
fn freeze_descendants(root: Pid) -> Vec<Pid> {
    let mut family = vec![root];
    let mut known = BTreeSet::from([root.as_raw_nonzero().get()]);
    let _ = rustix::process::kill_process(root, Signal::STOP);
    for _ in 0..16 {
        let children = children_by_parent();
        let mut grew = false;
        let mut index = 0;
        while index < family.len() {
            let parent = family[index].as_raw_nonzero().get();
            for &child in children.get(&parent).into_iter().flatten() {
                if known.insert(child)
                    && let Some(pid) = Pid::from_raw(child)
                {
                    let _ = rustix::process::kill_process(pid, Signal::STOP);
                    family.push(pid);
                    grew = true;
                }
            }
            index += 1;
        }
        if !grew {
            break;
        }
    }
    family
}

/// Every process's children, from `/proc/PID/stat`; empty where there is no `/proc`.
fn children_by_parent() -> HashMap<i32, Vec<i32>> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return children;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(parent) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| parent_in_stat(&stat))
        {
            children.entry(parent).or_default().push(pid);
        }
    }
    children
}

/// The parent pid in a `/proc/PID/stat` line: the second field after the command name, which
/// is in parentheses and may itself hold spaces and parentheses (proc(5)).
fn parent_in_stat(stat: &str) -> Option<i32> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_read_whatever_the_command_is_called() {
        assert_eq!(parent_in_stat("42 (sh) S 7 42 42 0"), Some(7));
        assert_eq!(parent_in_stat("43 (a) b) (c) R 9 1 1"), Some(9));
        assert_eq!(parent_in_stat("garbage"), None);
    }

    #[test]
    fn a_filter_and_its_children_are_ended_both_ways() {
        // Without /proc every child would read as gone.
        if !std::path::Path::new("/proc/self/stat").exists() {
            crate::ci_skips::unavailable("feature proc", "no /proc on this machine");
            return;
        }
        for grouping in [Grouping::OwnGroup, Grouping::Foreground] {
            let mut command = crate::base::environment::command("sh");
            command.args(["-c", "sleep 30 & echo $!; wait"]);
            command.stdout(std::process::Stdio::piped());
            grouping.apply(&mut command);
            let mut child = command.spawn().unwrap();
            let mut line = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
                &mut line,
            )
            .unwrap();
            let sleeper: i32 = line.trim().parse().unwrap();
            grouping.kill(&mut child);
            child.wait().unwrap();
            let gone = (0..100).any(|_| {
                let state = std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                    .map(|stat| stat[stat.rfind(')').unwrap() + 2..].starts_with('Z'));
                std::thread::sleep(std::time::Duration::from_millis(20));
                state.unwrap_or(true)
            });
            assert!(gone, "{grouping:?}: the sleeping child lives on");
        }
    }
}
