//! Passages around a query's matches in a message, cut by Cairn for backends whose own
//! highlighting does not know Cairn's words (PostgreSQL's `ts_headline` uses its parser's,
//! which split and fold differently from the index terms Cairn writes).

use crate::ids::{EventId, SessionId};

use super::words::{fold, word_ranges};
use super::{SearchQuery, SearchTerm, Snippet};

/// Words a passage holds, as many as SQLite's passages (FTS5 counts in tokens too).
pub const PASSAGE_WORDS: usize = 16;

/// What a word must be to match one of a query's terms.
struct Matcher {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl Matcher {
    fn new(query: &SearchQuery) -> Self {
        let mut exact = Vec::new();
        let mut prefixes = Vec::new();
        for term in &query.terms {
            let text = match term {
                SearchTerm::Word { text, .. } | SearchTerm::Phrase(text) => text,
            };
            let mut words: Vec<String> = word_ranges(text).map(|r| fold(&text[r])).collect();
            if term.is_prefix()
                && let Some(last) = words.pop()
            {
                prefixes.push(last);
            }
            exact.extend(words);
        }
        Self { exact, prefixes }
    }

    fn matches(&self, folded: &str) -> bool {
        self.exact.iter().any(|word| word == folded)
            || self
                .prefixes
                .iter()
                .any(|prefix| folded.starts_with(prefix))
    }
}

/// The passage of `text` with the most matches of `query` within [`PASSAGE_WORDS`] words,
/// the matches in its middle, `…` where it cuts the text.
pub fn passage(
    session_id: SessionId,
    event_id: EventId,
    text: &str,
    query: &SearchQuery,
) -> Snippet {
    let matcher = Matcher::new(query);
    let words: Vec<(std::ops::Range<usize>, bool)> = word_ranges(text)
        .map(|range| {
            let matched = matcher.matches(&fold(&text[range.clone()]));
            (range, matched)
        })
        .collect();
    let Some(last_word) = words.len().checked_sub(1) else {
        return Snippet {
            event_id,
            session_id,
            text: String::new(),
            highlights: Vec::new(),
        };
    };
    let (start, end) = best_window(&words.iter().map(|(_, m)| *m).collect::<Vec<_>>());

    let mut out = String::new();
    let mut highlights: Vec<std::ops::Range<usize>> = Vec::new();
    if start > 0 {
        out.push('…');
    }
    // The punctuation around a whole message stays: it reads better and cuts nothing.
    let from = if start == 0 { 0 } else { words[start].0.start };
    let until = if end == words.len() {
        text.len()
    } else {
        words[end - 1].0.end
    };
    let base = out.len();
    out.push_str(&text[from..until]);
    for (range, matched) in &words[start..end] {
        if !*matched {
            continue;
        }
        let here = base + range.start - from..base + range.end - from;
        // Matched words next to each other (a phrase, characters of an unspaced script)
        // are one highlight, as on SQLite.
        match highlights.last_mut() {
            Some(previous) if out[previous.end..here.start].trim().is_empty() => {
                previous.end = here.end;
            }
            _ => highlights.push(here),
        }
    }
    if end - 1 < last_word {
        out.push('…');
    }
    Snippet {
        event_id,
        session_id,
        text: out,
        highlights,
    }
}

/// The window (start, end) of at most [`PASSAGE_WORDS`] words holding the most matches,
/// moved so its matches sit in its middle.
fn best_window(matched: &[bool]) -> (usize, usize) {
    let size = PASSAGE_WORDS.min(matched.len());
    let mut count = matched[..size].iter().filter(|m| **m).count();
    let (mut best, mut best_start) = (count, 0);
    for start in 1..=matched.len() - size {
        count = count + usize::from(matched[start + size - 1]) - usize::from(matched[start - 1]);
        if count > best {
            (best, best_start) = (count, start);
        }
    }
    let window = &matched[best_start..best_start + size];
    let (Some(first), Some(last)) = (
        window.iter().position(|m| *m),
        window.iter().rposition(|m| *m),
    ) else {
        return (0, size);
    };
    let spare = size - (last - first + 1);
    let start = (best_start + first)
        .saturating_sub(spare / 2)
        .min(matched.len() - size);
    (start, start + size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn cut(text: &str, query: &str) -> (String, Vec<String>) {
        let query = SearchQuery::parse(query).unwrap();
        let snippet = passage(SessionId::new(), EventId::new(), text, &query);
        let matched = snippet
            .highlights
            .iter()
            .map(|range| snippet.text[range.clone()].to_owned())
            .collect();
        (snippet.text, matched)
    }

    #[test]
    fn a_short_message_is_whole_with_its_matches_marked() {
        assert_eq!(
            cut("The Café opens at nine.", "cafe nine"),
            (
                "The Café opens at nine.".into(),
                vec!["Café".into(), "nine".into()]
            )
        );
    }

    #[test]
    fn a_long_message_is_cut_around_its_densest_matches() {
        let filler = "word ".repeat(40);
        let text = format!("{filler}sqlite once {filler}the sqlite write ahead log {filler}");
        let (passage, matched) = cut(&text, "sqlite \"write ahead\"");
        assert!(
            passage.starts_with('…') && passage.ends_with('…'),
            "{passage}"
        );
        assert!(passage.contains("the sqlite write ahead log"), "{passage}");
        assert_eq!(passage.split_whitespace().count(), PASSAGE_WORDS);
        assert_eq!(matched, ["sqlite write ahead"]);
    }

    #[test]
    fn prefixes_and_unspaced_scripts_match() {
        let (_, matched) = cut("migrations migrated; 東京都に住む", "migrat* 東京");
        assert_eq!(matched, ["migrations migrated", "東京"]);
    }

    #[test]
    fn text_without_words_gives_an_empty_passage() {
        assert_eq!(cut("!!! ...", "x"), (String::new(), vec![]));
        assert_eq!(cut("  (see: kestrel!) ", "kestrel").0, "  (see: kestrel!) ");
    }
}
