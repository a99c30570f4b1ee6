//! The house rules that a reader relies on to find things (lib.rs, "The module map";
//! CONTRIBUTING.md): one file name for one thing, each type's methods in one file, and every crate
//! mailtoken depends on named, with its reason, in CONTRIBUTING.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let shown = path.strip_prefix(root).unwrap().display().to_string();
            (shown, text)
        })
        .collect()
}

/// The library forbids unsafe code (lib.rs); the binary's one `unsafe` is the attribute that
/// exports C's `main` (src/main.rs), and no other may join it unseen.
#[test]
fn the_only_unsafe_is_the_attribute_that_names_cs_main() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let keyword = [
                "unsafe {",
                "unsafe fn",
                "unsafe impl",
                "unsafe trait",
                "unsafe extern",
            ]
            .iter()
            .any(|form| code.contains(form))
                || code.contains("unsafe(");
            if keyword {
                found.push(format!("{path}:{}: {}", number + 1, line.trim()));
            }
        }
    }
    assert_eq!(found, ["src/main.rs:15: #[unsafe(no_mangle)]"]);
    assert!(
        sources()
            .iter()
            .any(|(path, text)| path == "src/lib.rs" && text.contains("#![forbid(unsafe_code)]"))
    );
}

#[test]
fn no_file_name_is_used_twice_under_src() {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, _) in sources() {
        let name = Path::new(&path)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        if name != "mod.rs" {
            by_name.entry(name).or_default().push(path);
        }
    }
    let twice: Vec<_> = by_name.values().filter(|paths| paths.len() > 1).collect();
    assert!(twice.is_empty(), "file names used twice: {twice:?}");
}

/// The type name of an inherent `impl` line (`impl Name {`, `impl<'a> Name<'a> {`), none for a
/// trait's (`impl Trait for Name`).
fn inherent_impl(line: &str) -> Option<String> {
    let rest = line.strip_prefix("impl")?;
    let rest = match rest.strip_prefix('<') {
        Some(generic) => &generic[generic.find('>')? + 1..],
        None => rest,
    };
    let rest = rest.strip_prefix(' ')?;
    if !line.trim_end().ends_with('{') || line.contains(" for ") {
        return None;
    }
    let name: String = rest
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Whether `text` defines a struct or enum called `name`.
fn defines(text: &str, name: &str) -> bool {
    text.lines().any(|line| {
        let line = line.trim_start();
        let line = line
            .strip_prefix("pub(crate) ")
            .or_else(|| line.strip_prefix("pub(super) "))
            .or_else(|| line.strip_prefix("pub "))
            .unwrap_or(line);
        ["struct ", "enum "].iter().any(|kind| {
            line.strip_prefix(kind).is_some_and(|rest| {
                rest.strip_prefix(name).is_some_and(|after| {
                    !after.starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            })
        })
    })
}

/// How many leading path components two paths share.
fn shared_components(a: &str, b: &str) -> usize {
    a.split('/')
        .zip(b.split('/'))
        .take_while(|(x, y)| x == y)
        .count()
}

#[test]
fn each_types_methods_are_in_one_file() {
    let sources = sources();
    // Each inherent impl, grouped by the type it is for: of the files that define a type of that
    // name (two modules may each have their own `Failure`), the one nearest the impl.
    let mut impls: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for (path, text) in &sources {
        for line in text.lines() {
            let Some(name) = inherent_impl(line) else {
                continue;
            };
            let definer = sources
                .iter()
                .filter(|(_, text)| defines(text, &name))
                .max_by_key(|(other, _)| shared_components(path, other))
                .map_or_else(|| path.clone(), |(other, _)| other.clone());
            impls
                .entry((name, definer))
                .or_default()
                .insert(path.clone());
        }
    }
    let names: BTreeSet<&str> = impls.keys().map(|(name, _)| name.as_str()).collect();
    assert!(
        names.contains("Account") && names.contains("Crypto"),
        "{names:?}"
    );
    let spread: Vec<_> = impls.iter().filter(|(_, files)| files.len() > 1).collect();
    assert!(
        spread.is_empty(),
        "methods of one type in several files: {spread:?}"
    );
}

#[test]
fn the_impl_reader_sees_what_it_must() {
    assert_eq!(inherent_impl("impl Crypto {").as_deref(), Some("Crypto"));
    assert_eq!(inherent_impl("impl Smtp<'_> {").as_deref(), Some("Smtp"));
    assert_eq!(
        inherent_impl("impl<'a> Lines<'a> {").as_deref(),
        Some("Lines")
    );
    assert_eq!(inherent_impl("impl fmt::Display for Error {"), None);
    assert!(defines("pub(crate) struct Account {", "Account"));
    assert!(!defines("pub(crate) struct AccountState {", "Account"));
}

/// The crates of a `[section]` of Cargo.toml.
fn dependencies(manifest: &str, section: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            inside = line.trim() == section;
            continue;
        }
        if inside
            && let Some((name, _)) = line.split_once(" = ")
            && !name.starts_with('#')
            && !name.is_empty()
        {
            names.push(name.trim().to_string());
        }
    }
    names
}

#[test]
fn contributing_names_every_crate_mailtoken_depends_on() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let contributing = std::fs::read_to_string(root.join("CONTRIBUTING.md")).unwrap();
    let notes = &contributing[contributing.find("## Design notes").unwrap()..];
    let mut crates = dependencies(&manifest, "[dependencies]");
    assert!(crates.contains(&"reqwest".to_string()), "{crates:?}");
    crates.extend(dependencies(&manifest, "[dev-dependencies]"));
    let unnamed: Vec<_> = crates
        .iter()
        .filter(|name| !notes.contains(&format!("`{name}`")))
        .collect();
    assert!(
        unnamed.is_empty(),
        "CONTRIBUTING.md's design notes do not name {unnamed:?}"
    );
}

/// The layers of src/, from the bottom up, as CONTRIBUTING.md's design notes and lib.rs's map
/// give them; two folders on one floor do not import each other.
const LAYERS: &[&[&str]] = &[
    &["base"],
    &["net"],
    &["mail"],
    &["oauth"],
    &["store"],
    &["cli"],
    &["lifecycle", "client_config"],
    &["authorize", "login_test"],
    &["app"],
    &["testing", "lib", "main"],
];

fn floor(module: &str) -> Option<usize> {
    LAYERS.iter().position(|floor| floor.contains(&module))
}

/// No import runs up a floor or across one, so the import graph has no circle between folders.
#[test]
fn every_folder_imports_only_from_the_floors_below() {
    let mut upward = Vec::new();
    for (path, text) in sources() {
        let top = path
            .trim_start_matches("src/")
            .split('/')
            .next()
            .unwrap()
            .trim_end_matches(".rs")
            .to_string();
        let here = floor(&top).unwrap_or_else(|| panic!("{path}: {top} is on no floor"));
        // The code, not its tests: a test module may reach anywhere.
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            let Some(there) = floor(&name) else {
                continue;
            };
            if name != top && there >= here {
                upward.push(format!("{path} uses crate::{name}"));
            }
        }
    }
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports up or across a floor: {upward:#?}"
    );
}
