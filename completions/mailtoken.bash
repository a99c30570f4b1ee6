_mailtoken_clap() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="mailtoken"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        mailtoken)
            opts="-a -t -v -d -h -V --authorize --authflow --email --testing-app --mailbox --client-id --client-secret --client-secret-file --client-file --service-account --client-certificate --port --no-browser --auth-timeout --provider --tenant --cloud --issuer --scope --authorize-endpoint --token-endpoint --devicecode-endpoint --redirect-uri --imap-endpoint --pop-endpoint --smtp-endpoint --sasl-method --encryption --decryption-pipe --encryption-pipe --age-identity --gpg-recipient --format --protocol --force-refresh --min-valid --list --status --json --check --keepalive --warn-days --revoke --yes --set --print-config --admin-request --no-login-hint --test --verbose --debug --help --version"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --authflow)
                    COMPREPLY=($(compgen -W "authcode localhostauthcode devicecode clientcredentials" -- "${cur}"))
                    return 0
                    ;;
                --email)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mailbox)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-id)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-secret)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-secret-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --service-account)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --client-certificate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --auth-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --provider)
                    COMPREPLY=($(compgen -W "google microsoft yahoo aol yandex mailru" -- "${cur}"))
                    return 0
                    ;;
                --tenant)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --cloud)
                    COMPREPLY=($(compgen -W "global usgov usgov-dod china" -- "${cur}"))
                    return 0
                    ;;
                --issuer)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scope)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --authorize-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --token-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --devicecode-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --redirect-uri)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --imap-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pop-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --smtp-endpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --sasl-method)
                    COMPREPLY=($(compgen -W "XOAUTH2 OAUTHBEARER" -- "${cur}"))
                    return 0
                    ;;
                --encryption)
                    COMPREPLY=($(compgen -W "age passphrase gpg" -- "${cur}"))
                    return 0
                    ;;
                --decryption-pipe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --encryption-pipe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --age-identity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --gpg-recipient)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "token sasl msasl" -- "${cur}"))
                    return 0
                    ;;
                --protocol)
                    COMPREPLY=($(compgen -W "imap pop smtp" -- "${cur}"))
                    return 0
                    ;;
                --min-valid)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --keepalive)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --warn-days)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --print-config)
                    COMPREPLY=($(compgen -W "neomutt mutt msmtp mbsync aerc offlineimap getmail" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

# The account names in ${XDG_DATA_HOME:-~/.local/share}/mailtoken, one a line, then the paths
# of the accounts signed in elsewhere (its .elsewhere file). Not accounts: the .lock and .state files, hidden files, and .unreadable-*, .recovery* and .tmp* copies.
_mailtoken_accounts() {
    local dir="${XDG_DATA_HOME:-$HOME/.local/share}/mailtoken" path name
    [[ -d $dir ]] || return 0
    for path in "$dir"/*; do
        [[ -f $path ]] || continue
        name=${path##*/}
        case $name in
            .* | *.lock | *.state | *.unreadable-* | *.recovery* | *.tmp*) continue ;;
        esac
        printf '%s\n' "$name"
    done
    [[ -f $dir/.elsewhere ]] && cat -- "$dir/.elsewhere"
    return 0
}

# TOKENFILE completes as an account name or a path; options and their values as clap knows them.
# Names are matched as plain strings: `compgen -W` would expand a $(...) found in one, and a file
# name is anyone's to choose.
_mailtoken_complete() {
    local cur="${2-}" prev="${3-}"
    if [[ $cur != -* && " --authflow --email --mailbox --client-id --client-secret --client-secret-file --client-file --service-account --client-certificate --port --auth-timeout --provider --tenant --cloud --issuer --scope --authorize-endpoint --token-endpoint --devicecode-endpoint --redirect-uri --imap-endpoint --pop-endpoint --smtp-endpoint --sasl-method --encryption --decryption-pipe --encryption-pipe --age-identity --gpg-recipient --format --protocol --min-valid --keepalive --warn-days --print-config " != *" $prev "* && ${COMP_CWORD:-1} -ge 1 ]]; then
        local name
        compopt -o filenames 2>/dev/null
        COMPREPLY=()
        while IFS= read -r name; do
            [[ $name == "$cur"* ]] && COMPREPLY+=("$name")
        done < <(_mailtoken_accounts)
        while IFS= read -r name; do
            COMPREPLY+=("$name")
        done < <(compgen -f -- "$cur")
        return 0
    fi
    _mailtoken_clap "$@"
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _mailtoken_complete -o nosort -o bashdefault -o default mailtoken
else
    complete -F _mailtoken_complete -o bashdefault -o default mailtoken
fi
