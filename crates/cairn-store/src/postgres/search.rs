//! Full-text search on PostgreSQL (migration 0005): a `tsvector` of Cairn's own words for
//! each user and assistant message, kept in step with `session_events` inside the
//! transactions that write events, and the batched indexing of events stored before the
//! migration. Searching itself is in `query`.
//!
//! Documents and queries reach the server as `tsvector` / `tsquery` literals that Cairn builds
//! from [`cairn_core::search::words`], every lexeme quoted: no user input is ever parsed as
//! query syntax, and no text search configuration changes what a word is.

use cairn_core::search::words::{fold, folded_words, word_ranges};
use cairn_core::search::{SearchTerm, searchable_text};
use cairn_core::service::{Result, SearchIndexProgress};
use cairn_core::{Event, EventKind};
use sqlx::{Postgres, Transaction};

use super::PostgresSessionService;

mod query;

/// PostgreSQL's limits on a `tsvector`: a lexeme's length in bytes, positions per lexeme,
/// the highest position, and the whole value's size (1 MiB, with room to spare).
const MAX_LEXEME_BYTES: usize = 2046;
const MAX_POSITIONS: usize = 256;
const MAX_POSITION: usize = 16_383;
const MAX_DOCUMENT_BYTES: usize = 1_000_000;

/// Appends `lexeme` to `out` quoted as a `tsvector`/`tsquery` literal wants it.
fn push_quoted(out: &mut String, lexeme: &str) {
    out.push('\'');
    for c in lexeme.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
}

/// The `tsvector` literals of `text`'s words with their positions (for phrase matching): one
/// for a message of ordinary length, several chunks of consecutive words for one too long for
/// a single `tsvector` (more than 16,383 words, or words filling about a megabyte).
///
/// Words too long to index are left out: a base64 blob is not something anyone searches for.
pub(crate) fn document_literals(text: &str) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut chunk = Chunk::default();
    for word in folded_words(text) {
        if word.is_empty() || word.len() > MAX_LEXEME_BYTES {
            chunk.skip();
            continue;
        }
        if chunk.next_position > MAX_POSITION || chunk.size + word.len() + 10 > MAX_DOCUMENT_BYTES {
            chunks.push(std::mem::take(&mut chunk).literal());
        }
        chunk.push(word);
    }
    if !chunk.positions.is_empty() || chunks.is_empty() {
        chunks.push(chunk.literal());
    }
    chunks
}

/// Consecutive words of a message, each with the positions it is said at.
struct Chunk {
    positions: std::collections::BTreeMap<String, Vec<usize>>,
    next_position: usize,
    /// About the bytes the server stores for it.
    size: usize,
}

impl Default for Chunk {
    fn default() -> Self {
        Self {
            positions: Default::default(),
            next_position: 1,
            size: 0,
        }
    }
}

impl Chunk {
    /// A word left out still keeps its place, so phrases do not join across it.
    fn skip(&mut self) {
        self.next_position += 1;
    }

    fn push(&mut self, word: String) {
        let position = self.next_position.min(MAX_POSITION);
        self.next_position += 1;
        match self.positions.get_mut(&word) {
            Some(list) => {
                // Past the limit a word still matches; only its later positions are unknown.
                if list.len() < MAX_POSITIONS {
                    list.push(position);
                    self.size += 2;
                }
            }
            None => {
                self.size += word.len() + 10;
                self.positions.insert(word, vec![position]);
            }
        }
    }

    fn literal(self) -> String {
        let mut out = String::with_capacity(self.size * 2);
        for (word, list) in self.positions {
            if !out.is_empty() {
                out.push(' ');
            }
            push_quoted(&mut out, &word);
            out.push(':');
            let list: Vec<String> = list.iter().map(usize::to_string).collect();
            out.push_str(&list.join(","));
        }
        out
    }
}

/// The `tsquery` literal for `terms`, all required: each term a phrase of its words, the
/// last one a prefix when the term ends in `*`. `None` when no term has a word to look for.
pub(crate) fn query_literal<'a>(terms: impl IntoIterator<Item = &'a SearchTerm>) -> Option<String> {
    let mut parts = Vec::new();
    for term in terms {
        let text = match term {
            SearchTerm::Word { text, .. } | SearchTerm::Phrase(text) => text,
        };
        let words: Vec<String> = word_ranges(text)
            .map(|range| fold(&text[range]))
            .filter(|word| !word.is_empty() && word.len() <= MAX_LEXEME_BYTES)
            .collect();
        let Some(last) = words.len().checked_sub(1) else {
            continue;
        };
        let mut phrase = String::new();
        for (index, word) in words.iter().enumerate() {
            if index > 0 {
                phrase.push_str(" <-> ");
            }
            push_quoted(&mut phrase, word);
            if index == last && term.is_prefix() {
                phrase.push_str(":*");
            }
        }
        parts.push(format!("({phrase})"));
    }
    (!parts.is_empty()).then(|| parts.join(" & "))
}

impl PostgresSessionService {
    /// Indexes the searchable events among `events` (just written in `tx`).
    pub(super) async fn index_events(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        session_text: &str,
        events: &[Event],
    ) -> Result<()> {
        let mut rows = DocumentRows::default();
        rows.add_events(session_text, events);
        self.insert_documents(tx, &rows).await
    }

    /// Writes `rows` in one statement, whatever the number of sessions they belong to: a
    /// copy or a backfill indexes thousands of events at once.
    pub(super) async fn insert_documents(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        rows: &DocumentRows,
    ) -> Result<()> {
        if rows.event_ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO search_entries (event_id, chunk, session_id, document) \
             SELECT event_id, chunk, session_id, document::tsvector \
             FROM UNNEST($1::text[], $2::int4[], $3::text[], $4::text[]) \
                 AS new (event_id, chunk, session_id, document) \
             ON CONFLICT (event_id, chunk) DO NOTHING",
        )
        .bind(&rows.event_ids)
        .bind(&rows.chunks)
        .bind(&rows.session_ids)
        .bind(&rows.documents)
        .execute(&mut **tx)
        .await
        .map_err(|err| self.map_err(err))?;
        Ok(())
    }

    /// Indexes up to `batch` events stored before migration 0005.
    pub(super) async fn backfill_search(&self, batch: usize) -> Result<SearchIndexProgress> {
        let mut tx = self.begin().await?;
        let (after, indexed, total): (String, i64, i64) =
            sqlx::query_as("SELECT after_id, indexed, total FROM search_backfill FOR UPDATE")
                .fetch_one(&mut *tx)
                .await
                .map_err(|err| self.map_err(err))?;
        if indexed >= total {
            tx.commit().await.map_err(|err| self.map_err(err))?;
            return Ok(progress(indexed, total));
        }
        let batch = batch.max(1);
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT id, session_id, event_type, event_data FROM session_events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(i64::try_from(batch).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(|err| self.map_err(err))?;
        let mut documents = DocumentRows::default();
        for (event_id, session_id, event_type, event_data) in &rows {
            // Events this build cannot read (a newer type, damage) are not searchable.
            if let Ok(kind) = EventKind::from_parts(event_type, event_data) {
                documents.add_kind(session_id, event_id, &kind);
            }
        }
        self.insert_documents(&mut tx, &documents).await?;
        let (after, indexed) = match rows.last() {
            Some((last, ..)) if rows.len() >= batch => (last.clone(), indexed + rows.len() as i64),
            // The last batch.
            _ => (after, total),
        };
        let indexed = indexed.min(total);
        sqlx::query("UPDATE search_backfill SET after_id = $1, indexed = $2")
            .bind(&after)
            .bind(indexed)
            .execute(&mut *tx)
            .await
            .map_err(|err| self.map_err(err))?;
        tx.commit().await.map_err(|err| self.map_err(err))?;
        Ok(progress(indexed, total))
    }
}

/// `search_entries` rows to insert, as the arrays one statement takes.
#[derive(Default)]
pub(super) struct DocumentRows {
    event_ids: Vec<String>,
    chunks: Vec<i32>,
    session_ids: Vec<String>,
    documents: Vec<String>,
}

impl DocumentRows {
    /// The searchable ones among `events`, all of session `session_text`.
    pub(super) fn add_events(&mut self, session_text: &str, events: &[Event]) {
        for event in events {
            self.add_kind(session_text, &event.id.to_string(), &event.kind);
        }
    }

    /// Event `event_id` of session `session_text`, if what it holds is searchable.
    pub(super) fn add_kind(&mut self, session_text: &str, event_id: &str, kind: &EventKind) {
        if let Some(text) = searchable_text(kind) {
            self.add(session_text, event_id, text);
        }
    }

    fn add(&mut self, session_text: &str, event_id: &str, text: &str) {
        for (chunk, document) in document_literals(text).into_iter().enumerate() {
            self.event_ids.push(event_id.to_owned());
            self.chunks.push(i32::try_from(chunk).unwrap_or(i32::MAX));
            self.session_ids.push(session_text.to_owned());
            self.documents.push(document);
        }
    }
}

fn progress(indexed: i64, total: i64) -> SearchIndexProgress {
    SearchIndexProgress {
        indexed: u64::try_from(indexed.min(total)).unwrap_or(0),
        total: u64::try_from(total).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::search::SearchQuery;
    use pretty_assertions::assert_eq;

    #[test]
    fn documents_hold_folded_words_with_positions() {
        assert_eq!(
            document_literals("Café it's café, l'été 日本"),
            ["'cafe':1,4 'ete':6 'it':2 'l':5 's':3 '日':7 '本':8"]
        );
    }

    #[test]
    fn quotes_and_backslashes_cannot_break_out_of_a_lexeme() {
        let mut out = String::new();
        push_quoted(&mut out, r"a'b\c");
        assert_eq!(out, r"'a''b\\c'");
    }

    #[test]
    fn queries_are_quoted_phrases_and_prefixes_only() {
        let query = SearchQuery::parse(r#"NOT "Write ahead" migrat* 日本 x:y* !"#).unwrap();
        assert_eq!(
            query_literal(&query.terms).unwrap(),
            "('not') & ('write' <-> 'ahead') & ('migrat':*) & ('日' <-> '本') & ('x' <-> 'y':*)"
        );
    }

    #[test]
    fn huge_messages_are_cut_into_chunks_within_the_limits() {
        let blob = "A".repeat(10_000);
        assert_eq!(
            document_literals(&format!("see {blob} here")),
            ["'here':3 'see':1"]
        );
        let many = "word ".repeat(100_000);
        let chunks = document_literals(&many);
        assert_eq!(chunks.len(), 100_000_usize.div_ceil(MAX_POSITION));
        assert_eq!(chunks[0].matches(',').count(), MAX_POSITIONS - 1);
        let distinct: String = (0..300_000).map(|n| format!("w{n} ")).collect();
        let chunks = document_literals(&distinct);
        assert!(
            chunks
                .iter()
                .all(|chunk| chunk.len() <= 2 * MAX_DOCUMENT_BYTES)
        );
        assert!(chunks.last().unwrap().contains("'w299999':"));
        assert_eq!(document_literals(""), [""]);
    }
}
