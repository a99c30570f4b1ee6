//! `--authorize` beyond the loopback and device flows: authcode (paste the code or the address),
//! clientcredentials, endpoint discovery, missing values without a terminal, and re-authorizing
//! an existing file.

use std::path::Path;

use mailtoken::testing::provider::ClientAuth;
use mailtoken::testing::tokenfile::Flow;

use crate::support::*;

/// A first authcode sign-in at `provider` for the file `path`.
fn authcode_args(provider: &FakeProvider, path: &Path) -> Vec<String> {
    provider.sign_in(path, "authcode", &PERSON, &["--auth-timeout", "20"])
}

/// A first authcode sign-in for the file `path` at the issuer `provider`, its endpoints found by
/// discovery.
fn issuer_args(provider: &FakeProvider, path: &Path) -> Vec<String> {
    let mut args = strings(&[path.to_str().unwrap(), "--authorize", "--issuer"]);
    args.extend(strings(&[&provider.url(), "--authflow", "authcode"]));
    args.extend(strings(&PERSON));
    args
}

/// A first clientcredentials sign-in at `provider` for the file `path`, with `extra` flags.
fn service_args(provider: &FakeProvider, path: &Path, extra: &[&str]) -> Vec<String> {
    provider.sign_in(path, "clientcredentials", &SERVICE, extra)
}

/// Starts an authcode sign-in and plays the browser; returns the running program and the
/// address the browser ended on.
fn start_authcode(sandbox: &Sandbox, args: &[String]) -> (Running, String) {
    let mut running = Running::start(sandbox, args, None);
    let url = running.wait_for_stderr("/authorize?").trim().to_string();
    assert_eq!(query_of(&url)["redirect_uri"], "http://127.0.0.1/");
    let answer = get_url(&url, ipv4());
    assert_eq!(answer.status, 200, "{}", answer.body);
    running.wait_for_stderr("paste it here");
    (running, answer.body)
}

/// An authcode sign-in at a new provider that `setup` set up, to the file `account`, with the
/// line `paste` makes of the address the browser ended on pasted.
fn pasted_sign_in(
    setup: impl FnOnce(&mut ProviderState),
    args: impl FnOnce(&FakeProvider, &Path) -> Vec<String>,
    paste: impl FnOnce(&str) -> String,
) -> (Sandbox, FakeProvider, Run) {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(setup);
    let args = args(&provider, &sandbox.path("account"));
    let (mut running, location) = start_authcode(&sandbox, &args);
    running.type_in(&format!("{}\n", paste(&location)));
    let run = running.finish();
    (sandbox, provider, run)
}

#[test]
fn authcode_accepts_the_bare_code() {
    let (sandbox, provider, run) = pasted_sign_in(
        |_| {},
        authcode_args,
        |location| query_of(location)["code"].clone(),
    );
    run.expect(0, "access-from-code\n");
    let token = &provider.requests_to("/token")[0].form;
    assert_eq!(token["redirect_uri"], "http://127.0.0.1/");
    let challenge = query_of(&provider.requests_to("/authorize")[0].path)["code_challenge"].clone();
    assert_eq!(s256(&token["code_verifier"]), challenge);
    assert_eq!(
        sandbox.read_token(&sandbox.path("account")).flow,
        Flow::Authcode
    );
}

#[test]
fn authcode_accepts_a_pasted_address_of_several_kilobytes() {
    let (_, provider, run) = pasted_sign_in(
        |_| {},
        authcode_args,
        |location| {
            // Microsoft's addresses carry long session parameters; mutt_oauth2.py lost such pastes.
            let pasted = format!("{location}&session_state={}", "s".repeat(8000));
            assert!(pasted.len() > 8000);
            pasted
        },
    );
    run.expect(0, "access-from-code\n");
    assert_eq!(provider.requests_to("/token")[0].form["code"], "code-1");
}

#[test]
fn authcode_refuses_an_address_from_another_sign_in() {
    let (sandbox, provider, run) = pasted_sign_in(
        |_| {},
        authcode_args,
        |location| {
            let state = query_of(location)["state"].clone();
            location.replace(&state, "someone-elses-state")
        },
    );
    run.expect(77, "");
    run.says("state does not match");
    assert!(provider.requests_to("/token").is_empty());
    assert!(!sandbox.path("account").exists());
}

#[test]
fn a_redirect_from_another_issuer_is_refused() {
    // RFC 9207: the authorization response names its issuer; a different one is a mix-up.
    let setup = |s: &mut ProviderState| {
        s.metadata_at = MetadataAt::OAuth;
        s.iss = Some("https://evil.example".into());
    };
    let (_, provider, run) = pasted_sign_in(setup, issuer_args, str::to_string);
    run.expect(78, "");
    run.says("RFC 9207");
    assert!(provider.requests_to("/token").is_empty());
}

#[test]
fn a_matching_iss_is_accepted() {
    let setup = |s: &mut ProviderState| {
        s.metadata_at = MetadataAt::OAuth;
        s.iss = Some(s.url.clone());
    };
    let paste = |location: &str| {
        assert!(location.contains("&iss="));
        location.to_string()
    };
    let (_, _, run) = pasted_sign_in(setup, issuer_args, paste);
    run.expect(0, "access-from-code\n");
}

#[test]
fn debug_traces_never_show_codes_verifiers_or_tokens() {
    let with_debug = |provider: &FakeProvider, path: &Path| {
        let mut args = authcode_args(provider, path);
        args.push("--debug".into());
        args
    };
    let (_, provider, run) = pasted_sign_in(|_| {}, with_debug, str::to_string);
    run.expect(0, "access-from-code\n");
    // The exchange is traced.
    run.says("debug: > POST");
    let verifier = provider.requests_to("/token")[0].form["code_verifier"].clone();
    for secret in [
        "code-1",
        verifier.as_str(),
        "access-from-code",
        "refresh-from-code",
    ] {
        run.never_says(secret);
    }
}

#[test]
fn client_credentials_needs_no_user() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::for_service();
    let path = sandbox.path("service");
    // The service's flags but its secret, which comes from the environment.
    let args = provider.sign_in(&path, "clientcredentials", &SERVICE[..4], &[]);
    let run = sandbox.run_with(&args, &[("MAILTOKEN_CLIENT_SECRET", "s3cret")]);

    run.expect(0, "access-from-client-credentials\n");
    // No warning for clientcredentials.
    run.never_says("refresh token");
    let form = &provider.requests_to("/token")[0].form;
    assert_eq!(
        form,
        &crate::support::form(&[
            ("grant_type", "client_credentials"),
            ("scope", "mail offline_access"),
            ("client_id", CLIENT_ID),
            ("client_secret", "s3cret"),
        ])
    );
    let saved = sandbox.read_token(&path);
    assert_eq!(saved.flow, Flow::Clientcredentials);
    assert_eq!(saved.refresh_token, None);
    assert_eq!(saved.client_secret.as_ref().unwrap().expose(), "s3cret");
}

/// A new provider that `setup` set up, and the run of `args` for a new file `service`, in a new
/// sandbox.
fn service_sign_in(
    setup: impl FnOnce(&mut ProviderState),
    args: impl FnOnce(&FakeProvider, &Path) -> Vec<String>,
) -> (Sandbox, FakeProvider, Run) {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(setup);
    let run = sandbox.run(&args(&provider, &sandbox.path("service")));
    (sandbox, provider, run)
}

/// A run that must have stopped before asking the provider anything.
#[track_caller]
fn nobody_was_asked(provider: &FakeProvider) {
    assert!(
        provider.server.requests().is_empty(),
        "nobody was asked to sign in"
    );
}

#[test]
fn client_credentials_without_a_secret_is_a_usage_error() {
    let mut without_secret = SERVICE;
    without_secret[5] = "";
    let (_, provider, run) = service_sign_in(
        |_| {},
        |provider, path| provider.sign_in(path, "clientcredentials", &without_secret, &[]),
    );
    run.expect(64, "");
    run.says("--client-secret");
    nobody_was_asked(&provider);
}

/// A clientcredentials sign-in for the file `path` at the issuer `provider`, its endpoints found
/// by discovery.
fn discovery_args(provider: &FakeProvider, path: &Path) -> Vec<String> {
    let mut args = strings(&[path.to_str().unwrap(), "--authorize", "--issuer"]);
    args.extend(strings(&[&provider.url(), "--scope", "mail"]));
    args.extend(strings(&["--authflow", "clientcredentials"]));
    args.extend(strings(&SERVICE));
    args
}

/// A clientcredentials sign-in through discovery at a provider publishing its metadata at
/// `metadata_at`: the sandbox, the provider and the paths it was asked for.
fn discover(metadata_at: MetadataAt) -> (Sandbox, FakeProvider, Vec<String>) {
    let (sandbox, provider, run) = service_sign_in(
        |s| {
            s.metadata_at = metadata_at;
            s.client_secret = Some("s3cret".into());
        },
        discovery_args,
    );
    run.expect_code(0);
    let paths = provider
        .server
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    (sandbox, provider, paths)
}

#[test]
fn discovers_endpoints_from_rfc_8414_metadata() {
    let (sandbox, provider, paths) = discover(MetadataAt::OAuth);
    assert_eq!(paths, ["/.well-known/oauth-authorization-server", "/token"]);
    // No token_endpoint_auth_methods_supported means client_secret_basic (RFC 8414 section 2).
    let token = &provider.requests_to("/token")[0];
    assert!(token.headers["authorization"].starts_with("Basic "));
    assert!(!token.form.contains_key("client_secret"));
    let saved = sandbox.read_token(&sandbox.path("service"));
    let registration = &saved.registration;
    let url = provider.url();
    assert_eq!(registration.issuer.as_deref(), Some(url.as_str()));
    assert_eq!(registration.provider, "127.0.0.1");
    assert_eq!(
        registration.authorize_endpoint,
        Some(format!("{url}/authorize"))
    );
    assert_eq!(
        registration.devicecode_endpoint,
        Some(format!("{url}/device"))
    );
    assert_eq!(registration.token_endpoint, format!("{url}/token"));
    assert_eq!(registration.client_auth, ClientAuth::ClientSecretBasic);
}

#[test]
fn falls_back_to_openid_connect_discovery() {
    let (_, _, paths) = discover(MetadataAt::OpenId);
    assert_eq!(
        paths,
        [
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
            "/token"
        ]
    );
}

#[test]
fn metadata_for_another_issuer_is_refused() {
    let setup = |s: &mut ProviderState| {
        s.metadata_at = MetadataAt::OAuth;
        s.metadata_issuer = Some("https://evil.example".into());
    };
    let (_, provider, run) = service_sign_in(setup, discovery_args);
    run.expect(78, "");
    run.says("https://evil.example");
    assert!(provider.requests_to("/token").is_empty());
}

#[test]
fn missing_values_without_a_terminal_name_the_flag() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let full = authcode_args(&provider, &path);
    // Not --email: a person's address can be the one that signs in (issue #33, `signed_in_user.rs`).
    each_case(
        ["--client-id", "--client-secret"].map(|flag| (flag, flag)),
        |flag| {
            let mut args = full.clone();
            let at = args.iter().position(|a| a == flag).unwrap();
            args.drain(at..at + 2);
            let run = sandbox.run(&args);
            run.expect(64, "");
            run.says(&format!("hint: pass {flag}"));
        },
    );
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
    ]);
    assert_eq!(run.code, 64);
    run.says("hint: pass --provider");
    assert!(provider.server.requests().is_empty());
    assert!(!path.exists());
}

/// Issue #12: a script missing several values learns them all from one run.
#[test]
fn every_missing_value_is_reported_at_once() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let file = path.to_str().unwrap();
    let run = sandbox.run(&[file, "--authorize"]);
    run.expect(64, "");
    assert_eq!(
        run.stderr.matches("mailtoken: error:").count(),
        1,
        "{}",
        run.stderr
    );
    for flag in ["--provider", "--client-id", "--client-secret"] {
        run.says(flag);
    }
    // A person's address can be the one that signs in; a service names its mailbox.
    run.never_says("--email");
    let service = ["--authflow", "clientcredentials", "--client-secret", ""];
    let run = sandbox.run(&[&[file, "--authorize"][..], &service].concat());
    run.expect_code(64);
    run.says("--email ADDRESS");
    // With the provider given, the rest still come in one message.
    let microsoft = [
        "--provider",
        "microsoft",
        "--client-secret",
        "",
        "--authflow",
        "clientcredentials",
    ];
    let run = sandbox.run(&[&[file, "--authorize"][..], &microsoft].concat());
    run.expect_code(64);
    run.says("no e-mail address or client id was given");
    run.says("hint: pass --email ADDRESS and --client-id ID");
    assert!(!path.exists());
}

#[test]
fn unknown_providers_and_impossible_flows_are_refused_early() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let base = [
        path.to_str().unwrap(),
        "--authorize",
        "--email",
        "u@example.com",
        "--client-id",
        "x",
        "--client-secret",
        "",
    ];
    let cases: [(&[&str], &str); 3] = [
        (
            &["--provider", "hotmail", "--authflow", "authcode"],
            "google, microsoft, yahoo, aol, yandex, mailru",
        ),
        (
            &["--provider", "yahoo", "--authflow", "devicecode"],
            "no device authorization endpoint",
        ),
        (
            &[
                "--provider",
                "google",
                "--tenant",
                "consumers",
                "--authflow",
                "authcode",
            ],
            "--tenant applies to --provider microsoft",
        ),
    ];
    each_case(
        cases.map(|case| (format!("{:?}", case.0), case)),
        |(extra, expected)| {
            let run = sandbox.run(&[&base[..], extra].concat());
            run.expect_code(64);
            run.says(expected);
        },
    );
    assert!(!path.exists());
}

/// A clientcredentials re-authorization of the file `account`, already signed in.
struct Reauthorized {
    sandbox: Sandbox,
    provider: FakeProvider,
    /// The login the file held.
    old: mailtoken::testing::tokenfile::TokenFile,
    before: Snapshot,
    run: Run,
}

/// Re-authorizes, with `flags`, a file whose token expires in `minutes` at a provider that
/// `setup` set up.
fn reauthorize(
    setup: impl FnOnce(&mut ProviderState),
    minutes: i64,
    flags: &[&str],
) -> Reauthorized {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(setup);
    let token_endpoint = format!("{}/token", provider.url());
    let mut old = sandbox.token(&token_endpoint, minutes_from_now(minutes));
    old.registration.scope = "old-scope".into();
    let path = sandbox.save("account", &old);
    let before = Snapshot::of(&path);
    let file = path.to_str().unwrap();
    let command = [file, "--authorize", "--authflow", "clientcredentials"];
    let run = sandbox.run(&[&command[..], flags].concat());
    Reauthorized {
        sandbox,
        provider,
        old,
        before,
        run,
    }
}

#[test]
fn reauthorizing_keeps_registration_client_and_encryption_with_flags_overriding() {
    let flags = ["--scope", "new-scope", "--email", "other@example.com"];
    let setup = |s: &mut ProviderState| s.client_secret = Some("test-secret".into());
    let again = reauthorize(setup, -60, &flags);

    again.run.expect(0, "access-from-client-credentials\n");
    let scope = &again.provider.requests_to("/token")[0].form["scope"];
    assert_eq!(scope, "new-scope");
    let saved = again.sandbox.read_token(&again.sandbox.path("account"));
    let mut expected = again.old.registration;
    expected.scope = "new-scope".into();
    assert_eq!(saved.registration, expected);
    assert_eq!(saved.client_id, "test-client");
    assert_eq!(
        saved.client_secret.as_ref().unwrap().expose(),
        "test-secret"
    );
    assert_eq!(saved.email, "other@example.com");
    assert_eq!(saved.flow, Flow::Clientcredentials);
    assert_eq!(saved.encryption, again.sandbox.age_spec());
    assert_eq!(
        saved.refresh_token, None,
        "the old login's refresh token is not carried over"
    );
}

#[test]
fn a_failed_client_credentials_reauthorization_leaves_the_file_alone() {
    let refusal = Reply::json(401, serde_json::json!({"error": "invalid_client"}));
    let again = reauthorize(|s| s.token_override = Some(refusal), 60, &[]);
    again.run.expect(78, "");
    again.before.unchanged();
}

#[test]
fn a_new_file_can_use_an_encryption_pipe() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::for_service();
    let path = sandbox.path("service");
    // Without the decryption pipe the new file could not be checked: refused before signing in.
    let refused = sandbox.run(&service_args(
        &provider,
        &path,
        &["--encryption-pipe", "cat"],
    ));
    refused.expect_code(78);
    refused.says("give --decryption-pipe COMMAND as well");
    nobody_was_asked(&provider);
    let pipes = ["--encryption-pipe", "cat", "--decryption-pipe", "cat"];
    sandbox
        .run(&service_args(&provider, &path, &pipes))
        .expect_code(0);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["encryption"]["kind"], "pipe");
    assert_eq!(json["access_token"], "access-from-client-credentials");
    let run = sandbox.run(&[path.to_str().unwrap(), "--decryption-pipe", "cat"]);
    run.expect(0, "access-from-client-credentials\n");
}

#[test]
fn a_broken_encryption_is_found_before_signing_in() {
    let (_, provider, run) = service_sign_in(
        |_| {},
        |provider, path| service_args(provider, path, &["--encryption-pipe", "false"]),
    );
    run.expect_code(78);
    run.says("checking the encryption before signing in");
    nobody_was_asked(&provider);
}

#[test]
fn a_passphrase_needs_a_terminal_and_is_refused_before_signing_in() {
    let (_, provider, run) = service_sign_in(
        |_| {},
        |provider, path| service_args(provider, path, &["--encryption", "passphrase"]),
    );
    run.expect(64, "");
    run.says("not a terminal");
    nobody_was_asked(&provider);
}

/// The authorization URL in what a sign-in printed.
fn printed_url(stderr: &str) -> String {
    stderr
        .lines()
        .find(|line| line.trim_start().starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {stderr}"))
        .trim()
        .to_string()
}

/// Runs an authcode sign-in with nothing on stdin: it prints the URL, then ends (64) for lack of
/// an answer, without any network request.
fn printed_authorization_url(sandbox: &Sandbox, extra: &[&str]) -> String {
    let path = sandbox.path("account");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
    ]);
    args.extend(strings(&[
        "--email",
        "you@example.com",
        "--client-id",
        "preset-client",
    ]));
    args.extend(strings(&["--client-secret", ""]));
    args.extend(strings(extra));
    let run = sandbox.run(&args);
    run.expect(64, "");
    assert!(!path.exists());
    printed_url(&run.stderr)
}

#[test]
fn microsoft_tenant_goes_into_the_authorization_url() {
    let sandbox = Sandbox::new();
    let url = printed_authorization_url(
        &sandbox,
        &["--provider", "microsoft", "--tenant", "consumers"],
    );
    assert!(
        url.starts_with("https://login.microsoftonline.com/consumers/oauth2/v2.0/authorize?"),
        "{url}"
    );
    let query = query_of(&url);
    assert_eq!(
        query["redirect_uri"],
        "https://login.microsoftonline.com/common/oauth2/nativeclient"
    );
    assert!(query["scope"].contains("offline_access"));
    assert!(query["scope"].contains("https://outlook.office.com/IMAP.AccessAsUser.All"));
    assert_eq!(query["login_hint"], "you@example.com");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(
        !query.contains_key("prompt"),
        "no forced consent for Microsoft"
    );
}

#[test]
fn google_uses_a_loopback_redirect_not_the_dead_oob_one() {
    let sandbox = Sandbox::new();
    let url = printed_authorization_url(&sandbox, &["--provider", "google"]);
    assert!(
        url.starts_with("https://accounts.google.com/o/oauth2/auth?"),
        "{url}"
    );
    let query = query_of(&url);
    assert_eq!(query["redirect_uri"], "http://127.0.0.1/");
    // Issue #33: openid email, so that Google's ID token says who signed in.
    assert_eq!(query["scope"], "https://mail.google.com/ openid email");
    assert!(query["nonce"].len() >= 16, "a nonce goes with openid");
    assert!(!url.contains("oob"));
}

/// Issue #12: `--no-login-hint` for sign-in names that are not the mail address.
#[test]
fn no_login_hint_leaves_the_address_out_of_the_url() {
    let sandbox = Sandbox::new();
    let url = printed_authorization_url(&sandbox, &["--provider", "microsoft", "--no-login-hint"]);
    let query = query_of(&url);
    assert!(!query.contains_key("login_hint"), "{url}");
    assert!(!url.contains("you%40example.com") && !url.contains("you@example.com"));
}

/// Google issues a refresh token only with access_type=offline and at a consent: a file that has
/// none asks for consent again; a first sign-in does not force it.
#[test]
fn google_asks_for_offline_access_and_consent_again_when_the_file_has_no_refresh_token() {
    let sandbox = Sandbox::new();
    let first = printed_authorization_url(&sandbox, &["--provider", "google"]);
    let query = query_of(&first);
    assert_eq!(query["access_type"], "offline");
    assert!(!query.contains_key("prompt"), "{first}");

    let mut token = token_file(
        mailtoken::testing::provider::preset("google", None).unwrap(),
        sandbox.age_spec(),
        minutes_from_now(0),
    );
    token.refresh_token = None;
    let path = sandbox.save("account", &token);
    let before = Snapshot::of(&path);
    let file = path.to_str().unwrap();
    let run = sandbox.run(&[file, "--authorize", "--authflow", "authcode"]);
    run.expect(64, "");
    let query = query_of(&printed_url(&run.stderr));
    assert_eq!(query["access_type"], "offline");
    assert_eq!(query["prompt"], "consent");
    before.unchanged();
}

#[test]
fn localhostauthcode_refuses_a_redirect_it_cannot_receive() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--provider",
        "microsoft",
        "--redirect-uri",
        "https://login.microsoftonline.com/common/oauth2/nativeclient",
        "--authflow",
        "localhostauthcode",
        "--email",
        "you@example.com",
        "--client-id",
        "borrowed",
        "--client-secret",
        "",
        "--no-browser",
    ]);
    run.expect(78, "");
    run.says("--authflow authcode");
}

/// Google's device flow does not allow the Gmail scope: refused before any request or prompt.
#[test]
fn google_device_flow_is_refused_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("gmail");
    let file = path.to_str().unwrap();
    let run = sandbox.run(&[
        file,
        "--authorize",
        "--provider",
        "google",
        "--authflow",
        "devicecode",
    ]);
    run.expect(64, "");
    run.says("Google's device flow does not allow the Gmail scope");
    run.says("hint: use --authflow localhostauthcode");
    assert!(!run.stderr.contains("e-mail"), "no prompt came first");
    assert!(!path.exists());
}

#[test]
fn the_first_sign_in_creates_the_default_age_identity() {
    let sandbox = Sandbox::new();
    std::fs::remove_file(sandbox.identity_path()).unwrap();
    let provider = FakeProvider::start();
    let run = sandbox.run(&service_args(&provider, &sandbox.path("service"), &[]));
    run.expect_code(0);
    run.says("created age identity");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sandbox.identity_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // read_token decrypts with the identity at that path: the new one.
    assert_eq!(
        sandbox
            .read_token(&sandbox.path("service"))
            .access_token
            .expose(),
        "access-from-client-credentials"
    );
}

#[test]
fn another_age_identity_can_be_chosen() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let other = age::x25519::Identity::generate();
    let other_path = sandbox.path("other-identity.txt");
    {
        use age::secrecy::ExposeSecret;
        std::fs::write(
            &other_path,
            format!("{}\n", other.to_string().expose_secret()),
        )
        .unwrap();
    }
    let with_other = ["--age-identity", other_path.to_str().unwrap()];
    // An identity opens every file encrypted to it: like a token file, only its owner may read it.
    let readable = sandbox.run(&service_args(
        &provider,
        &sandbox.path("refused"),
        &with_other,
    ));
    readable.expect_code(78);
    readable.says("can be read by other users");
    set_mode(&other_path, 0o600);
    let path = sandbox.path("service");
    sandbox
        .run(&service_args(&provider, &path, &with_other))
        .expect_code(0);
    let bytes = std::fs::read(&path).unwrap();
    let decryptor = age::Decryptor::new(&bytes[..]).unwrap();
    assert!(
        decryptor
            .decrypt(std::iter::once(&other as &dyn age::Identity))
            .is_ok(),
        "encrypted to the chosen identity"
    );
}

#[test]
fn a_client_credentials_account_refreshes_by_asking_again() {
    let setup = |s: &mut ProviderState| s.client_secret = Some("s3cret".into());
    let (sandbox, provider, run) =
        service_sign_in(setup, |provider, path| service_args(provider, path, &[]));
    assert_eq!(run.code, 0);
    let path = sandbox.path("service");
    let refreshed = sandbox.run(&[path.to_str().unwrap(), "--force-refresh"]);
    refreshed.expect(0, "access-from-client-credentials\n");
    let grants: Vec<String> = provider
        .requests_to("/token")
        .iter()
        .map(|r| r.form["grant_type"].clone())
        .collect();
    assert_eq!(grants, ["client_credentials", "client_credentials"]);
}

#[test]
fn an_unreadable_file_is_kept_beside_the_new_one_never_overwritten() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("service");
    // A file this sandbox cannot decrypt: age to somebody else's identity.
    let stranger = age_to(&age::x25519::Identity::generate());
    let old = encrypt(
        &stranger,
        b"{\"a login\": \"only the right identity can open\"}",
    );
    write_private(&path, &old);

    let run = sandbox.run(&service_args(&provider, &path, &[]));

    run.expect_code(0);
    run.says("kept as");
    let kept: Vec<_> = std::fs::read_dir(sandbox.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("service.unreadable-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "exactly one preserved copy");
    assert_eq!(
        std::fs::read(kept[0].path()).unwrap(),
        old,
        "the old bytes are intact"
    );
    assert_eq!(
        sandbox.read_token(&path).access_token.expose(),
        "access-from-client-credentials"
    );
}

/// Issue #12: a first sign-in with no --authflow takes the flow that works here, and says so.
#[test]
fn a_first_sign_in_picks_the_flow_that_works_here() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let base = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--email",
        "you@example.com",
        "--client-id",
        "test-client",
        "--client-secret",
        "",
        "--auth-timeout",
        "1",
        "--no-browser",
    ]);
    // No graphical session and a provider whose device flow takes mail scopes: the device flow.
    // (--no-browser also keeps a real browser from opening in the other cases.)
    let provider = FakeProvider::start();
    let device = sandbox.run(&[base.clone(), provider.endpoint_args()].concat());
    device.says("signing in with the devicecode flow");
    device.says("enter the code WDJB-MJHT");
    // Google's device flow refuses the Gmail scope: the paste flow.
    let paste = sandbox.run(&[base, strings(&["--provider", "google"])].concat());
    paste.says("signing in with the authcode flow");
    assert!(!path.exists());
}

#[test]
fn the_automatic_choice_prefers_a_browser_then_the_device_flow() {
    use mailtoken::testing::authorize::automatic_flow;
    let microsoft = mailtoken::testing::provider::preset("microsoft", None).unwrap();
    let google = mailtoken::testing::provider::preset("google", None).unwrap();
    let yahoo = mailtoken::testing::provider::preset("yahoo", None).unwrap();
    assert_eq!(automatic_flow(&microsoft, true).0, Flow::Localhostauthcode);
    assert_eq!(automatic_flow(&google, true).0, Flow::Localhostauthcode);
    assert_eq!(automatic_flow(&microsoft, false).0, Flow::Devicecode);
    assert_eq!(automatic_flow(&google, false).0, Flow::Authcode);
    assert_eq!(automatic_flow(&yahoo, false).0, Flow::Authcode);
}

/// Where a browser can be opened ($BROWSER here; $DISPLAY, $WAYLAND_DISPLAY or macOS too), a first
/// sign-in uses the browser flow.
#[test]
fn with_a_browser_the_first_sign_in_uses_the_browser_flow() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let mut args = strings(&[path.to_str().unwrap(), "--authorize"]);
    args.extend(strings(&[
        "--email",
        "you@example.com",
        "--client-id",
        CLIENT_ID,
    ]));
    args.extend(strings(&["--client-secret", "", "--auth-timeout", "2"]));
    args.extend(provider.endpoint_args());
    let running = Running::start(&sandbox, &args, Some(&browser.script));
    let opened = browser.opened_url();
    assert!(
        opened.starts_with(&format!("{}/authorize?", provider.url())),
        "{opened}"
    );
    let run = running.finish();
    run.says("signing in with the localhostauthcode flow: a browser opens");
}
