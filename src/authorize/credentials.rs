//! A sign-in with a signing key (`--service-account`, `--client-certificate`): the key file is
//! read once (the user's own, private, or exit 78) and kept inside the token file; a re-sign-in
//! without the flag keeps the stored key. The key decides the rest: no user, so the
//! clientcredentials flow, renewed by a new assertion each time; no client secret; for a
//! service account the Google preset at the key's `token_uri`, the client being the account.

use crate::base::error::{Error, Result};
use crate::base::secret::Secret;
use crate::cli::settings::Settings;
use crate::oauth::signing::{self, Credential};
use crate::store::tokenfile::{Flow, TokenFile};

/// The signing credential of this sign-in: the flags', else the previous file's.
pub(super) fn signing(
    settings: &Settings,
    previous: Option<&TokenFile>,
) -> Result<Option<Credential>> {
    let options = &settings.authorize;
    if let Some(path) = &options.service_account {
        return signing::read_service_account(path).map(Some);
    }
    if let Some(path) = &options.client_certificate {
        return signing::read_certificate(path).map(Some);
    }
    // A new secret given for an account that signed with a key replaces the key.
    if settings.overrides.client_secret.is_some() {
        return Ok(None);
    }
    Ok(previous.and_then(|previous| previous.credential.clone()))
}

/// `settings` as the credential implies them.
pub(super) fn implied(
    settings: &Settings,
    credential: &Credential,
    previous: Option<&TokenFile>,
) -> Result<Settings> {
    let mut settings = settings.clone();
    match settings.authorize.flow {
        None | Some(Flow::Clientcredentials) => {}
        Some(other) => {
            return Err(Error::usage(format!(
                "a signing key ({}) is for accounts without a user, and --authflow {} signs a \
                 user in",
                flag(credential),
                other.name()
            ))
            .hint("leave out --authflow: the clientcredentials flow is the only one"));
        }
    }
    settings.authorize.flow = Some(Flow::Clientcredentials);
    // No secret: the signature is the client's proof.
    settings.overrides.client_secret = Some(Secret::default());
    if let Credential::ServiceAccount {
        client_email,
        token_uri,
        ..
    } = credential
    {
        let known = previous.is_some_and(|previous| !previous.email.is_empty());
        if settings.overrides.email.is_none() && !known {
            return Err(Error::usage(
                "--service-account acts for a mailbox, and no --email names it",
            )
            .hint("pass --email MAILBOX: the user the service account signs in as (domain-wide delegation)"));
        }
        let flags = &mut settings.overrides;
        if flags.provider.is_none() && flags.issuer.is_none() && flags.token_endpoint.is_none() {
            flags.provider = Some("google".into());
        }
        if flags.token_endpoint.is_none() && flags.issuer.is_none() {
            flags.token_endpoint = Some(token_uri.clone());
        }
        if flags.client_id.is_none() {
            flags.client_id = Some(client_email.clone());
        }
    }
    Ok(settings)
}

fn flag(credential: &Credential) -> &'static str {
    match credential {
        Credential::ServiceAccount { .. } => "--service-account",
        Credential::Certificate { .. } => "--client-certificate",
    }
}
