//! A registration entered once (issue 24, item 8): a new account at a provider another account
//! already uses takes that account's client id and secret, saying which account they came from;
//! without a terminal only when exactly one registration is in use.

use crate::support::*;

/// A first clientcredentials sign-in of `name` (a bare account name) at `provider`, with `who`.
fn sign_in(sandbox: &Sandbox, provider: &FakeProvider, name: &str, who: &[&str]) -> Run {
    let mut args = strings(&[name, "--authorize", "--authflow", "clientcredentials"]);
    args.extend(strings(who));
    args.extend(provider.endpoint_args());
    sandbox.run(&args)
}

#[test]
fn a_second_account_takes_the_client_of_the_first_and_says_so() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &provider, "first", &SERVICE).expect_code(0);

    let run = sign_in(
        &sandbox,
        &provider,
        "second",
        &["--email", "other@example.com"],
    );
    run.expect_code(0);
    run.says("using the registration of account first at testprovider: client id test-client and its client secret");
    run.never_says("s3cret");
    let requests = provider.requests_to("/token");
    let last = &requests.last().unwrap().form;
    assert_eq!(last["client_id"], CLIENT_ID);
    assert_eq!(last["client_secret"], "s3cret");
    let second = sandbox.read_token(&sandbox.accounts_dir().join("second"));
    assert_eq!(second.client_id, CLIENT_ID);
    assert_eq!(second.email, "other@example.com");
}

#[test]
fn two_registrations_in_use_are_not_guessed_between_without_a_terminal() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &provider, "first", &SERVICE).expect_code(0);
    let mut copy = sandbox.read_token(&sandbox.accounts_dir().join("first"));
    copy.client_id = "another-client".into();
    sandbox.write_token(&sandbox.accounts_dir().join("copy"), &copy);

    let run = sign_in(
        &sandbox,
        &provider,
        "second",
        &["--email", "other@example.com"],
    );
    run.expect_code(64);
    run.says("accounts copy and first use different registrations at testprovider");
    run.says("no client id");
    assert!(!sandbox.accounts_dir().join("second").exists());
}

#[test]
fn an_account_at_another_provider_offers_nothing() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &provider, "first", &SERVICE).expect_code(0);
    let mut elsewhere = sandbox.read_token(&sandbox.accounts_dir().join("first"));
    elsewhere.registration.provider = "someone-else".into();
    sandbox.write_token(&sandbox.accounts_dir().join("first"), &elsewhere);

    let run = sign_in(
        &sandbox,
        &provider,
        "second",
        &["--email", "other@example.com"],
    );
    run.expect_code(64);
    run.never_says("using the registration");
    run.says("no client id");
}

#[test]
fn a_client_id_given_is_never_replaced() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &provider, "first", &SERVICE).expect_code(0);
    let run = sign_in(
        &sandbox,
        &provider,
        "second",
        &[
            "--email",
            "x@example.com",
            "--client-id",
            "unknown",
            "--client-secret",
            "s3cret",
        ],
    );
    run.never_says("using the registration");
    assert_eq!(
        provider.requests_to("/token").last().unwrap().form["client_id"],
        "unknown"
    );
}

#[test]
fn on_a_terminal_the_registration_is_offered_and_taken_when_chosen() {
    if !require("script") {
        return;
    }
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &provider, "first", &SERVICE).expect_code(0);
    let mut args = strings(&["second", "--authorize", "--authflow", "clientcredentials"]);
    args.extend(strings(&["--email", "other@example.com"]));
    args.extend(provider.endpoint_args());
    let quoted: Vec<String> = args
        .iter()
        .map(|a| mailtoken::testing::paths::shell_quote(a))
        .collect();
    let mut child = sandbox
        .terminal(&format!("\"$MAILTOKEN\" {} > stdout", quoted.join(" ")))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"1\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{terminal}");
    assert!(
        terminal.contains("client id test-client (account first)"),
        "{terminal}"
    );
    assert!(
        terminal.contains("using the registration of account first"),
        "{terminal}"
    );
    assert_eq!(sandbox.read("stdout"), "access-from-client-credentials\n");
}

#[test]
fn an_account_that_would_ask_for_a_passphrase_is_not_opened() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    sign_in(&sandbox, &provider, "first", &SERVICE).expect_code(0);
    let first = sandbox.accounts_dir().join("first");
    let mut token = sandbox.read_token(&first);
    token.encryption = mailtoken::testing::encryption::EncryptionSpec::AgePassphrase;
    write_private(
        &first,
        passphrase_encrypt("correct horse", &token.to_json()),
    );

    let run = sign_in(
        &sandbox,
        &provider,
        "second",
        &["--email", "other@example.com"],
    );
    run.expect_code(64);
    run.never_says("using the registration");
    run.never_says("passphrase");
}

#[test]
fn a_service_accounts_key_is_no_registration_for_a_person() {
    use crate::support::jwt::service_account_json;
    let server = FakeServer::answering(Reply::token("relay-token", None, 3600));
    let sandbox = Sandbox::new();
    let key = sandbox.path("service.json");
    write_private(&key, service_account_json(&server.token_endpoint()));
    sandbox
        .run(&[
            "relay",
            "--authorize",
            "--service-account",
            key.to_str().unwrap(),
            "--email",
            "relay@example.com",
        ])
        .expect(0, "relay-token\n");
    let run = sandbox.run(&[
        "person",
        "--authorize",
        "--provider",
        "google",
        "--authflow",
        "authcode",
        "--email",
        "me@example.com",
    ]);
    run.expect_code(64);
    run.never_says("using the registration");
    run.says("no client id");
}

/// Issue #32, item 6: a second account at the same issuer takes the first one's mail servers too
/// (a custom provider's discovery names none), saying so; a server given on the command line is
/// kept. (The fake provider's flags give every account its IMAP server.)
#[test]
fn a_second_account_takes_the_mail_servers_of_the_first_and_says_so() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    let mut first = SERVICE.to_vec();
    first.extend(["--smtp-endpoint", "smtp://mail.example.org:587"]);
    first.extend(["--pop-endpoint", "pop3s://mail.example.org:995"]);
    sign_in(&sandbox, &provider, "first", &first).expect_code(0);

    let run = sign_in(
        &sandbox,
        &provider,
        "second",
        &[
            "--email",
            "other@example.com",
            "--smtp-endpoint",
            "smtps://other.example.org:465",
        ],
    );
    run.expect_code(0);
    run.says(
        "using the mail servers of account first at testprovider: pop3s://mail.example.org:995",
    );
    let registration = sandbox
        .read_token(&sandbox.accounts_dir().join("second"))
        .registration;
    assert_eq!(
        registration.pop_endpoint.unwrap().url(),
        "pop3s://mail.example.org:995"
    );
    assert_eq!(
        registration.smtp_endpoint.unwrap().url(),
        "smtps://other.example.org:465"
    );
}
