//! The questions of a first sign-in on a terminal (issue #32, item 4), on a pseudo-terminal from
//! script(1): the address first and the provider inferred from it; for an unknown domain the
//! provider or an issuer URL (discovery) is asked, not the sign-in ended; the client id question
//! says where the registration steps are; Google's secret question wants its secret; a wrong
//! answer is asked again; and the sign-in ends with the next steps.

use std::process::Stdio;

use crate::support::*;

/// `mailtoken ARGS` on a pseudo-terminal with `answers` typed; the terminal's text, the status.
fn on_terminal(sandbox: &Sandbox, args: &[&str], answers: &str) -> (String, i32) {
    let quoted: Vec<String> = args
        .iter()
        .map(|a| mailtoken::testing::paths::shell_quote(a))
        .collect();
    let mut child = sandbox
        .terminal(&format!("\"$MAILTOKEN\" {} > stdout", quoted.join(" ")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), answers.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&output.stdout).replace('\r', ""),
        output.status.code().unwrap_or(-1),
    )
}

/// Where each of `texts` first appears in `terminal`, failing when one is missing or out of order.
#[track_caller]
fn in_order(terminal: &str, texts: &[&str]) {
    let mut from = 0;
    for text in texts {
        match terminal[from..].find(text) {
            Some(at) => from += at + text.len(),
            None => panic!("{text:?} missing, or out of order, in:\n{terminal}"),
        }
    }
}

#[test]
fn the_address_comes_first_and_names_the_provider_and_google_wants_its_secret() {
    if !require("script") {
        return;
    }
    let sandbox = Sandbox::new();
    let (terminal, _) = on_terminal(
        &sandbox,
        &[
            "work",
            "--authorize",
            "--authflow",
            "authcode",
            "--auth-timeout",
            "2",
        ],
        "you\nyou@gmail.com\nmy-client.apps.googleusercontent.com\n\ns3cret\n",
    );
    in_order(
        &terminal,
        &[
            "E-mail address: ",
            "that is not an e-mail address (name@example.com); try again",
            "E-mail address: ",
            "gmail.com is the provider's own domain, so signing in with --provider google \
             (give --provider to choose another)",
            "OAuth2 client id (how to get one: docs/providers.md in mailtoken's source#google): ",
            "OAuth2 client secret (Google shows it beside the client id; desktop clients have one): ",
            "this provider's clients have a client secret; try again",
            "OAuth2 client secret",
            "https://accounts.google.com/o/oauth2/auth?",
        ],
    );
    assert!(!terminal.contains("Provider ("), "{terminal}");
    // (The answers typed ahead are echoed by the pseudo-terminal before any prompt turns echo
    // off, so the terminal's text is no test of the secret's prompt.)
}

#[test]
fn an_unknown_domain_is_asked_for_its_provider_or_issuer_and_the_sign_in_goes_on() {
    if !require("script") {
        return;
    }
    let provider = FakeProvider::start();
    provider.with(|s| s.metadata_at = MetadataAt::OpenId);
    let sandbox = Sandbox::new();
    let answers = format!(
        "you@self-hosted.example\ngmail\n{}\n{CLIENT_ID}\n\n",
        provider.url()
    );
    let (terminal, code) = on_terminal(
        &sandbox,
        &["work", "--authorize", "--auth-timeout", "30"],
        &answers,
    );
    assert_eq!(code, 0, "{terminal}");
    in_order(
        &terminal,
        &[
            "E-mail address: ",
            "Provider (google, microsoft, yahoo, aol, yandex, mailru), or your provider's issuer \
             URL (https://...): ",
            "not one of google, microsoft, yahoo, aol, yandex, mailru, nor an issuer URL \
             (https://...); try again",
            "Provider (",
            "OAuth2 client id (how to get one: docs/providers.md in mailtoken's source#which-provider): ",
            "OAuth2 client secret (empty for a public client): ",
            "mailtoken: signed in; saved to ",
            "mailtoken: next, check the login: mailtoken work --test",
            "--print-config",
        ],
    );
    let token = sandbox.read_token(&sandbox.accounts_dir().join("work"));
    assert_eq!(token.email, "you@self-hosted.example");
    assert_eq!(
        token.registration.issuer.as_deref(),
        Some(provider.url().as_str())
    );
}
