//! Mail autoconfiguration (issue 36, item 5): for a domain that is not a known provider's, the
//! domain's own `config-v1.1.xml` is read before its MX records, served here on loopback
//! (`MAILTOKEN_TEST_AUTOCONFIG`, which only debug builds read), from the fixtures in
//! `tests/it/fixtures/autoconfig` (sources in each file). What was found is said; a hostile or
//! oversized document is refused with a warning and the lookup goes on.

use crate::support::dns::{FakeDns, Mode};
use crate::support::*;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repository(&format!("tests/it/fixtures/autoconfig/{name}"))).unwrap()
}

/// A server answering `document` at the first URL of `domain`, 404 elsewhere.
fn serving(domain: &str, document: String) -> FakeServer {
    let path = format!("/autoconfig.{domain}/mail/config-v1.1.xml");
    FakeServer::start(move |request| {
        if request.path == path {
            Reply::raw(200, "text/xml", document.clone())
        } else {
            Reply::raw(404, "text/plain", "not found")
        }
    })
}

/// An authcode sign-in of `address` with no provider named, its stdin closed.
fn sign_in(address: &str, server: &FakeServer, dns: &FakeDns) -> (Sandbox, Run) {
    let sandbox = Sandbox::new();
    let mut env = dns.env();
    env.push(("MAILTOKEN_TEST_AUTOCONFIG", server.url.clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = sandbox.run_with(
        &[
            "account",
            "--authorize",
            "--authflow",
            "authcode",
            "--email",
            address,
            "--client-id",
            "my-client",
            "--client-secret",
            "",
            "--auth-timeout",
            "5",
        ],
        &env,
    );
    (sandbox, run)
}

fn no_dns() -> FakeDns {
    FakeDns::start_in(&[], Mode::Answer)
}

#[test]
fn an_ispdb_issuer_names_its_preset_and_the_servers_are_said() {
    let server = serving("contoso.example", fixture("office365.xml"));
    let (_sandbox, run) = sign_in("alice@contoso.example", &server, &no_dns());
    run.says(&format!(
        "the mail autoconfiguration of contoso.example ({}/autoconfig.contoso.example/mail/config-v1.1.xml) \
         names imaps://outlook.office365.com:993, smtp://smtp.office365.com:587 and the OAuth2 issuer \
         login.microsoftonline.com, so signing in with --provider microsoft --tenant organizations",
        server.url
    ));
    run.says("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?");
}

#[test]
fn another_issuer_is_signed_in_at_with_the_documents_endpoints_scope_and_client() {
    let provider = FakeProvider::start();
    let document = fixture("draft-sample.xml").replace("LOGIN", &provider.url());
    let server = serving("self-hosted.example", document);
    let sandbox = Sandbox::new();
    let mut env = no_dns().env();
    env.push(("MAILTOKEN_TEST_AUTOCONFIG", server.url.clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = strings(&[
        "account",
        "--authorize",
        "--authflow",
        "authcode",
        "--email",
        "me@self-hosted.example",
        "--client-secret",
        "",
        "--auth-timeout",
        "20",
    ]);
    let mut running = Running::start_with(&sandbox, &args, &env);
    let url = running.wait_for_stderr("/authorize?").trim().to_string();
    let query = query_of(&url);
    assert_eq!(query["client_id"], CLIENT_ID);
    assert_eq!(
        query["scope"],
        "IMAP POP3 SMTP CalDAV CardDAV WebDAV offline_access"
    );
    let answer = get_url(&url, ipv4());
    running.wait_for_stderr("paste it here");
    running.type_in(&format!("{}\n", answer.body));
    let run = running.finish();
    run.expect(0, "access-from-code\n");
    run.says("names imaps://imap.self-hosted.example:993, smtps://smtp.self-hosted.example:465 and the OAuth2 issuer");
    run.never_says("pop.self-hosted.example");
    let token = sandbox.read_token(&sandbox.accounts_dir().join("account"));
    assert_eq!(
        token.registration.imap_endpoint.unwrap().url(),
        "imaps://imap.self-hosted.example:993"
    );
    assert!(
        token.registration.pop_endpoint.is_none(),
        "a plain-text server is never taken"
    );
}

#[test]
fn a_hostile_or_oversized_document_is_refused_and_the_lookup_goes_on() {
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE c [<!ENTITY a \"aaaaaaaaaa\">\
                  <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><clientConfig>&b;</clientConfig>";
    for (document, words) in [
        (
            laughs.to_string(),
            "cannot be used: it is not XML this reader takes",
        ),
        (
            format!("<clientConfig>{}</clientConfig>", " ".repeat(70_000)),
            "larger than 65536 bytes",
        ),
        (
            "<html>a captive portal</html>".to_string(),
            "its root is not <clientConfig>",
        ),
    ] {
        let server = serving("odd.example", document);
        let (_sandbox, run) = sign_in("me@odd.example", &server, &no_dns());
        run.says(&format!(
            "warning: the mail autoconfiguration at {}",
            server.url
        ));
        run.says(words);
        run.no_panic();
        // Nothing found: the provider is asked for, as before.
        run.expect_code(64);
        run.says("no provider");
    }
}
