//! `--authorize --authflow devicecode` (RFC 8628) against the fake provider: the code shown on
//! stderr, polling with authorization_pending and slow_down, refusal, expiry, the deadline, and a
//! failed re-authorization that leaves the old file alone.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::*;

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
    assert_eq!(saved.flow, mailtoken::cli::Flow::Devicecode);
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
