//! A session: one conversation, tied to the workspace it was started in.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize, Serializer};

use crate::ids::{EventId, SessionId};
use crate::shorten::ellipsize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    /// Canonical absolute path of the folder the session was started in, exactly (its bytes
    /// need not be UTF-8).
    #[serde(serialize_with = "serialize_path_lossy")]
    pub directory: PathBuf,
    /// Canonical work-tree root, `None` outside a repository.
    #[serde(serialize_with = "serialize_optional_path_lossy")]
    pub git_root: Option<PathBuf>,
    /// The latest event of the session's current branch; `None` before the first event.
    pub head_id: Option<EventId>,
    /// May be empty; filled from the first user message when it is.
    pub title: String,
    pub created_at_ms: i64,
    /// Time of the latest event (or of the latest change of title/archive state).
    pub updated_at_ms: i64,
    pub archived_at_ms: Option<i64>,
    /// The model picked for this session with `/model`; `None` uses the configured one.
    #[serde(default)]
    pub model: Option<String>,
    /// The machine the session was last active on and the repository it belongs to there.
    #[serde(flatten, default)]
    pub location: Location,
}

/// Where a session was last active, beyond its paths: what lets another machine, with the
/// same repository checked out somewhere else, recognise it (see `docs/architecture.md`,
/// "The resume policy").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The machine's host name. `None` for sessions stored before Cairn recorded it, which
    /// every machine takes as its own (as all sessions were before).
    #[serde(default)]
    pub host: Option<String>,
    /// The repository's identity, its `origin` remote normalised
    /// ([`repository_key`](crate::repository::repository_key)); `None` without such a
    /// remote or outside a repository.
    #[serde(default)]
    pub repository: Option<String>,
    /// The session's folder inside its work tree (empty at the root); `None` outside a
    /// repository.
    #[serde(default, serialize_with = "serialize_optional_path_lossy")]
    pub repository_folder: Option<PathBuf>,
}

/// Paths in JSON are text for people and programs to read. JSON cannot hold bytes that are
/// not UTF-8, and serde's own `Path` refuses them, so such bytes are written as U+FFFD.
fn serialize_path_lossy<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

fn serialize_optional_path_lossy<S: Serializer>(
    path: &Option<PathBuf>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match path {
        Some(path) => serialize_path_lossy(path, serializer),
        None => serializer.serialize_none(),
    }
}

/// Longest automatic title, in terminal columns.
pub const TITLE_MAX_WIDTH: usize = 60;

/// A title as typed or derived, made one clean line: control characters (escape sequences
/// included) and runs of white space become single spaces. Titles are printed in listings
/// and status lines, so they must never carry anything a terminal would act on.
pub fn clean_title(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || crate::text::control_replacement(c).is_some())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A title taken from the first line of a user message, shortened with an ellipsis.
pub fn title_from_message(text: &str) -> String {
    // A Markdown heading marker says nothing about the topic: "# Fix the build" is titled
    // "Fix the build".
    let first_line = text
        .lines()
        .map(|line| line.trim().trim_start_matches('#').trim())
        .find(|line| !line.is_empty())
        .unwrap_or("");
    let first_line = clean_title(first_line);
    ellipsize(&first_line, TITLE_MAX_WIDTH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_are_not_utf8_serialize_lossily() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;

        let session = Session {
            id: "0190a000-0000-7000-8000-000000000001".parse().unwrap(),
            directory: PathBuf::from(OsStr::from_bytes(b"/w/p\xff")),
            git_root: Some(PathBuf::from("/w")),
            head_id: None,
            title: String::new(),
            created_at_ms: 1,
            updated_at_ms: 2,
            archived_at_ms: None,
            model: None,
            location: Location {
                host: Some("laptop".to_owned()),
                repository: Some("host/a/b".to_owned()),
                repository_folder: Some(PathBuf::from("p\u{fffd}")),
            },
        };
        assert_eq!(
            serde_json::to_value(&session).unwrap(),
            serde_json::json!({
                "id": "0190a000-0000-7000-8000-000000000001",
                "directory": "/w/p\u{fffd}",
                "git_root": "/w",
                "head_id": null,
                "title": "",
                "created_at_ms": 1,
                "updated_at_ms": 2,
                "archived_at_ms": null,
                "model": null,
                "host": "laptop",
                "repository": "host/a/b",
                "repository_folder": "p\u{fffd}",
            })
        );
    }

    #[test]
    fn title_is_first_non_empty_line_shortened() {
        assert_eq!(
            title_from_message("\n  fix the build \nplease"),
            "fix the build"
        );
        let long = "x".repeat(100);
        assert_eq!(title_from_message("## Plan\nsteps"), "Plan");
        assert_eq!(
            title_from_message("hi \x1b[2J \x1b]0;pwned\x07 there\tnow"),
            "hi [2J ]0;pwned there now"
        );
        assert_eq!(title_from_message("#\nreal topic"), "real topic");
        let title = title_from_message(&long);
        assert_eq!(title.chars().count(), TITLE_MAX_WIDTH);
        assert!(title.ends_with('…'));
    }
}
