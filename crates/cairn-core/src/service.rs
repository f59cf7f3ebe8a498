//! The storage boundary. The [`SessionManager`](crate::SessionManager) and the CLI talk to
//! storage only through [`SessionService`], so a second backend (a server, say) can be held
//! to the same conformance suite as the local SQLite one.
//!
//! Invariants every backend keeps:
//! - A session row exists only together with at least one event (deferred creation).
//! - `append_events` is atomic and compare-and-swap on the head: it writes nothing and returns
//!   [`ServiceError::Conflict`] when the stored head is not the one the writer last saw.
//! - `load_session` follows parent links back from the head; it never trusts row order. The
//!   walk itself is [`walk_branch`](crate::branch::walk_branch), shared by every backend.
//! - Events are never changed or removed while their session lives: a session is a tree of
//!   branches, and moving to another branch (`switch_head`) only moves the head, with the
//!   same compare-and-swap as appends.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::event::Event;
use crate::ids::{EventId, InvocationId, SessionId};
use crate::lease::{AnswerDraft, LeaseHolder, LeaseOutcome, TurnLease};
use crate::search::{SearchHit, SearchRequest};
use crate::session::{Location, Session};
use crate::title::TitleSource;
use crate::transfer::{ImportOutcome, SessionExport};

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// A backend's own error (from its database driver, the file system, the network), kept
/// inside a [`ServiceError`].
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Storage errors, in terms of sessions and stores, so that every backend reports the same
/// situations the same way.
///
/// Each message is complete on its own and as precise as the backend can make it (the file
/// or server, the versions involved, whether anything was changed, what to do): the chat
/// screen shows the message and nothing else.
///
/// Retryable: [`ServiceError::Conflict`] (after reloading the session) and
/// [`ServiceError::Unavailable`] (later, as it was). The others need a person or a different
/// request.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No session has this id. Not retryable.
    #[error("session not found: {0}")]
    NotFound(SessionId),
    /// A session with this id is stored already; nothing was written. Not retryable.
    #[error("session {0} already exists")]
    AlreadyExists(SessionId),
    /// Another writer moved the head since we last read it; nothing was written. Retryable
    /// after reloading the session and putting the new events after its new head.
    #[error(
        "session {session_id} was changed by another process (expected head {expected:?}, found {actual:?})"
    )]
    Conflict {
        session_id: SessionId,
        expected: Option<EventId>,
        actual: Option<EventId>,
    },
    /// The store cannot serve us right now: another writer holds it for longer than the
    /// backend waits, or it cannot be reached. Nothing was written. Retryable later, as it was.
    #[error("{message}")]
    Unavailable {
        /// The whole message, naming the store, for example "the session database is busy:
        /// database is locked".
        message: String,
        /// The backend's own error, if there is one. It is not chained as
        /// [`std::error::Error::source`] because the message already says what it says, and
        /// reports that print the chain would say it twice.
        cause: Option<BackendError>,
    },
    /// This build must not use the store, and left it exactly as it was: it was written by a
    /// newer Cairn (a schema version this build does not know), it is not a Cairn store, or it
    /// is damaged. Not retryable: a person has to upgrade Cairn or point it at another store.
    #[error("{location} {reason}")]
    Incompatible {
        /// Where the store is: a file's path, or a server's host and database name.
        location: String,
        /// What follows the location in the message: what is wrong, with versions or the
        /// backend's own diagnosis, that nothing was changed, and what to do.
        reason: String,
        /// The backend's own error, if there is one; see [`ServiceError::Unavailable`].
        cause: Option<BackendError>,
    },
    /// The session has no event with this id (it may belong to another session). Nothing was
    /// written. Not retryable.
    #[error("session {session_id} has no event {event_id}")]
    EventNotFound {
        session_id: SessionId,
        event_id: EventId,
    },
    /// Anything else the store could not do. Not retryable as such.
    #[error("session storage failed: {message}")]
    Storage {
        message: String,
        /// The backend's own error, if there is one; see [`ServiceError::Unavailable`].
        cause: Option<BackendError>,
    },
}

impl ServiceError {
    /// A [`ServiceError::Storage`] that no error of the backend's caused: a request the store
    /// refuses, or data it cannot make sense of.
    pub fn storage(message: impl Into<String>) -> Self {
        Self::Storage {
            message: message.into(),
            cause: None,
        }
    }
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
    /// Where the session was forked from, if it was.
    pub forked_from: Option<ForkOrigin>,
}

/// Every event of a session, on every branch: what the conversation tree is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEvents {
    pub session: Session,
    /// Every readable event of a known type, in no particular order. An event whose parent
    /// was left out (a type this build does not know, an unreadable row) points at that
    /// parent's nearest readable ancestor instead; see
    /// [`decode_all`](crate::branch::decode_all).
    pub events: Vec<Event>,
    /// Human-readable warnings: unknown event types skipped, unreadable rows.
    pub warnings: Vec<String>,
    pub forked_from: Option<ForkOrigin>,
}

/// Where a forked session came from: the session and the event its copy ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForkOrigin {
    pub session_id: SessionId,
    pub event_id: EventId,
}

/// The newest events of a session's head branch: what a resumed chat draws at once, while
/// the whole branch loads behind it (a long session would otherwise keep the user waiting
/// for events far above the screen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentEvents {
    pub session: Session,
    /// The newest events on the head's branch, oldest first: a suffix of
    /// [`LoadedSession::events`], at most the number asked for (fewer when events of a type
    /// this build does not know were skipped on the way).
    pub events: Vec<Event>,
    /// Whether the branch holds older events than these.
    pub has_earlier: bool,
}

/// A cheap marker of everything a chat window shows of a session, read about once a second
/// by every window on it: when it is unchanged, nothing needs to be loaded. Any write by
/// another process (events appended, archived, its turn lease taken or given back, a draft
/// saved) changes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionVersion {
    pub head_id: Option<EventId>,
    pub updated_at_ms: i64,
    pub archived_at_ms: Option<i64>,
    /// The invocation holding the session's turn lease (live or expired) and its expiry.
    pub lease: Option<(InvocationId, i64)>,
    /// When the newest of the session's drafts was saved.
    pub draft_saved_at_ms: Option<i64>,
}

/// One row of a session listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSummary {
    pub session: Session,
    /// User and assistant messages on the session's active (head) branch: what a person
    /// sees on resuming it.
    pub message_count: u64,
    /// How many branches (leaf events) the session has; 1 for a straight conversation.
    pub branch_count: u64,
    /// The first line of the latest user message, if any.
    pub preview: String,
    /// Where the session's title came from: automatic or set by the user.
    pub title_source: TitleSource,
}

/// How many sessions a workspace (or every workspace) has, archived ones apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionCounts {
    pub active: u64,
    pub archived: u64,
}

/// Which sessions to list, newest (by `updated_at`) first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only sessions with this directory, this git root or this repository; `None` lists
    /// every workspace.
    pub workspace: Option<WorkspaceFilter>,
    pub include_archived: bool,
    pub limit: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkspaceFilter {
    pub directory: PathBuf,
    pub git_root: Option<PathBuf>,
    /// Sessions of this repository on any machine too (see
    /// [`Location::repository`]); listings and counts only, search ignores it.
    pub repository: Option<String>,
}

/// The question asked at startup: the newest session to continue here. Which one is the
/// resume policy (see [`SessionService::find_resumable`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumeQuery {
    pub directory: PathBuf,
    pub git_root: Option<PathBuf>,
    /// This machine, the repository and the folder inside it.
    pub location: Location,
    /// Only sessions whose last event is at or after this time; `None` ignores the window
    /// (`--continue`).
    pub updated_since_ms: Option<i64>,
}

#[async_trait]
pub trait SessionService: Send + Sync {
    /// Writes a new session together with its first events, atomically. The session's
    /// `head_id` is set to the last event. Fails with `AlreadyExists` if the id is taken.
    async fn create_session(&self, session: &Session, events: &[Event]) -> Result<()>;

    /// Appends `events` (already chained: each one's parent is the one before; the first's is
    /// usually `expected_head`, or an earlier event of the session when an answer is
    /// regenerated, which starts a new branch) and moves the head to the last one, only if
    /// the stored head still equals `expected_head`; otherwise writes nothing and returns
    /// `Conflict`. Also moves `updated_at` to the last event's time and keeps the
    /// message counts used by listings and the resume lookup.
    async fn append_events(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        events: &[Event],
    ) -> Result<()>;

    /// The session and its head branch. `NotFound` if there is no such session.
    async fn load_session(&self, session_id: SessionId) -> Result<LoadedSession>;

    /// The newest `limit` events of the session's head branch, cheaply however long the
    /// session is. `NotFound` if there is no such session. The default loads the whole branch;
    /// a backend that can walk back from the head on its own does so.
    async fn load_recent(&self, session_id: SessionId, limit: usize) -> Result<RecentEvents> {
        let loaded = self.load_session(session_id).await?;
        let mut events = loaded.events;
        let earlier = events.len().saturating_sub(limit);
        let recent = events.split_off(earlier);
        Ok(RecentEvents {
            session: loaded.session,
            events: recent,
            has_earlier: earlier > 0,
        })
    }

    /// The session and every event it holds, on every branch. `NotFound` if there is no
    /// such session.
    async fn load_all_events(&self, session_id: SessionId) -> Result<SessionEvents>;

    /// Moves the session's head to `new_head`, an event of this session (any event: the
    /// domain picks which), only if the stored head still equals `expected_head`; otherwise
    /// writes nothing and returns `Conflict`. `EventNotFound` (nothing written) when the
    /// session has no such event. Events are untouched and `updated_at` does not move; the
    /// listing counts follow the new branch.
    async fn switch_head(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        new_head: EventId,
    ) -> Result<()>;

    /// Writes a forked session like [`SessionService::create_session`] (the same checks,
    /// the head at the last event) and records `origin`. The events are the caller's copies
    /// (new ids, this session's id). `EventNotFound` (nothing written) when the origin
    /// session has no event `origin.event_id`; `NotFound` when there is no origin session.
    async fn create_fork(
        &self,
        session: &Session,
        events: &[Event],
        origin: ForkOrigin,
    ) -> Result<()>;

    /// Only the session row.
    async fn get_session(&self, session_id: SessionId) -> Result<Option<Session>>;

    /// Sessions whose id (hyphens ignored, case-insensitive) starts with `prefix`; at most
    /// `limit`. Used to resolve short ids typed by the user.
    async fn find_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Session>>;

    /// The resumable session for a workspace: not archived, at least one event that goes to
    /// the model, updated within the window. The newest of the first of these that has one:
    /// 1. the exact directory on this machine;
    /// 2. the same repository and the same folder inside it, on any machine;
    /// 3. the same work tree (git root) on this machine;
    /// 4. the same repository, on any machine.
    ///
    /// "This machine" is `query.location.host`; a session whose host is not recorded counts
    /// as this machine's. Without a repository identity only steps 1 and 3 apply.
    async fn find_resumable(&self, query: &ResumeQuery) -> Result<Option<Session>>;

    /// Up to `limit` whole sessions (archived ones too) whose id comes after `after` (from
    /// the first when `None`), in id order: the source side of
    /// [`copy_sessions`](crate::transfer::copy_sessions).
    async fn export_sessions(
        &self,
        after: Option<SessionId>,
        limit: u32,
    ) -> Result<Vec<SessionExport>>;

    /// Writes the sessions of `page` this store does not have, exactly as given (ids,
    /// events of every branch, head, title, archive state, model, location, fork origin),
    /// in one transaction; skips those it has. Listing counters and search follow as if the
    /// events had been appended here.
    async fn import_sessions(&self, page: &[SessionExport]) -> Result<ImportOutcome>;

    /// Records where `session` is now active: its `directory`, `git_root` and `location` are
    /// written, nothing else. Like archiving, it does not move `updated_at`. `NotFound` if
    /// the session is not stored.
    async fn record_location(&self, session: &Session) -> Result<()>;

    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionSummary>>;

    /// How many sessions `list_sessions` could show for `workspace` (`None`: every
    /// workspace): what a listing cut by its limit, or hiding archived sessions, left out.
    async fn count_sessions(&self, workspace: Option<&WorkspaceFilter>) -> Result<SessionCounts>;

    /// Gives the session `title` from `source`, atomically only if the stored title's source
    /// is not stronger (first message < model < model checked once < user), so a title the user set is never
    /// replaced by an automatic one, whatever runs at the same time. `Ok(false)` when the
    /// stored title was kept. Moves `updated_at` to `now_ms` if that is later. `NotFound` if
    /// the session is not stored.
    async fn set_title(
        &self,
        session_id: SessionId,
        title: &str,
        source: TitleSource,
        now_ms: i64,
    ) -> Result<bool>;

    /// Where the session's stored title came from. `NotFound` if the session is not stored.
    async fn title_source(&self, session_id: SessionId) -> Result<TitleSource>;

    /// Sets the model the session uses (`None`: the configured one). Like archiving, it does
    /// not move `updated_at`. `NotFound` if the session is not stored.
    async fn set_model(&self, session_id: SessionId, model: Option<&str>) -> Result<()>;

    /// `Some(time)` archives, `None` un-archives. Does not move `updated_at`, so archiving does
    /// not make a session look recently used.
    async fn set_archived(&self, session_id: SessionId, archived_at_ms: Option<i64>) -> Result<()>;

    /// Removes the session and all its events, its lease and its drafts.
    async fn delete_session(&self, session_id: SessionId) -> Result<()>;

    /// Takes the session's turn lease for `holder` until `now_ms + ttl_ms`, atomically: it is
    /// granted when nobody holds it, when its lease has expired, or when `holder` holds it
    /// already (a renewal); otherwise the live lease is returned. The session need not be
    /// stored yet (a new session's first turn).
    async fn acquire_lease(
        &self,
        session_id: SessionId,
        holder: &LeaseHolder,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<LeaseOutcome>;

    /// Extends `invocation_id`'s lease to `now_ms + ttl_ms`. `false` when it no longer holds
    /// it (it expired and another holder took it over).
    async fn renew_lease(
        &self,
        session_id: SessionId,
        invocation_id: InvocationId,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool>;

    /// Gives up `invocation_id`'s lease; nothing happens if it does not hold it.
    async fn release_lease(&self, session_id: SessionId, invocation_id: InvocationId)
    -> Result<()>;

    /// The session's lease as stored, live or expired.
    async fn current_lease(&self, session_id: SessionId) -> Result<Option<TurnLease>>;

    /// Saves (replaces) the draft of `draft.invocation_id`'s answer in the session.
    /// Appending any event of that invocation to the session settles the draft: both
    /// `create_session` and `append_events` delete, in their transaction, the drafts of every
    /// invocation among the events they write.
    async fn save_draft(&self, draft: &AnswerDraft) -> Result<()>;

    /// The session's unsettled drafts, oldest first.
    async fn drafts(&self, session_id: SessionId) -> Result<Vec<AnswerDraft>>;

    /// The session's change marker, or `None` when it is not stored (never written, or
    /// deleted). Must be cheap: every open chat window asks for it about once a second.
    async fn session_version(&self, session_id: SessionId) -> Result<Option<SessionVersion>>;

    /// Sessions in which every term of the query was said (see [`crate::search`] for what
    /// is searched), best first: a session with one message holding every term ranks above
    /// one where they are scattered over several. At most `request.limit` sessions, each
    /// with one or two snippets. Only what is stored is found, and nothing deleted.
    ///
    /// The default says the store cannot search.
    async fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let _ = request;
        Err(ServiceError::storage(
            "this session store cannot search conversations",
        ))
    }

    /// Indexes up to `batch` events stored before this store could search (a database made
    /// by an older Cairn), and says how far indexing is. New events are indexed as they are
    /// written; this catches up the old ones, a batch at a time, so a caller can show
    /// progress and stay responsive.
    ///
    /// The default has nothing to index.
    async fn index_for_search(&self, batch: usize) -> Result<SearchIndexProgress> {
        let _ = batch;
        Ok(SearchIndexProgress::default())
    }
}

/// How far indexing old events for search is: `indexed` of `total`, done when equal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SearchIndexProgress {
    pub indexed: u64,
    pub total: u64,
}

impl SearchIndexProgress {
    pub fn is_done(&self) -> bool {
        self.indexed >= self.total
    }
}

/// The shortest prefix of `id` (at least eight hex digits) that no other session shares: what
/// to show beside a session in a list or the status line.
///
/// The first twelve digits of a v7 id are its creation time, so sessions created within the
/// same minute share their first eight digits; the prefix grows as needed. When storage cannot
/// answer, the full id is returned (it is always unambiguous).
pub async fn unique_short_id(service: &dyn SessionService, id: SessionId) -> String {
    shortest_unique_prefix(service, id, /*min_length*/ 8).await
}

/// Like [`unique_short_id`], at least [`LASTING_SHORT_ID`] digits: what to print in a
/// `cairn -s <id>` hint, which a user may type hours later. Twelve digits are the creation
/// time to the millisecond, so sessions made afterwards cannot make the hint ambiguous.
pub async fn lasting_short_id(service: &dyn SessionService, id: SessionId) -> String {
    shortest_unique_prefix(service, id, LASTING_SHORT_ID).await
}

/// The digits of a hint that stays unambiguous: see [`lasting_short_id`].
pub const LASTING_SHORT_ID: usize = 12;

async fn shortest_unique_prefix(
    service: &dyn SessionService,
    id: SessionId,
    min_length: usize,
) -> String {
    let hex = id.0.simple().to_string();
    let mut length = min_length;
    while length < hex.len() {
        let prefix = &hex[..length];
        match service.find_by_id_prefix(prefix, 2).await {
            // Another session sharing the prefix makes it ambiguous; `id` itself need not be
            // stored yet (a new session's first message is still to come).
            Ok(matches) if matches.iter().all(|session| session.id == id) => {
                return prefix.to_owned();
            }
            Ok(_) => length += 2,
            Err(_) => break,
        }
    }
    hex
}
