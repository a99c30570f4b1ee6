//! The values of the command line's enumerated flags: their spellings and the help of each
//! value, and the provider names completions offer. The value types belong to the modules that
//! use them; here they only get their words, so clap stays in the front.

use clap::ValueEnum;
use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};

use crate::cli::output::Format;
use crate::mail::client::MailClient;
use crate::mail::mailserver::Protocol;
use crate::mail::sasl::SaslMethod;
use crate::oauth::provider::Cloud;
use crate::store::encryption::EncryptionKind;
use crate::store::tokenfile::Flow;

/// `--provider` takes any name; the presets are its possible values only so that the generated
/// completions offer them.
#[derive(Clone, Copy, Debug)]
pub(super) struct ProviderName;

impl TypedValueParser for ProviderName {
    type Value = String;

    fn parse_ref(
        &self,
        command: &clap::Command,
        argument: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        StringValueParser::new().parse_ref(command, argument, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            crate::oauth::provider::PRESET_NAMES
                .iter()
                .map(|name| PossibleValue::new(*name)),
        ))
    }
}

// The values of the enumerated flags. The types belong to the modules that use them; here they
// only get their spellings and the help text of each value, so clap stays in this file.

/// Implements clap's `ValueEnum` for a domain type: its variants, each with its spelling on the
/// command line and its help text.
macro_rules! value_enum {
    ($type:ty { $($variant:path => $name:literal $(, $help:literal)?;)+ }) => {
        impl ValueEnum for $type {
            fn value_variants<'a>() -> &'a [Self] {
                &[$($variant),+]
            }

            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(match self {
                    $($variant => PossibleValue::new($name)$(.help($help))?,)+
                })
            }
        }
    };
}

value_enum!(Flow {
    Flow::Authcode => "authcode", "Open a URL, paste back the code or the whole redirected URL";
    Flow::Localhostauthcode => "localhostauthcode", "Open a browser; a loopback listener receives the code (RFC 8252)";
    Flow::Devicecode => "devicecode", "Enter a short code on another device (RFC 8628)";
    Flow::Clientcredentials => "clientcredentials", "No user: a confidential client gets tokens directly (RFC 6749 section 4.4)";
});

value_enum!(Cloud {
    Cloud::Global => "global", "Microsoft 365 and Outlook.com (login.microsoftonline.com)";
    Cloud::Usgov => "usgov", "US Government GCC High (login.microsoftonline.us)";
    Cloud::UsgovDod => "usgov-dod", "US Government DoD (login.microsoftonline.us)";
    Cloud::China => "china", "Operated by 21Vianet in China (login.chinacloudapi.cn)";
});

value_enum!(Format {
    Format::Token => "token", "The bare access token";
    Format::Sasl => "sasl", "The base64 SASL initial response";
    Format::Msasl => "msasl", "The SASL mechanism name, a space, and the base64 SASL initial response";
});

value_enum!(Protocol {
    Protocol::Imap => "imap";
    Protocol::Pop => "pop";
    Protocol::Smtp => "smtp";
});

value_enum!(SaslMethod {
    SaslMethod::Xoauth2 => "XOAUTH2", "Google's and Microsoft's mechanism";
    SaslMethod::Oauthbearer => "OAUTHBEARER", "The standard mechanism (RFC 7628)";
});

value_enum!(MailClient {
    MailClient::Neomutt => "neomutt";
    MailClient::Mutt => "mutt";
    MailClient::Msmtp => "msmtp";
    MailClient::Mbsync => "mbsync", "isync's mbsync";
    MailClient::Aerc => "aerc";
    MailClient::Offlineimap => "offlineimap";
    MailClient::Getmail => "getmail", "getmail6";
});

value_enum!(EncryptionKind {
    EncryptionKind::Age => "age", "age, to the recipient of the age identity (no prompt: works from cron)";
    EncryptionKind::Passphrase => "passphrase", "age with a passphrase asked on the terminal (interactive use only)";
    EncryptionKind::Gpg => "gpg", "gpg, to --gpg-recipient or your default key";
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_names_match_the_command_line() {
        fn flag_name<T: ValueEnum>(value: &T) -> String {
            value.to_possible_value().unwrap().get_name().to_string()
        }
        for flow in Flow::value_variants() {
            assert_eq!(flag_name(flow), flow.name());
            assert_eq!(serde_json::to_value(flow).unwrap(), flow.name());
        }
        for method in SaslMethod::value_variants() {
            assert_eq!(flag_name(method), method.name());
            assert_eq!(serde_json::to_value(method).unwrap(), method.name());
        }
        for cloud in Cloud::value_variants() {
            assert_eq!(flag_name(cloud), cloud.name());
            assert_eq!(serde_json::to_value(cloud).unwrap(), cloud.name());
        }
        assert_eq!(Cloud::value_variants(), Cloud::ALL);
        for protocol in Protocol::value_variants() {
            assert_eq!(flag_name(protocol), protocol.name().to_lowercase());
        }
        assert_eq!(Protocol::value_variants(), Protocol::ALL);
        for client in MailClient::value_variants() {
            assert_eq!(flag_name(client), client.name());
        }
        assert_eq!(MailClient::value_variants(), MailClient::ALL);
    }
}
