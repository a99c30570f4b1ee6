//! `localhostauthcode` with an https loopback redirect (issue 24, item 1): registrations that
//! accept only `https://localhost` (oama #41 and #44, AADSTS50011; pizauth 1.0.6's https
//! listener). The listener speaks TLS with a certificate made for this one sign-in; the test is a
//! browser that accepts it, as the person does after the warning they were told to expect.

use std::path::PathBuf;

use crate::support::tls_browser::{Shown, https_get};
use crate::support::*;

struct SignIn {
    sandbox: Sandbox,
    provider: FakeProvider,
    path: PathBuf,
    running: Running,
    url: String,
}

/// A first sign-in whose registration names the https loopback `redirect`.
fn start(redirect: &str, timeout: &str) -> SignIn {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let flags = ["--auth-timeout", timeout, "--redirect-uri", redirect];
    let args = provider.sign_in(&path, "localhostauthcode", &PERSON, &flags);
    let mut running = Running::start(&sandbox, &args, Some(&browser.script));
    running.wait_for_stderr("will warn");
    let url = browser.opened_url();
    SignIn {
        sandbox,
        provider,
        path,
        running,
        url,
    }
}

/// Where the provider sends the browser back to.
fn redirected_to(url: &str) -> String {
    let answer = get_url(url, ipv4());
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body
}

#[test]
fn signs_in_through_an_https_loopback_listener_with_a_certificate_for_this_machine_only() {
    let SignIn {
        sandbox,
        provider,
        path,
        running,
        url,
    } = start("https://localhost/", "20");
    let redirect_uri = query_of(&url)["redirect_uri"].clone();
    assert!(
        redirect_uri.starts_with("https://localhost:") && redirect_uri.ends_with('/'),
        "{redirect_uri}"
    );
    let location = redirected_to(&url);
    assert!(location.starts_with(&redirect_uri), "{location}");

    // Plain HTTP to the https listener gets no sign-in through.
    let (addr, host, target) = split_url(&location.replacen("https://", "http://", 1), ipv4());
    let plain = std::panic::catch_unwind(|| http_get(addr, &host, &target));
    assert!(plain.is_err() || plain.unwrap().status != 200);

    let shown = Shown::default();
    let answer = https_get(&location, ipv4(), shown.config()).expect("the TLS sign-in");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.head.contains("Cache-Control: no-store"),
        "{}",
        answer.head
    );
    let run = running.finish();
    run.expect(0, "access-from-code\n");

    // The exchange named the https redirect exactly (RFC 6749 section 4.1.3).
    let token = &provider.requests_to("/token")[0].form;
    assert_eq!(token["redirect_uri"], redirect_uri);
    let stored = sandbox.read_token(&path);
    assert_eq!(
        stored.registration.redirect_uri.as_deref(),
        Some("https://localhost/")
    );

    // The certificate holds for localhost, 127.0.0.1 and ::1 and for nothing else; a browser
    // that trusted it would see it expire within minutes of the sign-in.
    let certificate = shown.last();
    use rustls::client::danger::ServerCertVerifier;
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        std::sync::Arc::new({
            let mut roots = rustls::RootCertStore::empty();
            roots.add(certificate.clone()).unwrap();
            roots
        }),
        std::sync::Arc::new(rustls::crypto::ring::default_provider()),
    )
    .build()
    .unwrap();
    let now = rustls::pki_types::UnixTime::now();
    let later = rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        now.as_secs() + 30 * 60,
    ));
    let check = |name: &str, at| {
        let name = rustls::pki_types::ServerName::try_from(name.to_string()).unwrap();
        verifier.verify_server_cert(&certificate, &[], &name, &[], at)
    };
    for name in ["localhost", "127.0.0.1", "::1"] {
        assert!(check(name, now).is_ok(), "{name}: {:?}", check(name, now));
    }
    assert!(check("example.com", now).is_err());
    assert!(
        check("localhost", later).is_err(),
        "short-lived: not valid 30 minutes on"
    );
}

#[test]
fn the_state_is_checked_first_over_https_too() {
    let SignIn {
        sandbox: _sandbox,
        provider: _provider,
        running,
        url,
        ..
    } = start("https://127.0.0.1/", "20");
    let location = redirected_to(&url);
    let forged = location.replace("state=", "state=forged");
    let shown = Shown::default();
    let refused = https_get(&forged, ipv4(), shown.config()).unwrap();
    assert_eq!(refused.status, 400);
    let answer = https_get(&location, ipv4(), shown.config()).unwrap();
    assert_eq!(answer.status, 200);
    let run = running.finish();
    run.expect(0, "access-from-code\n");
    run.says("ignored a request whose state does not match");
}

#[test]
fn an_oversized_request_is_refused_and_an_idle_connection_holds_nothing_up_over_https() {
    let SignIn {
        sandbox: _sandbox,
        provider: _provider,
        running,
        url,
        ..
    } = start("https://127.0.0.1/", "20");
    let location = redirected_to(&url);
    let port: u16 = location
        .trim_start_matches("https://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // A connection that never says a word, as a browser's speculative one.
    let _idle = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let shown = Shown::default();
    let huge = format!("{location}&pad={}", "a".repeat(20_000));
    let answer = https_get(&huge, ipv4(), shown.config()).unwrap();
    assert_eq!(answer.status, 431);
    let answer = https_get(&location, ipv4(), shown.config()).unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    running.finish().expect(0, "access-from-code\n");
}

#[test]
fn the_warning_comes_before_the_browser_opens_and_says_why() {
    let SignIn {
        sandbox: _sandbox,
        mut running,
        ..
    } = start("https://localhost/", "2");
    let warning = running.wait_for_stderr("will warn");
    assert!(warning.contains("not private"), "{warning}");
    let run = running.finish();
    run.says("certificate made for this one sign-in");
    run.says("its key never leaves memory");
    run.expect_code(75);
}

#[test]
fn an_https_redirect_elsewhere_is_still_refused_for_the_listener() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let flags = ["--redirect-uri", "https://example.com/callback"];
    let run = sandbox.run(&provider.sign_in(&path, "localhostauthcode", &PERSON, &flags));
    run.expect_code(78);
    run.says("is not an http:// or https:// address on this machine");
}
