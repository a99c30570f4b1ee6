//! Token-endpoint requests built by hand, for what oauth2 cannot send for us: the device grant's
//! single polls, RFC 7009 revocation, and the JWT grants whose client authentication is in the
//! form itself.

use base64::Engine;
use oauth2::url::form_urlencoded;

use crate::base::error::Error;
use crate::base::secret::Secret;
use crate::oauth::provider::{ClientAuth, Registration};

/// A form POST to a provider endpoint that oauth2 cannot send for us (a single device-grant poll,
/// since the polling loop is ours, and RFC 7009 revocation), with the client authenticated as
/// oauth2 authenticates it for the other grants: HTTP Basic, or the client id (and secret) as
/// form fields (RFC 6749 section 2.3.1). The body holds secrets; callers never log it.
pub(crate) fn client_post(
    url: &str,
    registration: &Registration,
    client_id: &str,
    client_secret: Option<&Secret>,
    fields: &[(&str, &str)],
) -> Result<oauth2::HttpRequest, Error> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        form.append_pair(name, value);
    }
    let mut builder = oauth2::http::Request::post(url)
        .header(oauth2::http::header::ACCEPT, "application/json")
        .header(
            oauth2::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        );
    // A public client (empty secret) sends none, as in token_client.
    let secret = client_secret.filter(|secret| !secret.is_empty());
    match (registration.client_auth, secret) {
        (ClientAuth::ClientSecretBasic, Some(secret)) => {
            // RFC 6749 section 2.3.1: both parts form-encoded before base64.
            let encode =
                |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
            let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                encode(client_id),
                encode(secret.expose())
            ));
            builder = builder.header(
                oauth2::http::header::AUTHORIZATION,
                format!("Basic {credentials}"),
            );
        }
        (_, secret) => {
            form.append_pair("client_id", client_id);
            if let Some(secret) = secret {
                form.append_pair("client_secret", secret.expose());
            }
        }
    }
    let body = Secret::new(form.finish());
    builder
        .body(body.expose().as_bytes().to_vec())
        .map_err(|e| Error::config(format!("cannot build the request to {url:?}: {e}")))
}

/// A form POST with exactly `fields`, for requests whose client authentication is in them (the
/// JWT bearer grant, client assertions). The body holds secrets; callers never log it.
pub(super) fn form_post(url: &str, fields: &[(&str, &str)]) -> Result<oauth2::HttpRequest, Error> {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in fields {
        form.append_pair(name, value);
    }
    let body = Secret::new(form.finish());
    oauth2::http::Request::post(url)
        .header(oauth2::http::header::ACCEPT, "application/json")
        .header(
            oauth2::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body.expose().as_bytes().to_vec())
        .map_err(|e| Error::config(format!("cannot build the request to {url:?}: {e}")))
}
