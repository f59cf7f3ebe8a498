//! The prompt history file: what was sent, per workspace, for Up/Down recall.
//!
//! A workspace is the git repository when there is one (its root is the key, so every
//! subfolder shares one history) and the folder otherwise; see [`HistoryScope`]. Entries
//! written before histories were kept per repository carry the subfolder they were sent
//! from; they still count for the repository that contains that folder.
//!
//! One JSON object a line (`{"dir": "/abs/workspace", "text": "..."}`) in
//! `<state_dir>/prompt-history.jsonl`, private to the user (file 0600, folder 0700). The file
//! keeps the newest [`MAX_ENTRIES`] prompts across all workspaces; older lines are dropped
//! when it grows past that. A prompt bigger than [`MAX_ENTRY_BYTES`] (a long log pasted in) is
//! not kept at all: cut, it would be a different message sent again by mistake, and a few
//! such pastes would make the file, read on every start, hundreds of megabytes. Unreadable
//! lines are skipped, never fatal: history is a comfort.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use cairn_core::private_file::{Overwrite, write_private};
use serde::{Deserialize, Serialize};

/// Prompts kept in the file, all workspaces together.
pub const MAX_ENTRIES: usize = 1000;
/// The largest prompt kept, in bytes of UTF-8.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// Whether `text` is small enough to be kept in the history.
pub fn fits(text: &str) -> bool {
    text.len() <= MAX_ENTRY_BYTES
}
const FILE_NAME: &str = "prompt-history.jsonl";

#[derive(Serialize, Deserialize)]
struct Entry {
    dir: String,
    text: String,
}

/// Which prompts belong together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HistoryScope {
    /// A git repository, by its root: prompts sent anywhere inside it.
    Repository(PathBuf),
    /// A folder outside git: prompts sent in exactly that folder.
    Folder(PathBuf),
}

impl HistoryScope {
    pub fn for_workspace(workspace: &cairn_core::Workspace) -> Self {
        match &workspace.git_root {
            Some(root) => Self::Repository(root.clone()),
            None => Self::Folder(workspace.directory.clone()),
        }
    }

    /// What new entries are written under.
    fn key(&self) -> &Path {
        match self {
            Self::Repository(path) | Self::Folder(path) => path,
        }
    }

    fn contains(&self, dir: &str) -> bool {
        let dir = Path::new(dir);
        match self {
            Self::Repository(root) => dir.starts_with(root),
            Self::Folder(folder) => dir == folder,
        }
    }
}

pub fn history_path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// The prompts sent in `scope`, oldest first.
pub fn load(state_dir: &Path, scope: &HistoryScope) -> Vec<String> {
    let Ok(text) = fs::read_to_string(history_path(state_dir)) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
        .filter(|entry| scope.contains(&entry.dir) && fits(&entry.text))
        .map(|entry| entry.text)
        .collect()
}

/// Adds a prompt, trimming the file to the newest [`MAX_ENTRIES`]; one that does not
/// [`fits`] is left out.
pub fn append(state_dir: &Path, scope: &HistoryScope, text: &str) -> io::Result<()> {
    if !fits(text) {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)?;
    let path = history_path(state_dir);
    let entry = Entry {
        dir: scope.key().display().to_string(),
        text: text.to_owned(),
    };
    let line = serde_json::to_string(&entry).map_err(io::Error::other)?;
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)?;
    writeln!(file, "{line}")?;
    drop(file);

    let contents = fs::read_to_string(&path)?;
    let count = contents.lines().count();
    if count > MAX_ENTRIES {
        let kept: Vec<&str> = contents.lines().skip(count - MAX_ENTRIES).collect();
        let temporary = path.with_extension("jsonl.tmp");
        write_private(
            &temporary,
            (kept.join("\n") + "\n").as_bytes(),
            Overwrite::Replace,
        )?;
        fs::rename(&temporary, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::os::unix::fs::PermissionsExt;

    fn folder(path: &str) -> HistoryScope {
        HistoryScope::Folder(PathBuf::from(path))
    }

    #[test]
    fn prompts_are_kept_per_workspace_in_a_private_file() {
        let state = tempfile::tempdir().unwrap();
        let state_dir = state.path().join("cairn");
        append(&state_dir, &folder("/a"), "first\nmultiline").unwrap();
        append(&state_dir, &folder("/b"), "other").unwrap();
        append(&state_dir, &folder("/a"), "second").unwrap();
        assert_eq!(
            load(&state_dir, &folder("/a")),
            vec!["first\nmultiline".to_owned(), "second".to_owned()]
        );
        let mode = fs::metadata(history_path(&state_dir))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn the_file_is_capped() {
        let state = tempfile::tempdir().unwrap();
        for index in 0..MAX_ENTRIES + 5 {
            append(state.path(), &folder("/a"), &format!("p{index}")).unwrap();
        }
        let loaded = load(state.path(), &folder("/a"));
        assert_eq!(loaded.len(), MAX_ENTRIES);
        assert_eq!(loaded[0], "p5");
    }

    #[test]
    fn a_prompt_past_the_size_cap_is_not_kept() {
        let state = tempfile::tempdir().unwrap();
        let largest = "x".repeat(MAX_ENTRY_BYTES);
        append(state.path(), &folder("/a"), &largest).unwrap();
        append(state.path(), &folder("/a"), &format!("{largest}y")).unwrap();
        // One written by a version without the cap is not loaded either.
        let old = serde_json::to_string(&Entry {
            dir: "/a".to_owned(),
            text: "z".repeat(MAX_ENTRY_BYTES + 1),
        })
        .unwrap();
        let mut file = OpenOptions::new()
            .append(true)
            .open(history_path(state.path()))
            .unwrap();
        writeln!(file, "{old}").unwrap();
        assert_eq!(load(state.path(), &folder("/a")), vec![largest]);
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let state = tempfile::tempdir().unwrap();
        fs::write(
            history_path(state.path()),
            "not json\n{\"dir\":\"/a\",\"text\":\"ok\"}\n",
        )
        .unwrap();
        assert_eq!(load(state.path(), &folder("/a")), vec!["ok".to_owned()]);
    }

    #[test]
    fn a_repository_shares_one_history_across_its_subfolders() {
        let state = tempfile::tempdir().unwrap();
        let repo = HistoryScope::Repository(PathBuf::from("/repo"));
        // Written before histories were per repository: keyed by the subfolder.
        append(state.path(), &folder("/repo/sub"), "old from sub").unwrap();
        append(state.path(), &repo, "from the root").unwrap();
        append(state.path(), &folder("/repository-next-door"), "not ours").unwrap();
        append(state.path(), &repo, "newest").unwrap();
        assert_eq!(
            load(state.path(), &repo),
            vec![
                "old from sub".to_owned(),
                "from the root".to_owned(),
                "newest".to_owned()
            ]
        );
        // A plain folder keeps its own, exactly.
        assert_eq!(
            load(state.path(), &folder("/repo")),
            vec!["from the root".to_owned(), "newest".to_owned()]
        );
        let workspace = cairn_core::Workspace {
            directory: PathBuf::from("/repo/sub"),
            git_root: Some(PathBuf::from("/repo")),
            git_branch: None,
            repository: None,
            host: "here".to_owned(),
        };
        assert_eq!(HistoryScope::for_workspace(&workspace), repo);
    }
}
