//! Microsoft's national clouds (`--cloud`): each has its own login host, its own resource for the
//! mail scopes and its own mail servers, and an app registered in one cloud is unknown in the
//! others.
//!
//! Sources, beside each value: the login hosts are those of MSAL's instance discovery metadata
//! (`login.microsoftonline.us` with its alias `login.usgovcloudapi.net`; `login.chinacloudapi.cn`,
//! alias of `login.partner.microsoftonline.cn`) and Microsoft's "National clouds" page of the
//! identity platform; the scopes and mail hosts are EmailEngine's Outlook guide ("Microsoft
//! national clouds": GCC High, DoD, China), which sasl-xoauth2's `--cloud usgov|usgov-dod|china`
//! follows. The ports are reconstructed: those of the global service (993, 995, 587 with
//! STARTTLS), which Microsoft's national-cloud pages do not restate.

use serde::{Deserialize, Serialize};

/// One of Microsoft's clouds.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Cloud {
    /// The global service: Microsoft 365 and Outlook.com.
    #[default]
    Global,
    /// US Government GCC High (GCC itself uses the global service).
    Usgov,
    /// US Government DoD.
    UsgovDod,
    /// Microsoft 365 operated by 21Vianet in China.
    China,
}

/// What differs between the clouds.
pub struct CloudHosts {
    /// The Microsoft Entra login host.
    pub login: &'static str,
    /// The resource the mail scopes belong to (`https://RESOURCE/IMAP.AccessAsUser.All`).
    pub resource: &'static str,
    /// The IMAP and POP host.
    pub mailbox: &'static str,
    /// The SMTP host.
    pub smtp: &'static str,
}

impl Cloud {
    /// Every cloud, in the order `--cloud` lists them.
    pub const ALL: &'static [Cloud] = &[Cloud::Global, Cloud::Usgov, Cloud::UsgovDod, Cloud::China];

    /// The spelling of `--cloud` and of the token file.
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Global => "global",
            Cloud::Usgov => "usgov",
            Cloud::UsgovDod => "usgov-dod",
            Cloud::China => "china",
        }
    }

    pub fn hosts(self) -> CloudHosts {
        match self {
            // Microsoft's "Authenticate an IMAP, POP or SMTP connection using OAuth" (scopes) and
            // "POP, IMAP, and SMTP settings" (servers), as the preset has always used them.
            Cloud::Global => CloudHosts {
                login: "login.microsoftonline.com",
                resource: "outlook.office.com",
                mailbox: "outlook.office365.com",
                smtp: "smtp.office365.com",
            },
            // EmailEngine's guide, GCC High: login.microsoftonline.us, IMAP outlook.office365.us,
            // SMTP smtp.office365.us, scopes https://outlook.office365.us/...
            Cloud::Usgov => CloudHosts {
                login: "login.microsoftonline.us",
                resource: "outlook.office365.us",
                mailbox: "outlook.office365.us",
                smtp: "smtp.office365.us",
            },
            // EmailEngine's guide, DoD: the same login host and scope resource as GCC High, IMAP
            // and SMTP at outlook-dod.office365.us.
            Cloud::UsgovDod => CloudHosts {
                login: "login.microsoftonline.us",
                resource: "outlook.office365.us",
                mailbox: "outlook-dod.office365.us",
                smtp: "outlook-dod.office365.us",
            },
            // EmailEngine's guide, Azure China (21Vianet): login.chinacloudapi.cn, IMAP and SMTP
            // at partner.outlook.cn, scopes https://partner.outlook.cn/...; smtp.partner.outlook.cn
            // is seen in the wild too, but the guide names partner.outlook.cn.
            Cloud::China => CloudHosts {
                login: "login.chinacloudapi.cn",
                resource: "partner.outlook.cn",
                mailbox: "partner.outlook.cn",
                smtp: "partner.outlook.cn",
            },
        }
    }
}
