//! The man page and shell completions are generated from the clap definition and checked in.
//! This test fails when they are stale; regenerate them all with one command:
//!
//!     MAILTOKEN_REGENERATE=1 cargo test --test generated

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use mailtoken::cli::Cli;
use mailtoken::error::EXIT_STATUS_TABLE;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The man page: clap_mangen's generated sections with a hand-written SYNOPSIS (the forms of use),
/// then the hand-written sections from `man/`, with EXIT STATUS made from the same table as `--help`.
fn man_page() -> String {
    let man = clap_mangen::Man::new(Cli::command())
        .date("")
        .manual("User Commands");
    let mut out = Vec::new();
    man.render_title(&mut out).unwrap();
    man.render_name_section(&mut out).unwrap();
    let mut page = String::from_utf8(out).unwrap();
    // The forms of use, not clap's list of all options.
    page.push_str(&std::fs::read_to_string(root().join("man/synopsis.roff")).unwrap());
    let mut out = Vec::new();
    man.render_description_section(&mut out).unwrap();
    man.render_options_section(&mut out).unwrap();
    page.push_str(&String::from_utf8(out).unwrap());
    page.push_str(&std::fs::read_to_string(root().join("man/sections.roff")).unwrap());
    page.push_str(".SH \"EXIT STATUS\"\n");
    for (_, code, meaning) in EXIT_STATUS_TABLE {
        page.push_str(&format!(
            ".TP\n\\fB{code}\\fR\n{}\n",
            meaning.replace('-', "\\-")
        ));
    }
    page.push_str(&std::fs::read_to_string(root().join("man/security.roff")).unwrap());
    let mut version = Vec::new();
    man.render_version_section(&mut version).unwrap();
    page.push_str(&String::from_utf8(version).unwrap());
    page
}

fn completion(shell: Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mailtoken", &mut out);
    String::from_utf8(out).unwrap()
}

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
        let full = root().join(path);
        if regenerate {
            std::fs::write(&full, &contents).unwrap();
        } else if std::fs::read_to_string(&full).ok().as_deref() != Some(contents.as_str()) {
            stale.push(path);
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} are stale; regenerate with: MAILTOKEN_REGENERATE=1 cargo test --test generated"
    );
}

#[test]
fn the_man_page_documents_every_exit_status_and_option() {
    let page = man_page();
    for (_, code, _) in EXIT_STATUS_TABLE {
        assert!(
            page.contains(&format!("\\fB{code}\\fR")),
            "exit status {code}"
        );
    }
    for argument in Cli::command().get_arguments() {
        if let Some(long) = argument.get_long() {
            assert!(
                page.contains(&long.replace('-', "\\-")),
                "--{long} is missing from the man page"
            );
        }
    }
    assert!(Path::new(&root().join("man/sections.roff")).exists());
}
