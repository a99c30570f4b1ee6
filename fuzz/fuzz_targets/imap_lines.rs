//! IMAP server lines: mailtoken's greeting and status readers, and the imap-proto parser the
//! imap crate runs on every response (a panic there would end `--test`).
#![no_main]

mod common;

use std::sync::Once;

use common::raw_lines;
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::login_test::parsers::{
    Kind, check_greeting, complete_line, imap_proto_cannot_read, status_word,
};

/// Lets libFuzzer report a stack overflow with its input. Its SIGSEGV handler runs on the
/// faulting thread's stack unless a sanitizer asked for another (it keeps only a sanitizer's
/// `SA_ONSTACK`), so an overflow, which imap-proto's recursive parsers can reach, killed the
/// handler too and the run ended with no artifact. libFuzzer installs the handler before the
/// first input, so the first input moves it onto a stack of its own.
fn report_stack_overflows() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        const SIZE: usize = 1 << 20;
        let stack = Box::leak(vec![0u8; SIZE].into_boxed_slice());
        // SAFETY: the alternate stack is leaked, so it outlives every signal; the handler
        // libFuzzer installed is kept, with one flag added.
        unsafe {
            let alternate = libc::stack_t {
                ss_sp: stack.as_mut_ptr().cast(),
                ss_flags: 0,
                ss_size: SIZE,
            };
            assert_eq!(libc::sigaltstack(&alternate, std::ptr::null_mut()), 0);
            let mut action: libc::sigaction = std::mem::zeroed();
            assert_eq!(libc::sigaction(libc::SIGSEGV, std::ptr::null(), &mut action), 0);
            action.sa_flags |= libc::SA_ONSTACK;
            assert_eq!(libc::sigaction(libc::SIGSEGV, &action, std::ptr::null_mut()), 0);
        }
    });
}

fuzz_target!(|data: &[u8]| {
    report_stack_overflows();
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
