//! `--client-file` (issue 36, items 1 and 2): Google's downloaded client JSON and Microsoft Entra
//! app manifests, read from the fixtures in `tests/it/fixtures/client_files` (their sources are in
//! its README), and every defect of an Entra registration said before the browser opens: 78 for
//! one that must fail, a warning for one that may work.

use std::path::PathBuf;

use mailtoken::testing::client_file::{
    Audience, ClientFile, GoogleKind, ManifestFormat, PermissionKind, parse,
};
use serde_json::Value;

use crate::support::*;

/// A fixture's text.
fn fixture(name: &str) -> String {
    std::fs::read_to_string(repository(&format!(
        "tests/it/fixtures/client_files/{name}"
    )))
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A fixture with `change` made to it, written into the sandbox.
fn changed(sandbox: &Sandbox, name: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut json: Value = serde_json::from_str(&fixture(name)).unwrap();
    change(&mut json);
    let path = sandbox.path(name);
    write_private(&path, json.to_string());
    path
}

#[test]
fn every_fixture_reads_as_what_its_source_says_it_is() {
    let read =
        |name: &str| parse(fixture(name).as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    let ClientFile::Google(desktop) = read("google-desktop-download.json") else {
        panic!("not Google's")
    };
    assert_eq!(desktop.kind, GoogleKind::Installed);
    assert!(desktop.client_id.ends_with(".apps.googleusercontent.com"));
    assert_eq!(
        desktop.token_uri.as_deref(),
        Some("https://oauth2.googleapis.com/token")
    );
    assert_eq!(desktop.project_id.as_deref(), Some("text-detect-294806"));
    assert!(desktop.client_secret.is_some());
    let ClientFile::Google(documented) = read("google-installed-documented.json") else {
        panic!("not Google's")
    };
    assert_eq!(documented.kind, GoogleKind::Installed);
    let ClientFile::Google(web) = read("google-web-documented.json") else {
        panic!("not Google's")
    };
    assert_eq!(web.kind, GoogleKind::Web);

    let ClientFile::Entra(graph) = read("entra-graph-manifest.json") else {
        panic!("not a manifest")
    };
    assert_eq!(graph.format, ManifestFormat::MicrosoftGraph);
    assert_eq!(graph.app_id, "00001111-aaaa-2222-bbbb-3333cccc4444");
    assert_eq!(graph.audience, Some(Audience::OrgsAndPersonal));
    assert_eq!(
        graph.public_client_flows,
        Some(true),
        "the string \"true\" of Microsoft's example"
    );
    assert_eq!(graph.public_client_redirects.len(), 2);
    assert_eq!(graph.permissions.len(), 4);
    assert!(
        graph
            .permissions
            .iter()
            .all(|p| p.kind == PermissionKind::Delegated)
    );
    let ClientFile::Entra(old) = read("entra-aad-graph-readme.json") else {
        panic!("not a manifest")
    };
    assert_eq!(old.format, ManifestFormat::AzureAdGraph);
    assert_eq!(old.public_client_flows, Some(true));
    assert_eq!(old.audience, Some(Audience::MyOrg));
    assert_eq!(
        old.public_client_redirects,
        ["https://login.microsoftonline.com/common/oauth2/nativeclient"]
    );
    let ClientFile::Entra(cli) = read("entra-az-ad-app-create.json") else {
        panic!("not a manifest")
    };
    assert_eq!(
        cli.audience,
        Some(Audience::MyOrg),
        "availableToOtherTenants false"
    );
    assert_eq!(cli.web_redirects.len(), 1);
    assert_eq!(cli.display_name.as_deref(), Some("OCPAzureAD"));
}

#[test]
fn what_is_not_a_client_file_is_refused_without_quoting_it() {
    for (bytes, why) in [
        (&b"not json"[..], "not JSON"),
        (b"[]", "not a JSON object"),
        (b"{\"type\":\"service_account\"}", "neither"),
        (
            b"{\"installed\":{\"client_secret\":\"s3cret\"}}",
            "no \"client_id\"",
        ),
    ] {
        let error = parse(bytes).unwrap_err();
        assert!(error.contains(why), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }
    let sandbox = Sandbox::new();
    let path = sandbox.path("secret.json");
    write_private(&path, "{\"installed\":{\"client_secret\":\"s3cret\"}}");
    let run = sandbox.run(&[
        "account",
        "--authorize",
        "--client-file",
        path.to_str().unwrap(),
        "--email",
        "me@example.com",
    ]);
    run.expect_code(64);
    run.says("cannot use the client file");
    run.never_says("s3cret");
}

/// Starts an authcode sign-in and plays the browser; the running program and where it ended.
fn start_authcode(sandbox: &Sandbox, args: &[String]) -> (Running, String) {
    let mut running = Running::start(sandbox, args, None);
    let url = running.wait_for_stderr("/authorize?").trim().to_string();
    let answer = get_url(&url, ipv4());
    assert_eq!(answer.status, 200, "{}", answer.body);
    running.wait_for_stderr("paste it here");
    (running, answer.body)
}

#[test]
fn a_google_desktop_file_gives_the_client_its_secret_and_its_endpoints() {
    let sandbox = Sandbox::new();
    let provider = FakeProvider::start();
    let secret = "GOCSPX-not-a-real-secret-00000000";
    provider.with(|s| s.client_secret = Some(secret.into()));
    let url = provider.url();
    // The downloaded file, pointed at the fake provider and its client.
    let file = changed(&sandbox, "google-desktop-download.json", |json| {
        json["installed"]["client_id"] = CLIENT_ID.into();
        json["installed"]["auth_uri"] = format!("{url}/authorize").into();
        json["installed"]["token_uri"] = format!("{url}/token").into();
    });
    let account = sandbox.path("account");
    let args = strings(&[
        account.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
        "--client-file",
        file.to_str().unwrap(),
        "--email",
        "user@gmail.com",
        "--auth-timeout",
        "20",
    ]);
    let (mut running, location) = start_authcode(&sandbox, &args);
    running.type_in(&format!("{location}\n"));
    let run = running.finish();
    run.expect(0, "access-from-code\n");
    run.says(&format!(
        "is a Google \"Desktop app\" client, client id {CLIENT_ID} (project text-detect-294806)"
    ));
    run.never_says(secret);
    let token = sandbox.read_token(&account);
    assert_eq!(token.registration.provider, "google");
    assert_eq!(token.registration.token_endpoint, format!("{url}/token"));
    assert_eq!(token.client_secret.unwrap().expose(), secret);
    assert_eq!(
        provider.requests_to("/token")[0].form["client_secret"],
        secret
    );
}

#[test]
fn a_google_web_client_is_refused_before_anything_opens() {
    let sandbox = Sandbox::new();
    let browser = FakeBrowser::new(&sandbox);
    let file = repository("tests/it/fixtures/client_files/google-web-documented.json");
    let mut command = sandbox.command();
    command.env("BROWSER", &browser.script).args([
        "account",
        "--authorize",
        "--client-file",
        file.to_str().unwrap(),
        "--email",
        "user@gmail.com",
    ]);
    let run = Run::of(&mut command);
    run.expect(78, "");
    run.says("is a Google \"Web application\" client");
    run.says("application type \"Desktop app\"");
    run.never_says("1912308409123890");
    assert!(!browser.record.exists(), "the browser was opened");
    assert!(!sandbox.accounts_dir().join("account").exists());
}
