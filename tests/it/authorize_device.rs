//! `--authorize --authflow devicecode` (RFC 8628) against the fake provider: the code shown on
//! stderr, polling with authorization_pending and slow_down, refusal, expiry, the deadline, and a
//! failed re-authorization that leaves the old file alone.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use mailtoken::testing::tokenfile::Flow;

use crate::support::*;

/// A first device-flow sign-in at `provider` for the file `path`, waiting `timeout` seconds.
fn sign_in(provider: &FakeProvider, path: &Path, timeout: &str) -> Vec<String> {
    provider.sign_in(path, "devicecode", &PERSON, &["--auth-timeout", timeout])
}

/// A new sandbox and its file `account`, and the run of a device-flow sign-in to it at a
/// provider that `setup` set up.
fn device_sign_in(setup: impl FnOnce(&mut ProviderState)) -> (Sandbox, FakeProvider, Run) {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(setup);
    let run = sandbox.run(&sign_in(&provider, &sandbox.path("account"), "60"));
    (sandbox, provider, run)
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

    let run = sandbox.run(&sign_in(&provider, &path, "60"));

    run.expect(0, "access-from-device\n");
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
    assert_eq!(saved.flow, Flow::Devicecode);
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
    let errors = ["access_denied", "authorization_declined"];
    each_case(errors.map(|error| (error, error)), |error| {
        let (sandbox, _, run) = device_sign_in(|s| s.device_script = [error].into());
        run.expect(77, "");
        run.says(&format!("the sign-in was refused ({error}"));
        assert!(!sandbox.path("account").exists());
    });
}

#[test]
fn an_expired_code_reported_by_the_server_is_exit_77() {
    let (_, _, run) = device_sign_in(|s| s.device_script = ["expired_token"].into());
    run.expect(77, "");
    run.says("device code expired");
}

#[test]
fn polling_stops_at_expires_in() {
    let (_, provider, run) = device_sign_in(|s| {
        s.device_always_pending = true;
        s.device_expires_in = 3;
    });
    run.expect(77, "");
    run.says("device code expired");
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
    let run = sandbox.run(&sign_in(&provider, &sandbox.path("account"), "2"));
    run.expect(75, "");
    run.says("no sign-in completed within 2 s");
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
    let mut old = sandbox.token(&format!("{}/token", provider.url()), minutes_from_now(60));
    old.registration.devicecode_endpoint = Some(format!("{}/device", provider.url()));
    let path = sandbox.save("account", &old);
    let before = Snapshot::of(&path);

    let file = path.to_str().unwrap();
    let run = sandbox.run(&[file, "--authorize", "--authflow", "devicecode"]);

    run.expect(77, "");
    // The old login is untouched.
    before.unchanged();
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
    if !require("script") {
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
    let args = provider.sign_in(&path, "devicecode", &PERSON, &[]);
    let quoted: Vec<String> = args
        .iter()
        .map(|a| mailtoken::testing::paths::shell_quote(a))
        .collect();
    let command = format!("\"$MAILTOKEN\" {} > stdout", quoted.join(" "));
    let output = sandbox
        .terminal(&command)
        .env("TERM", "xterm")
        .output()
        .expect("script runs");
    let terminal = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{terminal}");
    assert_eq!(sandbox.read("stdout"), "access-from-device\n");
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
