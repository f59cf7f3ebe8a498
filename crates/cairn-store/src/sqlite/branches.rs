//! Sessions as trees on SQLite (migration 0004): reading every event of a session, moving
//! its head to another branch, forking a branch into a session of its own, and the per-event
//! `message_depth` and per-session `branch_count` that let listings count the active branch
//! without walking it.
//!
//! Invariants:
//! - An event's `message_depth` is its parent's plus one if it is a message; it is written
//!   with the event and never changes.
//! - `branch_message_count` is the head's `message_depth`; `branch_count` is the number of
//!   leaf events. Both change in the transaction that moves the head or adds a leaf.

use cairn_core::branch::decode_all;
use cairn_core::service::Result;
use cairn_core::{Event, EventId, ForkOrigin, ServiceError, Session, SessionEvents, SessionId};
use sqlx::{Sqlite, Transaction};

use super::SqliteSessionService;
use super::rows::{
    Counters, EVENT_CHUNK_ROWS, EVENTS_PER_CHUNK, EventChunk, EventRow, PACKED_EVENT_CHUNK,
    SESSION_BY_ID, SessionRow, path_bytes, path_text,
};

impl SqliteSessionService {
    /// Every stored event of `session_id`, in chunks, inside the caller's read transaction.
    pub(super) async fn read_event_chunks(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: SessionId,
    ) -> Result<Vec<EventChunk>> {
        // Handing rows over one by one costs sqlx about 3 µs each; SQLite joins a chunk of
        // them into one string in a fraction of that. Event data is JSON written by serde,
        // which escapes every control character, so the separators cannot occur inside a
        // field. Chunks keep every string small whatever the session's length.
        let session_text = session_id.to_string();
        let mut chunks = Vec::new();
        let mut after_row = 0_i64;
        loop {
            let packed: Result<(Option<i64>, Option<String>), sqlx::Error> =
                sqlx::query_as(PACKED_EVENT_CHUNK)
                    .bind(&session_text)
                    .bind(after_row)
                    .bind(EVENTS_PER_CHUNK)
                    .fetch_one(&mut **tx)
                    .await;
            let (last_row, chunk) = match packed {
                Ok((Some(last_row), Some(packed)))
                    if super::rows::unpack_event_rows(&packed).is_some() =>
                {
                    (last_row, EventChunk::Packed(packed))
                }
                Ok((None, _)) => break,
                // Something unexpected in a field (written by other software?), or events
                // too large together for one string: this chunk row by row.
                Ok(_) | Err(_) => {
                    let rows: Vec<EventRow> = sqlx::query_as(EVENT_CHUNK_ROWS)
                        .bind(&session_text)
                        .bind(after_row)
                        .bind(EVENTS_PER_CHUNK)
                        .fetch_all(&mut **tx)
                        .await
                        .map_err(|err| self.map_err(err))?;
                    let Some(last_row) = rows.last().map(|row| row.row) else {
                        break;
                    };
                    (last_row, EventChunk::Rows(rows))
                }
            };
            chunks.push(chunk);
            after_row = last_row;
        }
        Ok(chunks)
    }

    /// The `message_depth` of each of `events` (chained, in order), continuing from the
    /// stored depth of the first one's parent.
    pub(super) async fn message_depths(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: SessionId,
        events: &[Event],
    ) -> Result<Vec<i64>> {
        let depth = match events.first().and_then(|event| event.parent_id) {
            Some(parent) => sqlx::query_scalar::<_, i64>(
                "SELECT message_depth FROM session_events WHERE id = ?1 AND session_id = ?2",
            )
            .bind(parent.to_string())
            .bind(session_id.to_string())
            .fetch_optional(&mut **tx)
            .await
            .map_err(|err| self.map_err(err))?
            .unwrap_or(0),
            None => 0,
        };
        Ok(depths_after(depth, events))
    }

    /// What appending `events` needs to know of where they attach, in one read: the
    /// `message_depth` of each (as [`Self::message_depths`]), and whether they add a branch:
    /// their first one's parent already has a child (or, for a new first event, the session
    /// already has one).
    pub(super) async fn attachment(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: SessionId,
        events: &[Event],
    ) -> Result<(Vec<i64>, bool)> {
        let Some(first) = events.first() else {
            return Ok((Vec::new(), false));
        };
        let (parent_depth, has_child): (Option<i64>, bool) = match first.parent_id {
            Some(parent) => sqlx::query_as(
                "SELECT (SELECT message_depth FROM session_events \
                     WHERE id = ?1 AND session_id = ?2), \
                 EXISTS (SELECT 1 FROM session_events WHERE parent_id = ?1)",
            )
            .bind(parent.to_string())
            .bind(session_id.to_string()),
            None => sqlx::query_as(
                "SELECT NULL, EXISTS (SELECT 1 FROM session_events \
                 WHERE session_id = ?1 AND parent_id IS NULL)",
            )
            .bind(session_id.to_string()),
        }
        .fetch_one(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))?;
        Ok((depths_after(parent_depth.unwrap_or(0), events), has_child))
    }

    /// Writes a new session row with its first events (a straight branch); `origin` for a
    /// fork.
    pub(super) async fn insert_session(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
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
             model_event_count, preview, branch_message_count, branch_count, \
             forked_from_session_id, forked_from_event_id, model, host, repository, \
             repository_folder_bytes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, 1, ?15, ?16, ?17, \
             ?18, ?19, ?20) \
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
        .bind(depths.last().copied().unwrap_or(0))
        .bind(origin.map(|origin| origin.session_id.to_string()))
        .bind(origin.map(|origin| origin.event_id.to_string()))
        .bind(session.model.as_deref())
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
        // One read transaction: the row and the events are one snapshot.
        let mut tx = self.pool().begin().await.map_err(|err| self.map_err(err))?;
        let row = sqlx::query_as::<_, SessionRow>(SESSION_BY_ID)
            .bind(session_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?
            .ok_or(ServiceError::NotFound(session_id))?;
        let chunks = self.read_event_chunks(&mut tx, session_id).await?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        let mut stored = Vec::new();
        for chunk in &chunks {
            // Checked when the chunk was read.
            stored.extend(chunk.stored_events().unwrap_or_default());
        }
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
        let mut tx = self.begin_write().await?;
        let depth: Option<i64> = sqlx::query_scalar(
            "SELECT message_depth FROM session_events WHERE id = ?1 AND session_id = ?2",
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
            "UPDATE sessions SET head_id = ?1, branch_message_count = ?2 \
             WHERE id = ?3 AND head_id IS ?4",
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
        let mut tx = self.begin_write().await?;
        let origin_known: Option<String> =
            sqlx::query_scalar("SELECT session_id FROM session_events WHERE id = ?1")
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

/// The `message_depth` of each of `events` (chained, in order) after a parent at `depth`.
fn depths_after(mut depth: i64, events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .map(|event| {
            depth += i64::from(event.kind.is_message());
            depth
        })
        .collect()
}
