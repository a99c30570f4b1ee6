//! Dynamic client registration (issue 36, item 4; issue 34, item 5): with no client id and an
//! issuer whose metadata names a registration endpoint, mailtoken registers a public native
//! client (RFC 7591), says so, signs in with it and stores it; the next account at the issuer
//! reuses it. A client that cannot work is registered again without
//! `token_endpoint_auth_method` (glewlwyd's quirk), or refused with why; refusals are judged like
//! token answers.

use crate::support::*;

/// A first device-flow sign-in of `name` at `provider`'s issuer with no client id or secret.
fn sign_in(sandbox: &Sandbox, provider: &FakeProvider, name: &str, email: &str) -> Run {
    sandbox.run(&[
        name,
        "--authorize",
        "--issuer",
        &provider.url(),
        "--authflow",
        "devicecode",
        "--email",
        email,
        "--scope",
        "mail offline_access",
        "--auth-timeout",
        "20",
    ])
}

fn registering(mode: Registering) -> FakeProvider {
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OAuth;
        s.registering = Some(mode);
    });
    provider
}

#[test]
fn no_client_id_registers_a_public_client_signs_in_and_the_next_account_reuses_it() {
    let provider = registering(Registering::AsAsked);
    let sandbox = Sandbox::new();
    let run = sign_in(&sandbox, &provider, "first", "user@example.com");
    run.expect(0, "access-from-device\n");
    run.says(&format!(
        "no client id given, so mailtoken registered itself at {} (RFC 7591 dynamic \
         registration): client id {CLIENT_ID}, a public client",
        provider.url()
    ));
    run.never_says("registration-token-1");
    let registrations = provider.requests_to("/register");
    assert_eq!(registrations.len(), 1);
    let asked: serde_json::Value = serde_json::from_str(&registrations[0].body).unwrap();
    assert_eq!(asked["token_endpoint_auth_method"], "none");
    assert_eq!(asked["application_type"], "native");
    assert_eq!(asked["client_name"], "mailtoken");
    assert_eq!(
        asked["redirect_uris"],
        serde_json::json!(["http://127.0.0.1/"])
    );
    assert!(
        asked["grant_types"]
            .as_array()
            .unwrap()
            .contains(&"urn:ietf:params:oauth:grant-type:device_code".into())
    );
    let first = sandbox.read_token(&sandbox.accounts_dir().join("first"));
    assert_eq!(first.client_id, CLIENT_ID);
    assert!(first.client_secret.is_none());
    let stored = first.dynamic_client.expect("the registration is stored");
    assert_eq!(
        stored.registration_access_token.unwrap().expose(),
        "registration-token-1"
    );
    assert_eq!(
        stored.registration_endpoint,
        format!("{}/register", provider.url())
    );
    // The token file is encrypted: the registration access token is not in its bytes.
    let bytes = std::fs::read(sandbox.accounts_dir().join("first")).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("registration-token-1"));

    let run = sign_in(&sandbox, &provider, "second", "other@example.com");
    run.expect(0, "access-from-device\n");
    run.says("using the registration of account first");
    run.never_says("registered itself");
    assert_eq!(
        provider.requests_to("/register").len(),
        1,
        "registered once"
    );
}

#[test]
fn a_confidential_client_without_a_secret_is_registered_again_without_the_member() {
    let provider = registering(Registering::ConfidentialWhenAskedForNone);
    let sandbox = Sandbox::new();
    let run = sign_in(&sandbox, &provider, "first", "user@example.com");
    run.expect(0, "access-from-device\n");
    run.says("the second time without token_endpoint_auth_method");
    let registrations = provider.requests_to("/register");
    assert_eq!(registrations.len(), 2);
    let second: serde_json::Value = serde_json::from_str(&registrations[1].body).unwrap();
    assert!(second.get("token_endpoint_auth_method").is_none());
    assert_eq!(
        sandbox
            .read_token(&sandbox.accounts_dir().join("first"))
            .client_id,
        CLIENT_ID
    );
}

/// Issue 34, item 5, as glewlwyd 2.7.5 really answers (the end-to-end suite's scenario 43): its
/// metadata lists `client_secret_basic` and `client_secret_post` only; registered with `none` it
/// answers `none` but made a confidential client, and the sign-in ended at the token endpoint
/// (403 `unauthorized_client`, exit 78 "check --client-id" for a client mailtoken had made).
#[test]
fn where_the_metadata_lists_no_none_the_registration_does_not_ask_for_it() {
    let provider = registering(Registering::GlewlwydObserved);
    provider.with(|s| s.auth_methods = Some(vec!["client_secret_basic", "client_secret_post"]));
    let sandbox = Sandbox::new();
    let run = sign_in(&sandbox, &provider, "first", "user@example.com");
    run.expect(0, "access-from-device\n");
    run.says(&format!("client id {CLIENT_ID}, a public client"));
    let registrations = provider.requests_to("/register");
    assert_eq!(registrations.len(), 1);
    let asked: serde_json::Value = serde_json::from_str(&registrations[0].body).unwrap();
    assert!(asked.get("token_endpoint_auth_method").is_none(), "{asked}");
    let first = sandbox.read_token(&sandbox.accounts_dir().join("first"));
    assert_eq!(first.client_id, CLIENT_ID);
    assert!(first.client_secret.is_none());

    // Where the list has none, it is asked for by name, as before.
    let provider = registering(Registering::AsAsked);
    provider.with(|s| s.auth_methods = Some(vec!["client_secret_basic", "none"]));
    sign_in(&sandbox, &provider, "second", "user@example.com").expect_code(0);
    let asked: serde_json::Value =
        serde_json::from_str(&provider.requests_to("/register")[0].body).unwrap();
    assert_eq!(asked["token_endpoint_auth_method"], "none");
}

#[test]
fn a_client_that_cannot_work_either_way_is_refused_with_why() {
    let provider = registering(Registering::AlwaysConfidential);
    let sandbox = Sandbox::new();
    let run = sign_in(&sandbox, &provider, "first", "user@example.com");
    run.expect(78, "");
    run.says("registered a client that cannot sign in: it is a confidential client (\"confidential\": true) without a client secret; registered again without it, it is a confidential client");
    run.says("--client-id ID");
    assert!(
        provider.requests_to("/device").is_empty(),
        "no sign-in was started"
    );
    assert!(!sandbox.accounts_dir().join("first").exists());
}

#[test]
fn refusals_of_the_registration_endpoint_are_judged_like_token_answers() {
    let provider = registering(Registering::RefuseRedirect);
    let sandbox = Sandbox::new();
    let run = sign_in(&sandbox, &provider, "first", "user@example.com");
    run.expect(78, "");
    run.says("client registration rejected by");
    run.says("invalid_redirect_uri");
    run.says("--redirect-uri");

    let provider = registering(Registering::Unauthorized);
    let run = sign_in(&sandbox, &provider, "first", "user@example.com");
    run.expect(78, "");
    run.says("registers clients only with credentials mailtoken does not have");
    run.says("in the provider's console");
}

#[test]
fn a_client_id_given_is_never_registered_over() {
    let provider = registering(Registering::AsAsked);
    let sandbox = Sandbox::new();
    let run = sandbox.run(&[
        "first",
        "--authorize",
        "--issuer",
        &provider.url(),
        "--authflow",
        "devicecode",
        "--email",
        "user@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
        "--scope",
        "mail",
    ]);
    run.expect(0, "access-from-device\n");
    assert!(provider.requests_to("/register").is_empty());
}
