//! `--authorize --authflow localhostauthcode`: a fake browser ($BROWSER) records the sign-in URL;
//! the test plays the browser, GETs the fake authorization endpoint and follows its redirect to
//! mailtoken's loopback listener.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use crate::support::*;

/// A sign-in under way: the sandbox, the provider, the browser it opens, the new account's path
/// and the running program.
struct SignIn {
    sandbox: Sandbox,
    provider: FakeProvider,
    browser: FakeBrowser,
    path: PathBuf,
    running: Running,
}

/// Starts a first sign-in to the file `account` at a new provider that `setup` set up, with the
/// fake browser, a 20 s deadline and `extra` flags.
fn start(extra: &[&str], setup: impl FnOnce(&mut ProviderState)) -> SignIn {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    provider.with(setup);
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let flags = [&["--auth-timeout", "20"], extra].concat();
    let args = provider.sign_in(&path, "localhostauthcode", &PERSON, &flags);
    let running = Running::start(&sandbox, &args, Some(&browser.script));
    SignIn {
        sandbox,
        provider,
        browser,
        path,
        running,
    }
}

/// Plays the browser: asks the authorization endpoint, returns where it redirects to.
fn visit_authorization_url(url: &str) -> String {
    let answer = get_url(url, ipv4());
    assert_eq!(
        answer.status, 200,
        "authorization endpoint refused: {}",
        answer.body
    );
    answer.body
}

/// Plays the browser to the end of the sign-in: the provider's page, then the redirect to
/// mailtoken's listener (`localhost` as `loopback`), which must answer 200.
fn complete_sign_in(url: &str, loopback: IpAddr) {
    let location = visit_authorization_url(url);
    assert_eq!(get_url(&location, loopback).status, 200);
}

#[test]
fn signs_in_through_the_loopback_listener() {
    let SignIn {
        sandbox,
        provider,
        browser,
        path,
        mut running,
    } = start(&[], |_| {});

    let url = browser.opened_url();
    let printed = running.wait_for_stderr("/authorize?");
    assert_eq!(printed.trim(), url, "the URL is printed on stderr too");
    let query = query_of(&url);
    let redirect_uri = query["redirect_uri"].clone();
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:") && redirect_uri.ends_with('/'),
        "{redirect_uri}"
    );
    assert_eq!(query["login_hint"], "user@example.com");
    assert_eq!(query["scope"], "mail offline_access");
    assert_eq!(
        query["prompt"], "consent",
        "OpenID Connect needs it for offline_access"
    );
    assert!(query["state"].len() >= 16, "a random state is sent");

    // The browser asks for a favicon on its own: answered 404, and nothing changes.
    let (addr, host, _) = split_url(&redirect_uri, ipv4());
    assert_eq!(http_get(addr, &host, "/favicon.ico").status, 404);

    let location = visit_authorization_url(&url);
    let page = get_url(&location, ipv4());
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Signed in"), "{}", page.body);
    assert!(page.head.contains("Referrer-Policy: no-referrer"));
    assert!(
        !page.body.contains("code-1"),
        "the page never echoes the request"
    );

    let run = running.finish();
    run.expect(0, "access-from-code\n");
    // The code is never logged.
    run.never_says("code-1");

    // The token request proves PKCE and repeats the redirect URI (RFC 7636 4.5, RFC 6749 4.1.3).
    let token = &provider.requests_to("/token")[0].form;
    assert_eq!(token["grant_type"], "authorization_code");
    assert_eq!(token["code"], "code-1");
    assert_eq!(token["redirect_uri"], redirect_uri);
    assert_eq!(token["client_id"], CLIENT_ID);
    assert_eq!(s256(&token["code_verifier"]), query["code_challenge"]);
    assert!(
        !token.contains_key("client_secret"),
        "a public client sends no secret"
    );

    let saved = sandbox.read_token(&path);
    assert_eq!(saved.access_token.expose(), "access-from-code");
    assert_eq!(
        saved.refresh_token.as_ref().unwrap().expose(),
        "refresh-from-code"
    );
    assert_eq!(
        saved.flow,
        mailtoken::testing::tokenfile::Flow::Localhostauthcode
    );
    assert_eq!(saved.email, "user@example.com");
    assert_eq!(saved.client_id, CLIENT_ID);
    assert_eq!(saved.client_secret, None);
    assert_eq!(saved.registration.provider, "testprovider");
    assert_eq!(
        saved.registration.token_endpoint,
        format!("{}/token", provider.url())
    );
    assert_eq!(
        saved.registration.imap_endpoint.as_ref().unwrap().url(),
        "imaps://imap.example.com:993"
    );
    assert_eq!(
        saved.encryption,
        sandbox.age_spec(),
        "age to the default identity"
    );
}

#[test]
fn a_wrong_or_missing_state_is_refused_and_the_listener_keeps_waiting() {
    let mut sign_in = start(&[], |_| {});

    let url = sign_in.browser.opened_url();
    let redirect_uri = query_of(&url)["redirect_uri"].clone();
    let (addr, host, _) = split_url(&redirect_uri, ipv4());
    let forged = http_get(
        addr,
        &host,
        "/?code=forged&state=%3Cscript%3Eevil%3C%2Fscript%3E",
    );
    assert_eq!(forged.status, 400);
    assert!(
        !forged.body.contains("evil"),
        "input is never echoed: {}",
        forged.body
    );
    assert_eq!(http_get(addr, &host, "/?code=forged").status, 400);
    sign_in.running.wait_for_stderr("state does not match");

    complete_sign_in(&url, ipv4());
    sign_in.running.finish().expect(0, "access-from-code\n");
    let tokens = sign_in.provider.requests_to("/token");
    assert_eq!(tokens.len(), 1, "the forged code was never exchanged");
    assert_eq!(tokens[0].form["code"], "code-1");
}

#[test]
fn access_denied_ends_with_exit_77_and_the_providers_reason() {
    let sign_in = start(&[], |s| s.authorize_mode = AuthorizeMode::Deny);

    let location = visit_authorization_url(&sign_in.browser.opened_url());
    let page = get_url(&location, ipv4());
    assert!(page.body.contains("refused"), "{}", page.body);
    let run = sign_in.running.finish();
    run.expect(77, "");
    run.says("access_denied: The user declined the request");
    assert!(!sign_in.path.exists(), "nothing is written");
    assert!(sign_in.provider.requests_to("/token").is_empty());
}

#[test]
fn the_browser_may_come_back_over_ipv6() {
    // Without an IPv6 loopback there is no ::1 to come back over: this test would show nothing.
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        unavailable("feature ipv6", "this machine has no IPv6 loopback (::1)");
        return;
    }
    let sign_in = start(&[], |_| {});

    let location = visit_authorization_url(&sign_in.browser.opened_url());
    // The redirect names 127.0.0.1; a browser that resolved `localhost` (or was handed a
    // registration's `[::1]`) comes back on the same port over ::1, and nothing else: the
    // sign-in completes through the IPv6 listener alone.
    let (v4, _, target) = split_url(&location, ipv4());
    let over_ipv6 = SocketAddr::new(IpAddr::from(Ipv6Addr::LOCALHOST), v4.port());
    let page = http_get(over_ipv6, &format!("[::1]:{}", v4.port()), &target);
    assert_eq!(page.status, 200, "{}", page.body);
    sign_in.running.finish().expect(0, "access-from-code\n");
}

/// A port nothing listens on now.
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

#[test]
fn a_fixed_port_is_used_for_the_redirect() {
    let port = free_port();
    let sign_in = start(&["--port", &port.to_string()], |_| {});
    let url = sign_in.browser.opened_url();
    assert_eq!(
        query_of(&url)["redirect_uri"],
        format!("http://127.0.0.1:{port}/")
    );
    complete_sign_in(&url, ipv4());
    sign_in.running.finish().expect_code(0);
}

#[test]
fn a_fixed_port_already_in_use_is_a_clear_error() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let path = sandbox.path("account");
    let flags = ["--auth-timeout", "20", "--port", &port, "--no-browser"];
    let run = sandbox.run(&provider.sign_in(&path, "localhostauthcode", &PERSON, &flags));
    run.expect(75, "");
    run.says(&format!("port {port} is already in use on 127.0.0.1"));
    run.says("--port");
    assert!(!path.exists());
}

#[test]
fn gives_up_after_the_deadline_and_no_browser_means_none() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let browser = FakeBrowser::new(&sandbox);
    let path = sandbox.path("account");
    let flags = ["--auth-timeout", "1", "--no-browser"];
    let args = provider.sign_in(&path, "localhostauthcode", &PERSON, &flags);
    let run = Running::start(&sandbox, &args, Some(&browser.script)).finish();
    run.expect(75, "");
    run.says("no sign-in arrived within 1 s");
    assert!(
        run.stderr.contains("/authorize?"),
        "the URL is still printed"
    );
    // What the provider's page may have said, and the whole command again (no file remembers
    // the flags of a first sign-in).
    for words in [
        "(1) the provider does not know the client id: check --client-id",
        // As docs/providers.md says for any other provider: the address without the port this
        // run happened to use.
        "(2) the redirect address is not registered: register http://127.0.0.1/ (any port)",
        // Issue #34, item 2: a provider that compares the port too needs this run's address,
        // and the port fixed.
        "at a provider that matches the port exactly (many self-hosted ones do), register \
         exactly http://127.0.0.1:",
        "which the account then keeps",
        "(3) the page was closed",
        &format!(
            "run 'mailtoken {} --authorize --authflow localhostauthcode",
            path.display()
        ),
        "--no-browser",
        // A public client's empty secret stays in the command: without it, the command asks
        // for a secret or, with no terminal, is refused (64) (issue #34: glewlwyd's scenario).
        "--client-secret '' ",
    ] {
        run.says(words);
    }
    // What Google's or Microsoft's page would say is no help at another provider.
    run.never_says("AADSTS");
    run.never_says("Google");
    assert!(!browser.record.exists(), "--no-browser opens nothing");
    assert!(!path.exists());

    // A confidential client's secret is never repeated; the terminal asks for it again.
    let args = provider.sign_in(&path, "localhostauthcode", &SERVICE, &flags);
    let run = Running::start(&sandbox, &args, Some(&browser.script)).finish();
    run.expect(75, "");
    run.never_says("s3cret");
    run.never_says("--client-secret");
}

/// The words of the provider's page that the hint quotes are this provider's: a Google sign-in
/// hears of no AADSTS code, a Microsoft one of no Google message.
#[test]
fn a_sign_in_that_never_came_back_quotes_its_own_providers_page() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    for (provider, says, never) in [
        (
            "google",
            [
                "(Google: \"OAuth client was not found\")",
                "(Google: redirect_uri_mismatch)",
                "check that the client is of type Desktop app",
            ],
            "AADSTS",
        ),
        (
            "microsoft",
            [
                "(Microsoft: AADSTS700016; AADSTS50194: a single-tenant app needs --tenant TENANT",
                "(Microsoft: AADSTS50011)",
                "register http://localhost as a Public client/native redirect",
            ],
            "Google",
        ),
    ] {
        let run = sandbox.run(&[
            path.to_str().unwrap(),
            "--authorize",
            "--provider",
            provider,
            "--authflow",
            "localhostauthcode",
            "--email",
            "you@example.com",
            "--client-id",
            "preset-client",
            "--client-secret",
            "",
            "--auth-timeout",
            "1",
            "--no-browser",
        ]);
        run.expect(75, "");
        run.says("no sign-in arrived within 1 s");
        for words in says {
            run.says(words);
        }
        run.never_says(never);
        assert!(!path.exists());
    }
}

/// Issue #34, item 2: `--port` is kept with the account, so a provider that matches the port
/// exactly sees the one registered address at every later sign-in.
#[test]
fn a_port_given_once_is_kept_for_every_later_sign_in() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let port_text = port.to_string();
    let SignIn {
        sandbox,
        provider,
        browser,
        path,
        running,
    } = start(&["--port", &port_text], |_| {});
    let url = browser.opened_url();
    let expected = format!("http://127.0.0.1:{port}/");
    assert_eq!(query_of(&url)["redirect_uri"], expected);
    complete_sign_in(&url, ipv4());
    running.finish().expect(0, "access-from-code\n");
    assert_eq!(
        sandbox
            .read_token(&path)
            .registration
            .redirect_uri
            .as_deref(),
        Some(expected.as_str())
    );
    // Every surface says which address (and so which port to forward over ssh).
    let file = path.to_str().unwrap();
    let status = sandbox.run(&["--status", file]);
    status.expect_code(0);
    assert!(
        status
            .stdout
            .lines()
            .any(|line| line.starts_with("redirect: ")
                && line.ends_with(&format!(" {expected} (every sign-in uses this address)"))),
        "{}",
        status.stdout
    );
    let json = sandbox.run(&["--status", "--json", file]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["redirect_uri"], expected.as_str());

    // Signing in again, without --port: the same address.
    std::fs::remove_file(&browser.record).unwrap();
    let args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--auth-timeout",
        "20",
    ]);
    let running = Running::start(&sandbox, &args, Some(&browser.script));
    let url = browser.opened_url();
    assert_eq!(query_of(&url)["redirect_uri"], expected);
    complete_sign_in(&url, ipv4());
    running.finish().expect(0, "access-from-code\n");
    drop(provider);
}

/// Issue #35, item 4: over ssh the browser often cannot reach the listener; the address it ended
/// on, pasted at the terminal while the listener waits, finishes the sign-in (its state checked,
/// then PKCE at the exchange). A pasted address of another sign-in is said and waited past.
#[test]
fn the_address_the_browser_ended_on_can_be_pasted_while_the_listener_waits() {
    if !require("script") {
        return;
    }
    use std::io::Write;
    use std::process::Stdio;
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let path = sandbox.path("account");
    let args = provider.sign_in(
        &path,
        "localhostauthcode",
        &PERSON,
        &["--auth-timeout", "20", "--no-browser"],
    );
    let quoted: Vec<String> = args
        .iter()
        .map(|a| mailtoken::testing::paths::shell_quote(a))
        .collect();
    let mut child = sandbox
        .terminal(&format!(
            "\"$MAILTOKEN\" {} > stdout 2> stderr",
            quoted.join(" ")
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = sandbox.path("stderr");
    assert!(
        eventually(|| std::fs::read_to_string(&stderr).is_ok_and(|t| t.contains("then Enter:"))),
        "no paste invitation: {:?}",
        std::fs::read_to_string(&stderr)
    );
    let text = std::fs::read_to_string(&stderr).unwrap();
    let url = text
        .lines()
        .map(str::trim)
        .find(|line| line.contains("/authorize?"))
        .unwrap()
        .to_string();
    let location = visit_authorization_url(&url);
    // Another sign-in's address first: refused, and the wait goes on.
    let foreign = location.replace("state=", "state=x");
    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, "{foreign}").unwrap();
    assert!(eventually(|| {
        std::fs::read_to_string(&stderr).is_ok_and(|t| t.contains("belongs to another sign-in"))
    }));
    writeln!(stdin, "{location}").unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", sandbox.read("stderr"));
    assert_eq!(sandbox.read("stdout"), "access-from-code\n");
    let exchange = provider.requests_to("/token");
    assert_eq!(exchange.len(), 1, "one exchange, with the pasted code");
}

/// Issue #35, item 5: under WSL no browser opened. Windows' browser is found without
/// configuration: wslview (wslu) where installed, else explorer.exe, given the URL as its one
/// argument.
#[test]
fn under_wsl_windows_browser_opens_through_wslview_or_explorer() {
    for opener in ["wslview", "explorer.exe"] {
        let sandbox = Sandbox::new();
        let provider = FakeProvider::start();
        let browser = FakeBrowser::new(&sandbox);
        let bin = sandbox.path("windows-bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::copy(&browser.script, bin.join(opener)).unwrap();
        set_mode(&bin.join(opener), 0o755);
        let path = sandbox.path("account");
        let args = provider.sign_in(
            &path,
            "localhostauthcode",
            &PERSON,
            &["--auth-timeout", "20"],
        );
        let search = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let running = Running::start_with(
            &sandbox,
            &args,
            &[("WSL_DISTRO_NAME", "Ubuntu"), ("PATH", &search)],
        );
        let url = browser.opened_url();
        complete_sign_in(&url, ipv4());
        running.finish().expect(0, "access-from-code\n");
        drop(provider);
    }
}
