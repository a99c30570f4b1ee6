//! The classification table: which provider answers mean what, with the exit status, the meaning
//! in words and the fix. It is data; `classify` (in the parent module) reads it, first match wins.
//! The comments above groups of rows name where the codes are documented.

use super::fix::Fix;
use crate::base::error::ExitStatus;

use ExitStatus::{Config, Reauthorize, Temporary};
use Key::{Aadsts, Code, CodeAt, CodeSaying};

/// Where an answer came from: the same code can need a different fix at another endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The client_credentials grant, or the code exchange.
    Token,
    /// The refresh_token grant (RFC 6749 section 6): the token endpoint asked to renew a login
    /// it issued.
    Refresh,
    /// The device authorization request (RFC 8628 section 3.1).
    DeviceAuthorization,
    /// A device access token poll (RFC 8628 section 3.4).
    DevicePoll,
    /// The authorization response the browser brought back.
    Redirect,
    /// A token revocation request (RFC 7009 section 2.1), for `--revoke`.
    Revocation,
    /// A dynamic client registration request (RFC 7591 section 3.1).
    Registration,
}

/// What an answer is matched on, most specific first.
#[derive(Clone, Copy, Debug)]
pub enum Key {
    /// Microsoft's AADSTS number.
    Aadsts(u32),
    /// An error code together with words in its description (Google reuses invalid_request).
    CodeSaying(&'static str, &'static str),
    /// The error code (OAuth2's, Google's API status, or Yahoo's errorId).
    Code(&'static str),
    /// A code at one endpoint only.
    CodeAt(&'static str, Endpoint),
}

/// One row of the classification table.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub key: Key,
    pub status: ExitStatus,
    /// What happened, in words, for the message.
    pub meaning: &'static str,
    pub fix: Fix,
}

const fn rule(key: Key, status: ExitStatus, meaning: &'static str, fix: Fix) -> Rule {
    Rule {
        key,
        status,
        meaning,
        fix,
    }
}

/// The classification table, first match wins. docs/providers.md ("When the provider says no")
/// lists every row, and tests/it/provider_answers.rs keeps it in step; the man page names the main
/// ones.
#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // Microsoft Entra: the AADSTS number decides (learn.microsoft.com, "Microsoft Entra
    // authentication and authorization error codes").
    rule(Aadsts(700082), Reauthorize, "Microsoft drops refresh tokens unused for 90 days", Fix::SignIn),
    rule(Aadsts(50173), Reauthorize, "the grant was revoked, for example after a password change", Fix::SignIn),
    rule(Aadsts(70043), Reauthorize, "the organisation's sign-in frequency policy requires a new sign-in", Fix::SignIn),
    rule(Aadsts(50076), Reauthorize, "multi-factor authentication is now required", Fix::SignIn),
    rule(Aadsts(50079), Reauthorize, "the account must register for multi-factor authentication", Fix::SignIn),
    rule(Aadsts(50078), Reauthorize, "the multi-factor authentication has expired", Fix::SignIn),
    rule(Aadsts(65001), Reauthorize, "the app has no consent for these permissions", Fix::SignInWithConsent),
    rule(Aadsts(65004), Reauthorize, "consent to the app was declined", Fix::SignInWithConsent),
    // "AdminConsentRequired - Administrator consent is required." and "AdminConsentRequiredRequestAccess
    // - ... the user is told they need to ask the admin for consent": a new sign-in fails the same
    // way until an administrator has consented.
    rule(Aadsts(90094), Config, "an administrator of the tenant must consent to the app first", Fix::AdminConsent),
    rule(Aadsts(90095), Config, "an administrator of the tenant must consent to the app first", Fix::AdminConsent),
    rule(Aadsts(70008), Reauthorize, "the refresh token or code has expired", Fix::SignIn),
    rule(Aadsts(54005), Reauthorize, "the authorization code was already used", Fix::SignIn),
    rule(Aadsts(700084), Reauthorize, "the refresh token has reached its maximum lifetime", Fix::SignIn),
    rule(Aadsts(900144), Config, "the request lacks a parameter the app registration needs", Fix::MissingParameter),
    rule(Aadsts(50011), Config, "the redirect URI is not registered for the app", Fix::Flag("--redirect-uri")),
    rule(Aadsts(500113), Config, "the app registration has no redirect URI", Fix::Flag("--redirect-uri")),
    rule(Aadsts(50059), Config, "the request names no tenant the app can be found in", Fix::Flag("--tenant")),
    rule(Aadsts(90002), Config, "the tenant does not exist", Fix::Flag("--tenant")),
    rule(Aadsts(900023), Config, "the tenant name is not valid", Fix::Flag("--tenant")),
    rule(Aadsts(700016), Config, "the app (client id) is not known in this tenant", Fix::Flag("--client-id")),
    rule(Aadsts(7000218), Config, "the app registration does not allow public client flows", Fix::AllowPublicClientFlows),
    rule(Aadsts(7000215), Config, "the client secret is wrong (the secret's id was given instead of its value?)", Fix::Flag("--client-secret")),
    rule(Aadsts(7000222), Config, "the client secret has expired", Fix::Flag("--client-secret")),
    rule(Aadsts(70011), Config, "the scope is not valid for this provider", Fix::Flag("--scope")),
    rule(Aadsts(50194), Config, "the app is single-tenant and cannot use the common endpoint", Fix::Flag("--tenant")),
    rule(Aadsts(50020), Config, "the account does not belong to this tenant", Fix::Flag("--tenant")),
    rule(Aadsts(90072), Config, "the account does not belong to this tenant", Fix::Flag("--tenant")),
    rule(Aadsts(500011), Config, "the resource named in the scope does not exist in this tenant", Fix::Flag("--scope")),
    rule(Aadsts(7000112), Config, "the app is disabled", Fix::Flag("--client-id")),
    rule(Aadsts(53003), Config, "access is blocked by a Conditional Access policy", Fix::Administrator),
    rule(Aadsts(50057), Config, "the account is disabled", Fix::Administrator),
    rule(Aadsts(90033), Temporary, "Microsoft reports a transient error", Fix::Later),
    rule(Aadsts(50196), Temporary, "Microsoft saw too many requests in a row", Fix::Later),
    // Google answers several registration mistakes with invalid_request and words.
    rule(CodeSaying("invalid_request", "client_secret is missing"), Config, "the client is confidential and no client secret was sent", Fix::Flag("--client-secret")),
    rule(CodeSaying("invalid_client", "client was not found"), Config, "the client id is not known to the provider", Fix::Flag("--client-id")),
    rule(CodeSaying("invalid_client", "unauthorized"), Config, "the client secret does not belong to the client id", Fix::Flag("--client-secret")),
    rule(CodeSaying("invalid_request", "refresh token parameter cannot be empty"), Reauthorize, "no refresh token reached the provider", Fix::SignIn),
    rule(CodeSaying("invalid_request", "redirect_uri"), Config, "the redirect URI is not accepted for this client", Fix::Flag("--redirect-uri")),
    // Google's device flow allows only a few scopes, and the Gmail scope is not one of them.
    rule(CodeAt("invalid_scope", Endpoint::DeviceAuthorization), Config, "the device flow does not allow this scope", Fix::Flag("--authflow")),
    // RFC 7591 section 3.2.2: the registration endpoint's refusals. glewlwyd answers a redirect it
    // does not take with invalid_redirect_uri ("a redirect_uri must be a 'https://' uri or a
    // 'http://localhost' uri without credentials", protocol_oidc.c); RFC 6750 section 3.1's
    // invalid_token is the answer of an endpoint that wants an initial access token.
    rule(CodeAt("invalid_redirect_uri", Endpoint::Registration), Config, "the provider does not register this redirect address", Fix::Flag("--redirect-uri")),
    rule(CodeAt("invalid_client_metadata", Endpoint::Registration), Config, "the provider does not register a client like mailtoken's", Fix::RegisterByHand),
    rule(CodeAt("invalid_software_statement", Endpoint::Registration), Config, "the provider wants a software statement mailtoken does not have", Fix::RegisterByHand),
    rule(CodeAt("unapproved_software_statement", Endpoint::Registration), Config, "the provider wants a software statement mailtoken does not have", Fix::RegisterByHand),
    rule(CodeAt("invalid_token", Endpoint::Registration), Config, "the provider registers clients only with an initial access token", Fix::RegisterByHand),
    // RFC 7009 section 2.2.1: the server cannot revoke this kind of token.
    rule(CodeAt("unsupported_token_type", Endpoint::Revocation), Config, "the provider does not revoke this kind of token", Fix::Registration),
    // RFC 6749 section 5.2 and 4.1.2.1, RFC 8628 section 3.5.
    rule(Code("invalid_grant"), Reauthorize, "the login has ended", Fix::SignIn),
    rule(Code("INVALID_REFRESH_TOKEN"), Reauthorize, "the refresh token is no longer valid", Fix::SignIn),
    rule(Code("INVALID_AUTHORIZATION_CODE"), Reauthorize, "the authorization code is no longer valid", Fix::SignIn),
    rule(Code("expired_token"), Reauthorize, "the device code expired before the sign-in was completed", Fix::SignIn),
    rule(Code("access_denied"), Reauthorize, "the sign-in was refused", Fix::SignInWithConsent),
    rule(Code("authorization_declined"), Reauthorize, "the sign-in was refused", Fix::SignInWithConsent),
    rule(Code("consent_required"), Reauthorize, "the app needs consent", Fix::SignInWithConsent),
    rule(Code("interaction_required"), Reauthorize, "the provider needs you to sign in interactively", Fix::SignIn),
    rule(Code("login_required"), Reauthorize, "the provider needs you to sign in", Fix::SignIn),
    rule(Code("invalid_client"), Config, "the provider does not accept the client id or secret", Fix::Flag("--client-id")),
    rule(Code("INVALID_CLIENT_SECRET"), Config, "the client secret is wrong", Fix::Flag("--client-secret")),
    rule(CodeSaying("INVALID_INPUT", "client id"), Config, "the client id is missing or wrong", Fix::Flag("--client-id")),
    rule(Code("INVALID_INPUT"), Config, "the provider refused the request as malformed", Fix::Registration),
    rule(Code("INVALID_CLIENT"), Config, "the provider does not accept the client id or secret", Fix::Flag("--client-id")),
    rule(CodeAt("unauthorized_client", Endpoint::DeviceAuthorization), Config, "the client may not use the device flow", Fix::Flag("--authflow")),
    rule(Code("unauthorized_client"), Config, "the client id and secret do not belong together, or the client may not use this grant", Fix::Flag("--client-id")),
    rule(Code("unsupported_grant_type"), Config, "the provider does not offer this flow to the client", Fix::Flag("--authflow")),
    rule(Code("unsupported_response_type"), Config, "the provider does not offer this flow to the client", Fix::Flag("--authflow")),
    rule(Code("invalid_scope"), Config, "the scope is not valid for this client", Fix::Flag("--scope")),
    rule(Code("redirect_uri_mismatch"), Config, "the redirect URI is not registered for the client", Fix::Flag("--redirect-uri")),
    rule(Code("invalid_tenant"), Config, "the tenant does not exist", Fix::Flag("--tenant")),
    rule(Code("admin_policy_enforced"), Config, "the organisation's administrator does not allow this app", Fix::Administrator),
    rule(Code("org_internal"), Config, "the app is limited to another organisation's users", Fix::Flag("--client-id")),
    rule(Code("invalid_request"), Config, "the provider refused the request as malformed", Fix::Registration),
    rule(Code("temporarily_unavailable"), Temporary, "the provider is temporarily unavailable", Fix::Later),
    rule(Code("server_error"), Temporary, "the provider had an internal error", Fix::Later),
    rule(Code("ACCESS_TOKEN_GENERATION_FAILED"), Temporary, "the provider failed to issue a token", Fix::Later),
];
