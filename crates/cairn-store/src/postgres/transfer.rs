//! Whole sessions out of and into a PostgreSQL database, for `cairn store copy`.
//!
//! An export page is one `REPEATABLE READ` snapshot: the session rows by primary key, then
//! their events by a range on `session_events_by_session`. An import page is one
//! transaction of multi-row `INSERT`s.

use std::collections::HashSet;

use cairn_core::SessionId;
use cairn_core::service::Result;
use cairn_core::transfer::{ImportOutcome, SessionExport};
use sqlx::{Postgres, QueryBuilder};

use super::PostgresSessionService;
use super::search::DocumentRows;
use crate::sqlite::rows::{SessionRow, path_bytes, path_text, session_columns};
use crate::transfer::{EventTuple, check, export_page, new_sessions};

/// Sessions per multi-row `INSERT`: 21 values each, below PostgreSQL's 65,535 parameters.
const SESSIONS_PER_INSERT: usize = 500;

impl PostgresSessionService {
    pub(super) async fn export_rows(
        &self,
        after: Option<SessionId>,
        limit: u32,
    ) -> Result<Vec<SessionExport>> {
        let mut tx = self
            .pool()
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(|err| self.map_err(err))?;
        // Every id sorts after the empty string.
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        let rows = sqlx::query_as::<_, SessionRow>(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions WHERE id > $1 ORDER BY id LIMIT $2"
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
             FROM session_events WHERE session_id > $1 AND session_id <= $2 \
             ORDER BY session_id, created_at, id",
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
        let mut tx = self.begin().await?;
        let mut existing: HashSet<String> = HashSet::new();
        for chunk in page.chunks(SESSIONS_PER_INSERT) {
            let mut query = QueryBuilder::<Postgres>::new("SELECT id FROM sessions WHERE id IN (");
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
        for chunk in new.chunks(SESSIONS_PER_INSERT) {
            let mut query = QueryBuilder::<Postgres>::new(
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
        // One statement for the page's events, one array per column (as appends do):
        // thousands of rows without a bind parameter each.
        let mut columns = EventColumns::default();
        for (session_id, event, depth) in &events {
            columns.ids.push(event.id.to_string());
            columns.session_ids.push(session_id.to_string());
            columns
                .parents
                .push(event.parent_id.map(|parent| parent.to_string()));
            columns.invocations.push(event.invocation_id.to_string());
            columns.types.push(event.event_type.as_str());
            columns.data.push(event.event_data.as_str());
            columns.times.push(event.created_at_ms);
            columns.depths.push(*depth);
        }
        let inserted = sqlx::query(
            "INSERT INTO session_events (id, session_id, parent_id, invocation_id, event_type, \
             event_data, created_at, message_depth) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
                 $6::text[], $7::int8[], $8::int8[])",
        )
        .bind(&columns.ids)
        .bind(&columns.session_ids)
        .bind(&columns.parents)
        .bind(&columns.invocations)
        .bind(&columns.types)
        .bind(&columns.data)
        .bind(&columns.times)
        .bind(&columns.depths)
        .execute(&mut *tx);

        // Search indexes what it can read, the whole page in one statement. Its documents
        // are made here while the server writes the events: a sixth of a page's time.
        let documents = async {
            let mut documents = DocumentRows::default();
            for (export, derived) in &new {
                let session_text = export.session.id.to_string();
                for (event, kind) in export.events.iter().zip(&derived.kinds) {
                    if let Some(kind) = kind {
                        documents.add_kind(&session_text, &event.id.to_string(), kind);
                    }
                }
            }
            documents
        };
        let (inserted, documents) = futures::join!(inserted, documents);
        inserted.map_err(|err| self.map_err(err))?;
        self.insert_documents(&mut tx, &documents).await?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        Ok(outcome)
    }
}

/// A page's events as the arrays one `INSERT ... SELECT FROM UNNEST` takes.
#[derive(Default)]
struct EventColumns<'a> {
    ids: Vec<String>,
    session_ids: Vec<String>,
    parents: Vec<Option<String>>,
    invocations: Vec<String>,
    types: Vec<&'a str>,
    data: Vec<&'a str>,
    times: Vec<i64>,
    depths: Vec<i64>,
}
