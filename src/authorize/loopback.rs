//! localhostauthcode (RFC 8252): the browser comes back to a listener on this machine, which
//! takes the authorization code from the redirect; when it never comes back, the error names
//! what the provider's page most likely showed.

use oauth2::CsrfToken;
use oauth2::url::Url;

use super::code::{Outcome, exchange, judge, parameters, prepare};
use super::listener::{Answer, BindError, Listener};
use super::{Obtained, Request, pages};
use crate::error::{Error, ExitStatus, Result};
use crate::log;
use crate::provider::is_loopback_url;
use crate::secret::Secret;

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
