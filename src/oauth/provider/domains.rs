//! Which preset an e-mail address belongs to: the big providers' own domains, and for any other
//! domain the mail exchangers in its MX records, which tell Google Workspace and Microsoft 365
//! apart. Each list cites where it comes from.

use super::cloud::Cloud;

/// What an address or its domain's MX records say about the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Guess {
    /// A preset name.
    pub provider: &'static str,
    /// The Microsoft tenant to sign in at, when the domain says which kind of account it is.
    pub tenant: Option<&'static str>,
    pub cloud: Option<Cloud>,
}

impl Guess {
    fn preset(provider: &'static str) -> Guess {
        Guess {
            provider,
            tenant: None,
            cloud: None,
        }
    }

    fn microsoft(tenant: &'static str) -> Guess {
        Guess {
            provider: "microsoft",
            tenant: Some(tenant),
            cloud: None,
        }
    }
}

/// Google's consumer domains: Thunderbird's ISPDB entries gmail.com and googlemail.com.
const GOOGLE: &[&str] = &["gmail.com", "googlemail.com"];

/// Microsoft's consumer domains (Outlook.com accounts, so the `consumers` tenant): Thunderbird's
/// ISPDB entry hotmail.com, which lists these.
const MICROSOFT_CONSUMER: &[&str] = &[
    "hotmail.com",
    "live.com",
    "msn.com",
    "windowslive.com",
    "outlook.com",
    "outlook.at",
    "outlook.be",
    "outlook.cl",
    "outlook.cz",
    "outlook.de",
    "outlook.dk",
    "outlook.es",
    "outlook.fr",
    "outlook.hu",
    "outlook.ie",
    "outlook.in",
    "outlook.it",
    "outlook.jp",
    "outlook.kr",
    "outlook.lv",
    "outlook.my",
    "outlook.ph",
    "outlook.pt",
    "outlook.sa",
    "outlook.sg",
    "outlook.sk",
    "outlook.co.id",
    "outlook.co.il",
    "outlook.co.th",
    "outlook.com.ar",
    "outlook.com.au",
    "outlook.com.br",
    "outlook.com.gr",
    "outlook.com.tr",
    "outlook.com.vn",
    "hotmail.be",
    "hotmail.ca",
    "hotmail.cl",
    "hotmail.cz",
    "hotmail.de",
    "hotmail.dk",
    "hotmail.es",
    "hotmail.fi",
    "hotmail.fr",
    "hotmail.gr",
    "hotmail.hu",
    "hotmail.it",
    "hotmail.lt",
    "hotmail.lv",
    "hotmail.my",
    "hotmail.nl",
    "hotmail.no",
    "hotmail.ph",
    "hotmail.rs",
    "hotmail.se",
    "hotmail.sg",
    "hotmail.sk",
    "hotmail.co.id",
    "hotmail.co.il",
    "hotmail.co.in",
    "hotmail.co.jp",
    "hotmail.co.kr",
    "hotmail.co.th",
    "hotmail.co.uk",
    "hotmail.co.za",
    "hotmail.com.ar",
    "hotmail.com.au",
    "hotmail.com.br",
    "hotmail.com.hk",
    "hotmail.com.tr",
    "hotmail.com.tw",
    "hotmail.com.vn",
    "live.at",
    "live.be",
    "live.ca",
    "live.cl",
    "live.cn",
    "live.de",
    "live.dk",
    "live.fi",
    "live.fr",
    "live.hk",
    "live.ie",
    "live.in",
    "live.it",
    "live.jp",
    "live.nl",
    "live.no",
    "live.ru",
    "live.se",
    "live.co.jp",
    "live.co.kr",
    "live.co.uk",
    "live.co.za",
    "live.com.ar",
    "live.com.au",
    "live.com.mx",
    "live.com.my",
    "live.com.ph",
    "live.com.pt",
    "live.com.sg",
    "livemail.tw",
];

/// Yahoo's: Thunderbird's provider table maps yahoo.com to login.yahoo.com.
const YAHOO: &[&str] = &["yahoo.com"];

/// AOL's: Thunderbird's provider table maps aol.com to login.aol.com.
const AOL: &[&str] = &["aol.com"];

/// Yandex's: Thunderbird's ISPDB entry yandex.ru.
const YANDEX: &[&str] = &[
    "yandex.ru",
    "yandex.com",
    "yandex.net",
    "yandex.by",
    "yandex.kz",
    "yandex.ua",
    "ya.ru",
    "narod.ru",
];

/// Mail.ru's: Thunderbird's ISPDB entry mail.ru.
const MAILRU: &[&str] = &["mail.ru", "inbox.ru", "list.ru", "bk.ru", "corp.mail.ru"];

/// The preset of a provider's own domain, without asking the network.
pub(crate) fn by_domain(domain: &str) -> Option<Guess> {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let is = |list: &[&str]| list.contains(&domain.as_str());
    if is(GOOGLE) {
        Some(Guess::preset("google"))
    } else if is(MICROSOFT_CONSUMER) {
        Some(Guess::microsoft("consumers"))
    } else if is(YAHOO) {
        Some(Guess::preset("yahoo"))
    } else if is(AOL) {
        Some(Guess::preset("aol"))
    } else if is(YANDEX) {
        Some(Guess::preset("yandex"))
    } else if is(MAILRU) {
        Some(Guess::preset("mailru"))
    } else {
        None
    }
}

/// The preset of an OAuth2 issuer named by a mail autoconfiguration: the issuers of the `oAuth2`
/// elements of Thunderbird's ISPDB (googlemail.com, office365.com, yahoo.com, aol.com; and the
/// provider table's oauth.yandex.com and o2.mail.ru). Microsoft's is a work or school tenant's:
/// a domain that serves its own document is an organisation's.
pub(crate) fn by_issuer(issuer: &str) -> Option<Guess> {
    let host = issuer
        .trim()
        .trim_start_matches("https://")
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match host.as_str() {
        "accounts.google.com" => Some(Guess::preset("google")),
        "login.microsoftonline.com" => Some(Guess::microsoft("organizations")),
        "login.yahoo.com" => Some(Guess::preset("yahoo")),
        "login.aol.com" => Some(Guess::preset("aol")),
        "oauth.yandex.com" => Some(Guess::preset("yandex")),
        "o2.mail.ru" => Some(Guess::preset("mailru")),
        _ => None,
    }
}

/// The preset a domain's mail exchangers point to, and the exchanger that said so.
///
/// - Google Workspace: `smtp.google.com` or `aspmx.l.google.com` and its `alt*` hosts ("Set up MX
///   records for Google Workspace", Google Workspace Admin Help); any host under `google.com` or
///   `googlemail.com` counts.
/// - Microsoft 365: `<domain>.mail.protection.outlook.com` (Microsoft's "Add DNS records to
///   connect your domain"; Thunderbird's ISPDB entry office365.com lists the same suffix): work
///   and school accounts, so the `organizations` tenant.
/// - Outlook.com consumer domains: `*.olc.protection.outlook.com` (the ISPDB entry hotmail.com).
pub(crate) fn by_mail_exchangers(hosts: &[String]) -> Option<(Guess, String)> {
    hosts.iter().find_map(|host| {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |suffix: &str| host.ends_with(&format!(".{suffix}")) || host == suffix;
        let guess = if under("google.com") || under("googlemail.com") {
            Guess::preset("google")
        } else if under("olc.protection.outlook.com") {
            Guess::microsoft("consumers")
        } else if under("mail.protection.outlook.com") {
            Guess::microsoft("organizations")
        } else {
            return None;
        };
        Some((guess, host))
    })
}

/// The domain of an address: what follows the last `@`, when that looks like a domain.
pub(crate) fn domain_of(address: &str) -> Option<&str> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    let valid = !domain.is_empty()
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    valid.then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_providers_own_domains_name_its_preset() {
        assert_eq!(by_domain("GMail.com").unwrap().provider, "google");
        assert_eq!(by_domain("googlemail.com").unwrap().provider, "google");
        let hotmail = by_domain("hotmail.co.uk").unwrap();
        assert_eq!(
            (hotmail.provider, hotmail.tenant),
            ("microsoft", Some("consumers"))
        );
        assert_eq!(by_domain("live.com").unwrap().tenant, Some("consumers"));
        assert_eq!(by_domain("yahoo.com").unwrap().provider, "yahoo");
        assert_eq!(by_domain("aol.com").unwrap().provider, "aol");
        assert_eq!(by_domain("ya.ru").unwrap().provider, "yandex");
        assert_eq!(by_domain("bk.ru").unwrap().provider, "mailru");
        assert_eq!(by_domain("example.com"), None);
        assert_eq!(by_domain("notgmail.com"), None);
    }

    #[test]
    fn mail_exchangers_tell_workspace_and_microsoft_365_apart() {
        let of = |hosts: &[&str]| {
            by_mail_exchangers(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>())
        };
        let (google, host) = of(&["aspmx.l.google.com.", "alt1.aspmx.l.google.com"]).unwrap();
        assert_eq!(
            (google.provider, host.as_str()),
            ("google", "aspmx.l.google.com")
        );
        assert_eq!(of(&["smtp.google.com"]).unwrap().0.provider, "google");
        let (microsoft, _) = of(&["contoso-com.mail.protection.outlook.com"]).unwrap();
        assert_eq!(microsoft.tenant, Some("organizations"));
        let (consumer, _) = of(&["eur.olc.protection.outlook.com"]).unwrap();
        assert_eq!(consumer.tenant, Some("consumers"));
        assert_eq!(of(&["mx.example.com", "evilgoogle.com"]), None);
        // The first exchanger that says something wins, in preference order.
        let (first, _) =
            of(&["mx.example.com", "contoso-com.mail.protection.outlook.com"]).unwrap();
        assert_eq!(first.provider, "microsoft");
    }

    #[test]
    fn only_a_domain_is_a_domain() {
        assert_eq!(domain_of("me@example.com"), Some("example.com"));
        assert_eq!(domain_of("\"a@b\"@example.org"), Some("example.org"));
        assert_eq!(domain_of("me@localhost"), None);
        assert_eq!(domain_of("me@exa mple.com"), None);
        assert_eq!(domain_of("nobody"), None);
    }
}
