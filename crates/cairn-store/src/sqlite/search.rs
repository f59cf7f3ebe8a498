//! Full-text search on SQLite (migration 0006): FTS5 over user and assistant text, kept in
//! step with `session_events` inside the transactions that write and delete events, and the
//! batched indexing of events stored before the migration.
//!
//! A query reaches FTS5 only as quoted phrases built from letters and digits (see
//! [`fts_match`]), so no user input can be FTS5 syntax, valid or not.

use std::collections::HashMap;

use cairn_core::search::{
    SearchHit, SearchRequest, SearchTerm, Snippet, index_text, searchable_text,
};
use cairn_core::service::{Result, SearchIndexProgress, WorkspaceFilter};
use cairn_core::{Event, EventId, EventKind, ServiceError, SessionId};
use sqlx::{Sqlite, Transaction};

use super::SqliteSessionService;
use super::rows::path_bytes;

/// Snippet length in tokens around the match, FTS5's own unit.
const SNIPPET_TOKENS: i64 = 16;
/// At most this many passages a session shows.
const SNIPPETS_PER_SESSION: usize = 2;
/// Scores of sessions with one message holding every term start here, above any session
/// whose terms are scattered (their scores are bm25 sums, far below).
const ONE_MESSAGE_BONUS: f64 = 1_000.0;

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

/// `AND ...` conditions on the `sessions` table for the request's workspace and archive
/// filters, using parameters `?2` (directory) and `?3` (git root).
fn session_conditions(request: &SearchRequest) -> String {
    let mut conditions = String::new();
    match &request.workspace {
        Some(WorkspaceFilter {
            git_root: Some(_), ..
        }) => conditions
            .push_str(" AND (sessions.directory_bytes = ?2 OR sessions.git_root_bytes = ?3)"),
        Some(WorkspaceFilter { git_root: None, .. }) => {
            conditions.push_str(" AND sessions.directory_bytes = ?2")
        }
        None => {}
    }
    if !request.include_archived {
        conditions.push_str(" AND sessions.archived_at IS NULL");
    }
    conditions
}

/// One matching event, as read.
#[derive(sqlx::FromRow)]
struct MatchRow {
    session_id: String,
    event_id: String,
    score: f64,
    passage: String,
}

impl MatchRow {
    fn snippet(&self) -> Result<Snippet> {
        let session_id: SessionId = self.session_id.parse().map_err(|_| {
            ServiceError::storage(format!("malformed session id {}", self.session_id))
        })?;
        let event_id: EventId = self
            .event_id
            .parse()
            .map_err(|_| ServiceError::storage(format!("malformed event id {}", self.event_id)))?;
        Ok(Snippet::from_marked(session_id, event_id, &self.passage))
    }
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
        let inserted = sqlx::query(
            "INSERT INTO search_entries (event_id, session_id) VALUES (?1, ?2) \
             ON CONFLICT (event_id) DO NOTHING",
        )
        .bind(event_id)
        .bind(session_id)
        .execute(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))?;
        if inserted.rows_affected() == 1 {
            sqlx::query("INSERT INTO search_text (rowid, text) VALUES (?1, ?2)")
                .bind(inserted.last_insert_rowid())
                .bind(index_text(text))
                .execute(&mut **tx)
                .await
                .map_err(|err| self.map_err(err))?;
        }
        Ok(())
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

    pub(super) async fn search_sessions(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        // Sessions with one message that holds every term, best message first.
        let everything = fts_match(&request.query.terms);
        let rows = self
            .matching_events(request, &everything, limit.saturating_mul(8).max(64))
            .await?;
        let mut order: Vec<SessionId> = Vec::new();
        let mut found: HashMap<SessionId, (f64, Vec<Snippet>)> = HashMap::new();
        for row in &rows {
            let snippet = row.snippet()?;
            let entry = found.entry(snippet.session_id).or_insert_with(|| {
                order.push(snippet.session_id);
                (ONE_MESSAGE_BONUS - row.score, Vec::new())
            });
            if entry.1.len() < SNIPPETS_PER_SESSION {
                entry.1.push(snippet);
            }
        }
        order.truncate(limit);

        // Then sessions where the terms are said in different messages.
        if order.len() < limit && request.query.terms.len() > 1 {
            let wanted = limit - order.len();
            for (session_id, score, snippets) in
                self.scattered_matches(request, &found, wanted).await?
            {
                order.push(session_id);
                found.insert(session_id, (score, snippets));
            }
        }

        let mut hits = Vec::with_capacity(order.len());
        for session_id in order {
            let Some((score, snippets)) = found.remove(&session_id) else {
                continue;
            };
            // Deleted between the two reads: not a result.
            if let Some(row) = self.fetch_session_row(session_id).await? {
                hits.push(SearchHit {
                    session: row.into_session()?,
                    score,
                    snippets,
                });
            }
        }
        Ok(hits)
    }

    /// The events matching `fts`, best first, with a passage each, in the sessions the
    /// request allows.
    async fn matching_events(
        &self,
        request: &SearchRequest,
        fts: &str,
        rows: usize,
    ) -> Result<Vec<MatchRow>> {
        // Ranked first, passages only for the rows kept: a passage costs far more than a score.
        let sql = format!(
            "WITH best AS ( \
                 SELECT search_text.rowid AS id, bm25(search_text) AS score FROM search_text \
                 JOIN search_entries AS entry ON entry.id = search_text.rowid \
                 JOIN sessions ON sessions.id = entry.session_id \
                 WHERE search_text MATCH ?1 {} \
                 ORDER BY score LIMIT ?4 \
             ) \
             SELECT entry.session_id, entry.event_id, best.score, \
                 snippet(search_text, 0, char(57344), char(57345), '…', {SNIPPET_TOKENS}) AS passage \
             FROM best JOIN search_text ON search_text.rowid = best.id \
             JOIN search_entries AS entry ON entry.id = best.id \
             WHERE search_text MATCH ?1 ORDER BY best.score",
            session_conditions(request)
        );
        let (directory, git_root) = workspace_binds(request);
        sqlx::query_as::<_, MatchRow>(&sql)
            .bind(fts)
            .bind(directory)
            .bind(git_root)
            .bind(i64::try_from(rows).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }

    /// Sessions (not in `already`) that hold every term, each in some message, best first:
    /// their score is the sum of each term's best bm25 (negated). At most `wanted`, with a
    /// passage for each of the first two terms.
    async fn scattered_matches(
        &self,
        request: &SearchRequest,
        already: &HashMap<SessionId, (f64, Vec<Snippet>)>,
        wanted: usize,
    ) -> Result<Vec<(SessionId, f64, Vec<Snippet>)>> {
        let (directory, git_root) = workspace_binds(request);
        // Per term, each session's best score: scores only, passages come later for the few
        // sessions kept.
        let sql = format!(
            // bm25() cannot be an aggregate's argument: the scores are computed first.
            "WITH scored AS MATERIALIZED ( \
                 SELECT entry.session_id, bm25(search_text) AS score FROM search_text \
                 JOIN search_entries AS entry ON entry.id = search_text.rowid \
                 JOIN sessions ON sessions.id = entry.session_id \
                 WHERE search_text MATCH ?1 {} \
             ) \
             SELECT session_id, min(score) FROM scored GROUP BY session_id",
            session_conditions(request)
        );
        let mut totals: Option<HashMap<String, f64>> = None;
        for term in &request.query.terms {
            let rows: Vec<(String, f64)> = sqlx::query_as(&sql)
                .bind(fts_match([term]))
                .bind(directory.clone())
                .bind(git_root.clone())
                .fetch_all(&self.pool)
                .await
                .map_err(|err| self.map_err(err))?;
            totals = Some(match totals {
                None => rows.into_iter().map(|(id, score)| (id, -score)).collect(),
                Some(mut so_far) => {
                    let this: HashMap<String, f64> = rows.into_iter().collect();
                    so_far.retain(|id, _| this.contains_key(id));
                    for (id, total) in so_far.iter_mut() {
                        *total -= this.get(id).copied().unwrap_or_default();
                    }
                    so_far
                }
            });
        }
        let mut candidates: Vec<(SessionId, f64)> = totals
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(id, total)| Some((id.parse::<SessionId>().ok()?, total)))
            .filter(|(id, _)| !already.contains_key(id))
            .collect();
        candidates.sort_by(|a, b| b.1.total_cmp(&a.1));
        candidates.truncate(wanted);

        let mut sessions = Vec::with_capacity(candidates.len());
        for (session_id, total) in candidates {
            let mut snippets = Vec::new();
            for term in request.query.terms.iter().take(SNIPPETS_PER_SESSION) {
                if let Some(row) = self.best_match_in(session_id, &fts_match([term])).await? {
                    snippets.push(row.snippet()?);
                }
            }
            sessions.push((session_id, total, snippets));
        }
        Ok(sessions)
    }

    /// The best match of `fts` in one session, with its passage.
    async fn best_match_in(&self, session_id: SessionId, fts: &str) -> Result<Option<MatchRow>> {
        sqlx::query_as::<_, MatchRow>(&format!(
            "SELECT entry.session_id, entry.event_id, bm25(search_text) AS score, \
                 snippet(search_text, 0, char(57344), char(57345), '…', {SNIPPET_TOKENS}) AS passage \
             FROM search_text JOIN search_entries AS entry ON entry.id = search_text.rowid \
             WHERE search_text MATCH ?1 AND entry.session_id = ?2 ORDER BY score LIMIT 1"
        ))
        .bind(fts)
        .bind(session_id.to_string())
        .fetch_optional(&self.pool)
        .await
        .map_err(|err| self.map_err(err))
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

/// The values of `?2` (directory) and `?3` (git root) for [`session_conditions`].
fn workspace_binds(request: &SearchRequest) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    match &request.workspace {
        Some(workspace) => (
            Some(path_bytes(&workspace.directory).to_vec()),
            workspace
                .git_root
                .as_deref()
                .map(|root| path_bytes(root).to_vec()),
        ),
        None => (None, None),
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
