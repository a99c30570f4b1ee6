//! The device authorization grant (RFC 8628): show a short code, let the user enter it on any
//! device, and poll the token endpoint until they have.
//!
//! The polling loop is ours rather than oauth2's: it must stop at the user's `--auth-timeout` as
//! well as at `expires_in`, tell those two apart in its exit status, and be observable in tests.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use oauth2::{DeviceAuthorizationUrl, StandardDeviceAuthorizationResponse};

use super::qr;
use super::request::{Obtained, Request};
use crate::base::error::{Error, Result};
use crate::base::log;
use crate::oauth::grant::{self, DeviceCode, DevicePoll};
use crate::oauth::provider_answer::Endpoint;

/// RFC 8628 section 3.5: `slow_down` adds five seconds to the interval, for good.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// A server that asks for an interval of 0 still gets one request a second at most.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest wait between polls after network trouble (RFC 8628 section 3.5 asks for an
/// exponential back-off on timeouts).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How often the time left is redrawn on a terminal.
const TICK: Duration = Duration::from_secs(1);

pub(super) fn run(request: &Request) -> Result<Obtained> {
    let details = request_device_code(request)?;
    let started = Instant::now();
    let expires = started + details.expires_in;
    // Without --auth-timeout, wait as long as the code lives: the provider chose that time.
    let deadline = if request.options.deadline_given {
        request.deadline
    } else {
        expires
    };
    let end = expires.min(deadline);
    // In the background, the notify hook carries the address and the code.
    request.announce(
        details
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&details.verification_uri),
        Some(&details.user_code),
        end,
    );
    let mut countdown = Countdown::for_stderr(end);
    if countdown.live {
        show_on_terminal(
            &details.verification_uri,
            details.verification_uri_complete.as_deref(),
            &details.user_code,
        );
    } else {
        show_in_log(&details, end.saturating_duration_since(started));
    }
    let granted = wait_for_sign_in(request, &details, &mut countdown, end)?;
    match granted {
        Some(obtained) => Ok(obtained),
        None if expires <= deadline => Err(Error::reauthorize(
            "the device code expired before the sign-in was completed",
        )
        .hint(format!("run '{}' again", request.authorize_command))),
        None => Err(Error::temporary(format!(
            "no sign-in completed within {} s",
            request.options.deadline.as_secs()
        ))
        .hint(format!(
            "run '{}' again; --auth-timeout SECONDS allows more time",
            request.authorize_command
        ))),
    }
}

/// Asks the device authorization endpoint for a code (RFC 8628 section 3.1).
fn request_device_code(request: &Request) -> Result<DeviceCode> {
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
    let host = crate::oauth::provider::url_authority(endpoint);
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
    // Bounded durations and sanitised text, in one place (grant::device_code, fuzzed).
    Ok(grant::device_code(&details))
}

/// The code and address for a log or a pipe: no QR code, no countdown.
fn show_in_log(details: &DeviceCode, waiting: Duration) {
    let address = &details.verification_uri;
    let code = &details.user_code;
    // Shown whether or not the provider sends a `message` (Google does not).
    log::say(format!(
        "To sign in, visit {address} and enter the code {code}"
    ));
    if let Some(complete) = &details.verification_uri_complete {
        log::say(format!("(or open {complete} directly)"));
    }
    log::say(format!(
        "Waiting up to {} s for the sign-in ...",
        waiting.as_secs()
    ));
}

/// Polls the token endpoint until the user has signed in (the tokens, and when they were asked
/// for), the provider refuses, or `end` comes (`None`). RFC 8628 section 3.5: `slow_down` adds to
/// the interval for good; network trouble backs off exponentially.
fn wait_for_sign_in(
    request: &Request,
    details: &DeviceCode,
    countdown: &mut Countdown,
    end: Instant,
) -> Result<Option<Obtained>> {
    let registration = request.registration;
    let host = registration.token_host();
    let mut interval = details.interval.max(MIN_INTERVAL);
    let mut backoff = interval;
    loop {
        let wake = Instant::now() + backoff;
        if wake >= end {
            countdown.sleep_until(end);
            countdown.clear();
            return Ok(None);
        }
        countdown.sleep_until(wake);
        let requested_at = chrono::Utc::now();
        let answer = grant::device_token(
            request.http,
            registration,
            request.client_id,
            request.client_secret,
            &details.device_code,
        );
        if !matches!(answer, DevicePoll::Pending | DevicePoll::SlowDown) {
            countdown.clear();
        }
        match answer {
            DevicePoll::Granted(granted) => {
                return Ok(Some(Obtained::without_nonce(granted, requested_at)));
            }
            DevicePoll::Pending => backoff = interval,
            DevicePoll::SlowDown => {
                interval = (interval + SLOW_DOWN_STEP).min(grant::MAX_DEVICE_INTERVAL);
                backoff = interval;
                if log::enabled(log::VERBOSE) {
                    countdown.clear();
                }
                log::verbose(format!(
                    "the provider asks to poll more slowly: every {} s",
                    interval.as_secs()
                ));
            }
            DevicePoll::Trouble(detail) => {
                countdown.clear();
                backoff = (backoff * 2).min(MAX_BACKOFF).max(interval);
                log::warn(format!(
                    "polling {host} failed ({detail}); trying again in {} s",
                    backoff.as_secs()
                ));
            }
            DevicePoll::Failed(failure) => {
                return Err(failure.into_error(
                    Endpoint::DevicePoll,
                    &request.situation("device code", host, None),
                ));
            }
        }
    }
}

/// The code, the address and its QR code, for a person at this terminal.
fn show_on_terminal(address: &str, complete: Option<&str>, code: &str) {
    let target = complete.unwrap_or(address);
    log::say(format!(
        "To sign in, open {address} on any device and enter the code\n\n    {code}\n"
    ));
    match qr::render(target) {
        Some(lines) => {
            log::say(if complete.is_some() {
                format!("or scan this code with a phone (it opens {target}):")
            } else {
                "or scan this code with a phone to open the address:".to_string()
            });
            for line in lines {
                log::say_raw(format!("  {line}"));
            }
        }
        None if complete.is_some() => log::say(format!("(or open {target} directly)")),
        None => {}
    }
}

/// The time left, on one line of the terminal rewritten in place with `\r` and erase-line; on
/// anything else (a log file, a pipe) nothing at all. The line is always erased before any other
/// message, so the terminal is left as if it had never been there.
struct Countdown {
    end: Instant,
    live: bool,
    shown: bool,
}

impl Countdown {
    fn for_stderr(end: Instant) -> Countdown {
        Countdown {
            end,
            live: std::io::stderr().is_terminal(),
            shown: false,
        }
    }

    /// Sleeps until `until`, redrawing the time left every second.
    fn sleep_until(&mut self, until: Instant) {
        loop {
            let now = Instant::now();
            if now >= until {
                return;
            }
            if self.live {
                let left = self.end.saturating_duration_since(now).as_secs();
                eprint!(
                    "\r\x1b[2KWaiting for the sign-in: {} left (Ctrl-C to give up)",
                    clock(left)
                );
                let _ = std::io::stderr().flush();
                self.shown = true;
            }
            std::thread::sleep((until - now).min(TICK));
        }
    }

    /// Erases the line, before a message or at the end.
    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
            self.shown = false;
        }
    }
}

impl Drop for Countdown {
    fn drop(&mut self) {
        self.clear();
    }
}

/// "9:41" for minutes and seconds, "1:02:03" past an hour.
fn clock(seconds: u64) -> String {
    match seconds {
        0..3600 => format!("{}:{:02}", seconds / 60, seconds % 60),
        _ => format!(
            "{}:{:02}:{:02}",
            seconds / 3600,
            seconds % 3600 / 60,
            seconds % 60
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_reads_like_a_clock() {
        assert_eq!(clock(581), "9:41");
        assert_eq!(clock(5), "0:05");
        assert_eq!(clock(3723), "1:02:03");
    }
}
