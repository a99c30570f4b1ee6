//! Issue #22, item 11: what a token file says (the provider's name, the address, the client id,
//! the scope) reaches the terminal without anything that could drive it: no escape sequence
//! (a title change, a screen clear), no bell, no U+202E turning text around. A token file may
//! come from anywhere (a backup, a shared directory, another tool).

use mailtoken::testing::mailserver::Protocol;
use mailtoken::testing::sasl::SaslMethod;

use crate::support::login_test::Probe;
use crate::support::mail_scripts::{Behaviour, serving};
use crate::support::*;

/// A window title, a screen clear, a bell and a right-to-left override, as reproduced.
const HOSTILE: &str = "\x1b]0;owned\x07\x1b[2J\u{202e}gro.elpmaxe";

/// Whether `text` carries anything that drives a terminal.
fn drives_the_terminal(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}')
}

#[track_caller]
fn clean(what: &str, run: &Run) {
    assert!(
        !drives_the_terminal(&run.stderr),
        "{what}: stderr {:?}",
        run.stderr
    );
    assert!(
        !drives_the_terminal(&run.stdout),
        "{what}: stdout {:?}",
        run.stdout
    );
}

/// `token` with every text it stores made hostile.
fn hostile(
    mut token: mailtoken::testing::tokenfile::TokenFile,
) -> mailtoken::testing::tokenfile::TokenFile {
    token.registration.provider = format!("prov{HOSTILE}");
    token.email = format!("mail{HOSTILE}@example.com");
    token.client_id = format!("id{HOSTILE}");
    token.registration.scope = format!("scope{HOSTILE}");
    token.granted_scope = Some(format!("granted{HOSTILE}"));
    token
}

#[test]
fn stored_text_never_drives_the_terminal() {
    let sandbox = Sandbox::new();
    let server = FakeServer::answering(Reply::oauth_error(400, "invalid_grant", "gone"));
    let path = sandbox.save(
        "account",
        &hostile(sandbox.token(&server.token_endpoint(), minutes_from_now(-1))),
    );
    let account = path.to_str().unwrap();
    let runs: [&[&str]; 6] = [
        &[account],
        &[account, "--status"],
        &[account, "--status", "--json"],
        &[account, "--check"],
        &[account, "--format", "sasl"],
        &[account, "--verbose", "--debug"],
    ];
    for args in runs {
        clean(&format!("{args:?}"), &sandbox.run(args));
    }

    // A sign-in the file's registration cannot carry names its provider.
    let mut token = sandbox.read_token(&path);
    token.registration.authorize_endpoint = None;
    token.registration.devicecode_endpoint = None;
    sandbox.write_token(&path, &token);
    for flow in ["authcode", "devicecode", "localhostauthcode"] {
        let run = sandbox.run(&[account, "--authorize", "--authflow", flow]);
        run.expect_code(64);
        run.says("provider prov");
        clean(flow, &run);
    }
    token.registration.token_endpoint = String::new();
    sandbox.write_token(&path, &token);
    let run = sandbox.run(&[account, "--authorize", "--authflow", "authcode"]);
    run.says("provider prov");
    clean("no token endpoint", &run);
}

#[test]
fn a_refused_test_login_quotes_the_address_harmlessly() {
    let probe = Probe::start(
        Protocol::Imap,
        true,
        serving(Protocol::Imap, Behaviour::accepting("never")),
    )
    .with_account(SaslMethod::Xoauth2, UNUSED_TOKEN_ENDPOINT);
    let token = hostile(probe.sandbox.read_token(&probe.path));
    probe.sandbox.write_token(&probe.path, &token);

    let run = probe.test(&[]);

    run.says("likely:");
    run.says("mail ]0;owned");
    clean("--test", &run);
}

#[test]
fn a_stored_access_token_that_is_no_token_is_not_printed() {
    let sandbox = Sandbox::new();
    let mut token = sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(30));
    token.access_token = mailtoken::testing::secret::Secret::new(format!("tok{HOSTILE}"));
    let path = sandbox.save("account", &token);
    for format in ["token", "sasl"] {
        let run = sandbox.run(&[path.to_str().unwrap(), "--format", format]);
        if format == "token" {
            run.expect(65, "");
            run.says("not printed");
        }
        clean(format, &run);
    }
}
