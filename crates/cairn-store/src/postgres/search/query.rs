//! Searching on PostgreSQL: the same two passes as on SQLite, so both backends rank alike.
//!
//! First the messages that hold every term, ranked by `ts_rank` (the GIN index finds them):
//! their sessions come first, best message first. Then, if fewer sessions than asked for
//! were found, sessions where each term is said in some message, newest first. Passages are
//! cut by Cairn ([`cairn_core::search::passage`]) from the few messages shown.

use cairn_core::search::{SearchHit, SearchQuery, SearchRequest};
use cairn_core::service::Result;
use cairn_core::{EventId, SessionId};

use super::query_literal;
use crate::postgres::PostgresSessionService;
use crate::postgres::filters::workspace_condition;
use crate::search_results::{
    ROWS_PER_SESSION, Results, SNIPPETS_PER_SESSION, StoredMessages, into_hits, parse_id,
    single_terms,
};
use crate::sqlite::rows::workspace_bindings;

impl PostgresSessionService {
    pub(in crate::postgres) async fn search_sessions(
        &self,
        request: &SearchRequest,
    ) -> Result<Vec<SearchHit>> {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let Some(everything) = query_literal(&request.query.terms) else {
            return Ok(Vec::new());
        };
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut results = Results::new(limit);
        let rows = i64::try_from(limit.saturating_mul(ROWS_PER_SESSION)).unwrap_or(i64::MAX);
        for (session, event, score) in self.ranked_matches(request, &everything, rows).await? {
            results.add_ranked(&session, &event, score, &request.query)?;
        }
        if let Some(wanted) = results.room_for_scattered(&request.query) {
            self.scattered_matches(request, &mut results, wanted)
                .await?;
        }

        into_hits(self, results.into_found()).await
    }

    /// The best `rows` messages matching `tsquery` in the sessions the request allows:
    /// (session id, event id, rank), best first.
    async fn ranked_matches(
        &self,
        request: &SearchRequest,
        tsquery: &str,
        rows: i64,
    ) -> Result<Vec<(String, String, f64)>> {
        let sql = format!(
            "SELECT entry.session_id, entry.event_id, \
                 ts_rank(entry.document, $1::tsquery)::float8 AS score \
             FROM search_entries AS entry JOIN sessions ON sessions.id = entry.session_id \
             WHERE entry.document @@ $1::tsquery AND {} {} \
             ORDER BY score DESC, entry.id DESC LIMIT $4",
            workspace_condition(request.workspace.as_ref(), 2),
            archived_condition(request),
        );
        // Search ignores the repository (see `WorkspaceFilter::repository`).
        let (directory, git_root, _) = workspace_bindings(request.workspace.as_ref());
        sqlx::query_as(&sql)
            .bind(tsquery)
            .bind(directory)
            .bind(git_root)
            .bind(rows)
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }

    /// Adds sessions (not listed yet) where every term is said in some message, newest
    /// first, at most `wanted`, with a passage for each of the first two terms. These rank below
    /// every session with one message holding all the terms.
    async fn scattered_matches(
        &self,
        request: &SearchRequest,
        results: &mut Results,
        wanted: usize,
    ) -> Result<()> {
        let terms: Vec<(String, SearchQuery)> = single_terms(&request.query)
            .into_iter()
            .filter_map(|single| query_literal(&single.terms).map(|literal| (literal, single)))
            .collect();
        let already: Vec<String> = results.listed().map(SessionId::to_string).collect();
        let literals: Vec<&str> = terms.iter().map(|(literal, _)| literal.as_str()).collect();
        let sql = format!(
            "WITH term AS (SELECT ordinality, literal::tsquery AS query \
                 FROM UNNEST($1::text[]) WITH ORDINALITY AS term (literal, ordinality)), \
             matched AS (SELECT entry.session_id FROM term \
                 JOIN search_entries AS entry ON entry.document @@ term.query \
                 GROUP BY entry.session_id \
                 HAVING count(DISTINCT term.ordinality) = cardinality($1::text[])) \
             SELECT sessions.id FROM sessions JOIN matched ON matched.session_id = sessions.id \
             WHERE NOT (sessions.id = ANY($5::text[])) AND {} {} \
             ORDER BY sessions.updated_at DESC LIMIT $4",
            workspace_condition(request.workspace.as_ref(), 2),
            archived_condition(request),
        );
        // Search ignores the repository (see `WorkspaceFilter::repository`).
        let (directory, git_root, _) = workspace_bindings(request.workspace.as_ref());
        let sessions: Vec<String> = sqlx::query_scalar(&sql)
            .bind(&literals)
            .bind(directory)
            .bind(git_root)
            .bind(i64::try_from(wanted).unwrap_or(i64::MAX))
            .bind(&already)
            .fetch_all(&self.pool)
            .await
            .map_err(|err| self.map_err(err))?;

        for session in sessions {
            let mut passages = Vec::new();
            for (literal, single) in terms.iter().take(SNIPPETS_PER_SESSION) {
                let newest: Option<String> = sqlx::query_scalar(
                    "SELECT event_id FROM search_entries \
                     WHERE session_id = $1 AND document @@ $2::tsquery \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(&session)
                .bind(literal)
                .fetch_optional(&self.pool)
                .await
                .map_err(|err| self.map_err(err))?;
                if let Some(event_id) = newest {
                    passages.push((parse_id::<EventId>(&event_id, "event")?, single.clone()));
                }
            }
            results.add_scattered(parse_id::<SessionId>(&session, "session")?, passages);
        }
        Ok(())
    }
}

fn archived_condition(request: &SearchRequest) -> &'static str {
    if request.include_archived {
        ""
    } else {
        "AND sessions.archived_at IS NULL"
    }
}

impl StoredMessages for PostgresSessionService {
    async fn event_parts(&self, event_id: EventId) -> Result<Option<(String, String)>> {
        sqlx::query_as("SELECT event_type, event_data FROM session_events WHERE id = $1")
            .bind(event_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|err| self.map_err(err))
    }
}
