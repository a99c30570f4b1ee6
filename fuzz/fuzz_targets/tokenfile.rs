//! The token file reader, both schemas: whatever the decrypted bytes are, parsing does not
//! panic, and a file that parses re-serialises to mailtoken's schema and parses to the same value.
#![no_main]

use chrono::TimeZone;
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::encryption::EncryptionSpec;
use mailtoken::testing::tokenfile::{self, Schema};

fuzz_target!(|data: &[u8]| {
    let unrecorded = || Ok(EncryptionSpec::Gpg { recipient: None });
    let Ok((file, schema)) = tokenfile::parse(data, unrecorded) else {
        return;
    };
    let json = file.to_json();
    let (again, again_schema) = tokenfile::parse(&json, || {
        panic!("a re-serialised file must record its encryption")
    })
    .unwrap_or_else(|e| {
        panic!(
            "re-serialised file does not parse ({e}): {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(again_schema, Schema::Mailtoken);
    assert_eq!(again.to_json(), json, "round trip changed the file");
    if schema == Schema::MuttOauth2 {
        assert_eq!(file.access_token_obtained, None);
    }
    // The freshness rules must take any recorded times without overflowing, at any time a real
    // clock can show.
    for now in [
        chrono::DateTime::UNIX_EPOCH,
        chrono::Utc::now(),
        chrono::Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).unwrap(),
    ] {
        let fresh = file.is_fresh(now);
        let expired = file.is_expired(now);
        assert!(
            !(fresh && expired),
            "a token cannot be fresh and expired at once"
        );
    }
});
