//! What the tests, fuzz targets and benches reach, and nothing more: the crate is a binary's
//! library, so its modules are private and the compiler can tell when an item is used by nobody.
//! The names mirror the crate's own modules (`testing::tokenfile::TokenFile` is
//! `store::tokenfile::TokenFile`), so a test reads like the code it tests. Not an API: it changes
//! with the code, and nothing outside this repository should use it.

pub mod authorize {
    pub use crate::authorize::automatic_flow;
    pub mod listener {
        pub use crate::authorize::listener::{Head, MAX_REQUEST, parse_request_head};
    }
}

pub mod cli {
    pub use crate::cli::args::{Cli, documented_command};
}

pub mod autoconfig {
    pub use crate::mail::autoconfig::{Autoconfig, MAX_DOCUMENT, OAuth2, parse};
}

pub mod client_file {
    pub use crate::oauth::client_file::{
        Audience, ClientFile, EntraApp, GoogleClient, GoogleKind, ManifestFormat, PermissionKind,
        parse,
    };
}

pub mod credential {
    pub use crate::oauth::signing::Credential;
}

pub mod discovery {
    pub use crate::oauth::discovery::{Metadata, metadata_urls, same_issuer};
}

pub mod dns {
    pub use crate::net::dns::{Answer, NotOurs, mx_query, read_answer};
}

pub mod encryption {
    pub use crate::store::encryption::{
        Crypto, Detected, EncryptionOptions, EncryptionSpec, ReadWith, detect,
    };
}

pub mod error {
    pub use crate::base::error::{EXIT_STATUS_TABLE, ExitStatus};
}

pub mod grant {
    pub use crate::oauth::grant::{
        GrantFailure, MAX_DEVICE_CODE_LIFE, MAX_DEVICE_INTERVAL, TokenReply, device_code, granted,
    };
}

pub mod log {
    pub use crate::base::log::sanitize;
}

pub mod login_test {
    pub use crate::login_test::parsers;
}

pub mod mailserver {
    pub use crate::mail::mailserver::{MailEndpoint, Protocol};
}

pub mod paths {
    pub use crate::base::paths::{lock_path, shell_quote};
}

pub mod private_files {
    pub use crate::base::private_files::{my_uid, write_atomic};
}

pub mod redact {
    pub use crate::base::redact::{remember, scrub};
}

pub mod refresh_lock {
    pub use crate::base::refresh_lock::lock;
}

pub mod provider {
    pub use crate::oauth::provider::{
        ClientAuth, Cloud, PRESET_NAMES, Registration, is_loopback_url, preset,
    };
}

pub mod provider_answer {
    pub use crate::oauth::provider_answer::{
        Body, Endpoint, Key, ProviderAnswer, RULES, Situation, classify, into_error,
    };
}

pub mod sasl {
    pub use crate::mail::sasl::{NEOMUTT_TOKEN_LIMIT, SaslMethod};
}

pub mod secret {
    pub use crate::base::secret::Secret;
}

pub mod tokenfile {
    pub use crate::store::tokenfile::{FORMAT_VERSION, Flow, Schema, SignedIn, TokenFile, parse};
}
