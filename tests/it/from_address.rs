//! The provider from the address (issue 24, item 6): `--authorize --email ADDRESS` alone picks the
//! preset of a big provider's own domain, and for other domains asks DNS for the MX records (here
//! a DNS server on loopback), saying what it found and where before anything opens.

use crate::support::dns::{FakeDns, Mode};
use crate::support::*;

/// An authcode sign-in of `address` with no provider named, its stdin closed: it prints what it
/// chose and the sign-in URL, then ends as no address is pasted.
fn sign_in_as(address: &str, dns: &FakeDns) -> Run {
    sign_in_with(address, dns, &[])
}

/// The same sign-in with `flags` added.
fn sign_in_with(address: &str, dns: &FakeDns, flags: &[&str]) -> Run {
    let sandbox = Sandbox::new();
    let env = dns.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let account = sandbox.path("account");
    let sign_in = [
        account.to_str().unwrap(),
        "--authorize",
        "--authflow",
        "authcode",
        "--email",
        address,
        "--client-id",
        "my-client",
        "--client-secret",
        "",
    ];
    sandbox.run_with(&[&sign_in, flags].concat(), &env)
}

/// Google Workspace's exchangers ("Set up MX records for Google Workspace") and a Microsoft 365
/// domain's (`<domain>.mail.protection.outlook.com`, Microsoft's DNS records for Microsoft 365).
fn zone() -> FakeDns {
    zone_in(Mode::Answer)
}

fn zone_in(mode: Mode) -> FakeDns {
    FakeDns::start_in(
        &[
            (
                "workspace.example",
                &[(10, "alt1.aspmx.l.google.com."), (1, "aspmx.l.google.com.")],
            ),
            (
                "contoso.example",
                &[(0, "contoso-example.mail.protection.outlook.com.")],
            ),
            ("self-hosted.example", &[(10, "mx.self-hosted.example.")]),
        ],
        mode,
    )
}

#[test]
fn a_providers_own_domain_names_its_preset_without_dns() {
    let dns = zone();
    let run = sign_in_as("someone@hotmail.co.uk", &dns);
    run.says("hotmail.co.uk is the provider's own domain, so signing in with --provider microsoft --tenant consumers");
    run.says("https://login.microsoftonline.com/consumers/oauth2/v2.0/authorize?");
    let run = sign_in_as("someone@gmail.com", &dns);
    run.says("--provider google");
    run.says("https://accounts.google.com/o/oauth2/auth?");
    let run = sign_in_as("someone@yandex.ru", &dns);
    run.says("https://oauth.yandex.com/authorize?");
    assert!(
        dns.queries.lock().unwrap().is_empty(),
        "no DNS for known domains"
    );
}

#[test]
fn mx_records_tell_workspace_and_microsoft_365_apart_and_say_so_first() {
    let dns = zone();
    let run = sign_in_as("someone@contoso.example", &dns);
    run.says(
        "the MX record of contoso.example (from DNS) names \
         contoso-example.mail.protection.outlook.com, so signing in with --provider microsoft \
         --tenant organizations",
    );
    let said = run.stderr.find("from DNS").unwrap();
    let url = run
        .stderr
        .find("https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize?")
        .expect("the Microsoft sign-in URL");
    assert!(
        said < url,
        "what was found is said before the sign-in starts"
    );

    let run = sign_in_as("someone@workspace.example", &dns);
    run.says("names aspmx.l.google.com, so signing in with --provider google");
    run.says("https://accounts.google.com/o/oauth2/auth?");
}

#[test]
fn an_answer_too_long_for_a_datagram_is_asked_again_over_tcp() {
    let dns = zone_in(Mode::TruncateUdp);
    let run = sign_in_as("someone@contoso.example", &dns);
    run.says("names contoso-example.mail.protection.outlook.com");
    let queries = dns.queries.lock().unwrap().clone();
    assert_eq!(queries, ["contoso.example", "tcp:contoso.example"]);
}

#[test]
fn a_forged_answer_with_another_transaction_id_is_not_believed() {
    let dns = zone_in(Mode::ForgeFirst);
    let run = sign_in_as("someone@workspace.example", &dns);
    run.says("names aspmx.l.google.com, so signing in with --provider google");
    run.never_says("forged");
}

#[test]
fn an_unknown_domain_is_asked_for_as_before() {
    let dns = zone();
    for address in ["someone@self-hosted.example", "someone@nowhere.example"] {
        let run = sign_in_as(address, &dns);
        run.expect_code(64);
        run.says("no provider was given");
        run.never_says("signing in with");
    }
    assert!(
        dns.queries
            .lock()
            .unwrap()
            .contains(&"self-hosted.example".to_string())
    );
}

#[test]
fn a_resolver_that_never_answers_costs_only_its_deadline() {
    let dns = FakeDns::start(&[], true);
    let started = std::time::Instant::now();
    let run = sign_in_as("someone@contoso.example", &dns);
    run.expect_code(64);
    run.says("no provider was given");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(!dns.queries.lock().unwrap().is_empty(), "it did ask");
}

#[test]
fn a_provider_given_is_never_second_guessed() {
    let dns = zone();
    let run = sign_in_with("someone@contoso.example", &dns, &["--provider", "google"]);
    run.never_says("signing in with --provider");
    run.says("https://accounts.google.com/o/oauth2/auth?");
    assert!(dns.queries.lock().unwrap().is_empty());
}

/// Issue #32, item 7: `--cloud` (or `--tenant`) with an address whose provider is not Microsoft
/// is refused before anything is announced, not after "signing in with --provider google
/// --cloud china".
#[test]
fn microsoft_only_flags_are_judged_before_the_provider_is_announced() {
    let dns = zone();
    for flags in [["--cloud", "china"], ["--tenant", "organizations"]] {
        let run = sign_in_with("you@gmail.com", &dns, &flags);
        run.expect(64, "");
        run.says(&format!("{} applies to Microsoft accounts", flags[0]));
        run.says("whose provider is google");
        run.never_says("signing in with");
    }
    // A Microsoft address takes them.
    let run = sign_in_with("you@contoso.example", &dns, &["--tenant", "organizations"]);
    run.says("signing in with --provider microsoft --tenant organizations");
}
