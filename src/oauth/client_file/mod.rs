//! `--client-file FILE`: the registration as the provider's console hands it to the user, read
//! instead of copied by hand. Two formats, each from its publisher's documentation:
//!
//! - `google`: the client JSON Google's Cloud console downloads (`client_secret_*.json`), an
//!   `installed` (Desktop app) or a `web` client.
//! - `entra`: a Microsoft Entra app registration as the portal's Manifest page and
//!   `az ad app show` export it (the Microsoft Graph application object), or the older Azure AD
//!   Graph manifest.
//!
//! Only what a sign-in needs is kept; every other member is ignored, so a newer export still
//! reads. Nothing here judges whether the registration will work: that is
//! `authorize::registration_check`, which needs the flow and the address too.

mod entra;
mod google;

pub use entra::{Audience, EntraApp, ManifestFormat, PermissionKind};
pub(crate) use entra::{EXCHANGE_ONLINE, MICROSOFT_GRAPH};
pub use google::{GoogleClient, GoogleKind};

use crate::base::error::{Error, Result};

/// The largest client file read. A Google client JSON is under 1 kB; a manifest with many
/// permissions and credentials a few tens of kB.
pub(crate) const MAX_CLIENT_FILE: u64 = 1024 * 1024;

/// One registration, as its provider describes it.
#[derive(Debug)]
pub enum ClientFile {
    Google(GoogleClient),
    Entra(Box<EntraApp>),
}

impl ClientFile {
    /// What the file is, in words, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientFile::Google(client) if client.kind == GoogleKind::Web => {
                "a Google \"Web application\" client"
            }
            ClientFile::Google(_) => "a Google \"Desktop app\" client",
            ClientFile::Entra(app) if app.format == ManifestFormat::AzureAdGraph => {
                "a Microsoft Entra app manifest (the older Azure AD Graph format)"
            }
            ClientFile::Entra(_) => "a Microsoft Entra app registration",
        }
    }

    /// The client id the file names.
    pub fn client_id(&self) -> &str {
        match self {
            ClientFile::Google(client) => &client.client_id,
            ClientFile::Entra(app) => &app.app_id,
        }
    }
}

/// Reads a client file's bytes: which format it is, then that format's members. `Err` says why
/// it is neither, in words that quote nothing of the file (a client file holds a secret).
pub fn parse(bytes: &[u8]) -> std::result::Result<ClientFile, String> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "it is not JSON (line {}, column {}); give the file exactly as the console \
             downloaded it",
            e.line(),
            e.column()
        )
    })?;
    let serde_json::Value::Object(members) = json else {
        return Err("it is not a JSON object".into());
    };
    // A manifest has a `web` member too (its Web redirects): its `appId` tells it apart.
    if entra::looks_like(&members) {
        return entra::read(&members).map(|app| ClientFile::Entra(Box::new(app)));
    }
    if members.contains_key("installed") || members.contains_key("web") {
        return google::read(&members).map(ClientFile::Google);
    }
    Err(
        "it is neither Google's client JSON (an \"installed\" or \"web\" member) nor a Microsoft \
         Entra app manifest (an \"appId\")"
            .into(),
    )
}

/// Reads `--client-file FILE`. A file that cannot be read or understood is a usage error: the
/// user gave it.
pub(crate) fn read(path: &std::path::Path) -> Result<ClientFile> {
    use std::io::Read;
    let shown = path.display();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(MAX_CLIENT_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| Error::usage(format!("cannot read the client file {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_CLIENT_FILE {
        return Err(Error::usage(format!(
            "the client file {shown} is larger than {MAX_CLIENT_FILE} bytes, so it is not a \
             client file"
        )));
    }
    parse(&bytes).map_err(|why| {
        Error::usage(format!("cannot use the client file {shown}: {why}")).hint(
            "--client-file takes Google's downloaded client JSON (client_secret_*.json) or a \
             Microsoft Entra app manifest (the portal's Manifest page, or az ad app show)",
        )
    })
}

/// A JSON string member, trimmed; `None` when absent, empty or not a string.
fn text(members: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    members
        .get(name)?
        .as_str()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

/// A JSON array of strings; other members of the array are skipped.
fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    value
        .and_then(serde_json::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
