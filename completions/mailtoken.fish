complete -c mailtoken -l authflow -d 'Sign-in flow; stored as the account\'s default' -r -f -a "authcode\t'Open a URL, paste back the code or the whole redirected URL'
localhostauthcode\t'Open a browser; a loopback listener receives the code (RFC 8252)'
devicecode\t'Enter a short code on another device (RFC 8628)'
clientcredentials\t'No user: a confidential client gets tokens directly (RFC 6749 section 4.4)'"
complete -c mailtoken -l email -d 'E-mail address of the account (the SASL user name)' -r
complete -c mailtoken -l mailbox -d 'Shared or delegated mailbox opened with --email\'s login (the SASL user then)' -r
complete -c mailtoken -l client-id -d 'OAuth2 client id; stored in the token file' -r
complete -c mailtoken -l client-secret -d 'OAuth2 client secret; stored in the token file' -r
complete -c mailtoken -l client-secret-file -d 'Read the OAuth2 client secret from FILE (`-` for stdin); stored in the token file' -r -F
complete -c mailtoken -l client-file -d 'The client file your provider\'s console gave you: Google\'s client JSON, an Entra manifest' -r -F
complete -c mailtoken -l service-account -d 'Google service account key (JSON) acting for --email\'s mailbox (domain-wide delegation)' -r -F
complete -c mailtoken -l client-certificate -d 'PEM file with an RSA key and its certificate: clientcredentials without a secret' -r -F
complete -c mailtoken -l port -d 'Fixed loopback port for localhostauthcode (for `ssh -L`); default: any free port' -r
complete -c mailtoken -l auth-timeout -d 'Give up on an interactive sign-in after this many seconds (default 300; for devicecode, the code\'s own lifetime)' -r
complete -c mailtoken -l provider -d 'A preset (google, microsoft, yahoo, aol, yandex, mailru) or any name' -r -f -a "google\t''
microsoft\t''
yahoo\t''
aol\t''
yandex\t''
mailru\t''"
complete -c mailtoken -l tenant -d 'Microsoft tenant: common, consumers, organizations or a tenant id' -r
complete -c mailtoken -l cloud -d 'Microsoft cloud: global, usgov, usgov-dod or china (login host, scopes, mail servers)' -r -f -a "global\t'Microsoft 365 and Outlook.com (login.microsoftonline.com)'
usgov\t'US Government GCC High (login.microsoftonline.us)'
usgov-dod\t'US Government DoD (login.microsoftonline.us)'
china\t'Operated by 21Vianet in China (login.chinacloudapi.cn)'"
complete -c mailtoken -l issuer -d 'Discover the endpoints of this issuer (RFC 8414, OpenID Connect)' -r
complete -c mailtoken -l scope -d 'Scope to request (space-separated); the preset\'s by default' -r
complete -c mailtoken -l authorize-endpoint -d 'Authorization endpoint URL' -r
complete -c mailtoken -l token-endpoint -d 'Token endpoint URL' -r
complete -c mailtoken -l devicecode-endpoint -d 'Device authorization endpoint URL (RFC 8628)' -r
complete -c mailtoken -l redirect-uri -d 'Redirect URI registered for the client' -r
complete -c mailtoken -l imap-endpoint -d 'IMAP server: imaps://HOST:993 (TLS) or imap://HOST:143 (STARTTLS)' -r
complete -c mailtoken -l pop-endpoint -d 'POP server: pop3s://HOST:995 (TLS) or pop3://HOST:110 (STARTTLS)' -r
complete -c mailtoken -l smtp-endpoint -d 'SMTP server: smtps://HOST:465 (TLS) or smtp://HOST:587 (STARTTLS)' -r
complete -c mailtoken -l sasl-method -d 'SASL mechanism' -r -f -a "XOAUTH2\t'Google\'s and Microsoft\'s mechanism'
OAUTHBEARER\t'The standard mechanism (RFC 7628)'"
complete -c mailtoken -l encryption -d 'Encryption of a new file' -r -f -a "age\t'age, to the recipient of the age identity (no prompt: works from cron)'
passphrase\t'age with a passphrase asked on the terminal (interactive use only)'
gpg\t'gpg, to --gpg-recipient or your default key'"
complete -c mailtoken -l decryption-pipe -d 'Command that decrypts the token file, stdin to stdout' -r
complete -c mailtoken -l encryption-pipe -d 'Command that encrypts stdin to stdout; stored in the token file' -r
complete -c mailtoken -l age-identity -d 'age identity file (X25519, or an unencrypted OpenSSH ed25519/RSA key)' -r -F
complete -c mailtoken -l gpg-recipient -d 'Encrypt with gpg to this key (implies --encryption gpg)' -r
complete -c mailtoken -l format -d 'What to print' -r -f -a "token\t'The bare access token'
sasl\t'The base64 SASL initial response'
msasl\t'The SASL mechanism name, a space, and the base64 SASL initial response'"
complete -c mailtoken -l protocol -d 'Protocol for --format and --test' -r -f -a "imap\t''
pop\t''
smtp\t''"
complete -c mailtoken -l min-valid -d 'Refresh first when the token has less than MINUTES left; --authorize stores it' -r
complete -c mailtoken -l keepalive -d 'With --check: also refresh accounts not refreshed for this many days, so logins that expire when unused stay alive (0: every account, every time)' -r
complete -c mailtoken -l warn-days -d 'With --check: warn through the notify hook when a login ends within this many days' -r
complete -c mailtoken -l print-config -d 'A mail client\'s configuration for the account, ready to append' -r -f -a "neomutt\t''
mutt\t''
msmtp\t''
mbsync\t'isync\'s mbsync'
aerc\t''
offlineimap\t''
getmail\t'getmail6'"
complete -c mailtoken -s a -l authorize -d 'Sign in and (re)create the token file'
complete -c mailtoken -l testing-app -d 'The Google app is in Testing status: its logins end 7 days after each sign-in'
complete -c mailtoken -l no-browser -d 'Print the sign-in URL without opening a browser'
complete -c mailtoken -l force-refresh -d 'Refresh even if the cached token looks valid'
complete -c mailtoken -l list -d 'Every account in $XDG_DATA_HOME/mailtoken and its state'
complete -c mailtoken -l status -d 'Print the account\'s state (no secrets) to stdout and exit'
complete -c mailtoken -l json -d 'With --list, --status or --admin-request: print JSON instead of text'
complete -c mailtoken -l check -d 'For cron: refresh expired and idle accounts; silent unless one needs you'
complete -c mailtoken -l revoke -d 'Revoke the login at the provider (RFC 7009), then delete the token file'
complete -c mailtoken -l yes -d 'With --revoke: do not ask for confirmation on a terminal'
complete -c mailtoken -l set -d 'Change the account\'s mail servers, SASL method or --min-valid, without a sign-in'
complete -c mailtoken -l admin-request -d 'Print what a Microsoft tenant\'s administrator must grant, and how'
complete -c mailtoken -l no-login-hint -d 'Leave the e-mail address out of the sign-in URL (no login_hint)'
complete -c mailtoken -s t -l test -d 'Log in to IMAP, POP and SMTP with the token; explain failures'
complete -c mailtoken -s v -l verbose -d 'Say what is happening, on stderr'
complete -c mailtoken -s d -l debug -d 'Trace every HTTP and mail-protocol exchange on stderr, with secrets redacted'
complete -c mailtoken -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailtoken -s V -l version -d 'Print version'

# TOKENFILE: the account names in ${XDG_DATA_HOME:-~/.local/share}/mailtoken and the paths of
# the accounts signed in elsewhere (its .elsewhere file); paths still complete as files.
# Not accounts: the .lock and .state files, hidden files, and .unreadable-*, .recovery* and .tmp* copies.
function __mailtoken_accounts
    set -l data $XDG_DATA_HOME
    test -n "$data"; or set data ~/.local/share
    for path in $data/mailtoken/*
        test -f $path; or continue
        set -l name (string replace -r '.*/' '' -- $path)
        string match -qr '\.(lock$|state$|unreadable-|recovery|tmp)' -- $name; and continue
        echo $name
    end
    test -f $data/mailtoken/.elsewhere; and cat -- $data/mailtoken/.elsewhere
end
complete -c mailtoken -n 'not string match -q -- "-*" (commandline -ct)' -a '(__mailtoken_accounts)' -d account
