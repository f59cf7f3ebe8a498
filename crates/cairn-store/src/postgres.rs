//! [`PostgresSessionService`]: the [`SessionService`] on a PostgreSQL server that several
//! machines can share.
//!
//! Invariants:
//! - Every write is one transaction. `append_events` does its compare-and-swap on the head
//!   as its first statement, a conditional `UPDATE` of the session row: a concurrent writer
//!   waits for the row lock, then sees the moved head, matches nothing and writes nothing
//!   (PostgreSQL re-checks the `WHERE` clause against the committed row under READ
//!   COMMITTED). Writers on any number of connections or machines therefore lose nothing.
//! - The `sessions` row's counters describe every stored event of the session, on every
//!   branch, and `updated_at` never moves backwards, exactly as on SQLite.
//! - The schema has SQLite's table and column names; ids are uuid text collated bytewise,
//!   paths are matched as their exact OS bytes (`BYTEA`).
//! - Nothing names the password: messages and [`PostgresSessionService::location`] say
//!   `host:port/database` only.

mod branches;
mod errors;
mod events;
mod filters;
mod open;
mod recent;
mod resume;
mod search;
mod transfer;
mod turns;

pub(crate) use errors::map_pg_error;
pub use open::DEFAULT_CONNECT_TIMEOUT;

use std::time::Duration;

use async_trait::async_trait;
use cairn_core::branch::{StoredEvent, walk_branch};
use cairn_core::lease::{AnswerDraft, LeaseHolder, LeaseOutcome, TurnLease};
use cairn_core::search::{SearchHit, SearchRequest};
use cairn_core::service::{
    RecentEvents, Result, ResumeQuery, SearchIndexProgress, SessionCounts, WorkspaceFilter,
};
use cairn_core::title::TitleSource;
use cairn_core::transfer::{ImportOutcome, SessionExport};
use cairn_core::{
    Event, EventId, ForkOrigin, InvocationId, LoadedSession, ServiceError, Session, SessionEvents,
    SessionFilter, SessionId, SessionService, SessionSummary, SessionVersion,
};
use sqlx::postgres::{PgPool, PgQueryResult};
use sqlx::{Postgres, Transaction};

use events::EventRow;

use crate::sqlite::rows::{
    Counters, SessionRow, id_prefix_start, session_columns, title_source_rank, workspace_bindings,
};
use filters::workspace_condition;

const SESSION_BY_ID: &str = concat!(
    "SELECT ",
    session_columns!(),
    " FROM sessions WHERE id = $1"
);

/// Sessions on a PostgreSQL server. Cheap to share behind an `Arc`; all methods take `&self`
/// and use a small connection pool.
#[derive(Debug, Clone)]
pub struct PostgresSessionService {
    pool: PgPool,
    location: String,
}

impl PostgresSessionService {
    /// Connects to the database at `url` (`postgres://user@host:5432/cairn?sslmode=...`),
    /// refuses one it must not touch and brings the schema up to date.
    ///
    /// Fails with [`ServiceError::Unavailable`] naming `host:port` and the reason when the
    /// server cannot be reached or refuses the login within `connect_timeout`; with
    /// [`ServiceError::Incompatible`] for a database migrated by a newer Cairn or holding
    /// other software's tables, which is left exactly as it was.
    pub async fn open(url: &str, connect_timeout: Duration) -> Result<Self> {
        let options = open::parse_url(url)?;
        let location = open::location_of(&options);
        let pool = open::open_pool(options, &location, connect_timeout).await?;
        Ok(Self { pool, location })
    }

    /// Where the store is, `host:port/database`, for messages and the status line.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The same as [`Self::location`] for a url not opened yet; `None` if it does not parse.
    pub fn location_of_url(url: &str) -> Option<String> {
        open::parse_url(url)
            .ok()
            .map(|options| open::location_of(&options))
    }

    /// The newest schema (migration) version this build knows.
    pub fn supported_schema_version() -> i64 {
        open::supported_schema_version()
    }

    /// Closes every connection. Later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A read-only transaction on one snapshot, and the session's row read in it: what is
    /// read next in `tx` matches the row even while another machine appends. `NotFound`
    /// when there is no such session.
    async fn snapshot_with_session(
        &self,
        session_id: SessionId,
    ) -> Result<(Transaction<'static, Postgres>, SessionRow)> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(|err| self.map_err(err))?;
        let row = sqlx::query_as::<_, SessionRow>(SESSION_BY_ID)
            .bind(session_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?
            .ok_or(ServiceError::NotFound(session_id))?;
        Ok((tx, row))
    }

    fn map_err(&self, err: sqlx::Error) -> ServiceError {
        map_pg_error(&self.location, err)
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(|err| self.map_err(err))
    }

    async fn fetch_session_row(&self, session_id: SessionId) -> Result<Option<SessionRow>> {
        sqlx::query_as::<_, SessionRow>(SESSION_BY_ID)
            .bind(session_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }

    fn expect_one_row(session_id: SessionId, result: &PgQueryResult) -> Result<()> {
        if result.rows_affected() == 0 {
            return Err(ServiceError::NotFound(session_id));
        }
        Ok(())
    }
}

#[async_trait]
impl SessionService for PostgresSessionService {
    async fn create_session(&self, session: &Session, events: &[Event]) -> Result<()> {
        let mut tx = self.begin().await?;
        self.insert_session(&mut tx, session, events, None).await?;
        tx.commit().await.map_err(|err| self.map_err(err))
    }

    async fn append_events(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        events: &[Event],
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let Some(last) = events.last() else {
            // Nothing to write, but the caller still learns whether its head is current.
            let actual = self.stored_head(&mut tx, session_id).await?;
            if actual != expected_head {
                return Err(ServiceError::Conflict {
                    session_id,
                    expected: expected_head,
                    actual,
                });
            }
            return Ok(());
        };
        let counters = Counters::of(events);
        // Reads only: a stale writer still writes nothing, the compare-and-swap decides.
        let depths = self.message_depths(&mut tx, session_id, events).await?;
        let new_branch = self.starts_branch(&mut tx, session_id, events).await?;
        // The compare-and-swap comes first, so a stale writer inserts nothing.
        let moved = sqlx::query(
            "UPDATE sessions SET head_id = $1, updated_at = GREATEST(updated_at, $2), \
             message_count = message_count + $3, model_event_count = model_event_count + $4, \
             preview = COALESCE($5, preview), branch_message_count = $8, \
             branch_count = branch_count + $9 \
             WHERE id = $6 AND head_id IS NOT DISTINCT FROM $7",
        )
        .bind(last.id.to_string())
        .bind(last.created_at_ms)
        .bind(counters.messages)
        .bind(counters.model_events)
        .bind(counters.preview)
        .bind(session_id.to_string())
        .bind(expected_head.map(|head| head.to_string()))
        .bind(depths.last().copied().unwrap_or(0))
        .bind(i64::from(new_branch))
        .execute(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        if moved.rows_affected() != 1 {
            let actual = self.stored_head(&mut tx, session_id).await?;
            return Err(ServiceError::Conflict {
                session_id,
                expected: expected_head,
                actual,
            });
        }
        self.insert_events(&mut tx, session_id, events, &depths)
            .await?;
        tx.commit().await.map_err(|err| self.map_err(err))
    }

    async fn load_session(&self, session_id: SessionId) -> Result<LoadedSession> {
        // One snapshot for the row and its events, even while another machine appends.
        let (mut tx, row) = self.snapshot_with_session(session_id).await?;
        let session_text = session_id.to_string();
        let rows = self.event_rows(&mut tx, &session_text).await?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        let stored: Vec<StoredEvent<'_>> = rows.iter().map(EventRow::fields).collect();
        let branch = walk_branch(session_id, row.head_id.as_deref(), &stored);
        Ok(LoadedSession {
            forked_from: row.fork_origin(),
            session: row.into_session()?,
            events: branch.events,
            off_branch_events: branch.off_branch_events,
            warnings: branch.warnings,
        })
    }

    async fn load_recent(&self, session_id: SessionId, limit: usize) -> Result<RecentEvents> {
        self.load_recent_chain(session_id, limit).await
    }

    async fn get_session(&self, session_id: SessionId) -> Result<Option<Session>> {
        self.fetch_session_row(session_id)
            .await?
            .map(SessionRow::into_session)
            .transpose()
    }

    async fn find_by_id_prefix(&self, prefix: &str, limit: u32) -> Result<Vec<Session>> {
        let Some(start) = id_prefix_start(prefix) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query_as::<_, SessionRow>(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id >= $1 AND id < $1 || 'g' ORDER BY updated_at DESC LIMIT $2"
        ))
        .bind(start)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(|err| self.map_err(err))?;
        rows.into_iter().map(SessionRow::into_session).collect()
    }

    async fn find_resumable(&self, query: &ResumeQuery) -> Result<Option<Session>> {
        self.find_resumable_row(query).await
    }

    async fn record_location(&self, session: &Session) -> Result<()> {
        self.record_location_row(session).await
    }

    async fn export_sessions(
        &self,
        after: Option<SessionId>,
        limit: u32,
    ) -> Result<Vec<SessionExport>> {
        self.export_rows(after, limit).await
    }

    async fn import_sessions(&self, page: &[SessionExport]) -> Result<ImportOutcome> {
        self.import_rows(page).await
    }

    async fn list_sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionSummary>> {
        // The repository reaches this workspace's sessions on other machines.
        let mut conditions = vec![format!(
            "({} OR sessions.repository = $4::text)",
            workspace_condition(filter.workspace.as_ref(), 1)
        )];
        if !filter.include_archived {
            conditions.push("archived_at IS NULL".to_owned());
        }
        // Every parameter appears in the text, so the server knows all their types.
        let sql = format!(
            "SELECT {} FROM sessions WHERE {} ORDER BY updated_at DESC LIMIT $3",
            session_columns!(),
            conditions.join(" AND ")
        );
        let (directory, git_root, repository) = workspace_bindings(filter.workspace.as_ref());
        // LIMIT NULL means no limit.
        let limit = filter.limit.map(i64::from);
        let rows = sqlx::query_as::<_, SessionRow>(&sql)
            .bind(directory)
            .bind(git_root)
            .bind(limit)
            .bind(repository)
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        rows.into_iter().map(SessionRow::into_summary).collect()
    }

    async fn title_source(&self, session_id: SessionId) -> Result<TitleSource> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT title_source FROM sessions WHERE id = $1")
                .bind(session_id.to_string())
                .fetch_optional(self.pool())
                .await
                .map_err(|err| self.map_err(err))?;
        stored
            .map(|name| TitleSource::from_stored(&name))
            .ok_or(ServiceError::NotFound(session_id))
    }

    async fn set_title(
        &self,
        session_id: SessionId,
        title: &str,
        source: TitleSource,
        now_ms: i64,
    ) -> Result<bool> {
        // One statement: the row lock makes the source check and the write atomic against a
        // concurrent rename.
        let result = sqlx::query(concat!(
            "UPDATE sessions SET title = $1, title_source = $2, \
             updated_at = GREATEST(updated_at, $3) WHERE id = $4 AND ",
            title_source_rank!("title_source"),
            " <= ",
            title_source_rank!("$2")
        ))
        .bind(title)
        .bind(source.as_str())
        .bind(now_ms)
        .bind(session_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|err| self.map_err(err))?;
        if result.rows_affected() > 0 {
            return Ok(true);
        }
        match self.get_session(session_id).await? {
            Some(_) => Ok(false),
            None => Err(ServiceError::NotFound(session_id)),
        }
    }

    async fn count_sessions(&self, workspace: Option<&WorkspaceFilter>) -> Result<SessionCounts> {
        let condition = format!(
            "({} OR sessions.repository = $3::text)",
            workspace_condition(workspace, 1)
        );
        let sql = format!(
            "SELECT COUNT(*) - COUNT(archived_at), COUNT(archived_at) FROM sessions WHERE {condition}"
        );
        let (directory, git_root, repository) = workspace_bindings(workspace);
        let (active, archived): (i64, i64) = sqlx::query_as(&sql)
            .bind(directory)
            .bind(git_root)
            .bind(repository)
            .fetch_one(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Ok(SessionCounts {
            active: u64::try_from(active).unwrap_or(0),
            archived: u64::try_from(archived).unwrap_or(0),
        })
    }

    async fn set_model(&self, session_id: SessionId, model: Option<&str>) -> Result<()> {
        let result = sqlx::query("UPDATE sessions SET model = $1 WHERE id = $2")
            .bind(model)
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Self::expect_one_row(session_id, &result)
    }

    async fn set_archived(&self, session_id: SessionId, archived_at_ms: Option<i64>) -> Result<()> {
        let result = sqlx::query("UPDATE sessions SET archived_at = $1 WHERE id = $2")
            .bind(archived_at_ms)
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Self::expect_one_row(session_id, &result)
    }

    async fn delete_session(&self, session_id: SessionId) -> Result<()> {
        // Events go with the session (`ON DELETE CASCADE`); the turn tables have no foreign
        // key (a lease can come before its session row), so they are cleared here.
        let mut tx = self.begin().await?;
        let id = session_id.to_string();
        let result = sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?;
        Self::expect_one_row(session_id, &result)?;
        for table in ["turn_leases", "answer_drafts"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE session_id = $1"))
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }
        tx.commit().await.map_err(|err| self.map_err(err))
    }

    async fn acquire_lease(
        &self,
        session_id: SessionId,
        holder: &LeaseHolder,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<LeaseOutcome> {
        self.acquire_lease_row(session_id, holder, now_ms, ttl_ms)
            .await
    }

    async fn renew_lease(
        &self,
        session_id: SessionId,
        invocation_id: InvocationId,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        self.renew_lease_row(session_id, invocation_id, now_ms, ttl_ms)
            .await
    }

    async fn release_lease(
        &self,
        session_id: SessionId,
        invocation_id: InvocationId,
    ) -> Result<()> {
        self.release_lease_row(session_id, invocation_id).await
    }

    async fn current_lease(&self, session_id: SessionId) -> Result<Option<TurnLease>> {
        self.lease_row(session_id).await
    }

    async fn save_draft(&self, draft: &AnswerDraft) -> Result<()> {
        self.save_draft_row(draft).await
    }

    async fn drafts(&self, session_id: SessionId) -> Result<Vec<AnswerDraft>> {
        self.draft_rows(session_id).await
    }

    async fn load_all_events(&self, session_id: SessionId) -> Result<SessionEvents> {
        self.load_all_event_rows(session_id).await
    }

    async fn switch_head(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        new_head: EventId,
    ) -> Result<()> {
        self.switch_head_row(session_id, expected_head, new_head)
            .await
    }

    async fn create_fork(
        &self,
        session: &Session,
        events: &[Event],
        origin: ForkOrigin,
    ) -> Result<()> {
        self.create_fork_rows(session, events, origin).await
    }

    async fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        self.search_sessions(request).await
    }

    async fn index_for_search(&self, batch: usize) -> Result<SearchIndexProgress> {
        self.backfill_search(batch).await
    }

    async fn session_version(&self, session_id: SessionId) -> Result<Option<SessionVersion>> {
        self.session_version_row(session_id).await
    }
}
