//! The loopback listener's request-head parser (RFC 9112 section 2.1): it never needs more than
//! MAX_REQUEST bytes to decide, only a well-formed HTTP/1.x request line reaches the caller, and
//! bytes after the head (how the browser's packets fall) do not change the decision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtoken::testing::authorize::listener::{Head, MAX_REQUEST, parse_request_head};

fuzz_target!(|data: &[u8]| {
    // The last byte chooses where the head is cut, as a read of any size might cut it.
    let Some((&cut, data)) = data.split_last() else {
        return;
    };
    let head = parse_request_head(data);
    let end = data.windows(4).position(|w| w == b"\r\n\r\n");
    match &head {
        Head::Incomplete => assert!(end.is_none() && data.len() <= MAX_REQUEST),
        Head::TooLarge => {
            assert!(end.is_none_or(|end| end > MAX_REQUEST) && data.len() > MAX_REQUEST)
        }
        Head::Malformed => assert!(end.is_some_and(|end| end <= MAX_REQUEST)),
        Head::Request { method, target } => {
            let end = end.expect("a request has a complete head");
            assert!(end <= MAX_REQUEST);
            assert!(!method.is_empty());
            assert!(!method.contains(' ') && !target.contains(' '));
            assert!(!method.contains("\r\n") && !target.contains("\r\n"));
            let line = format!("{method} {target} HTTP/1.");
            assert!(data.starts_with(line.as_bytes()), "{line:?}");
        }
    }
    // A decided head stays decided, whatever follows it.
    if matches!(head, Head::Request { .. } | Head::Malformed) {
        let mut more = data.to_vec();
        more.extend_from_slice(&data[..usize::from(cut).min(data.len())]);
        assert_eq!(parse_request_head(&more), head);
    }
    // And an incomplete head never turns malformed or into a request by losing bytes.
    if let Head::Request { .. } = head {
        let prefix = &data[..usize::from(cut).min(data.len())];
        assert!(
            matches!(parse_request_head(prefix), Head::Incomplete)
                || parse_request_head(prefix) == head
        );
    }
});
