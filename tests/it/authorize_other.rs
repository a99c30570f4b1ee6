//! `--authorize` beyond the loopback and device flows: authcode (paste the code or the address),
//! clientcredentials, endpoint discovery, missing values without a terminal, and re-authorizing
//! an existing file.

use crate::support::*;
use chrono::Utc;
use mailtoken::provider::ClientAuth;
use mailtoken::tokenfile::Flow;

fn run(sandbox: &Sandbox, args: &[String]) -> Run {
    sandbox.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn authcode_args(provider: &FakeProvider, path: &std::path::Path) -> Vec<String> {
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
        "--email",
        "user@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
        "--auth-timeout",
        "20",
    ]);
    args.extend(provider.endpoint_args());
    args
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

#[test]
fn authcode_accepts_the_bare_code() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let (mut running, location) = start_authcode(&sandbox, &authcode_args(&provider, &path));
    let code = query_of(&location)["code"].clone();
    running.type_in(&format!("{code}\n"));
    let run = running.finish();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-code\n"),
        "{}",
        run.stderr
    );
    let token = &provider.requests_to("/token")[0].form;
    assert_eq!(token["redirect_uri"], "http://127.0.0.1/");
    let challenge = query_of(&provider.requests_to("/authorize")[0].path)["code_challenge"].clone();
    assert_eq!(s256(&token["code_verifier"]), challenge);
    assert_eq!(sandbox.read_token(&path).flow, Flow::Authcode);
}

#[test]
fn authcode_accepts_a_pasted_address_of_several_kilobytes() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let (mut running, location) = start_authcode(&sandbox, &authcode_args(&provider, &path));
    // Microsoft's addresses carry long session parameters; mutt_oauth2.py lost such pastes.
    let pasted = format!("{location}&session_state={}", "s".repeat(8000));
    assert!(pasted.len() > 8000);
    running.type_in(&format!("{pasted}\n"));
    let run = running.finish();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-code\n"),
        "{}",
        run.stderr
    );
    assert_eq!(provider.requests_to("/token")[0].form["code"], "code-1");
}

#[test]
fn authcode_refuses_an_address_from_another_sign_in() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let (mut running, location) = start_authcode(&sandbox, &authcode_args(&provider, &path));
    let state = query_of(&location)["state"].clone();
    running.type_in(&format!(
        "{}\n",
        location.replace(&state, "someone-elses-state")
    ));
    let run = running.finish();
    assert_eq!((run.code, run.stdout.as_str()), (77, ""));
    assert!(
        run.stderr.contains("state does not match"),
        "{}",
        run.stderr
    );
    assert!(provider.requests_to("/token").is_empty());
    assert!(!path.exists());
}

#[test]
fn client_credentials_needs_no_user() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.client_secret = Some("s3cret".into()));
    let path = sandbox.path("service");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "clientcredentials",
        "--email",
        "robot@example.com",
        "--client-id",
        CLIENT_ID,
    ]);
    args.extend(provider.endpoint_args());
    let mut command = sandbox.command();
    command.args(&args).env("MAILTOKEN_CLIENT_SECRET", "s3cret");
    let run = Run::from(command.output().unwrap());

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-client-credentials\n"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("refresh token"),
        "no warning for clientcredentials: {}",
        run.stderr
    );
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

#[test]
fn client_credentials_without_a_secret_is_a_usage_error() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("service");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "clientcredentials",
        "--email",
        "robot@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
    ]);
    args.extend(provider.endpoint_args());
    let run = run(&sandbox, &args);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""));
    assert!(run.stderr.contains("--client-secret"), "{}", run.stderr);
    assert!(provider.server.requests().is_empty());
}

fn discovery_args(provider: &FakeProvider, path: &std::path::Path) -> Vec<String> {
    strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--issuer",
        &provider.url(),
        "--scope",
        "mail",
        "--authflow",
        "clientcredentials",
        "--email",
        "robot@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "s3cret",
    ])
}

#[test]
fn discovers_endpoints_from_rfc_8414_metadata() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OAuth;
        s.client_secret = Some("s3cret".into());
    });
    let path = sandbox.path("service");
    let run = run(&sandbox, &discovery_args(&provider, &path));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let paths: Vec<String> = provider
        .server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(paths, ["/.well-known/oauth-authorization-server", "/token"]);
    // No token_endpoint_auth_methods_supported means client_secret_basic (RFC 8414 section 2).
    let token = &provider.requests_to("/token")[0];
    assert!(token.headers["authorization"].starts_with("Basic "));
    assert!(!token.form.contains_key("client_secret"));
    let saved = sandbox.read_token(&path);
    let registration = &saved.registration;
    assert_eq!(
        registration.issuer.as_deref(),
        Some(provider.url().as_str())
    );
    assert_eq!(registration.provider, "127.0.0.1");
    assert_eq!(
        registration.authorize_endpoint,
        Some(format!("{}/authorize", provider.url()))
    );
    assert_eq!(
        registration.devicecode_endpoint,
        Some(format!("{}/device", provider.url()))
    );
    assert_eq!(
        registration.token_endpoint,
        format!("{}/token", provider.url())
    );
    assert_eq!(registration.client_auth, ClientAuth::ClientSecretBasic);
}

#[test]
fn falls_back_to_openid_connect_discovery() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OpenId;
        s.client_secret = Some("s3cret".into());
    });
    let path = sandbox.path("service");
    let run = run(&sandbox, &discovery_args(&provider, &path));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let paths: Vec<String> = provider
        .server
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
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
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OAuth;
        s.metadata_issuer = Some("https://evil.example".into());
    });
    let path = sandbox.path("service");
    let run = run(&sandbox, &discovery_args(&provider, &path));
    assert_eq!((run.code, run.stdout.as_str()), (78, ""));
    assert!(
        run.stderr.contains("https://evil.example"),
        "{}",
        run.stderr
    );
    assert!(provider.requests_to("/token").is_empty());
}

#[test]
fn a_redirect_from_another_issuer_is_refused() {
    // RFC 9207: the authorization response names its issuer; a different one is a mix-up.
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OAuth;
        s.iss = Some("https://evil.example".into());
    });
    let path = sandbox.path("account");
    let args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--issuer",
        &provider.url(),
        "--authflow",
        "authcode",
        "--email",
        "user@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
    ]);
    let (mut running, location) = start_authcode(&sandbox, &args);
    running.type_in(&format!("{location}\n"));
    let run = running.finish();
    assert_eq!((run.code, run.stdout.as_str()), (78, ""));
    assert!(run.stderr.contains("RFC 9207"), "{}", run.stderr);
    assert!(provider.requests_to("/token").is_empty());
}

#[test]
fn a_matching_iss_is_accepted() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.metadata_at = MetadataAt::OAuth;
        s.iss = Some(s.url.clone());
    });
    let path = sandbox.path("account");
    let args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--issuer",
        &provider.url(),
        "--authflow",
        "authcode",
        "--email",
        "user@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
    ]);
    let (mut running, location) = start_authcode(&sandbox, &args);
    assert!(location.contains("&iss="));
    running.type_in(&format!("{location}\n"));
    let run = running.finish();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-code\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn missing_values_without_a_terminal_name_the_flag() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let full = authcode_args(&provider, &path);
    for (flag, drop_value) in [
        ("--email", true),
        ("--client-id", true),
        ("--client-secret", true),
    ] {
        let mut args = full.clone();
        let at = args.iter().position(|a| a == flag).unwrap();
        args.drain(at..at + 1 + usize::from(drop_value));
        let run = run(&sandbox, &args);
        assert_eq!(
            (run.code, run.stdout.as_str()),
            (64, ""),
            "{flag}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("hint: pass {flag}")),
            "{flag}: {}",
            run.stderr
        );
    }
    let run = run(
        &sandbox,
        &strings(&[
            path.to_str().unwrap(),
            "--authorize",
            "--authflow",
            "authcode",
        ]),
    );
    assert_eq!(run.code, 64);
    assert!(
        run.stderr.contains("hint: pass --provider"),
        "{}",
        run.stderr
    );
    assert!(provider.server.requests().is_empty());
    assert!(!path.exists());
}

/// Issue #12: a script missing several values learns them all from one run.
#[test]
fn every_missing_value_is_reported_at_once() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let run = sandbox.run(&[path.to_str().unwrap(), "--authorize"]);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""), "{}", run.stderr);
    assert_eq!(
        run.stderr.matches("mailtoken: error:").count(),
        1,
        "{}",
        run.stderr
    );
    for flag in ["--provider", "--email", "--client-id", "--client-secret"] {
        assert!(
            run.stderr.contains(flag),
            "{flag} missing from {}",
            run.stderr
        );
    }
    // With the provider given, the rest still come in one message.
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--provider",
        "microsoft",
        "--client-secret",
        "",
    ]);
    assert_eq!(run.code, 64, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("no e-mail address or client id was given")
            && run
                .stderr
                .contains("hint: pass --email ADDRESS and --client-id ID"),
        "{}",
        run.stderr
    );
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
            "google, microsoft, yahoo, aol",
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
    for (extra, expected) in cases {
        let run = run(&sandbox, &[strings(&base), strings(extra)].concat());
        assert_eq!(run.code, 64, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{extra:?}: {}", run.stderr);
    }
    assert!(!path.exists());
}

#[test]
fn reauthorizing_keeps_registration_client_and_encryption_with_flags_overriding() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.client_secret = Some("test-secret".into()));
    let path = sandbox.path("account");
    let mut registration = test_registration(&format!("{}/token", provider.url()));
    registration.scope = "old-scope".into();
    let old = token_file(
        registration.clone(),
        sandbox.age_spec(),
        Utc::now() - chrono::Duration::hours(1),
    );
    sandbox.write_token(&path, &old);

    let run = run(
        &sandbox,
        &strings(&[
            path.to_str().unwrap(),
            "--authorize",
            "--authflow",
            "clientcredentials",
            "--scope",
            "new-scope",
            "--email",
            "other@example.com",
        ]),
    );

    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-client-credentials\n"),
        "{}",
        run.stderr
    );
    assert_eq!(provider.requests_to("/token")[0].form["scope"], "new-scope");
    let saved = sandbox.read_token(&path);
    let mut expected = registration;
    expected.scope = "new-scope".into();
    assert_eq!(saved.registration, expected);
    assert_eq!(saved.client_id, "test-client");
    assert_eq!(
        saved.client_secret.as_ref().unwrap().expose(),
        "test-secret"
    );
    assert_eq!(saved.email, "other@example.com");
    assert_eq!(saved.flow, Flow::Clientcredentials);
    assert_eq!(saved.encryption, sandbox.age_spec());
    assert_eq!(
        saved.refresh_token, None,
        "the old login's refresh token is not carried over"
    );
}

#[test]
fn a_failed_client_credentials_reauthorization_leaves_the_file_alone() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| {
        s.token_override = Some(Reply::json(
            401,
            serde_json::json!({"error": "invalid_client"}),
        ))
    });
    let path = sandbox.path("account");
    let old = token_file(
        test_registration(&format!("{}/token", provider.url())),
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
            "clientcredentials",
        ]),
    );
    assert_eq!((run.code, run.stdout.as_str()), (78, ""), "{}", run.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_new_file_can_use_an_encryption_pipe() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.client_secret = Some("s3cret".into()));
    let path = sandbox.path("service");
    // Without the decryption pipe the new file could not be checked: refused before signing in.
    let args = service_args(&provider, &path, &["--encryption-pipe", "cat"]);
    let refused = run(&sandbox, &args);
    assert_eq!(refused.code, 78, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("give --decryption-pipe COMMAND as well"),
        "{}",
        refused.stderr
    );
    assert!(provider.server.requests().is_empty(), "nobody was asked");
    let args = service_args(
        &provider,
        &path,
        &["--encryption-pipe", "cat", "--decryption-pipe", "cat"],
    );
    let run1 = run(&sandbox, &args);
    assert_eq!(run1.code, 0, "{}", run1.stderr);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["encryption"]["kind"], "pipe");
    assert_eq!(json["access_token"], "access-from-client-credentials");
    let run2 = run(
        &sandbox,
        &strings(&[path.to_str().unwrap(), "--decryption-pipe", "cat"]),
    );
    assert_eq!(
        (run2.code, run2.stdout.as_str()),
        (0, "access-from-client-credentials\n"),
        "{}",
        run2.stderr
    );
}

#[test]
fn a_broken_encryption_is_found_before_signing_in() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("service");
    let args = service_args(&provider, &path, &["--encryption-pipe", "false"]);
    let run = run(&sandbox, &args);
    assert_eq!(run.code, 78, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("checking the encryption before signing in"),
        "{}",
        run.stderr
    );
    assert!(
        provider.server.requests().is_empty(),
        "nobody was asked to sign in"
    );
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
        "--email",
        "you@example.com",
        "--client-id",
        "preset-client",
        "--client-secret",
        "",
    ]);
    args.extend(strings(extra));
    let run = run(sandbox, &args);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""), "{}", run.stderr);
    assert!(!path.exists());
    run.stderr
        .lines()
        .find(|line| line.trim_start().starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {}", run.stderr))
        .trim()
        .to_string()
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
    assert_eq!(query["scope"], "https://mail.google.com/");
    assert!(!url.contains("oob"));
}

#[test]
fn localhostauthcode_refuses_a_redirect_it_cannot_receive() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let run = run(
        &sandbox,
        &strings(&[
            path.to_str().unwrap(),
            "--authorize",
            "--provider",
            "microsoft",
            "--redirect-uri",
            "https://localhost",
            "--authflow",
            "localhostauthcode",
            "--email",
            "you@example.com",
            "--client-id",
            "borrowed",
            "--client-secret",
            "",
            "--no-browser",
        ]),
    );
    assert_eq!((run.code, run.stdout.as_str()), (78, ""));
    assert!(run.stderr.contains("--authflow authcode"), "{}", run.stderr);
}

fn service_args(provider: &FakeProvider, path: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "clientcredentials",
        "--email",
        "robot@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "s3cret",
    ]);
    args.extend(provider.endpoint_args());
    args.extend(strings(extra));
    args
}

#[test]
fn the_first_sign_in_creates_the_default_age_identity() {
    let sandbox = Sandbox::new();
    std::fs::remove_file(sandbox.identity_path()).unwrap();
    let provider = FakeProvider::start();
    let path = sandbox.path("service");
    let run = run(&sandbox, &service_args(&provider, &path, &[]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("created age identity"),
        "{}",
        run.stderr
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(sandbox.identity_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // read_token decrypts with the identity at that path: the new one.
    assert_eq!(
        sandbox.read_token(&path).access_token.expose(),
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
    // An identity opens every file encrypted to it: like a token file, only its owner may read it.
    let readable = run(
        &sandbox,
        &service_args(
            &provider,
            &sandbox.path("refused"),
            &["--age-identity", other_path.to_str().unwrap()],
        ),
    );
    assert_eq!(readable.code, 78, "{}", readable.stderr);
    assert!(
        readable.stderr.contains("can be read by other users"),
        "{}",
        readable.stderr
    );
    set_mode(&other_path, 0o600);
    let path = sandbox.path("service");
    let run = run(
        &sandbox,
        &service_args(
            &provider,
            &path,
            &["--age-identity", other_path.to_str().unwrap()],
        ),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
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
fn a_passphrase_needs_a_terminal_and_is_refused_before_signing_in() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("service");
    let run = run(
        &sandbox,
        &service_args(&provider, &path, &["--encryption", "passphrase"]),
    );
    assert_eq!((run.code, run.stdout.as_str()), (64, ""));
    assert!(run.stderr.contains("not a terminal"), "{}", run.stderr);
    assert!(provider.server.requests().is_empty());
}

#[test]
fn debug_traces_never_show_codes_verifiers_or_tokens() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let mut args = authcode_args(&provider, &path);
    args.push("--debug".into());
    let (mut running, location) = start_authcode(&sandbox, &args);
    running.type_in(&format!("{location}\n"));
    let run = running.finish();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "access-from-code\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("debug: > POST"),
        "the exchange is traced: {}",
        run.stderr
    );
    let verifier = provider.requests_to("/token")[0].form["code_verifier"].clone();
    for secret in [
        "code-1",
        verifier.as_str(),
        "access-from-code",
        "refresh-from-code",
    ] {
        assert!(
            !run.stderr.contains(secret),
            "{secret} leaked: {}",
            run.stderr
        );
    }
}

#[test]
fn a_client_credentials_account_refreshes_by_asking_again() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(|s| s.client_secret = Some("s3cret".into()));
    let path = sandbox.path("service");
    assert_eq!(run(&sandbox, &service_args(&provider, &path, &[])).code, 0);
    let refreshed = run(
        &sandbox,
        &strings(&[path.to_str().unwrap(), "--force-refresh"]),
    );
    assert_eq!(
        (refreshed.code, refreshed.stdout.as_str()),
        (0, "access-from-client-credentials\n"),
        "{}",
        refreshed.stderr
    );
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
    let stranger = age::x25519::Identity::generate();
    let crypto = mailtoken::encryption::Crypto::new(Default::default());
    let old = crypto
        .encrypt(
            &mailtoken::encryption::EncryptionSpec::Age {
                recipients: vec![stranger.to_public().to_string()],
            },
            b"{\"a login\": \"only the right identity can open\"}",
        )
        .unwrap();
    std::fs::write(&path, &old).unwrap();
    set_mode(&path, 0o600);

    let run = run(&sandbox, &service_args(&provider, &path, &[]));

    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("kept as"), "{}", run.stderr);
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

/// Google's device flow does not allow the Gmail scope: refused before any request or prompt.
#[test]
fn google_device_flow_is_refused_before_anything_is_sent() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("gmail");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--provider",
        "google",
        "--authflow",
        "devicecode",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Google's device flow does not allow the Gmail scope")
            && run
                .stderr
                .contains("hint: use --authflow localhostauthcode"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("e-mail"), "no prompt came first");
    assert!(!path.exists());
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

    let path = sandbox.path("account");
    let mut token = token_file(
        mailtoken::provider::preset("google", None).unwrap(),
        sandbox.age_spec(),
        Utc::now(),
    );
    token.refresh_token = None;
    sandbox.write_token(&path, &token);
    let before = std::fs::read(&path).unwrap();
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
    ]);
    assert_eq!((run.code, run.stdout.as_str()), (64, ""), "{}", run.stderr);
    let url = run
        .stderr
        .lines()
        .find(|line| line.trim_start().starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {}", run.stderr));
    let query = query_of(url.trim());
    assert_eq!(query["access_type"], "offline");
    assert_eq!(query["prompt"], "consent");
    assert_eq!(std::fs::read(&path).unwrap(), before);
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
    let mut args = base.clone();
    args.extend(provider.endpoint_args());
    let device = run(&sandbox, &args);
    assert!(
        device
            .stderr
            .contains("signing in with the devicecode flow"),
        "{}",
        device.stderr
    );
    assert!(
        device.stderr.contains("enter the code WDJB-MJHT"),
        "{}",
        device.stderr
    );
    // Google's device flow refuses the Gmail scope: the paste flow.
    let mut args = base.clone();
    args.extend(strings(&["--provider", "google"]));
    let paste = run(&sandbox, &args);
    assert!(
        paste.stderr.contains("signing in with the authcode flow"),
        "{}",
        paste.stderr
    );
    assert!(!path.exists());
}

#[test]
fn the_automatic_choice_prefers_a_browser_then_the_device_flow() {
    use mailtoken::authorize::automatic_flow;
    use mailtoken::tokenfile::Flow;
    let microsoft = mailtoken::provider::preset("microsoft", None).unwrap();
    let google = mailtoken::provider::preset("google", None).unwrap();
    let yahoo = mailtoken::provider::preset("yahoo", None).unwrap();
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
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--email",
        "you@example.com",
        "--client-id",
        CLIENT_ID,
        "--client-secret",
        "",
        "--auth-timeout",
        "2",
    ]);
    args.extend(provider.endpoint_args());
    let running = Running::start(&sandbox, &args, Some(&browser));
    let opened = browser.opened_url();
    assert!(
        opened.starts_with(&format!("{}/authorize?", provider.url())),
        "{opened}"
    );
    let run = running.finish();
    assert!(
        run.stderr
            .contains("signing in with the localhostauthcode flow: a browser opens"),
        "{}",
        run.stderr
    );
}
