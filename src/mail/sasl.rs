//! SASL initial responses that carry a bearer token: XOAUTH2 (Google/Microsoft) and OAUTHBEARER
//! (RFC 7628), byte-exact.

use base64::Engine;

use serde::{Deserialize, Serialize};

use crate::base::secret::Secret;

/// A SASL mechanism that carries an OAuth2 bearer token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaslMethod {
    /// Google's and Microsoft's mechanism.
    #[serde(rename = "XOAUTH2")]
    Xoauth2,
    /// The standard mechanism (RFC 7628).
    #[serde(rename = "OAUTHBEARER")]
    Oauthbearer,
}

impl SaslMethod {
    pub fn name(self) -> &'static str {
        match self {
            SaslMethod::Xoauth2 => "XOAUTH2",
            SaslMethod::Oauthbearer => "OAUTHBEARER",
        }
    }
}

/// The raw (not base64) initial client response for `method`.
///
/// XOAUTH2: `user={user}^Aauth=Bearer {token}^A^A`.
/// OAUTHBEARER (RFC 7628 section 3.1): a GS2 header `n,a={user},` then `host`, `port` and `auth`
/// key/value pairs, each ended by ^A, and a final ^A.
pub(crate) fn initial_response(
    method: SaslMethod,
    user: &str,
    host: &str,
    port: u16,
    token: &Secret,
) -> Secret {
    let token = token.expose();
    Secret::new(match method {
        SaslMethod::Xoauth2 => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
        SaslMethod::Oauthbearer => {
            let user = gs2_saslname(user);
            format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
        }
    })
}

/// RFC 5801 section 4: in the GS2 authzid, `=` is written `=3D` and `,` is written `=2C`.
fn gs2_saslname(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

/// Standard base64 with padding, as IMAP, POP and SMTP expect.
pub(crate) fn base64(raw: &Secret) -> Secret {
    Secret::new(base64::engine::general_purpose::STANDARD.encode(raw.expose()))
}

/// NeoMutt reads the first line of `*_oauth_refresh_command` and builds the SASL string itself.
/// Its `mutt_account_getoauthbearer` (conn/connaccount.c, in releases from 2020 on) refuses the
/// line with "OAUTH token is too big" when its read buffer passes 512 bytes, and formats the
/// OAUTHBEARER string into 1024. Microsoft's access tokens are JWTs of 1.5 to 2.5 kB.
pub const NEOMUTT_TOKEN_LIMIT: usize = 512;

/// The warning for an access token NeoMutt may refuse, shown when an account is signed in (not
/// on every call: mail clients other than NeoMutt take any length).
pub(crate) fn neomutt_warning(access_token: &Secret) -> Option<String> {
    let length = access_token.expose().len();
    // The buffer holds the line and its terminator, and grows in steps: stay a little below.
    (length + 16 > NEOMUTT_TOKEN_LIMIT).then(|| {
        format!(
            "the access token is {length} bytes: NeoMutt releases that check its length refuse a \
             refresh command's token over about {NEOMUTT_TOKEN_LIMIT} bytes (\"OAUTH token is \
             too big\"); mutt, msmtp, mbsync, aerc and curl take it whole"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoauth2_matches_the_published_example() {
        // Google's XOAUTH2 documentation example.
        let raw = initial_response(
            SaslMethod::Xoauth2,
            "someuser@example.com",
            "imap.gmail.com",
            993,
            &Secret::new("ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
        );
        assert_eq!(
            base64(&raw).expose(),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn oauthbearer_matches_rfc7628_layout() {
        let raw = initial_response(
            SaslMethod::Oauthbearer,
            "user@example.com",
            "server.example.com",
            143,
            &Secret::new("vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg=="),
        );
        assert_eq!(
            raw.expose(),
            "n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==\x01\x01"
        );
    }

    #[test]
    fn gs2_escapes_comma_and_equals() {
        assert_eq!(gs2_saslname("a,b=c"), "a=2Cb=3Dc");
    }
}
