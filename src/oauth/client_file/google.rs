//! Google's client JSON, as the Cloud console downloads it (`client_secret_*.json`).
//!
//! The format is documented in googleapis/google-api-python-client, `docs/client-secrets.md`:
//! one member, `installed` ("Installed application") or `web` ("Web application"), holding
//! `client_id`, `client_secret`, `redirect_uris`, `auth_uri` and `token_uri`. Today's downloads
//! add `project_id` and `auth_provider_x509_cert_url`, and a Desktop client's `redirect_uris` is
//! `["http://localhost"]` (tests/it/fixtures/client_files has both, with their sources).

use super::text;
use crate::base::secret::Secret;

/// Which kind of client the console made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GoogleKind {
    /// "Desktop app" (`installed`): any loopback port is accepted.
    Installed,
    /// "Web application" (`web`): only the exact redirect addresses registered.
    Web,
}

/// What a sign-in takes from the file.
#[derive(Debug)]
pub struct GoogleClient {
    pub kind: GoogleKind,
    pub client_id: String,
    /// Google's Desktop clients have a secret too (`GOCSPX-...`), which the token endpoint wants.
    pub client_secret: Option<Secret>,
    pub auth_uri: Option<String>,
    pub token_uri: Option<String>,
    pub project_id: Option<String>,
}

/// The `installed` or `web` member's contents.
pub(super) fn read(
    members: &serde_json::Map<String, serde_json::Value>,
) -> Result<GoogleClient, String> {
    let (kind, inner) = match (members.get("installed"), members.get("web")) {
        (Some(inner), None) => (GoogleKind::Installed, inner),
        (None, Some(inner)) => (GoogleKind::Web, inner),
        _ => return Err("it has both an \"installed\" and a \"web\" client".into()),
    };
    let serde_json::Value::Object(inner) = inner else {
        return Err("its client is not a JSON object".into());
    };
    let client_id =
        text(inner, "client_id").ok_or("its client has no \"client_id\" (a truncated file?)")?;
    Ok(GoogleClient {
        kind,
        client_id,
        client_secret: text(inner, "client_secret").map(Secret::new),
        auth_uri: text(inner, "auth_uri"),
        token_uri: text(inner, "token_uri"),
        project_id: text(inner, "project_id"),
    })
}
