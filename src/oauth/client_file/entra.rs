//! A Microsoft Entra app registration, as the portal's Manifest page shows it and
//! `az ad app show` prints it.
//!
//! Two formats, both documented by Microsoft (entra-docs, `reference-microsoft-graph-app-manifest.md`
//! and `azure-active-directory-graph-app-manifest-deprecation.md`): the Microsoft Graph
//! `application` object, which the portal has shown since 2024 ("the same JSON object you see in
//! App Registration manifest page"), and the older Azure AD Graph manifest, still shown for apps
//! registered with a personal account ("If an app manifest has the attribute
//! `replyUrlsWithType`, then it is in Azure AD Graph format"). The renames between them are
//! Microsoft's table: `allowPublicClient` is `isFallbackPublicClient`, `replyUrlsWithType` became
//! the `redirectUris` of `web`, `spa` and `publicClient`, `name` is `displayName`.

use super::text;

/// Which manifest format the file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestFormat {
    MicrosoftGraph,
    AzureAdGraph,
}

/// `signInAudience`: who may sign in to the app (Microsoft's four values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// `AzureADMyOrg`: work or school accounts of the app's own tenant (single tenant).
    MyOrg,
    /// `AzureADMultipleOrgs`: work or school accounts of any tenant.
    MultipleOrgs,
    /// `AzureADandPersonalMicrosoftAccount`: any work, school or personal account.
    OrgsAndPersonal,
    /// `PersonalMicrosoftAccount`: personal accounts only.
    PersonalOnly,
    /// A value Microsoft's documentation does not list, kept to be shown.
    Other(String),
}

impl Audience {
    fn from_manifest(value: &str) -> Audience {
        match value {
            "AzureADMyOrg" => Audience::MyOrg,
            "AzureADMultipleOrgs" => Audience::MultipleOrgs,
            "AzureADandPersonalMicrosoftAccount" => Audience::OrgsAndPersonal,
            "PersonalMicrosoftAccount" => Audience::PersonalOnly,
            other => Audience::Other(crate::base::log::sanitize(other)),
        }
    }

    /// The manifest's spelling.
    pub fn name(&self) -> &str {
        match self {
            Audience::MyOrg => "AzureADMyOrg",
            Audience::MultipleOrgs => "AzureADMultipleOrgs",
            Audience::OrgsAndPersonal => "AzureADandPersonalMicrosoftAccount",
            Audience::PersonalOnly => "PersonalMicrosoftAccount",
            Audience::Other(other) => other,
        }
    }

    /// Whether work or school accounts may sign in.
    pub(crate) fn takes_work_accounts(&self) -> bool {
        !matches!(self, Audience::PersonalOnly)
    }

    /// Whether personal Microsoft accounts may sign in.
    pub(crate) fn takes_personal_accounts(&self) -> bool {
        matches!(self, Audience::OrgsAndPersonal | Audience::PersonalOnly)
    }
}

/// Delegated (`Scope`) or application (`Role`) permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PermissionKind {
    Delegated,
    Application,
}

/// One entry of `requiredResourceAccess`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    /// The resource's application id (Microsoft Graph, Office 365 Exchange Online, ...).
    pub resource: String,
    pub id: String,
    pub kind: PermissionKind,
}

/// Office 365 Exchange Online's application id (Microsoft's Purview and hybrid modern
/// authentication documentation name it).
pub(crate) const EXCHANGE_ONLINE: &str = "00000002-0000-0ff1-ce00-000000000000";

/// Microsoft Graph's application id.
pub(crate) const MICROSOFT_GRAPH: &str = "00000003-0000-0000-c000-000000000000";

/// The delegated permissions a mail sign-in needs, by id. The ids are those public scripts and
/// Microsoft Graph permission lists agree on (third-party copies; Microsoft's permission
/// reference was not at hand), so a permission not found here only ever makes a warning.
const KNOWN: &[(&str, &str)] = &[
    ("7427e0e9-2fba-42fe-b0c0-848c9e6a8182", "offline_access"),
    (
        "652390e4-393a-48de-9484-05f9b1212954",
        "IMAP.AccessAsUser.All",
    ),
    (
        "d7b7f2d9-0f45-4ea1-9d42-e50810c06991",
        "POP.AccessAsUser.All",
    ),
    ("258f6531-6087-4cc4-bb90-092c5fb3ed3f", "SMTP.Send"),
    ("37f7f235-527c-4136-accd-4a02d197296e", "openid"),
    ("14dad69e-099b-42c9-810b-d002981feec1", "profile"),
    ("64a6cdd6-aab1-4aaf-94b8-3cc8405e90d0", "email"),
    ("e1fe6dd8-ba31-4d61-89e7-88639da4683d", "User.Read"),
];

impl Permission {
    /// The permission's name, when it is one a mail sign-in knows.
    pub(crate) fn name(&self) -> Option<&'static str> {
        KNOWN
            .iter()
            .find(|(id, _)| id.eq_ignore_ascii_case(&self.id))
            .map(|(_, name)| *name)
    }
}

/// What a sign-in and the administrator's request take from the registration.
#[derive(Debug)]
pub struct EntraApp {
    pub format: ManifestFormat,
    /// The application (client) id.
    pub app_id: String,
    pub display_name: Option<String>,
    pub audience: Option<Audience>,
    /// The tenant's verified domain the app was registered in (`contoso.onmicrosoft.com`).
    pub publisher_domain: Option<String>,
    /// "Mobile and desktop applications" redirects: a public client's.
    pub public_client_redirects: Vec<String>,
    /// "Web" redirects: Entra treats an app with only these as confidential.
    pub web_redirects: Vec<String>,
    pub spa_redirects: Vec<String>,
    /// "Allow public client flows" (`isFallbackPublicClient`, formerly `allowPublicClient`);
    /// `None` when the manifest leaves it out (Microsoft's default is false).
    pub public_client_flows: Option<bool>,
    /// Whether the app has client secrets (`passwordCredentials`; the manifest shows only hints).
    pub has_secrets: bool,
    /// Whether the app has certificates (`keyCredentials`).
    pub has_certificates: bool,
    pub permissions: Vec<Permission>,
}

/// Whether a JSON object looks like an app manifest.
pub(super) fn looks_like(members: &serde_json::Map<String, serde_json::Value>) -> bool {
    members.contains_key("appId")
}

pub(super) fn read(
    members: &serde_json::Map<String, serde_json::Value>,
) -> Result<EntraApp, String> {
    let app_id = text(members, "appId").ok_or("its \"appId\" is empty")?;
    let old = [
        "replyUrlsWithType",
        "allowPublicClient",
        "availableToOtherTenants",
        "replyUrls",
    ]
    .iter()
    .any(|name| members.contains_key(*name));
    let format = if old {
        ManifestFormat::AzureAdGraph
    } else {
        ManifestFormat::MicrosoftGraph
    };
    let nested =
        |outer: &str| super::strings(members.get(outer).and_then(|o| o.get("redirectUris")));
    let mut app = EntraApp {
        format,
        app_id,
        display_name: text(members, "displayName").or_else(|| text(members, "name")),
        audience: text(members, "signInAudience").map(|value| Audience::from_manifest(&value)),
        publisher_domain: text(members, "publisherDomain"),
        public_client_redirects: nested("publicClient"),
        web_redirects: nested("web"),
        spa_redirects: nested("spa"),
        public_client_flows: flag(members.get("isFallbackPublicClient"))
            .or_else(|| flag(members.get("allowPublicClient"))),
        has_secrets: non_empty(members.get("passwordCredentials")),
        has_certificates: non_empty(members.get("keyCredentials")),
        permissions: permissions(members.get("requiredResourceAccess")),
    };
    if format == ManifestFormat::AzureAdGraph {
        read_old_redirects(members, &mut app);
        if app.audience.is_none() {
            // The Azure AD Graph era's CLI printed `availableToOtherTenants` (Microsoft's
            // OpenShift guide shows `az ad app create` with it) instead of an audience.
            app.audience = match members.get("availableToOtherTenants") {
                Some(serde_json::Value::Bool(false)) => Some(Audience::MyOrg),
                Some(serde_json::Value::Bool(true)) => Some(Audience::MultipleOrgs),
                _ => None,
            };
        }
    }
    Ok(app)
}

/// `replyUrlsWithType` (`InstalledClient`, `Web`, `Spa`) and the even older `replyUrls`.
fn read_old_redirects(members: &serde_json::Map<String, serde_json::Value>, app: &mut EntraApp) {
    for entry in members
        .get("replyUrlsWithType")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(url) = entry.get("url").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let list = match entry.get("type").and_then(serde_json::Value::as_str) {
            Some("InstalledClient") => &mut app.public_client_redirects,
            Some("Spa") => &mut app.spa_redirects,
            _ => &mut app.web_redirects,
        };
        list.push(url.to_string());
    }
    app.web_redirects
        .extend(super::strings(members.get("replyUrls")));
}

/// A boolean the manifest writes as `true` or, in Microsoft's own example, as `"true"`.
fn flag(value: Option<&serde_json::Value>) -> Option<bool> {
    match value? {
        serde_json::Value::Bool(flag) => Some(*flag),
        serde_json::Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn non_empty(value: Option<&serde_json::Value>) -> bool {
    value
        .and_then(serde_json::Value::as_array)
        .is_some_and(|items| !items.is_empty())
}

/// `requiredResourceAccess`: per resource, the permissions asked for.
fn permissions(value: Option<&serde_json::Value>) -> Vec<Permission> {
    let mut found = Vec::new();
    for resource in value
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(app) = resource
            .get("resourceAppId")
            .and_then(serde_json::Value::as_str)
        else {
            continue;
        };
        for access in resource
            .get("resourceAccess")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(id) = access.get("id").and_then(serde_json::Value::as_str) else {
                continue;
            };
            let kind = match access.get("type").and_then(serde_json::Value::as_str) {
                Some("Role") => PermissionKind::Application,
                _ => PermissionKind::Delegated,
            };
            found.push(Permission {
                resource: app.to_ascii_lowercase(),
                id: id.to_ascii_lowercase(),
                kind,
            });
        }
    }
    found
}
