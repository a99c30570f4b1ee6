//! The mail side's vocabulary: the protocols and endpoints mailtoken signs in to, and the SASL
//! strings that carry a bearer token.

pub(crate) mod autoconfig;
pub(crate) mod mailserver;
pub(crate) mod sasl;
