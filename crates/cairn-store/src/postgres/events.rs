//! A session's events on PostgreSQL: writing a batch in one statement, reading them all
//! back, and the head as stored, inside the caller's transaction.

use cairn_core::branch::StoredEvent;
use cairn_core::service::Result;
use cairn_core::{Event, EventId, ServiceError, SessionId};
use sqlx::{Postgres, Transaction};

use super::PostgresSessionService;

/// All of a batch's events in one statement, one array per column.
const INSERT_EVENTS: &str = "INSERT INTO session_events \
     (id, session_id, parent_id, invocation_id, event_type, event_data, created_at, \
      message_depth) \
     SELECT id, $2, parent_id, invocation_id, event_type, event_data, created_at, message_depth \
     FROM UNNEST($1::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int8[], \
         $8::int8[]) \
     AS batch (id, parent_id, invocation_id, event_type, event_data, created_at, \
         message_depth)";

/// A session's events as stored, in no particular order: the branch is rebuilt from links.
#[derive(Debug)]
pub(super) struct EventRow {
    id: String,
    parent_id: Option<String>,
    invocation_id: String,
    event_type: String,
    event_data: String,
    created_at: i64,
}

/// By position, not by name: a name is a lookup per column of every row, which for a
/// long session's 10,000 rows costs more than decoding the values.
impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for EventRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> std::result::Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(Self {
            id: row.try_get(0)?,
            parent_id: row.try_get(1)?,
            invocation_id: row.try_get(2)?,
            event_type: row.try_get(3)?,
            event_data: row.try_get(4)?,
            created_at: row.try_get(5)?,
        })
    }
}

impl EventRow {
    pub(super) fn fields(&self) -> StoredEvent<'_> {
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

impl PostgresSessionService {
    /// After an update touched no row: `NotFound`, or the head we actually have.
    pub(super) async fn stored_head(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session_id: SessionId,
    ) -> Result<Option<EventId>> {
        let head: Option<Option<String>> =
            sqlx::query_scalar("SELECT head_id FROM sessions WHERE id = $1")
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

    /// The `message_depth` of each of `events` (chained, in order), continuing from the
    /// stored depth of the first one's parent.
    pub(super) async fn message_depths(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session_id: SessionId,
        events: &[Event],
    ) -> Result<Vec<i64>> {
        let mut depth = match events.first().and_then(|event| event.parent_id) {
            Some(parent) => sqlx::query_scalar::<_, i64>(
                "SELECT message_depth FROM session_events WHERE id = $1 AND session_id = $2",
            )
            .bind(parent.to_string())
            .bind(session_id.to_string())
            .fetch_optional(&mut **tx)
            .await
            .map_err(|err| self.map_err(err))?
            .unwrap_or(0),
            None => 0,
        };
        Ok(events
            .iter()
            .map(|event| {
                depth += i64::from(event.kind.is_message());
                depth
            })
            .collect())
    }

    /// Whether appending `events` adds a branch: their first one's parent already has a
    /// child (or, for a new first event, the session already has one).
    pub(super) async fn starts_branch(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session_id: SessionId,
        events: &[Event],
    ) -> Result<bool> {
        let Some(first) = events.first() else {
            return Ok(false);
        };
        let query = match first.parent_id {
            Some(parent) => sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM session_events WHERE parent_id = $1)",
            )
            .bind(parent.to_string()),
            None => sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM session_events \
                 WHERE session_id = $1 AND parent_id IS NULL)",
            )
            .bind(session_id.to_string()),
        };
        query
            .fetch_one(&mut **tx)
            .await
            .map_err(|err| self.map_err(err))
    }

    pub(super) async fn insert_events(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session_id: SessionId,
        events: &[Event],
        depths: &[i64],
    ) -> Result<()> {
        if let Some(stray) = events.iter().find(|event| event.session_id != session_id) {
            return Err(ServiceError::storage(format!(
                "event {} belongs to session {}, not {session_id}",
                stray.id, stray.session_id
            )));
        }
        let session_text = session_id.to_string();
        let ids: Vec<String> = events.iter().map(|event| event.id.to_string()).collect();
        let parents: Vec<Option<String>> = events
            .iter()
            .map(|event| event.parent_id.map(|parent| parent.to_string()))
            .collect();
        let mut invocations: Vec<String> = events
            .iter()
            .map(|event| event.invocation_id.to_string())
            .collect();
        let types: Vec<&str> = events.iter().map(|event| event.kind.event_type()).collect();
        let data: Vec<String> = events.iter().map(|event| event.kind.data_json()).collect();
        let times: Vec<i64> = events.iter().map(|event| event.created_at_ms).collect();
        sqlx::query(INSERT_EVENTS)
            .bind(&ids)
            .bind(&session_text)
            .bind(&parents)
            .bind(&invocations)
            .bind(&types)
            .bind(&data)
            .bind(&times)
            .bind(depths)
            .execute(&mut **tx)
            .await
            .map_err(|err| self.map_err(err))?;
        // What an invocation appends settles its draft: the answer is an event now.
        invocations.sort_unstable();
        invocations.dedup();
        sqlx::query("DELETE FROM answer_drafts WHERE session_id = $1 AND invocation_id = ANY($2)")
            .bind(&session_text)
            .bind(&invocations)
            .execute(&mut **tx)
            .await
            .map_err(|err| self.map_err(err))?;
        self.index_events(tx, &session_text, events).await
    }

    /// Every stored event of the session, in no particular order: the branch is rebuilt from
    /// links. PostgreSQL's binary rows cost little each, so one query serves any length.
    pub(super) async fn event_rows(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session_text: &str,
    ) -> Result<Vec<EventRow>> {
        sqlx::query_as(
            "SELECT id, parent_id, invocation_id, event_type, event_data, created_at \
             FROM session_events WHERE session_id = $1",
        )
        .bind(session_text)
        .fetch_all(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))
    }
}
