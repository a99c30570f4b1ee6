//! A client for a new account without one: when no flag, file or other account gives a client
//! id and the issuer's metadata names a registration endpoint, mailtoken registers itself there
//! (RFC 7591, `oauth::dynamic_registration`) as a public native client with this sign-in's
//! redirect and grants, says so, and signs in with it. The client id is stored with the account
//! (and the registration access token, encrypted with the tokens), so the next account at the
//! issuer is offered it by `reuse` like any other account's client.

use crate::base::error::{Error, Result};
use crate::base::log;
use crate::base::secret::Secret;
use crate::cli::settings::Settings;
use crate::oauth::dynamic_registration::{self, DynamicClient, Failure, Wanted};
use crate::oauth::http::{Http, HttpError};
use crate::oauth::provider::Registration;
use crate::oauth::provider_answer::{self, Endpoint, Situation};
use crate::store::tokenfile::{Flow, TokenFile};

/// `settings` with the registered client, and what to store of the registration; `None` when
/// the sign-in has a client or the provider offers no registration.
pub(super) fn register_if_needed(
    http: &Http,
    settings: &Settings,
    previous: Option<&TokenFile>,
    registration: &Registration,
    endpoint: Option<&dynamic_registration::Endpoint>,
    flow: Flow,
) -> Result<Option<(Settings, DynamicClient)>> {
    let has_client = settings.overrides.client_id.is_some()
        || previous.is_some_and(|previous| !previous.client_id.is_empty());
    let Some(dynamic_registration::Endpoint {
        url: endpoint,
        ask_for_none,
    }) = endpoint
    else {
        return Ok(None);
    };
    if has_client || flow == Flow::Clientcredentials {
        return Ok(None);
    }
    crate::oauth::provider::check_endpoint("registration endpoint", endpoint)?;
    let issuer = log::sanitize(
        registration
            .issuer
            .as_deref()
            .unwrap_or(&registration.provider),
    );
    let redirect = redirect_to_register(settings, registration);
    let grants: &[&str] = match flow {
        Flow::Devicecode => &[
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:device_code",
        ],
        _ => &["authorization_code", "refresh_token"],
    };
    let wanted = Wanted {
        redirect_uris: vec![redirect],
        grant_types: grants,
        scope: &registration.scope,
        ask_for_none: *ask_for_none,
    };
    let registered = dynamic_registration::register(http, endpoint, &wanted)
        .map_err(|failure| refused(failure, settings, registration, endpoint))?;
    log::say(format!(
        "mailtoken: no client id given, so mailtoken registered itself at {issuer} (RFC 7591 \
         dynamic registration{}): client id {}, {}; it is stored with this account, and the next \
         account at {issuer} is offered it",
        if registered.registered_again {
            ", the second time without token_endpoint_auth_method, as the first client could not \
             sign in"
        } else {
            ""
        },
        log::sanitize(&registered.client_id),
        if registered.client_secret.is_some() {
            "a confidential client with its own secret"
        } else {
            "a public client"
        }
    ));
    if registered.no_refresh {
        log::warn(format!(
            "{issuer} registered the client without the refresh_token grant: each access token \
             will need a new sign-in when it expires"
        ));
    }
    let mut settings = settings.clone();
    settings.overrides.client_id = Some(registered.client_id);
    settings.overrides.client_secret =
        Some(registered.client_secret.unwrap_or_else(Secret::default));
    Ok(Some((settings, registered.record)))
}

/// The redirect this sign-in will send: `--redirect-uri`, a fixed `--port` on the loopback
/// address (providers that match ports exactly), or the loopback address any port goes to
/// (RFC 8252 section 7.3), as `loopback` and `code` send it.
fn redirect_to_register(settings: &Settings, registration: &Registration) -> String {
    if let Some(uri) = &registration.redirect_uri {
        return uri.clone();
    }
    let base = super::code::default_loopback_redirect(&registration.provider);
    match settings.authorize.port {
        Some(port) => format!("{}:{port}/", base.trim_end_matches('/')),
        None => base.to_string(),
    }
}

/// A refusal, judged like every provider answer; an unusable client, said with its reason.
fn refused(
    failure: Failure,
    settings: &Settings,
    registration: &Registration,
    endpoint: &str,
) -> Error {
    let host = crate::oauth::provider::url_authority(endpoint);
    let command = super::choices::command_as_given();
    match failure {
        Failure::Http(HttpError::Answer(answer)) => provider_answer::into_error(
            &answer,
            Endpoint::Registration,
            &Situation {
                what: "client registration",
                host,
                provider: &registration.provider,
                authorize_command: &command,
                redirect_uri: None,
                login_exists: false,
            },
        ),
        Failure::Http(error @ (HttpError::Timeout(_) | HttpError::Connect(_))) => {
            Error::temporary(format!("cannot register a client at {host}: {error}"))
                .hint(provider_answer::later(false))
        }
        Failure::Http(error) => {
            Error::config(format!("cannot register a client at {host}: {error}")).hint(format!(
                "register a public client in the provider's console and run '{command} \
                 --client-id ID'"
            ))
        }
        Failure::Unusable(why) => Error::config(format!(
            "{host} registered a client that cannot sign in: {why}"
        ))
        .hint(format!(
            "register a public client (loopback redirect, no secret) in the provider's console \
             and run '{command} --client-id ID'{}",
            if settings.authorize.port.is_none() {
                "; a provider that matches redirect ports exactly needs --port N too"
            } else {
                ""
            }
        )),
    }
}
