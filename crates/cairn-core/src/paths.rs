//! Paths as a user types them: a leading `~` means the home folder, as in a shell.
//!
//! One expansion for every place a user names a file (the config's `db_path`, `/export`,
//! `cairn sessions export -o`), so `~` means the same thing everywhere. Only `~` and `~/...`
//! are expanded; `~other/...` (another user's home) and a `~` later in the path are kept as
//! written, since guessing there would write somewhere the user did not mean.

use std::path::{Path, PathBuf};

/// `path` with a leading `~` replaced by the current user's home folder; any other path, or
/// any path when the home folder is unknown, as it is.
pub fn expand_home(path: &Path) -> PathBuf {
    let home = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf());
    expand_home_in(path, home.as_deref())
}

/// [`expand_home`] with the home folder given, so tests need not change the environment.
fn expand_home_in(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_leading_tilde_is_the_home_folder() {
        let home = Some(Path::new("/home/dev"));
        let expand = |path: &str| expand_home_in(Path::new(path), home);
        assert_eq!(
            [
                expand("~/exp.md"),
                expand("~"),
                expand("~other/x"),
                expand("/w/~/x"),
                expand("notes/~"),
                expand_home_in(Path::new("~/x"), None),
            ],
            [
                PathBuf::from("/home/dev/exp.md"),
                PathBuf::from("/home/dev"),
                PathBuf::from("~other/x"),
                PathBuf::from("/w/~/x"),
                PathBuf::from("notes/~"),
                PathBuf::from("~/x"),
            ]
        );
    }

    #[test]
    fn the_real_home_folder_is_used() {
        let Some(dirs) = directories::BaseDirs::new() else {
            return;
        };
        assert_eq!(expand_home(Path::new("~/a")), dirs.home_dir().join("a"));
    }
}
