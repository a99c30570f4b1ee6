//! `--admin-request` (issue 36, item 3): what a Microsoft tenant's administrator must grant,
//! from the flags `--authorize` takes or from an account, compared with golden outputs in
//! `tests/it/golden/admin_request` (stdout, then the exit status and stderr). Regenerate them with
//! `MAILTOKEN_REGENERATE=1 cargo test --test it admin_request::` after a deliberate change.

use chrono::Utc;

use crate::support::*;

const APP: &str = "00001111-aaaa-2222-bbbb-3333cccc4444";

/// The run as its golden file holds it: stdout, then the exit status and stderr.
fn golden(name: &str, run: &Run) {
    let actual = format!("{}--- exit {}\n{}", run.stdout, run.code, run.stderr);
    let path = repository(&format!("tests/it/golden/admin_request/{name}.txt"));
    if std::env::var_os("MAILTOKEN_REGENERATE").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (MAILTOKEN_REGENERATE=1 writes it)", path.display()));
    assert_eq!(actual, expected, "{name} differs from {}", path.display());
}

fn request(flags: &[&str]) -> Run {
    let sandbox = Sandbox::new();
    let mut args = vec!["--admin-request"];
    args.extend(flags);
    sandbox.run(&args)
}

#[test]
fn a_single_tenant_app_from_the_flags() {
    let run = request(&[
        "--provider",
        "microsoft",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        APP,
        "--email",
        "alice@contoso.com",
        "--client-secret",
        "s3cret",
    ]);
    golden("single-tenant", &run);
    run.never_says("s3cret");
    assert!(!run.stdout.contains("s3cret"));
}

#[test]
fn a_single_tenant_app_from_its_manifest() {
    let sandbox = Sandbox::new();
    let mut manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repository(
            "tests/it/fixtures/client_files/entra-graph-manifest.json",
        ))
        .unwrap(),
    )
    .unwrap();
    manifest["signInAudience"] = "AzureADMyOrg".into();
    let file = sandbox.path("manifest.json");
    write_private(&file, manifest.to_string());
    let run = sandbox.run(&[
        "--admin-request",
        "--client-file",
        file.to_str().unwrap(),
        "--email",
        "alice@contoso.com",
    ]);
    run.expect_code(0);
    run.prints("Application name:        mailtoken");
    run.prints("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?");
}

#[test]
fn an_account_at_common_asks_at_organizations() {
    let sandbox = Sandbox::new();
    let mut registration = mailtoken::testing::provider::preset("microsoft", None).unwrap();
    registration.redirect_uri = Some("http://localhost:8400/".into());
    let mut token = token_file(registration, sandbox.age_spec(), Utc::now());
    token.client_id = APP.into();
    token.email = "alice@contoso.com".into();
    let path = sandbox.path("work");
    sandbox.write_token(&path, &token);
    let run = sandbox.run(&["--admin-request", path.to_str().unwrap()]);
    golden("common", &run);
}

#[test]
fn the_consumers_tenant_has_no_administrator() {
    let run = request(&[
        "--provider",
        "microsoft",
        "--tenant",
        "consumers",
        "--client-id",
        APP,
        "--email",
        "someone@outlook.com",
    ]);
    golden("consumers", &run);
}

#[test]
fn a_national_cloud_asks_its_own_login_host() {
    let run = request(&[
        "--provider",
        "microsoft",
        "--cloud",
        "usgov",
        "--tenant",
        "contoso.onmicrosoft.us",
        "--client-id",
        APP,
        "--email",
        "alice@contoso.us",
    ]);
    golden("usgov", &run);
}

#[test]
fn an_app_that_signs_in_as_itself_gets_the_exchange_lines() {
    let run = request(&[
        "--provider",
        "microsoft",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--authflow",
        "clientcredentials",
        "--client-id",
        APP,
        "--email",
        "robot@contoso.com",
    ]);
    golden("client-credentials", &run);
}

#[test]
fn json_gives_the_fields_and_the_url_round_trips() {
    let run = request(&[
        "--provider",
        "microsoft",
        "--tenant",
        "contoso.onmicrosoft.com",
        "--client-id",
        APP,
        "--email",
        "alice@contoso.com",
        "--json",
    ]);
    run.expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(json["app_id"], APP);
    assert_eq!(json["permission_type"], "delegated");
    let url = json["admin_consent_url"].as_str().unwrap();
    assert!(url.starts_with(
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?"
    ));
    let query = query_of(url);
    assert_eq!(query["client_id"], APP);
    assert_eq!(query["redirect_uri"], "http://localhost");
    assert_eq!(
        query["scope"],
        "offline_access https://outlook.office.com/IMAP.AccessAsUser.All \
         https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send"
    );
    assert_eq!(json["permissions"].as_array().unwrap().len(), 4);
}

#[test]
fn another_provider_has_nobody_to_ask() {
    let run = request(&[
        "--provider",
        "google",
        "--client-id",
        "x",
        "--email",
        "a@gmail.com",
    ]);
    run.expect(64, "");
    run.says("--admin-request is for Microsoft Entra tenants, and this account is at google");
}
