//! The authorization-code flows (RFC 6749 section 4.1) with PKCE S256 (RFC 7636), a random
//! `state` and the RFC 9207 `iss` check: `localhostauthcode`, where a loopback listener receives
//! the redirect (RFC 8252), and `authcode`, where the user pastes the code or the whole URL.

use std::collections::HashMap;

use oauth2::basic::BasicClient;
use oauth2::url::{Url, form_urlencoded};
use oauth2::{
    AuthUrl, AuthorizationCode, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl,
};

use super::{Obtained, Request, pages, prompt};
use crate::discovery;
use crate::error::{Error, ExitStatus, Result};
use crate::grant;
use crate::listener::{Answer, BindError, Listener, is_loopback_url};
use crate::log;
use crate::provider::PRESET_NAMES;
use crate::secret::Secret;

/// An oauth2 client with authorization and token endpoints and a redirect URI.
type CodeClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Where Microsoft's public clients land in the paste flow: a blank page whose address holds the
/// code (what mutt_oauth2.py uses).
const MICROSOFT_NATIVE_CLIENT: &str =
    "https://login.microsoftonline.com/common/oauth2/nativeclient";

/// The paste flow's redirect when the registration names none: the browser fails to load it, and
/// the address bar holds the code. Google and Microsoft accept loopback redirects for desktop apps.
const PASTE_LOOPBACK: &str = "http://localhost/";

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
    if !request.email.is_empty() {
        builder = builder.add_extra_param("login_hint", request.email);
    }
    // OpenID Connect Core section 11: offline_access is only honoured with prompt=consent. The
    // big providers issue refresh tokens without it, and forcing consent there can stop users
    // who may not consent on their own, so it is only sent to other providers.
    let preset = PRESET_NAMES.contains(&registration.provider.as_str());
    if !preset && grant::scopes(&registration.scope).any(|s| s.as_str() == "offline_access") {
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
fn exchange(request: &Request, prepared: Prepared, code: Secret) -> Result<Obtained> {
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
            failure.into_error(
                "authorization code",
                request.registration.token_host(),
                &request.authorize_command,
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
) -> Outcome {
    // RFC 6749 sections 4.1.2 and 4.1.2.1: both answers carry the state we sent.
    if params.get("state").map(String::as_str) != Some(expected_state.secret().as_str()) {
        return Outcome::WrongState;
    }
    // RFC 9207 section 2.4: an `iss` that is not our issuer means a mix-up attack; an absent one
    // is only acceptable when the server does not promise to send it.
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
        (None, _) if request.iss_required => {
            return Outcome::Failed(Error::config(
                "the authorization response has no iss parameter, though the provider's metadata \
                 promises one (RFC 9207)",
            ));
        }
        _ => {}
    }
    if let Some(code) = params.get("error") {
        return Outcome::Failed(authorization_error(
            request,
            code,
            params.get("error_description").map(String::as_str),
        ));
    }
    match params.get("code") {
        Some(code) if !code.is_empty() => Outcome::Code(Secret::new(code.clone())),
        _ => Outcome::Empty,
    }
}

/// An error in the authorization response (RFC 6749 section 4.1.2.1) as an exit status.
fn authorization_error(request: &Request, code: &str, description: Option<&str>) -> Error {
    let code = log::sanitize(code);
    let reason = match description {
        Some(description) => format!("{code}: {}", log::sanitize(description)),
        None => code.clone(),
    };
    match code.as_str() {
        "access_denied" => {
            Error::reauthorize(format!("the sign-in was refused ({reason})")).hint(format!(
                "run '{}' again and grant access; an administrator may have to approve the app",
                request.authorize_command
            ))
        }
        "temporarily_unavailable" | "server_error" => {
            Error::temporary(format!("the provider could not sign you in ({reason})"))
                .hint("try again later")
        }
        "invalid_scope"
        | "unauthorized_client"
        | "unsupported_response_type"
        | "invalid_request" => Error::config(format!(
            "the provider rejected the sign-in request ({reason})"
        ))
        .hint("check the client id, --scope and --redirect-uri of the registration"),
        _ => Error::reauthorize(format!("the sign-in failed ({reason})")),
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
    let code = wait_for_code(request, &listener, &path, &prepared.state)?;
    drop(listener);
    exchange(request, prepared, code)
}

/// The listener's port (None: any), the path the redirect must come to, and the redirect URI.
fn loopback_redirect(request: &Request) -> Result<(Option<u16>, String, Url)> {
    let Some(registered) = &request.registration.redirect_uri else {
        let mut url = Url::parse("http://localhost/").map_err(|e| Error::config(e.to_string()))?;
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
        .hint("use --authflow authcode and paste the address the browser ends on, or pass --redirect-uri http://localhost/"));
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

/// Opens the browser without waiting for it: a text browser would otherwise hold the listener's
/// deadline hostage. `webbrowser` honours `$BROWSER`.
fn open_browser(url: &str) {
    let url = url.to_string();
    std::thread::spawn(move || {
        if let Err(e) = webbrowser::open(&url) {
            log::say(format!(
                "mailtoken: could not start a browser ({e}); open the URL above yourself"
            ));
        }
    });
}

fn wait_for_code(
    request: &Request,
    listener: &Listener,
    path: &str,
    state: &CsrfToken,
) -> Result<Secret> {
    loop {
        let Some(incoming) = listener.next(request.deadline) else {
            return Err(Error::temporary(format!(
                "no sign-in arrived within {} s",
                request.options.deadline.as_secs()
            ))
            .hint(format!(
                "run '{}' again; --auth-timeout SECONDS allows more time",
                request.authorize_command
            )));
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
        match judge(request, state, &params) {
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

/// authcode: print the URL; read back the code or the whole address the browser ended on.
pub(super) fn paste(request: &Request) -> Result<Obtained> {
    let redirect = match &request.registration.redirect_uri {
        Some(uri) => uri.clone(),
        None if request.registration.provider == "microsoft" => MICROSOFT_NATIVE_CLIENT.into(),
        None => PASTE_LOOPBACK.into(),
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
    let code = read_pasted(request, &prepared.state, line.trim())?;
    exchange(request, prepared, code)
}

/// The code from a pasted line: a bare code, or an address/query with `code` and `state`.
fn read_pasted(request: &Request, state: &CsrfToken, line: &str) -> Result<Secret> {
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
    match judge(request, state, &params) {
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
