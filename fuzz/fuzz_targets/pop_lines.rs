//! POP3 server lines (RFC 1939, RFC 2449, RFC 5034): a line is at most one of +OK, -ERR and a
//! SASL continuation, capabilities are found by their first word, and continuation data reads as
//! a challenge whose summary is safe to print.
#![no_main]

mod common;

use common::{SANITIZED, assert_terminal_safe, raw_lines};
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::login_test::parsers::{
    Challenge, capability, complete_line, continuation, is_err, is_ok,
};

fuzz_target!(|data: &[u8]| {
    let lines: Vec<String> = raw_lines(data).filter_map(complete_line).collect();
    for line in &lines {
        let (ok, err, more) = (is_ok(line), is_err(line), continuation(line));
        assert!(
            u8::from(ok) + u8::from(err) + u8::from(more.is_some()) <= 1,
            "{line:?}"
        );
        if ok {
            assert!(line.starts_with("+OK"));
        }
        if err {
            assert!(line.starts_with("-ERR"));
        }
        if let Some(data) = more {
            assert!(line.ends_with(data));
            if let Some(challenge) = Challenge::from_base64(data) {
                assert_terminal_safe("challenge", &challenge.summary(), SANITIZED);
            }
        }
    }
    for name in ["STLS", "SASL", "USER"] {
        if let Some(rest) = capability(&lines, name) {
            assert!(
                lines.iter().any(|line| {
                    line.len() >= name.len()
                        && line.is_char_boundary(name.len())
                        && line[..name.len()].eq_ignore_ascii_case(name)
                        && line.ends_with(rest)
                }),
                "{name} {rest:?}"
            );
        }
    }
});
