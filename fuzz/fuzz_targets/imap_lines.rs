//! IMAP server lines: mailtoken's greeting and status readers, and the imap-proto parser the
//! imap crate runs on every response (a panic there would end `--test`).
#![no_main]

mod common;

use common::raw_lines;
use libfuzzer_sys::fuzz_target;
use mailtoken::login_test::parsers::{
    Kind, check_greeting, complete_line, imap_proto_cannot_read, status_word,
};

fuzz_target!(|data: &[u8]| {
    // The imap crate hands whole buffers to imap-proto, which must say "incomplete" or
    // "error" rather than crash, for whatever mailtoken's screen lets through (it stops the
    // two inputs imap-proto 0.16.7 crashes on, both found here: INTERNALDATE NIL, and lists
    // nested deep enough to overflow the stack).
    if !imap_proto_cannot_read(data) {
        let _ = imap_proto::parser::parse_response(data);
    }
    for raw in raw_lines(data) {
        if !imap_proto_cannot_read(raw) {
            let _ = imap_proto::parser::parse_response(raw);
        }
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
        if let Some(word) = status_word(&line) {
            assert!(["OK", "NO", "BAD", "BYE", "PREAUTH"].contains(&word.as_str()));
            let second = line.split_whitespace().nth(1).unwrap();
            assert!(second.eq_ignore_ascii_case(&word), "{line:?}");
        }
    }
});
