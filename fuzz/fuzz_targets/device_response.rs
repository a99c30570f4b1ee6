//! Device authorization responses (RFC 8628 section 3.2): what the device flow takes from one
//! has bounded durations the polling loop can add to the clock and double, and text that is safe
//! to print.
#![no_main]

mod common;

use std::time::{Duration, Instant};

use common::{SANITIZED, assert_terminal_safe};
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::grant::{MAX_DEVICE_CODE_LIFE, MAX_DEVICE_INTERVAL, device_code};
use oauth2::StandardDeviceAuthorizationResponse;

fuzz_target!(|data: &[u8]| {
    let Ok(details) = serde_json::from_slice::<StandardDeviceAuthorizationResponse>(data) else {
        return;
    };
    let code = device_code(&details);
    assert!(code.expires_in <= MAX_DEVICE_CODE_LIFE);
    assert!(code.interval <= MAX_DEVICE_INTERVAL);
    // The polling loop's arithmetic (src/authorize/device.rs), which must not overflow: the
    // deadline, the interval with slow_down steps, and the doubled back-off.
    let started = Instant::now();
    let expires = started + code.expires_in;
    let mut interval = code.interval.max(Duration::from_secs(1));
    for _ in 0..100 {
        interval += Duration::from_secs(5);
    }
    let backoff = (interval * 2).min(Duration::from_secs(60)).max(interval);
    let _ = expires.min(started + backoff);
    assert_terminal_safe("user code", &code.user_code, SANITIZED);
    assert_terminal_safe("verification uri", &code.verification_uri, SANITIZED);
    if let Some(complete) = &code.verification_uri_complete {
        assert_terminal_safe("verification uri complete", complete, SANITIZED);
    }
});
