//! What an authorization server's "no" means: one table from the answers real providers give to
//! the exit status, the reason in words and the flag that fixes it.
//!
//! Every failure at the token endpoint (RFC 6749 section 5.2), the device authorization endpoint
//! (RFC 8628 section 3.2), the device poll (RFC 8628 section 3.5) and in the browser's redirect
//! (RFC 6749 section 4.1.2.1) is read into one [`ProviderAnswer`] and judged by [`RULES`], so the
//! same error code means the same thing wherever it arrives. The rule that decides most: exit 77
//! ("sign in again") only when signing in again can succeed; when it would fail the same way the
//! answer is a configuration problem (78) and the hint names the flag to change.
//!
//! Microsoft's answers carry an AADSTS number (in `error_codes` and in the description) that says
//! far more than the OAuth2 code, and trace and correlation ids that Microsoft's support asks for;
//! Yahoo and AOL put an `errorId` inside an `error` object. All of it is kept, sanitised for the
//! terminal and bounded in length.
//!
//! Here: [`classify`] and [`into_error`]. Reading an answer is `answer`'s; the table, and where
//! an answer came from ([`Endpoint`]), are `rules` (data, with its sources); what the hint tells
//! the user to do, and what it needs to know ([`Situation`]), is `fix`.

use crate::base::error::{Error, ExitStatus};

mod answer;
mod fix;
mod rules;

pub use answer::{Body, ProviderAnswer};
pub use fix::Situation;
pub(crate) use fix::{Fix, later};
pub(crate) use rules::Rule;
pub use rules::{Endpoint, Key, RULES};

use ExitStatus::{Config, Reauthorize, Temporary};

/// The verdict on one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub status: ExitStatus,
    pub meaning: &'static str,
    pub fix: Fix,
}

impl Rule {
    fn matches(&self, answer: &ProviderAnswer, endpoint: Endpoint) -> bool {
        let code = answer.error.as_deref().unwrap_or("");
        match self.key {
            Key::Aadsts(number) => answer.aadsts == Some(number),
            Key::CodeSaying(wanted, words) => {
                code == wanted
                    && answer
                        .description
                        .as_deref()
                        .is_some_and(|d| d.to_ascii_lowercase().contains(words))
            }
            Key::Code(wanted) => code == wanted,
            Key::CodeAt(wanted, at) => code == wanted && endpoint == at,
        }
    }
}

/// Judges one answer. The HTTP status decides first when it says "later"; then the rows of the
/// table; then what is left: a refresh refused with 400 or 401 and no OAuth2 error is the
/// provider refusing that refresh token (77: several self-hosted providers answer a spent or
/// revoked one so, glewlwyd with a bare 400); an HTML page, a redirect or a body that is no OAuth2
/// answer elsewhere is a proxy or an outage (75); an unknown code at the token endpoint a dead
/// login (77).
pub fn classify(answer: &ProviderAnswer, endpoint: Endpoint) -> Verdict {
    let verdict = |status, meaning, fix| Verdict {
        status,
        meaning,
        fix,
    };
    if answer.is_transient_status() {
        return verdict(
            Temporary,
            "the provider is overloaded or failing",
            Fix::Later,
        );
    }
    if let Some(rule) = RULES.iter().find(|rule| rule.matches(answer, endpoint)) {
        return verdict(rule.status, rule.meaning, rule.fix);
    }
    // A registration endpoint that wants credentials (an initial access token, RFC 7591 section
    // 3) answers 401 or 403, often with no body: no retry and no new sign-in changes that.
    if endpoint == Endpoint::Registration && matches!(answer.http_status, Some(401 | 403)) {
        return verdict(
            Config,
            "the provider registers clients only with credentials mailtoken does not have",
            Fix::RegisterByHand,
        );
    }
    if answer.error.is_none() {
        return match (&answer.body, answer.http_status) {
            // RFC 6749 section 5.2 answers a refused grant with 400 (401 for client
            // authentication); a provider that leaves out the body still refused it. Nothing
            // but its token endpoint answers there: a proxy or portal says 407, redirects, or
            // answers 200 with its own page, and those stay "later".
            (_, Some(400 | 401)) if endpoint == Endpoint::Refresh => verdict(
                Reauthorize,
                "the provider refused the refresh token without a reason",
                Fix::SignIn,
            ),
            (Some(Body::Html(_)), Some(404 | 405)) => verdict(
                Config,
                "the endpoint address does not exist",
                Fix::Flag("--token-endpoint"),
            ),
            (_, Some(300..=399)) => verdict(
                Temporary,
                "the endpoint redirected instead of answering (a proxy or captive portal?)",
                Fix::Later,
            ),
            _ => verdict(
                Temporary,
                "the answer is not an OAuth2 answer (a proxy, captive portal or outage?)",
                Fix::Later,
            ),
        };
    }
    match endpoint {
        Endpoint::Token | Endpoint::Refresh | Endpoint::DevicePoll => {
            verdict(Reauthorize, "the provider refused the login", Fix::SignIn)
        }
        Endpoint::Registration => verdict(
            Config,
            "the provider refused to register mailtoken",
            Fix::RegisterByHand,
        ),
        Endpoint::DeviceAuthorization | Endpoint::Redirect | Endpoint::Revocation => verdict(
            Config,
            "the provider refused the sign-in request",
            Fix::Registration,
        ),
    }
}

/// The error to end with: what the provider said, what it means, and the fix.
pub fn into_error(answer: &ProviderAnswer, endpoint: Endpoint, situation: &Situation) -> Error {
    let verdict = classify(answer, endpoint);
    let host = situation.host;
    let said = answer.summary();
    // A refusal in the browser or while polling is the user's sign-in; elsewhere it is a request.
    let message = match (endpoint, verdict.status) {
        (Endpoint::Redirect | Endpoint::DevicePoll, _) => format!("{} ({said})", verdict.meaning),
        (_, Temporary) => format!(
            "the {} request to {host} failed: {} ({said})",
            situation.what, verdict.meaning
        ),
        _ => format!(
            "{} rejected by {host}: {} ({said})",
            situation.what, verdict.meaning
        ),
    };
    let hint = fix::hint(answer, verdict.fix, situation);
    Error::new(verdict.status, message).hint(hint)
}
