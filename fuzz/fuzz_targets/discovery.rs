//! Authorization server metadata (RFC 8414) and the issuer it is fetched for: the metadata URLs
//! are the two well-known documents of an https (or loopback http) issuer, and a document is
//! accepted only for its own issuer.
//!
//! Input: `ISSUER\nDOCUMENT`.
#![no_main]

mod common;

use common::fields;
use libfuzzer_sys::fuzz_target;
use mailtoken::testing::discovery::{Metadata, metadata_urls, same_issuer};

fuzz_target!(|data: &[u8]| {
    let ([issuer], document) = fields::<1>(data);
    let issuer = String::from_utf8_lossy(issuer);
    if let Ok(urls) = metadata_urls(&issuer) {
        for url in &urls {
            let parsed = oauth2::url::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(
                parsed.scheme() == "https"
                    || (parsed.scheme() == "http" && mailtoken::testing::provider::is_loopback_url(&parsed)),
                "{url}"
            );
            assert!(url.contains("/.well-known/"), "{url}");
            assert!(
                parsed.query().is_none() && parsed.fragment().is_none(),
                "{url}"
            );
        }
    }
    if let Ok(metadata) = serde_json::from_slice::<Metadata>(document) {
        assert!(same_issuer(&metadata.issuer, &metadata.issuer));
        assert_eq!(
            same_issuer(&metadata.issuer, &issuer),
            same_issuer(&issuer, &metadata.issuer)
        );
        if same_issuer(&metadata.issuer, &issuer) {
            assert_eq!(
                metadata.issuer.trim_end_matches('/'),
                issuer.trim_end_matches('/')
            );
        }
    }
});
