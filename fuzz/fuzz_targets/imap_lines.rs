//! IMAP server bytes as `--test` reads them: responses framed by mailtoken's reader, literals
//! included (RFC 3501 section 4.3, RFC 7888, RFC 3516), the same whatever the read boundaries;
//! each response told apart (continuation, untagged, tagged) consistently with the status-word
//! and greeting readers; response codes, capabilities and mechanisms well formed.
#![no_main]

mod common;

use std::io::{BufRead, BufReader, Read};

use common::raw_lines;
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::login_test::parsers::{
    Kind, MAX_LITERAL, Response, Status, Unread, announced_literal, capabilities, check_greeting,
    complete_line, imap_response, mechanisms, read_response, response_code, status_word,
};

/// Every response in the stream, and how the reading ended.
fn responses(reader: &mut impl BufRead) -> (Vec<String>, Unread) {
    let mut all = Vec::new();
    loop {
        match read_response(reader) {
            Ok(response) => all.push(response),
            Err(end) => return (all, end),
        }
    }
}

/// The input one byte per read: every boundary a socket could put anywhere.
struct Bytewise<'a>(&'a [u8]);

impl Read for Bytewise<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((&first, rest)) = self.0.split_first() else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        buf[0] = first;
        self.0 = rest;
        Ok(1)
    }
}

fn same_end(a: &Unread, b: &Unread) -> bool {
    match (a, b) {
        (Unread::Closed, Unread::Closed) => true,
        (Unread::TooLong(x), Unread::TooLong(y)) => x == y,
        _ => false,
    }
}

/// The status a word names, stated here apart from the crate's own reader.
fn status_of(word: &str) -> Option<Status> {
    match word {
        "OK" => Some(Status::Ok),
        "NO" => Some(Status::No),
        "BAD" => Some(Status::Bad),
        "BYE" => Some(Status::Bye),
        "PREAUTH" => Some(Status::Preauth),
        _ => None,
    }
}

fn check_response(response: &str) {
    // Only a literal carries a response over a line end.
    if !response.contains('{') {
        assert!(!response.contains('\n'), "{response:?}");
    }
    let Some(parsed) = imap_response(response) else {
        return;
    };
    let word = status_word(response);
    match parsed {
        Response::Continue(text) => {
            assert!(response.starts_with('+') && response.ends_with(text));
        }
        Response::UntaggedStatus { status, text } => {
            assert!(response.starts_with("* ") && response.ends_with(text));
            assert_eq!(word.as_deref().and_then(status_of), Some(status), "{response:?}");
        }
        Response::Data(data) => {
            assert!(response.starts_with("* ") && response.ends_with(data));
        }
        Response::Tagged { tag, status, text } => {
            assert!(matches!(status, Status::Ok | Status::No | Status::Bad));
            assert_eq!(word.as_deref().and_then(status_of), Some(status), "{response:?}");
            assert!(response.starts_with(tag) && response.ends_with(text));
            assert!(!tag.is_empty() && tag != "*" && !tag.contains(['+', '{', ' ']));
        }
    }
    if let Response::UntaggedStatus { text, .. } | Response::Tagged { text, .. } = parsed
        && let Some((name, arguments)) = response_code(text)
    {
        assert!(!name.is_empty() && !name.contains([']', ' ']));
        assert_eq!(name, name.to_ascii_uppercase());
        assert!(!arguments.contains(']'));
    }
    if let Some(listed) = capabilities(&parsed) {
        assert!(listed.iter().all(|c| !c.is_empty() && !c.contains(char::is_whitespace)));
        let offered = mechanisms(&listed);
        for (i, mechanism) in offered.iter().enumerate() {
            assert!(!mechanism.is_empty() && !mechanism.contains(char::is_whitespace));
            assert!(
                offered[..i]
                    .iter()
                    .all(|m| !m.eq_ignore_ascii_case(mechanism)),
                "{offered:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The responses and how the stream ended do not depend on where the reads split it.
    let (whole, end) = responses(&mut &data[..]);
    let (bytewise, bytewise_end) = responses(&mut BufReader::with_capacity(3, Bytewise(data)));
    assert_eq!(whole, bytewise);
    assert!(same_end(&end, &bytewise_end), "{end:?} {bytewise_end:?}");
    match end {
        Unread::TooLong(size) => assert!(size > MAX_LITERAL),
        Unread::Closed => {}
        Unread::Io(error) => panic!("an in-memory read failed: {error}"),
    }
    for response in &whole {
        check_response(response);
    }

    for raw in raw_lines(data) {
        match check_greeting(raw) {
            Ok(()) => {
                let text = String::from_utf8_lossy(raw);
                assert!(text.starts_with("* "));
                assert!(matches!(
                    status_word(&text).as_deref(),
                    Some("OK" | "PREAUTH")
                ));
            }
            Err(failure) => {
                assert!(matches!(failure.kind, Kind::Network | Kind::Protocol));
                let reply = failure.reply.as_deref().expect("the greeting is kept");
                assert_eq!(reply, String::from_utf8_lossy(raw).trim_end());
                let _ = failure.server_trouble();
            }
        }
        let Some(line) = complete_line(raw) else {
            continue;
        };
        assert!(!line.ends_with(['\r', '\n']));
        if let Some(size) = announced_literal(line.as_bytes()) {
            assert!(line.ends_with('}') && line.contains('{'), "{line:?} {size}");
        }
        if let Some(word) = status_word(&line) {
            assert!(["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(&word.as_str()));
            let second = line.split_whitespace().nth(1).unwrap();
            assert!(second.eq_ignore_ascii_case(&word), "{line:?}");
        }
    }
});
