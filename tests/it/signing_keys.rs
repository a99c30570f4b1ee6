//! Accounts without a user that sign instead of sending a secret (issue 24, items 2 and 3): a
//! Google service account's JWT bearer grant (RFC 7523 section 2.1) and a certificate
//! credential's client assertion (RFC 7523 section 2.2). The fake token endpoint verifies every
//! JWT's RS256 signature with the public key and refuses what does not verify, as the providers
//! do; the claims are then checked one by one.

use std::path::PathBuf;

use mailtoken::testing::credential::Credential;
use mailtoken::testing::tokenfile::Flow;

use crate::support::jwt::{self, CERT_PEM, KEY_PEM, service_account_json};
use crate::support::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const SERVICE_EMAIL: &str = "relay@mailtoken-tests.iam.gserviceaccount.com";

/// A token endpoint that verifies the JWT in `field` and answers with a new token each time.
fn verifying_endpoint(field: &'static str) -> FakeServer {
    let issued = std::sync::atomic::AtomicUsize::new(0);
    FakeServer::start(move |request| {
        let Some(jwt) = request.form.get(field) else {
            return Reply::oauth_error(400, "invalid_request", "no assertion");
        };
        match jwt::verify(jwt) {
            Ok(_) => {
                let n = issued.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                Reply::token(&format!("signed-access-{n}"), None, 3600)
            }
            Err(why) => Reply::oauth_error(400, "invalid_grant", &format!("Invalid JWT: {why}")),
        }
    })
}

/// Writes `contents` as a private key file `name` in the sandbox.
fn key_file(sandbox: &Sandbox, name: &str, contents: &str) -> PathBuf {
    let path = sandbox.path(name);
    write_private(&path, contents);
    path
}

/// The claims of the JWT in `field` of the `index`th request, verified.
fn claims(
    server: &FakeServer,
    field: &str,
    index: usize,
) -> (serde_json::Value, serde_json::Value) {
    let requests = server.requests();
    jwt::verify(&requests[index].form[field]).expect("a verified JWT")
}

/// Makes the account's token expire, as time would.
fn expire(sandbox: &Sandbox, path: &std::path::Path) {
    let mut token = sandbox.read_token(path);
    token.access_token_expiry = minutes_from_now(-1);
    sandbox.write_token(path, &token);
}

fn service_sign_in(sandbox: &Sandbox, server: &FakeServer, extra: &[&str]) -> (PathBuf, Run) {
    let key = key_file(
        sandbox,
        "service.json",
        &service_account_json(&server.token_endpoint()),
    );
    let path = sandbox.path("relay");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--service-account",
        key.to_str().unwrap(),
    ]);
    args.extend(strings(extra));
    let run = sandbox.run(&args);
    (path, run)
}

#[test]
fn a_service_account_signs_in_for_the_mailbox_with_a_jwt_the_provider_verifies() {
    let server = verifying_endpoint("assertion");
    let sandbox = Sandbox::new();
    let (path, run) = service_sign_in(&sandbox, &server, &["--email", "user@example.com"]);
    run.expect(0, "signed-access-1\n");

    let request = &server.requests()[0];
    assert_eq!(request.form["grant_type"], GRANT);
    assert_eq!(
        request.form.len(),
        2,
        "grant_type and assertion only: {:?}",
        request.form.keys()
    );
    let (header, claims) = claims(&server, "assertion", 0);
    assert_eq!(header["kid"], "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(claims["iss"], SERVICE_EMAIL);
    assert_eq!(claims["sub"], "user@example.com");
    assert_eq!(claims["aud"], server.token_endpoint());
    assert_eq!(claims["scope"], "https://mail.google.com/");
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!(
        (iat - chrono::Utc::now().timestamp()).abs() < 60,
        "iat {iat}"
    );
    assert!(
        exp > iat && exp - iat <= 3600,
        "Google allows at most an hour: {iat}..{exp}"
    );

    let stored = sandbox.read_token(&path);
    assert_eq!(stored.flow, Flow::Clientcredentials);
    assert_eq!(stored.client_id, SERVICE_EMAIL);
    assert!(stored.client_secret.is_none() && stored.refresh_token.is_none());
    assert_eq!(stored.registration.provider, "google");
    assert_eq!(stored.registration.token_endpoint, server.token_endpoint());
    assert_eq!(
        stored.registration.imap_endpoint.as_ref().unwrap().url(),
        "imaps://imap.gmail.com:993"
    );
    assert!(matches!(
        stored.credential,
        Some(Credential::ServiceAccount { .. })
    ));
}

#[test]
fn each_renewal_of_a_service_account_signs_a_new_assertion_without_the_key_file() {
    let server = verifying_endpoint("assertion");
    let sandbox = Sandbox::new();
    let (path, run) = service_sign_in(&sandbox, &server, &["--email", "user@example.com"]);
    run.expect_code(0);
    // The key lives on inside the token file: the key file can go.
    std::fs::remove_file(sandbox.path("service.json")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    expire(&sandbox, &path);
    sandbox
        .run(&[path.to_str().unwrap()])
        .expect(0, "signed-access-2\n");
    let (_, first) = claims(&server, "assertion", 0);
    let (_, second) = claims(&server, "assertion", 1);
    assert!(
        second["iat"].as_i64() > first["iat"].as_i64(),
        "a new assertion"
    );
    assert_eq!(second["sub"], "user@example.com");
    // `--force-refresh` asks again too.
    sandbox
        .run(&[path.to_str().unwrap(), "--force-refresh"])
        .expect(0, "signed-access-3\n");
}

#[test]
fn the_key_never_shows_even_in_a_debug_trace() {
    let server = verifying_endpoint("assertion");
    let sandbox = Sandbox::new();
    let (path, run) = service_sign_in(
        &sandbox,
        &server,
        &["--email", "user@example.com", "--debug"],
    );
    run.expect_code(0);
    expire(&sandbox, &path);
    let refresh = sandbox.run(&[path.to_str().unwrap(), "--debug"]);
    refresh.expect_code(0);
    let key_line = KEY_PEM.lines().nth(5).unwrap();
    for run in [&run, &refresh] {
        run.never_says(key_line);
        run.never_says(&server.requests()[0].form["assertion"]);
        run.says("assertion=(redacted)");
    }
}

#[test]
fn a_key_file_others_can_read_is_refused_with_78() {
    let server = verifying_endpoint("assertion");
    let sandbox = Sandbox::new();
    let key = key_file(
        &sandbox,
        "service.json",
        &service_account_json(&server.token_endpoint()),
    );
    set_mode(&key, 0o644);
    let run = sandbox.run(&[
        sandbox.path("relay").to_str().unwrap(),
        "--authorize",
        "--service-account",
        key.to_str().unwrap(),
        "--email",
        "user@example.com",
    ]);
    run.expect(78, "");
    run.says("can be read by other users");
    run.says("chmod 600");
    assert!(server.requests().is_empty());
    let certificate = key_file(&sandbox, "credential.pem", &format!("{KEY_PEM}{CERT_PEM}"));
    set_mode(&certificate, 0o640);
    let run = sandbox.run(&[
        sandbox.path("robot").to_str().unwrap(),
        "--authorize",
        "--client-certificate",
        certificate.to_str().unwrap(),
        "--client-id",
        "x",
        "--email",
        "r@example.com",
        "--token-endpoint",
        &server.token_endpoint(),
        "--scope",
        "s",
    ]);
    run.expect(78, "");
}

#[test]
fn a_service_account_needs_a_mailbox_and_no_user_flow() {
    let server = verifying_endpoint("assertion");
    let sandbox = Sandbox::new();
    let (_, run) = service_sign_in(&sandbox, &server, &[]);
    run.expect_code(64);
    run.says("no --email names it");
    let (_, run) = service_sign_in(
        &sandbox,
        &server,
        &[
            "--email",
            "u@example.com",
            "--authflow",
            "localhostauthcode",
        ],
    );
    run.expect_code(64);
    run.says("the clientcredentials flow is the only one");
    let not_a_key = key_file(&sandbox, "other.json", r#"{"type": "authorized_user"}"#);
    let run = sandbox.run(&[
        sandbox.path("relay").to_str().unwrap(),
        "--authorize",
        "--service-account",
        not_a_key.to_str().unwrap(),
        "--email",
        "u@example.com",
    ]);
    run.expect_code(78);
    run.says("is not a Google service account key");
    assert!(server.requests().is_empty());
}

fn certificate_sign_in(sandbox: &Sandbox, server: &FakeServer) -> (PathBuf, Run) {
    let credential = key_file(sandbox, "credential.pem", &format!("{KEY_PEM}{CERT_PEM}"));
    let path = sandbox.path("robot");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--provider",
        "testprovider",
        "--token-endpoint",
        &server.token_endpoint(),
        "--scope",
        "https://outlook.office365.com/.default",
        "--client-id",
        "00000000-1111-2222-3333-444444444444",
        "--email",
        "robot@example.com",
        "--client-certificate",
        credential.to_str().unwrap(),
    ]);
    (path, run)
}

#[test]
fn a_certificate_credential_authenticates_with_a_verified_client_assertion() {
    let server = verifying_endpoint("client_assertion");
    let sandbox = Sandbox::new();
    let (path, run) = certificate_sign_in(&sandbox, &server);
    run.expect(0, "signed-access-1\n");
    let form = &server.requests()[0].form;
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["client_assertion_type"], ASSERTION_TYPE);
    assert_eq!(form["client_id"], "00000000-1111-2222-3333-444444444444");
    assert_eq!(form["scope"], "https://outlook.office365.com/.default");
    assert!(!form.contains_key("client_secret"));
    let (header, first) = claims(&server, "client_assertion", 0);
    assert_eq!(
        header["x5t"],
        jwt::x5t(),
        "the certificate's SHA-1 thumbprint"
    );
    assert_eq!(first["iss"], "00000000-1111-2222-3333-444444444444");
    assert_eq!(first["sub"], first["iss"]);
    assert_eq!(first["aud"], server.token_endpoint());
    assert!(first["jti"].as_str().is_some_and(|jti| jti.len() >= 32));
    let (nbf, exp) = (
        first["nbf"].as_i64().unwrap(),
        first["exp"].as_i64().unwrap(),
    );
    assert!(exp > nbf && exp - nbf <= 3600);
    let stored = sandbox.read_token(&path);
    assert_eq!(stored.flow, Flow::Clientcredentials);
    assert!(stored.client_secret.is_none());
    assert!(matches!(
        stored.credential,
        Some(Credential::Certificate { .. })
    ));

    // A renewal signs a new assertion: a new jti.
    expire(&sandbox, &path);
    sandbox
        .run(&[path.to_str().unwrap()])
        .expect(0, "signed-access-2\n");
    let (_, again) = claims(&server, "client_assertion", 1);
    assert_ne!(again["jti"], first["jti"]);
}

#[test]
fn the_fake_endpoint_refuses_what_the_key_did_not_sign() {
    let server = verifying_endpoint("assertion");
    let sandbox = Sandbox::new();
    let (_, run) = service_sign_in(&sandbox, &server, &["--email", "user@example.com"]);
    run.expect_code(0);
    let good = server.requests()[0].form["assertion"].clone();
    let mut parts: Vec<String> = good.split('.').map(String::from).collect();
    // Another mailbox in the claims, the signature kept: the check must fail.
    let claims = serde_json::json!({"iss": SERVICE_EMAIL, "sub": "boss@example.com"});
    parts[1] = ::base64::Engine::encode(
        &::base64::engine::general_purpose::URL_SAFE_NO_PAD,
        claims.to_string(),
    );
    assert!(jwt::verify(&parts.join(".")).is_err());
    assert!(jwt::verify(&good).is_ok());
}

#[test]
fn a_signature_the_provider_refuses_is_a_configuration_error() {
    // The provider knows another certificate: everything signed is refused. The answer is
    // reconstructed from Microsoft's error code reference (AADSTS700027, "Client assertion
    // failed signature validation"), in the invalid_client form of its token endpoint.
    let server = FakeServer::answering(Reply::oauth_error(
        401,
        "invalid_client",
        "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.",
    ));
    let sandbox = Sandbox::new();
    let (path, run) = certificate_sign_in(&sandbox, &server);
    run.expect(78, "");
    run.says("AADSTS700027");
    assert!(!path.exists());
}
