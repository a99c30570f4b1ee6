//! The device authorization grant (RFC 8628): show a short code, let the user enter it on any
//! device, and poll the token endpoint until they have.
//!
//! The polling loop is ours rather than oauth2's: it must stop at the user's `--auth-timeout` as
//! well as at `expires_in`, tell those two apart in its exit status, and be observable in tests.

use std::time::{Duration, Instant};

use base64::Engine;
use oauth2::basic::BasicTokenResponse;
use oauth2::url::form_urlencoded;
use oauth2::{DeviceAuthorizationUrl, StandardDeviceAuthorizationResponse};

use super::{Obtained, Request};
use crate::error::{Error, Result};
use crate::grant::{self, GrantFailure, Granted};
use crate::http::HttpError;
use crate::log;
use crate::provider::ClientAuth;
use crate::provider_answer::Endpoint;
use crate::secret::Secret;

/// RFC 8628 section 3.4: the grant type of the polling requests.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 section 3.5: `slow_down` adds five seconds to the interval, for good.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// A server that asks for an interval of 0 still gets one request a second at most.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest wait between polls after network trouble (RFC 8628 section 3.5 asks for an
/// exponential back-off on timeouts).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The answer to one poll.
#[derive(Debug)]
enum Poll {
    Granted(Granted),
    Pending,
    SlowDown,
    /// Network trouble or a 5xx: wait longer and try again.
    Trouble(String),
    Failed(GrantFailure),
}

pub(super) fn run(request: &Request) -> Result<Obtained> {
    let registration = request.registration;
    let endpoint = registration.devicecode_endpoint.as_deref().ok_or_else(|| {
        Error::usage(format!(
            "provider {} has no device authorization endpoint",
            registration.provider
        ))
        .hint("pass --devicecode-endpoint URL, or use --authflow localhostauthcode or authcode")
    })?;
    let device_url = DeviceAuthorizationUrl::new(endpoint.to_string()).map_err(|e| {
        Error::config(format!(
            "invalid device authorization endpoint {endpoint:?}: {e}"
        ))
    })?;
    let host = crate::provider::url_authority(endpoint);
    log::verbose(format!("requesting a device code at {host}"));
    let client = grant::token_client(registration, request.client_id, request.client_secret)?
        .set_device_authorization_url(device_url);
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(grant::scopes(&registration.scope))
        .request(request.http)
        .map_err(|e| {
            grant::classify(e).into_error(
                Endpoint::DeviceAuthorization,
                &request.situation("device authorization", host, None),
            )
        })?;
    let details = grant::device_code(&details);
    let started = Instant::now();

    // Shown whether or not the provider sends a `message` (Google does not).
    log::say(format!(
        "To sign in, visit {} and enter the code {}",
        details.verification_uri, details.user_code
    ));
    if let Some(complete) = &details.verification_uri_complete {
        log::say(format!("(or open {complete} directly)"));
    }
    log::say(format!(
        "Waiting up to {} s for the sign-in ...",
        details
            .expires_in
            .min(request.deadline.saturating_duration_since(started))
            .as_secs()
    ));

    let expires = started + details.expires_in;
    let device_code = details.device_code;
    let mut interval = details.interval.max(MIN_INTERVAL);
    let mut backoff = interval;
    loop {
        let now = Instant::now();
        let wake = now + backoff;
        let end = expires.min(request.deadline);
        if wake >= end {
            std::thread::sleep(end.saturating_duration_since(now));
            return Err(if expires <= request.deadline {
                Error::reauthorize("the device code expired before the sign-in was completed")
                    .hint(format!("run '{}' again", request.authorize_command))
            } else {
                Error::temporary(format!(
                    "no sign-in completed within {} s",
                    request.options.deadline.as_secs()
                ))
                .hint(format!(
                    "run '{}' again; --auth-timeout SECONDS allows more time",
                    request.authorize_command
                ))
            });
        }
        std::thread::sleep(backoff);
        let requested_at = chrono::Utc::now();
        match poll(request, &device_code) {
            Poll::Granted(granted) => return Ok((granted, requested_at)),
            Poll::Pending => backoff = interval,
            Poll::SlowDown => {
                interval += SLOW_DOWN_STEP;
                backoff = interval;
                log::verbose(format!(
                    "the provider asks to poll more slowly: every {} s",
                    interval.as_secs()
                ));
            }
            Poll::Trouble(detail) => {
                backoff = (backoff * 2).min(MAX_BACKOFF).max(interval);
                log::warn(format!(
                    "polling {host} failed ({detail}); trying again in {} s",
                    backoff.as_secs()
                ));
            }
            Poll::Failed(failure) => {
                return Err(failure.into_error(
                    Endpoint::DevicePoll,
                    &request.situation("device code", registration.token_host(), None),
                ));
            }
        }
    }
}

/// One device access token request (RFC 8628 section 3.4), authenticated as oauth2 does for the
/// other grants: HTTP Basic, or the client id (and secret) in the form.
fn poll(request: &Request, device_code: &Secret) -> Poll {
    let registration = request.registration;
    let secret = request.client_secret.filter(|secret| !secret.is_empty());
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", DEVICE_GRANT);
    form.append_pair("device_code", device_code.expose());
    let mut builder = oauth2::http::Request::post(registration.token_endpoint.as_str())
        .header(oauth2::http::header::ACCEPT, "application/json")
        .header(
            oauth2::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    match (registration.client_auth, secret) {
        (ClientAuth::ClientSecretBasic, Some(secret)) => {
            // RFC 6749 section 2.3.1: both parts form-encoded before base64.
            let encode =
                |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                encode(request.client_id),
                encode(secret.expose())
            ));
            builder = builder.header(
                oauth2::http::header::AUTHORIZATION,
                format!("Basic {credentials}"),
            );
        }
        (_, secret) => {
            form.append_pair("client_id", request.client_id);
            if let Some(secret) = secret {
                form.append_pair("client_secret", secret.expose());
            }
        }
    }
    let body = Secret::new(form.finish());
    let http_request = match builder.body(body.expose().as_bytes().to_vec()) {
        Ok(http_request) => http_request,
        Err(e) => {
            return Poll::Failed(GrantFailure::Malformed(format!(
                "cannot build the request: {e}"
            )));
        }
    };
    let response = match request.http.execute(http_request) {
        Ok(response) => response,
        Err(HttpError::TooLarge) => {
            return Poll::Failed(GrantFailure::Malformed(HttpError::TooLarge.to_string()));
        }
        // RFC 8628 section 3.5: these two are the protocol, not failures.
        Err(HttpError::Answer(answer)) => {
            return match answer.error.as_deref() {
                Some("authorization_pending") => Poll::Pending,
                Some("slow_down") => Poll::SlowDown,
                _ if answer.is_transient_status() => Poll::Trouble(answer.summary()),
                _ => Poll::Failed(GrantFailure::Refused(answer)),
            };
        }
        Err(other) => return Poll::Trouble(other.to_string()),
    };
    match serde_json::from_slice::<BasicTokenResponse>(response.body()) {
        Ok(token) => match grant::granted(&token) {
            Ok(granted) => Poll::Granted(granted),
            Err(failure) => Poll::Failed(failure),
        },
        Err(e) => Poll::Failed(GrantFailure::Malformed(format!(
            "not a valid token response ({})",
            log::sanitize(&e.to_string())
        ))),
    }
}
