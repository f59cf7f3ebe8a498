//! [`SqliteSessionService`]: the [`SessionService`] on one local SQLite file.
//!
//! Invariants:
//! - Every write is one transaction. `append_events` starts with `BEGIN IMMEDIATE` and does
//!   its compare-and-swap on the head as the first statement, before inserting anything, so
//!   a stale writer writes nothing and two writers never deadlock on a lock upgrade; waiting
//!   for the lock is left to SQLite's busy timeout.
//! - The `sessions` row's counters (`message_count`, `model_event_count`, `preview`) always
//!   describe every stored event of the session, on every branch; `branch_message_count` and
//!   `branch_count` describe the head's branch and the number of branches. All are updated in
//!   the same transaction as the events or the head.
//! - `updated_at` never moves backwards: appends and renames take the later of the stored
//!   time and the new one, so a writer with a slow clock cannot hide a session from resume.
//! - Ids are stored as hyphenated lowercase uuid text. Paths are stored and matched as their
//!   exact OS bytes (`directory_bytes`, `git_root_bytes`), with a lossy UTF-8 copy beside them
//!   for people reading the file with other tools.

mod branches;
mod errors;
mod open;
mod recent;
mod resume;
pub(crate) mod rows;
mod search;
mod titles;
mod transfer;
mod turns;

pub(crate) use errors::{map_sqlx_error, unusable};

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use cairn_core::branch::walk_branch;
use cairn_core::lease::{AnswerDraft, LeaseHolder, LeaseOutcome, TurnLease};
use cairn_core::search::{SearchHit, SearchRequest};
use cairn_core::service::{
    RecentEvents, Result, ResumeQuery, SearchIndexProgress, SessionCounts, WorkspaceFilter,
};
use cairn_core::transfer::{ImportOutcome, SessionExport};
use cairn_core::{
    Event, EventId, ForkOrigin, InvocationId, LoadedSession, ServiceError, Session, SessionEvents,
    SessionFilter, SessionId, SessionService, SessionSummary, SessionVersion,
};
use sqlx::sqlite::{SqlitePool, SqliteQueryResult};
use sqlx::{Sqlite, Transaction};

use cairn_core::title::TitleSource;
use rows::{
    Counters, SESSION_BY_ID, SessionRow, id_prefix_start, session_columns, workspace_bindings,
    workspace_condition,
};

const INSERT_EVENT: &str = "INSERT INTO session_events \
     (id, session_id, parent_id, invocation_id, event_type, event_data, created_at, \
     message_depth) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Sessions in a local SQLite database. Cheap to share behind an `Arc`; all methods take
/// `&self` and use a small connection pool.
#[derive(Debug, Clone)]
pub struct SqliteSessionService {
    pool: SqlitePool,
    /// Where write transactions run (see [`open::Pools`]); the reading pool itself when the
    /// database was opened read-only.
    writer: SqlitePool,
    path: PathBuf,
}

impl SqliteSessionService {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// Creates missing parent directories with mode 0700 and the file with 0600. Fails with
    /// [`ServiceError::Incompatible`] for a file that is not a Cairn database, is damaged or
    /// was written by a newer Cairn; in each case the file is not modified.
    pub async fn open(path: &Path) -> Result<Self> {
        let pools = match open::open_pool(path).await {
            Ok(pools) => pools,
            // SQLite only says it could not open the file; where it cannot be written, say that.
            Err(error @ (ServiceError::Storage { .. } | ServiceError::Unavailable { .. }))
                if !open::can_write(path) =>
            {
                return Err(ServiceError::Storage {
                    message: format!(
                        "the session database {} is read-only here: sessions can be read (`cairn sessions list`, `show`, `export`) but nothing can be saved",
                        path.display()
                    ),
                    cause: Some(Box::new(error)),
                });
            }
            Err(error) => return Err(error),
        };
        Ok(Self {
            pool: pools.reader,
            writer: pools.writer,
            path: path.to_path_buf(),
        })
    }

    /// Opens the database at `path` for the commands that only read: like [`Self::open`]
    /// when the file can be written, else read-only (a read-only mount, a file of another
    /// user's), where reading works and every write fails saying the database is read-only.
    pub async fn open_for_reading(path: &Path) -> Result<Self> {
        if open::can_write(path) {
            return Self::open(path).await;
        }
        let pool = open::open_read_only_pool(path).await?;
        Ok(Self {
            writer: pool.clone(),
            pool,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The newest schema (migration) version this build knows.
    pub fn supported_schema_version() -> i64 {
        open::supported_schema_version()
    }

    /// Closes every connection, checkpointing the WAL into the main file. Later calls fail.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    fn map_err(&self, err: sqlx::Error) -> ServiceError {
        map_sqlx_error(&self.path, err)
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|err| self.map_err(err))
    }

    /// After an update touched no row: `NotFound`, or the head we actually have.
    async fn stored_head(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: SessionId,
    ) -> Result<Option<EventId>> {
        let head: Option<Option<String>> =
            sqlx::query_scalar("SELECT head_id FROM sessions WHERE id = ?1")
                .bind(session_id.to_string())
                .fetch_optional(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
        match head {
            None => Err(ServiceError::NotFound(session_id)),
            Some(None) => Ok(None),
            Some(Some(head)) => head.parse().map(Some).map_err(|_| {
                ServiceError::storage(format!(
                    "session {session_id} has a malformed head `{head}`"
                ))
            }),
        }
    }

    /// Inserts `events`, chained, with `depths` from [`Self::message_depths`].
    async fn insert_events(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: SessionId,
        events: &[Event],
        depths: &[i64],
    ) -> Result<()> {
        let session_text = session_id.to_string();
        for (event, depth) in events.iter().zip(depths) {
            if event.session_id != session_id {
                return Err(ServiceError::storage(format!(
                    "event {} belongs to session {}, not {session_id}",
                    event.id, event.session_id
                )));
            }
            sqlx::query(INSERT_EVENT)
                .bind(event.id.to_string())
                .bind(&session_text)
                .bind(event.parent_id.map(|parent| parent.to_string()))
                .bind(event.invocation_id.to_string())
                .bind(event.kind.event_type())
                .bind(event.kind.data_json())
                .bind(event.created_at_ms)
                .bind(depth)
                .execute(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }
        self.index_events(tx, &session_text, events).await?;
        // What an invocation appends settles its draft: the answer is an event now.
        let mut invocations: Vec<String> = events
            .iter()
            .map(|event| event.invocation_id.to_string())
            .collect();
        invocations.sort_unstable();
        invocations.dedup();
        for invocation in invocations {
            sqlx::query("DELETE FROM answer_drafts WHERE session_id = ?1 AND invocation_id = ?2")
                .bind(&session_text)
                .bind(invocation)
                .execute(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }
        Ok(())
    }

    async fn fetch_session_row(&self, session_id: SessionId) -> Result<Option<SessionRow>> {
        sqlx::query_as::<_, SessionRow>(SESSION_BY_ID)
            .bind(session_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }

    fn expect_one_row(session_id: SessionId, result: &SqliteQueryResult) -> Result<()> {
        if result.rows_affected() == 0 {
            return Err(ServiceError::NotFound(session_id));
        }
        Ok(())
    }
}

#[async_trait]
impl SessionService for SqliteSessionService {
    async fn create_session(&self, session: &Session, events: &[Event]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        self.insert_session(&mut tx, session, events, None).await?;
        tx.commit().await.map_err(|err| self.map_err(err))
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

    async fn append_events(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        events: &[Event],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
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
        // Read before the compare-and-swap, under the write lock already taken: a stale
        // writer wastes two indexed reads, and the head moves in one statement.
        let (depths, starts_branch) = self.attachment(&mut tx, session_id, events).await?;
        let branch_messages = depths.last().copied().unwrap_or(0);
        let new_branch = i64::from(starts_branch);
        // The compare-and-swap comes first, so a stale writer inserts nothing. `IS` compares
        // NULL with NULL as equal: the expected head of a session without events.
        let moved = sqlx::query(
            "UPDATE sessions SET head_id = ?1, updated_at = MAX(updated_at, ?2), \
             message_count = message_count + ?3, model_event_count = model_event_count + ?4, \
             preview = COALESCE(?5, preview), branch_message_count = ?8, \
             branch_count = branch_count + ?9 \
             WHERE id = ?6 AND head_id IS ?7",
        )
        .bind(last.id.to_string())
        .bind(last.created_at_ms)
        .bind(counters.messages)
        .bind(counters.model_events)
        .bind(counters.preview)
        .bind(session_id.to_string())
        .bind(expected_head.map(|head| head.to_string()))
        .bind(branch_messages)
        .bind(new_branch)
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
        // One read transaction, so the session row and its events are one snapshot even while
        // another process appends.
        let mut tx = self.pool.begin().await.map_err(|err| self.map_err(err))?;
        let row = sqlx::query_as::<_, SessionRow>(SESSION_BY_ID)
            .bind(session_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?
            .ok_or(ServiceError::NotFound(session_id))?;
        let chunks = self.read_event_chunks(&mut tx, session_id).await?;
        tx.commit().await.map_err(|err| self.map_err(err))?;

        let mut event_rows = Vec::new();
        for chunk in &chunks {
            // Checked when the chunk was read.
            event_rows.extend(chunk.stored_events().unwrap_or_default());
        }
        let branch = walk_branch(session_id, row.head_id.as_deref(), &event_rows);
        Ok(LoadedSession {
            events: branch.events,
            off_branch_events: branch.off_branch_events,
            warnings: branch.warnings,
            forked_from: row.fork_origin(),
            session: row.into_session()?,
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
            " FROM sessions WHERE id >= ?1 AND id < ?1 || 'g' ORDER BY updated_at DESC LIMIT ?2"
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
        let mut conditions: Vec<&str> = workspace_condition(filter.workspace.as_ref())
            .into_iter()
            .collect();
        if !filter.include_archived {
            conditions.push("archived_at IS NULL");
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT {} FROM sessions {where_clause} ORDER BY updated_at DESC LIMIT ?3",
            session_columns!()
        );
        let (directory, git_root, repository) = workspace_bindings(filter.workspace.as_ref());
        // A negative LIMIT means no limit to SQLite.
        let limit = filter.limit.map_or(-1, i64::from);
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

    async fn count_sessions(&self, workspace: Option<&WorkspaceFilter>) -> Result<SessionCounts> {
        let where_clause = workspace_condition(workspace)
            .map(|condition| format!("WHERE {condition}"))
            .unwrap_or_default();
        let sql = format!(
            "SELECT COUNT(*) - COUNT(archived_at), COUNT(archived_at) FROM sessions {where_clause}"
        );
        let (directory, git_root, repository) = workspace_bindings(workspace);
        let (active, archived): (i64, i64) = sqlx::query_as(&sql)
            .bind(directory)
            .bind(git_root)
            // `?3` is the listing's limit, unused here.
            .bind(None::<i64>)
            .bind(repository)
            .fetch_one(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Ok(SessionCounts {
            active: u64::try_from(active).unwrap_or(0),
            archived: u64::try_from(archived).unwrap_or(0),
        })
    }

    async fn title_source(&self, session_id: SessionId) -> Result<TitleSource> {
        self.title_source_row(session_id).await
    }

    async fn set_title(
        &self,
        session_id: SessionId,
        title: &str,
        source: TitleSource,
        now_ms: i64,
    ) -> Result<bool> {
        self.set_title_row(session_id, title, source, now_ms).await
    }

    async fn set_model(&self, session_id: SessionId, model: Option<&str>) -> Result<()> {
        let result = sqlx::query("UPDATE sessions SET model = ?1 WHERE id = ?2")
            .bind(model)
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Self::expect_one_row(session_id, &result)
    }

    async fn set_archived(&self, session_id: SessionId, archived_at_ms: Option<i64>) -> Result<()> {
        let result = sqlx::query("UPDATE sessions SET archived_at = ?1 WHERE id = ?2")
            .bind(archived_at_ms)
            .bind(session_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Self::expect_one_row(session_id, &result)
    }

    async fn delete_session(&self, session_id: SessionId) -> Result<()> {
        // Events go with the session: `ON DELETE CASCADE`, foreign keys are on for every
        // connection of the pool. The turn tables have no foreign key (a lease can come
        // before its session row), so they are cleared in the same transaction.
        let mut tx = self.begin_write().await?;
        let id = session_id.to_string();
        self.unindex_session(&mut tx, &id).await?;
        let result = sqlx::query("DELETE FROM sessions WHERE id = ?1")
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?;
        Self::expect_one_row(session_id, &result)?;
        for table in ["turn_leases", "answer_drafts"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE session_id = ?1"))
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

#[cfg(test)]
mod tests;
