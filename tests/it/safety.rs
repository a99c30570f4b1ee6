//! Never lose a login: a refresh token is spent only when its result can be stored, a result that
//! could not be stored is kept and adopted later, a file no one could open never replaces one
//! that works, and the process keeps its secrets out of core files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use mailtoken::testing::encryption::EncryptionSpec;
use mailtoken::testing::tokenfile::TokenFile;

use crate::support::*;

/// A token endpoint that answers every request with a new access token.
fn new_access(refresh_token: Option<&'static str>) -> FakeServer {
    FakeServer::answering(Reply::token("new-access", refresh_token, 3600))
}

/// The names of the temporary files left in the sandbox (they start with a dot and end in `.tmp`).
fn temporaries(sandbox: &Sandbox) -> Vec<String> {
    std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

/// Runs the binary under `ulimit -f BLOCKS` (512-byte blocks in dash, 1024 in bash): a disk that
/// takes no more than that, the file-size limit standing in for a full disk.
fn run_with_file_limit(sandbox: &Sandbox, blocks: u32, args: &[&str]) -> Run {
    Run::of(
        sandbox
            .outer("sh")
            .arg("-c")
            .arg(format!("ulimit -f {blocks} && exec \"$MAILTOKEN\" \"$@\""))
            .arg("sh")
            .args(args),
    )
}

#[test]
fn a_full_disk_is_found_before_the_refresh_token_is_spent() {
    let sandbox = Sandbox::new();
    let server = new_access(Some("refresh-2"));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    let before = Snapshot::of(&path);

    let run = run_with_file_limit(&sandbox, 4, &[path.to_str().unwrap()]);

    run.expect(74, "");
    run.says("not refreshing");
    run.says("the refresh token was not used");
    assert!(server.requests().is_empty(), "no refresh was sent");
    before.unchanged();
    assert_eq!(temporaries(&sandbox), Vec::<String>::new());
}

#[test]
fn a_full_disk_with_a_token_still_valid_prints_it_and_warns() {
    let sandbox = Sandbox::new();
    let server = new_access(Some("refresh-2"));
    // Two minutes left of an hour: inside the refresh margin, not expired.
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(2));

    let run = run_with_file_limit(&sandbox, 4, &[path.to_str().unwrap()]);

    run.expect(0, "cached-access-token\n");
    run.says("warning:");
    assert!(server.requests().is_empty());
}

/// An encryption pipe that fails while the file `pipe-broken` exists, or on its `fail_on_run`th
/// run, and counts its runs in `pipe-runs` (which must exist: a lost counter is an error).
fn flaky_pipe(sandbox: &Sandbox, fail_on_run: Option<u32>) -> (String, PathBuf) {
    let script = sandbox.path("encrypt.sh");
    let marker = sandbox.path("pipe-broken");
    let count = sandbox.path("pipe-runs");
    let fail_on = fail_on_run.map_or(String::new(), |n| format!("[ \"$n\" -eq {n} ] && exit 1\n"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nc=$(cat '{count}') || {{ echo 'the run counter is gone' >&2; exit 3; }}\nn=$((c + 1))\necho $n > '{count}'\n\
             [ -e '{marker}' ] && exit 1\n{fail_on}exec cat\n",
            count = count.display(),
            marker = marker.display(),
        ),
    )
    .unwrap();
    // The counter starts at 0 here; the script never starts it again from a missing file.
    std::fs::write(&count, "0\n").unwrap();
    set_mode(&script, 0o700);
    (script.to_string_lossy().into_owned(), marker)
}

/// An expired account encrypted through `script`, its bytes, and the flags that read and write it.
fn pipe_account(
    sandbox: &Sandbox,
    server: &FakeServer,
    script: &str,
) -> (PathBuf, Snapshot, Vec<String>) {
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    token.encryption = EncryptionSpec::Pipe {
        encrypt: script.to_string(),
    };
    let path = sandbox.save("account", &token);
    let before = Snapshot::of(&path);
    let args = strings(&[
        path.to_str().unwrap(),
        "--decryption-pipe",
        "cat",
        "--encryption-pipe",
        script,
    ]);
    (path, before, args)
}

#[test]
fn a_failing_encryption_pipe_costs_no_login() {
    let sandbox = Sandbox::new();
    let server = new_access(Some("refresh-2"));
    let (script, marker) = flaky_pipe(&sandbox, None);
    let (path, before, args) = pipe_account(&sandbox, &server, &script);

    // The write is the proof of the encryption: it fails after the answer, the file stays as it
    // was, and the new tokens are kept (encrypted in-process) and printed.
    std::fs::write(&marker, "").unwrap();
    let run = sandbox.run(&args);
    run.expect(0, "new-access\n");
    run.says("the encryption pipe failed");
    before.unchanged();
    assert!(sandbox.path("account.recovery").exists());

    // Once the pipe works again, the kept tokens are stored without another request.
    std::fs::remove_file(&marker).unwrap();
    sandbox.run(&args).expect(0, "new-access\n");
    assert_eq!(server.requests().len(), 1);
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored["refresh_token"], "refresh-2");
}

#[test]
fn tokens_that_could_not_be_stored_are_kept_and_adopted_by_the_next_call() {
    let sandbox = Sandbox::new();
    // The provider rotates refresh tokens: losing refresh-2 would end the login.
    let server = FakeServer::answering(Reply::token("access-2", Some("refresh-2"), 3600));
    // Run 1 writes the test's file, run 2 the write after the refresh (the proof before the
    // refresh runs no encryption).
    let (script, _) = flaky_pipe(&sandbox, Some(2));
    let (path, before, args) = pipe_account(&sandbox, &server, &script);

    let run = sandbox.run(&args);
    run.expect_because(0, "access-2\n", "the new token is printed");
    run.says("warning:");
    run.says("the next call that can write");
    // The file is as it was.
    before.unchanged();
    // Kept beside the token file, in the room the refresh had taken, and nowhere else.
    let kept = sandbox.path("account.recovery");
    assert!(
        !std::fs::read(&kept)
            .unwrap()
            .windows(9)
            .any(|w| w == b"refresh-2"),
        "the kept tokens are encrypted"
    );
    assert!(
        !sandbox
            .home()
            .join(".local/state/mailtoken/recovery")
            .exists()
    );
    let temporaries = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    assert_eq!(temporaries, 0, "no temporary file is left behind");

    // The next call adopts them: no second refresh, the file now holds refresh-2.
    sandbox.run(&args).expect(0, "access-2\n");
    assert_eq!(
        server.requests().len(),
        1,
        "the rotated token was never resent"
    );
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(stored["refresh_token"], "refresh-2");
    assert!(!kept.exists());
}

/// `token` written as the file `name`, encrypted to the sandbox identity whatever it records.
fn save_as_age(sandbox: &Sandbox, name: &str, token: &[u8]) -> PathBuf {
    let path = sandbox.path(name);
    write_private(&path, encrypt(&sandbox.age_spec(), token));
    path
}

/// An expired token file refreshing at `server` whose `encryption` records `spec`, though it is
/// encrypted to the sandbox identity.
fn recording(sandbox: &Sandbox, server: &FakeServer, spec: EncryptionSpec) -> TokenFile {
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    token.encryption = spec;
    token
}

#[test]
fn a_file_the_identity_could_not_open_never_replaces_a_working_one() {
    let sandbox = Sandbox::new();
    let server = new_access(Some("refresh-2"));
    // The file opens with the sandbox identity, but records another key's recipient: a refresh
    // would write a file that only that other key opens.
    let other = age_to(&age::x25519::Identity::generate());
    let token = recording(&sandbox, &server, other);
    let path = save_as_age(&sandbox, "account", &token.to_json());
    let before = Snapshot::of(&path);

    let run = sandbox.run(&[&path]);

    run.expect(78, "");
    run.says("would not be readable");
    assert!(server.requests().is_empty(), "no refresh was sent");
    before.unchanged();
}

#[test]
fn a_command_recorded_in_a_token_file_is_not_run_on_its_say_so() {
    let sandbox = Sandbox::new();
    let server = new_access(None);
    let proof = sandbox.path("ran");
    // Written as age, but recording a command to encrypt the next version with.
    let pipe = EncryptionSpec::Pipe {
        encrypt: format!("touch {}", proof.display()),
    };
    let token = recording(&sandbox, &server, pipe);
    let path = save_as_age(&sandbox, "planted", &token.to_json());

    let run = sandbox.run(&[&path]);

    run.expect(78, "");
    run.says("runs a command only when it is given on the command line");
    assert!(!proof.exists(), "the recorded command ran");
    assert!(server.requests().is_empty(), "no refresh was sent");
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
    let server = new_access(None);
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    token.client_secret = None; // a public client
    let path = sandbox.save("account", &token);

    let exported = [("MAILTOKEN_CLIENT_SECRET", "meant-for-another-account")];
    let run = sandbox.run_with(&[&path], &exported);

    run.expect(0, "new-access\n");
    let form = &server.requests()[0].form;
    assert!(!form.contains_key("client_secret"), "{form:?}");
    assert_eq!(sandbox.read_token(&path).client_secret, None);
}

/// A script that records its environment in `NAME.env` and passes stdin through.
fn environment_recorder(sandbox: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
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
    let provider = FakeProvider::for_service();
    let (pipe, pipe_env) = environment_recorder(&sandbox, "pipe");
    let path = sandbox.path("service");
    let pipe = pipe.to_str().unwrap();
    let pipes = ["--encryption-pipe", pipe, "--decryption-pipe", pipe];
    // The service's flags but its secret, which comes from the environment.
    let who = &SERVICE[..4];
    let mut args = provider.sign_in(&path, "clientcredentials", who, &pipes);
    let env = [("MAILTOKEN_CLIENT_SECRET", "s3cret"), ("UNRELATED", "kept")];
    let run = sandbox.run_with(&args, &env);
    run.expect_code(0);
    let seen = std::fs::read_to_string(&pipe_env).unwrap();
    assert!(seen.contains("UNRELATED=kept"), "{seen}");
    assert!(!seen.contains("s3cret"), "the pipe saw the secret");

    // The same sign-in with the secret on stdin.
    std::fs::remove_file(&path).unwrap();
    args.extend(strings(&["--client-secret-file", "-"]));
    let mut running = Running::start(&sandbox, &args, None);
    running.type_in("s3cret\n");
    running.finish().expect_code(0);
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
    let sign_in = [
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "localhostauthcode",
    ];
    let flags = [
        "--provider",
        "google",
        "--email",
        "you@example.com",
        "--client-id",
        "id",
    ];
    let args = [&sign_in[..], &flags, &["--auth-timeout", "2"]].concat();
    let env = [
        ("BROWSER", browser.to_str().unwrap()),
        ("MAILTOKEN_CLIENT_SECRET", "s3cret"),
    ];
    let run = sandbox.run_with(&args, &env);
    run.expect_code(75);
    let seen = std::fs::read_to_string(&browser_env).unwrap();
    assert!(seen.contains("HOME="), "{seen}");
    assert!(!seen.contains("s3cret"), "the browser saw the secret");
}

#[test]
fn secrets_only_travel_over_tls_or_loopback() {
    let sandbox = Sandbox::new();
    let server = new_access(None);
    let endpoints = [
        "http://mail.example.com/token".to_string(),
        server
            .token_endpoint()
            .replace("http://", "http://user:pass@"),
    ];
    each_case(endpoints.map(|e| (e.clone(), e)), |endpoint| {
        let path = sandbox.account(&endpoint, minutes_from_now(-1));
        let run = sandbox.run(&[&path]);
        run.expect(78, "");
        run.never_says("pass@");
    });
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
    run.expect(78, "");
    run.says("not https");
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
            std::thread::sleep(Duration::from_millis(300));
        }
    });
    (url, thread)
}

#[test]
fn one_deadline_covers_the_whole_http_exchange() {
    let sandbox = Sandbox::new();
    let (url, _server) = trickling_server();
    let path = sandbox.account(&url, minutes_from_now(-1));
    let before = Snapshot::of(&path);

    let started = Instant::now();
    let run = sandbox.run_with(&[&path], &[("MAILTOKEN_HTTP_TIMEOUT", "2")]);

    run.expect(75, "");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
    run.says("no complete answer within 2 s");
    before.unchanged();
}

#[test]
fn a_hanging_decryption_pipe_is_stopped() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    write_private(&path, b"anything");
    let started = Instant::now();
    let args = [path.to_str().unwrap(), "--decryption-pipe", "sleep 30"];
    let run = sandbox.run_with(&args, &[("MAILTOKEN_PIPE_TIMEOUT", "1")]);
    run.expect(65, "");
    run.says("did not finish within 1 s");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_busy_lock_does_not_hold_back_a_token_that_still_works() {
    let sandbox = Sandbox::new();
    let server = new_access(None);
    // Inside the refresh margin, so a refresh is due, but still valid for two minutes.
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(2));
    let _held = mailtoken::testing::refresh_lock::lock(&path, Duration::from_secs(1)).unwrap();

    let started = Instant::now();
    let run = sandbox.run(&[&path]);

    run.expect(0, "cached-access-token\n");
    run.says("using the cached token");
    assert!(started.elapsed() < Duration::from_secs(20));
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
    let run =
        sandbox.run(&provider.sign_in(&path, "devicecode", &PERSON, &["--auth-timeout", "1"]));
    run.expect(75, "");
    run.never_says("panicked");
}

#[test]
fn the_terminal_is_restored_when_a_signal_ends_a_prompt() {
    let sandbox = Sandbox::new();
    let sign_in = "\"$MAILTOKEN\" account --authorize --authflow authcode --provider google \
                   --email you@example.com --client-id id";
    let cases = [
        ("the secret prompt", "", "TERM", 15),
        ("the secret prompt", "", "HUP", 1),
        ("the paste prompt", "--client-secret x", "TERM", 15),
        ("the paste prompt", "--client-secret x", "INT", 2),
    ];
    let named = cases.map(|case| (format!("{}, SIG{}", case.0, case.2), case));
    each_case(named, |(_, extra, signal, number)| {
        // The signal goes once the prompt has changed the terminal, not after a guess at how
        // long that takes: a signal before the change would leave nothing to restore.
        let script = signal_once_the_terminal_changed(
            &format!("{sign_in} {extra} < /dev/tty > /dev/null 2> err"),
            signal,
        );
        let output = run_in_terminal(sandbox.terminal(&script));
        assert!(
            !sandbox.read("before").trim().is_empty(),
            "{:?}",
            String::from_utf8_lossy(&output.stdout)
        );
        assert_ne!(
            sandbox.read("before"),
            sandbox.read("during"),
            "the prompt never changed the terminal; stderr: {}",
            sandbox.read("err")
        );
        assert_eq!(
            sandbox.read("before"),
            sandbox.read("after"),
            "the terminal changed; stderr: {}",
            sandbox.read("err")
        );
        assert_eq!(
            sandbox.read("status").trim(),
            (128 + number).to_string(),
            "{}",
            sandbox.read("err")
        );
        assert!(!sandbox.path("account").exists());
    });
}

#[test]
fn odd_but_usable_token_responses_and_unknown_members() {
    let sandbox = Sandbox::new();
    // expires_in as a string, as some servers send it.
    let server = FakeServer::answering(Reply::json(
        200,
        serde_json::json!({"access_token": "new-access", "token_type": "bearer", "expires_in": "1800"}),
    ));
    let token = sandbox.token(&server.token_endpoint(), minutes_from_now(-1));
    // A member this version does not know, at the top and inside the registration.
    let mut json: serde_json::Value = serde_json::from_slice(&token.to_json()).unwrap();
    json["future_member"] = serde_json::json!({"kept": true});
    json["registration"]["future_endpoint"] = "https://example.com/x".into();
    let path = save_as_age(&sandbox, "account", json.to_string().as_bytes());

    sandbox.run(&[&path]).expect(0, "new-access\n");

    let stored = sandbox.read_token(&path);
    let lifetime = stored.access_token_expiry - stored.access_token_obtained.unwrap();
    assert_eq!(lifetime, chrono::Duration::seconds(1800));
    let rewritten: serde_json::Value = serde_json::from_slice(&sandbox.decrypt(&path)).unwrap();
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
    let server = FakeServer::answering(Reply::json(
        200,
        serde_json::json!({"access_token": "mac-token", "token_type": "mac", "expires_in": 3600}),
    ));
    let path = sandbox.account(&server.token_endpoint(), minutes_from_now(-1));
    let before = Snapshot::of(&path);
    let run = sandbox.run(&[&path]);
    run.expect(78, "");
    run.says("bearer");
    before.unchanged();
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
    let started = Instant::now();
    let run = sandbox.run(&[&fifo]);
    run.expect(65, "");
    run.says("not a regular file");
    assert!(started.elapsed() < Duration::from_secs(5), "no hang");

    // Ownership needs another user: only root can hand a file to one.
    if mailtoken::testing::private_files::my_uid() != 0 {
        return;
    }
    let server = new_access(None);
    let token = sandbox.token(&server.token_endpoint(), minutes_from_now(60));
    let theirs = sandbox.save("theirs", &token);
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    let run = sandbox.run(&[&theirs]);
    run.expect(78, "");
    run.says("belongs to another user");

    // A link planted by another user, to a file of ours.
    let ours = sandbox.save("ours", &token);
    let planted = sandbox.path("planted");
    std::os::unix::fs::symlink(&ours, &planted).unwrap();
    std::os::unix::fs::lchown(&planted, Some(65534), Some(65534)).unwrap();
    sandbox.run(&[&planted]).expect(78, "");
    // Our own link to it is fine.
    let mine = sandbox.path("mine");
    std::os::unix::fs::symlink(&ours, &mine).unwrap();
    sandbox.run(&[&mine]).expect_code(0);
}

#[test]
fn names_and_paths_mean_what_they_say() {
    let sandbox = Sandbox::new();
    let server = new_access(None);
    let token = sandbox.token(&server.token_endpoint(), minutes_from_now(60));
    // The same name in the current directory and in the data directory.
    sandbox.save("work", &token);
    let mut other = token.clone();
    other.access_token = mailtoken::testing::secret::Secret::new("from-the-data-directory");
    sandbox.write_token(&sandbox.accounts_dir().join("work"), &other);

    let run = sandbox.run(&["work"]);
    assert_eq!(run.stdout, "from-the-data-directory\n", "{}", run.stderr);
    let run = sandbox.run(&["./work"]);
    assert_eq!(run.stdout, "cached-access-token\n", "{}", run.stderr);

    // A bare name found only here is used, and the warning says how to name it.
    sandbox.save("home-only", &token);
    let run = sandbox.run(&["home-only"]);
    assert_eq!(run.stdout, "cached-access-token\n", "{}", run.stderr);
    run.says("write ./home-only");

    // No chmod for a file that is not a token file.
    let notes = sandbox.path("notes.txt");
    std::fs::write(&notes, "shopping list").unwrap();
    set_mode(&notes, 0o644);
    let run = sandbox.run(&[&notes]);
    run.expect_code(78);
    run.never_says("chmod");
}
