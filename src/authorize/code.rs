//! The authorization-code flows (RFC 6749 section 4.1) with PKCE S256 (RFC 7636), a random
//! `state` and the RFC 9207 `iss` check: `localhostauthcode`, where a loopback listener receives
//! the redirect (RFC 8252), and `authcode`, where the user pastes the code or the whole URL.

use std::collections::HashMap;

use oauth2::url::{Url, form_urlencoded};
use oauth2::{
    AuthUrl, AuthorizationCode, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl,
};

use super::listener::{Answer, BindError, Listener};
use super::{Obtained, Request, pages, prompt};
use crate::discovery;
use crate::error::{Error, ExitStatus, Result};
use crate::grant;
use crate::log;
use crate::provider::{PRESET_NAMES, is_loopback_url};
use crate::provider_answer::{self, Endpoint, ProviderAnswer};
use crate::secret::Secret;

/// An oauth2 client with authorization and token endpoints and a redirect URI.
type CodeClient = grant::ClientWith<EndpointSet, EndpointNotSet, EndpointSet>;

/// Where Microsoft's public clients land in the paste flow: a blank page whose address holds the
/// code (what mutt_oauth2.py uses).
const MICROSOFT_NATIVE_CLIENT: &str =
    "https://login.microsoftonline.com/common/oauth2/nativeclient";

/// The loopback redirect when the registration names none, before the listener's port is added.
/// RFC 8252 section 8.3 recommends the literal IP over `localhost`, and standards-strict servers
/// match `localhost` exactly (section 7.3 lets any port through only for the IP literals), so
/// custom and discovered providers get `127.0.0.1`. Presets follow their registration guides:
/// Microsoft's asks to register `http://localhost` and ignores its port; Google's desktop-app guide
/// names `http://127.0.0.1:port`; Yahoo's and AOL's apps register `localhost` addresses.
pub fn default_loopback_redirect(provider: &str) -> &'static str {
    match provider {
        "microsoft" | "yahoo" | "aol" => "http://localhost/",
        _ => "http://127.0.0.1/",
    }
}

/// One prepared authorization request.
struct Prepared {
    client: CodeClient,
    url: Url,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

fn prepare(request: &Request, redirect_uri: &str) -> Result<Prepared> {
    let registration = request.registration;
    let endpoint = registration.authorize_endpoint.as_deref().ok_or_else(|| {
        Error::usage(format!(
            "provider {} has no authorization endpoint",
            registration.provider
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
    })
}

/// Exchanges the code for tokens (RFC 6749 section 4.1.3), proving possession of the verifier.
fn exchange(
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
    prepared
        .client
        .exchange_code(AuthorizationCode::new(code.expose().to_string()))
        .set_pkce_verifier(prepared.verifier)
        .request(request.http)
        .map_err(grant::classify)
        .and_then(|response| grant::granted(&response))
        .map(|granted| (granted, requested_at))
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
enum Outcome {
    Code(Secret),
    /// `state` missing or not ours: possibly forged (RFC 6749 section 10.12); ignored.
    WrongState,
    /// Neither a code nor an error.
    Empty,
    /// The sign-in ended with this error.
    Failed(Error),
}

/// The parameters of a query string, first occurrence winning.
fn parameters(query: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        map.entry(key.into_owned())
            .or_insert_with(|| value.into_owned());
    }
    map
}

fn judge(
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
            .map(crate::provider::url_authority)
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

/// localhostauthcode: the browser comes back to a listener on this machine (RFC 8252).
pub(super) fn localhost(request: &Request) -> Result<Obtained> {
    let (port, path, redirect_template) = loopback_redirect(request)?;
    let listener = Listener::bind(port).map_err(|error| match error {
        BindError::InUse(addr) => Error::temporary(format!(
            "cannot listen for the browser: port {} is already in use on {}",
            addr.port(),
            addr.ip()
        ))
        .hint("stop the program using it, or choose another --port"),
        other => Error::temporary(format!("cannot listen for the browser: {other}")),
    })?;
    let mut redirect = redirect_template;
    if redirect.port().is_none() {
        // RFC 8252 section 7.3: the provider accepts any port on a loopback redirect.
        let _ = redirect.set_port(Some(listener.port()));
    }
    let prepared = prepare(request, redirect.as_str())?;
    log::verbose(format!(
        "listening on {}",
        listener
            .addresses()
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    log::say(format!(
        "To sign in, open this URL in a browser:\n\n  {}\n",
        prepared.url
    ));
    if std::env::var_os("SSH_CONNECTION").is_some() {
        log::say(format!(
            "Over ssh, forward the port first: ssh -L {0}:localhost:{0} THIS-HOST (use --port to fix it)",
            listener.port()
        ));
    }
    if !request.options.no_browser {
        open_browser(prepared.url.as_str());
    }
    log::say(format!(
        "Waiting up to {} s for the browser to return to {redirect} ...",
        request.options.deadline.as_secs()
    ));
    let code = wait_for_code(
        request,
        &listener,
        &path,
        &prepared.state,
        redirect.as_str(),
    )?;
    drop(listener);
    exchange(request, prepared, code, redirect.as_str())
}

/// The listener's port (None: any), the path the redirect must come to, and the redirect URI.
fn loopback_redirect(request: &Request) -> Result<(Option<u16>, String, Url)> {
    let Some(registered) = &request.registration.redirect_uri else {
        let default = default_loopback_redirect(&request.registration.provider);
        let mut url = Url::parse(default).map_err(|e| Error::config(e.to_string()))?;
        let _ = url.set_port(request.options.port);
        return Ok((request.options.port, "/".into(), url));
    };
    let url = Url::parse(registered)
        .map_err(|e| Error::config(format!("invalid redirect URI {registered:?}: {e}")))?;
    if url.scheme() != "http" || !is_loopback_url(&url) {
        return Err(Error::config(format!(
            "the redirect URI {registered} is not an http://localhost address, so mailtoken cannot \
             receive the browser there"
        ))
        .hint("use --authflow authcode and paste the address the browser ends on, or pass --redirect-uri http://127.0.0.1/"));
    }
    let port = match (url.port(), request.options.port) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::usage(format!(
                "--port {b} contradicts the redirect URI {registered}"
            )));
        }
        (Some(a), _) => Some(a),
        (None, b) => b,
    };
    let mut url = url;
    if let Some(port) = port {
        let _ = url.set_port(Some(port));
    }
    Ok((port, url.path().to_string(), url))
}

/// Opens the browser; the URL printed above stays the way in when it cannot be started.
fn open_browser(url: &str) {
    if let Err(e) = super::browser::open(url) {
        log::say(format!(
            "mailtoken: could not start a browser ({}); open the URL above yourself",
            log::sanitize(&e)
        ));
    }
}

fn wait_for_code(
    request: &Request,
    listener: &Listener,
    path: &str,
    state: &CsrfToken,
    redirect_uri: &str,
) -> Result<Secret> {
    loop {
        let Some(incoming) = listener.next(request.deadline) else {
            return Err(never_came_back(request, redirect_uri));
        };
        if incoming.method != "GET" {
            incoming.respond(Answer {
                status: 405,
                html: pages::BAD_REQUEST,
            });
            continue;
        }
        let (request_path, query) = incoming
            .target
            .split_once('?')
            .unwrap_or((incoming.target.as_str(), ""));
        if request_path != path {
            // Browsers ask for /favicon.ico on their own; it is not worth a message.
            if request_path != "/favicon.ico" {
                log::verbose("ignored a request for another path");
            }
            incoming.respond(Answer {
                status: 404,
                html: pages::NOT_FOUND,
            });
            continue;
        }
        let params = parameters(query);
        match judge(request, state, &params, redirect_uri) {
            Outcome::Code(code) => {
                incoming.respond(Answer {
                    status: 200,
                    html: pages::SUCCESS,
                });
                return Ok(code);
            }
            Outcome::WrongState => {
                log::warn("ignored a request whose state does not match this sign-in");
                incoming.respond(Answer {
                    status: 400,
                    html: pages::WRONG_STATE,
                });
            }
            Outcome::Empty => incoming.respond(Answer {
                status: 400,
                html: pages::BAD_REQUEST,
            }),
            Outcome::Failed(error) => {
                let html = if error.status() == ExitStatus::Reauthorize {
                    pages::DENIED
                } else {
                    pages::FAILED
                };
                incoming.respond(Answer { status: 200, html });
                return Err(error);
            }
        }
    }
}

/// The browser never returned: the provider's page showed an error the user has to act on.
/// These are the ones a loopback sign-in meets (Microsoft Entra error codes; Google's
/// redirect_uri_mismatch page); the command repeats every flag given.
fn never_came_back(request: &Request, redirect_uri: &str) -> Error {
    Error::temporary(format!(
        "no sign-in arrived within {} s at {redirect_uri}",
        request.options.deadline.as_secs()
    ))
    .hint(format!(
        "if the provider's page showed an error instead of returning: \
         redirect URI not registered (Microsoft AADSTS50011, Google redirect_uri_mismatch): \
         register exactly {redirect_uri} (Microsoft ignores the port of http://localhost) or pass \
         the registered one with --redirect-uri; a single-tenant app used with the common \
         endpoint (AADSTS50194): add --tenant TENANT; \"Need admin approval\": an administrator \
         must consent to the app. Then run '{}' again (--auth-timeout SECONDS allows more time)",
        request.authorize_command
    ))
}

/// authcode: print the URL; read back the code or the whole address the browser ended on.
pub(super) fn paste(request: &Request) -> Result<Obtained> {
    let redirect = match &request.registration.redirect_uri {
        Some(uri) => uri.clone(),
        None if request.registration.provider == "microsoft" => MICROSOFT_NATIVE_CLIENT.into(),
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
fn read_pasted(
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
