//! Full-text search on SQLite (migrations 0006 and 0011): FTS5 over user and assistant text, kept in
//! step with `session_events` inside the transactions that write and delete events, and the
//! batched indexing of events stored before the migration. Searching itself is in `query`.
//!
//! A query reaches FTS5 only as quoted phrases built from letters and digits (see
//! [`fts_match`]), so no user input can be FTS5 syntax, valid or not.

use cairn_core::search::{SearchTerm, index_text, searchable_text};
use cairn_core::service::{Result, SearchIndexProgress};
use cairn_core::{Event, EventKind};
use sqlx::{Sqlite, Transaction};

use super::SqliteSessionService;

mod query;

/// How many ids each session's range holds: a search row's id is its session's number
/// (`search_sessions`) times this, plus the message's ordinal in the session. The session of
/// a match is then known from the full-text index alone (see `query`). 2^31 messages is more
/// than a session can hold (each is a row of its own), and 2^32 sessions still fit an i64.
const MESSAGES_PER_SESSION: i64 = 1 << 31;

/// The session number (`search_sessions.number`) a search row's id belongs to.
fn session_number(rowid: i64) -> i64 {
    rowid.div_euclid(MESSAGES_PER_SESSION)
}

/// The FTS5 query for `terms`: every term a quoted phrase of its tokens (a prefix marked on
/// its last token), all of them required.
fn fts_match<'a>(terms: impl IntoIterator<Item = &'a SearchTerm>) -> String {
    terms
        .into_iter()
        .map(|term| {
            // Tokens hold only letters and digits: nothing to escape inside the quotes.
            let phrase = format!("\"{}\"", term.tokens().join(" "));
            if term.is_prefix() {
                phrase + "*"
            } else {
                phrase
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl SqliteSessionService {
    /// Indexes the searchable events among `events` (just written in `tx`).
    pub(super) async fn index_events(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: &str,
        events: &[Event],
    ) -> Result<()> {
        for event in events {
            if let Some(text) = searchable_text(&event.kind) {
                self.index_one(tx, session_id, &event.id.to_string(), text)
                    .await?;
            }
        }
        Ok(())
    }

    async fn index_one(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: &str,
        event_id: &str,
        text: &str,
    ) -> Result<()> {
        let mut inserted = self.insert_entry(tx, session_id, event_id).await?;
        if inserted.is_none() && !self.is_indexed(tx, event_id).await? {
            // Every session gets its number when it is made (migration 0011's trigger);
            // a session without one (a database edited by hand) gets it now.
            sqlx::query("INSERT OR IGNORE INTO search_sessions (session_id) VALUES (?1)")
                .bind(session_id)
                .execute(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
            inserted = self.insert_entry(tx, session_id, event_id).await?;
            if inserted.is_none() {
                return Err(cairn_core::ServiceError::storage(format!(
                    "cannot index event {event_id} for search: session {session_id} \
                     holds {MESSAGES_PER_SESSION} searchable messages already"
                )));
            }
        }
        if let Some(rowid) = inserted {
            sqlx::query("INSERT INTO search_text (rowid, text) VALUES (?1, ?2)")
                .bind(rowid)
                .bind(index_text(text))
                .execute(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }
        Ok(())
    }

    /// Adds the event's row to `search_entries` under the next id of its session's range
    /// (see [`MESSAGES_PER_SESSION`]), returning that id; `None` when the event is indexed
    /// already, its session has no number, or its range is full.
    async fn insert_entry(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: &str,
        event_id: &str,
    ) -> Result<Option<i64>> {
        let inserted = sqlx::query(
            "INSERT INTO search_entries (id, event_id, session_id) \
             SELECT next_id, ?1, ?2 FROM ( \
                 SELECT number, ifnull((SELECT max(id) + 1 FROM search_entries \
                     WHERE id >= number * ?3 AND id < (number + 1) * ?3), number * ?3) AS next_id \
                 FROM search_sessions WHERE session_id = ?2) \
             WHERE next_id < (number + 1) * ?3 \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(session_id)
        .bind(MESSAGES_PER_SESSION)
        .execute(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))?;
        Ok((inserted.rows_affected() == 1).then(|| inserted.last_insert_rowid()))
    }

    async fn is_indexed(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        event_id: &str,
    ) -> Result<bool> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT id FROM search_entries WHERE event_id = ?1")
                .bind(event_id)
                .fetch_optional(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
        Ok(found.is_some())
    }

    /// Removes a session's search rows (before the session row goes, in the same `tx`).
    pub(super) async fn unindex_session(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        session_id: &str,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM search_text WHERE rowid IN \
             (SELECT id FROM search_entries WHERE session_id = ?1)",
        )
        .bind(session_id)
        .execute(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))?;
        sqlx::query("DELETE FROM search_entries WHERE session_id = ?1")
            .bind(session_id)
            .execute(&mut **tx)
            .await
            .map_err(|err| self.map_err(err))?;
        Ok(())
    }

    /// Indexes up to `batch` events stored before migration 0006.
    pub(super) async fn backfill_search(&self, batch: usize) -> Result<SearchIndexProgress> {
        let mut tx = self.begin_write().await?;
        let (after, upto): (i64, i64) =
            sqlx::query_as("SELECT after_rowid, upto_rowid FROM search_backfill")
                .fetch_one(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
        if after >= upto {
            tx.commit().await.map_err(|err| self.map_err(err))?;
            return Ok(progress(after, upto));
        }
        let rows: Vec<(i64, String, String, String, String)> = sqlx::query_as(
            "SELECT rowid, id, session_id, event_type, event_data FROM session_events \
             WHERE rowid > ?1 AND rowid <= ?2 ORDER BY rowid LIMIT ?3",
        )
        .bind(after)
        .bind(upto)
        .bind(i64::try_from(batch.max(1)).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        let reached = match rows.last() {
            Some((rowid, ..)) if rows.len() >= batch.max(1) => *rowid,
            // The last batch.
            _ => upto,
        };
        for (_, event_id, session_id, event_type, event_data) in &rows {
            // Events this build cannot read (a newer type, damage) are not searchable.
            let Ok(kind) = EventKind::from_parts(event_type, event_data) else {
                continue;
            };
            if let Some(text) = searchable_text(&kind) {
                self.index_one(&mut tx, session_id, event_id, text).await?;
            }
        }
        sqlx::query("UPDATE search_backfill SET after_rowid = ?1")
            .bind(reached)
            .execute(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        Ok(progress(reached, upto))
    }
}

fn progress(after: i64, upto: i64) -> SearchIndexProgress {
    SearchIndexProgress {
        indexed: u64::try_from(after.min(upto)).unwrap_or(0),
        total: u64::try_from(upto).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::search::SearchQuery;

    #[test]
    fn queries_reach_fts5_as_quoted_phrases_only() {
        let query = SearchQuery::parse(r#"NOT "a OR b" migrat* 日本 x:y*"#).unwrap();
        assert_eq!(
            fts_match(&query.terms),
            r#""NOT" "a OR b" "migrat"* "日 本" "x y"*"#
        );
    }
}
