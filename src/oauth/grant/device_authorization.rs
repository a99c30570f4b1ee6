//! The device authorization grant's provider side (RFC 8628): reading the device code answer
//! into bounded values, and one poll of the token endpoint. The waiting, the countdown and the
//! messages are the sign-in's (`authorize::device`).

use std::time::Duration;

use oauth2::StandardDeviceAuthorizationResponse;

use super::post::client_post;
use super::reply::{
    GrantFailure, Granted, TokenReply, granted, not_a_token_response, request_failure,
};
use crate::base::log;
use crate::base::secret::Secret;
use crate::oauth::http::{Http, HttpError};
use crate::oauth::provider::Registration;

/// RFC 8628 section 3.4: the grant type of the polling requests.
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The longest a device code is taken to live. Providers give 15 or 30 minutes (RFC 8628 section
/// 3.2 sets no bound); a larger `expires_in` is capped so that adding it to the clock cannot
/// overflow, which would panic.
pub const MAX_DEVICE_CODE_LIFE: Duration = Duration::from_secs(2 * 60 * 60);

/// The longest polling interval taken from a provider, slow_down steps included. Five seconds is
/// usual; doubling it for the back-off must not overflow, and a minute keeps a sign-in lively.
pub const MAX_DEVICE_INTERVAL: Duration = Duration::from_secs(60);

/// What the device flow uses of a device authorization response (RFC 8628 section 3.2): the
/// durations bounded, and the text for the terminal sanitised like every other provider text.
#[derive(Debug)]
pub struct DeviceCode {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    /// The provider's interval (default 5 s), at most [`MAX_DEVICE_INTERVAL`].
    pub interval: Duration,
}

/// Reads a device authorization response into a `DeviceCode`.
pub fn device_code(details: &StandardDeviceAuthorizationResponse) -> DeviceCode {
    DeviceCode {
        device_code: Secret::new(details.device_code().secret().clone()),
        user_code: log::sanitize(details.user_code().secret()),
        verification_uri: log::sanitize(details.verification_uri().as_str()),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|complete| log::sanitize(complete.secret())),
        expires_in: details.expires_in().min(MAX_DEVICE_CODE_LIFE),
        interval: details.interval().min(MAX_DEVICE_INTERVAL),
    }
}

/// The answer to one poll of the token endpoint (RFC 8628 section 3.5).
#[derive(Debug)]
pub(crate) enum DevicePoll {
    /// The user signed in.
    Granted(Granted),
    /// `authorization_pending`: not yet.
    Pending,
    /// `slow_down`: poll less often.
    SlowDown,
    /// Network trouble or a 5xx: wait longer and try again.
    Trouble(String),
    /// Refused, or an answer that will not get better: the sign-in ends.
    Failed(GrantFailure),
}

/// One device access token request (RFC 8628 section 3.4). The polling loop is the caller's: it
/// must stop at the user's `--auth-timeout` as well as at the code's life, and oauth2's loop
/// would retry every error answer, since `Http` reports them as errors.
pub(crate) fn device_token(
    http: &Http,
    registration: &Registration,
    client_id: &str,
    client_secret: Option<&Secret>,
    device_code: &Secret,
) -> DevicePoll {
    let fields = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code.expose()),
    ];
    let request = match client_post(
        &registration.token_endpoint,
        registration,
        client_id,
        client_secret,
        &fields,
    ) {
        Ok(request) => request,
        Err(e) => return DevicePoll::Failed(GrantFailure::Malformed(e.message().to_string())),
    };
    let response = match http.execute(request) {
        Ok(response) => response,
        // RFC 8628 section 3.5: these two are the protocol, not failures.
        Err(HttpError::Answer(answer)) => {
            return match answer.error.as_deref() {
                Some("authorization_pending") => DevicePoll::Pending,
                Some("slow_down") => DevicePoll::SlowDown,
                _ if answer.is_transient_status() => DevicePoll::Trouble(answer.summary()),
                _ => DevicePoll::Failed(GrantFailure::Refused(answer)),
            };
        }
        Err(error) => {
            return match request_failure(error) {
                GrantFailure::Transient(detail) => DevicePoll::Trouble(detail),
                failure => DevicePoll::Failed(failure),
            };
        }
    };
    match serde_json::from_slice::<TokenReply>(response.body()) {
        Ok(token) => match granted(&token) {
            Ok(granted) => DevicePoll::Granted(granted),
            Err(failure) => DevicePoll::Failed(failure),
        },
        Err(e) => DevicePoll::Failed(not_a_token_response(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Found writing the device_response fuzz target: `Instant::now() + expires_in` panicked on an
    // `expires_in` near u64::MAX, and so did the doubled back-off on such an `interval`.
    #[test]
    fn absurd_device_durations_are_bounded_and_text_is_sanitised() {
        let details: StandardDeviceAuthorizationResponse = serde_json::from_str(
            r#"{"device_code":"d","user_code":"AB\u001b]0;x\u0007CD","verification_uri":"https://example.com/device","expires_in":18446744073709551615,"interval":18446744073709551615}"#,
        )
        .unwrap();
        let code = device_code(&details);
        assert_eq!(code.expires_in, MAX_DEVICE_CODE_LIFE);
        assert_eq!(code.interval, MAX_DEVICE_INTERVAL);
        let _ = std::time::Instant::now() + code.expires_in + code.interval * 2;
        assert_eq!(code.user_code, "AB ]0;x CD");
        let usual: StandardDeviceAuthorizationResponse = serde_json::from_str(
            r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://microsoft.com/devicelogin","expires_in":900}"#,
        )
        .unwrap();
        let code = device_code(&usual);
        assert_eq!(code.expires_in, Duration::from_secs(900));
        assert_eq!(code.interval, Duration::from_secs(5));
    }
}
