//! The domain's own mail autoconfiguration, asked before its MX records when the address's
//! domain is not a known provider's: the two places the IETF draft "Mail Autoconfig" names
//! (`https://autoconfig.DOMAIN/mail/config-v1.1.xml`, then
//! `https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml`), each with a short deadline and
//! a size bound; the document is read by `mail::autoconfig`. Nothing found only means the MX
//! records are asked next, as before.

use std::time::Duration;

use crate::base::log;
use crate::mail::autoconfig::{self, Autoconfig, MAX_DOCUMENT};
use crate::oauth::http::Http;

/// How long each of the two fetches may take: a domain without a document usually has no such
/// host at all, and the sign-in should not wait long for it.
const FETCH_DEADLINE: Duration = Duration::from_secs(4);

/// Test-only: `http://127.0.0.1:PORT`, where the tests serve documents under
/// `/autoconfig.DOMAIN/mail/config-v1.1.xml` and `/DOMAIN/.well-known/...`. Only debug builds
/// (the tests') honour it, as `net::dns` does its nameserver: nothing in a release build points
/// the lookup anywhere but the domain's own hosts.
#[cfg(debug_assertions)]
const TEST_BASE_VARIABLE: &str = "MAILTOKEN_TEST_AUTOCONFIG";

/// The document of `domain` for `address`, and where it was found.
pub(super) fn lookup(domain: &str, address: &str) -> Option<(Autoconfig, String)> {
    let http = Http::with_deadline(FETCH_DEADLINE);
    for url in urls(domain) {
        log::verbose(format!("fetching the mail autoconfiguration {url}"));
        let bytes = match http.get_bytes(&url) {
            Ok(bytes) => bytes,
            Err(why) => {
                log::verbose(format!("no mail autoconfiguration at {url}: {why}"));
                continue;
            }
        };
        if bytes.len() > MAX_DOCUMENT {
            log::warn(format!(
                "the mail autoconfiguration at {url} is larger than {MAX_DOCUMENT} bytes; not used"
            ));
            continue;
        }
        match autoconfig::parse(&bytes, address) {
            Ok(found) => return Some((found, url)),
            Err(why) => log::warn(format!(
                "the mail autoconfiguration at {url} cannot be used: {}",
                log::sanitize(&why)
            )),
        }
    }
    None
}

/// The two addresses, in the draft's order.
fn urls(domain: &str) -> [String; 2] {
    #[cfg(debug_assertions)]
    if let Ok(base) = std::env::var(TEST_BASE_VARIABLE) {
        return [
            format!("{base}/autoconfig.{domain}/mail/config-v1.1.xml"),
            format!("{base}/{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
        ];
    }
    [
        format!("https://autoconfig.{domain}/mail/config-v1.1.xml"),
        format!("https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml"),
    ]
}
