//! Talking to the authorization server: registrations and presets, endpoint discovery, token
//! requests and the judging of their answers, who a token response says signed in (`id_token`),
//! and the credentials that sign instead of a secret.

pub(crate) mod client_file;
pub(crate) mod discovery;
pub(crate) mod dynamic_registration;
pub(crate) mod grant;
pub(crate) mod http;
pub(crate) mod id_token;
pub(crate) mod provider;
pub(crate) mod provider_answer;
pub(crate) mod signing;
