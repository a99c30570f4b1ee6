//! The secrets this process has sent, and their removal from whatever the other side sends back.
//!
//! A server may echo a request: a token endpoint quoting the form in its `error_description`, a
//! proxy's error page titled with the URL, a `Location` carrying the body, an IMAP server quoting
//! the SASL response in its NO or its challenge. Whatever it echoes must not reach the terminal,
//! cron's mail, a log or the notify hook. So every secret is remembered here at the moment it is
//! sent (`http` remembers every secret form field and credential of a request before sending
//! it, `--test` its token and SASL string), and `log::sanitize`, which all text from another
//! party goes through, removes each of them, together with the forms an echo may take:
//!
//! - case changed (`UPPER`, lower): matching ignores ASCII case;
//! - URL- or form-encoded (`%2F`, `+`), or with JSON's `\/`: those forms are remembered too;
//! - base64, base64url (with or without padding) and hex, alone or as part of a longer encoded
//!   text: the encodings are remembered at each of base64's three alignments, without the
//!   characters that depend on the bytes around the secret;
//! - written with HTML character references (`&#47;`, `&#x2F;`, `&sol;`), JSON `\u` escapes or
//!   percent escapes mixed into plain text: the text is also read with those decoded, and what is
//!   found there is removed from the text as it was written;
//! - cut short, or only a part of it: any [`MIN_FRAGMENT`] consecutive characters of a secret
//!   count as the secret, so a prefix cut at a display bound is caught as well.
//!
//! Secrets shorter than [`MIN_FRAGMENT`] are removed where they stand whole, between characters
//! that are not letters or digits; shorter than [`MIN_SECRET`] they are not looked for (such a
//! "secret" would turn every message into holes, and protects nothing).
//!
//! `--debug` also hides values by the name they travel under (`is_secret_name`, `redact_form`,
//! `redact_json`): a token the provider issues was never sent, so only its name gives it away.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use oauth2::url::form_urlencoded;

/// A run of this many characters taken from a secret counts as the secret.
pub(crate) const MIN_FRAGMENT: usize = 8;

/// Secrets shorter than this are not looked for.
pub(crate) const MIN_SECRET: usize = 4;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "(redacted)";

/// Everything remembered: the lower-cased `MIN_FRAGMENT`-byte windows of long secrets, and short
/// secrets whole.
struct Known {
    windows: BTreeSet<[u8; MIN_FRAGMENT]>,
    short: Vec<Vec<u8>>,
}

static KNOWN: Mutex<Known> = Mutex::new(Known {
    windows: BTreeSet::new(),
    short: Vec::new(),
});

/// Set once anything is remembered, so the cached path's sanitising costs no lock.
static ANY: AtomicBool = AtomicBool::new(false);

fn known() -> std::sync::MutexGuard<'static, Known> {
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Remembers a secret about to be sent, in the forms an echo may give it.
pub fn remember(secret: &str) {
    let mut forms = vec![secret.to_string()];
    let form_encoded: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    forms.push(form_encoded.replace('+', "%20"));
    forms.push(form_encoded);
    forms.push(secret.replace('/', "\\/"));
    // Each of those encoded again: an echo may base64 or hex the form as it was sent.
    let encoded: Vec<String> = forms
        .iter()
        .flat_map(|form| encoded_forms(form.as_bytes()))
        .collect();
    forms.extend(encoded);
    let mut known = known();
    for form in forms {
        add(&mut known, form.as_bytes());
    }
}

/// The secret in hex, and in base64 and base64url at each of the three positions it can take
/// in a longer encoded text (its offset modulo 3), keeping only the characters that come from the
/// secret's own bits (RFC 4648 sections 4 and 5: each character holds six bits).
fn encoded_forms(secret: &[u8]) -> Vec<String> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms = vec![secret.iter().map(|b| format!("{b:02x}")).collect()];
    for offset in 0..3 {
        let mut shifted = vec![0u8; offset];
        shifted.extend_from_slice(secret);
        let (first_bit, end_bit) = (8 * offset, 8 * shifted.len());
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&shifted);
            let own: String = encoded
                .chars()
                .enumerate()
                .filter(|(index, _)| 6 * index >= first_bit && 6 * index + 6 <= end_bit)
                .map(|(_, c)| c)
                .collect();
            forms.push(own);
        }
    }
    forms
}

fn add(known: &mut Known, secret: &[u8]) {
    if secret.len() < MIN_SECRET {
        return;
    }
    let lower = secret.to_ascii_lowercase();
    if lower.len() < MIN_FRAGMENT {
        if !known.short.contains(&lower) {
            known.short.push(lower);
        }
    } else {
        for window in lower.windows(MIN_FRAGMENT) {
            known
                .windows
                .insert(window.try_into().expect("windows have the fragment length"));
        }
    }
    ANY.store(true, Ordering::Relaxed);
}

/// `text` with every remembered secret, or piece of one, replaced by `(redacted)`.
pub fn scrub(text: &str) -> String {
    if !ANY.load(Ordering::Relaxed) {
        return text.to_string();
    }
    let lower = text.as_bytes().to_ascii_lowercase();
    let hidden = {
        let known = known();
        let mut hidden = found(&lower, &known);
        // The same text with its escapes decoded: a secret found there is hidden where its
        // escaped characters stand in the text.
        if let Some((decoded, origins)) = decoded_view(&lower) {
            for (index, is_secret) in found(&decoded, &known).into_iter().enumerate() {
                if is_secret {
                    let (start, end) = origins[index];
                    hidden[start..end].fill(true);
                }
            }
        }
        hidden
    };
    if !hidden.contains(&true) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    loop {
        // A character partly inside a secret is hidden whole.
        let start = (at..text.len()).find(|&i| hidden[i]).unwrap_or(text.len());
        out.push_str(&text[at..floor_boundary(text, start)]);
        if start == text.len() {
            return out;
        }
        let end = (start..text.len())
            .find(|&i| !hidden[i])
            .unwrap_or(text.len());
        out.push_str(REDACTED);
        at = ceil_boundary(text, end);
    }
}

/// Which bytes of `lower` (lower-cased text) belong to a remembered secret.
fn found(lower: &[u8], known: &Known) -> Vec<bool> {
    let mut hidden = vec![false; lower.len()];
    if lower.len() >= MIN_FRAGMENT {
        for start in 0..=lower.len() - MIN_FRAGMENT {
            let window: &[u8; MIN_FRAGMENT] = lower[start..start + MIN_FRAGMENT]
                .try_into()
                .expect("the slice has the fragment length");
            if known.windows.contains(window) {
                hidden[start..start + MIN_FRAGMENT].fill(true);
            }
        }
    }
    for short in &known.short {
        for start in occurrences(lower, short) {
            let end = start + short.len();
            let alone = |at: Option<&u8>| at.is_none_or(|b| !b.is_ascii_alphanumeric());
            if alone(start.checked_sub(1).and_then(|i| lower.get(i))) && alone(lower.get(end)) {
                hidden[start..end].fill(true);
            }
        }
    }
    hidden
}

/// `text` with HTML character references (`&#47;`, `&#x2f;`, `&sol;`), JSON escapes (`\/`,
/// `\u002f`) and percent escapes (`%2f`) decoded, and for each decoded byte the range of `text`
/// it came from; `None` when there is nothing to decode. `text` is lower-cased already, so the
/// named references are matched in lower case.
fn decoded_view(text: &[u8]) -> Option<(Vec<u8>, Vec<Origin>)> {
    if !text.iter().any(|b| matches!(b, b'&' | b'\\' | b'%')) {
        return None;
    }
    let mut decoded = Vec::with_capacity(text.len());
    let mut origins = Vec::with_capacity(text.len());
    let mut at = 0;
    while at < text.len() {
        let (character, length) = escape_at(&text[at..]).unwrap_or((Decoded::Byte(text[at]), 1));
        let mut buffer = [0u8; 4];
        let bytes: &[u8] = match &character {
            Decoded::Byte(byte) => std::slice::from_ref(byte),
            Decoded::Char(c) => c.encode_utf8(&mut buffer).as_bytes(),
        };
        for byte in bytes {
            decoded.push(byte.to_ascii_lowercase());
            origins.push((at, at + length));
        }
        at += length;
    }
    Some((decoded, origins))
}

/// Where a decoded byte came from: a range of the text as written.
type Origin = (usize, usize);

/// One decoded escape: a character (HTML, JSON) or a byte (percent).
enum Decoded {
    Byte(u8),
    Char(char),
}

/// The named HTML character references for the characters a token, code or secret may hold
/// (RFC 6749 appendix A: printable ASCII), from the HTML standard's table.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("sol", '/'),
    ("bsol", '\\'),
    ("plus", '+'),
    ("equals", '='),
    ("period", '.'),
    ("lowbar", '_'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("tilde", '~'),
    ("colon", ':'),
    ("semi", ';'),
    ("comma", ','),
    ("percnt", '%'),
    ("num", '#'),
    ("excl", '!'),
    ("quest", '?'),
    ("commat", '@'),
    ("dollar", '$'),
    ("ast", '*'),
    ("lpar", '('),
    ("rpar", ')'),
    ("lsqb", '['),
    ("rsqb", ']'),
    ("lcub", '{'),
    ("rcub", '}'),
    ("verbar", '|'),
    ("grave", '`'),
    ("hat", '^'),
];

/// The escape at the start of `text`, and how many bytes it takes; `None` when there is none.
fn escape_at(text: &[u8]) -> Option<(Decoded, usize)> {
    let hex = |digits: &[u8]| {
        std::str::from_utf8(digits)
            .ok()
            .and_then(|d| u32::from_str_radix(d, 16).ok())
    };
    match text {
        [b'%', a, b, ..] => {
            let value = hex(&[*a, *b])?;
            Some((Decoded::Byte(value as u8), 3))
        }
        [b'\\', b'u', rest @ ..] if rest.len() >= 4 => {
            let c = char::from_u32(hex(&rest[..4])?)?;
            Some((Decoded::Char(c), 6))
        }
        [b'\\', c @ (b'/' | b'\\' | b'"'), ..] => Some((Decoded::Byte(*c), 2)),
        [b'&', b'#', rest @ ..] => {
            let (radix, digits) = match rest {
                [b'x', digits @ ..] => (16, digits),
                digits => (10, digits),
            };
            let length = digits
                .iter()
                .take(8)
                .take_while(|b| b.is_ascii_hexdigit() && (radix == 16 || b.is_ascii_digit()))
                .count();
            if length == 0 {
                return None;
            }
            let value =
                u32::from_str_radix(std::str::from_utf8(&digits[..length]).ok()?, radix).ok()?;
            let c = char::from_u32(value)?;
            // The semicolon is optional in what browsers accept; it belongs to the reference.
            let prefix = 2 + usize::from(radix == 16);
            let semicolon = usize::from(digits.get(length) == Some(&b';'));
            Some((Decoded::Char(c), prefix + length + semicolon))
        }
        [b'&', rest @ ..] => NAMED.iter().find_map(|(name, c)| {
            let after = rest.strip_prefix(name.as_bytes())?;
            after
                .first()
                .is_some_and(|b| *b == b';')
                .then_some((Decoded::Char(*c), 2 + name.len()))
        }),
        _ => None,
    }
}

/// Where `needle` starts in `haystack`, every time.
fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    (0..=haystack.len().saturating_sub(needle.len())).filter(move |&i| {
        haystack.len() >= needle.len() && &haystack[i..i + needle.len()] == needle
    })
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn ceil_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at += 1;
    }
    at
}

/// Whether a form field, query parameter or JSON member of this name carries a secret: any name
/// with token, secret, code, assertion, password or verifier in it, in any case and spelling
/// (`refresh_token`, `accessToken`, `token`, `id_token`, `client_assertion`), except the names
/// that only describe one (`token_type`, `token_type_hint`, `token_endpoint`,
/// `code_challenge_methods_supported`, Microsoft's numeric `error_codes`) and the device flow's
/// `user_code`, which is shown to the user anyway.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let plain: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    const SECRET: &[&str] = &[
        "token",
        "secret",
        "code",
        "assertion",
        "password",
        "passwd",
        "verifier",
    ];
    const DESCRIBING: &[&str] = &[
        "type",
        "hint",
        "method",
        "methods",
        "endpoint",
        "uri",
        "url",
        "supported",
        "codes",
        "expiresin",
    ];
    SECRET.iter().any(|word| plain.contains(word))
        && !DESCRIBING.iter().any(|end| plain.ends_with(end))
        && !matches!(plain.as_str(), "usercode" | "errorcode" | "statuscode")
}

/// Remembers every secret an HTTP request carries, before it is sent: secret form fields and query
/// parameters, and the credentials of its `Authorization` header, the client secret of HTTP
/// Basic (RFC 6749 section 2.3.1) decoded too.
pub(crate) fn remember_request(parts: &oauth2::http::request::Parts, body: &[u8]) {
    use base64::Engine;
    let query = parts.uri.query().unwrap_or("").as_bytes();
    for fields in [body, query] {
        for (name, value) in form_urlencoded::parse(fields) {
            if is_secret_name(&name) {
                remember(&value);
            }
        }
    }
    let Some(authorization) = parts
        .headers
        .get(oauth2::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
    else {
        return;
    };
    let credentials = authorization
        .split_once(' ')
        .map_or(authorization, |(_, credentials)| credentials)
        .trim();
    remember(credentials);
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(credentials)
        && let Some((_, secret)) = String::from_utf8_lossy(&decoded).split_once(':')
    {
        let secret: String = form_urlencoded::parse(format!("s={secret}").as_bytes())
            .map(|(_, value)| value.into_owned())
            .next()
            .unwrap_or_default();
        remember(&secret);
    }
}

/// An `application/x-www-form-urlencoded` body with the values of secret fields replaced
/// (`redact::is_secret_name`: RFC 7009's `token` as much as `refresh_token`).
pub(crate) fn redact_form(body: &str) -> String {
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if is_secret_name(&percent_decoded(key)) => {
                format!("{key}=(redacted)")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_decoded(name: &str) -> String {
    oauth2::url::form_urlencoded::parse(format!("{name}=").as_bytes())
        .map(|(name, _)| name.into_owned())
        .next()
        .unwrap_or_default()
}

/// A JSON document with the text of secret members replaced, at any depth and under any name
/// that says secret (`accessToken`, `token`, `id_token`, ...). Numbers stay: they say how long
/// and which error, never who.
pub(crate) fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if is_secret_name(key) {
                    redact_all_text(member);
                } else {
                    redact_json(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// Every string in `value`, at any depth, replaced.
fn redact_all_text(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(_) => {
            *value = serde_json::Value::String(REDACTED.into());
        }
        serde_json::Value::Object(members) => members.values_mut().for_each(redact_all_text),
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_all_text),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The registry is process-wide: each test uses secrets of its own.
    #[test]
    fn echoes_of_a_secret_are_removed_in_every_form() {
        let secret = "1//0gRefreshTokenQ7x-Abc/def";
        remember(secret);
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for echo in [
            format!("refresh_token={secret}&client_id=x"),
            format!("refresh_token={form}&client_id=x"),
            format!("REFRESH_TOKEN={}&CLIENT_ID=X", secret.to_ascii_uppercase()),
            format!("refresh_token={}", &secret[..12]),
            format!("refresh_token={}&client_id=x", secret.replace('/', "\\/")),
        ] {
            let clean = scrub(&echo);
            let lower = clean.to_ascii_lowercase();
            assert!(
                lower.starts_with("refresh_token=(redacted)"),
                "{echo} -> {clean}"
            );
            assert!(!clean.to_ascii_lowercase().contains("tokenq7x"), "{clean}");
        }
        // A fragment shorter than the bound is not a secret of its own.
        assert_eq!(scrub("1//0gRef"), "(redacted)");
        assert_eq!(scrub("Refresh token expired"), "Refresh token expired");
    }

    /// Issue #30, item 4: base64, base64url, hex and HTML character references passed the scrub.
    #[test]
    fn encoded_echoes_of_a_secret_are_removed() {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let secret = "1//0gEncodedEcho-Q7x_Abc?def+ghi";
        remember(secret);
        let html_decimal: String = secret.chars().map(|c| format!("&#{};", c as u32)).collect();
        let html_mixed: String = secret
            .chars()
            .map(|c| match c {
                '/' => "&sol;".to_string(),
                '-' => "&#x2D;".to_string(),
                '?' => "&#63".to_string(),
                c => c.to_string(),
            })
            .collect();
        let json_escaped: String = secret
            .chars()
            .map(|c| match c {
                '/' | '+' | '?' => format!("\\u{:04X}", c as u32),
                c => c.to_string(),
            })
            .collect();
        let mut cases = vec![
            (
                "hex",
                secret
                    .bytes()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            ),
            ("HEX", secret.bytes().map(|b| format!("{b:02X}")).collect()),
            ("html decimal", html_decimal),
            ("html named and hex", html_mixed),
            ("json unicode escapes", json_escaped),
            (
                "percent, partly",
                secret.replace('/', "%2F").replace('?', "%3f"),
            ),
        ];
        // Alone, and inside a longer encoded text at each of base64's three alignments.
        for prefix in ["", "r", "re", "ref"] {
            let text = format!("{prefix}{secret}&client_id=x");
            cases.push(("base64", STANDARD.encode(&text)));
            cases.push(("base64url", URL_SAFE_NO_PAD.encode(&text)));
            let form: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
            cases.push(("base64 of the form-encoded text", STANDARD.encode(form)));
        }
        for (form, echo) in cases {
            let clean = scrub(&format!("error: {echo} end"));
            assert!(clean.starts_with("error: "), "{form}: {clean}");
            assert!(clean.contains("(redacted)"), "{form}: {echo} -> {clean}");
            assert!(clean.ends_with(" end"), "{form}: {clean}");
            // Nothing left decodes to eight characters of the secret in a row.
            for piece in clean.split("(redacted)") {
                assert!(!shows_secret(piece, secret), "{form}: {piece:?} of {clean}");
            }
        }
        // Text that only looks encoded is left alone.
        assert_eq!(
            scrub("&amp; &#47; %2F \\u0041 deadbeef"),
            "&amp; &#47; %2F \\u0041 deadbeef"
        );
    }

    /// Whether `text` holds eight characters of `secret` in a row, plain or as base64 (either
    /// alphabet, any alignment), hex, or percent-encoded: an oracle of its own, decoding what is
    /// there rather than encoding the secret as the scrub does.
    fn shows_secret(text: &str, secret: &str) -> bool {
        use base64::Engine;
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let windows: Vec<&[u8]> = secret.as_bytes().windows(8).collect();
        let holds = |bytes: &[u8]| {
            let lower = bytes.to_ascii_lowercase();
            windows
                .iter()
                .any(|w| lower.windows(8).any(|x| x == w.to_ascii_lowercase()))
        };
        let mut decoded = vec![text.as_bytes().to_vec()];
        let runs = text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/-_".contains(c)));
        for run in runs {
            for skip in 0..4.min(run.len()) {
                let chars = &run[skip..];
                let usable = &chars[..chars.len() - chars.len() % 4];
                for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
                    decoded.extend(engine.decode(usable).ok());
                }
            }
            if run.chars().all(|c| c.is_ascii_hexdigit()) {
                for skip in 0..2.min(run.len()) {
                    let hex = &run[skip..run.len() - (run.len() - skip) % 2];
                    decoded.push(
                        (0..hex.len())
                            .step_by(2)
                            .filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
                            .collect(),
                    );
                }
            }
        }
        decoded.push(
            form_urlencoded::parse(format!("x={text}").as_bytes())
                .map(|(_, v)| v.into_owned().into_bytes())
                .next()
                .unwrap_or_default(),
        );
        decoded.iter().any(|bytes| holds(bytes))
    }

    #[test]
    fn short_secrets_are_removed_where_they_stand_alone() {
        remember("s3kr");
        assert_eq!(
            scrub("client_secret=s3kr&x=1"),
            "client_secret=(redacted)&x=1"
        );
        assert_eq!(scrub("as3krb"), "as3krb");
        remember("abc");
        assert_eq!(scrub("abc"), "abc", "too short to look for");
    }

    #[test]
    fn text_around_a_secret_keeps_its_characters() {
        remember("ÄÖÜ-secret-ÄÖÜ");
        assert_eq!(scrub("é ÄÖÜ-secret-ÄÖÜ é"), "é (redacted) é");
        assert_eq!(scrub("«-secret-»"), "«(redacted)»");
    }

    #[test]
    fn names_of_secrets() {
        for name in [
            "access_token",
            "refresh_token",
            "accessToken",
            "refreshToken",
            "token",
            "id_token",
            "client_secret",
            "code",
            "code_verifier",
            "device_code",
            "assertion",
            "client_assertion",
            "password",
            "Subject-Token",
        ] {
            assert!(is_secret_name(name), "{name}");
        }
        for name in [
            "token_type",
            "tokenType",
            "token_type_hint",
            "grant_type",
            "token_endpoint",
            "code_challenge_methods_supported",
            "error_codes",
            "user_code",
            "expires_in",
            "refresh_token_expires_in",
            "scope",
            "client_id",
            "error_description",
        ] {
            assert!(!is_secret_name(name), "{name}");
        }
    }

    #[test]
    fn form_secrets_are_redacted() {
        assert_eq!(
            redact_form("grant_type=refresh_token&refresh_token=abc&client_id=x&client_secret=s"),
            "grant_type=refresh_token&refresh_token=(redacted)&client_id=x&client_secret=(redacted)"
        );
    }

    #[test]
    fn a_revocation_hides_its_token() {
        assert_eq!(
            redact_form("token=abc&token_type_hint=refresh_token&client_id=x"),
            "token=(redacted)&token_type_hint=refresh_token&client_id=x"
        );
    }

    #[test]
    fn form_bodies_hide_their_secrets_too() {
        assert_eq!(
            redact_form("access_token=abc&token_type=bearer"),
            "access_token=(redacted)&token_type=bearer"
        );
    }

    #[test]
    fn json_secrets_are_redacted_at_any_depth() {
        let mut v = serde_json::json!({"access_token": "a", "nested": [{"refresh_token": "r"}], "expires_in": 5});
        redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"access_token": "(redacted)", "nested": [{"refresh_token": "(redacted)"}], "expires_in": 5})
        );
        // Names other servers use.
        let mut v = serde_json::json!({"accessToken": "a", "token": "t", "refreshToken": "r",
            "id_token": "i", "data": {"assertion": ["x"]}, "tokenType": "Bearer",
            "expires_in": 5, "error_codes": [70008]});
        redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"accessToken": "(redacted)", "token": "(redacted)",
                "refreshToken": "(redacted)", "id_token": "(redacted)",
                "data": {"assertion": ["(redacted)"]}, "tokenType": "Bearer", "expires_in": 5,
                "error_codes": [70008]})
        );
    }

    #[test]
    fn the_secrets_of_a_request_are_remembered_before_it_is_sent() {
        use base64::Engine;
        let basic = base64::engine::general_purpose::STANDARD.encode("the-client:basic%2Bsecret");
        let request = oauth2::http::Request::post("https://example.com/token?code=query-code-1")
            .header(
                oauth2::http::header::AUTHORIZATION,
                format!("Basic {basic}"),
            )
            .body(
                b"grant_type=refresh_token&refresh_token=form-refresh-1&token=revoked-token-1"
                    .to_vec(),
            )
            .unwrap();
        let (parts, body) = request.into_parts();
        remember_request(&parts, &body);
        for sent in [
            "query-code-1",
            "form-refresh-1",
            "revoked-token-1",
            "basic+secret",
            &basic,
        ] {
            assert_eq!(scrub(&format!("echo {sent}")), "echo (redacted)", "{sent}");
        }
        assert_eq!(
            scrub("the-client refresh_token"),
            "the-client refresh_token"
        );
    }
}
