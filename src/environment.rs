//! Environment variables read below the command line: the deadlines tests and slow links
//! adjust, and the client secret that `--authorize` reads and no child process may inherit.

use std::time::Duration;

/// A duration in seconds (fractions allowed) from `variable`, for the deadlines tests and slow
/// links adjust; `default` when it is unset, not a number, not positive, or not below `max`.
pub fn seconds_from_env(variable: &str, default: Duration, max: Duration) -> Duration {
    std::env::var(variable)
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|seconds| *seconds > 0.0 && seconds.is_finite() && *seconds < max.as_secs_f64())
        .map(Duration::from_secs_f64)
        .unwrap_or(default)
}

/// The environment variable that gives `--authorize` the client secret without the argument list.
pub const CLIENT_SECRET_VARIABLE: &str = "MAILTOKEN_CLIENT_SECRET";
