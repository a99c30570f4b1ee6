//! Connections below OAuth and the mail servers: the one TLS configuration, failures said in
//! words, and MX lookups.

pub(crate) mod dns;
pub(crate) mod network;
pub(crate) mod tls;
