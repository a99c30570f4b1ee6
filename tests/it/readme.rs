//! The README as a newcomer reads it (issue #23): short enough to read, Install and Quick start
//! first, `make deb` in Install, and the troubles mail clients run into in Troubleshooting.

use crate::support::repository;

fn readme() -> String {
    std::fs::read_to_string(repository("README.md")).expect("README.md")
}

/// The `## ` section of the README that starts with `heading`, up to the next one.
fn section(readme: &str, heading: &str) -> String {
    let start = readme
        .find(&format!("\n## {heading}"))
        .unwrap_or_else(|| panic!("no section {heading:?}"));
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3);
    rest[..end].to_string()
}

#[test]
fn the_readme_is_short_and_starts_with_install_and_quick_start() {
    let readme = readme();
    let lines = readme.lines().count();
    assert!(lines <= 450, "the README is {lines} lines");
    let headings: Vec<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .collect();
    assert_eq!(headings[..2], ["Install", "Quick start"], "{headings:?}");
    let install = section(&readme, "Install");
    assert!(
        install.contains("make deb"),
        "Install does not name make deb"
    );
    let makefile = std::fs::read_to_string(repository("Makefile")).unwrap();
    assert!(
        makefile.contains("\ndeb:"),
        "the Makefile has no deb target"
    );
}

/// Troubleshooting covers what mail clients trip on, with the same package name as the recipe.
#[test]
fn troubleshooting_covers_mbsync_neomutt_private_cas_and_ended_logins() {
    let readme = readme();
    let troubleshooting = section(&readme, "Troubleshooting");
    let recipes = std::fs::read_to_string(repository("docs/recipes.md")).unwrap();
    for words in [
        "libsasl2-modules-kdexoauth2",
        "cyrus-sasl-xoauth2",
        "OAUTH token is too big",
        "SSL_CERT_FILE",
        "### A login that has ended",
    ] {
        assert!(
            troubleshooting.contains(words),
            "Troubleshooting lacks {words:?}"
        );
    }
    assert!(recipes.contains("libsasl2-modules-kdexoauth2"));
    // The size NeoMutt refuses is the one mailtoken warns about.
    let limit = mailtoken::testing::sasl::NEOMUTT_TOKEN_LIMIT.to_string();
    assert!(troubleshooting.contains(&format!("over {limit} bytes")));
}

/// The Quick start's client line, run as written (issue #32): `--print-config` appends a working
/// block for the account the Quick start signed in.
#[test]
fn the_quick_starts_print_config_line_appends_a_block() {
    use crate::support::*;
    let readme = readme();
    let quick = section(&readme, "Quick start");
    let line = quick
        .lines()
        .find(|line| line.starts_with("mailtoken --print-config neomutt work >> ~/.neomuttrc"))
        .expect("the Quick start shows --print-config");
    let command = line.split('#').next().unwrap().trim();
    let sandbox = Sandbox::new();
    sandbox.write_token(
        &sandbox.accounts_dir().join("work"),
        &sandbox.token(UNUSED_TOKEN_ENDPOINT, minutes_from_now(60)),
    );
    let bin = sandbox.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_mailtoken"), bin.join("mailtoken")).unwrap();
    std::fs::create_dir_all(sandbox.home()).unwrap();
    let output = sandbox
        .outer("sh")
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .args(["-c", command])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let rc = std::fs::read_to_string(sandbox.home().join(".neomuttrc")).unwrap();
    assert!(
        rc.contains("set imap_oauth_refresh_command = ") && rc.contains("mailtoken/work\""),
        "{rc}"
    );
}
