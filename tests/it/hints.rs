//! Issue #21, item 5: every hint leads to the real fix. A damaged file leads to `--authorize`, a
//! lost identity is never silently replaced while files need it, a custom provider gets a scope
//! it offers (or a refusal naming `--scope` before any browser opens), a mistyped account name
//! is named, and "the login itself is fine" is said only where there is a login.

use std::path::Path;

use crate::support::*;

/// A port nothing listens on.
fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A device sign-in of the person at `provider` into `path`.
fn device_sign_in(provider: &FakeProvider, path: &Path) -> Vec<String> {
    provider.sign_in(path, "devicecode", &PERSON, &["--auth-timeout", "60"])
}

#[test]
fn a_damaged_file_leads_to_a_new_sign_in_not_to_another_identity() {
    let sandbox = Sandbox::new();
    let path = sandbox.account("https://login.example.com/token", minutes_from_now(30));
    let whole = std::fs::read(&path).unwrap();
    let header_end = whole
        .windows(4)
        .position(|w| w == b"--- ")
        .expect("the age header's MAC line");
    // Another base64 character in the header's MAC: a header that parses but does not
    // authenticate.
    let mut changed_mac = whole.clone();
    let at = header_end + 5;
    changed_mac[at] = if changed_mac[at] == b'A' { b'B' } else { b'A' };
    each_case(
        [
            ("cut short", whole[..whole.len() - 20].to_vec()),
            ("header changed", changed_mac),
            ("header unreadable", {
                let mut broken = whole.clone();
                broken[header_end + 5] = b'!';
                broken
            }),
        ],
        |damaged| {
            std::fs::remove_file(&path).unwrap();
            write_private(&path, damaged);
            let run = sandbox.run(&[&path]);
            run.expect(65, "");
            run.says("is damaged");
            run.says(&format!(
                "hint: run 'mailtoken --authorize {}' to sign in again; the damaged file is kept aside",
                path.display()
            ));
            run.never_says("--age-identity");
        },
    );
    // A file for another identity still says which identity to give.
    let other = Sandbox::new();
    let foreign = other.account("https://login.example.com/token", minutes_from_now(30));
    std::fs::copy(&foreign, &path).unwrap();
    let run = sandbox.run(&[&path]);
    run.expect(65, "");
    run.says("--age-identity");
}

#[test]
fn a_lost_identity_is_not_replaced_while_token_files_need_it() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let existing = sandbox.accounts_dir().join("work");
    sandbox.write_token(
        &existing,
        &sandbox.token(&format!("{}/token", provider.url()), minutes_from_now(30)),
    );
    std::fs::remove_file(sandbox.identity_path()).unwrap();

    let new = sandbox.path("new");
    let run = sandbox.run(&device_sign_in(&provider, &new));
    run.expect(78, "");
    run.says(&format!(
        "the age identity {} is missing, and one token file (work) is encrypted to an age identity",
        sandbox.identity_path().display()
    ));
    run.says("restore");
    run.says("backup");
    assert!(!sandbox.identity_path().exists(), "no second identity");
    assert!(provider.requests_to("/device").is_empty(), "refused first");
    assert!(!new.exists());

    // Moved away on purpose: a new identity is made, and said.
    std::fs::rename(&existing, sandbox.path("work.lost")).unwrap();
    let run = sandbox.run(&device_sign_in(&provider, &new));
    run.expect_code(0);
    run.says("created age identity");
    assert!(sandbox.identity_path().exists());
}

#[test]
fn a_custom_provider_gets_the_scopes_it_offers_or_a_refusal_naming_scope() {
    // oidc-provider's metadata lists openid and offline_access: both asked for, and said.
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.metadata_at = MetadataAt::OAuth);
    let path = sandbox.path("account");
    let mut args = strings(&[path.to_str().unwrap(), "--authorize", "--issuer"]);
    args.extend(strings(&[&provider.url(), "--authflow", "devicecode"]));
    args.extend(strings(&PERSON));
    let run = sandbox.run(&args);
    run.expect_code(0);
    run.says("no --scope given; asking for 'openid offline_access'");
    assert_eq!(
        provider.requests_to("/device")[0].form["scope"],
        "openid offline_access"
    );

    // Metadata without scopes_supported: refused before anything is sent.
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OAuth;
        s.scopes_supported = None;
    });
    let mut args = strings(&[
        sandbox.path("account").to_str().unwrap(),
        "--authorize",
        "--issuer",
    ]);
    args.extend(strings(&[
        &provider.url(),
        "--authflow",
        "localhostauthcode",
    ]));
    args.extend(strings(&PERSON));
    let run = sandbox.run(&args);
    run.expect(64, "");
    run.says("--scope");
    run.never_says("/authorize?");
    assert!(provider.requests_to("/authorize").is_empty());
    assert!(provider.requests_to("/device").is_empty());
}

#[test]
fn a_mistyped_account_name_names_the_account() {
    let sandbox = Sandbox::new();
    let path = sandbox.accounts_dir().join("work");
    sandbox.write_token(
        &path,
        &sandbox.token("https://login.example.com/token", minutes_from_now(30)),
    );
    let run = sandbox.run(&["wrok"]);
    run.expect(66, "");
    run.says("did you mean 'work'?");
    run.says("mailtoken --authorize wrok");
    // Nothing near: only how to create it.
    let run = sandbox.run(&["personal"]);
    run.expect(66, "");
    run.never_says("did you mean");
}

#[test]
fn only_a_login_that_exists_is_called_fine() {
    let sandbox = Sandbox::new();
    let closed = closed_url();
    let mut args = strings(&[
        sandbox.path("new").to_str().unwrap(),
        "--authorize",
        "--authflow",
        "devicecode",
    ]);
    args.extend(strings(&PERSON));
    args.extend(strings(&[
        "--provider",
        "testprovider",
        "--token-endpoint",
        &format!("{closed}/token"),
        "--devicecode-endpoint",
        &format!("{closed}/device"),
        "--scope",
        "mail",
    ]));
    let run = sandbox.run(&args);
    run.expect(75, "");
    run.says("nothing was signed in or stored yet");
    run.never_says("the login itself is fine");
}

/// Issue #32: a file from another machine ("no matching keys") leads to the identity to restore
/// and to a new sign-in, both for the account as typed.
#[test]
fn a_file_for_another_identity_names_the_identity_and_the_sign_in() {
    let sandbox = Sandbox::new();
    let other = age::x25519::Identity::generate();
    let token = token_file(
        test_registration(UNUSED_TOKEN_ENDPOINT),
        age_to(&other),
        minutes_from_now(30),
    );
    write_private(
        &sandbox.accounts_dir().join("work"),
        encrypt(&token.encryption, &token.to_json()),
    );
    let run = sandbox.run(&["work"]);
    run.expect(65, "");
    run.says("encrypted to another age identity: restore that one");
    run.says("age-identity.txt");
    run.says("or run 'mailtoken --authorize work' to sign in again");
}

/// Issue #32: a flag that only a sign-in records names the account as typed, not TOKENFILE.
#[test]
fn a_sign_in_flag_names_the_account_as_typed() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["--status", "my work", "--scope", "mail"]);
    run.expect(64, "");
    run.says("run 'mailtoken --authorize 'my work'' with it");
    run.never_says("TOKENFILE");
}

/// Issue #32: a missing mail server is recorded with `--set`, for the account as typed.
#[test]
fn a_missing_server_leads_to_set_for_the_account_as_typed() {
    let sandbox = Sandbox::new();
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60));
    token.registration.imap_endpoint = None;
    token.registration.smtp_endpoint = None;
    token.registration.pop_endpoint = None;
    sandbox.write_token(&sandbox.accounts_dir().join("work"), &token);
    let run = sandbox.run(&["work", "--format", "sasl"]);
    run.expect(78, "");
    run.says("hint: run 'mailtoken --set work --imap-endpoint URL' to record one");
    let run = sandbox.run(&["work", "--test", "--protocol", "smtp"]);
    run.expect(78, "");
    run.says("'mailtoken --set work --smtp-endpoint URL'");
    let run = sandbox.run(&["work", "--test"]);
    run.expect(78, "");
    run.says("'mailtoken --set work --imap-endpoint URL'");
}
