//! `--client-file`: Google's client JSON and Microsoft Entra app manifests, as anyone could hand
//! a user. Properties: never a panic; a file that reads has a client id and a kind, and its
//! permissions' resources are lower-case (they are compared with the known ids).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailtoken::testing::client_file::{ClientFile, parse};

fuzz_target!(|data: &[u8]| {
    match parse(data) {
        Ok(file) => {
            assert!(!file.client_id().is_empty());
            assert!(!file.kind().is_empty());
            if let ClientFile::Entra(app) = &file {
                for permission in &app.permissions {
                    assert_eq!(permission.resource, permission.resource.to_ascii_lowercase());
                }
            }
        }
        Err(why) => assert!(!why.is_empty()),
    }
});
