//! The presets as they reach the wire and the token file (issue 24, items 4 and 5): Microsoft's
//! national clouds (`--cloud`) and the providers taken from Thunderbird's table, shown by the
//! sign-in URLs, scopes and mail servers they produce. Each expected value cites where it comes
//! from in `src/oauth/provider/`.

use crate::support::*;

/// The sign-in address an authcode sign-in with `flags` prints, before it is abandoned.
fn sign_in_url(flags: &[&str]) -> String {
    let sandbox = Sandbox::new();
    let mut args = strings(&[
        sandbox.path("account").to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
        "--email",
        "user@example.com",
        "--client-id",
        "my-own-client",
        "--client-secret",
        "",
    ]);
    args.extend(strings(flags));
    let mut running = Running::start(&sandbox, &args, None);
    let url = running.wait_for_stderr("://").trim().to_string();
    running.type_in("\n");
    let run = running.finish();
    assert_ne!(run.code, 0, "an empty paste signs no one in");
    assert!(!sandbox.path("account").exists());
    url
}

/// The query of a sign-in URL, and the URL before it.
fn split(url: &str) -> (String, std::collections::BTreeMap<String, String>) {
    let (base, _) = url.split_once('?').expect("a query");
    (base.to_string(), query_of(url))
}

#[test]
fn each_cloud_signs_in_at_its_own_login_host_for_its_own_mail_resource() {
    let cases = [
        (
            "global",
            "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            "https://outlook.office.com/IMAP.AccessAsUser.All",
        ),
        (
            "usgov",
            "https://login.microsoftonline.us/common/oauth2/v2.0/authorize",
            "https://outlook.office365.us/IMAP.AccessAsUser.All",
        ),
        (
            "usgov-dod",
            "https://login.microsoftonline.us/common/oauth2/v2.0/authorize",
            "https://outlook.office365.us/IMAP.AccessAsUser.All",
        ),
        (
            "china",
            "https://login.chinacloudapi.cn/common/oauth2/v2.0/authorize",
            "https://partner.outlook.cn/IMAP.AccessAsUser.All",
        ),
    ];
    let cases = cases.map(|(cloud, endpoint, scope)| (cloud, (cloud, endpoint, scope)));
    each_case(cases, |(cloud, endpoint, imap_scope)| {
        let url = sign_in_url(&["--provider", "microsoft", "--cloud", cloud]);
        let (base, query) = split(&url);
        assert_eq!(base, endpoint);
        let scopes: Vec<&str> = query["scope"].split(' ').collect();
        assert!(scopes.contains(&imap_scope), "{scopes:?}");
        assert!(scopes.contains(&"offline_access"), "{scopes:?}");
        let login = endpoint.split('/').nth(2).unwrap();
        assert_eq!(
            query["redirect_uri"],
            format!("https://{login}/common/oauth2/nativeclient")
        );
    });
}

#[test]
fn a_cloud_and_a_tenant_go_together() {
    let url = sign_in_url(&[
        "--provider",
        "microsoft",
        "--cloud",
        "usgov",
        "--tenant",
        "contoso.onmicrosoft.us",
    ]);
    assert!(
        url.starts_with("https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/"),
        "{url}"
    );
}

/// A clientcredentials sign-in at the fake provider with a preset's registration and `flags`;
/// the token file it wrote.
fn stored_after_sign_in(flags: &[&str]) -> mailtoken::testing::tokenfile::TokenFile {
    let provider = FakeProvider::for_service();
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let mut args = strings(&[
        path.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "clientcredentials",
    ]);
    args.extend(strings(&SERVICE));
    args.extend(strings(flags));
    args.extend(strings(&[
        "--token-endpoint",
        &format!("{}/token", provider.url()),
    ]));
    sandbox.run(&args).expect_code(0);
    sandbox.read_token(&path)
}

#[test]
fn the_cloud_is_stored_with_the_account_and_its_mail_servers() {
    let token = stored_after_sign_in(&["--provider", "microsoft", "--cloud", "usgov-dod"]);
    let registration = &token.registration;
    assert_eq!(
        registration.cloud,
        Some(mailtoken::testing::provider::Cloud::UsgovDod)
    );
    assert_eq!(
        registration.imap_endpoint.as_ref().unwrap().url(),
        "imaps://outlook-dod.office365.us:993"
    );
    assert_eq!(
        registration.smtp_endpoint.as_ref().unwrap().url(),
        "smtp://outlook-dod.office365.us:587"
    );
    let token = stored_after_sign_in(&["--provider", "microsoft", "--cloud", "china"]);
    assert_eq!(
        token.registration.imap_endpoint.as_ref().unwrap().url(),
        "imaps://partner.outlook.cn:993"
    );
    assert!(
        token
            .registration
            .scope
            .contains("https://partner.outlook.cn/SMTP.Send")
    );
    let token = stored_after_sign_in(&["--provider", "microsoft", "--cloud", "usgov"]);
    assert_eq!(
        token.registration.smtp_endpoint.as_ref().unwrap().url(),
        "smtp://smtp.office365.us:587"
    );
    // The global cloud is what the preset always was, and records nothing more.
    let token = stored_after_sign_in(&["--provider", "microsoft", "--cloud", "global"]);
    assert_eq!(token.registration.cloud, None);
}

#[test]
fn the_cloud_is_refused_for_other_providers_and_other_actions() {
    let sandbox = Sandbox::new();
    let path = sandbox.path("account");
    let run = sandbox.run(&[
        path.to_str().unwrap(),
        "--authorize",
        "--provider",
        "google",
        "--cloud",
        "china",
        "--email",
        "a@example.com",
        "--client-id",
        "x",
        "--client-secret",
        "",
    ]);
    run.expect_code(64);
    run.says("--cloud applies to --provider microsoft only");
    let run = sandbox.run(&[path.to_str().unwrap(), "--cloud", "china"]);
    run.expect_code(64);
    run.says("--cloud does nothing with");
}

#[test]
fn yandex_and_mailru_sign_in_where_thunderbirds_table_says_with_the_users_own_client() {
    // Thunderbird's OAuth2Providers.sys.mjs: oauth.yandex.com and o2.mail.ru, their scopes from
    // its host map; the redirect is the localhost address its registrations use.
    let cases = [
        (
            "yandex",
            (
                "https://oauth.yandex.com/authorize",
                "mail:imap_full mail:smtp",
            ),
        ),
        ("mailru", ("https://o2.mail.ru/login", "mail.imap")),
    ];
    each_case(cases, |(endpoint, scope)| {
        let name = if endpoint.contains("yandex") {
            "yandex"
        } else {
            "mailru"
        };
        let url = sign_in_url(&["--provider", name]);
        let (base, query) = split(&url);
        assert_eq!(base, endpoint);
        assert_eq!(query["scope"], scope);
        assert_eq!(
            query["client_id"], "my-own-client",
            "never another app's client"
        );
        assert_eq!(query["redirect_uri"], "http://localhost/");
    });
}

#[test]
fn yandex_and_mailru_record_their_mail_servers() {
    // Thunderbird's ISPDB: ispdb/yandex.ru and ispdb/mail.ru.
    let token = stored_after_sign_in(&["--provider", "yandex"]);
    let r = &token.registration;
    assert_eq!(
        r.imap_endpoint.as_ref().unwrap().url(),
        "imaps://imap.yandex.com:993"
    );
    assert_eq!(
        r.smtp_endpoint.as_ref().unwrap().url(),
        "smtps://smtp.yandex.com:465"
    );
    assert!(r.pop_endpoint.is_none(), "no OAuth2 scope for POP is known");
    assert_eq!(r.sasl_method, mailtoken::testing::sasl::SaslMethod::Xoauth2);
    let token = stored_after_sign_in(&["--provider", "mailru"]);
    let r = &token.registration;
    assert_eq!(
        r.imap_endpoint.as_ref().unwrap().url(),
        "imaps://imap.mail.ru:993"
    );
    assert_eq!(
        r.pop_endpoint.as_ref().unwrap().url(),
        "pop3s://pop.mail.ru:995"
    );
    assert_eq!(
        r.smtp_endpoint.as_ref().unwrap().url(),
        "smtps://smtp.mail.ru:465"
    );
}

#[test]
fn no_preset_carries_a_client() {
    // A preset is endpoints, scopes and servers only: without --client-id and no terminal, the
    // sign-in asks for one for every preset.
    for name in mailtoken::testing::provider::PRESET_NAMES {
        let sandbox = Sandbox::new();
        let run = sandbox.run(&[
            sandbox.path("account").to_str().unwrap(),
            "--authorize",
            "--provider",
            name,
            "--email",
            "user@example.com",
            "--client-secret",
            "",
        ]);
        run.expect_code(64);
        run.says("no client id");
    }
}
