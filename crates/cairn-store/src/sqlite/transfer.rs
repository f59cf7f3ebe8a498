//! Whole sessions out of and into a SQLite file, for `cairn store copy`.
//!
//! An export page is one read transaction: the session rows by primary key, then their
//! events by a range on `session_events_by_session`. An import page is one write
//! transaction of multi-row `INSERT`s; the events it adds are left to the search backfill
//! (`search_backfill` is widened to cover them), which indexes them in batches the next
//! time anyone searches, as for a database written before search existed.

use std::collections::HashSet;

use cairn_core::SessionId;
use cairn_core::service::Result;
use cairn_core::transfer::{ImportOutcome, SessionExport};
use sqlx::{QueryBuilder, Sqlite};

use super::SqliteSessionService;
use super::rows::{SessionRow, path_bytes, path_text, session_columns};
use crate::transfer::{EVENTS_PER_INSERT, EventTuple, check, export_page, new_sessions};

/// Sessions per multi-row `INSERT`: 21 values each.
const SESSIONS_PER_INSERT: usize = 500;

impl SqliteSessionService {
    pub(super) async fn export_rows(
        &self,
        after: Option<SessionId>,
        limit: u32,
    ) -> Result<Vec<SessionExport>> {
        let mut tx = self.pool().begin().await.map_err(|err| self.map_err(err))?;
        // Every id sorts after the empty string.
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let rows = sqlx::query_as::<_, SessionRow>(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id > ?1 ORDER BY id LIMIT ?2"
        ))
        .bind(&after)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        let Some(last) = rows.last() else {
            return Ok(Vec::new());
        };
        let events: Vec<EventTuple> = sqlx::query_as(
            "SELECT session_id, id, parent_id, invocation_id, event_type, event_data, created_at \
             FROM session_events WHERE session_id > ?1 AND session_id <= ?2 \
             ORDER BY session_id, rowid",
        )
        .bind(&after)
        .bind(&last.id)
        .fetch_all(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        tx.commit().await.map_err(|err| self.map_err(err))?;

        export_page(rows, &events)
    }

    pub(super) async fn import_rows(&self, page: &[SessionExport]) -> Result<ImportOutcome> {
        for export in page {
            check(export)?;
        }
        let mut tx = self.begin_write().await?;
        let mut existing: HashSet<String> = HashSet::new();
        for chunk in page.chunks(SESSIONS_PER_INSERT) {
            let mut query = QueryBuilder::<Sqlite>::new("SELECT id FROM sessions WHERE id IN (");
            let mut ids = query.separated(", ");
            for export in chunk {
                ids.push_bind(export.session.id.to_string());
            }
            query.push(")");
            let found: Vec<String> = query
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
            existing.extend(found);
        }
        let (new, outcome) = new_sessions(page, &existing)?;
        if new.is_empty() {
            tx.commit().await.map_err(|err| self.map_err(err))?;
            return Ok(outcome);
        }
        let last_rowid: i64 =
            sqlx::query_scalar("SELECT ifnull(max(rowid), 0) FROM session_events")
                .fetch_one(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;

        for chunk in new.chunks(SESSIONS_PER_INSERT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO sessions (id, directory_bytes, git_root_bytes, directory, git_root, \
                 head_id, title, created_at, updated_at, archived_at, message_count, \
                 model_event_count, preview, branch_message_count, branch_count, \
                 forked_from_session_id, forked_from_event_id, model, host, repository, \
                 repository_folder_bytes) ",
            );
            query.push_values(chunk, |mut row, (export, derived)| {
                let session = &export.session;
                row.push_bind(session.id.to_string())
                    .push_bind(path_bytes(&session.directory))
                    .push_bind(session.git_root.as_deref().map(path_bytes))
                    .push_bind(path_text(&session.directory))
                    .push_bind(session.git_root.as_deref().map(path_text))
                    .push_bind(session.head_id.map(|head| head.to_string()))
                    .push_bind(&session.title)
                    .push_bind(session.created_at_ms)
                    .push_bind(session.updated_at_ms)
                    .push_bind(session.archived_at_ms)
                    .push_bind(derived.message_count)
                    .push_bind(derived.model_event_count)
                    .push_bind(&derived.preview)
                    .push_bind(derived.branch_message_count)
                    .push_bind(derived.branch_count)
                    .push_bind(
                        export
                            .forked_from
                            .map(|origin| origin.session_id.to_string()),
                    )
                    .push_bind(export.forked_from.map(|origin| origin.event_id.to_string()))
                    .push_bind(session.model.as_deref())
                    .push_bind(session.location.host.as_deref())
                    .push_bind(session.location.repository.as_deref())
                    .push_bind(
                        session
                            .location
                            .repository_folder
                            .as_deref()
                            .map(path_bytes),
                    );
            });
            query
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }

        let events: Vec<_> = new
            .iter()
            .flat_map(|(export, derived)| {
                export
                    .events
                    .iter()
                    .zip(&derived.depths)
                    .map(move |(event, depth)| (export.session.id, event, *depth))
            })
            .collect();
        for chunk in events.chunks(EVENTS_PER_INSERT) {
            let mut query = QueryBuilder::<Sqlite>::new(
                "INSERT INTO session_events (id, session_id, parent_id, invocation_id, \
                 event_type, event_data, created_at, message_depth) ",
            );
            query.push_values(chunk, |mut row, (session_id, event, depth)| {
                row.push_bind(event.id.to_string())
                    .push_bind(session_id.to_string())
                    .push_bind(event.parent_id.map(|parent| parent.to_string()))
                    .push_bind(event.invocation_id.to_string())
                    .push_bind(event.event_type.as_str())
                    .push_bind(event.event_data.as_str())
                    .push_bind(event.created_at_ms)
                    .push_bind(*depth);
            });
            query
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }

        // The new events are after `last_rowid`: the backfill covers them (an indexing
        // already under way just reaches further; events indexed meanwhile are skipped).
        sqlx::query(
            "UPDATE search_backfill SET \
             after_rowid = CASE WHEN after_rowid >= upto_rowid THEN ?1 ELSE after_rowid END, \
             upto_rowid = (SELECT max(rowid) FROM session_events)",
        )
        .bind(last_rowid)
        .execute(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        Ok(outcome)
    }
}
