//! What the standard library's start-up did and the binary does itself on Linux with glibc
//! (`src/base/process_start.rs`): a run started with its standard descriptors closed prints into
//! no file it opens, and a reader gone away ends no refresh midway.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use mailtoken::testing::secret::Secret;

use crate::support::*;

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
            {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_refresh_started_with_a_standard_descriptor_closed_writes_into_no_file_it_opens() {
    // The lock file, the room for the write and the token file are opened while messages are
    // written and the token printed: a closed descriptor's number would go to the first of them.
    for closed in ["<&-", ">&-", "2>&-", "<&- >&- 2>&-"] {
        let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
        let sandbox = Sandbox::new();
        let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
        let status = sandbox
            .outer("sh")
            .args([
                "-c",
                &format!("exec \"$MAILTOKEN\" --verbose \"$1\" {closed}"),
                "sh",
            ])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("sh runs");
        assert_eq!(status.code(), Some(0), "{closed}");
        assert_eq!(server.requests().len(), 1, "{closed}: the refresh ran");
        assert_eq!(
            sandbox.read_token(&path).access_token,
            Secret::new("new-access"),
            "{closed}"
        );
        for written in ["new-access", "mailtoken:"] {
            assert_eq!(
                files_holding(sandbox.dir.path(), written),
                Vec::<PathBuf>::new(),
                "{closed}: {written:?} went into a file"
            );
        }
    }
}

#[test]
fn a_mail_client_gone_away_ends_no_refresh_midway() {
    let server = FakeServer::answering(Reply::token("new-access", Some("refresh-2"), 3600));
    let sandbox = Sandbox::new();
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    // The reading end is closed before the run starts: printing raises SIGPIPE, which by default
    // ends the process (the test harness's children start with the default action).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = sandbox
        .command()
        .arg(&path)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("mailtoken runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "ended by {:?}; stderr: {}",
        std::os::unix::process::ExitStatusExt::signal(&output.status),
        String::from_utf8_lossy(&output.stderr)
    );
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.access_token, Secret::new("new-access"));
    assert_eq!(stored.refresh_token, Some(Secret::new("refresh-2")));
}
