//! What every chapter of the login test shares: one login [`Attempt`] (the endpoint, the token,
//! the TLS configuration and the timeout, and the secrets it must never show), the limit on a
//! whole conversation, and how durations read in messages. The story (`mod.rs`) makes attempts;
//! the protocols, the connection and the line reader take them from here, never from the story.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;

use super::transcript::{SharedTranscript, Transcript};
use crate::base::secret::Secret;
use crate::mail::mailserver::MailEndpoint;
use crate::mail::sasl::{self, SaslMethod};

/// A duration for messages: "20 s", "0.5 s".
pub(crate) fn seconds(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs} s")
    }
}

/// Everything one login attempt needs; owned, so it can run on a thread of its own.
pub(crate) struct Attempt {
    pub endpoint: MailEndpoint,
    pub method: SaslMethod,
    pub user: String,
    /// A shared or delegated mailbox (`--mailbox`): SMTP then checks, after the login, that the
    /// signed-in user may send as it (MAIL FROM, then RSET: nothing is sent).
    pub sender: Option<String>,
    pub token: Secret,
    pub config: Arc<ClientConfig>,
    pub timeout: Duration,
    /// The account as the user typed it, for the commands hints name.
    pub account: String,
}

impl Attempt {
    /// The raw SASL initial response: OAUTHBEARER carries this endpoint's host and port.
    pub(crate) fn initial_response(&self) -> Secret {
        sasl::initial_response(
            self.method,
            &self.user,
            &self.endpoint.host,
            self.endpoint.port,
            &self.token,
        )
    }

    /// The strings that must never be shown: the SASL string, encoded and raw, and the token.
    /// The token and the encoded string are remembered (`redact`), so that no echo of them, cut
    /// short or recased, inside a challenge or a reply, is shown either; the raw string is the
    /// token and the address, which stays visible.
    pub(crate) fn secrets(&self) -> Vec<Secret> {
        let raw = self.initial_response();
        let encoded = sasl::base64(&raw);
        crate::base::redact::remember(self.token.expose());
        crate::base::redact::remember(encoded.expose());
        vec![encoded, raw, self.token.clone()]
    }

    /// The `--debug` trace for this attempt, told which strings never to show.
    pub(crate) fn transcript(&self) -> SharedTranscript {
        Transcript::new(self.endpoint.protocol.name(), self.secrets())
    }

    pub(crate) fn implicit_tls(&self) -> bool {
        self.endpoint.tls == crate::mail::mailserver::Tls::Implicit
    }
}

/// A conversation with one server may last this many timeouts in all: each step has its own
/// timeout, so without a limit a server sending one byte at a time could hold `--test` forever.
pub(crate) const DEADLINE_FACTOR: u32 = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(seconds(Duration::from_secs(20)), "20 s");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5 s");
    }
}
