//! Where Cairn was launched: the canonical directory and, inside a git work tree, its root,
//! the repository's identity (its `origin`, normalised) and the machine's host name.
//!
//! Both paths are canonical (symlinks resolved), so two paths to one folder are one
//! workspace. A linked worktree is its own work tree; a bare repository, or no repository,
//! means no git root. The repository identity is what other machines, with the same
//! repository checked out at another path, recognise it by.

use std::io;
use std::path::{Path, PathBuf};

use crate::repository::repository_key;
use crate::session::{Location, Session};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    pub directory: PathBuf,
    pub git_root: Option<PathBuf>,
    /// The checked-out branch, for the model's context; `None` when detached or outside git.
    pub git_branch: Option<String>,
    /// The repository's identity ([`repository_key`] of its `origin`); `None` without one.
    pub repository: Option<String>,
    /// This machine's name ([`host_name`]).
    pub host: String,
}

impl Workspace {
    /// Detects the workspace containing `dir`.
    pub fn detect(dir: &Path) -> io::Result<Self> {
        let directory = dir.canonicalize()?;
        let mut git_root = None;
        let mut git_branch = None;
        let mut repository = None;
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
            repository = repo
                .find_remote("origin")
                .ok()
                .and_then(|remote| remote.url().and_then(repository_key));
        }
        Ok(Self {
            directory,
            git_root,
            git_branch,
            repository,
            host: host_name(),
        })
    }

    /// What a session started or continued here records: this machine, the repository and
    /// the folder inside its work tree.
    pub fn location(&self) -> Location {
        Location {
            host: Some(self.host.clone()),
            repository: self.repository.clone(),
            repository_folder: self
                .git_root
                .as_deref()
                .and_then(|root| self.directory.strip_prefix(root).ok())
                .map(Path::to_path_buf),
        }
    }

    /// The directory with the home folder written as `~`, for display.
    pub fn display_directory(&self) -> String {
        shorten_home(&self.directory)
    }
}

/// This machine's name: `CAIRN_HOST` when set (a container whose host name changes with
/// every start, say), else the kernel's host name, else "this machine". Read once.
pub fn host_name() -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(read_host_name).clone()
}

fn read_host_name() -> String {
    std::env::var("CAIRN_HOST")
        .ok()
        .filter(|name| !name.trim().is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "this machine".to_owned())
}

/// Where `session` was last active, for lists: its folder with the home folder as `~`, and
/// `@host` when that was not this machine (`this_host`). The host is text from the store:
/// the caller neutralises it with the rest of the line.
pub fn session_place(session: &Session, this_host: &str) -> String {
    let directory = shorten_home(&session.directory);
    match session.location.host.as_deref() {
        Some(host) if host != this_host => format!("{directory} @{host}"),
        _ => directory,
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
    fn a_session_elsewhere_shows_its_host() {
        let mut session = crate::Session {
            id: crate::SessionId::new(),
            directory: PathBuf::from("/srv/app"),
            git_root: None,
            head_id: None,
            title: String::new(),
            created_at_ms: 0,
            updated_at_ms: 0,
            archived_at_ms: None,
            model: None,
            location: Location::default(),
        };
        // Not recorded: this machine's, as every session was before hosts were recorded.
        assert_eq!(session_place(&session, "laptop"), "/srv/app");
        session.location.host = Some("laptop".to_owned());
        assert_eq!(session_place(&session, "laptop"), "/srv/app");
        session.location.host = Some("desktop".to_owned());
        assert_eq!(session_place(&session, "laptop"), "/srv/app @desktop");
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

        // No remote: no identity, but the folder inside the work tree is known.
        let location = from_sub.location();
        assert_eq!(location.repository, None);
        assert_eq!(location.repository_folder, Some(PathBuf::from("src/deep")));
        assert_eq!(
            Workspace::detect(&repo)
                .unwrap()
                .location()
                .repository_folder,
            Some(PathBuf::new())
        );
        assert_eq!(
            Workspace::detect(tmp.path())
                .unwrap()
                .location()
                .repository_folder,
            None
        );
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

        // Both work trees share the repository's `origin`, so both know its identity.
        git(
            &repo,
            &["remote", "add", "origin", "git@Example.com:team/app.git"],
        );
        let feature = Workspace::detect(&tmp.path().join("feature").join(".")).unwrap();
        assert_eq!(feature.repository.as_deref(), Some("example.com/team/app"));

        let bare = tmp.path().join("bare.git");
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare"]);
        assert_eq!(Workspace::detect(&bare).unwrap().git_root, None);
    }
}
