//! Writing a file only the user can read (mode 0600): exports, the prompt history.
//!
//! A conversation can hold anything, so the file a user asks for must not end up readable by
//! others, must not be written somewhere else through a symbolic link planted at that name,
//! and must not silently replace a file that was already there. The caller decides, per
//! write, whether replacing an existing file was asked for ([`Overwrite`]).

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Owner read and write, nobody else.
const PRIVATE_MODE: u32 = 0o600;

/// Whether a write may replace a file that already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overwrite {
    /// Fail with [`io::ErrorKind::AlreadyExists`] if anything exists at the path.
    Refuse,
    /// Replace an existing regular file (its mode becomes 0600). A symbolic link at the path
    /// is still refused, never followed.
    Replace,
}

/// Writes `contents` to `path` as a 0600 file.
///
/// Never follows a symbolic link at `path` (the last component): with [`Overwrite::Refuse`]
/// the link counts as an existing file; with [`Overwrite::Replace`] opening it fails.
pub fn write_private(path: &Path, contents: &[u8], overwrite: Overwrite) -> io::Result<()> {
    let mut file = open_private(path, overwrite)?;
    // An existing file keeps its old mode when opened; a conversation must not stay 0644.
    file.set_permissions(Permissions::from_mode(PRIVATE_MODE))?;
    file.write_all(contents)?;
    file.sync_all()
}

fn open_private(path: &Path, overwrite: Overwrite) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).mode(PRIVATE_MODE);
    match overwrite {
        // O_CREAT | O_EXCL fails on any existing name, a symbolic link (even a dangling one)
        // included, so nothing is ever written through one.
        Overwrite::Refuse => options.create_new(true),
        // O_NOFOLLOW makes opening a symbolic link fail instead of opening its target.
        Overwrite::Replace => options
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_NOFOLLOW),
    };
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::os::unix::fs::symlink;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.md");
        write_private(&path, b"hello", Overwrite::Refuse).unwrap();
        assert_eq!(
            (std::fs::read_to_string(&path).unwrap(), mode(&path)),
            ("hello".to_owned(), 0o600)
        );
    }

    #[test]
    fn an_existing_file_is_kept_unless_replacing_was_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.md");
        std::fs::write(&path, "old contents, longer than the new").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();

        let err = write_private(&path, b"new", Overwrite::Refuse).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            (std::fs::read_to_string(&path).unwrap(), mode(&path)),
            ("old contents, longer than the new".to_owned(), 0o644)
        );

        write_private(&path, b"new", Overwrite::Replace).unwrap();
        assert_eq!(
            (std::fs::read_to_string(&path).unwrap(), mode(&path)),
            ("new".to_owned(), 0o600)
        );
    }

    #[test]
    fn a_symbolic_link_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("link.md");
        symlink(&target, &link).unwrap();
        let dangling = dir.path().join("dangling.md");
        symlink(dir.path().join("nowhere"), &dangling).unwrap();

        for overwrite in [Overwrite::Refuse, Overwrite::Replace] {
            assert!(
                write_private(&link, b"x", overwrite).is_err(),
                "{overwrite:?}"
            );
            assert!(
                write_private(&dangling, b"x", overwrite).is_err(),
                "{overwrite:?}"
            );
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(!dir.path().join("nowhere").exists());
    }
}
