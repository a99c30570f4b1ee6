//! The flags that replace values a token file stores, applied in one place.

use super::contents::TokenFile;
use crate::base::secret::Secret;
use crate::mail::mailserver::MailEndpoint;
use crate::mail::sasl::SaslMethod;
use crate::oauth::provider::Registration;

/// Values given on the command line that replace those the file stores, for one run. Only a
/// sign-in records them (`authorize` builds the new file from them); every other run applies the
/// client values, the token endpoint, the SASL method and the mail servers to what it sends,
/// prints or tests, and never writes them: a refresh stores the new tokens and nothing else.
#[derive(Clone, Debug, Default)]
pub(crate) struct Overrides {
    pub email: Option<String>,
    /// `--mailbox`; empty removes the stored one.
    pub mailbox: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub provider: Option<String>,
    pub tenant: Option<String>,
    pub issuer: Option<String>,
    pub authorize_endpoint: Option<String>,
    /// `--token-endpoint`: also how a mutt_oauth2.py file, which records only a provider name, is
    /// pointed at another endpoint for one run (`--authorize` records it).
    pub token_endpoint: Option<String>,
    pub devicecode_endpoint: Option<String>,
    pub scope: Option<String>,
    pub redirect_uri: Option<String>,
    pub sasl_method: Option<SaslMethod>,
    pub imap_endpoint: Option<MailEndpoint>,
    pub pop_endpoint: Option<MailEndpoint>,
    pub smtp_endpoint: Option<MailEndpoint>,
}

impl Overrides {
    /// The client values and the token endpoint, over a copy of a stored token set that is used
    /// for one run and never stored.
    pub(crate) fn apply_to_client(&self, token: &mut TokenFile) {
        if let Some(email) = &self.email {
            token.email = email.clone();
        }
        if let Some(mailbox) = &self.mailbox {
            token.mailbox = Some(mailbox.clone()).filter(|m| !m.is_empty());
        }
        if let Some(id) = &self.client_id {
            token.client_id = id.clone();
        }
        if let Some(secret) = &self.client_secret {
            token.client_secret = Some(secret.clone()).filter(|s| !s.is_empty());
        }
        if let Some(endpoint) = &self.token_endpoint {
            token.registration.token_endpoint = endpoint.clone();
        }
    }

    /// Every registration value given, over `registration` (the provider, tenant and issuer
    /// choose the registration itself: see `authorize::registration`).
    pub(crate) fn apply_to_registration(&self, registration: &mut Registration) {
        let set = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(value) = value {
                *field = Some(value.clone());
            }
        };
        set(
            &mut registration.authorize_endpoint,
            &self.authorize_endpoint,
        );
        set(
            &mut registration.devicecode_endpoint,
            &self.devicecode_endpoint,
        );
        set(&mut registration.redirect_uri, &self.redirect_uri);
        if let Some(token_endpoint) = &self.token_endpoint {
            registration.token_endpoint = token_endpoint.clone();
        }
        if let Some(scope) = &self.scope {
            registration.scope = scope.clone();
        }
        if let Some(method) = self.sasl_method {
            registration.sasl_method = method;
        }
        for (field, value) in [
            (&mut registration.imap_endpoint, &self.imap_endpoint),
            (&mut registration.pop_endpoint, &self.pop_endpoint),
            (&mut registration.smtp_endpoint, &self.smtp_endpoint),
        ] {
            if let Some(endpoint) = value {
                *field = Some(endpoint.clone());
            }
        }
    }

    /// The registration this run uses for its SASL strings and mail logins: the stored one with
    /// the flags on top. Nothing is stored.
    pub(crate) fn registration_for_this_run(&self, stored: &Registration) -> Registration {
        let mut registration = stored.clone();
        self.apply_to_registration(&mut registration);
        registration
    }
}
