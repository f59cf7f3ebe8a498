//! Database rows and their conversion to domain types.
//!
//! Row types mirror the tables column for column and stay separate from the domain types, so
//! the schema can change without touching `cairn-core`. Decoding a session row fails loudly
//! (a session we cannot identify is useless). Event rows are only handed to the domain as
//! [`StoredEvent`]s: walking the branch and decoding events is
//! [`walk_branch`](cairn_core::branch::walk_branch)'s job, the same for every backend.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use cairn_core::branch::StoredEvent;
use cairn_core::service::WorkspaceFilter;
use cairn_core::title::TitleSource;
use cairn_core::{Event, EventKind, ForkOrigin, Location, ServiceError, Session, SessionSummary};

/// The columns of [`SessionRow`], as a literal so queries can be `concat!`ed constants.
macro_rules! session_columns {
    () => {
        "id, directory_bytes, git_root_bytes, head_id, title, created_at, updated_at, \
         archived_at, branch_message_count, branch_count, preview, model, \
         forked_from_session_id, forked_from_event_id, host, repository, \
         repository_folder_bytes, title_source"
    };
}
pub(crate) use session_columns;

/// Where the ids starting with `prefix` begin, for a range on the primary key: every such
/// id lies in `[start, start || 'g')`, since ids hold only hex digits and '-', all below 'g'
/// (bytewise, as both stores compare ids). `prefix` may drop or keep the hyphens; they are
/// put back where a canonical uuid has them. `None` for text no id can start with. A range
/// rather than `replace(id, '-', '') LIKE ...`, which would read every row.
pub(crate) fn id_prefix_start(prefix: &str) -> Option<String> {
    let hex: String = prefix
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.is_empty() || hex.len() > 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let mut start = String::with_capacity(hex.len() + 4);
    for (position, digit) in hex.chars().enumerate() {
        if matches!(position, 8 | 12 | 16 | 20) {
            start.push('-');
        }
        start.push(digit);
    }
    Some(start)
}

/// SQL for the strength of a stored title source, as a literal to `concat!`: a title may only
/// be replaced by one whose source is at least as strong (first message < model < model
/// checked once < user). An
/// unknown source (a newer build's) counts as the user's, which nothing automatic replaces.
macro_rules! title_source_rank {
    ($column:literal) => {
        concat!(
            "(CASE ",
            $column,
            " WHEN 'first_message' THEN 0 WHEN 'model' THEN 1 WHEN 'model_refreshed' THEN 2 \
             ELSE 3 END)"
        )
    };
}
pub(crate) use title_source_rank;

/// One session row by id.
pub(crate) const SESSION_BY_ID: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE id = ?1"
);

/// Longest preview, in characters.
const PREVIEW_MAX_CHARS: usize = 80;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SessionRow {
    pub id: String,
    /// The path's own bytes; see [`path_bytes`].
    pub directory_bytes: Vec<u8>,
    pub git_root_bytes: Option<Vec<u8>>,
    pub head_id: Option<String>,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived_at: Option<i64>,
    /// Messages on the head's branch (migration 0004).
    pub branch_message_count: i64,
    pub branch_count: i64,
    pub preview: String,
    pub model: Option<String>,
    pub forked_from_session_id: Option<String>,
    pub forked_from_event_id: Option<String>,
    /// Where the session was last active (migration 0007).
    pub host: Option<String>,
    pub repository: Option<String>,
    pub repository_folder_bytes: Option<Vec<u8>>,
    /// Where the title came from (migration 0008); see [`TitleSource`].
    pub title_source: String,
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    /// SQLite's rowid: loading reads a session in chunks of rowids.
    pub row: i64,
    pub id: String,
    pub parent_id: Option<String>,
    pub invocation_id: String,
    pub event_type: String,
    pub event_data: String,
    pub created_at: i64,
}

impl EventRow {
    pub fn fields(&self) -> StoredEvent<'_> {
        StoredEvent {
            id: &self.id,
            parent_id: self.parent_id.as_deref(),
            invocation_id: &self.invocation_id,
            event_type: &self.event_type,
            event_data: &self.event_data,
            created_at_ms: self.created_at,
        }
    }
}

impl SessionRow {
    pub fn into_session(self) -> Result<Session, ServiceError> {
        let bad_id = |what: &str, value: &str| {
            ServiceError::storage(format!("session row has a malformed {what} `{value}`"))
        };
        Ok(Session {
            id: self.id.parse().map_err(|_| bad_id("id", &self.id))?,
            directory: path_from_bytes(self.directory_bytes),
            git_root: self.git_root_bytes.map(path_from_bytes),
            head_id: match self.head_id {
                Some(head) => Some(head.parse().map_err(|_| bad_id("head id", &head))?),
                None => None,
            },
            title: self.title,
            created_at_ms: self.created_at,
            updated_at_ms: self.updated_at,
            archived_at_ms: self.archived_at,
            model: self.model,
            location: Location {
                host: self.host,
                repository: self.repository,
                repository_folder: self.repository_folder_bytes.map(path_from_bytes),
            },
        })
    }

    pub fn into_summary(self) -> Result<SessionSummary, ServiceError> {
        // Counters never go negative; a negative value would be damage, shown as zero.
        let message_count = u64::try_from(self.branch_message_count).unwrap_or(0);
        let branch_count = u64::try_from(self.branch_count).unwrap_or(0);
        let preview = self.preview.clone();
        let title_source = TitleSource::from_stored(&self.title_source);
        Ok(SessionSummary {
            session: self.into_session()?,
            message_count,
            branch_count,
            preview,
            title_source,
        })
    }

    /// Where the session was forked from; `None` when it was not, or when the record cannot
    /// be read (the fork itself is still a whole session).
    pub fn fork_origin(&self) -> Option<ForkOrigin> {
        Some(ForkOrigin {
            session_id: self.forked_from_session_id.as_deref()?.parse().ok()?,
            event_id: self.forked_from_event_id.as_deref()?.parse().ok()?,
        })
    }
}

/// The bytes a path is stored and matched by: the OS string exactly, so folders whose names
/// differ only in bytes that are not UTF-8 stay two workspaces.
pub(crate) fn path_bytes(path: &Path) -> &[u8] {
    path.as_os_str().as_bytes()
}

/// The `WHERE` condition for sessions of `workspace` (`?1` the directory, `?2` the git root,
/// `?4` the repository, on any machine; see [`workspace_bindings`]), `None` for every
/// workspace.
pub(crate) fn workspace_condition(workspace: Option<&WorkspaceFilter>) -> Option<&'static str> {
    match workspace {
        Some(WorkspaceFilter {
            git_root: Some(_), ..
        }) => Some("(directory_bytes = ?1 OR git_root_bytes = ?2 OR repository = ?4)"),
        Some(WorkspaceFilter { git_root: None, .. }) => {
            Some("(directory_bytes = ?1 OR repository = ?4)")
        }
        None => None,
    }
}

/// The directory, git root and repository bound in [`workspace_condition`].
pub(crate) type WorkspaceBindings<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Option<&'a str>);

/// The values for `?1`, `?2` and `?4` in [`workspace_condition`].
pub(crate) fn workspace_bindings(workspace: Option<&WorkspaceFilter>) -> WorkspaceBindings<'_> {
    match workspace {
        Some(workspace) => (
            Some(path_bytes(&workspace.directory)),
            workspace.git_root.as_deref().map(path_bytes),
            workspace.repository.as_deref(),
        ),
        None => (None, None, None),
    }
}

/// The inverse of [`path_bytes`].
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(OsString::from_vec(bytes))
}

/// The readable copy of a path kept beside its bytes for people and other tools: lossy
/// (bytes that are not UTF-8 become U+FFFD) and never matched on.
pub(crate) fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The first non-empty line of `text`, shortened with an ellipsis.
pub(crate) fn preview_of(text: &str) -> String {
    let first_line = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("");
    cairn_core::shorten::ellipsize(first_line, PREVIEW_MAX_CHARS)
}

/// What a batch of events adds to a session row's counters.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub messages: i64,
    pub model_events: i64,
    /// Preview of the batch's latest user message, if it has one.
    pub preview: Option<String>,
}

impl Counters {
    pub fn of(events: &[Event]) -> Self {
        let mut counters = Self::default();
        for event in events {
            counters.messages += i64::from(event.kind.is_message());
            counters.model_events += i64::from(event.kind.goes_to_model());
            if let EventKind::UserMessage { text } = &event.kind {
                counters.preview = Some(preview_of(text));
            }
        }
        counters
    }
}

/// Rows per chunk when loading a session. Each chunk is one string, so it stays far below
/// SQLite's string limit (1 GB by default) for ordinary events, and a session of any length
/// loads in `count / EVENTS_PER_CHUNK` round trips.
pub(super) const EVENTS_PER_CHUNK: i64 = 1_000;

/// Up to `?3` of a session's events after rowid `?2`, as one string: fields joined by
/// U+001F, rows by U+001E, the data last so that it alone may hold anything but the row
/// separator; and the last rowid of the chunk, where the next one starts. Walks
/// `session_events_by_session` in rowid order, a seek per chunk.
pub(super) const PACKED_EVENT_CHUNK: &str = "SELECT max(row), group_concat(\
     id || char(31) || ifnull(parent_id, '') || char(31) || invocation_id || char(31) || \
     event_type || char(31) || created_at || char(31) || event_data, char(30)) \
     FROM (SELECT rowid AS row, * FROM session_events \
     WHERE session_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3)";

/// The same rows as [`PACKED_EVENT_CHUNK`], one by one, for a chunk that cannot be packed.
pub(super) const EVENT_CHUNK_ROWS: &str = "SELECT rowid AS row, id, parent_id, invocation_id, event_type, \
     event_data, created_at FROM session_events \
     WHERE session_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3";

/// One chunk of a session's stored events, as read.
pub(super) enum EventChunk {
    Packed(String),
    Rows(Vec<EventRow>),
}

impl EventChunk {
    pub(super) fn stored_events(&self) -> Option<Vec<StoredEvent<'_>>> {
        match self {
            Self::Packed(packed) => unpack_event_rows(packed),
            Self::Rows(rows) => Some(rows.iter().map(EventRow::fields).collect()),
        }
    }
}

/// Splits [`PACKED_EVENT_CHUNK`]'s string back into rows; `None` if any row does not have
/// the expected shape.
pub(super) fn unpack_event_rows(packed: &str) -> Option<Vec<StoredEvent<'_>>> {
    packed
        .split('\u{1e}')
        .map(|record| {
            let mut fields = record.splitn(6, '\u{1f}');
            Some(StoredEvent {
                id: fields.next()?,
                parent_id: Some(fields.next()?).filter(|parent| !parent.is_empty()),
                invocation_id: fields.next()?,
                event_type: fields.next()?,
                created_at_ms: fields.next()?.parse().ok()?,
                event_data: fields.next()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_prefix_becomes_the_start_of_its_range_with_canonical_hyphens() {
        assert_eq!(id_prefix_start("019AB").as_deref(), Some("019ab"));
        assert_eq!(
            id_prefix_start("0192f3a4b5c6").as_deref(),
            Some("0192f3a4-b5c6")
        );
        assert_eq!(
            id_prefix_start("0192f3a4-b5c6-7").as_deref(),
            Some("0192f3a4-b5c6-7")
        );
        for impossible in ["", "-", "xyz", "0192'; DROP", &"a".repeat(33)] {
            assert_eq!(id_prefix_start(impossible), None, "{impossible}");
        }
    }
    use pretty_assertions::assert_eq;

    #[test]
    fn preview_is_the_first_line_shortened() {
        assert_eq!(preview_of("\n  why is it slow?\nmore"), "why is it slow?");
        let preview = preview_of(&"y".repeat(200));
        assert_eq!(preview.chars().count(), PREVIEW_MAX_CHARS);
        assert!(preview.ends_with('…'));
    }
}
