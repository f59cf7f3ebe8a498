//! Finding conversations by what was said in them: the query language the user types, what
//! is searched, and the results every backend returns.
//!
//! The query language is small on purpose, and the same on every backend: words (all must be
//! found, in any order), `"an exact phrase"`, and a trailing `*` for a prefix (`migrat*`).
//! Nothing else is an operator: `AND`, `-`, `:` or parentheses are ordinary text, so no input
//! can reach a backend as syntax it would reject. [`SearchQuery::parse`] refuses only what
//! cannot mean anything (an unbalanced quote, nothing to search for).
//!
//! Text in scripts written without spaces (Chinese, Japanese, Korean) has no words to find.
//! [`index_text`] and [`SearchTerm::tokens`] cut it into single characters, which a
//! word-based index then matches as phrases, so any run of characters is found.

use std::fmt;
use std::ops::Range;

use crate::event::EventKind;
use crate::ids::{EventId, SessionId};
use crate::service::WorkspaceFilter;
use crate::session::Session;

pub mod passage;
pub mod words;

/// Put between characters of scripts written without spaces, in the text given to a
/// word-based index. A zero-width space: a separator to the index, invisible if shown, and
/// removed from snippets by [`Snippet::from_marked`].
pub const CHARACTER_SEPARATOR: char = '\u{200b}';

/// Marks where a backend's snippet highlights a match (start, end): private-use characters
/// that ordinary text does not contain.
pub const HIGHLIGHT_START: char = '\u{e000}';
pub const HIGHLIGHT_END: char = '\u{e001}';

/// What is searched in an event: the text of user and assistant messages. Notes, errors and
/// the system context the model is given are Cairn's words, not the conversation's.
pub fn searchable_text(kind: &EventKind) -> Option<&str> {
    match kind {
        EventKind::UserMessage { text } | EventKind::AssistantMessage { text, .. } => {
            Some(text.as_str())
        }
        _ => None,
    }
}

/// Whether `c` belongs to a script written without spaces between words, whose text is
/// indexed character by character.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF     // CJK radicals, Kangxi radicals
        | 0x3040..=0x30FF   // Hiragana, Katakana
        | 0x3100..=0x312F   // Bopomofo
        | 0x3130..=0x318F   // Hangul compatibility jamo
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFF66..=0xFF9F   // half-width Katakana
        | 0x20000..=0x3134F // CJK extensions B to G
    )
}

/// `text` as a word-based index should see it: characters of unspaced scripts stand alone,
/// everything else is unchanged.
pub fn index_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut previous_unspaced = false;
    for c in text.chars() {
        let unspaced = is_unspaced_script(c);
        if unspaced || previous_unspaced {
            out.push(CHARACTER_SEPARATOR);
        }
        out.push(c);
        previous_unspaced = unspaced;
    }
    out
}

/// One thing every result must contain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchTerm {
    /// A word; `prefix` when it ended in `*`.
    Word { text: String, prefix: bool },
    /// Words in this order, next to each other.
    Phrase(String),
}

impl SearchTerm {
    /// The term's text cut as [`index_text`] cuts stored text, split into the tokens a
    /// word-based index compares (letters and digits; everything else separates). A word of
    /// an unspaced script becomes several tokens, to be matched as a phrase.
    pub fn tokens(&self) -> Vec<String> {
        let text = match self {
            SearchTerm::Word { text, .. } | SearchTerm::Phrase(text) => text,
        };
        index_text(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|token| !token.is_empty())
            .map(str::to_owned)
            .collect()
    }

    pub fn is_prefix(&self) -> bool {
        matches!(self, SearchTerm::Word { prefix: true, .. })
    }
}

/// A parsed query: every term must be found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    pub terms: Vec<SearchTerm>,
}

/// Why a query cannot be searched for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query has an opening quote without a closing one")]
    UnbalancedQuote,
    #[error("the query has nothing to search for (letters or digits)")]
    Empty,
}

impl SearchQuery {
    pub fn parse(input: &str) -> Result<Self, QueryError> {
        let mut terms = Vec::new();
        let mut rest = input;
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').ok_or(QueryError::UnbalancedQuote)?;
                terms.push(SearchTerm::Phrase(quoted[..end].to_owned()));
                rest = &quoted[end + 1..];
                continue;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(rest.len());
            let word = &rest[..end];
            rest = &rest[end..];
            let (text, prefix) = match word.strip_suffix('*') {
                Some(stem) => (stem.trim_end_matches('*'), true),
                None => (word, false),
            };
            terms.push(SearchTerm::Word {
                text: text.to_owned(),
                prefix,
            });
        }
        // Terms of punctuation only match nothing and would only confuse a backend.
        terms.retain(|term| !term.tokens().is_empty());
        if terms.is_empty() {
            return Err(QueryError::Empty);
        }
        Ok(Self { terms })
    }
}

impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, term) in self.terms.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            match term {
                SearchTerm::Word { text, prefix } => {
                    write!(f, "{text}{}", if *prefix { "*" } else { "" })?
                }
                SearchTerm::Phrase(text) => write!(f, "\"{text}\"")?,
            }
        }
        Ok(())
    }
}

/// What to search and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchRequest {
    pub query: SearchQuery,
    /// Only sessions of this directory or git root; `None` searches every workspace.
    pub workspace: Option<WorkspaceFilter>,
    pub include_archived: bool,
    /// At most this many sessions.
    pub limit: u32,
}

/// One session that matched, best first in a result list.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub session: Session,
    /// Higher is better; only comparable within one result list.
    pub score: f64,
    /// One or two passages around matches, best first.
    pub snippets: Vec<Snippet>,
}

/// A passage of one event's text around a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snippet {
    pub event_id: EventId,
    pub session_id: SessionId,
    /// The passage, as stored (untrusted: neutralise before printing).
    pub text: String,
    /// Byte ranges of `text` that matched, in order, not overlapping.
    pub highlights: Vec<Range<usize>>,
}

impl Snippet {
    /// From a backend's passage with [`HIGHLIGHT_START`]/[`HIGHLIGHT_END`] around matches
    /// and [`CHARACTER_SEPARATOR`]s from [`index_text`]: both are taken out.
    pub fn from_marked(session_id: SessionId, event_id: EventId, marked: &str) -> Self {
        let mut text = String::with_capacity(marked.len());
        let mut highlights = Vec::new();
        let mut open: Option<usize> = None;
        for c in marked.chars() {
            match c {
                HIGHLIGHT_START => open = Some(text.len()),
                HIGHLIGHT_END => {
                    if let Some(start) = open.take()
                        && start < text.len()
                    {
                        highlights.push(start..text.len());
                    }
                }
                CHARACTER_SEPARATOR => {}
                c => text.push(c),
            }
        }
        Self {
            event_id,
            session_id,
            text,
            highlights,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn word(text: &str) -> SearchTerm {
        SearchTerm::Word {
            text: text.into(),
            prefix: false,
        }
    }

    #[test]
    fn words_phrases_and_prefixes() {
        let query = SearchQuery::parse(r#"  sqlite "write ahead log" migrat*  "#).unwrap();
        assert_eq!(
            query.terms,
            vec![
                word("sqlite"),
                SearchTerm::Phrase("write ahead log".into()),
                SearchTerm::Word {
                    text: "migrat".into(),
                    prefix: true
                },
            ]
        );
        assert_eq!(query.to_string(), r#"sqlite "write ahead log" migrat*"#);
    }

    #[test]
    fn operators_of_search_engines_are_plain_text() {
        let query = SearchQuery::parse("NOT a:b (c) -d AND e OR").unwrap();
        let texts: Vec<String> = query.terms.iter().flat_map(SearchTerm::tokens).collect();
        assert_eq!(texts, ["NOT", "a", "b", "c", "d", "AND", "e", "OR"]);
    }

    #[test]
    fn what_cannot_mean_anything_is_refused() {
        assert_eq!(
            SearchQuery::parse(r#"open "quote"#),
            Err(QueryError::UnbalancedQuote)
        );
        assert_eq!(SearchQuery::parse("   "), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse("*** !!"), Err(QueryError::Empty));
        assert_eq!(SearchQuery::parse(r#""""#), Err(QueryError::Empty));
    }

    #[test]
    fn unspaced_scripts_are_cut_into_characters() {
        assert_eq!(
            index_text("Rust日本語です ok"),
            "Rust\u{200b}日\u{200b}本\u{200b}語\u{200b}で\u{200b}す\u{200b} ok"
        );
        assert_eq!(word("日本").tokens(), ["日", "本"]);
        assert_eq!(word("café").tokens(), ["café"]);
        assert_eq!(index_text("plain text"), "plain text");
    }

    #[test]
    fn snippets_lose_their_markers_and_keep_the_matches() {
        let marked = format!(
            "…the {HIGHLIGHT_START}日\u{200b}本{HIGHLIGHT_END} and {HIGHLIGHT_START}café{HIGHLIGHT_END}"
        );
        let snippet = Snippet::from_marked(SessionId::new(), EventId::new(), &marked);
        assert_eq!(snippet.text, "…the 日本 and café");
        let matched: Vec<&str> = snippet
            .highlights
            .iter()
            .map(|range| &snippet.text[range.clone()])
            .collect();
        assert_eq!(matched, ["日本", "café"]);
    }
}
