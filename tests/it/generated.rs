//! The man page and shell completions are generated from the clap definition and checked in.
//! This test fails when they are stale; regenerate them all with one command:
//!
//!     MAILTOKEN_REGENERATE=1 cargo test --test it generated::

use clap::CommandFactory;
use clap_complete::Shell;
use mailtoken::testing::cli::{Cli, documented_command};
use mailtoken::testing::error::EXIT_STATUS_TABLE;

use crate::support::{Sandbox, repository};

/// The man page: clap_mangen's generated sections with a hand-written SYNOPSIS (the forms of use),
/// then the hand-written sections from `man/`, with EXIT STATUS made from the same table as `--help`.
fn man_page() -> String {
    let man = clap_mangen::Man::new(documented_command())
        .date("")
        .manual("User Commands");
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    let mut page = String::from_utf8(out).unwrap();
    // The forms of use, not clap's list of all options.
    page.push_str(&std::fs::read_to_string(repository("man/synopsis.roff")).unwrap());
    let mut out = Vec::new();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    page.push_str(&String::from_utf8(out).unwrap());
    page.push_str(&std::fs::read_to_string(repository("man/sections.roff")).unwrap());
    page.push_str(".SH \"EXIT STATUS\"\n");
    for (_, code, meaning) in EXIT_STATUS_TABLE {
        page.push_str(&format!(
            ".TP\n\\fB{code}\\fR\n{}\n",
            meaning.replace('-', "\\-")
        ));
    }
    page.push_str(&std::fs::read_to_string(repository("man/security.roff")).unwrap());
    let mut version = Vec::new();
    man.render_version_section(&mut version).unwrap();
    page.push_str(&String::from_utf8(version).unwrap());
    page
}

fn completion(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut documented_command(), "mailtoken", &mut out);
    with_account_names(shell, String::from_utf8(out).unwrap())
}

/// Which names are accounts, in every shell: the files in `$XDG_DATA_HOME/mailtoken` except hidden
/// ones (the temporary files of a write) and the helpers beside a token file: `NAME.lock`,
/// `NAME.state`, and the `.unreadable-*`, `.recovery*` and `.tmp*` copies. The accounts signed in
/// elsewhere are the paths listed in its `.elsewhere` file, one a line.
const NOT_ACCOUNTS: &str =
    "the .lock and .state files, hidden files, and .unreadable-*, .recovery* and .tmp* copies";

/// clap's completions know TOKENFILE only as a file; this teaches them the account names (the bare
/// NAME form) as well. Static completion scripts cannot ask the binary, so each shell reads the
/// directory itself.
fn with_account_names(shell: Shell, generated: String) -> String {
    match shell {
        Shell::Bash => {
            // clap's function offers only options in the TOKENFILE position; ours answers there and
            // hands everything else (options and their values) to clap's.
            let value_options: Vec<String> = Cli::command()
                .get_arguments()
                .filter(|argument| argument.get_action().takes_values())
                .flat_map(|argument| {
                    let short = argument.get_short().map(|c| format!("-{c}"));
                    let long = argument.get_long().map(|l| format!("--{l}"));
                    short.into_iter().chain(long)
                })
                .collect();
            let renamed = generated
                .replacen("_mailtoken() {", "_mailtoken_clap() {", 1)
                .replace(
                    "complete -F _mailtoken ",
                    "complete -F _mailtoken_complete ",
                );
            let position = renamed
                .find("\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4")
                .expect("clap's bash registration");
            let helpers = BASH_ACCOUNTS
                .replace("NOT_ACCOUNTS", NOT_ACCOUNTS)
                .replace("VALUE_OPTIONS", &value_options.join(" "));
            format!("{}{helpers}{}", &renamed[..position], &renamed[position..])
        }
        Shell::Zsh => {
            let tokenfile = ":tokenfile -- ";
            let start = generated.find(tokenfile).expect("clap's zsh TOKENFILE");
            let end = start + generated[start..].find(":_files'").expect("its action");
            let replaced = format!(
                "{}:_mailtoken_tokenfiles'{}",
                &generated[..end],
                &generated[end + ":_files'".len()..]
            );
            let position = replaced
                .find("\nif [ \"$funcstack[1]\" = \"_mailtoken\" ]")
                .expect("clap's zsh registration");
            format!(
                "{}{}{}",
                &replaced[..position],
                ZSH_ACCOUNTS.replace("NOT_ACCOUNTS", NOT_ACCOUNTS),
                &replaced[position..]
            )
        }
        Shell::Fish => generated + &FISH_ACCOUNTS.replace("NOT_ACCOUNTS", NOT_ACCOUNTS),
        _ => generated,
    }
}

const BASH_ACCOUNTS: &str = r#"
# The account names in ${XDG_DATA_HOME:-~/.local/share}/mailtoken, one a line, then the paths
# of the accounts signed in elsewhere (its .elsewhere file). Not accounts: NOT_ACCOUNTS.
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
    if [[ $cur != -* && " VALUE_OPTIONS " != *" $prev "* && ${COMP_CWORD:-1} -ge 1 ]]; then
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
"#;

const ZSH_ACCOUNTS: &str = r#"
# TOKENFILE: an account name from ${XDG_DATA_HOME:-~/.local/share}/mailtoken, an account signed
# in elsewhere (the paths in its .elsewhere file), or any file. Not accounts: NOT_ACCOUNTS.
(( $+functions[_mailtoken_tokenfiles] )) ||
_mailtoken_tokenfiles() {
    local dir=${XDG_DATA_HOME:-$HOME/.local/share}/mailtoken
    local -a accounts elsewhere
    accounts=($dir/*(N-.:t))
    accounts=(${accounts:#(.*|*.lock|*.state|*.unreadable-*|*.recovery*|*.tmp*)})
    [[ -f $dir/.elsewhere ]] && elsewhere=("${(@f)$(<$dir/.elsewhere)}")
    _alternative 'accounts:account:compadd -a accounts' \
        'elsewhere:account elsewhere:compadd -a elsewhere' 'files:token file:_files'
}
"#;

const FISH_ACCOUNTS: &str = r#"
# TOKENFILE: the account names in ${XDG_DATA_HOME:-~/.local/share}/mailtoken and the paths of
# the accounts signed in elsewhere (its .elsewhere file); paths still complete as files.
# Not accounts: NOT_ACCOUNTS.
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
"#;

fn generated() -> Vec<(&'static str, String)> {
    vec![
        ("man/mailtoken.1", man_page()),
        ("completions/mailtoken.bash", completion(Shell::Bash)),
        ("completions/_mailtoken", completion(Shell::Zsh)),
        ("completions/mailtoken.fish", completion(Shell::Fish)),
    ]
}

#[test]
fn man_page_and_completions_are_up_to_date() {
    let regenerate = std::env::var_os("MAILTOKEN_REGENERATE").is_some();
    let mut stale = Vec::new();
    for (path, contents) in generated() {
        let full = repository(path);
        if regenerate {
            std::fs::write(&full, &contents).unwrap();
        } else if std::fs::read_to_string(&full).ok().as_deref() != Some(contents.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} are stale; regenerate with: MAILTOKEN_REGENERATE=1 cargo test --test it generated::"
    );
}

/// The checked-in man page, what `man mailtoken` shows (the test above keeps it equal to the
/// generated one): its EXIT STATUS is the documented table, written out here, not rebuilt from
/// `EXIT_STATUS_TABLE` as the page itself is (that could not fail), and every option is listed.
#[test]
fn the_man_page_documents_every_exit_status_and_option() {
    let page = std::fs::read_to_string(repository("man/mailtoken.1")).expect("man/mailtoken.1");
    let start = page
        .find(".SH \"EXIT STATUS\"\n")
        .expect("an EXIT STATUS section");
    let section = &page[start..];
    let section = &section[..section[1..]
        .find("\n.SH ")
        .map_or(section.len(), |end| end + 1)];
    let rows: Vec<(String, String)> = section
        .split(".TP\n")
        .skip(1)
        .map(|entry| {
            let mut lines = entry.lines();
            let code = lines.next().unwrap_or_default();
            let meaning = lines.next().unwrap_or_default();
            (
                code.trim_start_matches("\\fB")
                    .trim_end_matches("\\fR")
                    .to_string(),
                meaning.replace("\\-", "-"),
            )
        })
        .collect();
    let expected = [
        (
            "0",
            "success: the token was printed or the action completed",
        ),
        (
            "64",
            "usage error: bad flags, or a missing value and no terminal to ask",
        ),
        ("65", "token file unreadable, corrupt or not decryptable"),
        ("66", "no token file: run the suggested --authorize command"),
        ("69", "a login failed during --test"),
        ("74", "I/O error writing the token file or its lock"),
        (
            "75",
            "temporary failure (network, timeout, HTTP 408/429/5xx): retry later",
        ),
        (
            "77",
            "re-authorization needed (invalid_grant, no refresh token, denied)",
        ),
        (
            "78",
            "configuration error (permissions, client, encryption setup, a mail server's URL)",
        ),
    ]
    .map(|(code, meaning)| (code.to_string(), meaning.to_string()));
    assert_eq!(rows, expected, "EXIT STATUS of man/mailtoken.1");
    for argument in Cli::command().get_arguments() {
        if let Some(long) = argument.get_long() {
            assert!(
                page.contains(&format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"))),
                "--{long} is missing from man/mailtoken.1"
            );
        }
    }
}

/// Every option has a one-line description wherever it is listed: `--help`, the man page's
/// OPTIONS and the zsh and fish completions (issue #23: the options left out of `-h` had lost
/// theirs in the man page).
#[test]
fn every_option_has_a_one_line_description_wherever_it_is_listed() {
    let page = man_page();
    let zsh = completion(Shell::Zsh);
    let fish = completion(Shell::Fish);
    let help = Sandbox::new().run(&["--help"]).stdout;
    let words = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
    let help = words(&help);
    let mut checked = 0;
    for argument in Cli::command().get_arguments().filter(|a| !a.is_hide_set()) {
        let name = argument.get_id().as_str();
        let description = argument
            .get_help()
            .map(|h| h.to_string())
            .unwrap_or_default();
        assert!(
            !description.trim().is_empty() && !description.contains('\n'),
            "{name} has no one-line description: {description:?}"
        );
        assert!(
            help.contains(&words(&description)),
            "--help lacks the description of {name}"
        );
        let Some(long) = argument.get_long() else {
            continue;
        };
        // The man page: the line after the option's tag is its description.
        let tag = format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
        let entry = page
            .split(".TP\n")
            .find(|entry| entry.lines().next().is_some_and(|line| line.contains(&tag)))
            .unwrap_or_else(|| panic!("--{long} is not listed under OPTIONS"));
        let shown = entry
            .lines()
            .nth(1)
            .unwrap_or_default()
            .replace("\\-", "-")
            .replace("\\*(Aq", "'");
        assert_eq!(shown, description, "the man page's description of --{long}");
        // zsh: '[(CONFLICTS)]--NAME[description]' or '...--NAME=[description]:VALUE:...'.
        let zsh_line = zsh
            .lines()
            .find(|line| {
                let option = line.strip_prefix('\'').unwrap_or_default();
                let option = match option.strip_prefix('(') {
                    Some(rest) => rest.split_once(')').map_or("", |(_, option)| option),
                    None => option,
                };
                option.starts_with(&format!("--{long}["))
                    || option.starts_with(&format!("--{long}=["))
            })
            .unwrap_or_else(|| panic!("--{long} is not in the zsh completion"));
        assert!(!zsh_line.contains("[]"), "zsh: --{long} has no description");
        // fish: complete -c mailtoken [-s X] -l NAME ... -d 'description'.
        let fish_line = fish
            .lines()
            .find(|line| {
                line.contains(&format!(" -l {long} ")) || line.ends_with(&format!(" -l {long}"))
            })
            .unwrap_or_else(|| panic!("--{long} is not in the fish completion"));
        assert!(
            fish_line.contains(" -d '"),
            "fish: --{long} has no description"
        );
        checked += 1;
    }
    assert!(checked > 40, "only {checked} options checked");
}

/// The SYNOPSIS shows every form of use in a few lines, each one an existing option.
#[test]
fn the_synopsis_shows_every_form_of_use() {
    let page = man_page();
    let start = page.find(".SH SYNOPSIS").expect("a SYNOPSIS");
    let end = start + page[start..].find(".PP").expect("the end of the forms");
    let forms: Vec<&str> = page[start..end]
        .lines()
        .filter(|line| line.starts_with("\\fBmailtoken\\fR"))
        .collect();
    // One form per action, the token's and the help's: ten (issue #32 added --print-config and
    // --set).
    assert!(forms.len() <= 10, "{} forms", forms.len());
    let flag = |long: &str| format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
    let actions = [
        "authorize",
        "test",
        "status",
        "list",
        "check",
        "revoke",
        "print-config",
        "set",
    ];
    let command = Cli::command();
    let longs: Vec<&str> = command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .collect();
    for action in actions {
        assert!(longs.contains(&action), "--{action} is not an option");
        assert!(
            forms
                .iter()
                .any(|form| form.starts_with(&format!("\\fBmailtoken\\fR {}", flag(action)))),
            "no SYNOPSIS form for --{action}"
        );
    }
    // The token itself: a form with a TOKENFILE and none of the actions.
    assert!(
        forms.iter().any(|form| form.ends_with("\\fITOKENFILE\\fR")
            && !actions.iter().any(|action| form.contains(&flag(action)))),
        "no SYNOPSIS form that prints the token"
    );
}
