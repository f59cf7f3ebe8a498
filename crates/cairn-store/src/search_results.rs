//! How both backends turn matches into a result list, so they rank and show alike: sessions
//! with one message holding every term first (best message first, up to two passages each),
//! then sessions whose terms are spread over several messages, newest first.

use std::collections::HashMap;

use cairn_core::search::passage::passage;
use cairn_core::search::{SearchHit, SearchQuery, searchable_text};
use cairn_core::service::Result;
use cairn_core::{EventId, EventKind, ServiceError, SessionId, SessionService};

/// At most this many passages a session shows.
pub(crate) const SNIPPETS_PER_SESSION: usize = 2;
/// Ranked messages read per session asked for: enough to fill the list when a few sessions
/// hold many of the best matches.
pub(crate) const ROWS_PER_SESSION: usize = 8;
/// Scores of sessions with one message holding every term start here, above any session
/// whose terms are scattered (scored below 1).
const ONE_MESSAGE_BONUS: f64 = 1_000.0;

/// One session's share of the results, before its row is read.
pub(crate) struct Found {
    pub session_id: SessionId,
    pub score: f64,
    /// The messages to cut passages from, with the query whose matches they show.
    pub passages: Vec<(EventId, SearchQuery)>,
}

/// The sessions found so far, at most `limit`, in the order they will be shown.
pub(crate) struct Results {
    found: Vec<Found>,
    seen: HashMap<SessionId, usize>,
    limit: usize,
}

impl Results {
    pub fn new(limit: usize) -> Self {
        Self {
            found: Vec::new(),
            seen: HashMap::new(),
            limit,
        }
    }

    /// A message holding every term, `score` higher for better matches: its session joins
    /// the list if there is room, or gains a passage if it is already there.
    pub fn add_ranked(
        &mut self,
        session: &str,
        event: &str,
        score: f64,
        query: &SearchQuery,
    ) -> Result<()> {
        let session_id = parse_id::<SessionId>(session, "session")?;
        let event_id = parse_id::<EventId>(event, "event")?;
        match self.seen.get(&session_id) {
            Some(&index) => {
                let passages = &mut self.found[index].passages;
                // A message can match more than once (PostgreSQL indexes a long one in
                // chunks): one passage each.
                let shown = passages.iter().any(|(shown, _)| *shown == event_id);
                if passages.len() < SNIPPETS_PER_SESSION && !shown {
                    passages.push((event_id, query.clone()));
                }
            }
            None if self.found.len() < self.limit => {
                self.seen.insert(session_id, self.found.len());
                self.found.push(Found {
                    session_id,
                    score: ONE_MESSAGE_BONUS + score,
                    passages: vec![(event_id, query.clone())],
                });
            }
            None => {}
        }
        Ok(())
    }

    /// How many more sessions whose terms are scattered to look for, if any: only when
    /// there is room, and a query of one term has nothing to scatter.
    pub fn room_for_scattered(&self, query: &SearchQuery) -> Option<usize> {
        let room = self.limit.saturating_sub(self.found.len());
        (room > 0 && query.terms.len() > 1).then_some(room)
    }

    pub fn contains(&self, session_id: &SessionId) -> bool {
        self.seen.contains_key(session_id)
    }

    pub fn listed(&self) -> impl Iterator<Item = &SessionId> {
        self.seen.keys()
    }

    /// The next session whose terms are scattered, below every one added so far.
    pub fn add_scattered(&mut self, session_id: SessionId, passages: Vec<(EventId, SearchQuery)>) {
        let rank = self.found.len() as f64;
        self.seen.insert(session_id, self.found.len());
        self.found.push(Found {
            session_id,
            score: 1.0 / (2.0 + rank),
            passages,
        });
    }

    pub fn into_found(self) -> Vec<Found> {
        self.found
    }
}

/// What a backend gives for the passages of its results.
pub(crate) trait StoredMessages {
    /// The stored `(event_type, event_data)` of an event, if it still exists.
    async fn event_parts(&self, event_id: EventId) -> Result<Option<(String, String)>>;
}

/// The result list: each session found with its row as it is now (a session deleted since
/// the search is left out) and its passages.
pub(crate) async fn into_hits<S>(service: &S, found: Vec<Found>) -> Result<Vec<SearchHit>>
where
    S: SessionService + StoredMessages,
{
    let mut hits = Vec::with_capacity(found.len());
    for session in found {
        let Some(row) = service.get_session(session.session_id).await? else {
            continue;
        };
        let mut snippets = Vec::with_capacity(session.passages.len());
        for (event_id, query) in &session.passages {
            let Some((event_type, data)) = service.event_parts(*event_id).await? else {
                continue;
            };
            // Events this build cannot read have no passage.
            let Ok(kind) = EventKind::from_parts(&event_type, &data) else {
                continue;
            };
            if let Some(text) = searchable_text(&kind) {
                snippets.push(passage(session.session_id, *event_id, text, query));
            }
        }
        hits.push(SearchHit {
            session: row,
            score: session.score,
            snippets,
        });
    }
    Ok(hits)
}

/// Each term of `query` as a query of its own, to cut passages for a scattered match.
pub(crate) fn single_terms(query: &SearchQuery) -> Vec<SearchQuery> {
    query
        .terms
        .iter()
        .map(|term| SearchQuery {
            terms: vec![term.clone()],
        })
        .collect()
}

pub(crate) fn parse_id<T: std::str::FromStr>(text: &str, what: &str) -> Result<T> {
    text.parse().map_err(|_| {
        ServiceError::storage(format!("malformed {what} id {text} in the search index"))
    })
}
