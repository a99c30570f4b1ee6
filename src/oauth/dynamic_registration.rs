//! OAuth 2.0 Dynamic Client Registration (RFC 7591): mailtoken registers itself as a public
//! native client at an issuer whose metadata has a `registration_endpoint`, so a provider that
//! allows it needs no client id from the user (draft-ietf-mailmaint-oauth-public asks mail
//! providers for exactly this).
//!
//! The answer is checked before it is used: providers answer with other metadata than asked
//! (RFC 7591 section 3.2.1: "The authorization server MAY reject or replace any of the client's
//! requested metadata values"). glewlwyd 2.7.5 turns `"token_endpoint_auth_method": "none"` into
//! a confidential client without a secret, which then fails at the token endpoint with
//! `unauthorized_client`, while leaving the member out gives a public client (its source,
//! `convert_client_registration_to_glewlwyd`, reads the string as an array; issue 34, item 5).
//! So a client that cannot work is registered once more without the member, and refused with the
//! reason when that cannot work either.

use serde::{Deserialize, Serialize};

use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::http::{Http, HttpError};

/// What mailtoken keeps of a registration beside the client id: what RFC 7592 needs to read,
/// change or delete it later. Stored in the token file, encrypted with the tokens.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DynamicClient {
    /// The endpoint that registered it.
    pub registration_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_client_uri: Option<String>,
}

/// A registered client, checked.
#[derive(Debug)]
pub(crate) struct Registered {
    pub client_id: String,
    /// A secret the provider insisted on (a confidential client that can still work).
    pub client_secret: Option<Secret>,
    pub record: DynamicClient,
    /// Whether the provider answered without the refresh_token grant.
    pub no_refresh: bool,
    /// Whether it took a second request without `token_endpoint_auth_method`.
    pub registered_again: bool,
}

/// An issuer's registration endpoint, from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub url: String,
    /// Whether to ask for `token_endpoint_auth_method: none` by name: not where the metadata
    /// lists the token endpoint's methods without it (RFC 8414 section 2). glewlwyd 2.7.5 lists
    /// only `client_secret_basic` and `client_secret_post`, and registered with `none` it makes
    /// a confidential client without a secret while its answer says `none` (seen in the
    /// end-to-end suite: the code exchange then gets 403 `unauthorized_client`); without the
    /// member its client is public.
    pub ask_for_none: bool,
}

impl Endpoint {
    /// `url` and the methods the metadata lists (`None`: it lists none, which says nothing).
    pub(crate) fn new(url: String, methods: Option<&[String]>) -> Endpoint {
        Endpoint {
            url,
            ask_for_none: methods.is_none_or(|methods| methods.iter().any(|m| m == "none")),
        }
    }
}

/// What the client needs: its redirect addresses and grants.
pub(crate) struct Wanted<'a> {
    pub redirect_uris: Vec<String>,
    pub grant_types: &'a [&'a str],
    pub scope: &'a str,
    /// Ask for `token_endpoint_auth_method: none` (see `Endpoint::ask_for_none`).
    pub ask_for_none: bool,
}

/// Why registering failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The endpoint answered no (an OAuth2 error, an HTML page, a status), or not at all.
    Http(HttpError),
    /// It registered a client that cannot sign in; the reason in words.
    Unusable(String),
}

/// Registers, and registers again without `token_endpoint_auth_method` when the first client
/// cannot work as a public client.
pub(crate) fn register(
    http: &Http,
    endpoint: &str,
    wanted: &Wanted,
) -> Result<Registered, Failure> {
    if !wanted.ask_for_none {
        log::verbose(
            "the token endpoint's methods in the metadata do not include none, so the \
             registration leaves token_endpoint_auth_method out",
        );
    }
    let first = request(http, endpoint, wanted, wanted.ask_for_none)?;
    match judge(&first, wanted) {
        Ok(registered) => Ok(registered.at(endpoint)),
        Err(why) if !wanted.ask_for_none => Err(Failure::Unusable(why)),
        Err(why) => {
            log::verbose(format!(
                "the registered client cannot work ({why}); registering again without \
                 token_endpoint_auth_method"
            ));
            let second = request(http, endpoint, wanted, false)?;
            let mut registered = judge(&second, wanted).map_err(|again| {
                Failure::Unusable(format!("{why}; registered again without it, {again}"))
            })?;
            registered.registered_again = true;
            Ok(registered.at(endpoint))
        }
    }
}

/// The request body (RFC 7591 section 2) and its answer.
fn request(
    http: &Http,
    endpoint: &str,
    wanted: &Wanted,
    say_public: bool,
) -> Result<serde_json::Value, Failure> {
    let mut body = serde_json::json!({
        "client_name": "mailtoken",
        // OpenID Connect Dynamic Client Registration section 2: a native application, which
        // may use loopback redirects (RFC 8252 section 8.4).
        "application_type": "native",
        "redirect_uris": wanted.redirect_uris,
        "grant_types": wanted.grant_types,
        "response_types": ["code"],
    });
    if say_public {
        body["token_endpoint_auth_method"] = "none".into();
    }
    if !wanted.scope.trim().is_empty() {
        body["scope"] = wanted.scope.into();
    }
    let answer = http.post_json(endpoint, &body).map_err(Failure::Http)?;
    // Whatever is secret in the answer is never shown from here on.
    for name in ["registration_access_token", "client_secret"] {
        if let Some(secret) = answer.get(name).and_then(serde_json::Value::as_str) {
            crate::base::redact::remember(secret);
        }
    }
    Ok(answer)
}

/// Whether the answer is a client that can sign in as asked; why not otherwise.
fn judge(answer: &serde_json::Value, wanted: &Wanted) -> Result<Registered, String> {
    let text = |name: &str| {
        answer
            .get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|value| !value.is_empty())
    };
    let Some(client_id) = text("client_id") else {
        return Err("the answer has no client_id".into());
    };
    let secret = text("client_secret").map(Secret::new);
    let method = text("token_endpoint_auth_method");
    // RFC 7591 section 2: the default method is client_secret_basic, so a client answered
    // without one and without a secret is only public where the provider says nothing at all.
    let marked = answer.get("confidential") == Some(&serde_json::Value::Bool(true));
    let by_method = method.filter(|method| *method != "none");
    if (marked || by_method.is_some()) && secret.is_none() {
        return Err(format!(
            "it is a confidential client ({}) without a client secret",
            match by_method {
                Some(method) => format!("token_endpoint_auth_method {}", log::sanitize(method)),
                None => "\"confidential\": true".into(),
            }
        ));
    }
    let granted: Option<Vec<&str>> = answer
        .get("grant_types")
        .and_then(serde_json::Value::as_array)
        .map(|grants| {
            grants
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect()
        });
    if let Some(granted) = &granted {
        let needed = wanted
            .grant_types
            .iter()
            .filter(|grant| **grant != "refresh_token")
            .find(|grant| !granted.contains(grant));
        if let Some(missing) = needed {
            return Err(format!("its grant_types lack {missing}"));
        }
    }
    if let Some(redirects) = answer
        .get("redirect_uris")
        .and_then(serde_json::Value::as_array)
    {
        let listed: Vec<&str> = redirects
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        if let Some(missing) = wanted
            .redirect_uris
            .iter()
            .find(|uri| !listed.contains(&uri.as_str()))
        {
            return Err(format!("its redirect_uris lack {}", log::sanitize(missing)));
        }
    }
    Ok(Registered {
        client_id: client_id.to_string(),
        client_secret: secret,
        record: DynamicClient {
            registration_endpoint: String::new(),
            registration_access_token: text("registration_access_token").map(Secret::new),
            registration_client_uri: text("registration_client_uri").map(str::to_string),
        },
        no_refresh: granted.is_some_and(|granted| !granted.contains(&"refresh_token")),
        registered_again: false,
    })
}

impl Registered {
    fn at(mut self, endpoint: &str) -> Registered {
        self.record.registration_endpoint = endpoint.to_string();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted() -> Wanted<'static> {
        Wanted {
            redirect_uris: vec!["http://127.0.0.1/".into()],
            grant_types: &["authorization_code", "refresh_token"],
            scope: "openid",
            ask_for_none: true,
        }
    }

    #[test]
    fn a_public_client_as_asked_is_taken() {
        let answer = serde_json::json!({
            "client_id": "abc", "token_endpoint_auth_method": "none",
            "redirect_uris": ["http://127.0.0.1/"],
            "grant_types": ["authorization_code", "refresh_token"],
            "registration_access_token": "rat", "registration_client_uri": "https://x/reg/abc",
        });
        let registered = judge(&answer, &wanted()).unwrap();
        assert_eq!(registered.client_id, "abc");
        assert!(registered.client_secret.is_none());
        assert!(!registered.no_refresh);
        assert_eq!(
            registered.record.registration_access_token,
            Some(Secret::new("rat"))
        );
    }

    #[test]
    fn a_client_that_cannot_work_says_why() {
        let judged = |answer: serde_json::Value| judge(&answer, &wanted()).unwrap_err();
        assert!(judged(serde_json::json!({})).contains("no client_id"));
        assert!(
            judged(serde_json::json!({"client_id": "a", "token_endpoint_auth_method": "client_secret_basic"}))
                .contains("confidential client (token_endpoint_auth_method client_secret_basic)")
        );
        assert!(
            judged(serde_json::json!({"client_id": "a", "confidential": true}))
                .contains("\"confidential\": true")
        );
        assert!(
            judged(serde_json::json!({"client_id": "a", "grant_types": ["refresh_token"]}))
                .contains("lack authorization_code")
        );
        assert!(
            judged(serde_json::json!({"client_id": "a", "redirect_uris": ["https://x/"]}))
                .contains("redirect_uris lack http://127.0.0.1/")
        );
        // A confidential client with its secret works.
        let with_secret = serde_json::json!({"client_id": "a", "client_secret": "s", "token_endpoint_auth_method": "client_secret_basic"});
        assert!(
            judge(&with_secret, &wanted())
                .unwrap()
                .client_secret
                .is_some()
        );
    }
}
