//! localhostauthcode (RFC 8252): the browser comes back to a listener on this machine, which
//! takes the authorization code from the redirect; when it never comes back, the error names
//! what the provider's page most likely showed.

use std::time::Instant;

use oauth2::CsrfToken;
use oauth2::url::Url;

use super::code::{Outcome, exchange, judge, parameters, prepare};
use super::listener::{self, Answer, BindError, Incoming, Listener};
use super::pages;
use super::request::{Obtained, Request};
use crate::base::error::{Error, ExitStatus, Result};
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::provider::is_loopback_url;

/// How much longer than the sign-in's deadline the https listener's certificate lives.
const CERTIFICATE_MARGIN: std::time::Duration = std::time::Duration::from_secs(60);

/// localhostauthcode: the browser comes back to a listener on this machine (RFC 8252), over
/// https when the registered redirect is an https loopback address.
pub(super) fn localhost(request: &Request) -> Result<Obtained> {
    let (port, path, redirect_template) = loopback_redirect(request)?;
    // An https redirect: a certificate made for this sign-in, living a little longer than it.
    let tls = match redirect_template.scheme() {
        "https" => Some(
            listener::one_sign_in_config(request.options.deadline + CERTIFICATE_MARGIN).map_err(
                |e| Error::temporary(format!("cannot set up https for the browser: {e}")),
            )?,
        ),
        _ => None,
    };
    let https = tls.is_some();
    let listener = Listener::bind_with(port, tls).map_err(|error| match error {
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
            "Over ssh, the browser reaches this machine through a forwarded port: ssh -L \
             {0}:localhost:{0} THIS-HOST (--port fixes it); or paste below the address it ends on",
            listener.port()
        ));
    }
    if https {
        log::say(format!(
            "The browser will warn that the connection to {redirect} is not private, as it \
             opens mailtoken's own page there on the way to the provider. That is expected \
             here: the registration accepts only an https address on this machine, so \
             mailtoken answers it with a certificate made for this one sign-in (for localhost, \
             127.0.0.1 and ::1 only; its key never leaves memory), which no browser can know. \
             Continue to the page (Advanced, then proceed to localhost) to sign in.\n"
        ));
    }
    // The browser is given the address of a page of the listener's, which sends it on to the
    // sign-in URL: a command line is readable by every user of the machine, the URL (with its
    // state and PKCE challenge) is not for them, and the listener answers only the user.
    let start = StartPage::new(&redirect, prepared.url.as_str())?;
    // In the background, the same page is the link the notify hook carries.
    request.announce(&start.address, None, request.deadline);
    if !request.options.no_browser {
        open_browser(&start.address);
    }
    // Over ssh the browser often cannot reach this machine: the address it ends on, pasted here,
    // finishes the sign-in as well (checked like the redirect: state, then PKCE at the exchange).
    let pasted = super::prompt::pasted_lines();
    if pasted.is_some() {
        log::say(format!(
            "Waiting up to {} s for the browser to return to {redirect} ... or paste here the \
             address the browser ends on (the page may fail to load), then Enter:",
            request.options.deadline.as_secs()
        ));
    } else {
        log::say(format!(
            "Waiting up to {} s for the browser to return to {redirect} ...",
            request.options.deadline.as_secs()
        ));
    }
    let (code, browser) = wait_for_code(
        request,
        &listener,
        &path,
        &prepared.state,
        redirect.as_str(),
        start,
        pasted.as_ref(),
    )?;
    let obtained = exchange(request, prepared, code, redirect.as_str());
    // The browser is answered with how the exchange ended, not before it: the person who opened
    // a notification's link has no terminal to learn it from.
    if let Some(browser) = browser {
        browser.respond(Answer::page(200, outcome_page(obtained.as_ref().err())));
    }
    drop(listener);
    obtained
}

/// The page for a sign-in that ended with `error`, or signed in.
fn outcome_page(error: Option<&Error>) -> &'static str {
    match error {
        None => pages::SUCCESS,
        Some(error) if error.status() == ExitStatus::Reauthorize => pages::DENIED,
        Some(_) => pages::FAILED,
    }
}

/// The listener's port (None: any), the path the redirect must come to, and the redirect URI.
fn loopback_redirect(request: &Request) -> Result<(Option<u16>, String, Url)> {
    let Some(registered) = &request.registration.redirect_uri else {
        let provider = &request.registration.provider;
        let url = match request.options.port {
            Some(port) => super::code::loopback_redirect_on(provider, port),
            None => super::code::default_loopback_redirect(provider).to_string(),
        };
        let url = Url::parse(&url).map_err(|e| Error::config(e.to_string()))?;
        return Ok((request.options.port, "/".into(), url));
    };
    let url = Url::parse(registered)
        .map_err(|e| Error::config(format!("invalid redirect URI {registered:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || !is_loopback_url(&url) {
        return Err(Error::config(format!(
            "the redirect URI {registered} is not an http:// or https:// address on this \
             machine (localhost, 127.0.0.1, ::1), so mailtoken cannot receive the browser there"
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

/// The listener's page that sends the browser on to the sign-in URL, once: its address holds a
/// key of its own, so it is not the redirect's path, and nothing of the sign-in.
struct StartPage {
    /// What the browser is started with.
    address: String,
    path: String,
    /// The sign-in URL, until the page has been asked for.
    sign_in_url: Option<String>,
}

impl StartPage {
    fn new(redirect: &Url, sign_in_url: &str) -> Result<StartPage> {
        let mut key = [0u8; 16];
        getrandom::getrandom(&mut key)
            .map_err(|e| Error::temporary(format!("no random numbers for the sign-in: {e}")))?;
        let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
        let path = format!("/mailtoken-sign-in/{key}");
        let mut address = redirect.clone();
        address.set_path(&path);
        address.set_query(None);
        Ok(StartPage {
            address: address.to_string(),
            path,
            sign_in_url: Some(sign_in_url.to_string()),
        })
    }

    /// The answer to a request for the page: the way on the first time, a warning after.
    fn answer(&mut self) -> Answer {
        match self.sign_in_url.take() {
            Some(url) => {
                log::verbose("the browser opened the sign-in page; sending it to the provider");
                Answer::redirect(url, pages::START)
            }
            None => {
                log::warn(
                    "the page that starts this sign-in was asked for a second time; if that was \
                     not your browser, stop this sign-in (Ctrl-C) and start it again",
                );
                Answer::page(410, pages::START_USED)
            }
        }
    }
}

/// Waits for the code: from the browser's redirect, which is then left for the caller to answer
/// (with the exchange's outcome), or pasted at the terminal.
fn wait_for_code(
    request: &Request,
    listener: &Listener,
    path: &str,
    state: &CsrfToken,
    redirect_uri: &str,
    mut start: StartPage,
    pasted: Option<&super::prompt::PastedLines>,
) -> Result<(Secret, Option<Incoming>)> {
    loop {
        // Whichever comes first: the browser's redirect, or the address pasted at the terminal.
        let slice = match pasted {
            Some(_) => request.deadline.min(Instant::now() + PASTE_POLL),
            None => request.deadline,
        };
        if let Some(code) = pasted.and_then(|p| pasted_code(request, state, redirect_uri, p)) {
            return code.map(|code| (code, None));
        }
        let Some(incoming) = listener.next(slice) else {
            if Instant::now() >= request.deadline {
                return Err(never_came_back(request, redirect_uri));
            }
            continue;
        };
        if incoming.method != "GET" {
            incoming.respond(Answer::page(405, pages::BAD_REQUEST));
            continue;
        }
        let (request_path, query) = incoming
            .target
            .split_once('?')
            .unwrap_or((incoming.target.as_str(), ""));
        if request_path == start.path {
            incoming.respond(start.answer());
            continue;
        }
        if request_path != path {
            // Browsers ask for /favicon.ico on their own; it is not worth a message.
            if request_path != "/favicon.ico" {
                log::verbose("ignored a request for another path");
            }
            incoming.respond(Answer::page(404, pages::NOT_FOUND));
            continue;
        }
        let params = parameters(query);
        match judge(request, state, &params, redirect_uri) {
            Outcome::Code(code) => return Ok((code, Some(incoming))),
            Outcome::WrongState => {
                log::warn("ignored a request whose state does not match this sign-in");
                incoming.respond(Answer::page(400, pages::WRONG_STATE));
            }
            Outcome::Empty => incoming.respond(Answer::page(400, pages::BAD_REQUEST)),
            Outcome::Failed(error) => {
                incoming.respond(Answer::page(200, outcome_page(Some(&error))));
                return Err(error);
            }
        }
    }
}

/// How often a pasted line is looked for while the listener waits.
const PASTE_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// The code of a line pasted at the terminal, if one came: an address of another sign-in, or a
/// line without a code, is said and waited past (the redirect may still come); a refusal the
/// provider sent ends the sign-in, as it would through the listener.
fn pasted_code(
    request: &Request,
    state: &CsrfToken,
    redirect_uri: &str,
    pasted: &super::prompt::PastedLines,
) -> Option<Result<Secret>> {
    let line = match pasted.lines.try_recv().ok()? {
        Ok(line) if line.trim().is_empty() => return None,
        Ok(line) => line,
        // The terminal's input ended: nothing more will be pasted; the listener still waits.
        Err(_) => return None,
    };
    match super::code::read_pasted(request, state, line.trim(), redirect_uri) {
        Ok(code) => Some(Ok(code)),
        Err(error)
            if error.status() == ExitStatus::Usage
                || error.message().contains("belongs to another sign-in") =>
        {
            log::warn(format!(
                "{}; paste the address this sign-in ends on, or wait for the browser",
                error.message()
            ));
            None
        }
        Err(error) => Some(Err(error)),
    }
}

/// The browser never returned. The causes, in the order a sign-in meets them: the provider did
/// not know the client (its page says so and stops), then it refused the redirect address (the
/// page names it), then the person left the page or ran out of time. What the page says is
/// quoted for the provider of this sign-in only (`provider_answer`'s fixtures have the words);
/// the address to register is the one docs/providers.md gives for the provider, not the random
/// port of this run; the command repeats every flag given.
fn never_came_back(request: &Request, redirect_uri: &str) -> Error {
    let (client_unknown, redirect_refused) = match request.registration.provider.as_str() {
        "google" => (
            " (Google: \"OAuth client was not found\")",
            " (Google: redirect_uri_mismatch)",
        ),
        "microsoft" => (
            " (Microsoft: AADSTS700016; AADSTS50194: a single-tenant app needs --tenant \
             TENANT; \"Need admin approval\": an administrator must consent, see \
             --admin-request)",
            " (Microsoft: AADSTS50011)",
        ),
        _ => ("", ""),
    };
    Error::temporary(format!(
        "no sign-in arrived within {} s at {redirect_uri}",
        request.options.deadline.as_secs()
    ))
    .hint(format!(
        "the likely causes, in the order they happen: (1) the provider does not know the client \
         id{client_unknown}: check --client-id; (2) the redirect address is not \
         registered{redirect_refused}: {}; (3) the page was closed or not finished in time. \
         Then run '{}' again (--auth-timeout SECONDS allows more time)",
        address_to_register(request, redirect_uri),
        request.authorize_command
    ))
}

/// What to register for this sign-in's redirect, as docs/providers.md says for its provider: a
/// redirect the user chose (`--redirect-uri`, `--port`) exactly, otherwise the provider's form,
/// without the port that changes on every sign-in (RFC 8252 section 7.3).
fn address_to_register(request: &Request, redirect_uri: &str) -> String {
    if request.registration.redirect_uri.is_some() || request.options.port.is_some() {
        return format!("register exactly {redirect_uri}");
    }
    match request.registration.provider.as_str() {
        "google" => "a Desktop app client accepts any loopback address and port, so check that \
                     the client is of type Desktop app"
            .into(),
        "microsoft" => "register http://localhost as a Public client/native redirect (Microsoft \
                        ignores the port)"
            .into(),
        "yahoo" | "aol" => {
            "pass the callback your app was granted with --redirect-uri and --port".into()
        }
        // Many self-hosted providers compare the redirect as a string, port included, despite
        // RFC 8252 section 7.3 (glewlwyd: `o_strcmp` against each registered URI): for them
        // the port must be fixed, registered and used at every sign-in.
        _ => format!(
            "register {} (any port), or, at a provider that matches the port exactly (many \
             self-hosted ones do), register exactly {redirect_uri} and sign in with --port {}, \
             which the account then keeps",
            without_port(redirect_uri),
            Url::parse(redirect_uri)
                .ok()
                .and_then(|url| url.port())
                .map_or_else(|| "PORT".to_string(), |port| port.to_string())
        ),
    }
}

/// `http://127.0.0.1:43521/` without its port: `http://127.0.0.1/`.
fn without_port(uri: &str) -> String {
    let Ok(mut url) = Url::parse(uri) else {
        return uri.to_string();
    };
    match url.set_port(None) {
        Ok(()) => url.to_string(),
        Err(()) => uri.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::without_port;

    #[test]
    fn the_address_to_register_has_no_port() {
        assert_eq!(without_port("http://127.0.0.1:43521/"), "http://127.0.0.1/");
        assert_eq!(without_port("http://[::1]:8080/cb"), "http://[::1]/cb");
        assert_eq!(without_port("http://localhost:1"), "http://localhost/");
        assert_eq!(without_port("http://localhost/"), "http://localhost/");
    }
}
