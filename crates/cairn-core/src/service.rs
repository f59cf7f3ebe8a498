//! The storage boundary. The [`SessionManager`](crate::SessionManager) and the CLI talk to
//! storage only through [`SessionService`], so a second backend (a server, say) can be held
//! to the same conformance suite as the local SQLite one.
//!
//! Invariants every backend keeps:
//! - A session row exists only together with at least one event (deferred creation).
//! - `append_events` is atomic and compare-and-swap on the head: it writes nothing and returns
//!   [`ServiceError::HeadConflict`] when the stored head is not the one the writer last saw.
//! - `load_session` follows parent links back from the head; it never trusts row order.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::event::Event;
use crate::ids::{EventId, SessionId};
use crate::session::Session;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Storage errors. Only [`ServiceError::HeadConflict`] and [`ServiceError::Busy`] are worth
/// retrying (after reloading, for a conflict); the others need a person.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("session not found: {0}")]
    SessionNotFound(String),
    #[error("session {0} already exists")]
    SessionExists(SessionId),
    /// Another writer moved the head since we last read it. Nothing was written.
    #[error(
        "session {session_id} was changed by another process (expected head {expected:?}, found {actual:?})"
    )]
    HeadConflict {
        session_id: SessionId,
        expected: Option<EventId>,
        actual: Option<EventId>,
    },
    /// The database is locked by another process for longer than the busy timeout.
    #[error("the session database is busy: {0}")]
    Busy(String),
    /// The file was written by a newer Cairn; we refuse to touch it.
    #[error(
        "{path} was written by a newer version of Cairn (schema version {found}, this build knows up to {supported}); upgrade Cairn or point db_path elsewhere. The file was not modified."
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// Not a SQLite database, or damaged. Left untouched.
    #[error(
        "{path} is not a usable Cairn database ({reason}). The file was left untouched; move it aside to start a new one."
    )]
    Corrupt { path: PathBuf, reason: String },
    #[error("session storage failed: {0}")]
    Storage(String),
}

/// A session as loaded: the branch ending at the head, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedSession {
    pub session: Session,
    /// The events on the head's branch, oldest first, without unknown-type events.
    pub events: Vec<Event>,
    /// How many stored events are not on the head's branch (abandoned branches).
    pub off_branch_events: usize,
    /// Human-readable warnings: unknown event types skipped, broken links.
    pub warnings: Vec<String>,
}

/// One row of a session listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    pub session: Session,
    /// User and assistant messages stored for the session.
    pub message_count: u64,
    /// The first line of the latest user message, if any.
    pub preview: String,
}

/// Which sessions to list, newest (by `updated_at`) first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only sessions with this directory or this git root; `None` lists every workspace.
    pub workspace: Option<WorkspaceFilter>,
    pub include_archived: bool,
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceFilter {
    pub directory: PathBuf,
    pub git_root: Option<PathBuf>,
}

/// The question asked at startup: the newest session to continue here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumeQuery {
    pub directory: PathBuf,
    pub git_root: Option<PathBuf>,
    /// Only sessions whose last event is at or after this time; `None` ignores the window
    /// (`--continue`).
    pub updated_since_ms: Option<i64>,
}

#[async_trait]
pub trait SessionService: Send + Sync {
    /// Writes a new session together with its first events, atomically. The session's
    /// `head_id` is set to the last event. Fails with `SessionExists` if the id is taken.
    async fn create_session(&self, session: &Session, events: &[Event]) -> Result<()>;

    /// Appends `events` (already chained: each one's parent is the one before; the first's is
    /// usually `expected_head`, or an earlier event of the session when an answer is
    /// regenerated, which starts a new branch) and moves the head to the last one, only if
    /// the stored head still equals `expected_head`; otherwise writes nothing and returns
    /// `HeadConflict`. Also moves `updated_at` to the last event's time and keeps the
    /// message counts used by listings and the resume lookup.
    async fn append_events(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        events: &[Event],
    ) -> Result<()>;

    /// The session and its head branch. `SessionNotFound` if there is no such session.
    async fn load_session(&self, session_id: SessionId) -> Result<LoadedSession>;

    /// Only the session row.
    async fn get_session(&self, session_id: SessionId) -> Result<Option<Session>>;

    /// Sessions whose id (hyphens ignored, case-insensitive) starts with `prefix`; at most
    /// `limit`. Used to resolve short ids typed by the user.
    async fn find_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Session>>;

    /// The resumable session for a workspace: not archived, at least one event that goes to
    /// the model, updated within the window; an exact directory match wins over a newer
    /// session that only shares the git root.
    async fn find_resumable(&self, query: &ResumeQuery) -> Result<Option<Session>>;

    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionSummary>>;

    async fn set_title(&self, session_id: SessionId, title: &str, now_ms: i64) -> Result<()>;

    /// `Some(time)` archives, `None` un-archives. Does not move `updated_at`, so archiving does
    /// not make a session look recently used.
    async fn set_archived(&self, session_id: SessionId, archived_at_ms: Option<i64>) -> Result<()>;

    /// Removes the session and all its events.
    async fn delete_session(&self, session_id: SessionId) -> Result<()>;
}

/// The shortest prefix of `id` (at least eight hex digits) that no other session shares: what
/// to print in a `cairn -s <id>` hint.
///
/// The first twelve digits of a v7 id are its creation time, so sessions created within the
/// same minute share their first eight digits; the prefix grows as needed. When storage cannot
/// answer, the full id is returned (it is always unambiguous).
pub async fn unique_short_id(service: &dyn SessionService, id: SessionId) -> String {
    const MIN_SHORT_ID: usize = 8;
    let hex = id.0.simple().to_string();
    let mut length = MIN_SHORT_ID;
    while length < hex.len() {
        let prefix = &hex[..length];
        match service.find_by_id_prefix(prefix, 2).await {
            Ok(matches) if matches.len() <= 1 => return prefix.to_owned(),
            Ok(_) => length += 2,
            Err(_) => break,
        }
    }
    hex
}
