//! The mail side's vocabulary: the protocols and endpoints mailtoken signs in to, the SASL
//! strings that carry a bearer token, and the mail clients `--print-config` knows.

pub(crate) mod autoconfig;
pub(crate) mod client;
pub(crate) mod mailserver;
pub(crate) mod sasl;
