//! What one IMAP response says (RFC 3501 section 7, RFC 9051 section 7): a continuation request
//! (`+`), untagged data or status (`*`), or a command's tagged completion; its status word and
//! response code; the capabilities it lists. Pure functions over the text `lines::read_response`
//! returns, so the fuzz target (fuzz/fuzz_targets/imap_lines.rs) runs what the login runs.
//!
//! Nothing here recurses or nests: the login reads the first words of a response, a bracketed
//! response code and a capability list, and skips everything else whole, literals included.

use super::failure::{Failure, Kind};

/// A status word (RFC 3501 section 7.1). Servers may write it in any case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bad,
    Bye,
    Preauth,
}

impl Status {
    fn from_word(word: &str) -> Option<Status> {
        [
            ("OK", Status::Ok),
            ("NO", Status::No),
            ("BAD", Status::Bad),
            ("BYE", Status::Bye),
            ("PREAUTH", Status::Preauth),
        ]
        .into_iter()
        .find_map(|(name, status)| word.eq_ignore_ascii_case(name).then_some(status))
    }
}

/// One response, as the login tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response<'a> {
    /// `+ text`: the server waits for more of the command (RFC 3501 section 7.5); during
    /// AUTHENTICATE the text is the base64 challenge. Some servers send a bare `+`.
    Continue(&'a str),
    /// `* OK|NO|BAD|BYE|PREAUTH text`: a status no command asked for (a greeting, an alert, the
    /// server closing).
    UntaggedStatus { status: Status, text: &'a str },
    /// `* anything else`: data (`* CAPABILITY ...`, `* 3 EXISTS`, `* 1 FETCH ...`).
    Data(&'a str),
    /// `tag OK|NO|BAD text`: the completion of the command sent with `tag` (RFC 3501 section
    /// 7.1; BYE and PREAUTH are never tagged).
    Tagged {
        tag: &'a str,
        status: Status,
        text: &'a str,
    },
}

/// The response's kind and parts; `None` when it is not IMAP (an HTTP or POP answer, a tag
/// followed by something else than OK, NO or BAD).
pub fn parse(response: &str) -> Option<Response<'_>> {
    if response == "+" {
        return Some(Response::Continue(""));
    }
    if let Some(text) = response.strip_prefix("+ ") {
        return Some(Response::Continue(text));
    }
    let (first, rest) = response.split_once(' ')?;
    let (word, text) = rest.split_once(' ').unwrap_or((rest, ""));
    let status = Status::from_word(word);
    match (first, status) {
        ("*", Some(status)) => Some(Response::UntaggedStatus { status, text }),
        ("*", None) => Some(Response::Data(rest)),
        (tag, Some(status @ (Status::Ok | Status::No | Status::Bad))) if is_tag(tag) => {
            Some(Response::Tagged { tag, status, text })
        }
        _ => None,
    }
}

/// A tag is any run of ASTRING-CHARs but `+` (RFC 3501 section 9: no space, control character,
/// `(`, `)`, `{`, `%`, `*`, `"` or `\`).
fn is_tag(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){%*\"\\+".contains(&b))
}

/// The response code at the start of a status text, `[NAME arguments]` (RFC 3501 section 7.1,
/// RFC 5530): the name in capitals, and the arguments.
pub fn response_code(text: &str) -> Option<(String, &str)> {
    let inside = &text.strip_prefix('[')?[..text[1..].find(']')?];
    let (name, arguments) = inside.split_once(' ').unwrap_or((inside, ""));
    (!name.is_empty()).then(|| (name.to_ascii_uppercase(), arguments))
}

/// The capabilities a response lists: `* CAPABILITY ...`, or a `[CAPABILITY ...]` response code
/// in any status (RFC 3501 sections 7.2.1 and 7.1); `None` when it lists none.
pub fn capabilities(response: &Response) -> Option<Vec<String>> {
    let list = match *response {
        Response::Data(data) => {
            let (word, list) = data.split_once(' ').unwrap_or((data, ""));
            word.eq_ignore_ascii_case("CAPABILITY").then_some(list)?
        }
        Response::UntaggedStatus { text, .. } | Response::Tagged { text, .. } => {
            let (name, list) = response_code(text)?;
            (name == "CAPABILITY").then_some(list)?
        }
        Response::Continue(_) => return None,
    };
    Some(list.split_whitespace().map(String::from).collect())
}

/// The SASL mechanisms among `capabilities` (`AUTH=XOAUTH2`), once each, in the server's order.
pub fn mechanisms(capabilities: &[String]) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for capability in capabilities {
        let Some(mechanism) = capability
            .get(..5)
            .filter(|prefix| prefix.eq_ignore_ascii_case("AUTH="))
            .map(|_| &capability[5..])
        else {
            continue;
        };
        if !mechanism.is_empty() && !all.iter().any(|m| m.eq_ignore_ascii_case(mechanism)) {
            all.push(mechanism.to_string());
        }
    }
    all
}

/// Whether `capabilities` hold `name` (`STARTTLS`, `SASL-IR`), in any case.
pub fn has(capabilities: &[String], name: &str) -> bool {
    capabilities.iter().any(|c| c.eq_ignore_ascii_case(name))
}

/// `* OK` (or `* PREAUTH`) opens a session; `* BYE` means the server will not talk to us.
pub fn check_greeting(greeting: &[u8]) -> Result<(), Failure> {
    let text = String::from_utf8_lossy(greeting);
    let reply = Some(text.trim_end().to_string());
    match status_word(&text).as_deref() {
        Some("OK" | "PREAUTH") if text.starts_with("* ") => Ok(()),
        Some("BYE") if text.starts_with("* ") => {
            Err(Failure::new(Kind::Network, "the server refused the connection").reply(reply))
        }
        _ => Err(Failure::new(Kind::Protocol, "the server's greeting is not IMAP").reply(reply)),
    }
}

/// The status of a response line: `* OK ...` → OK, `a1 NO ...` → NO.
pub fn status_word(line: &str) -> Option<String> {
    let word = line.split_whitespace().nth(1)?.to_ascii_uppercase();
    ["OK", "NO", "BAD", "BYE", "PREAUTH"]
        .contains(&word.as_str())
        .then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words() {
        assert_eq!(
            status_word("a1 NO [AUTHENTICATIONFAILED] x").as_deref(),
            Some("NO")
        );
        assert_eq!(status_word("* BYE going").as_deref(), Some("BYE"));
        assert_eq!(status_word("garbage"), None);
        assert_eq!(status_word("HTTP/1.1 400 Bad"), None);
    }

    #[test]
    fn greetings() {
        assert!(check_greeting(b"* OK ready\r\n").is_ok());
        assert_eq!(
            check_greeting(b"* BYE too many\r\n").unwrap_err().kind,
            Kind::Network
        );
        assert_eq!(
            check_greeting(b"+OK POP3 ready\r\n").unwrap_err().kind,
            Kind::Protocol
        );
    }

    /// Lines from tests/corpus/mail_answers.md (Gmail, Microsoft, Yahoo) and RFC 3501's examples.
    #[test]
    fn responses_are_told_apart() {
        use Response::*;
        for (line, expected) in [
            ("+ ", Some(Continue(""))),
            ("+", Some(Continue(""))),
            (
                "+ eyJzdGF0dXMiOiI0MDEifQ==",
                Some(Continue("eyJzdGF0dXMiOiI0MDEifQ==")),
            ),
            (
                "* OK Gimap ready for requests",
                Some(UntaggedStatus {
                    status: Status::Ok,
                    text: "Gimap ready for requests",
                }),
            ),
            (
                "* bye Logging out",
                Some(UntaggedStatus {
                    status: Status::Bye,
                    text: "Logging out",
                }),
            ),
            ("* 2 EXISTS", Some(Data("2 EXISTS"))),
            (
                "A01 NO AUTHENTICATE failed.",
                Some(Tagged {
                    tag: "A01",
                    status: Status::No,
                    text: "AUTHENTICATE failed.",
                }),
            ),
            (
                "$V4 ok",
                Some(Tagged {
                    tag: "$V4",
                    status: Status::Ok,
                    text: "",
                }),
            ),
            ("a1 BYE no", None),
            ("a1 PREAUTH no", None),
            ("a{1 OK x", None),
            ("+OK POP3 ready", None),
            ("HTTP/1.1 400 Bad Request", None),
            ("220 smtp.example.com ESMTP", None),
            ("*", None),
            ("", None),
        ] {
            assert_eq!(parse(line), expected, "{line:?}");
        }
    }

    #[test]
    fn response_codes_are_read() {
        assert_eq!(
            response_code("[AUTHENTICATIONFAILED] Authentication failed."),
            Some(("AUTHENTICATIONFAILED".to_string(), ""))
        );
        assert_eq!(
            response_code("[alert] Please log in via your web browser"),
            Some(("ALERT".to_string(), ""))
        );
        assert_eq!(
            response_code("[CAPABILITY IMAP4rev1 AUTH=PLAIN] ready"),
            Some(("CAPABILITY".to_string(), "IMAP4rev1 AUTH=PLAIN"))
        );
        assert_eq!(response_code("no code [ALERT]"), None);
        assert_eq!(response_code("[unclosed"), None);
        assert_eq!(response_code("[]"), None);
        assert_eq!(response_code("["), None);
    }

    /// Microsoft's list before and after STARTTLS (MailKit issue 690), and Yahoo's in its
    /// greeting's response code (MailKit issue 221), from tests/corpus/mail_answers.md.
    #[test]
    fn capabilities_come_from_data_and_from_response_codes() {
        let clear = "* CAPABILITY IMAP4 IMAP4rev1 LOGINDISABLED STARTTLS SASL-IR UIDPLUS MOVE ID \
                     UNSELECT CHILDREN IDLE NAMESPACE LITERAL+";
        let clear = capabilities(&parse(clear).unwrap()).unwrap();
        assert!(has(&clear, "starttls") && has(&clear, "SASL-IR"));
        assert!(mechanisms(&clear).is_empty());
        let tls = "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID \
                   UNSELECT CHILDREN IDLE NAMESPACE LITERAL+";
        let tls = capabilities(&parse(tls).unwrap()).unwrap();
        assert_eq!(mechanisms(&tls), ["PLAIN", "XOAUTH2"]);
        let yahoo = "* OK [CAPABILITY IMAP4rev1 ID AUTH=PLAIN AUTH=LOGIN AUTH=XOAUTH2 \
                     auth=xoauth2 AUTH=] IMAP4rev1 imapgate-1.8.1_01.20166";
        let yahoo = capabilities(&parse(yahoo).unwrap()).unwrap();
        assert_eq!(mechanisms(&yahoo), ["PLAIN", "LOGIN", "XOAUTH2"]);
        let tagged = parse("a1 OK [CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER] done").unwrap();
        assert_eq!(mechanisms(&capabilities(&tagged).unwrap()), ["OAUTHBEARER"]);
        for none in [
            "* 2 EXISTS",
            "* OK [ALERT] hi",
            "a1 OK done",
            "+ Q0FQQUJJTElUWQ==",
        ] {
            assert_eq!(capabilities(&parse(none).unwrap()), None, "{none:?}");
        }
    }
}
