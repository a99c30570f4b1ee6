//! Every relative link of the documentation resolves (issue #32, item 8: docs/lifecycle.md had
//! four links to contrib/ that led nowhere): the file exists, and an anchor names a heading of
//! it, spelt as GitHub spells a heading's anchor.

use std::path::{Path, PathBuf};

use crate::support::repository;

/// The documents whose links are checked.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![
        repository("README.md"),
        repository("CONTRIBUTING.md"),
        repository("benches/README.md"),
        repository("tests/e2e/README.md"),
    ];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(repository("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The targets of `[text](target)` outside fenced code blocks.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            found.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    found
}

/// GitHub's anchor of a heading: lower case, spaces as `-`, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

fn anchors(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let mut fenced = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#').trim()));
        }
    }
    found
}

#[test]
fn every_relative_link_of_the_documentation_resolves() {
    let mut broken = Vec::new();
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        let dir = document.parent().unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                document.clone()
            } else {
                dir.join(path)
            };
            let shown = format!("{}: {target}", document.display());
            if !file.exists() {
                broken.push(format!("{shown} (no such file)"));
                continue;
            }
            if let Some(fragment) = fragment
                && file.extension().is_some_and(|e| e == "md")
                && !anchors(&file).iter().any(|a| a == fragment)
            {
                broken.push(format!("{shown} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn anchors_are_spelt_as_github_spells_them() {
    assert_eq!(
        anchor("Signing in: `mailtoken --authorize`"),
        "signing-in-mailtoken---authorize"
    );
    assert_eq!(anchor("mbsync (isync)"), "mbsync-isync");
    assert_eq!(links("see [a](b.md#c) and [d](e)"), ["b.md#c", "e"]);
}

/// Every document is installed: `make install` (the Makefile's DOCS) and the Debian package
/// (Cargo.toml's assets) put each docs/*.md in share/doc/mailtoken, where the sign-in's client id
/// question points at providers.md (issue #32, item 8).
#[test]
fn every_document_is_installed_by_make_and_the_package() {
    let makefile = std::fs::read_to_string(repository("Makefile")).unwrap();
    let cargo = std::fs::read_to_string(repository("Cargo.toml")).unwrap();
    for document in documents()
        .iter()
        .filter(|path| path.parent().is_some_and(|dir| dir.ends_with("docs")))
    {
        let name = document.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            makefile.contains(&format!("docs/{name}")),
            "the Makefile does not install docs/{name}"
        );
        assert!(
            cargo.contains(&format!(
                "[\"docs/{name}\", \"usr/share/doc/mailtoken/{name}\", \"644\"]"
            )),
            "the Debian package does not install docs/{name}"
        );
    }
}
