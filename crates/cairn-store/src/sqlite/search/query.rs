//! Searching on SQLite: ranking with FTS5's bm25, then passages for the few matches shown.
//!
//! Two passes. First the messages that hold every term, ranked by bm25: their sessions come
//! first, best message first. Then, if fewer sessions than asked for were found, sessions
//! where each term is said in some message, newest first. Passages are cut by Cairn
//! ([`cairn_core::search::passage`], linear in the message) from the few messages shown:
//! FTS5's `snippet` scores every window around every match, which took six minutes for a
//! word said 100,000 times in one pasted log.

use std::collections::{HashMap, HashSet};

use cairn_core::search::{SearchHit, SearchRequest};
use cairn_core::service::{Result, WorkspaceFilter};
use cairn_core::{EventId, SessionId};

use super::{fts_match, session_number};
use crate::search_results::{
    ROWS_PER_SESSION, Results, SNIPPETS_PER_SESSION, StoredMessages, into_hits, parse_id,
    single_terms,
};
use crate::sqlite::SqliteSessionService;
use crate::sqlite::rows::path_bytes;

/// A message that matched: its index row (the FTS5 rowid), event and session.
#[derive(Clone, Debug, sqlx::FromRow)]
struct Matched {
    rowid: i64,
    session_id: String,
    event_id: String,
    score: f64,
}

impl SqliteSessionService {
    pub(in crate::sqlite) async fn search_sessions(
        &self,
        request: &SearchRequest,
    ) -> Result<Vec<SearchHit>> {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let everything = fts_match(&request.query.terms);
        let mut results = Results::new(limit);
        let ranked = self
            .ranked_matches(
                request,
                &everything,
                limit.saturating_mul(ROWS_PER_SESSION),
                limit,
            )
            .await?;
        for matched in ranked {
            // bm25 is lower for better matches.
            results.add_ranked(
                &matched.session_id,
                &matched.event_id,
                -matched.score,
                &request.query,
            )?;
        }
        if let Some(wanted) = results.room_for_scattered(&request.query) {
            self.scattered_matches(request, &mut results, wanted)
                .await?;
        }

        into_hits(self, results.into_found()).await
    }

    /// The best `rows` messages matching `fts` in the sessions the request allows, enough
    /// for `sessions` sessions when there are that many.
    ///
    /// Ranking runs on the index alone (FTS5's `rank`, bm25), and only the best rows are
    /// looked up in `search_entries` and `sessions`: joining every match first costs more
    /// than the ranking itself. When the filters leave too few sessions among the best rows,
    /// the exact query (filters joined before ranking) answers instead.
    async fn ranked_matches(
        &self,
        request: &SearchRequest,
        fts: &str,
        rows: usize,
        sessions: usize,
    ) -> Result<Vec<Matched>> {
        let rows_limit = i64::try_from(rows).unwrap_or(i64::MAX);
        let best: Vec<(i64, f64)> = sqlx::query_as(
            "SELECT rowid, rank FROM search_text WHERE search_text MATCH ?1 \
             ORDER BY rank LIMIT ?2",
        )
        .bind(fts)
        .bind(rows_limit)
        .fetch_all(&self.pool)
        .await
        .map_err(|err| self.map_err(err))?;
        let described = self.describe_rows(request, &best).await?;
        let distinct: HashSet<&str> = described
            .iter()
            .map(|row| row.session_id.as_str())
            .collect();
        if best.len() < rows || distinct.len() >= sessions {
            return Ok(described);
        }
        let sql = format!(
            "SELECT search_text.rowid AS rowid, entry.session_id, entry.event_id, \
                 bm25(search_text) AS score \
             FROM search_text JOIN search_entries AS entry ON entry.id = search_text.rowid \
             JOIN sessions ON sessions.id = entry.session_id \
             WHERE search_text MATCH ?1 {} ORDER BY score LIMIT ?4",
            session_conditions(request)
        );
        let (directory, git_root) = workspace_binds(request);
        sqlx::query_as::<_, Matched>(&sql)
            .bind(fts)
            .bind(directory)
            .bind(git_root)
            .bind(rows_limit)
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }

    /// `best` (rowid, score) in order, with their events and sessions, less the rows of
    /// sessions the request leaves out.
    async fn describe_rows(
        &self,
        request: &SearchRequest,
        best: &[(i64, f64)],
    ) -> Result<Vec<Matched>> {
        if best.is_empty() {
            return Ok(Vec::new());
        }
        // Integers only: nothing typed by anyone reaches this list.
        let rowids: Vec<String> = best.iter().map(|(rowid, _)| rowid.to_string()).collect();
        let sql = format!(
            "SELECT entry.id AS rowid, entry.session_id, entry.event_id, 0.0 AS score \
             FROM search_entries AS entry JOIN sessions ON sessions.id = entry.session_id \
             WHERE entry.id IN ({}) {}",
            rowids.join(","),
            session_conditions(request)
        );
        let (directory, git_root) = workspace_binds(request);
        let rows: Vec<Matched> = sqlx::query_as(&sql)
            .bind(None::<String>)
            .bind(directory)
            .bind(git_root)
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        let mut by_rowid: HashMap<i64, Matched> =
            rows.into_iter().map(|row| (row.rowid, row)).collect();
        Ok(best
            .iter()
            .filter_map(|(rowid, score)| {
                let mut row = by_rowid.remove(rowid)?;
                row.score = *score;
                Some(row)
            })
            .collect())
    }

    /// Adds sessions (not listed yet) where every term is said in some message, newest
    /// first, at most `wanted`, with a passage for each of the first two terms. Matching without
    /// ranking is cheap even for common words; these sessions rank below every session with
    /// one message holding all the terms.
    ///
    /// A match's session is read from its id (see [`session_number`]), so this pass reads
    /// only the full-text index until it knows which sessions to show.
    async fn scattered_matches(
        &self,
        request: &SearchRequest,
        results: &mut Results,
        wanted: usize,
    ) -> Result<()> {
        // Per term: each session number that has it, with its newest match.
        let mut per_term: Vec<HashMap<i64, i64>> = Vec::new();
        for term in &request.query.terms {
            let rowids: Vec<i64> =
                sqlx::query_scalar("SELECT rowid FROM search_text WHERE search_text MATCH ?1")
                    .bind(fts_match([term]))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|err| self.map_err(err))?;
            let mut newest: HashMap<i64, i64> = HashMap::new();
            for rowid in rowids {
                let slot = newest.entry(session_number(rowid)).or_insert(rowid);
                *slot = (*slot).max(rowid);
            }
            per_term.push(newest);
        }
        let Some((first, rest)) = per_term.split_first() else {
            return Ok(());
        };
        let numbers: Vec<i64> = first
            .keys()
            .copied()
            .filter(|number| rest.iter().all(|term| term.contains_key(number)))
            .collect();
        let mut candidates: Vec<SessionId> = Vec::new();
        let mut number_of: HashMap<SessionId, i64> = HashMap::new();
        for (number, session_id) in self.sessions_numbered(&numbers).await? {
            let id = parse_id::<SessionId>(&session_id, "session")?;
            if !results.contains(&id) {
                candidates.push(id);
                number_of.insert(id, number);
            }
        }
        let shown: Vec<SessionId> = self
            .allowed_newest_first(request, &candidates)
            .await?
            .into_iter()
            .take(wanted)
            .collect();

        let singles = single_terms(&request.query);
        let passage_rows = |session_id: &SessionId| {
            let number = number_of.get(session_id).copied();
            per_term
                .iter()
                .zip(&singles)
                .take(SNIPPETS_PER_SESSION)
                .filter_map(move |(term, single)| Some((*term.get(&number?)?, single)))
        };
        let rowids: Vec<i64> = shown
            .iter()
            .flat_map(|session_id| passage_rows(session_id).map(|(rowid, _)| rowid))
            .collect();
        let events = self.event_ids_of_rows(&rowids).await?;
        for session_id in shown {
            let mut passages = Vec::new();
            for (rowid, single) in passage_rows(&session_id) {
                if let Some(event_id) = events.get(&rowid) {
                    passages.push((parse_id::<EventId>(event_id, "event")?, single.clone()));
                }
            }
            results.add_scattered(session_id, passages);
        }
        Ok(())
    }

    /// The sessions with these numbers (see `search_sessions`).
    async fn sessions_numbered(&self, numbers: &[i64]) -> Result<Vec<(i64, String)>> {
        let mut sessions = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(500) {
            // Integers only: nothing typed by anyone reaches this list.
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT number, session_id FROM search_sessions WHERE number IN ({})",
                list.join(",")
            );
            let rows: Vec<(i64, String)> = sqlx::query_as(&sql)
                .fetch_all(&self.pool)
                .await
                .map_err(|err| self.map_err(err))?;
            sessions.extend(rows);
        }
        Ok(sessions)
    }

    /// The event id of each of these search rows that still exists.
    async fn event_ids_of_rows(&self, rowids: &[i64]) -> Result<HashMap<i64, String>> {
        if rowids.is_empty() {
            return Ok(HashMap::new());
        }
        // Integers only, and at most a few dozen: one statement.
        let list: Vec<String> = rowids.iter().map(i64::to_string).collect();
        let sql = format!(
            "SELECT id, event_id FROM search_entries WHERE id IN ({})",
            list.join(",")
        );
        let rows: Vec<(i64, String)> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;
        Ok(rows.into_iter().collect())
    }

    /// Those of `candidates` the request allows, most recently active first.
    async fn allowed_newest_first(
        &self,
        request: &SearchRequest,
        candidates: &[SessionId],
    ) -> Result<Vec<SessionId>> {
        let (directory, git_root) = workspace_binds(request);
        let mut allowed: Vec<(i64, SessionId)> = Vec::new();
        for chunk in candidates.chunks(500) {
            // Parsed ids print as hex and hyphens only: safe inside quotes.
            let ids: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
            let sql = format!(
                "SELECT id, updated_at FROM sessions WHERE id IN ({}) {}",
                ids.join(","),
                session_conditions(request)
            );
            let rows: Vec<(String, i64)> = sqlx::query_as(&sql)
                .bind(None::<String>)
                .bind(directory.clone())
                .bind(git_root.clone())
                .fetch_all(&self.pool)
                .await
                .map_err(|err| self.map_err(err))?;
            for (id, updated_at) in rows {
                allowed.push((updated_at, parse_id::<SessionId>(&id, "session")?));
            }
        }
        allowed.sort_by_key(|(updated_at, _)| std::cmp::Reverse(*updated_at));
        Ok(allowed.into_iter().map(|(_, id)| id).collect())
    }
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

impl StoredMessages for SqliteSessionService {
    async fn event_parts(&self, event_id: EventId) -> Result<Option<(String, String)>> {
        sqlx::query_as("SELECT event_type, event_data FROM session_events WHERE id = ?1")
            .bind(event_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }
}
