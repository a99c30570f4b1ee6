//! Cyrus SASL's plugins, found where the library looks for them: the directories of `SASL_PATH`
//! when it is set (it replaces the built-in directory, colon-separated; Cyrus SASL 2.1.28
//! lib/common.c and lib/dlopen.c), else the directory the distribution built in: Debian's and
//! Ubuntu's multiarch `/usr/lib/TRIPLET/sasl2`, Fedora's `/usr/lib64/sasl2`, Arch's and
//! upstream's `/usr/lib/sasl2` (/work/research/clients.md, section a).
//!
//! A plugin offers a mechanism when its shared object holds the mechanism's name as a string
//! (the `mech_name` of its `sasl_client_plug_t`). tarickb's `libsasl-xoauth2.so` offers XOAUTH2
//! too, but takes the path of a token file of its own as the password, so it cannot work with
//! mailtoken's token and is reported as such.

use std::path::{Path, PathBuf};

use crate::mail::sasl::SaslMethod;

/// A plugin is far smaller; anything larger is not read.
const MAX_PLUGIN: u64 = 16 * 1024 * 1024;

/// The plugin that takes a token file rather than a token.
pub(crate) const OTHER_KIND: &str = "libsasl-xoauth2.so";

/// Where Cyrus SASL looks, and whether that came from `SASL_PATH`.
pub(crate) fn search_path() -> (Vec<PathBuf>, bool) {
    if let Some(path) = std::env::var_os("SASL_PATH").filter(|p| !p.is_empty()) {
        let dirs = path
            .to_string_lossy()
            .split([':', '='])
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .collect();
        return (dirs, true);
    }
    (built_in_dirs(), false)
}

/// The distribution's built-in directory: the first that exists of Debian's multiarch one,
/// Fedora's and the plain one.
fn built_in_dirs() -> Vec<PathBuf> {
    let multiarch = multiarch_dir();
    let candidates = [
        multiarch,
        Some(PathBuf::from("/usr/lib64/sasl2")),
        Some(PathBuf::from("/usr/lib/sasl2")),
    ];
    // Debian's libsasl2-2 also makes an empty /usr/lib/sasl2 it never reads: the multiarch
    // directory wins wherever it exists.
    candidates
        .into_iter()
        .flatten()
        .find(|dir| dir.is_dir())
        .into_iter()
        .collect()
}

fn multiarch_dir() -> Option<PathBuf> {
    let triplet = match std::env::consts::ARCH {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "arm" => "arm-linux-gnueabihf",
        "x86" => "i386-linux-gnu",
        "riscv64" => "riscv64-linux-gnu",
        "powerpc64" => "powerpc64le-linux-gnu",
        "s390x" => "s390x-linux-gnu",
        _ => return None,
    };
    Some(PathBuf::from(format!("/usr/lib/{triplet}/sasl2")))
}

/// Places where plugins are installed by hand or by other builds, for saying "found, but where
/// Cyrus SASL does not look".
pub(crate) fn other_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = [
        multiarch_dir(),
        Some(PathBuf::from("/usr/lib64/sasl2")),
        Some(PathBuf::from("/usr/lib/sasl2")),
        Some(PathBuf::from("/usr/local/lib/sasl2")),
    ]
    .into_iter()
    .flatten()
    .collect();
    dirs.dedup();
    dirs
}

/// A plugin file and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plugin {
    pub path: PathBuf,
    /// `libsasl-xoauth2.so`: offers the name, takes a token file.
    pub other_kind: bool,
}

/// The plugins in `dirs` that offer `method`.
pub(crate) fn offering(dirs: &[PathBuf], method: SaslMethod) -> Vec<Plugin> {
    let mut found: Vec<Plugin> = Vec::new();
    let mut seen: Vec<PathBuf> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for path in names {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if !name.starts_with("lib") || !name.contains(".so") {
                continue;
            }
            let real = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            if seen.contains(&real) {
                continue;
            }
            seen.push(real.clone());
            if holds_name(&real, method) {
                found.push(Plugin {
                    other_kind: name.starts_with(OTHER_KIND),
                    path,
                });
            }
        }
    }
    found
}

/// Whether the file holds the mechanism's name as a C string.
fn holds_name(path: &Path, method: SaslMethod) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return false;
    };
    let mut bytes = Vec::new();
    if file.take(MAX_PLUGIN).read_to_end(&mut bytes).is_err() {
        return false;
    }
    let needle: Vec<u8> = [method.name().as_bytes(), b"\0"].concat();
    bytes.windows(needle.len()).any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_is_known_by_the_mechanism_name_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("libplain.so.2"), b"\x7fELF..PLAIN\0LOGIN\0").unwrap();
        std::fs::write(dir.path().join("libkdexoauth2.so.3"), b"\x7fELF..XOAUTH2\0").unwrap();
        std::fs::write(dir.path().join("libsasl-xoauth2.so"), b"\x7fELF..XOAUTH2\0").unwrap();
        std::fs::write(dir.path().join("README"), b"XOAUTH2\0").unwrap();
        let found = offering(&[dir.path().to_path_buf()], SaslMethod::Xoauth2);
        let names: Vec<(String, bool)> = found
            .iter()
            .map(|p| {
                (
                    p.path.file_name().unwrap().to_string_lossy().into_owned(),
                    p.other_kind,
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("libkdexoauth2.so.3".to_string(), false),
                ("libsasl-xoauth2.so".to_string(), true)
            ]
        );
        assert!(offering(&[dir.path().to_path_buf()], SaslMethod::Oauthbearer).is_empty());
    }
}
