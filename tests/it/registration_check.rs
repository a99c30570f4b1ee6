//! The registration checked before the browser opens (issue 36, item 2): each defect of a
//! Microsoft Entra app registration, made by changing one member of the fixture
//! `entra-graph-manifest.json` (a public client for mail that passes every check), gives its one
//! line with the error it would cause and the fix; a defect that must fail ends the run with 78
//! before anything opens, one that may work is a warning and the sign-in goes on.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::*;

/// The good manifest with `change` made to it, in the sandbox.
fn manifest(sandbox: &Sandbox, change: impl FnOnce(&mut Value)) -> PathBuf {
    let text = std::fs::read_to_string(repository(
        "tests/it/fixtures/client_files/entra-graph-manifest.json",
    ))
    .unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    change(&mut json);
    let path = sandbox.path("manifest.json");
    write_private(&path, json.to_string());
    path
}

/// A first sign-in with the manifest and `flags`, its stdin closed: a paste flow that gets past
/// the check prints the sign-in URL and ends for want of a paste; nothing reaches the network.
fn sign_in(change: impl FnOnce(&mut Value), flags: &[&str]) -> Run {
    let sandbox = Sandbox::new();
    let file = manifest(&sandbox, change);
    let mut args = strings(&[
        "account",
        "--authorize",
        "--client-file",
        file.to_str().unwrap(),
    ]);
    args.extend(strings(flags));
    sandbox.run(&args)
}

/// The run stopped at the check: 78, the line, and no sign-in URL.
fn refused(run: &Run, words: &[&str]) {
    run.expect(78, "");
    run.says("mailtoken: registration: ");
    for words in words {
        run.says(words);
    }
    run.says("nothing was opened");
    run.never_says("/authorize?");
}

const PASTE: [&str; 2] = ["--authflow", "authcode"];

#[test]
fn a_registration_without_defects_goes_on_to_the_sign_in_silently() {
    for address in ["someone@outlook.com", "alice@contoso.example"] {
        let run = sign_in(|_| {}, &[&PASTE[..], &["--email", address]].concat());
        run.says(
            "is a Microsoft Entra app registration, client id 00001111-aaaa-2222-bbbb-3333cccc4444",
        );
        run.never_says("registration:");
        run.says("/common/oauth2/v2.0/authorize?");
        run.says("client_id=00001111-aaaa-2222-bbbb-3333cccc4444");
    }
}

#[test]
fn a_work_only_app_for_a_personal_address_must_fail() {
    let run = sign_in(
        |m| m["signInAudience"] = "AzureADMultipleOrgs".into(),
        &[&PASTE[..], &["--email", "someone@outlook.com"]].concat(),
    );
    refused(
        &run,
        &[
            "work and school accounts only (signInAudience AzureADMultipleOrgs)",
            "AADSTS9002332",
            "Supported account types",
        ],
    );
}

#[test]
fn a_personal_only_app_for_a_work_address_must_fail() {
    let run = sign_in(
        |m| m["signInAudience"] = "PersonalMicrosoftAccount".into(),
        &[&PASTE[..], &["--email", "alice@contoso.example"]].concat(),
    );
    refused(
        &run,
        &[
            "personal Microsoft accounts only",
            "AADSTS9002331",
            "organizational directories",
        ],
    );
    // A personal address: the consumers tenant is chosen for it, and nothing is wrong.
    let run = sign_in(
        |m| m["signInAudience"] = "PersonalMicrosoftAccount".into(),
        &[&PASTE[..], &["--email", "someone@hotmail.com"]].concat(),
    );
    run.says("signing in at tenant consumers");
    run.says("/consumers/oauth2/v2.0/authorize?");
}

#[test]
fn a_single_tenant_app_signed_in_with_common_must_fail() {
    let run = sign_in(
        |m| m["signInAudience"] = "AzureADMyOrg".into(),
        &[
            &PASTE[..],
            &["--email", "alice@contoso.example", "--tenant", "common"],
        ]
        .concat(),
    );
    refused(
        &run,
        &[
            "single-tenant",
            "AADSTS50194",
            "--tenant contoso.onmicrosoft.com",
        ],
    );
    // Without --tenant the app's own tenant is taken, and said.
    let run = sign_in(
        |m| m["signInAudience"] = "AzureADMyOrg".into(),
        &[&PASTE[..], &["--email", "alice@contoso.example"]].concat(),
    );
    run.says("signing in at tenant contoso.onmicrosoft.com (its audience is AzureADMyOrg)");
    run.says("/contoso.onmicrosoft.com/oauth2/v2.0/authorize?");
}

#[test]
fn the_device_flow_without_public_client_flows_must_fail() {
    for value in [json!(false), json!("false"), Value::Null] {
        let run = sign_in(
            |m| m["isFallbackPublicClient"] = value,
            &[
                "--authflow",
                "devicecode",
                "--email",
                "alice@contoso.example",
            ],
        );
        refused(
            &run,
            &[
                "public client flows",
                "AADSTS7000218",
                "\"Allow public client flows\"",
            ],
        );
    }
}

#[test]
fn the_loopback_flow_without_a_loopback_redirect_must_fail() {
    let run = sign_in(
        |m| {
            m["publicClient"]["redirectUris"] =
                json!(["https://login.microsoftonline.com/common/oauth2/nativeclient"])
        },
        &[
            "--authflow",
            "localhostauthcode",
            "--no-browser",
            "--email",
            "alice@contoso.example",
        ],
    );
    refused(
        &run,
        &[
            "sends the redirect address http://localhost/",
            "AADSTS50011",
            "add http://localhost",
        ],
    );
    // The paste flow's own redirect, likewise.
    let run = sign_in(
        |m| m["publicClient"]["redirectUris"] = json!(["http://localhost"]),
        &[&PASTE[..], &["--email", "alice@contoso.example"]].concat(),
    );
    refused(
        &run,
        &[
            "https://login.microsoftonline.com/common/oauth2/nativeclient",
            "AADSTS50011",
        ],
    );
}

#[test]
fn a_loopback_redirect_registered_as_web_must_fail_for_a_public_client() {
    let run = sign_in(
        |m| {
            m["publicClient"]["redirectUris"] = json!([]);
            m["web"]["redirectUris"] = json!(["http://localhost"]);
        },
        &[
            "--authflow",
            "localhostauthcode",
            "--no-browser",
            "--email",
            "alice@contoso.example",
        ],
    );
    refused(
        &run,
        &[
            "registered as a Web redirect",
            "AADSTS7000218",
            "Mobile and desktop applications",
        ],
    );
}

#[test]
fn a_secret_on_a_client_that_must_be_public_must_fail() {
    let run = sign_in(
        |_| {},
        &[
            &PASTE[..],
            &[
                "--email",
                "alice@contoso.example",
                "--client-secret",
                "s3cret",
            ],
        ]
        .concat(),
    );
    refused(
        &run,
        &[
            "a client secret would be sent for a public client",
            "AADSTS700025",
            "--client-secret ''",
        ],
    );
    run.never_says("s3cret");
}

#[test]
fn missing_mail_and_offline_permissions_are_warnings_and_the_sign_in_goes_on() {
    let run = sign_in(
        |m| m["requiredResourceAccess"] = json!([]),
        &[&PASTE[..], &["--email", "alice@contoso.example"]].concat(),
    );
    run.says("mailtoken: warning: registration: the app requests no IMAP.AccessAsUser.All, POP.AccessAsUser.All or SMTP.Send and no offline_access permission");
    run.says("AADSTS65001");
    run.says("--admin-request");
    run.says("/authorize?");
    assert_ne!(run.code, 78);
    // offline_access alone missing: one warning naming only it.
    let run = sign_in(
        |m| {
            m["requiredResourceAccess"][0]["resourceAccess"]
                .as_array_mut()
                .unwrap()
                .remove(0);
        },
        &[&PASTE[..], &["--email", "alice@contoso.example"]].concat(),
    );
    run.says("the app requests no offline_access permission");
    run.never_says("IMAP.AccessAsUser.All, POP");
}

#[test]
fn an_app_that_signs_in_as_itself_without_mail_roles_is_warned_about_and_signs_in() {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    let file = manifest(&sandbox, |m| {
        m["appId"] = CLIENT_ID.into();
        m["signInAudience"] = "AzureADMyOrg".into();
    });
    let token_endpoint = provider.server.token_endpoint();
    let run = sandbox.run(&[
        "robot",
        "--authorize",
        "--authflow",
        "clientcredentials",
        "--client-file",
        file.to_str().unwrap(),
        "--email",
        "robot@contoso.example",
        "--client-secret",
        "s3cret",
        "--scope",
        "https://outlook.office365.com/.default",
        "--token-endpoint",
        &token_endpoint,
    ]);
    run.expect(0, "access-from-client-credentials\n");
    run.says("warning: registration: the app has no client secret and no certificate");
    run.says("warning: registration: the app requests no application permission of Office 365 Exchange Online");
    run.never_says("s3cret");
}
