//! The newest events of a session's head branch, read by walking parent links back from the
//! head inside SQLite (a recursive query, one primary-key seek per event), so the cost is the
//! number of events asked for, not the length of the session. A resumed chat draws these at
//! once and loads the whole branch behind them.

use cairn_core::branch::recent_events;
use cairn_core::service::{RecentEvents, Result};
use cairn_core::{ServiceError, SessionId};

use super::SqliteSessionService;
use super::rows::{EventRow, SessionRow};

/// The head, its parent, and so on, newest first, at most `?2` rows. The depth bound also
/// ends the walk on a damaged store whose links form a cycle.
///
/// Each step must be a primary-key seek on the event id. The unary `+` keeps the planner
/// from walking the session's index instead (every event of the session at every step),
/// which it may prefer since both columns are compared.
const RECENT_CHAIN: &str = "WITH RECURSIVE chain (depth, id) AS ( \
         SELECT 0, head_id FROM sessions WHERE id = ?1 AND head_id IS NOT NULL \
         UNION ALL \
         SELECT chain.depth + 1, event.parent_id FROM chain \
         JOIN session_events AS event ON event.id = chain.id AND +event.session_id = ?1 \
         WHERE event.parent_id IS NOT NULL AND chain.depth + 1 < ?2 \
     ) \
     SELECT event.rowid AS row, event.id, event.parent_id, event.invocation_id, \
         event.event_type, event.event_data, event.created_at \
     FROM chain JOIN session_events AS event ON event.id = chain.id AND +event.session_id = ?1 \
     ORDER BY chain.depth";

impl SqliteSessionService {
    pub(super) async fn load_recent_chain(
        &self,
        session_id: SessionId,
        limit: usize,
    ) -> Result<RecentEvents> {
        // One read transaction: the session row and the walk are one snapshot.
        let mut tx = self.pool().begin().await.map_err(|err| self.map_err(err))?;
        let row = sqlx::query_as::<_, SessionRow>(super::SESSION_BY_ID)
            .bind(session_id.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?
            .ok_or(ServiceError::NotFound(session_id))?;
        // One more than asked for says whether anything is older.
        let wanted = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
        let chain: Vec<EventRow> = sqlx::query_as(RECENT_CHAIN)
            .bind(session_id.to_string())
            .bind(wanted)
            .fetch_all(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?;
        tx.commit().await.map_err(|err| self.map_err(err))?;

        let fields = chain.iter().map(EventRow::fields).collect();
        Ok(recent_events(row.into_session()?, fields, limit))
    }
}
