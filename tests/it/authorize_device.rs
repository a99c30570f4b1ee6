//! `--authorize --authflow devicecode` (RFC 8628) against the fake provider: the code shown on
//! stderr, polling with authorization_pending and slow_down, refusal, expiry, the deadline, and a
//! failed re-authorization that leaves the old file alone.

use std::time::Duration;

use crate::support::*;
use chrono::Utc;

fn args(provider: &FakeProvider, path: &std::path::Path, timeout: &str) -> Vec<String> {
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
        timeout,
    ]);
    args.extend(provider.endpoint_args());
    args
}

fn run(sandbox: &Sandbox, args: &[String]) -> Run {
    sandbox.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn polls_through_pending_and_slow_down_and_really_slows_down() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.device_interval = Some(1);
        s.device_script = ["authorization_pending", "slow_down"].into();
    });
    let path = sandbox.path("account");
    let began = Utc::now();

    let run = run(&sandbox, &args(&provider, &path, "60"));

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-device\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("{}/activate", provider.url()))
            && run.stderr.contains(USER_CODE),
        "verification_uri and user_code are shown though no message was sent: {}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("/activate?user_code={USER_CODE}")),
        "verification_uri_complete is shown: {}",
        run.stderr
    );
    let device = &provider.requests_to("/device")[0].form;
    assert_eq!(device["client_id"], CLIENT_ID);
    assert_eq!(device["scope"], "mail offline_access");
    let polls = provider.requests_to("/token");
    assert_eq!(polls.len(), 3);
    for poll in &polls {
        assert_eq!(
            poll.form["grant_type"],
            "urn:ietf:params:oauth:grant-type:device_code"
        );
        assert_eq!(poll.form["device_code"], DEVICE_CODE);
        assert_eq!(poll.form["client_id"], CLIENT_ID);
    }
    // RFC 8628 section 3.5: after slow_down the interval is 1 + 5 seconds, for every later poll.
    let times = provider.with(|s| s.device_polls.clone());
    let after_slow_down = times[2] - times[1];
    assert!(
        after_slow_down >= Duration::from_secs(6),
        "waited only {after_slow_down:?} after slow_down"
    );
    let saved = sandbox.read_token(&path);
    assert_eq!(
        saved.refresh_token.as_ref().unwrap().expose(),
        "refresh-from-device"
    );
    assert_eq!(saved.flow, mailtoken::tokenfile::Flow::Devicecode);
    // The token's life counts from the poll that got it, not from the start of the sign-in.
    let obtained = saved.access_token_obtained.unwrap();
    assert!(
        obtained - began >= chrono::Duration::seconds(7),
        "{obtained} vs {began}"
    );
    assert_eq!(
        saved.access_token_expiry - obtained,
        chrono::Duration::seconds(3600)
    );
}

#[test]
fn a_refusal_is_exit_77() {
    // Microsoft spells access_denied as authorization_declined.
    for error in ["access_denied", "authorization_declined"] {
        let sandbox = Sandbox::new();
        let provider = FakeProvider::start();
        provider.with(|s| s.device_script = [error].into());
        let path = sandbox.path("account");
        let run = run(&sandbox, &args(&provider, &path, "60"));
        assert_eq!((run.code, run.stdout.as_str()), (77, ""));
        assert!(
            run.stderr
                .contains(&format!("the sign-in was refused ({error}")),
            "{}",
            run.stderr
        );
        assert!(!path.exists());
    }
}

#[test]
fn an_expired_code_reported_by_the_server_is_exit_77() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.device_script = ["expired_token"].into());
    let path = sandbox.path("account");
    let run = run(&sandbox, &args(&provider, &path, "60"));
    assert_eq!((run.code, run.stdout.as_str()), (77, ""));
    assert!(run.stderr.contains("device code expired"), "{}", run.stderr);
}

#[test]
fn polling_stops_at_expires_in() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.device_always_pending = true;
        s.device_expires_in = 3;
    });
    let path = sandbox.path("account");
    let run = run(&sandbox, &args(&provider, &path, "60"));
    assert_eq!((run.code, run.stdout.as_str()), (77, ""), "{}", run.stderr);
    assert!(run.stderr.contains("device code expired"), "{}", run.stderr);
    let polls = provider.requests_to("/token").len();
    assert!(
        (1..=3).contains(&polls),
        "{polls} polls in a 3 s lifetime at 1 s"
    );
}

#[test]
fn the_default_interval_is_five_seconds_and_the_deadline_is_kept() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.device_always_pending = true;
        s.device_interval = None;
    });
    let path = sandbox.path("account");
    let run = run(&sandbox, &args(&provider, &path, "2"));
    assert_eq!((run.code, run.stdout.as_str()), (75, ""));
    assert!(
        run.stderr.contains("no sign-in completed within 2 s"),
        "{}",
        run.stderr
    );
    assert!(
        provider.requests_to("/token").is_empty(),
        "with no interval given, the first poll waits 5 s (RFC 8628 section 3.2)"
    );
}

#[test]
fn a_failed_reauthorization_leaves_the_old_file_byte_identical() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.device_script = ["access_denied"].into());
    let path = sandbox.path("account");
    let mut registration = test_registration(&format!("{}/token", provider.url()));
    registration.devicecode_endpoint = Some(format!("{}/device", provider.url()));
    let old = token_file(
        registration,
        sandbox.age_spec(),
        Utc::now() + chrono::Duration::hours(1),
    );
    sandbox.write_token(&path, &old);
    let before = std::fs::read(&path).unwrap();

    let run = run(
        &sandbox,
        &strings(&[
            path.to_str().unwrap(),
            "--authorize",
            "--authflow",
            "devicecode",
        ]),
    );

    assert_eq!((run.code, run.stdout.as_str()), (77, ""), "{}", run.stderr);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the old login is untouched"
    );
    // The stored client was used, with its secret.
    let device = &provider.requests_to("/device")[0].form;
    assert_eq!(device["client_id"], "test-client");
    assert_eq!(device["client_secret"], "test-secret");
}

/// Issue #12: on a terminal (a pseudo-terminal from script(1)), the code, the address, a QR code
/// of the complete address and the time left, rewritten in place and erased at the end; stdout
/// still only the token. `--auth-timeout` left out: the code's own lifetime is the wait.
#[test]
fn on_a_terminal_the_device_flow_shows_a_qr_code_and_the_time_left() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("script(1) is not installed; skipping");
        return;
    }
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.device_interval = Some(1);
        s.device_expires_in = 125;
        s.device_script = ["authorization_pending", "authorization_pending"].into();
    });
    let path = sandbox.path("account");
    let mut command_args = args(&provider, &path, "60");
    let at = command_args
        .iter()
        .position(|a| a == "--auth-timeout")
        .unwrap();
    command_args.drain(at..at + 2);
    let stdout_file = sandbox.path("stdout");
    let command = format!(
        "{} {} > {}",
        env!("CARGO_BIN_EXE_mailtoken"),
        command_args
            .iter()
            .map(|a| mailtoken::paths::shell_quote(a))
            .collect::<Vec<_>>()
            .join(" "),
        stdout_file.display()
    );
    let mut script = std::process::Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", sandbox.home())
        .env("XDG_CONFIG_HOME", sandbox.config_home())
        .env("XDG_DATA_HOME", sandbox.data_home())
        .env("TZ", "UTC")
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null());
    let output = script.output().expect("script runs");
    let terminal = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{terminal}");
    assert_eq!(
        std::fs::read_to_string(&stdout_file).unwrap(),
        "access-from-device\n"
    );
    assert!(terminal.contains(USER_CODE), "{terminal}");
    assert!(
        terminal.contains(&format!(
            "it opens {}/activate?user_code={USER_CODE}",
            provider.url()
        )),
        "{terminal}"
    );
    assert!(terminal.contains("█▀▀▀▀▀█"), "no QR code in {terminal}");
    assert!(
        terminal.contains("\r\x1b[2KWaiting for the sign-in: 2:0"),
        "the time left counts from the code's lifetime: {terminal}"
    );
    let last = terminal.rfind("Waiting for the sign-in:").unwrap();
    assert!(
        terminal[last..].contains("\r\x1b[2K"),
        "the line is erased at the end: {:?}",
        &terminal[last..]
    );
}
