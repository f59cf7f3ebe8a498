//! Shortening text to a number of terminal columns, with `…` where it was cut.
//!
//! Measured by display width, so a wide character (CJK, emoji) counts as the two columns it
//! takes, and cut between grapheme clusters, so an accent never loses its letter. Linear in
//! the length of the text: titles and tool arguments can be long.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The ellipsis that marks a cut; one column wide.
const ELLIPSIS: char = '…';

/// `text` as it is when it fits in `max_width` columns; otherwise its longest start that
/// fits in `max_width - 1` columns, followed by `…`. Never wider than `max_width`.
pub fn ellipsize(text: &str, max_width: usize) -> String {
    if text.width() <= max_width {
        return text.to_owned();
    }
    let Some(room) = max_width.checked_sub(1) else {
        return String::new();
    };
    let mut shown = String::new();
    let mut used = 0;
    for grapheme in text.graphemes(/*extended*/ true) {
        used += grapheme.width();
        if used > room {
            break;
        }
        shown.push_str(grapheme);
    }
    shown.push(ELLIPSIS);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn text_that_fits_is_unchanged() {
        assert_eq!(
            [
                ellipsize("hello", 5),
                ellipsize("", 0),
                ellipsize("日本", 4)
            ],
            ["hello", "", "日本"]
        );
    }

    #[test]
    fn long_text_is_cut_by_columns_with_an_ellipsis() {
        assert_eq!(
            [
                ellipsize("hello world", 6),
                ellipsize("日本語のテキスト", 6),
                ellipsize("日本語", 5),
                ellipsize("héllo", 3),
                ellipsize("abc", 1),
                ellipsize("abc", 0),
            ],
            ["hello…", "日本…", "日本…", "hé…", "…", ""]
        );
    }

    #[test]
    fn an_accent_stays_with_its_letter() {
        // "e" followed by a combining acute accent is one grapheme of one column.
        let text = "ae\u{301}bcdef";
        assert_eq!(ellipsize(text, 3), "ae\u{301}…");
    }

    #[test]
    fn very_long_text_is_cut_quickly() {
        // Guards against measuring the growing prefix on every step (quadratic).
        let text = "x".repeat(2_000_000);
        let short = ellipsize(&text, 1_000_000);
        assert_eq!(short.width(), 1_000_000);
    }
}
