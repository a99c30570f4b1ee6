//! Issue #35, items 1 and 2: the login's end foreseen (a lifetime the provider states, Microsoft's
//! 90 days without use, Google's six months and its Testing apps' 7 days) on `--status`,
//! `--list` and `--json`, and `--check --warn-days` warning through the notify hook once a day,
//! or keeping alive a login whose end moves with use. Clocks are shifted by writing the token
//! files' times.

use std::path::PathBuf;

use chrono::{Duration, Utc};
use mailtoken::testing::secret::Secret;
use mailtoken::testing::tokenfile::TokenFile;

use crate::lifecycle::{hooks_started, install_hook, lines_of_hooks};
use crate::support::*;

/// An account in the accounts directory at `server`, changed by `change`.
fn account(
    sandbox: &Sandbox,
    name: &str,
    server: &FakeServer,
    change: impl FnOnce(&mut TokenFile),
) -> PathBuf {
    let path = sandbox.accounts_dir().join(name);
    let mut token = sandbox.token(&server.token_endpoint(), minutes_from_now(30));
    token.email = format!("{name}@example.com");
    change(&mut token);
    sandbox.write_token(&path, &token);
    path
}

fn json_of(sandbox: &Sandbox, name: &str) -> serde_json::Value {
    let run = sandbox.run(&["--status", "--json", name]);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).unwrap()
}

/// A token response stating the refresh token's lifetime, as GitHub documents one
/// ("refresh_token_expires_in": 15811200, omniauth/omniauth-github#99, copied from GitHub's
/// "Refreshing user access tokens"), here three days.
fn stating_three_days() -> FakeServer {
    FakeServer::answering(Reply::json(
        200,
        serde_json::json!({
            "access_token": "access-2", "expires_in": 28800, "token_type": "bearer",
            "refresh_token": "refresh-2", "refresh_token_expires_in": 3 * 24 * 3600,
        }),
    ))
}

#[test]
fn a_lifetime_the_provider_states_is_shown_on_every_surface() {
    let sandbox = Sandbox::new();
    let server = stating_three_days();
    account(&sandbox, "work", &server, |t| {
        t.access_token_expiry = minutes_from_now(-1);
    });
    sandbox.run(&["work"]).expect(0, "access-2\n");

    let json = json_of(&sandbox, "work");
    assert_eq!(json["login_ends_basis"], "stated");
    let ends = chrono::DateTime::parse_from_rfc3339(json["login_ends"].as_str().unwrap()).unwrap();
    let left = ends.with_timezone(&Utc) - Utc::now();
    assert!(
        left > Duration::days(3) - Duration::minutes(5) && left <= Duration::days(3),
        "{left}"
    );
    let status = sandbox.run(&["--status", "work"]);
    status.prints("login ends:     ");
    status.prints("(in 2 days; the provider said so)");
    let list = sandbox.run(&["--list"]);
    assert!(
        list.stdout.contains("ok; login ends in 2 days"),
        "{}",
        list.stdout
    );
}

/// Keycloak's `refresh_expires_in` (its AccessTokenResponse), 0 meaning no limit.
#[test]
fn keycloaks_field_is_read_and_zero_means_unknown() {
    for (seconds, stated) in [(1800, true), (0, false)] {
        let sandbox = Sandbox::new();
        let server = FakeServer::answering(Reply::json(
            200,
            serde_json::json!({"access_token": "a2", "expires_in": 300, "token_type": "Bearer",
                "refresh_expires_in": seconds, "refresh_token": "r2"}),
        ));
        account(&sandbox, "kc", &server, |t| {
            t.access_token_expiry = minutes_from_now(-1)
        });
        sandbox.run(&["kc"]).expect(0, "a2\n");
        let json = json_of(&sandbox, "kc");
        assert_eq!(json["login_ends_basis"].is_null(), !stated, "{json}");
    }
}

#[test]
fn microsoft_and_google_rules_count_from_the_last_use_and_unknown_says_so() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::token("unused", None, 3600));
    let used = Utc::now() - Duration::days(10);
    for (name, provider) in [("ms", "microsoft"), ("gmail", "google"), ("other", "test")] {
        account(&sandbox, name, &server, |t| {
            t.registration.provider = provider.into();
            t.access_token_obtained = Some(used);
        });
    }
    let ms = json_of(&sandbox, "ms");
    assert_eq!(ms["login_ends_basis"], "microsoft-90-days-unused");
    assert_eq!(
        ms["login_ends"],
        (used + Duration::days(90)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(
        json_of(&sandbox, "gmail")["login_ends_basis"],
        "google-6-months-unused"
    );
    let other = json_of(&sandbox, "other");
    assert!(other["login_ends"].is_null() && other["login_ends_basis"].is_null());
    sandbox
        .run(&["--status", "other"])
        .prints("login ends:     not known");
    assert!(server.requests().is_empty(), "no surface asks the provider");
}

/// Google's Testing apps: learnt from an invalid_grant about seven days after the sign-in
/// (Google's answer to an expired login, as oama#17 printed it), then known for every account of
/// that client.
#[test]
fn a_testing_apps_seven_days_are_learnt_from_its_end_and_known_for_the_client() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::raw(
        400,
        "application/json",
        "{\n  \"error\": \"invalid_grant\",\n  \"error_description\": \"Token has been expired or revoked.\"\n}",
    ));
    let started = Utc::now() - Duration::days(7) - Duration::hours(1);
    account(&sandbox, "ended", &server, |t| {
        t.registration.provider = "google".into();
        t.login_started = Some(started);
        t.access_token_obtained = Some(started);
        t.access_token_expiry = minutes_from_now(-1);
    });
    let run = sandbox.run(&["ended"]);
    run.expect_code(77);
    run.says("belongs to a Google app in Testing status");
    // Another account of the same client, signed in a day ago.
    let recent = Utc::now() - Duration::days(1);
    account(&sandbox, "fresh", &server, |t| {
        t.registration.provider = "google".into();
        t.login_started = Some(recent);
        t.access_token_obtained = Some(recent);
    });
    let json = json_of(&sandbox, "fresh");
    assert_eq!(json["login_ends_basis"], "google-testing-7-days");
    assert_eq!(
        json["login_ends"],
        (recent + Duration::days(7)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // An invalid_grant long after the sign-in (six months unused) teaches nothing.
    let other = Sandbox::new();
    account(&other, "old", &server, |t| {
        t.registration.provider = "google".into();
        t.client_id = "another-client".into();
        t.login_started = Some(Utc::now() - Duration::days(200));
        t.access_token_expiry = minutes_from_now(-1);
    });
    other
        .run(&["old"])
        .never_says("belongs to a Google app in Testing status");
}

#[test]
fn testing_app_is_refused_for_a_provider_that_is_not_google() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let run = sandbox.run(&provider.sign_in(&path, "devicecode", &PERSON, &["--testing-app"]));
    run.expect(64, "");
    run.says("--testing-app is about Google apps");
    assert!(provider.server.requests().is_empty());
}

/// Item 2: `--check --warn-days 5` with a login that ends in three days and cannot be kept alive
/// (a stated lifetime): the hook runs once, with the event and the end; the next check the same
/// day stays quiet.
#[test]
fn check_warns_once_a_day_through_the_hook_before_a_login_ends() {
    let sandbox = Sandbox::new();
    let record = install_hook(&sandbox);
    let server = stating_three_days();
    let ends = Utc::now() + Duration::days(3);
    account(&sandbox, "work", &server, |t| {
        t.login_ends_stated = Some(ends);
        t.access_token_obtained = Some(Utc::now());
    });
    let run = sandbox.run(&["--verbose", "--check", "--warn-days", "5"]);
    run.expect(0, "");
    run.says("mailtoken: work: the login ends ");
    run.says("sign in again before then: mailtoken --authorize work");
    let started = hooks_started(&run);
    assert_eq!(started.len(), 1, "{}", run.stderr);
    let lines = lines_of_hooks(&record, &started);
    assert!(
        lines[0].starts_with("work|work@example.com|mailtoken --authorize work|the login ends "),
        "{lines:?}"
    );

    let again = sandbox.run(&["--verbose", "--check", "--warn-days", "5"]);
    again.expect(0, "");
    again.says("the notify hook already warned about this account today");
    assert!(hooks_started(&again).is_empty());
    // Two days' warning is not yet due.
    let quiet = Sandbox::new();
    install_hook(&quiet);
    account(&quiet, "work", &server, |t| {
        t.login_ends_stated = Some(ends);
        t.access_token_obtained = Some(Utc::now());
    });
    let run = quiet.run(&["--verbose", "--check", "--warn-days", "2"]);
    run.expect(0, "");
    assert!(hooks_started(&run).is_empty(), "{}", run.stderr);
    assert!(
        server.requests().is_empty(),
        "a stated end is not moved by a refresh"
    );
}

/// The hook's environment says what happened and when the login ends.
#[test]
fn the_hook_is_told_the_event_and_the_end() {
    let sandbox = Sandbox::new();
    let hook = sandbox.config_home().join("mailtoken/notify");
    let record = sandbox.path("hook-env");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nenv > '{0}.tmp' && mv '{0}.tmp' '{0}'\n",
            record.display()
        ),
    )
    .unwrap();
    set_mode(&hook, 0o700);
    let server = stating_three_days();
    let ends = Utc::now() + Duration::days(1);
    account(&sandbox, "work", &server, |t| {
        t.login_ends_stated = Some(ends)
    });
    sandbox.run(&["--check"]).expect(0, "");
    assert!(eventually(|| record.exists()));
    let env = std::fs::read_to_string(&record).unwrap();
    assert!(env.contains("MAILTOKEN_EVENT=ending\n"), "{env}");
    assert!(
        env.contains(&format!(
            "MAILTOKEN_LOGIN_ENDS={}\n",
            ends.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        "{env}"
    );
    assert!(env.contains("MAILTOKEN_LOGIN_ENDS_BASIS=stated\n"), "{env}");
}

/// Microsoft's end moves with every refresh: a login 88 days unused is refreshed by the check,
/// not warned about.
#[test]
fn check_keeps_alive_a_login_whose_end_moves_with_use() {
    let sandbox = Sandbox::new();
    let record = install_hook(&sandbox);
    let server = FakeServer::answering(Reply::token("access-2", Some("refresh-2"), 3600));
    account(&sandbox, "ms", &server, |t| {
        t.registration.provider = "microsoft".into();
        t.access_token_obtained = Some(Utc::now() - Duration::days(88));
        t.refresh_token = Some(Secret::new("refresh-1"));
    });
    // --keepalive would not refresh it (its default is 7 days, and 88 days is over that too), so
    // 100 days stands for "not idle by --keepalive".
    let run = sandbox.run(&["--verbose", "--check", "--keepalive", "100"]);
    run.expect(0, "");
    assert_eq!(
        server.requests().len(),
        1,
        "the login was used, which moves its end"
    );
    assert!(hooks_started(&run).is_empty(), "{}", run.stderr);
    assert!(!record.exists());
    let json = json_of(&sandbox, "ms");
    let ends = chrono::DateTime::parse_from_rfc3339(json["login_ends"].as_str().unwrap()).unwrap();
    assert!(ends.with_timezone(&Utc) - Utc::now() > Duration::days(89));
}
