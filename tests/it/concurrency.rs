//! Many processes at once on an expired token: one request, one rotation, identical tokens, with
//! all of them shown waiting on the lock at once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use crate::support::{
    FakeServer, Reply, Run, Sandbox, Snapshot, eventually, minutes_from_now, unavailable,
};
use mailtoken::testing::secret::Secret;

const PROCESSES: usize = 20;

/// How many processes have `lock` open (/proc/PID/fd). mailtoken opens an account's lock file
/// before it tries to take the lock and keeps it open until it has its result: while one
/// process holds the lock, the others that have the file open are waiting on it.
fn with_lock_open(lock: &Path) -> usize {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return 0;
    };
    processes
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|entry| {
            // Another user's process, or one that has just ended: not ours to count.
            std::fs::read_dir(entry.path().join("fd")).is_ok_and(|fds| {
                fds.filter_map(Result::ok)
                    .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == lock))
            })
        })
        .count()
}

#[test]
fn twenty_processes_on_an_expired_token_make_exactly_one_request() {
    // The overlap this test relies on is seen in /proc; without it the test would show nothing.
    if !Path::new("/proc/self/fd").exists() {
        unavailable(
            "feature proc",
            "no /proc to see the processes waiting on the lock",
        );
        return;
    }
    let sandbox = Arc::new(Sandbox::new());
    let counter = Arc::new(AtomicUsize::new(0));
    let waiting_at_once = Arc::new(AtomicUsize::new(0));
    let lock: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
    let server = {
        let counter = Arc::clone(&counter);
        let waiting_at_once = Arc::clone(&waiting_at_once);
        let lock = Arc::clone(&lock);
        // Rotation with reuse detection, as strict providers do: only the current refresh token
        // works, and a reused one would be answered with invalid_grant.
        FakeServer::start(move |request| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            if request.form.get("refresh_token").map(String::as_str)
                != Some(&format!("refresh-{n}"))
            {
                return Reply::oauth_error(400, "invalid_grant", "reused");
            }
            let reply = Reply::token(
                &format!("access-{n}"),
                Some(&format!("refresh-{}", n + 1)),
                3600,
            );
            // The first answer waits until every other process is waiting on the lock the
            // asking one holds (or 20 s, within the runs' HTTP timeout): the overlap is then not
            // a matter of timing, and it is recorded.
            if n == 1 {
                let lock = lock.lock().unwrap().clone().expect("the lock's path");
                let lock = std::fs::canonicalize(&lock).unwrap_or(lock);
                let deadline = Instant::now() + Duration::from_secs(20);
                loop {
                    let others = with_lock_open(&lock).saturating_sub(1);
                    waiting_at_once.fetch_max(others, Ordering::SeqCst);
                    if others >= PROCESSES - 1 || Instant::now() > deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            reply
        })
    };
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    *lock.lock().unwrap() = Some(mailtoken::testing::paths::lock_path(&path));

    let barrier = Arc::new(Barrier::new(PROCESSES));
    let runs: Vec<Run> = (0..PROCESSES)
        .map(|_| {
            let sandbox = Arc::clone(&sandbox);
            let barrier = Arc::clone(&barrier);
            let path = path.clone();
            std::thread::spawn(move || {
                let mut command = sandbox.command();
                command.arg(&path).env("MAILTOKEN_HTTP_TIMEOUT", "30");
                barrier.wait();
                Run::of(&mut command)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();

    assert_eq!(
        waiting_at_once.load(Ordering::SeqCst),
        PROCESSES - 1,
        "processes waiting on the lock at once while the one request was answered"
    );
    assert_eq!(
        server.requests().len(),
        1,
        "exactly one request to the token endpoint"
    );
    for run in &runs {
        run.expect(0, "access-1\n");
    }
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.access_token, Secret::new("access-1"));
    assert_eq!(stored.refresh_token, Some(Secret::new("refresh-2")));
    let leftovers: Vec<_> = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );

    // The login survived: the next refresh uses the rotated token and is accepted.
    let run = sandbox.run(&["--force-refresh", path.to_str().unwrap()]);
    run.expect(0, "access-2\n");
}

#[test]
fn a_process_killed_mid_refresh_leaves_the_old_file_and_no_stuck_lock() {
    let sandbox = Sandbox::new();
    let slow = Arc::new(AtomicBool::new(true));
    let server = {
        let slow = Arc::clone(&slow);
        FakeServer::start(move |_| {
            let reply = Reply::token("after-crash", None, 3600);
            if slow.load(Ordering::SeqCst) {
                reply.delayed(Duration::from_secs(3))
            } else {
                reply
            }
        })
    };
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    let before = Snapshot::of(&path);

    let mut child = sandbox.command().arg(&path).spawn().unwrap();
    // Wait until the refresh request is in flight, i.e. the lock is held, then kill -9.
    assert!(
        eventually(|| !server.requests().is_empty()),
        "the refresh request never arrived"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // The old file is intact.
    before.unchanged();
    slow.store(false, Ordering::SeqCst);
    let run = sandbox.run(&[&path]);
    run.expect_because(0, "after-crash\n", "the lock died with the process");
}
