//! Words as Cairn's search sees them, for backends that make their index terms themselves
//! (PostgreSQL) and for passages cut outside a backend ([`super::passage`]).
//!
//! The rules are those of SQLite's FTS5 `unicode61` tokenizer with diacritics removed, which
//! the SQLite backend uses, so both backends find the same messages: a word is a run of
//! letters and digits (combining marks included, so a decomposed `é` does not cut its word),
//! each character of a script written without spaces is a word of its own, and words compare
//! without case or accents ([`fold`]).

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::is_unspaced_script;

/// The byte ranges of `text`'s words, in order.
pub fn word_ranges(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || {
        // Skip separators.
        let (start, first) = loop {
            let (index, c) = chars.next()?;
            if is_word_char(c) {
                break (index, c);
            }
        };
        let mut end = start + first.len_utf8();
        if !is_unspaced_script(first) {
            while let Some(&(index, c)) = chars.peek() {
                if !is_word_char(c) || is_unspaced_script(c) {
                    break;
                }
                end = index + c.len_utf8();
                chars.next();
            }
        }
        Some(start..end)
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// `word` as it is compared: accents taken off and lower case, so `Café` and `cafe` are the
/// same word.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// `text`'s words, folded, in order.
pub fn folded_words(text: &str) -> impl Iterator<Item = String> + '_ {
    word_ranges(text).map(|range| fold(&text[range]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn words(text: &str) -> Vec<&str> {
        word_ranges(text).map(|range| &text[range]).collect()
    }

    #[test]
    fn words_are_letters_and_digits_and_unspaced_characters_alone() {
        assert_eq!(
            words("Hello, wörld! x86_64 日本語です ok"),
            [
                "Hello", "wörld", "x86", "64", "日", "本", "語", "で", "す", "ok"
            ]
        );
        // A decomposed accent stays in its word.
        assert_eq!(words("nai\u{308}ve"), ["nai\u{308}ve"]);
        assert_eq!(words("  ...  "), Vec::<&str>::new());
    }

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Café"), "cafe");
        assert_eq!(fold("nai\u{308}ve"), "naive");
        assert_eq!(fold("ÉCOLE"), "ecole");
        assert_eq!(fold("日"), "日");
        assert_eq!(
            folded_words("Ärger im Büro").collect::<Vec<_>>(),
            ["arger", "im", "buro"]
        );
    }
}
