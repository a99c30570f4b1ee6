//! A domain's mail autoconfiguration (config-v1.1.xml), as any web server could answer.
//! Properties: never a panic or a hang (no DTD, bounded nodes and size); every server read uses
//! TLS (implicit or STARTTLS) and a host name of letters, digits, dots and hyphens.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtoken::testing::autoconfig::parse;

fuzz_target!(|data: &[u8]| {
    if let Ok(found) = parse(data, "someone@example.com") {
        for endpoint in [&found.imap, &found.pop, &found.smtp].into_iter().flatten() {
            let url = endpoint.url();
            assert!(
                ["imaps://", "imap://", "pop3s://", "pop3://", "smtps://", "smtp://"]
                    .iter()
                    .any(|scheme| url.starts_with(scheme)),
                "{url}"
            );
            let host = url.split("://").nth(1).unwrap().rsplit_once(':').unwrap().0;
            assert!(
                host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'),
                "{url}"
            );
        }
    }
});
