//! Who signed in: learnt at every sign-in from what the provider gives, and held against the
//! account's address before anything is written.
//!
//! A browser already signed in to another account completes the sign-in as that account, an
//! administrator's login ends up stored for a user's mailbox, another user of the machine may
//! deliver a redirect of their own: the provider then answers the mail client's logins with
//! "User is authenticated but not connected" and nobody can tell why. So the address the
//! provider names is compared with the account's, and a sign-in as someone else writes nothing.
//!
//! Where the provider names the user, in the order tried: the ID token of the token response
//! (OpenID Connect Core section 3.1.3.3; checked first, `oauth::id_token`); an access token that
//! is a JWT (Microsoft's for work and school accounts: `upn`, `unique_name`); the UserInfo
//! endpoint (section 5.3) when the scope asked for `openid` and discovery named one. A provider
//! that says none of these (Microsoft's personal accounts have opaque tokens, most presets ask
//! for no `openid`) is said to be so, once, and the sign-in goes on as before.

use super::request::{Obtained, Request};
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::oauth::id_token::{self, Expected, Issuer};
use crate::oauth::provider::Registration;

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Learnt {
    /// Every address it names for the user, the most telling first (an ID token's `email`,
    /// then a work account's principal name...): the account is the user's if any is its own.
    pub addresses: Vec<String>,
    /// Where they were read, for the token file and `--status`.
    pub from: &'static str,
}

impl Learnt {
    pub(super) fn user(&self) -> &str {
        &self.addresses[0]
    }

    /// Whether `address` is one of the user's.
    pub(super) fn is(&self, address: &str) -> bool {
        self.addresses.iter().any(|own| same_address(own, address))
    }
}

/// What the token response of this sign-in (and the UserInfo endpoint, when it says nothing)
/// names for the user; `None` when the provider does not say. An ID token that fails its checks
/// ends the sign-in (78): it was not issued for this request, or not by this provider.
pub(super) fn learn(request: &Request, obtained: &Obtained) -> Result<Option<Learnt>> {
    let granted = &obtained.granted;
    if let Some(jwt) = &granted.id_token {
        match issuer(request.registration) {
            Some(issuer) => {
                let expected = Expected {
                    issuer: &issuer,
                    client_id: request.client_id,
                    nonce: obtained.nonce.as_deref(),
                    now: chrono::Utc::now().timestamp(),
                };
                let claims = id_token::validate(jwt.expose(), &expected).map_err(|why| {
                    Error::config(format!(
                        "the ID token {} sent with this sign-in was refused, so nothing was \
                         saved: {why}",
                        request.registration.token_host()
                    ))
                    .hint(format!(
                        "check --issuer and --client-id, then run '{}' again; an ID token that \
                         is not this sign-in's can also mean someone tried to take it over",
                        request.authorize_command
                    ))
                })?;
                let addresses = claims.addresses();
                if !addresses.is_empty() {
                    return Ok(Some(Learnt {
                        addresses,
                        from: "id_token",
                    }));
                }
            }
            None => log::verbose(
                "the provider sent an ID token, but its issuer is not known here to check it \
                 against; it is not read",
            ),
        }
    }
    if let Ok(claims) = id_token::read(granted.access_token.expose()) {
        let addresses = claims.addresses();
        if !addresses.is_empty() {
            return Ok(Some(Learnt {
                addresses,
                from: "access_token",
            }));
        }
    }
    if let Some(learnt) = userinfo(request, obtained) {
        return Ok(Some(learnt));
    }
    Ok(None)
}

/// Who may issue ID tokens for this registration: the issuer discovery named; Google's two
/// spellings ("The value of iss in the ID token is equal to accounts.google.com or
/// https://accounts.google.com", Google's OpenID Connect guide); Microsoft's issuer of the
/// token's own tenant in the account's cloud. Other presets name no issuer.
fn issuer(registration: &Registration) -> Option<Issuer> {
    if let Some(issuer) = &registration.issuer {
        return Some(Issuer::OneOf(vec![issuer.clone()]));
    }
    match registration.provider.as_str() {
        "google" => Some(Issuer::OneOf(vec![
            "https://accounts.google.com".into(),
            "accounts.google.com".into(),
        ])),
        "microsoft" => Some(Issuer::MicrosoftTenant {
            login_host: registration
                .cloud
                .unwrap_or_default()
                .hosts()
                .login
                .to_string(),
        }),
        _ => None,
    }
}

/// The UserInfo endpoint's answer (OpenID Connect Core section 5.3), asked with the new access
/// token when the scope has `openid` and discovery named the endpoint. Its failure only means
/// the provider did not say.
fn userinfo(request: &Request, obtained: &Obtained) -> Option<Learnt> {
    let endpoint = request.registration.userinfo_endpoint.as_deref()?;
    let openid = crate::oauth::grant::scopes(&request.registration.scope).any(|s| *s == "openid");
    if !openid {
        return None;
    }
    let answer = request
        .http
        .get_json_with_bearer(endpoint, obtained.granted.access_token.expose());
    let json = match answer {
        Ok(json) => json,
        Err(error) => {
            log::verbose(format!(
                "the UserInfo endpoint did not say who signed in ({error})"
            ));
            return None;
        }
    };
    let claims: id_token::Claims = serde_json::from_value(json).ok()?;
    let addresses = claims.addresses();
    (!addresses.is_empty()).then_some(Learnt {
        addresses,
        from: "userinfo",
    })
}

/// Whether two addresses name the same mailbox: compared without regard to case (domains are
/// case-insensitive, RFC 5321 section 2.4, and every provider here treats local parts so), and
/// at Gmail with its documented aliases: dots in the name do not matter ("Dots don't matter in
/// Gmail addresses", Gmail Help), a `+suffix` reaches the same inbox, and googlemail.com is
/// gmail.com.
pub(super) fn same_address(a: &str, b: &str) -> bool {
    normalized(a) == normalized(b)
}

fn normalized(address: &str) -> String {
    let lower = address.trim().to_lowercase();
    let Some((local, domain)) = lower.rsplit_once('@') else {
        return lower;
    };
    match domain {
        "gmail.com" | "googlemail.com" => {
            let name = local.split('+').next().unwrap_or(local).replace('.', "");
            format!("{name}@gmail.com")
        }
        _ => lower,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_as_providers_deliver_them() {
        assert!(same_address("Alice@Example.COM", "alice@example.com"));
        assert!(!same_address("alice@example.com", "bob@example.com"));
        assert!(!same_address("alice@example.com", "alice@example.org"));
        // Gmail's documented aliases, and only at Gmail.
        assert!(same_address(
            "john.smith@gmail.com",
            "johnsmith@googlemail.com"
        ));
        assert!(same_address(
            "johnsmith+mail@gmail.com",
            "JohnSmith@gmail.com"
        ));
        assert!(!same_address(
            "john.smith@example.com",
            "johnsmith@example.com"
        ));
        assert!(!same_address("john+x@example.com", "john@example.com"));
    }
}
