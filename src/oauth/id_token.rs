//! Who a token response says signed in: the claims of an ID token (OpenID Connect Core 1.0,
//! section 2) or of an access token that is a JWT, read for that one purpose.
//!
//! An ID token is used only once it is checked as section 3.1.3.7 asks: its `iss` is the
//! provider's, its `aud` holds our client id, it has not expired, and it carries the `nonce` the
//! authorization request sent. Its signature is not checked: it came straight from the token
//! endpoint over TLS (or over loopback), which section 3.1.3.7, step 6, allows in place of the
//! signature, as Microsoft's guidance for public clients does ("Public clients ... don't benefit
//! from validating ID tokens because the application communicates directly with the IDP").
//!
//! An access token is the resource's to read (RFC 6750), and many are opaque; one that is a JWT
//! (Microsoft's for work and school accounts) names its user in `upn`, `unique_name`,
//! `preferred_username` or `email`. It too came straight from the token endpoint, and nothing
//! but the name of the user is taken from it.

use base64::Engine;
use serde::Deserialize;

/// The longest JWT read: ID tokens are a few kilobytes; anything larger is not one.
const MAX_JWT: usize = 64 * 1024;

/// How far an `exp` may lie in the past and still count: clocks differ (section 3.1.3.7, step
/// 9, leaves the allowance to the client).
const CLOCK_SKEW_SECONDS: i64 = 300;

/// The claims read from a JWT's payload; every one is optional until a check asks for it.
#[derive(Debug, Default, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Claims {
    #[serde(default)]
    pub iss: Option<String>,
    /// A string or an array of strings (section 2).
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    #[serde(default)]
    pub exp: Option<i64>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Microsoft's v1.0 tokens: the user's principal name.
    #[serde(default)]
    pub upn: Option<String>,
    /// Microsoft's v1.0 tokens.
    #[serde(default)]
    pub unique_name: Option<String>,
    /// Microsoft's tenant, for the issuer check of a multi-tenant sign-in.
    #[serde(default)]
    pub tid: Option<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(one) => vec![one],
        serde_json::Value::Array(many) => many
            .into_iter()
            .filter_map(|value| value.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    })
}

impl Claims {
    /// The addresses the claims name for the user, most telling first: `email`, then the
    /// names that are addresses (`preferred_username` may be a phone number or a bare name,
    /// section 5.1 and Microsoft's claims reference).
    pub(crate) fn addresses(&self) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        for name in [
            &self.email,
            &self.preferred_username,
            &self.upn,
            &self.unique_name,
        ]
        .into_iter()
        .flatten()
        {
            let name = name.trim();
            if name.contains('@')
                && !name.contains(char::is_whitespace)
                && !found.iter().any(|known| known.eq_ignore_ascii_case(name))
            {
                found.push(name.to_string());
            }
        }
        found
    }
}

/// Reads the payload of a compact JWS (RFC 7515 section 7.1): `header.payload.signature`.
pub(crate) fn read(jwt: &str) -> Result<Claims, String> {
    if jwt.len() > MAX_JWT {
        return Err("it is implausibly long".into());
    }
    let mut parts = jwt.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("it is not a JWT (three parts separated by dots)".into());
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| "its payload is not base64url".to_string())?;
    serde_json::from_slice(&bytes).map_err(|_| "its payload is not a JSON object of claims".into())
}

/// Who may have issued an ID token for this account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Issuer {
    /// These issuer identifiers, compared as RFC 8414 section 3.3 and OpenID Connect Discovery
    /// section 4.3 ask (a trailing slash forgiven, as `discovery::same_issuer` does).
    OneOf(Vec<String>),
    /// Microsoft's identity platform for a multi-tenant app: `https://LOGIN/{tid}/v2.0`, the
    /// tenant being the token's own (the `{tenantid}` of the common endpoint's metadata).
    MicrosoftTenant { login_host: String },
}

/// What an ID token must say to be this sign-in's.
pub(crate) struct Expected<'a> {
    pub issuer: &'a Issuer,
    pub client_id: &'a str,
    /// The nonce the authorization request sent, if it sent one.
    pub nonce: Option<&'a str>,
    /// Seconds since the epoch.
    pub now: i64,
}

/// Reads an ID token and checks it (section 3.1.3.7, steps 2, 3, 9 and 11); the error says which
/// check failed.
pub(crate) fn validate(jwt: &str, expected: &Expected) -> Result<Claims, String> {
    let claims = read(jwt)?;
    let iss = claims.iss.as_deref().unwrap_or("");
    let issuer_ok = match expected.issuer {
        Issuer::OneOf(issuers) => issuers
            .iter()
            .any(|issuer| crate::oauth::discovery::same_issuer(iss, issuer)),
        Issuer::MicrosoftTenant { login_host } => claims
            .tid
            .as_deref()
            .is_some_and(|tid| iss == format!("https://{login_host}/{tid}/v2.0")),
    };
    if !issuer_ok {
        return Err(format!(
            "its issuer {:?} is not the provider's",
            crate::base::log::sanitize(iss)
        ));
    }
    if !claims.aud.iter().any(|aud| aud == expected.client_id) {
        return Err("it was not issued to this client (aud)".into());
    }
    match claims.exp {
        Some(exp) if exp + CLOCK_SKEW_SECONDS >= expected.now => {}
        Some(_) => return Err("it has expired (exp; is this machine's clock right?)".into()),
        None => return Err("it has no expiry (exp)".into()),
    }
    if let Some(sent) = expected.nonce
        && claims.nonce.as_deref() != Some(sent)
    {
        return Err("its nonce is not this sign-in's".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn jwt(claims: serde_json::Value) -> String {
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            encode(claims.to_string().as_bytes())
        )
    }

    const NOW: i64 = 1_800_000_000;

    fn google() -> Issuer {
        Issuer::OneOf(vec![
            "https://accounts.google.com".into(),
            "accounts.google.com".into(),
        ])
    }

    /// The sample payload of Google's "OpenID Connect" page (developers.google.com/identity/
    /// openid-connect/openid-connect, "An ID token's payload", as copied in
    /// qiita.com/masaha03/items/927abc3c6b93911fb703), its times moved to now.
    fn google_sample() -> serde_json::Value {
        serde_json::json!({"iss":"accounts.google.com",
            "at_hash":"HK6E_P6Dh8Y93mRNtsDB1Q",
            "email_verified":"true",
            "sub":"10769150350006150715113082367",
            "azp":"1234987819200.apps.googleusercontent.com",
            "email":"jsmith@example.com",
            "aud":"1234987819200.apps.googleusercontent.com",
            "iat": NOW - 10,
            "exp": NOW + 3590,
            "nonce": "0394852-3190485-2490358",
            "hd":"example.com" })
    }

    fn expecting<'a>(issuer: &'a Issuer, nonce: Option<&'a str>) -> Expected<'a> {
        Expected {
            issuer,
            client_id: "1234987819200.apps.googleusercontent.com",
            nonce,
            now: NOW,
        }
    }

    #[test]
    fn googles_sample_is_read_and_checked() {
        let issuer = google();
        let claims = validate(
            &jwt(google_sample()),
            &expecting(&issuer, Some("0394852-3190485-2490358")),
        )
        .unwrap();
        assert_eq!(claims.addresses(), ["jsmith@example.com"]);
    }

    #[test]
    fn every_check_refuses_what_it_guards_against() {
        let issuer = google();
        let with = |change: &dyn Fn(&mut serde_json::Value)| {
            let mut claims = google_sample();
            change(&mut claims);
            validate(
                &jwt(claims),
                &expecting(&issuer, Some("0394852-3190485-2490358")),
            )
        };
        assert!(
            with(&|c| c["iss"] = "https://evil.example".into())
                .unwrap_err()
                .contains("issuer")
        );
        assert!(
            with(&|c| c["aud"] = "another-client".into())
                .unwrap_err()
                .contains("aud")
        );
        assert!(
            with(&|c| c["exp"] = (NOW - 3600).into())
                .unwrap_err()
                .contains("expired")
        );
        assert!(
            with(&|c| c["nonce"] = "replayed".into())
                .unwrap_err()
                .contains("nonce")
        );
        assert!(
            with(&|c| {
                c.as_object_mut().unwrap().remove("nonce");
            })
            .unwrap_err()
            .contains("nonce")
        );
        // An array audience with ours in it is ours (section 2).
        assert!(
            with(&|c| c["aud"] =
                serde_json::json!(["x", "1234987819200.apps.googleusercontent.com"]))
            .is_ok()
        );
        // A little clock skew is forgiven.
        assert!(with(&|c| c["exp"] = (NOW - 60).into()).is_ok());
        // Without a nonce sent, none is asked for (the device flow sends none).
        let mut claims = google_sample();
        claims.as_object_mut().unwrap().remove("nonce");
        assert!(validate(&jwt(claims), &expecting(&issuer, None)).is_ok());
    }

    /// Microsoft's issuer for a multi-tenant app is the token's own tenant, `iss` ending in
    /// `/v2.0` (entra-docs, id-token-claims-reference: "If the token was issued by the v2.0
    /// endpoint, the URI ends in /v2.0"; the consumer tenant is 9188040d-...).
    #[test]
    fn microsoft_issuers_are_the_tokens_own_tenant() {
        let issuer = Issuer::MicrosoftTenant {
            login_host: "login.microsoftonline.com".into(),
        };
        let consumer = serde_json::json!({
            "iss": "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
            "aud": "client", "exp": NOW + 3600, "nonce": "n",
            "preferred_username": "someone@outlook.com", "email": "someone@outlook.com"});
        let expected = Expected {
            issuer: &issuer,
            client_id: "client",
            nonce: Some("n"),
            now: NOW,
        };
        let claims = validate(&jwt(consumer.clone()), &expected).unwrap();
        assert_eq!(claims.addresses(), ["someone@outlook.com"]);
        let mut other = consumer;
        other["tid"] = "72f988bf-86f1-41af-91ab-2d7cd011db47".into();
        assert!(
            validate(&jwt(other), &expected).is_err(),
            "iss and tid disagree"
        );
    }

    #[test]
    fn names_that_are_not_addresses_are_not_taken_for_one() {
        let claims = Claims {
            preferred_username: Some("+1 555 0100".into()),
            upn: Some("Alice@Contoso.com".into()),
            unique_name: Some("alice@contoso.com".into()),
            ..Claims::default()
        };
        assert_eq!(claims.addresses(), ["Alice@Contoso.com"]);
    }

    #[test]
    fn what_is_not_a_jwt_is_refused_cleanly() {
        for text in ["", "a.b", "a.b.c.d", "a.!!!.c", "a.bm90IGpzb24.c"] {
            assert!(read(text).is_err(), "{text}");
        }
        assert!(read(&"a.".repeat(40_000)).is_err());
    }
}
