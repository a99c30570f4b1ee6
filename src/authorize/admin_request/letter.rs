//! The request's words: the letter the user sends the administrator, and the same fields as JSON
//! (`--json`). Everything quoted from a file or a flag is sanitised; nothing secret is in it.

use crate::base::log;
use crate::oauth::provider::Cloud;

/// What the administrator is asked for.
#[derive(Debug)]
pub(crate) struct Request {
    pub cloud: Cloud,
    /// The tenant the account signs in at (`common`, `organizations`, a domain or an id).
    pub tenant: String,
    pub app_id: String,
    pub app_name: Option<String>,
    /// The app signs in as itself (client credentials, certificate): application permissions.
    pub app_only: bool,
    /// The delegated scope the sign-in asks for.
    pub scope: String,
    pub redirect_uri: String,
    pub mailbox: Option<String>,
    pub imap: bool,
    pub pop: bool,
    pub smtp: bool,
}

impl Request {
    /// The tenant of the admin-consent URL: never `common` (Microsoft: "Do not use 'common'"),
    /// `organizations` in its place, which the administrator's own sign-in resolves.
    fn consent_tenant(&self) -> &str {
        if self.tenant == "common" {
            "organizations"
        } else {
            &self.tenant
        }
    }

    /// The permissions, as the portal names them.
    pub(crate) fn permissions(&self) -> Vec<String> {
        if !self.app_only {
            return self.scope.split_whitespace().map(log::sanitize).collect();
        }
        let mut roles = Vec::new();
        for (used, role) in [
            (self.imap, "IMAP.AccessAsApp"),
            (self.pop, "POP.AccessAsApp"),
            (self.smtp, "SMTP.SendAsApp"),
        ] {
            if used {
                roles.push(format!("{role} (Office 365 Exchange Online, application)"));
            }
        }
        roles
    }

    /// The scope of the consent: the delegated scopes, or for an app that signs in as itself the
    /// resource's `.default` (Microsoft's IMAP/POP/SMTP page: `https://outlook.office365.com/.default`;
    /// the national clouds' are reconstructed from their mail hosts, as `provider::cloud` says).
    fn consent_scope(&self) -> String {
        if !self.app_only {
            return self.scope.clone();
        }
        if self.scope.ends_with("/.default") {
            return self.scope.clone();
        }
        let host = match self.cloud {
            Cloud::Global => "outlook.office365.com",
            other => other.hosts().resource,
        };
        format!("https://{host}/.default")
    }

    /// The v2.0 admin-consent URL on the account's cloud.
    pub(crate) fn consent_url(&self) -> String {
        let base = format!(
            "https://{}/{}/v2.0/adminconsent",
            self.cloud.hosts().login,
            self.consent_tenant()
        );
        oauth2::url::Url::parse_with_params(
            &base,
            [
                ("client_id", self.app_id.as_str()),
                ("scope", &self.consent_scope()),
                ("redirect_uri", &self.redirect_uri),
            ],
        )
        .map(|url| url.to_string())
        .unwrap_or(base)
    }

    /// The Exchange Online PowerShell lines for an app that signs in as itself.
    pub(crate) fn powershell(&self) -> Vec<String> {
        if !self.app_only {
            return Vec::new();
        }
        let mailbox = self.mailbox_shown();
        let mut lines = vec![
            "Install-Module -Name ExchangeOnlineManagement".to_string(),
            "Import-Module ExchangeOnlineManagement".to_string(),
            format!(
                "Connect-ExchangeOnline -Organization {}",
                log::sanitize(self.consent_tenant())
            ),
            format!(
                "New-ServicePrincipal -AppId {} -ObjectId <OBJECT_ID>",
                log::sanitize(&self.app_id)
            ),
            format!(
                "Add-MailboxPermission -Identity \"{mailbox}\" -User <SERVICE_PRINCIPAL_ID> \
                 -AccessRights FullAccess"
            ),
        ];
        if self.smtp {
            lines.push(format!(
                "Add-RecipientPermission -Identity \"{mailbox}\" -Trustee <SERVICE_PRINCIPAL_ID> \
                 -AccessRights SendAs"
            ));
        }
        lines
    }

    /// The line that allows SMTP AUTH for the mailbox, when the account sends mail.
    pub(crate) fn smtp_auth_line(&self) -> Option<String> {
        self.smtp.then(|| {
            format!(
                "Set-CASMailbox -Identity \"{}\" -SmtpClientAuthenticationDisabled $false",
                self.mailbox_shown()
            )
        })
    }

    fn mailbox_shown(&self) -> String {
        self.mailbox
            .as_deref()
            .map(log::sanitize)
            .unwrap_or_else(|| "<MAILBOX>".into())
    }

    fn tenant_shown(&self) -> String {
        match self.tenant.as_str() {
            "common" | "organizations" => format!(
                "your organisation's (the app signs in with {}; the address below says \
                 organizations, which your sign-in as administrator resolves, or put your tenant \
                 id in its place)",
                self.tenant
            ),
            tenant => log::sanitize(tenant),
        }
    }

    /// The letter, for stdout.
    pub(crate) fn letter(&self) -> String {
        let mut out = String::new();
        let mut line = |text: &str| {
            out.push_str(text);
            out.push('\n');
        };
        let who = match &self.mailbox {
            Some(mailbox) => format!("{} can", log::sanitize(mailbox)),
            None => "its users can".into(),
        };
        line("To the administrator of the Microsoft Entra tenant:");
        line("");
        line(&format!(
            "Please grant admin consent to the app below, so that {who} read and send mail over \
             IMAP, POP and SMTP with OAuth2 (mailtoken)."
        ));
        line("");
        line(&format!(
            "  Application (client) id: {}",
            log::sanitize(&self.app_id)
        ));
        if let Some(name) = &self.app_name {
            line(&format!(
                "  Application name:        {}",
                log::sanitize(name)
            ));
        }
        line(&format!(
            "  Tenant:                  {}",
            self.tenant_shown()
        ));
        if self.cloud != Cloud::Global {
            line(&format!("  Cloud:                   {}", self.cloud.name()));
        }
        let kind = if self.app_only {
            "Application"
        } else {
            "Delegated"
        };
        for (index, permission) in self.permissions().iter().enumerate() {
            let label = if index == 0 {
                format!("{kind} permissions:")
            } else {
                String::new()
            };
            line(&format!("  {label:<24} {permission}"));
        }
        line(&format!(
            "  Redirect URI:            {}",
            log::sanitize(&self.redirect_uri)
        ));
        line("");
        line("Open this address signed in as an administrator of the tenant, and accept:");
        line("");
        line(&format!("  {}", self.consent_url()));
        let powershell = self.powershell();
        if !powershell.is_empty() {
            line("");
            line(
                "The app signs in as itself (client credentials), so Exchange Online must know it \
                 and grant it the mailbox. In PowerShell:",
            );
            line("");
            for command in &powershell {
                line(&format!("  {command}"));
            }
            line("");
            line(
                "<OBJECT_ID> is the Object ID on the Overview page of the app's Enterprise \
                 Application (not of its App registration); <SERVICE_PRINCIPAL_ID> is the \
                 Identity that Get-ServicePrincipal shows for it.",
            );
        }
        if let Some(command) = self.smtp_auth_line() {
            line("");
            line(
                "If sending is refused with \"535 5.7.139 ... SmtpClientAuthentication is \
                 disabled\", SMTP AUTH must be allowed for the mailbox as well (Exchange Online \
                 PowerShell):",
            );
            line("");
            line(&format!("  {command}"));
        }
        out
    }

    /// The same fields for scripts.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "provider": "microsoft",
            "cloud": self.cloud.name(),
            "login_host": self.cloud.hosts().login,
            "tenant": log::sanitize(&self.tenant),
            "consent_tenant": log::sanitize(self.consent_tenant()),
            "app_id": log::sanitize(&self.app_id),
            "app_name": self.app_name.as_deref().map(log::sanitize),
            "permission_type": if self.app_only { "application" } else { "delegated" },
            "permissions": self.permissions(),
            "redirect_uri": log::sanitize(&self.redirect_uri),
            "mailbox": self.mailbox.as_deref().map(log::sanitize),
            "admin_consent_url": self.consent_url(),
            "powershell": self.powershell(),
            "smtp_auth_powershell": self.smtp_auth_line(),
        })
    }
}
