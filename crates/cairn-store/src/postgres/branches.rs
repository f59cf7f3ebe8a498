//! Sessions as trees on PostgreSQL, as on SQLite (see `sqlite/branches.rs`): reading every
//! event, moving the head to another branch with the appends' compare-and-swap, forking a
//! branch into a session of its own, and the `message_depth` / `branch_message_count` /
//! `branch_count` counters that let listings count the active branch without walking it.

use cairn_core::branch::{StoredEvent, decode_all};
use cairn_core::service::Result;
use cairn_core::{Event, EventId, ForkOrigin, ServiceError, Session, SessionEvents, SessionId};
use sqlx::{Postgres, Transaction};

use super::PostgresSessionService;
use super::events::EventRow;
use crate::sqlite::rows::{Counters, path_bytes, path_text};

impl PostgresSessionService {
    /// Writes a new session row with its first events (a straight branch); `origin` for a
    /// fork.
    pub(super) async fn insert_session(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session: &Session,
        events: &[Event],
        origin: Option<ForkOrigin>,
    ) -> Result<()> {
        let Some(last) = events.last() else {
            return Err(ServiceError::storage(format!(
                "session {} must be created together with its first event",
                session.id
            )));
        };
        let counters = Counters::of(events);
        let depths = self.message_depths(tx, session.id, events).await?;
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, directory_bytes, git_root_bytes, directory, git_root, \
             head_id, title, created_at, updated_at, archived_at, message_count, \
             model_event_count, preview, model, branch_message_count, branch_count, \
             forked_from_session_id, forked_from_event_id, host, repository, \
             repository_folder_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 1, $16, $17, \
             $18, $19, $20) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(session.id.to_string())
        .bind(path_bytes(&session.directory))
        .bind(session.git_root.as_deref().map(path_bytes))
        .bind(path_text(&session.directory))
        .bind(session.git_root.as_deref().map(path_text))
        .bind(last.id.to_string())
        .bind(&session.title)
        .bind(session.created_at_ms)
        .bind(session.updated_at_ms)
        .bind(session.archived_at_ms)
        .bind(counters.messages)
        .bind(counters.model_events)
        .bind(counters.preview.unwrap_or_default())
        .bind(session.model.as_deref())
        .bind(depths.last().copied().unwrap_or(0))
        .bind(origin.map(|origin| origin.session_id.to_string()))
        .bind(origin.map(|origin| origin.event_id.to_string()))
        .bind(session.location.host.as_deref())
        .bind(session.location.repository.as_deref())
        .bind(session.location.repository_folder.as_deref().map(path_bytes))
        .execute(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))?;
        if inserted.rows_affected() == 0 {
            return Err(ServiceError::AlreadyExists(session.id));
        }
        self.insert_events(tx, session.id, events, &depths).await
    }

    pub(super) async fn load_all_event_rows(&self, session_id: SessionId) -> Result<SessionEvents> {
        let (mut tx, row) = self.snapshot_with_session(session_id).await?;
        let session_text = session_id.to_string();
        let rows = self.event_rows(&mut tx, &session_text).await?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        let stored: Vec<StoredEvent<'_>> = rows.iter().map(EventRow::fields).collect();
        let (events, warnings) = decode_all(session_id, &stored);
        Ok(SessionEvents {
            forked_from: row.fork_origin(),
            session: row.into_session()?,
            events,
            warnings,
        })
    }

    pub(super) async fn switch_head_row(
        &self,
        session_id: SessionId,
        expected_head: Option<EventId>,
        new_head: EventId,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let depth: Option<i64> = sqlx::query_scalar(
            "SELECT message_depth FROM session_events WHERE id = $1 AND session_id = $2",
        )
        .bind(new_head.to_string())
        .bind(session_id.to_string())
        .fetch_optional(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        let Some(depth) = depth else {
            // `NotFound` when the session itself is missing.
            self.stored_head(&mut tx, session_id).await?;
            return Err(ServiceError::EventNotFound {
                session_id,
                event_id: new_head,
            });
        };
        let moved = sqlx::query(
            "UPDATE sessions SET head_id = $1, branch_message_count = $2 \
             WHERE id = $3 AND head_id IS NOT DISTINCT FROM $4",
        )
        .bind(new_head.to_string())
        .bind(depth)
        .bind(session_id.to_string())
        .bind(expected_head.map(|head| head.to_string()))
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
        tx.commit().await.map_err(|err| self.map_err(err))
    }

    pub(super) async fn create_fork_rows(
        &self,
        session: &Session,
        events: &[Event],
        origin: ForkOrigin,
    ) -> Result<()> {
        let mut tx = self.begin().await?;
        let origin_known: Option<String> =
            sqlx::query_scalar("SELECT session_id FROM session_events WHERE id = $1")
                .bind(origin.event_id.to_string())
                .fetch_optional(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
        if origin_known != Some(origin.session_id.to_string()) {
            self.stored_head(&mut tx, origin.session_id).await?;
            return Err(ServiceError::EventNotFound {
                session_id: origin.session_id,
                event_id: origin.event_id,
            });
        }
        self.insert_session(&mut tx, session, events, Some(origin))
            .await?;
        tx.commit().await.map_err(|err| self.map_err(err))
    }
}
