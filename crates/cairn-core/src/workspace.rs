//! Where Cairn was launched: the canonical directory and, inside a git work tree, its root.
//!
//! Both paths are canonical (symlinks resolved), so two paths to one folder are one
//! workspace. A linked worktree is its own workspace; a bare repository, or no repository,
//! means no git root.

use std::io;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    pub directory: PathBuf,
    pub git_root: Option<PathBuf>,
    /// The checked-out branch, for the model's context; `None` when detached or outside git.
    pub git_branch: Option<String>,
}

impl Workspace {
    /// Detects the workspace containing `dir`.
    pub fn detect(dir: &Path) -> io::Result<Self> {
        let directory = dir.canonicalize()?;
        let mut git_root = None;
        let mut git_branch = None;
        if let Ok(repo) = git2::Repository::discover(&directory)
            && !repo.is_bare()
        {
            // workdir() of a linked worktree is that worktree, not the main checkout.
            git_root = repo.workdir().and_then(|root| root.canonicalize().ok());
            git_branch = repo
                .head()
                .ok()
                .filter(|head| head.is_branch())
                .and_then(|head| head.shorthand().map(str::to_owned));
        }
        Ok(Self {
            directory,
            git_root,
            git_branch,
        })
    }

    /// The directory with the home folder written as `~`, for display.
    pub fn display_directory(&self) -> String {
        shorten_home(&self.directory)
    }
}

/// `path` with the home folder written as `~`.
pub fn shorten_home(path: &Path) -> String {
    if let Some(home) = directories::BaseDirs::new().map(|dirs| dirs.home_dir().to_path_buf())
        && let Ok(rest) = path.strip_prefix(&home)
    {
        return if rest.as_os_str().is_empty() {
            "~".to_owned()
        } else {
            format!("~/{}", rest.display())
        };
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[test]
    fn plain_directory_has_no_git_root() {
        let tmp = tempfile::tempdir().unwrap();
        let workspace = Workspace::detect(tmp.path()).unwrap();
        assert_eq!(workspace.directory, tmp.path().canonicalize().unwrap());
        assert_eq!(workspace.git_root, None);
    }

    #[test]
    fn subdirectory_of_a_repo_finds_the_root_and_symlinks_resolve() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        git(&repo, &["init", "-q", "-b", "trunk"]);
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&repo, &link).unwrap();

        let from_sub = Workspace::detect(&repo.join("src/deep")).unwrap();
        assert_eq!(from_sub.git_root, Some(repo.canonicalize().unwrap()));
        assert_eq!(
            from_sub.directory,
            repo.join("src/deep").canonicalize().unwrap()
        );

        let via_link = Workspace::detect(&link.join("src")).unwrap();
        assert_eq!(via_link.directory, repo.join("src").canonicalize().unwrap());
        assert_eq!(via_link.git_root, from_sub.git_root);
    }

    #[test]
    fn linked_worktree_is_its_own_workspace_and_bare_repo_has_none() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("main");
        std::fs::create_dir_all(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "trunk"]);
        git(&repo, &["commit", "-q", "--allow-empty", "-m", "first"]);
        git(
            &repo,
            &["worktree", "add", "-q", "-b", "feature", "../feature"],
        );

        let main = Workspace::detect(&repo).unwrap();
        let feature = Workspace::detect(&tmp.path().join("feature")).unwrap();
        assert_eq!(main.git_root, Some(repo.canonicalize().unwrap()));
        assert_eq!(main.git_branch.as_deref(), Some("trunk"));
        assert_eq!(
            feature.git_root,
            Some(tmp.path().join("feature").canonicalize().unwrap())
        );
        assert_eq!(feature.git_branch.as_deref(), Some("feature"));

        let bare = tmp.path().join("bare.git");
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare"]);
        assert_eq!(Workspace::detect(&bare).unwrap().git_root, None);
    }
}
