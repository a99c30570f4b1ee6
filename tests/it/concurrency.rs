//! Many processes at once on an expired token: one request, one rotation, identical tokens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration as StdDuration;

use crate::support::{FakeServer, Reply, Sandbox, test_registration, token_file};
use chrono::{Duration, Utc};
use mailtoken::secret::Secret;

const PROCESSES: usize = 20;

#[test]
fn twenty_processes_on_an_expired_token_make_exactly_one_request() {
    let sandbox = Arc::new(Sandbox::new());
    let counter = Arc::new(AtomicUsize::new(0));
    let server = {
        let counter = Arc::clone(&counter);
        // Rotation with reuse detection, as strict providers do: only the current refresh token
        // works, and a reused one would be answered with invalid_grant.
        FakeServer::start(move |request| {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            if request.form.get("refresh_token").map(String::as_str)
                != Some(&format!("refresh-{n}"))
            {
                return Reply::json(
                    400,
                    serde_json::json!({"error": "invalid_grant", "error_description": "reused"}),
                );
            }
            // Slow enough that every process arrives while the first is still refreshing.
            Reply::token(
                &format!("access-{n}"),
                Some(&format!("refresh-{}", n + 1)),
                3600,
            )
            .delayed(StdDuration::from_millis(500))
        })
    };
    let path = sandbox.path("account");
    sandbox.write_token(
        &path,
        &token_file(
            test_registration(&server.token_endpoint()),
            sandbox.age_spec(),
            Utc::now() - Duration::minutes(1),
        ),
    );

    let barrier = Arc::new(Barrier::new(PROCESSES));
    let runs: Vec<crate::support::Run> = (0..PROCESSES)
        .map(|_| {
            let sandbox = Arc::clone(&sandbox);
            let barrier = Arc::clone(&barrier);
            let path = path.clone();
            std::thread::spawn(move || {
                let mut command = sandbox.command();
                command.arg(&path);
                barrier.wait();
                crate::support::Run::from(command.output().unwrap())
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .collect();

    assert_eq!(
        server.requests().len(),
        1,
        "exactly one request to the token endpoint"
    );
    for run in &runs {
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (0, "access-1\n"),
            "{}",
            run.stderr
        );
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
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-2\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_process_killed_mid_refresh_leaves_the_old_file_and_no_stuck_lock() {
    let sandbox = Sandbox::new();
    let slow = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let server = {
        let slow = Arc::clone(&slow);
        FakeServer::start(move |_| {
            let reply = Reply::token("after-crash", None, 3600);
            if slow.load(Ordering::SeqCst) {
                reply.delayed(StdDuration::from_secs(3))
            } else {
                reply
            }
        })
    };
    let path = sandbox.path("account");
    sandbox.write_token(
        &path,
        &token_file(
            test_registration(&server.token_endpoint()),
            sandbox.age_spec(),
            Utc::now() - Duration::minutes(1),
        ),
    );
    let before = std::fs::read(&path).unwrap();

    let mut child = sandbox.command().arg(&path).spawn().unwrap();
    // Wait until the refresh request is in flight, i.e. the lock is held, then kill -9.
    let deadline = std::time::Instant::now() + StdDuration::from_secs(10);
    while server.requests().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh request never arrived"
        );
        std::thread::sleep(StdDuration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the old file is intact"
    );
    slow.store(false, Ordering::SeqCst);
    let run = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "after-crash\n"),
        "the lock died with the process: {}",
        run.stderr
    );
}
