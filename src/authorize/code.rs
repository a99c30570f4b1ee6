//! The authorization-code grant (RFC 6749 section 4.1) with PKCE S256 (RFC 7636), a random
//! `state` and the RFC 9207 `iss` check: preparing the request, judging the response, exchanging
//! the code; and the `authcode` flow, where the user pastes the code or the whole URL back.
//! `loopback` is the `localhostauthcode` flow, where a listener on this machine receives it.

use std::collections::HashMap;

use oauth2::url::{Url, form_urlencoded};
use oauth2::{
    AuthUrl, AuthorizationCode, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl,
};

use super::prompt;
use super::request::{Obtained, Request};
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::discovery;
use crate::oauth::grant;
use crate::oauth::provider::PRESET_NAMES;
use crate::oauth::provider_answer::{self, Endpoint, ProviderAnswer};

/// An oauth2 client with authorization and token endpoints and a redirect URI.
pub(super) type CodeClient = grant::ClientWith<EndpointSet, EndpointNotSet, EndpointSet>;

/// One prepared authorization request.
pub(super) struct Prepared {
    pub client: CodeClient,
    pub url: Url,
    pub state: CsrfToken,
    pub verifier: PkceCodeVerifier,
    /// Sent whenever the scope asks for `openid` (OpenID Connect Core section 3.1.2.1): some
    /// providers require it (glewlwyd refuses "nonce required"), and it binds the ID token
    /// that comes back to this request.
    pub nonce: Option<String>,
}

pub(super) fn prepare(request: &Request, redirect_uri: &str) -> Result<Prepared> {
    let registration = request.registration;
    let endpoint = registration.authorize_endpoint.as_deref().ok_or_else(|| {
        Error::usage(format!(
            "provider {} has no authorization endpoint",
            crate::base::log::sanitize(&registration.provider)
        ))
        .hint("pass --authorize-endpoint URL or --issuer URL")
    })?;
    let auth_url = AuthUrl::new(endpoint.to_string())
        .map_err(|e| Error::config(format!("invalid authorization endpoint {endpoint:?}: {e}")))?;
    let redirect = RedirectUrl::new(redirect_uri.to_string())
        .map_err(|e| Error::config(format!("invalid redirect URI {redirect_uri:?}: {e}")))?;
    let client = grant::token_client(registration, request.client_id, request.client_secret)?
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
    // RFC 7636 section 4.2: S256, never plain.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut builder = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(grant::scopes(&registration.scope))
        .set_pkce_challenge(challenge);
    let openid = grant::scopes(&registration.scope).any(|s| s.as_str() == "openid");
    let nonce = openid.then(|| CsrfToken::new_random().secret().clone());
    if let Some(nonce) = &nonce {
        builder = builder.add_extra_param("nonce", nonce);
    }
    // `--no-login-hint`: for sign-in names that are not the mail address, and providers that
    // reject the hint.
    if !request.email.is_empty() && !request.options.no_login_hint {
        builder = builder.add_extra_param("login_hint", request.email);
    }
    // OpenID Connect Core section 11: offline_access is only honoured with prompt=consent. The
    // big providers issue refresh tokens without it, and forcing consent there can stop users
    // who may not consent on their own, so it is only sent to other providers.
    let preset = PRESET_NAMES.contains(&registration.provider.as_str());
    let offline_scope = grant::scopes(&registration.scope).any(|s| s.as_str() == "offline_access");
    if registration.provider == "google" {
        // Google issues a refresh token only for access_type=offline, and only on a consent:
        // re-authorizing an account that has none must ask for consent again ("Using OAuth 2.0
        // for Web Server Applications", Refreshing an access token (offline access)).
        builder = builder.add_extra_param("access_type", "offline");
        if request.consent_again {
            builder = builder.add_extra_param("prompt", "consent");
        }
    } else if !preset && offline_scope {
        builder = builder.add_extra_param("prompt", "consent");
    }
    let (url, state) = builder.url();
    Ok(Prepared {
        client,
        url,
        state,
        verifier,
        nonce,
    })
}

/// Exchanges the code for tokens (RFC 6749 section 4.1.3), proving possession of the verifier.
pub(super) fn exchange(
    request: &Request,
    prepared: Prepared,
    code: Secret,
    redirect_uri: &str,
) -> Result<Obtained> {
    log::verbose(format!(
        "exchanging the authorization code at {}",
        request.registration.token_host()
    ));
    let requested_at = chrono::Utc::now();
    let nonce = prepared.nonce;
    prepared
        .client
        .exchange_code(AuthorizationCode::new(code.expose().to_string()))
        .set_pkce_verifier(prepared.verifier)
        .request(request.http)
        .map_err(grant::classify)
        .and_then(|response| grant::granted(&response))
        .map(|granted| Obtained {
            granted,
            requested_at,
            nonce,
        })
        .map_err(|failure| {
            let host = request.registration.token_host();
            failure.into_error(
                Endpoint::Token,
                &request.situation("authorization code", host, Some(redirect_uri)),
            )
        })
}

/// What an authorization response (RFC 6749 section 4.1.2) says.
#[derive(Debug)]
pub(super) enum Outcome {
    Code(Secret),
    /// `state` missing or not ours: possibly forged (RFC 6749 section 10.12); ignored.
    WrongState,
    /// Neither a code nor an error.
    Empty,
    /// The sign-in ended with this error.
    Failed(Error),
}

/// The parameters of a query string, first occurrence winning.
pub(super) fn parameters(query: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        map.entry(key.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    map
}

pub(super) fn judge(
    request: &Request,
    expected_state: &CsrfToken,
    params: &HashMap<String, String>,
    redirect_uri: &str,
) -> Outcome {
    // RFC 6749 sections 4.1.2 and 4.1.2.1: both answers carry the state we sent.
    if params.get("state").map(String::as_str) != Some(expected_state.secret().as_str()) {
        return Outcome::WrongState;
    }
    // RFC 9207 section 2.4: an `iss` that is not our issuer means a mix-up attack; an absent one
    // is only acceptable when the server does not promise to send it. Some servers leave it out
    // of error responses although they promise it: the error is still reported as what it is.
    let is_error = params.contains_key("error");
    match (params.get("iss"), request.registration.issuer.as_deref()) {
        (Some(iss), Some(expected)) if !discovery::same_issuer(iss, expected) => {
            return Outcome::Failed(
                Error::config(format!(
                    "the authorization response names issuer {:?}, not {expected:?} (RFC 9207)",
                    log::sanitize(iss)
                ))
                .hint("check --issuer; this can also mean a mix-up attack"),
            );
        }
        (None, _) if request.iss_required && is_error => log::verbose(
            "the provider left iss out of its error response, though its metadata promises it",
        ),
        (None, _) if request.iss_required => {
            return Outcome::Failed(Error::config(
                "the authorization response has no iss parameter, though the provider's metadata \
                 promises one (RFC 9207)",
            ));
        }
        _ => {}
    }
    if is_error {
        let answer = ProviderAnswer::from_redirect(params);
        let host = request
            .registration
            .authorize_endpoint
            .as_deref()
            .map(crate::oauth::provider::url_authority)
            .unwrap_or("");
        return Outcome::Failed(provider_answer::into_error(
            &answer,
            Endpoint::Redirect,
            &request.situation("sign-in", host, Some(redirect_uri)),
        ));
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Outcome::Code(Secret::new(code.clone())),
        _ => Outcome::Empty,
    }
}

/// The loopback redirect when the registration names none, before the listener's port is added.
/// RFC 8252 section 8.3 recommends the literal IP over `localhost`, and standards-strict servers
/// match `localhost` exactly (section 7.3 lets any port through only for the IP literals), so
/// custom and discovered providers get `127.0.0.1`. Presets follow their registration guides:
/// Microsoft's asks to register `http://localhost` and ignores its port; Google's desktop-app guide
/// names `http://127.0.0.1:port`; Yahoo's and AOL's apps register `localhost` addresses, and so
/// do Thunderbird's Yandex and Mail.ru registrations (`redirectionEndpoint: "http://localhost"` in
/// its provider table).
pub(super) fn default_loopback_redirect(provider: &str) -> &'static str {
    match provider {
        "microsoft" | "yahoo" | "aol" | "yandex" | "mailru" => "http://localhost/",
        _ => "http://127.0.0.1/",
    }
}

/// The loopback redirect on a fixed `port` (`--port`), as the account keeps it: the provider's
/// default address with that port, so that every later sign-in uses the one address registered.
pub(super) fn loopback_redirect_on(provider: &str, port: u16) -> String {
    let mut url = Url::parse(default_loopback_redirect(provider)).expect("a valid default");
    let _ = url.set_port(Some(port));
    url.to_string()
}

/// authcode: print the URL; read back the code or the whole address the browser ended on.
pub(super) fn paste(request: &Request) -> Result<Obtained> {
    let redirect = match &request.registration.redirect_uri {
        Some(uri) => uri.clone(),
        None if request.registration.provider == "microsoft" => {
            crate::oauth::provider::microsoft_native_client(request.registration)
        }
        None => default_loopback_redirect(&request.registration.provider).into(),
    };
    let prepared = prepare(request, &redirect)?;
    log::say(format!(
        "To sign in, open this URL in a browser:\n\n  {}\n\n\
         When the browser ends on {redirect} (the page may fail to load), copy the whole address \
         from the address bar, or just the code, and paste it here.",
        prepared.url
    ));
    eprint!("Address or code: ");
    let line = match prompt::read_line_until(request.deadline) {
        Some(line) => line?,
        None => {
            // End the unanswered prompt's line before the error is printed.
            eprintln!();
            return Err(Error::temporary(format!(
                "nothing was pasted within {} s",
                request.options.deadline.as_secs()
            ))
            .hint("run again; --auth-timeout SECONDS allows more time"));
        }
    };
    let code = read_pasted(request, &prepared.state, line.trim(), &redirect)?;
    exchange(request, prepared, code, &redirect)
}

/// The code from a pasted line: a bare code, or an address/query with `code` and `state`.
pub(super) fn read_pasted(
    request: &Request,
    state: &CsrfToken,
    line: &str,
    redirect_uri: &str,
) -> Result<Secret> {
    if line.is_empty() {
        return Err(Error::usage("nothing was pasted"));
    }
    let looks_like_response =
        line.contains("code=") || line.contains("error=") || line.contains('?');
    if !looks_like_response {
        // A bare code, perhaps copied percent-encoded out of the address bar (Google's start "4/").
        let decoded: String = form_urlencoded::parse(format!("c={line}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| line.to_string());
        return Ok(Secret::new(decoded));
    }
    let after_question = line.split_once('?').map_or(line, |(_, q)| q);
    // Some providers answer in the fragment (response_mode=fragment).
    let (query, fragment) = after_question
        .split_once('#')
        .unwrap_or((after_question, ""));
    let params = if !fragment.is_empty() && !query.contains("code=") && !query.contains("error=") {
        parameters(fragment)
    } else {
        parameters(query)
    };
    match judge(request, state, &params, redirect_uri) {
        Outcome::Code(code) => Ok(code),
        Outcome::WrongState => Err(Error::reauthorize(
            "the pasted address belongs to another sign-in: its state does not match this one",
        )
        .hint(format!(
            "run '{}' again and paste the address this sign-in ends on",
            request.authorize_command
        ))),
        Outcome::Empty => Err(Error::usage("the pasted address carries no code")),
        Outcome::Failed(error) => Err(error),
    }
}
