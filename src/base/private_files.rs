//! The token file on disk: safe reads, and atomic durable writes. The per-file refresh lock is
//! `refresh_lock`'s.
//!
//! A crash at any instant must leave either the old or the new complete file, so a write goes to
//! a temporary file in the same directory, is fsynced, renamed over the old one, and the directory
//! is fsynced so the rename itself survives a power cut.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Token files are a few kilobytes; refusing larger ones keeps a wrong path from eating memory.
pub(crate) const MAX_FILE_SIZE: u64 = 1024 * 1024;

/// Why reading a token file failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    Missing,
    /// Group or others have access; carries the mode.
    Exposed(u32),
    NotAFile,
    /// The file, or the symbolic link that leads to it, belongs to another user (carries the uid).
    NotOwned(u32),
    TooLarge,
    Io(io::Error),
}

/// The user this process acts for: the only owner whose files and links it trusts.
pub fn my_uid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Opens a file of the user's for reading. A symbolic link is followed only when the user owns
/// it (in a shared directory another user could plant one), the file itself must be a regular
/// file the user owns, and the open never blocks (a FIFO would hang the caller forever).
pub(crate) fn open_own_file(path: &Path) -> Result<(File, fs::Metadata), ReadError> {
    let link = fs::symlink_metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(e),
    })?;
    if link.file_type().is_symlink() && link.uid() != my_uid() {
        return Err(ReadError::NotOwned(link.uid()));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::Missing,
            _ => ReadError::Io(e),
        })?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile);
    }
    if metadata.uid() != my_uid() {
        return Err(ReadError::NotOwned(metadata.uid()));
    }
    Ok((file, metadata))
}

/// Which file, as it was when read: device, inode, size and modification time. Every write
/// replaces the file (a new inode) and every edit changes its time, so a record made about one
/// version of a token file is known not to apply to any other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileId {
    pub device: u64,
    pub inode: u64,
    pub size: u64,
    pub modified_ns: i128,
}

impl FileId {
    pub(crate) fn of(metadata: &fs::Metadata) -> FileId {
        FileId {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.len(),
            modified_ns: i128::from(metadata.mtime()) * 1_000_000_000
                + i128::from(metadata.mtime_nsec()),
        }
    }
}

/// Reads a token file, refusing one that others could read: it holds a login.
pub(crate) fn read_private(path: &Path) -> Result<Vec<u8>, ReadError> {
    read_private_identified(path).map(|(contents, _)| contents)
}

/// `read_private`, with which file was read (from the same open file, so no race can swap it).
pub(crate) fn read_private_identified(path: &Path) -> Result<(Vec<u8>, FileId), ReadError> {
    let (file, metadata) = open_own_file(path)?;
    if metadata.mode() & 0o077 != 0 {
        return Err(ReadError::Exposed(metadata.mode() & 0o7777));
    }
    if metadata.len() > MAX_FILE_SIZE {
        return Err(ReadError::TooLarge);
    }
    let mut contents = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut contents)
        .map_err(ReadError::Io)?;
    if contents.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadError::TooLarge);
    }
    Ok((contents, FileId::of(&metadata)))
}

/// Reads a file mailtoken keeps beside a token file or in its own directories (the record of a
/// login, kept tokens, the list of accounts): opened without following a symbolic link
/// (O_NOFOLLOW: no one's link is wanted there, the user's included) and without blocking, then
/// judged on the open file itself (fstat), so nothing can be swapped in between the check and the
/// read: a regular file of the user's that nobody else can read, of a plausible size.
pub(crate) fn read_kept(path: &Path) -> Result<Vec<u8>, ReadError> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ReadError::Missing,
            // ELOOP: the name is a symbolic link.
            _ if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
                ReadError::NotAFile
            }
            _ => ReadError::Io(e),
        })?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile);
    }
    if metadata.uid() != my_uid() {
        return Err(ReadError::NotOwned(metadata.uid()));
    }
    if metadata.mode() & 0o077 != 0 {
        return Err(ReadError::Exposed(metadata.mode() & 0o7777));
    }
    if metadata.len() > MAX_FILE_SIZE {
        return Err(ReadError::TooLarge);
    }
    let mut contents = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut contents)
        .map_err(ReadError::Io)?;
    if contents.len() as u64 > MAX_FILE_SIZE {
        return Err(ReadError::TooLarge);
    }
    Ok(contents)
}

/// The first bytes of a file the user may read, to tell whether it looks like a token file
/// before suggesting anything about it.
pub(crate) fn peek(path: &Path) -> Vec<u8> {
    let Ok((file, _)) = open_own_file(path) else {
        return Vec::new();
    };
    let mut start = Vec::new();
    let _ = file.take(4096).read_to_end(&mut start);
    start
}

/// Creates `dir` and any missing parents with mode 0700. Existing directories are left as they are
/// (a user's `~/.mutt` is theirs to manage).
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Replaces `path` with `contents` atomically and durably, mode 0600.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_durably(path, contents, |temporary, path| {
        fs::rename(temporary, path)
    })
}

/// Creates a file that must not exist yet (mode 0600, parents 0700), durably. For files that are
/// written once, like the age identity: two processes racing to create it cannot both win,
/// because `hard_link`, unlike `rename`, fails when `path` exists.
pub(crate) fn write_new_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_durably(path, contents, |temporary, path| {
        fs::hard_link(temporary, path)
    })
}

/// Writes a temporary file beside `path`, fsyncs it, puts it in place with `install`, and fsyncs
/// the directory so the new name survives a power cut. The temporary name never outlives the call.
fn write_durably(
    path: &Path,
    contents: &[u8],
    install: impl FnOnce(&Path, &Path) -> io::Result<()>,
) -> io::Result<()> {
    let dir = parent_dir(path);
    create_private_dir(dir)?;
    crate::base::hardening::survive_file_size_limit();
    let (temporary, mut file) = create_temporary(path)?;
    let result = (|| {
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        install(&temporary, path)?;
        sync_dir(dir)
    })();
    // After a rename there is nothing left to remove; after a hard link, the extra name goes.
    let _ = fs::remove_file(&temporary);
    result
}

/// Room for a write, taken before it is needed: a temporary file beside its target, filled to
/// the size asked and fsynced, so its blocks are allocated. Taken before a refresh token is spent,
/// it proves that a full disk or a read-only directory is found while the old refresh token still
/// works; and the write after the provider's answer goes into these same blocks, so a disk that
/// fills up meanwhile cannot take the new tokens' place. (A copy-on-write filesystem, btrfs or
/// ZFS, may still need new blocks to overwrite; there the reservation is a proof only.)
/// Dropped without being installed, the temporary file goes.
#[derive(Debug)]
pub(crate) struct Reserved {
    temporary: PathBuf,
    file: File,
}

/// Reserves `size` bytes beside `path` (the real path of the file that will be replaced).
pub(crate) fn reserve(path: &Path, size: usize) -> io::Result<Reserved> {
    let dir = parent_dir(path);
    create_private_dir(dir)?;
    sweep_temporaries(path);
    crate::base::hardening::survive_file_size_limit();
    let (temporary, mut file) = create_temporary(path)?;
    let filled = (|| {
        let block = [0u8; 4096];
        let mut left = size;
        while left > 0 {
            let now = left.min(block.len());
            file.write_all(&block[..now])?;
            left -= now;
        }
        file.sync_all()
    })();
    let reserved = Reserved { temporary, file };
    filled.map(|()| reserved)
}

impl Reserved {
    /// Writes `contents` into the reserved blocks, fsyncs, and renames the file to `target` (in
    /// the same directory as the file it was reserved for), fsyncing the directory. On failure
    /// the reservation stays, to be written again (another content, another name).
    pub(crate) fn install(&mut self, contents: &[u8], target: &Path) -> io::Result<()> {
        use std::io::{Seek, SeekFrom};
        if parent_dir(target) != parent_dir(&self.temporary) {
            return Err(io::Error::other(
                "a reservation is installed in its own directory",
            ));
        }
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(contents)?;
        self.file.set_len(contents.len() as u64)?;
        self.file.sync_all()?;
        fs::rename(&self.temporary, target)?;
        // Renamed: nothing is left to remove on drop.
        self.temporary = PathBuf::new();
        sync_dir(parent_dir(target))
    }
}

impl Drop for Reserved {
    fn drop(&mut self) {
        if !self.temporary.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// The path to write through for `path`: the file itself when `path` is a symbolic link (every
/// link to one file shares its lock and its record), after refusing any link on the way that
/// belongs to another user. A link in a shared directory could otherwise make the user's own
/// process create or replace a file of the planter's choosing; root's links are the system's.
pub(crate) fn own_real_path(path: &Path) -> io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut prefix = PathBuf::new();
    for component in absolute.components() {
        prefix.push(component);
        if let Ok(metadata) = fs::symlink_metadata(&prefix)
            && metadata.file_type().is_symlink()
            && metadata.uid() != my_uid()
            && metadata.uid() != 0
        {
            return Err(io::Error::other(format!(
                "{} is a symbolic link of another user's (uid {}); mailtoken writes only through \
                 the user's own links",
                prefix.display(),
                metadata.uid()
            )));
        }
    }
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// Removes the temporary files beside `path` that a process no longer running left behind (one
/// killed with SIGKILL in the middle of a write), so they do not pile up. The temporary's name
/// holds its writer's process id (`create_temporary`).
fn sweep_temporaries(path: &Path) {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{name}.");
    let Ok(entries) = fs::read_dir(parent_dir(path)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
        else {
            continue;
        };
        let writer = rest
            .split('.')
            .next()
            .and_then(|pid| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw);
        let gone = writer.is_some_and(|pid| {
            rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
        });
        if gone && entry.metadata().is_ok_and(|m| m.uid() == my_uid()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn create_temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".{}.{nanos}.tmp", std::process::id()));
    let temporary = parent_dir(path).join(temporary_name);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    Ok((temporary, file))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("mailtoken-store-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn atomic_write_creates_private_file_and_dirs() {
        let dir = temp_dir("write");
        let path = dir.join("new/sub/token");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(dir.join("new")).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let leftovers: Vec<_> = fs::read_dir(dir.join("new/sub")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn exposed_files_are_refused() {
        let dir = temp_dir("exposed");
        let path = dir.join("token");
        fs::write(&path, b"x").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_private(&path),
            Err(ReadError::Exposed(0o644))
        ));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&path).unwrap(), b"x");
        assert!(matches!(
            read_private(&dir.join("absent")),
            Err(ReadError::Missing)
        ));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn kept_files_are_read_only_when_they_are_the_users_own_regular_private_files() {
        let dir = temp_dir("kept");
        let file = dir.join("record");
        write_atomic(&file, b"kept").unwrap();
        assert_eq!(read_kept(&file).unwrap(), b"kept");
        // A link, even the user's own and to the user's own private file, is not followed.
        let link = dir.join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(matches!(read_kept(&link), Err(ReadError::NotAFile)));
        assert!(matches!(
            read_kept(&dir.join("none")),
            Err(ReadError::Missing)
        ));
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(read_kept(&file), Err(ReadError::Exposed(0o640))));
        assert!(matches!(read_kept(&dir), Err(ReadError::NotAFile)));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn new_private_file_never_replaces_an_existing_one() {
        let dir = temp_dir("new");
        let path = dir.join("identity");
        write_new_private_file(&path, b"first").unwrap();
        assert!(write_new_private_file(&path, b"second").is_err());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        fs::remove_dir_all(dir).unwrap();
    }
}
