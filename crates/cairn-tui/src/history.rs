//! The prompt history file: what was sent, per workspace, for Up/Down recall.
//!
//! One JSON object a line (`{"dir": "/abs/workspace", "text": "..."}`) in
//! `<state_dir>/prompt-history.jsonl`, private to the user (file 0600, folder 0700). The file
//! keeps the newest [`MAX_ENTRIES`] prompts across all workspaces; older lines are dropped
//! when it grows past that. Unreadable lines are skipped, never fatal: history is a comfort.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Prompts kept in the file, all workspaces together.
pub const MAX_ENTRIES: usize = 1000;
const FILE_NAME: &str = "prompt-history.jsonl";

#[derive(Serialize, Deserialize)]
struct Entry {
    dir: String,
    text: String,
}

pub fn history_path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// The prompts sent in `workspace_dir`, oldest first.
pub fn load(state_dir: &Path, workspace_dir: &Path) -> Vec<String> {
    let Ok(text) = fs::read_to_string(history_path(state_dir)) else {
        return Vec::new();
    };
    let dir = workspace_dir.display().to_string();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Entry>(line).ok())
        .filter(|entry| entry.dir == dir)
        .map(|entry| entry.text)
        .collect()
}

/// Adds a prompt, trimming the file to the newest [`MAX_ENTRIES`].
pub fn append(state_dir: &Path, workspace_dir: &Path, text: &str) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)?;
    let path = history_path(state_dir);
    let entry = Entry {
        dir: workspace_dir.display().to_string(),
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
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)?;
        file.write_all((kept.join("\n") + "\n").as_bytes())?;
        drop(file);
        fs::rename(&temporary, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn prompts_are_kept_per_workspace_in_a_private_file() {
        let state = tempfile::tempdir().unwrap();
        let state_dir = state.path().join("cairn");
        append(&state_dir, Path::new("/a"), "first\nmultiline").unwrap();
        append(&state_dir, Path::new("/b"), "other").unwrap();
        append(&state_dir, Path::new("/a"), "second").unwrap();
        assert_eq!(
            load(&state_dir, Path::new("/a")),
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
            append(state.path(), Path::new("/a"), &format!("p{index}")).unwrap();
        }
        let loaded = load(state.path(), Path::new("/a"));
        assert_eq!(loaded.len(), MAX_ENTRIES);
        assert_eq!(loaded[0], "p5");
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let state = tempfile::tempdir().unwrap();
        fs::write(
            history_path(state.path()),
            "not json\n{\"dir\":\"/a\",\"text\":\"ok\"}\n",
        )
        .unwrap();
        assert_eq!(load(state.path(), Path::new("/a")), vec!["ok".to_owned()]);
    }
}
