//! What the user has to do about a provider's answer, in words: the hint under the error, naming
//! the command that signs the account in again and the flag to change.

use super::answer::ProviderAnswer;

/// What the user has to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    /// Sign in again: the login is gone, a new one will work.
    SignIn,
    /// Sign in again, and an administrator may have to consent first.
    SignInWithConsent,
    /// Nothing now: try again later.
    Later,
    /// Change this flag (with `--authorize`), because signing in as before fails the same way.
    Flag(&'static str),
    /// The missing parameter named in the description decides the flag (AADSTS900144).
    MissingParameter,
    /// Microsoft: the app registration must allow public client flows.
    AllowPublicClientFlows,
    /// The provider's administrator (or account settings) must change something.
    Administrator,
    /// A Microsoft tenant's administrator must consent to the app (`--admin-request` says how).
    AdminConsent,
    /// Something in the registration is wrong and the answer does not say what.
    Registration,
    /// Dynamic registration is refused: a client must be registered by hand.
    RegisterByHand,
}

/// "Try again later", and that the login is unharmed where there is one: a first sign-in that
/// cannot reach the provider has no login yet.
pub(crate) fn later(login_exists: bool) -> &'static str {
    if login_exists {
        "try again later; the login itself is fine"
    } else {
        "try again later; nothing was signed in or stored yet"
    }
}

/// What the hints need to know about the account and the attempt.
pub struct Situation<'a> {
    /// What was sent: "refresh token", "authorization code", "device authorization".
    pub what: &'a str,
    /// Who answered.
    pub host: &'a str,
    /// The provider preset or custom name ("microsoft", "google", ...).
    pub provider: &'a str,
    /// The command that signs this account in again, with the flags the user gave.
    pub authorize_command: &'a str,
    /// The redirect URI sent, for AADSTS50011 and redirect_uri_mismatch.
    pub redirect_uri: Option<&'a str>,
    /// Whether a working login exists that the failure leaves as it was (not for a first
    /// sign-in).
    pub login_exists: bool,
}

/// The hint for a verdict: the command to run, and what to change first.
pub(super) fn hint(answer: &ProviderAnswer, fix: Fix, situation: &Situation) -> String {
    let command = situation.authorize_command;
    let why = reason_in_words(answer, situation.provider);
    match fix {
        Fix::SignIn => format!("run '{command}' to sign in again{why}"),
        Fix::SignInWithConsent if situation.provider == "microsoft" => format!(
            "run '{command}' and grant access; in an organisation an administrator may have to \
             consent to the app first: '{}' prints what to send them{why}",
            admin_request_command(command)
        ),
        Fix::SignInWithConsent => format!(
            "run '{command}' and grant access; in an organisation an administrator may have to \
             consent to the app first{why}"
        ),
        Fix::AdminConsent => format!(
            "'{}' prints what to send the tenant's administrator (the app, its permissions and \
             the admin-consent address); once they have consented, run '{command}'",
            admin_request_command(command)
        ),
        Fix::Later => later(situation.login_exists).to_string(),
        Fix::Administrator => format!(
            "ask the account's administrator to allow this app, or use another --client-id \
             with '{command}'"
        ),
        Fix::AllowPublicClientFlows => format!(
            "in the Azure portal, open the app registration, Authentication, and set \"Allow \
             public client flows\" to Yes; or give the app's secret with --client-secret-file FILE and run \
             '{command}'"
        ),
        Fix::Registration => format!(
            "check the registration (--client-id, --scope, --redirect-uri, the endpoints) and run \
             '{command}'; --debug shows the whole exchange"
        ),
        Fix::RegisterByHand => format!(
            "register a public client (loopback redirect, no secret) in the provider's console \
             and run '{command} --client-id ID'"
        ),
        Fix::MissingParameter => {
            let flag = missing_parameter_flag(answer.description.as_deref().unwrap_or(""));
            flag_hint(flag, command, situation)
        }
        Fix::Flag(flag) => flag_hint(flag, command, situation),
    }
}

/// The `--admin-request` command of the same account (or the same flags, for a first sign-in):
/// the sign-in command with `--authorize` swapped, since every flag of a sign-in applies to it.
fn admin_request_command(authorize_command: &str) -> String {
    let words: Vec<&str> = authorize_command.split(' ').collect();
    match words
        .iter()
        .position(|word| *word == "--authorize" || *word == "-a")
    {
        Some(index) => {
            let mut words = words;
            words[index] = "--admin-request";
            words.join(" ")
        }
        None => format!("{authorize_command} --admin-request"),
    }
}

fn flag_hint(flag: &str, command: &str, situation: &Situation) -> String {
    match flag {
        "--client-secret" => format!(
            "give the app's client secret (its value, not its id) in a file: '{command} \
             --client-secret-file FILE' (or set MAILTOKEN_CLIENT_SECRET)"
        ),
        "--redirect-uri" => {
            let sent = situation
                .redirect_uri
                .map(|uri| format!(" mailtoken sent {uri};"))
                .unwrap_or_default();
            format!(
                "register the redirect URI with the app, or pass the registered one with \
                 --redirect-uri:{sent} run '{command} --redirect-uri URI'"
            )
        }
        "--tenant" => format!(
            "pass the tenant the app and the account belong to: '{command} --tenant \
             TENANT' (a tenant id, a domain, organizations or consumers)"
        ),
        "--authflow" if situation.provider == "google" => format!(
            "Google's device flow does not allow the Gmail scope: run '{command} --authflow \
             localhostauthcode' (or authcode)"
        ),
        "--authflow" => format!(
            "choose a flow the client is registered for: '{command} --authflow \
             localhostauthcode|authcode|devicecode'"
        ),
        "--token-endpoint" => format!(
            "check the endpoint addresses (--token-endpoint, or --issuer) and run '{command}'"
        ),
        other => format!("check {other} and run '{command} {other} ...'"),
    }
}

/// AADSTS900144 names the parameter: "The request body must contain the following parameter:
/// 'client_id'."
fn missing_parameter_flag(description: &str) -> &'static str {
    let parameter = description
        .split('\'')
        .nth(1)
        .unwrap_or("")
        .to_ascii_lowercase();
    match parameter.as_str() {
        "client_secret" | "client_assertion" => "--client-secret",
        "scope" => "--scope",
        "redirect_uri" => "--redirect-uri",
        // The v1 endpoint wants `code` where v2 takes `device_code`: the endpoint is wrong.
        "code" | "device_code" => "--token-endpoint",
        _ => "--client-id",
    }
}

/// The known reasons a login of this provider ends, for the "sign in again" hint.
fn reason_in_words(answer: &ProviderAnswer, provider: &str) -> &'static str {
    if answer.error.as_deref() != Some("invalid_grant") || answer.aadsts.is_some() {
        return "";
    }
    match provider {
        "google" => {
            "; Google ends a login when access is revoked or the password changes, and after 7 \
             days for apps in Testing status (publish the app to keep logins)"
        }
        "microsoft" => {
            "; Microsoft ends a login unused for 90 days, and after a password change or an \
             administrator's revocation"
        }
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_parameter_names_the_flag() {
        assert_eq!(
            missing_parameter_flag(
                "AADSTS900144: The request body must contain the following parameter: 'scope'."
            ),
            "--scope"
        );
        assert_eq!(missing_parameter_flag("nothing quoted"), "--client-id");
    }
}
