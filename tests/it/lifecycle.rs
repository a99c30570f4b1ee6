//! Issue #12, the account lifecycle: `--list`, `--json`, `--check` and its keep-alive, the notify
//! hook, `--revoke`. Every run is the real binary in a sandbox, with fake providers.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use mailtoken::testing::secret::Secret;
use mailtoken::testing::tokenfile::TokenFile;

use crate::support::*;

/// An account in the accounts directory whose token expires at `expiry`, refreshing and revoking
/// at `server`.
fn account(
    sandbox: &Sandbox,
    name: &str,
    server: &FakeServer,
    expiry: DateTime<Utc>,
    change: impl FnOnce(&mut TokenFile),
) -> PathBuf {
    let path = sandbox.accounts_dir().join(name);
    let mut token = sandbox.token(&server.token_endpoint(), expiry);
    token.email = format!("{name}@example.com");
    token.registration.revocation_endpoint = Some(format!("{}/revoke", server.url));
    change(&mut token);
    sandbox.write_token(&path, &token);
    path
}

/// An account expired an hour ago whose refresh token `refresh_token` is the provider's to judge.
fn expired(sandbox: &Sandbox, name: &str, server: &FakeServer, refresh_token: &str) -> PathBuf {
    account(sandbox, name, server, minutes_from_now(-60), |t| {
        t.refresh_token = Some(Secret::new(refresh_token));
    })
}

/// A valid account, half an hour left.
fn valid(sandbox: &Sandbox, name: &str, server: &FakeServer) -> PathBuf {
    account(sandbox, name, server, minutes_from_now(30), |_| {})
}

/// A provider whose refresh token `dead` is revoked, `flaky` meets a busy server, and every
/// other one works.
fn provider() -> FakeServer {
    FakeServer::start(|request: &Received| {
        match (request.path.as_str(), request.form.get("refresh_token")) {
            ("/token", Some(token)) if token == "dead" => {
                Reply::oauth_error(400, "invalid_grant", "Token has been revoked.")
            }
            ("/token", Some(token)) if token == "flaky" => Reply::raw(503, "text/plain", "busy"),
            ("/token", _) => Reply::token("fresh-access", None, 3600),
            ("/revoke", _) => Reply::raw(200, "text/plain", ""),
            _ => Reply::raw(404, "text/plain", "not found"),
        }
    })
}

/// A file in the accounts directory that no identity opens.
fn unreadable(path: &Path) {
    write_private(path, b"age-encryption.org/v1\ngarbage");
}

// --- --list and --json --------------------------------------------------------------------------

#[test]
fn list_shows_every_account_aligned_and_only_token_files() {
    let sandbox = Sandbox::new();
    let server = provider();
    account(&sandbox, "gmail", &server, minutes_from_now(40), |_| {});
    account(&sandbox, "work", &server, minutes_from_now(-180), |_| {});
    account(
        &sandbox,
        "old",
        &server,
        minutes_from_now(-3 * 24 * 60),
        |t| {
            t.refresh_token = None;
        },
    );
    let dir = sandbox.accounts_dir();
    // Not accounts: a lock, a kept unreadable copy, a hidden temporary.
    for name in [
        "gmail.lock",
        "work.unreadable-20261129T000000Z",
        ".gmail.1.2.tmp",
    ] {
        write_private(&dir.join(name), b"x");
    }
    // An account that cannot be decrypted is listed, not fatal.
    unreadable(&dir.join("broken"));

    let run = sandbox.run(&["--list"]);
    run.expect_code(0);
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
    assert!(
        lines[3].ends_with("needs sign-in since 3 days ago"),
        "{}",
        run.stdout
    );
    assert!(
        lines[4].ends_with("expired (refreshes on next use)"),
        "{}",
        run.stdout
    );
    for secret in SECRETS {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

#[test]
fn list_json_is_an_array_of_the_documented_objects() {
    let sandbox = Sandbox::new();
    let server = provider();
    let expiry = minutes_from_now(40);
    account(&sandbox, "gmail", &server, expiry, |t| {
        t.granted_scope = Some("mail".into());
    });
    write_private(&sandbox.accounts_dir().join("broken"), b"nonsense");

    let run = sandbox.run(&["--list", "--json"]);
    run.expect_code(0);
    assert!(run.stdout.ends_with("]\n"));
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let array = json.as_array().unwrap();
    assert_eq!(array.len(), 2);
    let keys = [
        "name",
        "path",
        "state",
        "since",
        "reason",
        "email",
        "mailbox",
        "signed_in_as",
        "signed_in_since",
        "provider",
        "flow",
        "redirect_uri",
        "access_token_expires",
        "refresh_token",
        "last_refresh",
        "login_ends",
        "login_ends_basis",
        "scope",
        "encryption",
        "error",
        "background_sign_in_failed",
        "background_sign_in_failure",
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
    assert!(
        gmail["redirect_uri"].is_null(),
        "each sign-in takes a new port"
    );
    assert_eq!(gmail["refresh_token"], true);
    assert_eq!(gmail["scope"], "mail");
    assert_eq!(gmail["encryption"], "age");
    assert_eq!(
        gmail["access_token_expires"],
        expiry.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert!(gmail["error"].is_null());
    for secret in SECRETS {
        assert!(!run.stdout.contains(secret));
    }
}

#[test]
fn status_json_is_one_object_and_human_status_reads_naturally() {
    let sandbox = Sandbox::new();
    let server = provider();
    let expiry = Utc::now() + chrono::Duration::seconds(41 * 60 + 30);
    let path = account(&sandbox, "gmail", &server, expiry, |t| {
        t.email = String::new();
        t.access_token_obtained = Some(minutes_from_now(-3 * 24 * 60));
    });
    let file = path.to_str().unwrap();
    let run = sandbox.run(&["--status", "--json", file]);
    run.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["state"], "ok");
    assert!(json["email"].is_null());
    assert_eq!(json["path"], file);

    let run = sandbox.run(&["--status", file]);
    run.expect_code(0);
    run.prints("(in 41 min)");
    run.prints("(3 days ago)");
    // Local time to the second (TZ=UTC in the sandbox).
    run.prints(" +00:00 (in 41 min)");
    assert!(!run.stdout.contains("e-mail"), "empty lines are left out");
    assert!(!run.stdout.contains("(none)"), "{}", run.stdout);
}

#[test]
fn json_and_list_refuse_what_they_cannot_do() {
    let sandbox = Sandbox::new();
    for args in [["--json", "x"], ["--list", "x"], ["x", "y"]] {
        sandbox.run(&args).expect_code(64);
    }
    // No accounts at all: nothing on stdout, a hint on stderr.
    let run = sandbox.run(&["--list"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    run.says("mailtoken --authorize NAME");
}

// --- --check -----------------------------------------------------------------------------------

#[test]
fn check_refreshes_expired_and_idle_accounts_and_leaves_the_rest_alone() {
    let sandbox = Sandbox::new();
    let server = provider();
    let obtained = |minutes| {
        move |t: &mut TokenFile| t.access_token_obtained = Some(minutes_from_now(minutes))
    };
    let fresh = account(
        &sandbox,
        "fresh",
        &server,
        minutes_from_now(50),
        obtained(-10),
    );
    let expired = account(&sandbox, "expired", &server, minutes_from_now(-60), |_| {});
    let idle = account(
        &sandbox,
        "idle",
        &server,
        minutes_from_now(50),
        obtained(-8 * 24 * 60),
    );

    sandbox.run(&["--check"]).expect_exactly(0, "", "");
    assert_eq!(
        server.requests_to("/token").len(),
        2,
        "expired and idle only"
    );
    assert_eq!(
        sandbox.read_token(&fresh).access_token.expose(),
        CACHED_TOKEN
    );
    for path in [&expired, &idle] {
        assert_eq!(
            sandbox.read_token(path).access_token.expose(),
            "fresh-access"
        );
    }

    // Idle by a day now that the keep-alive is shorter; --keepalive 0 refreshes everything.
    sandbox.run(&["--check", "--keepalive", "0"]).expect_code(0);
    assert_eq!(server.requests_to("/token").len(), 5);
}

#[test]
fn check_names_only_the_account_that_needs_a_sign_in_and_exits_77() {
    let sandbox = Sandbox::new();
    let server = provider();
    account(&sandbox, "good", &server, minutes_from_now(-60), |_| {});
    expired(&sandbox, "revoked", &server, "dead");
    expired(&sandbox, "flaky", &server, "flaky");

    let run = sandbox.run(&["--check"]);
    run.expect(77, "");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("mailtoken: revoked: "),
        "{}",
        run.stderr
    );
    run.says("run 'mailtoken --authorize revoked'");

    // Only the temporary trouble left: 75, and quiet (the next run retries).
    let run = sandbox.run(&["--check", "good", "flaky"]);
    assert_eq!((run.code, run.stderr.as_str()), (75, ""));
    let run = sandbox.run(&["--check", "--verbose", "flaky"]);
    run.says("the next check tries again");
}

#[test]
fn check_reports_an_unreadable_file_without_touching_it() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("broken");
    unreadable(&path);
    let run = sandbox.run(&["--check"]);
    run.expect_code(65);
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

/// A hook that appends its environment to `notified` in the sandbox, one line per run, ending in
/// `|pid=` and its own pid (which `--verbose` names when mailtoken starts it).
pub(crate) fn install_hook(sandbox: &Sandbox) -> PathBuf {
    let hook = sandbox.config_home().join("mailtoken/notify");
    let record = sandbox.path("notified");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nprintf '%s|%s|%s|%s%s|pid=%s\\n' \"$MAILTOKEN_ACCOUNT\" \"$MAILTOKEN_EMAIL\" \
             \"$MAILTOKEN_AUTHORIZE_COMMAND\" \"$MAILTOKEN_REASON\" \"$MAILTOKEN_CLIENT_SECRET\" \"$$\" >> '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    set_mode(&hook, 0o755);
    record
}

/// The pids of the hooks a `--verbose` run started: mailtoken says "ran the notify hook PATH
/// (pid N)" for each one it starts, before it exits, so a verbose run that does not say so
/// started none. The hook runs detached, and this is how a test knows, without waiting for
/// something that may never come, that no other hook will still write.
pub(crate) fn hooks_started(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .filter(|line| line.contains("ran the notify hook"))
        .map(|line| {
            // A terminal's lines end in \r as well.
            let pid = line
                .rsplit_once("(pid ")
                .map(|(_, pid)| pid.trim_end().trim_end_matches(')'));
            pid.unwrap_or_else(|| panic!("no pid in {line:?}"))
                .to_string()
        })
        .collect()
}

/// The record's lines once every hook in `pids` has written its own (each hook's line ends in
/// its pid), failing after ten seconds: a hook that was started but never wrote.
#[track_caller]
pub(crate) fn lines_of_hooks(record: &Path, pids: &[String]) -> Vec<String> {
    let read = || -> Vec<String> {
        let text = std::fs::read_to_string(record).unwrap_or_default();
        text.lines().map(str::to_string).collect()
    };
    let all_wrote = || {
        let lines = read();
        pids.iter().all(|pid| {
            lines
                .iter()
                .any(|line| line.ends_with(&format!("|pid={pid}")))
        })
    };
    assert!(
        eventually(all_wrote),
        "the hooks {pids:?} did not all write to {}: {:?}",
        record.display(),
        read()
    );
    read()
}

#[test]
fn the_hook_runs_once_an_hour_for_a_login_that_ended() {
    let sandbox = Sandbox::new();
    let server = provider();
    let record = install_hook(&sandbox);
    expired(&sandbox, "revoked", &server, "dead");
    account(&sandbox, "good", &server, minutes_from_now(-60), |_| {});

    // Two failing calls of a mail client (no terminal): the first starts the hook, the second
    // finds it ran within the hour and starts none (both say so under --verbose).
    let mut started_hooks = Vec::new();
    for call in ["first", "second"] {
        let started = Instant::now();
        let run = sandbox.run_with(
            &["--verbose", "revoked"],
            &[("MAILTOKEN_CLIENT_SECRET", "env-secret")],
        );
        run.expect(77, "");
        assert!(started.elapsed() < Duration::from_secs(5));
        if call == "second" {
            run.says("the notify hook already ran for this account within the hour");
        }
        started_hooks.extend(hooks_started(&run));
    }
    assert_eq!(started_hooks.len(), 1, "hooks started: {started_hooks:?}");
    let good = sandbox.run(&["--verbose", "good"]);
    good.expect_code(0);
    assert!(
        hooks_started(&good).is_empty(),
        "a working account ran the hook"
    );
    // The one hook started has written; no other was started that could still write.
    let lines = lines_of_hooks(&record, &started_hooks);
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
        let old = std::time::SystemTime::now() - Duration::from_secs(3700);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let check = sandbox.run(&["--verbose", "--check"]);
    check.expect_code(77);
    let again = hooks_started(&check);
    assert_eq!(again.len(), 1, "hooks started by --check: {again:?}");
    assert_eq!(lines_of_hooks(&record, &again).len(), 2);
}

#[test]
fn a_failing_or_slow_hook_changes_nothing_for_the_caller() {
    let sandbox = Sandbox::new();
    let server = provider();
    let hook = sandbox.config_home().join("mailtoken/notify");
    std::fs::write(&hook, "#!/bin/sh\nsleep 30\nexit 3\n").unwrap();
    set_mode(&hook, 0o755);
    expired(&sandbox, "revoked", &server, "dead");
    let started = Instant::now();
    sandbox.run(&["revoked"]).expect_code(77);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the caller waited for the hook"
    );
}

/// At a shell (stdin, stdout and stderr a terminal) the person reads the message: no hook. A mail
/// client on the same terminal reads the token from a pipe, as neomutt does: the hook runs.
#[test]
fn the_hook_stays_quiet_for_a_person_at_a_terminal_but_not_for_neomutt() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let server = provider();
    let record = install_hook(&sandbox);
    expired(&sandbox, "revoked", &server, "dead");
    // The terminal's output (script's stdout) holds mailtoken's stderr; --verbose says there
    // whenever it starts the hook, so the person's run, over once script returns, shows it
    // started none, where neomutt's shows the one that writes the record.
    let under_terminal = |command: &str| {
        let output = run_in_terminal(sandbox.terminal(command));
        let screen = String::from_utf8_lossy(&output.stdout).into_owned();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::new(),
            stderr: screen,
        }
    };
    let shell = under_terminal("\"$MAILTOKEN\" --verbose revoked; exit $?");
    assert_eq!(shell.code, 77, "{}", shell.stderr);
    shell.says("invalid_grant");
    assert!(
        hooks_started(&shell).is_empty(),
        "the hook ran for a person at a terminal: {}",
        shell.stderr
    );
    let neomutt = under_terminal("\"$MAILTOKEN\" --verbose revoked | cat");
    neomutt.says("invalid_grant");
    let started = hooks_started(&neomutt);
    assert_eq!(started.len(), 1, "{}", neomutt.stderr);
    assert_eq!(lines_of_hooks(&record, &started).len(), 1);
}

// --- --revoke ----------------------------------------------------------------------------------

#[test]
fn revoke_ends_the_login_at_the_provider_then_deletes_the_file_and_lock() {
    let sandbox = Sandbox::new();
    let server = provider();
    let path = valid(&sandbox, "gmail", &server);
    std::fs::write(mailtoken::testing::paths::lock_path(&path), b"").unwrap();

    let run = sandbox.run(&["--revoke", "gmail"]);
    run.expect(0, "");
    let revocations = server.requests_to("/revoke");
    assert_eq!(revocations.len(), 2);
    assert_eq!(revocations[0].form["token"], "refresh-1");
    assert_eq!(revocations[0].form["token_type_hint"], "refresh_token");
    assert_eq!(revocations[0].form["client_id"], "test-client");
    assert_eq!(revocations[1].form["token"], CACHED_TOKEN);
    assert!(!path.exists());
    assert!(!mailtoken::testing::paths::lock_path(&path).exists());
    assert!(!run.stderr.contains("refresh-1"));
}

#[test]
fn a_temporary_revocation_failure_deletes_nothing() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::raw(503, "text/plain", "down"));
    let path = valid(&sandbox, "gmail", &server);
    let before = Snapshot::of(&path);
    let run = sandbox.run(&["--revoke", "gmail"]);
    run.expect_code(75);
    run.says("nothing was deleted");
    before.unchanged();
}

#[test]
fn a_refused_revocation_deletes_nothing_but_an_ended_login_is_gone_anyway() {
    let sandbox = Sandbox::new();
    // A refused client keeps its file; a login the provider already ended is gone anyway.
    let cases = [
        ("a", 401, "invalid_client", 78, true),
        ("b", 400, "invalid_grant", 0, false),
    ];
    for (name, status, error, code, kept) in cases {
        let answer = Reply::json(status, serde_json::json!({ "error": error }));
        let server = FakeServer::answering(answer);
        let path = valid(&sandbox, name, &server);
        sandbox.run(&["--revoke", name]).expect_code(code);
        assert_eq!(path.exists(), kept, "{error}");
    }
}

/// Issue #34, item 4: a provider that refuses revocation to a public client was taken for a
/// temporary failure ("nothing was deleted; try again later"), a retry that can never succeed.
#[test]
fn a_provider_that_does_not_let_the_client_revoke_is_said_and_the_file_goes() {
    let sandbox = Sandbox::new();
    let cases = [
        // glewlwyd 2.7.5: ulfius answers U_CALLBACK_UNAUTHORIZED with 401 and no body
        // (src/plugin/protocol_oidc.c callback_check_intropect_revoke). Observed in the
        // end-to-end suite (scenario 39, Debian 12's package): curl -D printed `HTTP/1.1 401
        // Unauthorized`, `Content-Length: 0` and no Content-Type for the public client's
        // revocation of its refresh token.
        ("glewlwyd", true, Reply::raw(401, "", "")),
        // doorkeeper >= 5.4: `render json: revocation_error_response, status: :forbidden` when no
        // client is identified (doorkeeper-gem/doorkeeper#1412; the body reconstructed empty).
        ("doorkeeper", true, Reply::raw(403, "text/plain", "")),
        // django-oauth-toolkit#242: "I get a 401 UNAUTHORIZED {\"error\": \"invalid_client\"}".
        (
            "django",
            true,
            Reply::json(401, serde_json::json!({"error": "invalid_client"})),
        ),
        // RFC 6749 section 5.2's unauthorized_client, to a confidential client as well
        // (reconstructed).
        (
            "confidential",
            false,
            Reply::json(400, serde_json::json!({"error": "unauthorized_client"})),
        ),
    ];
    for (name, public, answer) in cases {
        let server = FakeServer::answering(answer);
        let path = account(&sandbox, name, &server, minutes_from_now(30), |t| {
            if public {
                t.client_secret = None;
            }
        });
        let run = sandbox.run(&["--revoke", name]);
        run.expect(0, "");
        run.says("does not let this client revoke its login");
        run.says("remove mailtoken's access");
        run.never_says("try again");
        assert_eq!(server.requests_to("/revoke").len(), 1, "{name}");
        assert!(
            !path.exists(),
            "{name}: the local file is deleted as --revoke promises"
        );
    }
}

#[test]
fn without_a_revocation_endpoint_it_says_where_to_remove_access() {
    let sandbox = Sandbox::new();
    let server = provider();
    let path = account(&sandbox, "work", &server, minutes_from_now(30), |t| {
        t.registration.provider = "microsoft".into();
        t.registration.revocation_endpoint = None;
    });
    let run = sandbox.run(&["--revoke", path.to_str().unwrap()]);
    run.expect_code(0);
    assert!(server.requests().is_empty());
    run.says("https://account.live.com/consent/Manage");
    run.says("https://myapps.microsoft.com");
    assert!(!path.exists());
}

#[test]
fn revoke_never_deletes_a_file_it_could_not_read() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("broken");
    unreadable(&path);
    sandbox
        .run(&["--revoke", path.to_str().unwrap()])
        .expect_code(65);
    assert!(path.exists());
    let absent = sandbox.path("absent");
    sandbox
        .run(&["--revoke", absent.to_str().unwrap()])
        .expect_code(66);
    assert!(!mailtoken::testing::paths::lock_path(&absent).exists());
}

#[test]
fn old_files_without_a_revocation_endpoint_still_load() {
    let registration: mailtoken::testing::provider::Registration =
        serde_json::from_value(serde_json::json!({
            "provider": "x", "token_endpoint": "https://x/token", "scope": "s",
            "sasl_method": "XOAUTH2"
        }))
        .unwrap();
    assert_eq!(registration.revocation_endpoint, None);
}
