//! Never lose a login: a refresh token is spent only when its result can be stored, a result that
//! could not be stored is kept and adopted later, a file no one could open never replaces one
//! that works, and the process keeps its secrets out of core files.

use crate::support::*;
use chrono::{Duration, Utc};
use mailtoken::encryption::{Crypto, EncryptionOptions, EncryptionSpec};
use mailtoken::tokenfile::TokenFile;

/// An account pointing at `server` whose access token expires at `expiry`.
fn account(sandbox: &Sandbox, server: &FakeServer, expiry: chrono::DateTime<Utc>) -> TokenFile {
    token_file(
        test_registration(&server.token_endpoint()),
        sandbox.age_spec(),
        expiry,
    )
}

/// The names of the temporary files left in `dir` (they start with a dot and end in `.tmp`).
fn temporaries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

/// `program` run in the sandbox's environment and working directory (with `$MAILTOKEN` naming the
/// binary), for commands that start mailtoken themselves: a shell, script(1).
fn in_sandbox(sandbox: &Sandbox, program: &str) -> std::process::Command {
    let command = sandbox.command();
    let mut outer = std::process::Command::new(program);
    outer.env_clear();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            outer.env(key, value);
        }
    }
    outer
        .env("MAILTOKEN", command.get_program())
        .current_dir(command.get_current_dir().unwrap())
        .stdin(std::process::Stdio::null());
    outer
}

/// Runs the binary under `ulimit -f BLOCKS` (512-byte blocks in dash, 1024 in bash): a disk that
/// takes no more than that, the file-size limit standing in for a full disk.
fn run_with_file_limit(sandbox: &Sandbox, blocks: u32, args: &[&str]) -> Run {
    let mut shell = in_sandbox(sandbox, "sh");
    shell
        .arg("-c")
        .arg(format!("ulimit -f {blocks} && exec \"$MAILTOKEN\" \"$@\""))
        .arg("sh")
        .args(args);
    Run::from(shell.output().unwrap())
}

#[test]
fn a_full_disk_is_found_before_the_refresh_token_is_spent() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", Some("refresh-2"), 3600));
    let path = sandbox.path("account");
    sandbox.write_token(
        &path,
        &account(&sandbox, &server, Utc::now() - Duration::minutes(1)),
    );
    let before = std::fs::read(&path).unwrap();

    let run = run_with_file_limit(&sandbox, 4, &[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (74, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("not refreshing")
            && run.stderr.contains("the refresh token was not used"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty(), "no refresh was sent");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(temporaries(sandbox.dir.path()), Vec::<String>::new());
}

#[test]
fn a_full_disk_with_a_token_still_valid_prints_it_and_warns() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", Some("refresh-2"), 3600));
    let path = sandbox.path("account");
    // Two minutes left of an hour: inside the refresh margin, not expired.
    sandbox.write_token(
        &path,
        &account(&sandbox, &server, Utc::now() + Duration::minutes(2)),
    );

    let run = run_with_file_limit(&sandbox, 4, &[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "cached-access-token\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("warning:"), "{}", run.stderr);
    assert!(server.requests().is_empty());
}

/// An encryption pipe that fails while `marker` exists, and counts its runs in `count`.
fn flaky_pipe(sandbox: &Sandbox, fail_on_run: Option<u32>) -> (String, std::path::PathBuf) {
    let script = sandbox.path("encrypt.sh");
    let marker = sandbox.path("pipe-broken");
    let count = sandbox.path("pipe-runs");
    let fail_on = fail_on_run.map_or(String::new(), |n| format!("[ \"$n\" -eq {n} ] && exit 1\n"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nn=$(($(cat '{count}' 2>/dev/null || echo 0) + 1))\necho $n > '{count}'\n\
             [ -e '{marker}' ] && exit 1\n{fail_on}exec cat\n",
            count = count.display(),
            marker = marker.display(),
        ),
    )
    .unwrap();
    set_mode(&script, 0o700);
    (script.to_string_lossy().into_owned(), marker)
}

fn pipe_account(
    sandbox: &Sandbox,
    server: &FakeServer,
    script: &str,
) -> (std::path::PathBuf, Vec<u8>) {
    let path = sandbox.path("account");
    let mut token = account(sandbox, server, Utc::now() - Duration::minutes(1));
    token.encryption = EncryptionSpec::Pipe {
        encrypt: script.to_string(),
    };
    sandbox.write_token(&path, &token);
    let before = std::fs::read(&path).unwrap();
    (path, before)
}

#[test]
fn a_failing_encryption_pipe_is_found_before_the_refresh_token_is_spent() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", Some("refresh-2"), 3600));
    let (script, marker) = flaky_pipe(&sandbox, None);
    let (path, before) = pipe_account(&sandbox, &server, &script);
    let args = [
        path.to_str().unwrap(),
        "--decryption-pipe",
        "cat",
        "--encryption-pipe",
        &script,
    ];

    std::fs::write(&marker, "").unwrap();
    let run = sandbox.run(&args);
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(server.requests().is_empty(), "no refresh was sent");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // Once the pipe works again, the login is intact.
    std::fs::remove_file(&marker).unwrap();
    let run = sandbox.run(&args);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn tokens_that_could_not_be_stored_are_kept_and_adopted_by_the_next_call() {
    let sandbox = Sandbox::new();
    // The provider rotates refresh tokens: losing refresh-2 would end the login.
    let server = FakeServer::start(|_| Reply::token("access-2", Some("refresh-2"), 3600));
    // Run 1 writes the test's file, run 2 is the proof before the refresh, run 3 the real write.
    let (script, _) = flaky_pipe(&sandbox, Some(3));
    let (path, before) = pipe_account(&sandbox, &server, &script);
    let args = [
        path.to_str().unwrap(),
        "--decryption-pipe",
        "cat",
        "--encryption-pipe",
        &script,
    ];

    let run = sandbox.run(&args);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-2\n"),
        "the new token is printed: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("the next call that can write"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the file is as it was"
    );
    let recovery = sandbox.home().join(".local/state/mailtoken/recovery");
    assert_eq!(std::fs::read_dir(&recovery).unwrap().count(), 1);
    assert!(
        !std::fs::read(
            std::fs::read_dir(&recovery)
                .unwrap()
                .next()
                .unwrap()
                .unwrap()
                .path()
        )
        .unwrap()
        .windows(9)
        .any(|w| w == b"refresh-2"),
        "the kept tokens are encrypted"
    );

    // The next call adopts them: no second refresh, the file now holds refresh-2.
    let run = sandbox.run(&args);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-2\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        server.requests().len(),
        1,
        "the rotated token was never resent"
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored["refresh_token"], "refresh-2");
    assert_eq!(std::fs::read_dir(&recovery).unwrap().count(), 0);
}

#[test]
fn a_file_the_identity_could_not_open_never_replaces_a_working_one() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", Some("refresh-2"), 3600));
    let path = sandbox.path("account");
    // The file opens with the sandbox identity, but records another key's recipient: a refresh
    // would write a file that only that other key opens.
    let mut token = account(&sandbox, &server, Utc::now() - Duration::minutes(1));
    token.encryption = EncryptionSpec::Age {
        recipients: vec![age::x25519::Identity::generate().to_public().to_string()],
    };
    let ciphertext = Crypto::new(EncryptionOptions::default())
        .encrypt(&sandbox.age_spec(), &token.to_json())
        .unwrap();
    std::fs::write(&path, ciphertext).unwrap();
    set_mode(&path, 0o600);
    let before = std::fs::read(&path).unwrap();

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("would not be readable"),
        "{}",
        run.stderr
    );
    assert!(server.requests().is_empty(), "no refresh was sent");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn no_core_file_can_hold_the_secrets() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    // A sign-in waiting for its paste: the process is alive, with a client secret in memory.
    let args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
        "--provider",
        "google",
        "--email",
        "you@example.com",
        "--client-id",
        "id",
        "--client-secret",
        "s3cret",
    ]);
    let mut running = Running::start(&sandbox, &args, None);
    running.wait_for_stderr("paste it here");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", running.child.id())).unwrap();
    let core = limits
        .lines()
        .find(|line| line.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>()[4..6],
        ["0", "0"],
        "{core}"
    );
    running.type_in("\n");
    running.finish();
}

#[test]
fn an_exported_client_secret_is_not_sent_on_refreshes() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    let mut token = account(&sandbox, &server, Utc::now() - Duration::minutes(1));
    token.client_secret = None; // a public client
    sandbox.write_token(&path, &token);

    let run = Run::from(
        sandbox
            .command()
            .arg(&path)
            .env("MAILTOKEN_CLIENT_SECRET", "meant-for-another-account")
            .output()
            .unwrap(),
    );

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );
    let form = &server.requests()[0].form;
    assert!(!form.contains_key("client_secret"), "{form:?}");
    assert_eq!(sandbox.read_token(&path).client_secret, None);
}

/// A script that records its environment in `record` and passes stdin through.
fn environment_recorder(sandbox: &Sandbox, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let script = sandbox.path(name);
    let record = sandbox.path(&format!("{name}.env"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\nenv >> '{}'\nexec cat\n", record.display()),
    )
    .unwrap();
    set_mode(&script, 0o700);
    (script, record)
}

#[test]
fn the_client_secret_reaches_no_child_process_and_can_come_from_stdin() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.client_secret = Some("s3cret".into()));
    let (pipe, pipe_env) = environment_recorder(&sandbox, "pipe");
    let path = sandbox.path("service");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "clientcredentials",
        "--email",
        "robot@example.com",
        "--client-id",
        "test-client",
        "--encryption-pipe",
        pipe.to_str().unwrap(),
        "--decryption-pipe",
        pipe.to_str().unwrap(),
    ]);
    args.extend(provider.endpoint_args());
    let mut command = sandbox.command();
    command
        .args(&args)
        .env("MAILTOKEN_CLIENT_SECRET", "s3cret")
        .env("UNRELATED", "kept");
    let run = Run::from(command.output().unwrap());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let seen = std::fs::read_to_string(&pipe_env).unwrap();
    assert!(seen.contains("UNRELATED=kept"), "{seen}");
    assert!(!seen.contains("s3cret"), "the pipe saw the secret");

    // The same sign-in with the secret on stdin.
    std::fs::remove_file(&path).unwrap();
    args.extend(strings(&["--client-secret-file", "-"]));
    let mut running = Running::start(&sandbox, &args, None);
    running.type_in("s3cret\n");
    let run = running.finish();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        provider.requests_to("/token").last().unwrap().form["client_secret"],
        "s3cret"
    );
}

#[test]
fn the_browser_does_not_inherit_the_client_secret() {
    let sandbox = Sandbox::new();
    let (browser, browser_env) = environment_recorder(&sandbox, "browser");
    let path = sandbox.path("account");
    let mut command = sandbox.command();
    command
        .args([
            path.to_str().unwrap(),
            "--authorize",
            "--authflow",
            "localhostauthcode",
            "--provider",
            "google",
            "--email",
            "you@example.com",
            "--client-id",
            "id",
            "--auth-timeout",
            "2",
        ])
        .env("BROWSER", &browser)
        .env("MAILTOKEN_CLIENT_SECRET", "s3cret");
    let run = Run::from(command.output().unwrap());
    assert_eq!(run.code, 75, "{}", run.stderr);
    let seen = std::fs::read_to_string(&browser_env).unwrap();
    assert!(seen.contains("HOME="), "{seen}");
    assert!(!seen.contains("s3cret"), "the browser saw the secret");
}

#[test]
fn secrets_only_travel_over_tls_or_loopback() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    for endpoint in [
        "http://mail.example.com/token".to_string(),
        server
            .token_endpoint()
            .replace("http://", "http://user:pass@"),
    ] {
        let mut token = account(&sandbox, &server, Utc::now() - Duration::minutes(1));
        token.registration.token_endpoint = endpoint.clone();
        sandbox.write_token(&path, &token);
        let run = sandbox.run(&[path.to_str().unwrap()]);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (78, ""),
            "{endpoint}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("pass@"), "{}", run.stderr);
    }
    let run = sandbox.run(&[
        sandbox.path("new").to_str().unwrap(),
        "--authorize",
        "--authflow",
        "clientcredentials",
        "--email",
        "robot@example.com",
        "--client-id",
        "id",
        "--client-secret",
        "s",
        "--token-endpoint",
        "http://login.example.com/token",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(run.stderr.contains("not https"), "{}", run.stderr);
    assert!(server.requests().is_empty());
}

/// A token endpoint that answers one byte every 300 ms: reqwest's timeouts restart with each.
fn trickling_server() -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/token", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n",
        );
        for _ in 0..40 {
            if stream.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    });
    (url, thread)
}

#[test]
fn one_deadline_covers_the_whole_http_exchange() {
    let sandbox = Sandbox::new();
    let (url, _server) = trickling_server();
    let path = sandbox.path("account");
    let mut token = token_file(
        test_registration(&url),
        sandbox.age_spec(),
        Utc::now() - Duration::minutes(1),
    );
    token.registration.token_endpoint = url;
    sandbox.write_token(&path, &token);
    let before = std::fs::read(&path).unwrap();

    let started = std::time::Instant::now();
    let run = sandbox.run_with_timeout(&[path.to_str().unwrap()], "2");

    assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        run.stderr.contains("no complete answer within 2 s"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_hanging_decryption_pipe_is_stopped() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    std::fs::write(&path, b"anything").unwrap();
    set_mode(&path, 0o600);
    let started = std::time::Instant::now();
    let run = Run::from(
        sandbox
            .command()
            .args([path.to_str().unwrap(), "--decryption-pipe", "sleep 30"])
            .env("MAILTOKEN_PIPE_TIMEOUT", "1")
            .output()
            .unwrap(),
    );
    assert_eq!((run.code, run.stdout.as_str()), (65, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("did not finish within 1 s"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn a_busy_lock_does_not_hold_back_a_token_that_still_works() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let path = sandbox.path("account");
    // Inside the refresh margin, so a refresh is due, but still valid for two minutes.
    sandbox.write_token(
        &path,
        &account(&sandbox, &server, Utc::now() + Duration::minutes(2)),
    );
    let _held = mailtoken::private_files::lock(&path, std::time::Duration::from_secs(1)).unwrap();

    let started = std::time::Instant::now();
    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "cached-access-token\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("using the cached token"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert!(server.requests().is_empty());
}

#[test]
fn absurd_device_lifetimes_and_intervals_are_clamped() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.device_expires_in = u64::MAX;
        s.device_interval = Some(u64::MAX);
    });
    let path = sandbox.path("account");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "devicecode",
        "--email",
        "user@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
        "--auth-timeout",
        "1",
    ]);
    args.extend(provider.endpoint_args());
    let run = sandbox.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!((run.code, run.stdout.as_str()), (75, ""), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// `sh -c SCRIPT` under script(1), so it has a pseudo-terminal, in the sandbox's environment;
/// `$MAILTOKEN` is the binary.
fn under_a_terminal(sandbox: &Sandbox, script: &str) -> std::process::Output {
    in_sandbox(sandbox, "script")
        .args([
            "-qfec",
            &format!("sh -c '{}'", script.replace('\'', "'\\''")),
            "/dev/null",
        ])
        .output()
        .expect("script(1) runs (util-linux's bsdutils)")
}

#[test]
fn the_terminal_is_restored_when_a_signal_ends_a_prompt() {
    let sandbox = Sandbox::new();
    let sign_in = "\"$MAILTOKEN\" account --authorize --authflow authcode --provider google \
                   --email you@example.com --client-id id";
    for (prompt, extra, signal, number) in [
        ("the secret prompt", "", "TERM", 15),
        ("the secret prompt", "", "HUP", 1),
        ("the paste prompt", "--client-secret x", "TERM", 15),
        ("the paste prompt", "--client-secret x", "INT", 2),
    ] {
        let script = format!(
            "stty -g > before; {sign_in} {extra} < /dev/tty > /dev/null 2> err & pid=$!; \
             sleep 1.5; kill -{signal} $pid; wait $pid; echo $? > status; stty -g > after"
        );
        let output = under_a_terminal(&sandbox, &script);
        let read = |name: &str| std::fs::read_to_string(sandbox.path(name)).unwrap_or_default();
        assert!(
            !read("before").trim().is_empty(),
            "{prompt}: {:?}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert_eq!(
            read("before"),
            read("after"),
            "{prompt}, SIG{signal}: the terminal changed; stderr: {}",
            read("err")
        );
        assert_eq!(
            read("status").trim(),
            (128 + number).to_string(),
            "{prompt}, SIG{signal}: {}",
            read("err")
        );
        assert!(!sandbox.path("account").exists());
    }
}

#[test]
fn odd_but_usable_token_responses_and_unknown_members() {
    let sandbox = Sandbox::new();
    // expires_in as a string, as some servers send it.
    let server = FakeServer::start(|_| {
        Reply::json(
            200,
            serde_json::json!({"access_token": "new-access", "token_type": "bearer", "expires_in": "1800"}),
        )
    });
    let path = sandbox.path("account");
    let token = account(&sandbox, &server, Utc::now() - Duration::minutes(1));
    // A member this version does not know, at the top and inside the registration.
    let mut json: serde_json::Value = serde_json::from_slice(&token.to_json()).unwrap();
    json["future_member"] = serde_json::json!({"kept": true});
    json["registration"]["future_endpoint"] = "https://example.com/x".into();
    let ciphertext = Crypto::new(EncryptionOptions::default())
        .encrypt(&sandbox.age_spec(), json.to_string().as_bytes())
        .unwrap();
    std::fs::write(&path, ciphertext).unwrap();
    set_mode(&path, 0o600);

    let run = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "new-access\n"),
        "{}",
        run.stderr
    );

    let stored = sandbox.read_token(&path);
    let lifetime = stored.access_token_expiry - stored.access_token_obtained.unwrap();
    assert_eq!(lifetime, Duration::seconds(1800));
    let options = EncryptionOptions {
        age_identity: Some(sandbox.identity_path()),
        ..Default::default()
    };
    let (plaintext, _) = Crypto::new(options)
        .decrypt(&path, &std::fs::read(&path).unwrap())
        .unwrap();
    let rewritten: serde_json::Value = serde_json::from_slice(&plaintext).unwrap();
    assert_eq!(
        rewritten["future_member"],
        serde_json::json!({"kept": true})
    );
    assert_eq!(
        rewritten["registration"]["future_endpoint"],
        "https://example.com/x"
    );
    assert_eq!(rewritten["access_token"], "new-access");
}

#[test]
fn tokens_that_are_not_bearer_tokens_are_refused() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| {
        Reply::json(
            200,
            serde_json::json!({"access_token": "mac-token", "token_type": "mac", "expires_in": 3600}),
        )
    });
    let path = sandbox.path("account");
    sandbox.write_token(
        &path,
        &account(&sandbox, &server, Utc::now() - Duration::minutes(1)),
    );
    let before = std::fs::read(&path).unwrap();
    let run = sandbox.run(&[path.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(run.stderr.contains("bearer"), "{}", run.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_fifo_a_foreign_file_or_a_foreign_link_is_refused_at_once() {
    let sandbox = Sandbox::new();
    let fifo = sandbox.path("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let started = std::time::Instant::now();
    let run = sandbox.run(&[fifo.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (65, ""), "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no hang"
    );

    // Ownership needs another user: only root can hand a file to one.
    if mailtoken::private_files::my_uid() != 0 {
        return;
    }
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let theirs = sandbox.path("theirs");
    sandbox.write_token(
        &theirs,
        &account(&sandbox, &server, Utc::now() + Duration::hours(1)),
    );
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let run = sandbox.run(&[theirs.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(
        run.stderr.contains("belongs to another user"),
        "{}",
        run.stderr
    );

    // A link planted by another user, to a file of ours.
    let ours = sandbox.path("ours");
    sandbox.write_token(
        &ours,
        &account(&sandbox, &server, Utc::now() + Duration::hours(1)),
    );
    let planted = sandbox.path("planted");
    std::os::unix::fs::symlink(&ours, &planted).unwrap();
    std::os::unix::fs::lchown(&planted, Some(65534), Some(65534)).unwrap();
    let run = sandbox.run(&[planted.to_str().unwrap()]);
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    // Our own link to it is fine.
    let mine = sandbox.path("mine");
    std::os::unix::fs::symlink(&ours, &mine).unwrap();
    let run = sandbox.run(&[mine.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn a_command_recorded_in_a_token_file_is_not_run_on_its_say_so() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let proof = sandbox.path("ran");
    let path = sandbox.path("planted");
    let mut token = account(&sandbox, &server, Utc::now() - Duration::minutes(1));
    // Written as age, but recording a command to encrypt the next version with.
    token.encryption = EncryptionSpec::Pipe {
        encrypt: format!("touch {}", proof.display()),
    };
    let ciphertext = Crypto::new(EncryptionOptions::default())
        .encrypt(&sandbox.age_spec(), &token.to_json())
        .unwrap();
    std::fs::write(&path, ciphertext).unwrap();
    set_mode(&path, 0o600);

    let run = sandbox.run(&[path.to_str().unwrap()]);

    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("runs a command only when it is given on the command line"),
        "{}",
        run.stderr
    );
    assert!(!proof.exists(), "the recorded command ran");
    assert!(server.requests().is_empty(), "no refresh was sent");
}

#[test]
fn names_and_paths_mean_what_they_say() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::token("new-access", None, 3600));
    let token = account(&sandbox, &server, Utc::now() + Duration::hours(1));
    // The same name in the current directory and in the data directory.
    sandbox.write_token(&sandbox.path("work"), &token);
    let mut other = token.clone();
    other.access_token = mailtoken::secret::Secret::new("from-the-data-directory");
    sandbox.write_token(&sandbox.data_home().join("mailtoken/work"), &other);

    let run = sandbox.run(&["work"]);
    assert_eq!(run.stdout, "from-the-data-directory\n", "{}", run.stderr);
    let run = sandbox.run(&["./work"]);
    assert_eq!(run.stdout, "cached-access-token\n", "{}", run.stderr);

    // A bare name found only here is used, and the warning says how to name it.
    sandbox.write_token(&sandbox.path("home-only"), &token);
    let run = sandbox.run(&["home-only"]);
    assert_eq!(run.stdout, "cached-access-token\n", "{}", run.stderr);
    assert!(run.stderr.contains("write ./home-only"), "{}", run.stderr);

    // No chmod for a file that is not a token file.
    let notes = sandbox.path("notes.txt");
    std::fs::write(&notes, "shopping list").unwrap();
    set_mode(&notes, 0o644);
    let run = sandbox.run(&[notes.to_str().unwrap()]);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(!run.stderr.contains("chmod"), "{}", run.stderr);
}
