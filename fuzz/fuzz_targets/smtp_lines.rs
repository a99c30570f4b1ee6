//! SMTP replies (RFC 5321 section 4.2): reply lines as the SMTP login reads them, multi-line
//! replies with one code, and the EHLO AUTH line's mechanisms.
#![no_main]

mod common;

use common::raw_lines;
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::login_test::parsers::{auth_mechanisms, complete_line, smtp_line};

fuzz_target!(|data: &[u8]| {
    let mut texts = Vec::new();
    let mut code = None;
    for line in raw_lines(data).filter_map(complete_line) {
        let Some((this, last, text)) = smtp_line(&line) else {
            // Not SMTP: the login stops here.
            assert!(
                line.len() < 3
                    || !line.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                    || !(b'2'..=b'5').contains(&line.as_bytes()[0])
                    || !matches!(line.as_bytes().get(3), None | Some(b' ' | b'-')),
                "{line:?} was refused"
            );
            break;
        };
        assert!((200..=599).contains(&this), "{line:?}");
        assert!(line.starts_with(&this.to_string()));
        assert!(line.ends_with(text) && text.len() == line.len().saturating_sub(4));
        assert_eq!(last, line.as_bytes().get(3) != Some(&b'-'));
        if code.is_some_and(|code| code != this) {
            break;
        }
        code = Some(this);
        texts.push(text.to_string());
        if last {
            break;
        }
    }
    let mechanisms = auth_mechanisms(&texts);
    for (i, mechanism) in mechanisms.iter().enumerate() {
        assert!(!mechanism.is_empty() && !mechanism.contains(char::is_whitespace));
        assert!(texts.iter().any(|text| text.contains(mechanism.as_str())));
        assert!(
            !mechanisms[..i]
                .iter()
                .any(|m| m.eq_ignore_ascii_case(mechanism)),
            "{mechanisms:?}"
        );
    }
});
