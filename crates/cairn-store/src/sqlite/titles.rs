//! Titles on SQLite: where the stored title came from, and replacing it only with one from
//! a source at least as strong, checked in the same statement that writes it.

use cairn_core::service::Result;
use cairn_core::title::TitleSource;
use cairn_core::{ServiceError, SessionId, SessionService};

use super::SqliteSessionService;
use super::rows::title_source_rank;

impl SqliteSessionService {
    pub(super) async fn title_source_row(&self, session_id: SessionId) -> Result<TitleSource> {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT title_source FROM sessions WHERE id = ?1")
                .bind(session_id.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(|err| self.map_err(err))?;
        stored
            .map(|name| TitleSource::from_stored(&name))
            .ok_or(ServiceError::NotFound(session_id))
    }

    pub(super) async fn set_title_row(
        &self,
        session_id: SessionId,
        title: &str,
        source: TitleSource,
        now_ms: i64,
    ) -> Result<bool> {
        // The check of the stored source and the write are one statement, so an automatic
        // title racing a rename can never land after it.
        let result = sqlx::query(concat!(
            "UPDATE sessions SET title = ?1, title_source = ?2, updated_at = MAX(updated_at, ?3) \
             WHERE id = ?4 AND ",
            title_source_rank!("title_source"),
            " <= ",
            title_source_rank!("?2")
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
}
