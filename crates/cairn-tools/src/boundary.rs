//! The workspace boundary: whether a path the model names is inside the workspace.
//!
//! Invariant: a path is resolved (made absolute against the workspace folder, `~`
//! expanded, every symlink and `..` followed by the filesystem) **before** it is compared
//! with the workspace root, so `src/../../etc`, a symlink to `/` and `/proc/self/root` are
//! all outside. A path that does not exist cannot be resolved and is reported as such.

use std::io;
use std::path::{Path, PathBuf};

use cairn_core::paths::expand_home;

/// The folder tools read freely.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceBoundary {
    /// Canonical.
    root: PathBuf,
}

/// A path the model named, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedPath {
    /// Canonical: absolute, symlinks and `..` resolved.
    pub path: PathBuf,
    pub inside: bool,
}

impl WorkspaceBoundary {
    /// The boundary at `root` (the git work tree, or the folder Cairn started in).
    pub fn new(root: &Path) -> io::Result<Self> {
        Ok(Self {
            root: root.canonicalize()?,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `path` (relative paths are relative to the root).
    pub fn resolve(&self, path: &str) -> io::Result<ResolvedPath> {
        let named = expand_home(Path::new(path));
        let absolute = if named.is_absolute() {
            named
        } else {
            self.root.join(named)
        };
        let path = absolute.canonicalize()?;
        let inside = path.starts_with(&self.root);
        Ok(ResolvedPath { path, inside })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_and_dot_dots_are_resolved_before_the_check() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("work");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(outer.path().join("secret.txt"), "x").unwrap();
        std::os::unix::fs::symlink(outer.path(), root.join("escape")).unwrap();
        std::os::unix::fs::symlink(root.join("src"), root.join("alias")).unwrap();
        let boundary = WorkspaceBoundary::new(&root).unwrap();

        let inside = |path: &str| boundary.resolve(path).unwrap().inside;
        assert!(inside("."));
        assert!(inside("src"));
        assert!(inside("src/../src"));
        assert!(inside("alias"));
        assert!(inside(&root.join("src").display().to_string()));
        assert!(!inside(".."));
        assert!(!inside("src/../../secret.txt"));
        assert!(!inside("escape/secret.txt"));
        assert!(!inside("escape/work/../secret.txt"));
        assert!(!inside("/"));
        // A sibling whose name starts with the root's is not inside it.
        std::fs::create_dir_all(outer.path().join("workshop")).unwrap();
        assert!(!inside("../workshop"));
        assert_eq!(
            boundary.resolve("missing").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
    }
}
