//! The turn in progress on PostgreSQL: the `turn_leases` and `answer_drafts` tables. Each
//! operation is one statement, so it is atomic without an explicit transaction: taking a
//! lease is an upsert (`ON CONFLICT DO UPDATE`, which PostgreSQL makes atomic against
//! concurrent inserts of the same key) whose update only happens when the lease is free,
//! expired or already the caller's.

use cairn_core::lease::{AnswerDraft, LeaseHolder, LeaseOutcome, TurnLease};
use cairn_core::service::Result;
use cairn_core::{InvocationId, SessionId, SessionVersion};
use sqlx::postgres::PgPool;

use super::PostgresSessionService;
use crate::turn_rows::{DraftRow, LEASE_COLUMNS, LeaseRow, VersionRow};

impl PostgresSessionService {
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) async fn acquire_lease_row(
        &self,
        session_id: SessionId,
        holder: &LeaseHolder,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<LeaseOutcome> {
        let granted = sqlx::query(
            "INSERT INTO turn_leases (session_id, holder_invocation_id, holder_host, holder_pid, \
             started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6) \
             ON CONFLICT (session_id) DO UPDATE SET \
             holder_invocation_id = excluded.holder_invocation_id, \
             holder_host = excluded.holder_host, holder_pid = excluded.holder_pid, \
             started_at = CASE WHEN turn_leases.holder_invocation_id = excluded.holder_invocation_id \
                 THEN turn_leases.started_at ELSE excluded.started_at END, \
             heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at \
             WHERE turn_leases.expires_at <= $5 \
                OR turn_leases.holder_invocation_id = excluded.holder_invocation_id",
        )
        .bind(session_id.to_string())
        .bind(holder.invocation_id.to_string())
        .bind(&holder.host)
        .bind(i64::from(holder.pid))
        .bind(now_ms)
        .bind(now_ms.saturating_add(ttl_ms))
        .execute(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        if granted.rows_affected() == 1 {
            return Ok(LeaseOutcome::Acquired);
        }
        match self.lease_row(session_id).await? {
            Some(lease) => Ok(LeaseOutcome::HeldBy(lease)),
            // Released between the two statements: ask again.
            None => Box::pin(self.acquire_lease_row(session_id, holder, now_ms, ttl_ms)).await,
        }
    }

    pub(super) async fn renew_lease_row(
        &self,
        session_id: SessionId,
        invocation_id: InvocationId,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<bool> {
        let renewed = sqlx::query(
            "UPDATE turn_leases SET heartbeat_at = $3, expires_at = $4 \
             WHERE session_id = $1 AND holder_invocation_id = $2",
        )
        .bind(session_id.to_string())
        .bind(invocation_id.to_string())
        .bind(now_ms)
        .bind(now_ms.saturating_add(ttl_ms))
        .execute(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        Ok(renewed.rows_affected() == 1)
    }

    pub(super) async fn release_lease_row(
        &self,
        session_id: SessionId,
        invocation_id: InvocationId,
    ) -> Result<()> {
        sqlx::query("DELETE FROM turn_leases WHERE session_id = $1 AND holder_invocation_id = $2")
            .bind(session_id.to_string())
            .bind(invocation_id.to_string())
            .execute(self.pool())
            .await
            .map_err(|err| self.map_err(err))?;
        Ok(())
    }

    pub(super) async fn lease_row(&self, session_id: SessionId) -> Result<Option<TurnLease>> {
        let row = sqlx::query_as::<_, LeaseRow>(&format!(
            "SELECT {LEASE_COLUMNS} FROM turn_leases WHERE session_id = $1"
        ))
        .bind(session_id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        row.map(LeaseRow::into_lease).transpose()
    }

    pub(super) async fn save_draft_row(&self, draft: &AnswerDraft) -> Result<()> {
        sqlx::query(
            "INSERT INTO answer_drafts (session_id, invocation_id, question_id, model, text, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (session_id, invocation_id) DO UPDATE SET \
             question_id = excluded.question_id, model = excluded.model, text = excluded.text, \
             updated_at = excluded.updated_at",
        )
        .bind(draft.session_id.to_string())
        .bind(draft.invocation_id.to_string())
        .bind(draft.question_id.map(|id| id.to_string()))
        .bind(&draft.model)
        .bind(&draft.text)
        .bind(draft.updated_at_ms)
        .execute(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        Ok(())
    }

    /// One statement over three primary keys, so a window watching a session costs a few
    /// page reads a second.
    pub(super) async fn session_version_row(
        &self,
        session_id: SessionId,
    ) -> Result<Option<SessionVersion>> {
        let row = sqlx::query_as::<_, VersionRow>(
            "SELECT head_id, updated_at, archived_at, \
             (SELECT holder_invocation_id FROM turn_leases WHERE session_id = $1) AS lease_holder, \
             (SELECT expires_at FROM turn_leases WHERE session_id = $1) AS lease_expires, \
             (SELECT MAX(updated_at) FROM answer_drafts WHERE session_id = $1) AS draft_saved \
             FROM sessions WHERE id = $1",
        )
        .bind(session_id.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        row.map(VersionRow::into_version).transpose()
    }

    pub(super) async fn draft_rows(&self, session_id: SessionId) -> Result<Vec<AnswerDraft>> {
        let rows = sqlx::query_as::<_, DraftRow>(
            "SELECT invocation_id, question_id, model, text, updated_at FROM answer_drafts \
             WHERE session_id = $1 ORDER BY updated_at, invocation_id",
        )
        .bind(session_id.to_string())
        .fetch_all(self.pool())
        .await
        .map_err(|err| self.map_err(err))?;
        rows.into_iter()
            .map(|row| row.into_draft(session_id))
            .collect()
    }
}
