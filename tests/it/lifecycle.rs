//! Issue #12, the account lifecycle: `--list`, `--json`, `--check` and its keep-alive, the notify
//! hook, `--revoke`. Every run is the real binary in a sandbox, with fake providers.

use std::path::{Path, PathBuf};
use std::time::Duration as StdDuration;

use crate::support::{
    FakeServer, Received, Reply, Run, Sandbox, set_mode, test_registration, token_file,
};
use chrono::{Duration, Utc};
use mailtoken::tokenfile::TokenFile;

fn accounts_dir(sandbox: &Sandbox) -> PathBuf {
    sandbox.data_home().join("mailtoken")
}

/// An account in the accounts directory whose token expires at `expiry`.
fn account(
    sandbox: &Sandbox,
    name: &str,
    server: &FakeServer,
    expiry: chrono::DateTime<Utc>,
    change: impl FnOnce(&mut TokenFile),
) -> PathBuf {
    let path = accounts_dir(sandbox).join(name);
    let mut token = token_file(
        test_registration(&server.token_endpoint()),
        sandbox.age_spec(),
        expiry,
    );
    token.email = format!("{name}@example.com");
    token.registration.revocation_endpoint = Some(format!("{}/revoke", server.url));
    change(&mut token);
    sandbox.write_token(&path, &token);
    path
}

/// A provider whose refresh token `dead` is revoked, and every other one works.
fn provider() -> FakeServer {
    FakeServer::start(|request: &Received| {
        match (request.path.as_str(), request.form.get("refresh_token")) {
            ("/token", Some(token)) if token == "dead" => Reply::json(
                400,
                serde_json::json!({"error": "invalid_grant", "error_description": "Token has been revoked."}),
            ),
            ("/token", Some(token)) if token == "flaky" => Reply::raw(503, "text/plain", "busy"),
            ("/token", _) => Reply::token("fresh-access", None, 3600),
            ("/revoke", _) => Reply::raw(200, "text/plain", ""),
            _ => Reply::raw(404, "text/plain", "not found"),
        }
    })
}

fn token_requests(server: &FakeServer) -> Vec<Received> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/token")
        .collect()
}

// --- --list and --json --------------------------------------------------------------------------

#[test]
fn list_shows_every_account_aligned_and_only_token_files() {
    let sandbox = Sandbox::new();
    let server = provider();
    let now = Utc::now();
    account(
        &sandbox,
        "gmail",
        &server,
        now + Duration::minutes(40),
        |_| {},
    );
    account(&sandbox, "work", &server, now - Duration::hours(3), |_| {});
    account(&sandbox, "old", &server, now - Duration::days(3), |t| {
        t.refresh_token = None;
    });
    let dir = accounts_dir(&sandbox);
    // Not accounts: a lock, a kept unreadable copy, a hidden temporary.
    for name in [
        "gmail.lock",
        "work.unreadable-20261129T000000Z",
        ".gmail.1.2.tmp",
    ] {
        std::fs::write(dir.join(name), b"x").unwrap();
        set_mode(&dir.join(name), 0o600);
    }
    // An account that cannot be decrypted is listed, not fatal.
    std::fs::write(dir.join("broken"), b"age-encryption.org/v1\ngarbage").unwrap();
    set_mode(&dir.join("broken"), 0o600);

    let run = sandbox.run(&["--list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        server.requests().is_empty(),
        "--list never uses the network"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    assert!(lines[0].starts_with("ACCOUNT"), "{}", run.stdout);
    // Sorted by name, columns aligned.
    let names: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, ["broken", "gmail", "old", "work"]);
    let column = lines[0].find("E-MAIL").unwrap();
    assert_eq!(
        lines[2].find("gmail@example.com"),
        Some(column),
        "{}",
        run.stdout
    );
    assert!(lines[1].contains("unreadable"), "{}", run.stdout);
    assert!(lines[2].ends_with("ok"), "{}", run.stdout);
    assert!(lines[3].ends_with("needs sign-in"), "{}", run.stdout);
    assert!(
        lines[4].ends_with("expired (refreshes on next use)"),
        "{}",
        run.stdout
    );
    for secret in ["cached-access-token", "refresh-1", "test-secret"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

#[test]
fn list_json_is_an_array_of_the_documented_objects() {
    let sandbox = Sandbox::new();
    let server = provider();
    let expiry = Utc::now() + Duration::minutes(40);
    account(&sandbox, "gmail", &server, expiry, |t| {
        t.granted_scope = Some("mail".into());
    });
    std::fs::write(accounts_dir(&sandbox).join("broken"), b"nonsense").unwrap();
    set_mode(&accounts_dir(&sandbox).join("broken"), 0o600);

    let run = sandbox.run(&["--list", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("]\n"));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let array = json.as_array().unwrap();
    assert_eq!(array.len(), 2);
    let keys = [
        "name",
        "path",
        "state",
        "email",
        "provider",
        "flow",
        "access_token_expires",
        "refresh_token",
        "last_refresh",
        "scope",
        "encryption",
        "error",
    ];
    for object in array {
        let members: Vec<&String> = object.as_object().unwrap().keys().collect();
        assert_eq!(members.len(), keys.len(), "{object}");
        for key in keys {
            assert!(object.get(key).is_some(), "{key} missing from {object}");
        }
    }
    let broken = &array[0];
    assert_eq!(broken["state"], "unreadable");
    assert!(broken["error"].as_str().unwrap().len() > 5);
    let gmail = &array[1];
    assert_eq!(gmail["name"], "gmail");
    assert_eq!(gmail["state"], "ok");
    assert_eq!(gmail["email"], "gmail@example.com");
    assert_eq!(gmail["provider"], "test");
    assert_eq!(gmail["flow"], "localhostauthcode");
    assert_eq!(gmail["refresh_token"], true);
    assert_eq!(gmail["scope"], "mail");
    assert_eq!(gmail["encryption"], "age");
    assert_eq!(
        gmail["access_token_expires"],
        expiry.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert!(gmail["error"].is_null());
    for secret in ["cached-access-token", "refresh-1", "test-secret"] {
        assert!(!run.stdout.contains(secret));
    }
}

#[test]
fn status_json_is_one_object_and_human_status_reads_naturally() {
    let sandbox = Sandbox::new();
    let server = provider();
    let path = account(
        &sandbox,
        "gmail",
        &server,
        Utc::now() + Duration::minutes(41) + Duration::seconds(30),
        |t| {
            t.email = String::new();
            t.access_token_obtained = Some(Utc::now() - Duration::days(3));
        },
    );
    let run = sandbox.run(&["--status", "--json", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["state"], "ok");
    assert!(json["email"].is_null());
    assert_eq!(json["path"], path.to_str().unwrap());

    let run = sandbox.run(&["--status", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(in 41 min)"), "{}", run.stdout);
    assert!(run.stdout.contains("(3 days ago)"), "{}", run.stdout);
    // Local time to the second (TZ=UTC in the sandbox).
    assert!(run.stdout.contains(" +00:00 (in 41 min)"), "{}", run.stdout);
    assert!(!run.stdout.contains("e-mail"), "empty lines are left out");
    assert!(!run.stdout.contains("(none)"), "{}", run.stdout);
}

#[test]
fn json_and_list_refuse_what_they_cannot_do() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--json", "x"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    let run = sandbox.run(&["--list", "x"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    let run = sandbox.run(&["x", "y"]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    // No accounts at all: nothing on stdout, a hint on stderr.
    let run = sandbox.run(&["--list"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert!(
        run.stderr.contains("mailtoken --authorize NAME"),
        "{}",
        run.stderr
    );
}

// --- --check -----------------------------------------------------------------------------------

#[test]
fn check_refreshes_expired_and_idle_accounts_and_leaves_the_rest_alone() {
    let sandbox = Sandbox::new();
    let server = provider();
    let now = Utc::now();
    let fresh = account(
        &sandbox,
        "fresh",
        &server,
        now + Duration::minutes(50),
        |t| {
            t.access_token_obtained = Some(now - Duration::minutes(10));
        },
    );
    let expired = account(
        &sandbox,
        "expired",
        &server,
        now - Duration::hours(1),
        |_| {},
    );
    let idle = account(
        &sandbox,
        "idle",
        &server,
        now + Duration::minutes(50),
        |t| {
            t.access_token_obtained = Some(now - Duration::days(8));
        },
    );

    let run = sandbox.run(&["--check"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "")
    );
    assert_eq!(token_requests(&server).len(), 2, "expired and idle only");
    assert_eq!(
        sandbox.read_token(&fresh).access_token.expose(),
        "cached-access-token"
    );
    for path in [&expired, &idle] {
        assert_eq!(
            sandbox.read_token(path).access_token.expose(),
            "fresh-access"
        );
    }

    // Idle by a day now that the keep-alive is shorter; --keepalive 0 refreshes everything.
    let run = sandbox.run(&["--check", "--keepalive", "0"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(token_requests(&server).len(), 5);
}

#[test]
fn check_names_only_the_account_that_needs_a_sign_in_and_exits_77() {
    let sandbox = Sandbox::new();
    let server = provider();
    let now = Utc::now();
    account(&sandbox, "good", &server, now - Duration::hours(1), |_| {});
    account(
        &sandbox,
        "revoked",
        &server,
        now - Duration::hours(1),
        |t| {
            t.refresh_token = Some(mailtoken::secret::Secret::new("dead"));
        },
    );
    account(&sandbox, "flaky", &server, now - Duration::hours(1), |t| {
        t.refresh_token = Some(mailtoken::secret::Secret::new("flaky"));
    });

    let run = sandbox.run(&["--check"]);
    assert_eq!((run.code, run.stdout.as_str()), (77, ""), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("mailtoken: revoked: "),
        "{}",
        run.stderr
    );
    assert!(
        lines[0].contains("run 'mailtoken --authorize revoked'"),
        "{}",
        run.stderr
    );

    // Only the temporary trouble left: 75, and quiet (the next run retries).
    let run = sandbox.run(&["--check", "good", "flaky"]);
    assert_eq!((run.code, run.stderr.as_str()), (75, ""));
    let run = sandbox.run(&["--check", "--verbose", "flaky"]);
    assert!(
        run.stderr.contains("the next check tries again"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_reports_an_unreadable_file_without_touching_it() {
    let sandbox = Sandbox::new();
    let path = accounts_dir(&sandbox).join("broken");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, b"age-encryption.org/v1\ngarbage").unwrap();
    set_mode(&path, 0o600);
    let run = sandbox.run(&["--check"]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("mailtoken: broken: "),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"age-encryption.org/v1\ngarbage"
    );
}

// --- the notify hook ---------------------------------------------------------------------------

/// A hook that appends its environment to `notified` in the sandbox, one line per run.
fn install_hook(sandbox: &Sandbox) -> PathBuf {
    let hook = sandbox.config_home().join("mailtoken/notify");
    let record = sandbox.path("notified");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nprintf '%s|%s|%s|%s%s\\n' \"$MAILTOKEN_ACCOUNT\" \"$MAILTOKEN_EMAIL\" \
             \"$MAILTOKEN_AUTHORIZE_COMMAND\" \"$MAILTOKEN_REASON\" \"$MAILTOKEN_CLIENT_SECRET\" >> '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    set_mode(&hook, 0o755);
    record
}

fn wait_for_lines(path: &Path, count: usize) -> Vec<String> {
    let give_up = std::time::Instant::now() + StdDuration::from_secs(10);
    loop {
        let lines: Vec<String> = std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect();
        if lines.len() >= count || std::time::Instant::now() > give_up {
            return lines;
        }
        std::thread::sleep(StdDuration::from_millis(20));
    }
}

#[test]
fn the_hook_runs_once_an_hour_for_a_login_that_ended() {
    let sandbox = Sandbox::new();
    let server = provider();
    let record = install_hook(&sandbox);
    account(
        &sandbox,
        "revoked",
        &server,
        Utc::now() - Duration::hours(1),
        |t| {
            t.refresh_token = Some(mailtoken::secret::Secret::new("dead"));
        },
    );
    account(
        &sandbox,
        "good",
        &server,
        Utc::now() - Duration::hours(1),
        |_| {},
    );

    // Two failing calls of a mail client (no terminal): one notification.
    for _ in 0..2 {
        let started = std::time::Instant::now();
        let run = Run::from(
            sandbox
                .command()
                .arg("revoked")
                .env("MAILTOKEN_CLIENT_SECRET", "env-secret")
                .output()
                .unwrap(),
        );
        assert_eq!((run.code, run.stdout.as_str()), (77, ""), "{}", run.stderr);
        assert!(started.elapsed() < StdDuration::from_secs(5));
    }
    let good = sandbox.run(&["good"]);
    assert_eq!(good.code, 0, "{}", good.stderr);
    let lines = wait_for_lines(&record, 1);
    // Time for a second, wrong, notification to show up.
    std::thread::sleep(StdDuration::from_millis(500));
    let lines_later = wait_for_lines(&record, 0);
    assert_eq!(lines, lines_later);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let fields: Vec<&str> = lines[0].splitn(4, '|').collect();
    assert_eq!(fields[0], "revoked");
    assert_eq!(fields[1], "revoked@example.com");
    assert_eq!(fields[2], "mailtoken --authorize revoked");
    assert!(fields[3].contains("invalid_grant"), "{}", fields[3]);
    for secret in ["dead", "test-secret", "cached-access-token", "env-secret"] {
        assert!(!lines[0].contains(&format!(" {secret}")), "{}", lines[0]);
    }
    assert!(
        !lines[0].contains("env-secret"),
        "the hook got the client secret"
    );
    // The state lives under $XDG_STATE_HOME (here ~/.local/state).
    let state = sandbox.home().join(".local/state/mailtoken");
    assert!(
        std::fs::read_dir(&state).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("notified-revoked-")),
        "no stamp in {}",
        state.display()
    );

    // An hour later (the stamp made older), --check notifies again.
    for entry in std::fs::read_dir(&state).unwrap() {
        let path = entry.unwrap().path();
        let old = std::time::SystemTime::now() - StdDuration::from_secs(3700);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let run = sandbox.run(&["--check"]);
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert_eq!(wait_for_lines(&record, 2).len(), 2);
}

#[test]
fn a_failing_or_slow_hook_changes_nothing_for_the_caller() {
    let sandbox = Sandbox::new();
    let server = provider();
    let hook = sandbox.config_home().join("mailtoken/notify");
    std::fs::write(&hook, "#!/bin/sh\nsleep 30\nexit 3\n").unwrap();
    set_mode(&hook, 0o755);
    account(
        &sandbox,
        "revoked",
        &server,
        Utc::now() - Duration::hours(1),
        |t| {
            t.refresh_token = Some(mailtoken::secret::Secret::new("dead"));
        },
    );
    let started = std::time::Instant::now();
    let run = sandbox.run(&["revoked"]);
    assert_eq!(run.code, 77, "{}", run.stderr);
    assert!(
        started.elapsed() < StdDuration::from_secs(10),
        "the caller waited for the hook"
    );
}

// --- --revoke ----------------------------------------------------------------------------------

#[test]
fn revoke_ends_the_login_at_the_provider_then_deletes_the_file_and_lock() {
    let sandbox = Sandbox::new();
    let server = provider();
    let path = account(
        &sandbox,
        "gmail",
        &server,
        Utc::now() + Duration::minutes(30),
        |_| {},
    );
    std::fs::write(mailtoken::paths::lock_path(&path), b"").unwrap();

    let run = sandbox.run(&["--revoke", "gmail"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let revocations: Vec<Received> = server
        .requests()
        .into_iter()
        .filter(|r| r.path == "/revoke")
        .collect();
    assert_eq!(revocations.len(), 2);
    assert_eq!(revocations[0].form["token"], "refresh-1");
    assert_eq!(revocations[0].form["token_type_hint"], "refresh_token");
    assert_eq!(revocations[0].form["client_id"], "test-client");
    assert_eq!(revocations[1].form["token"], "cached-access-token");
    assert!(!path.exists());
    assert!(!mailtoken::paths::lock_path(&path).exists());
    assert!(!run.stderr.contains("refresh-1"));
}

#[test]
fn a_temporary_revocation_failure_deletes_nothing() {
    let sandbox = Sandbox::new();
    let server = FakeServer::start(|_| Reply::raw(503, "text/plain", "down"));
    let path = account(
        &sandbox,
        "gmail",
        &server,
        Utc::now() + Duration::minutes(30),
        |_| {},
    );
    let before = std::fs::read(&path).unwrap();
    let run = sandbox.run(&["--revoke", "gmail"]);
    assert_eq!(run.code, 75, "{}", run.stderr);
    assert!(run.stderr.contains("nothing was deleted"), "{}", run.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_refused_revocation_deletes_nothing_but_an_ended_login_is_gone_anyway() {
    let sandbox = Sandbox::new();
    let refused =
        FakeServer::start(|_| Reply::json(401, serde_json::json!({"error": "invalid_client"})));
    let path = account(
        &sandbox,
        "a",
        &refused,
        Utc::now() + Duration::minutes(30),
        |_| {},
    );
    let run = sandbox.run(&["--revoke", "a"]);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(path.exists());

    let ended =
        FakeServer::start(|_| Reply::json(400, serde_json::json!({"error": "invalid_grant"})));
    let path = account(
        &sandbox,
        "b",
        &ended,
        Utc::now() + Duration::minutes(30),
        |_| {},
    );
    let run = sandbox.run(&["--revoke", "b"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!path.exists());
}

#[test]
fn without_a_revocation_endpoint_it_says_where_to_remove_access() {
    let sandbox = Sandbox::new();
    let server = provider();
    let path = account(
        &sandbox,
        "work",
        &server,
        Utc::now() + Duration::minutes(30),
        |t| {
            t.registration.provider = "microsoft".into();
            t.registration.revocation_endpoint = None;
        },
    );
    let run = sandbox.run(&["--revoke", path.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.requests().is_empty());
    assert!(
        run.stderr
            .contains("https://account.live.com/consent/Manage")
            && run.stderr.contains("https://myapps.microsoft.com"),
        "{}",
        run.stderr
    );
    assert!(!path.exists());
}

#[test]
fn revoke_never_deletes_a_file_it_could_not_read() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("broken");
    std::fs::write(&path, b"age-encryption.org/v1\ngarbage").unwrap();
    set_mode(&path, 0o600);
    let run = sandbox.run(&["--revoke", path.to_str().unwrap()]);
    assert_eq!(run.code, 65, "{}", run.stderr);
    assert!(path.exists());
    let run = sandbox.run(&["--revoke", sandbox.path("absent").to_str().unwrap()]);
    assert_eq!(run.code, 66, "{}", run.stderr);
    assert!(!mailtoken::paths::lock_path(&sandbox.path("absent")).exists());
}

#[test]
fn old_files_without_a_revocation_endpoint_still_load() {
    let registration: mailtoken::provider::Registration =
        serde_json::from_value(serde_json::json!({
            "provider": "x", "token_endpoint": "https://x/token", "scope": "s",
            "sasl_method": "XOAUTH2"
        }))
        .unwrap();
    assert_eq!(registration.revocation_endpoint, None);
}

/// At a shell (stdin, stdout and stderr a terminal) the person reads the message: no hook. A mail
/// client on the same terminal reads the token from a pipe, as neomutt does: the hook runs.
#[test]
fn the_hook_stays_quiet_for_a_person_at_a_terminal_but_not_for_neomutt() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("script(1) is not installed; skipping");
        return;
    }
    let sandbox = Sandbox::new();
    let server = provider();
    let record = install_hook(&sandbox);
    account(
        &sandbox,
        "revoked",
        &server,
        Utc::now() - Duration::hours(1),
        |t| {
            t.refresh_token = Some(mailtoken::secret::Secret::new("dead"));
        },
    );
    let under_terminal = |command: &str| {
        std::process::Command::new("script")
            .args(["-qec", command, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", sandbox.home())
            .env("XDG_CONFIG_HOME", sandbox.config_home())
            .env("XDG_DATA_HOME", sandbox.data_home())
            .stdin(std::process::Stdio::null())
            .output()
            .expect("script runs")
    };
    let binary = env!("CARGO_BIN_EXE_mailtoken");
    let shell = under_terminal(&format!("{binary} revoked"));
    assert_eq!(shell.status.code(), Some(77));
    std::thread::sleep(StdDuration::from_millis(500));
    assert!(!record.exists(), "the hook ran for a person at a terminal");
    let neomutt = under_terminal(&format!("{binary} revoked | cat"));
    assert!(String::from_utf8_lossy(&neomutt.stdout).contains("invalid_grant"));
    assert_eq!(wait_for_lines(&record, 1).len(), 1);
}
