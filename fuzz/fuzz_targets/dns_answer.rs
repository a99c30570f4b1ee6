//! The MX answer reader of the provider-from-the-address lookup (RFC 1035 section 4): any bytes a
//! resolver (or a forger) sends are read without panicking or looping, only an answer with our
//! transaction ID and question is believed, and every exchanger it yields is a host name that
//! can be printed and compared.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtoken::testing::dns::{Answer, NotOurs, mx_query, read_answer};

/// The names a query may have asked about: the seeds' questions, so the fuzzer starts past the
/// question check.
const NAMES: [&str; 4] = ["google.com", "example.com", "mail.example", "contoso.example"];

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the question; the rest is the answer, whose own ID is the query's.
    let Some((&choice, answer)) = data.split_first() else {
        return;
    };
    let id = match answer {
        [high, low, ..] => u16::from_be_bytes([*high, *low]),
        _ => 0,
    };
    let name = NAMES[usize::from(choice) % NAMES.len()];
    let query = mx_query(id, name).expect("a valid name");
    let read = read_answer(&query, answer);
    if let Ok(Answer::Exchangers(records)) = &read {
        assert!(records.is_sorted(), "most preferred first");
        for (_, host) in records {
            assert!(!host.is_empty() && host.len() <= 253, "{host:?}");
            for label in host.split('.') {
                assert!((1..=63).contains(&label.len()), "{host:?}");
                assert!(
                    label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'),
                    "{host:?}"
                );
            }
        }
    }
    // Another transaction's answer is never believed, whatever it says.
    let other = mx_query(id ^ 1, name).expect("a valid name");
    assert!(
        matches!(read_answer(&other, answer), Err(NotOurs::Stray)),
        "an answer with another ID"
    );
});
