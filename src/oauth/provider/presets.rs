//! The built-in registrations: endpoints, scopes, SASL mechanism and mail servers of the big
//! providers, each value beside its source. No preset carries a client id or secret: every
//! registration is the user's own (Thunderbird's provider table, where several of these come
//! from, says not to copy its clients, and no other application's client is ours to use).

use super::cloud::Cloud;
use super::registration::{ClientAuth, GMAIL_SCOPE, Registration};
use crate::mail::mailserver::{MailEndpoint, Protocol};
use crate::mail::sasl::SaslMethod;

/// The names of the built-in presets, for messages and prompts.
pub const PRESET_NAMES: &[&str] = &["google", "microsoft", "yahoo", "aol", "yandex", "mailru"];

/// The Microsoft tenant used when none is given: any work, school or personal account.
pub(crate) const MICROSOFT_DEFAULT_TENANT: &str = "common";

/// A built-in registration by name; `tenant` applies to Microsoft only.
pub fn preset(name: &str, tenant: Option<&str>) -> Option<Registration> {
    preset_in(name, tenant, Cloud::Global)
}

/// Where Microsoft's public clients land in the paste flow: a blank page on the cloud's login
/// host whose address holds the code (mutt_oauth2.py's for the global cloud; the national
/// clouds' are reconstructed from it, the same path on their login hosts).
pub(crate) fn microsoft_native_client(registration: &Registration) -> String {
    let login = registration.cloud.unwrap_or_default().hosts().login;
    format!("https://{login}/common/oauth2/nativeclient")
}

fn endpoint(protocol: Protocol, url: &str) -> Option<MailEndpoint> {
    Some(MailEndpoint::parse(protocol, url).expect("preset URL"))
}

/// A registration with no endpoints yet: what every preset starts from, and a custom provider's
/// before its endpoints come from discovery or flags. XOAUTH2 by default: every server known to
/// offer OAUTHBEARER also offers it, and Exchange Online offers only XOAUTH2.
pub(crate) fn base(name: &str) -> Registration {
    Registration {
        provider: name.into(),
        cloud: None,
        issuer: None,
        tenant: None,
        authorize_endpoint: None,
        devicecode_endpoint: None,
        token_endpoint: String::new(),
        revocation_endpoint: None,
        redirect_uri: None,
        userinfo_endpoint: None,
        scope: String::new(),
        scope_on_refresh: false,
        client_auth: ClientAuth::ClientSecretPost,
        sasl_method: SaslMethod::Xoauth2,
        imap_endpoint: None,
        pop_endpoint: None,
        smtp_endpoint: None,
    }
}

/// The scope a person's sign-in at a preset asks for, so that the provider says who signed in
/// (`authorize::identity`) where that costs the user nothing: at Google `openid email` beside
/// the Gmail scope. They are non-sensitive scopes, which need no app verification ("If your app
/// utilizes only non-sensitive scopes, it is not mandatory for your app to complete the app
/// verification process", Google's OAuth App Verification help), and Google then sends an ID
/// token naming the address ("email ... Provided only if your scope included the string
/// 'email'", its ID token reference). Not for a service account, whose scopes its domain's
/// administrator authorized one by one; not at Microsoft, where a tenant that admits only the
/// mail permissions could refuse the OpenID ones (its work accounts' access tokens name the
/// user anyway).
pub(crate) fn person_scope(registration: &Registration) -> Option<String> {
    (registration.provider == "google" && registration.scope == GMAIL_SCOPE)
        .then(|| format!("{GMAIL_SCOPE} openid email"))
}

/// A built-in registration by name, in one of Microsoft's clouds (the others ignore it).
pub(crate) fn preset_in(name: &str, tenant: Option<&str>, cloud: Cloud) -> Option<Registration> {
    match name {
        // mutt_oauth2.py's values, so --format sasl output is byte-identical to it. Google's
        // out-of-band redirect (urn:ietf:wg:oauth:2.0:oob) was shut down in 2022 and is not used.
        "google" => Some(Registration {
            authorize_endpoint: Some("https://accounts.google.com/o/oauth2/auth".into()),
            devicecode_endpoint: Some("https://oauth2.googleapis.com/device/code".into()),
            token_endpoint: "https://accounts.google.com/o/oauth2/token".into(),
            // "Using OAuth 2.0 to Access Google APIs", revoking a token.
            revocation_endpoint: Some("https://oauth2.googleapis.com/revoke".into()),
            scope: GMAIL_SCOPE.into(),
            sasl_method: SaslMethod::Oauthbearer,
            imap_endpoint: endpoint(Protocol::Imap, "imaps://imap.gmail.com:993"),
            pop_endpoint: endpoint(Protocol::Pop, "pop3s://pop.gmail.com:995"),
            smtp_endpoint: endpoint(Protocol::Smtp, "smtp://smtp.gmail.com:587"),
            ..base("google")
        }),
        "microsoft" => Some(microsoft(tenant.unwrap_or(MICROSOFT_DEFAULT_TENANT), cloud)),
        "yahoo" | "aol" => {
            let (login, mail) = if name == "yahoo" {
                ("api.login.yahoo.com", "mail.yahoo.com")
            } else {
                ("api.login.aol.com", "aol.com")
            };
            Some(Registration {
                authorize_endpoint: Some(format!("https://{login}/oauth2/request_auth")),
                token_endpoint: format!("https://{login}/oauth2/get_token"),
                scope: "mail-w".into(),
                imap_endpoint: endpoint(Protocol::Imap, &format!("imaps://imap.{mail}:993")),
                pop_endpoint: endpoint(Protocol::Pop, &format!("pop3s://pop.{mail}:995")),
                smtp_endpoint: endpoint(Protocol::Smtp, &format!("smtps://smtp.{mail}:465")),
                ..base(name)
            })
        }
        // Thunderbird's provider table (mozilla/releases-comm-central,
        // mailnews/base/src/OAuth2Providers.sys.mjs), issuer "oauth.yandex.com": its endpoints,
        // and the scopes of its host map (imap.yandex.com "mail:imap_full", smtp.yandex.com
        // "mail:smtp"). The servers are Thunderbird's ISPDB entry ispdb/yandex.ru (IMAP 993 and
        // SMTP 465, both TLS). The table lists no OAuth2 scope for POP, so the preset has no POP
        // server. The mechanism is reconstructed: the table names none, and XOAUTH2 is the one
        // Thunderbird's IMAP and SMTP clients send with an OAuth2 token.
        "yandex" => Some(Registration {
            authorize_endpoint: Some("https://oauth.yandex.com/authorize".into()),
            token_endpoint: "https://oauth.yandex.com/token".into(),
            scope: "mail:imap_full mail:smtp".into(),
            imap_endpoint: endpoint(Protocol::Imap, "imaps://imap.yandex.com:993"),
            smtp_endpoint: endpoint(Protocol::Smtp, "smtps://smtp.yandex.com:465"),
            ..base("yandex")
        }),
        // Thunderbird's provider table, issuer "o2.mail.ru": its endpoints, and the scope
        // "mail.imap" its host map gives imap.mail.ru and smtp.mail.ru alike. The servers are
        // Thunderbird's ISPDB entry ispdb/mail.ru (IMAP 993, POP 995 with OAuth2 listed, SMTP
        // 465, all TLS). The mechanism is reconstructed, as for Yandex.
        "mailru" => Some(Registration {
            authorize_endpoint: Some("https://o2.mail.ru/login".into()),
            token_endpoint: "https://o2.mail.ru/token".into(),
            scope: "mail.imap".into(),
            imap_endpoint: endpoint(Protocol::Imap, "imaps://imap.mail.ru:993"),
            pop_endpoint: endpoint(Protocol::Pop, "pop3s://pop.mail.ru:995"),
            smtp_endpoint: endpoint(Protocol::Smtp, "smtps://smtp.mail.ru:465"),
            ..base("mailru")
        }),
        _ => None,
    }
}

/// Microsoft's identity platform (v2.0 endpoints) and Exchange Online, in `cloud`.
fn microsoft(tenant: &str, cloud: Cloud) -> Registration {
    let hosts = cloud.hosts();
    let base_url = format!("https://{}/{tenant}/oauth2/v2.0", hosts.login);
    let resource = hosts.resource;
    Registration {
        cloud: (cloud != Cloud::Global).then_some(cloud),
        tenant: Some(tenant.to_string()),
        authorize_endpoint: Some(format!("{base_url}/authorize")),
        devicecode_endpoint: Some(format!("{base_url}/devicecode")),
        token_endpoint: format!("{base_url}/token"),
        // Microsoft identity platform has no revocation endpoint for these tokens; access is
        // removed in the account's settings (see `revoke`).
        revocation_endpoint: None,
        // "Authenticate an IMAP, POP or SMTP connection using OAuth": the three delegated
        // scopes, and offline_access for a refresh token.
        scope: format!(
            "offline_access https://{resource}/IMAP.AccessAsUser.All \
             https://{resource}/POP.AccessAsUser.All https://{resource}/SMTP.Send"
        ),
        scope_on_refresh: true,
        sasl_method: SaslMethod::Xoauth2,
        imap_endpoint: endpoint(Protocol::Imap, &format!("imaps://{}:993", hosts.mailbox)),
        pop_endpoint: endpoint(Protocol::Pop, &format!("pop3s://{}:995", hosts.mailbox)),
        smtp_endpoint: endpoint(Protocol::Smtp, &format!("smtp://{}:587", hosts.smtp)),
        ..base("microsoft")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_tenant_goes_into_every_endpoint() {
        let r = preset("microsoft", Some("consumers")).unwrap();
        assert_eq!(
            r.token_endpoint,
            "https://login.microsoftonline.com/consumers/oauth2/v2.0/token"
        );
        assert!(
            r.authorize_endpoint
                .as_deref()
                .unwrap()
                .contains("/consumers/")
        );
        assert!(
            r.devicecode_endpoint
                .as_deref()
                .unwrap()
                .contains("/consumers/")
        );
        assert_eq!(r.token_host(), "login.microsoftonline.com");
    }

    #[test]
    fn the_global_microsoft_preset_is_unchanged() {
        let r = preset("microsoft", None).unwrap();
        assert_eq!(r.cloud, None);
        assert_eq!(
            r.scope,
            "offline_access https://outlook.office.com/IMAP.AccessAsUser.All \
             https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send"
        );
        assert_eq!(
            r.smtp_endpoint.unwrap().url(),
            "smtp://smtp.office365.com:587"
        );
        assert_eq!(
            microsoft_native_client(&preset("microsoft", None).unwrap()),
            "https://login.microsoftonline.com/common/oauth2/nativeclient"
        );
    }

    #[test]
    fn every_preset_exists_and_round_trips() {
        for name in PRESET_NAMES {
            let r = preset(name, None).unwrap();
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Registration>(&json).unwrap(), r);
            assert_eq!(r.provider, *name);
        }
        for cloud in Cloud::ALL {
            let r = preset_in("microsoft", None, *cloud).unwrap();
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Registration>(&json).unwrap(), r);
        }
    }
}
