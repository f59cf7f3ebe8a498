//! Wrapping styled text to a display width.
//!
//! Widths are terminal columns (`unicode-width`), counted per grapheme cluster, so CJK and
//! emoji take two columns and combining marks none. Text breaks at spaces; a word wider than
//! the line is split between graphemes; wide characters are break opportunities on their own
//! (CJK has no spaces). No produced line is wider than the width asked for, except when the
//! width is smaller than a single grapheme (a 1-column line and a 2-column character).
//!
//! Wrapping is one pass over the graphemes with widths added up as they come, so its cost is
//! linear in the text: models do send one "word" of a megabyte (base64, minified JSON, long
//! URLs), and nothing here may look back over a token or a row it has already measured.

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

pub fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|span| span.content.width()).sum()
}

/// A run of graphemes that wraps as one unit.
struct Token {
    pieces: Vec<(String, Style)>,
    width: usize,
    is_space: bool,
    /// One wide grapheme (CJK, emoji): a word of its own that nothing extends.
    is_wide_glyph: bool,
}

impl Token {
    fn push(&mut self, grapheme: &str, style: Style, width: usize) {
        match self.pieces.last_mut() {
            Some((text, last_style)) if *last_style == style => text.push_str(grapheme),
            _ => self.pieces.push((grapheme.to_owned(), style)),
        }
        self.width += width;
    }
}

fn tokens(spans: &[Span<'static>]) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    for span in spans {
        for grapheme in span.content.graphemes(true) {
            let width = grapheme.width();
            let is_space = grapheme.chars().all(char::is_whitespace);
            // A wide grapheme (CJK, emoji) is a word of its own.
            let standalone = width > 1;
            let extend = !standalone
                && tokens
                    .last()
                    .is_some_and(|last| last.is_space == is_space && !last.is_wide_glyph);
            if !extend {
                tokens.push(Token {
                    pieces: Vec::new(),
                    width: 0,
                    is_space,
                    is_wide_glyph: standalone,
                });
            }
            if let Some(token) = tokens.last_mut() {
                token.push(grapheme, span.style, width);
            }
        }
    }
    tokens
}

#[derive(Default)]
struct RowBuilder {
    rows: Vec<Vec<Span<'static>>>,
    current: Vec<Span<'static>>,
    width: usize,
}

impl RowBuilder {
    fn push(&mut self, text: &str, style: Style, width: usize) {
        match self.current.last_mut() {
            Some(last) if last.style == style => last.content.to_mut().push_str(text),
            _ => self.current.push(Span::styled(text.to_owned(), style)),
        }
        self.width += width;
    }

    fn break_row(&mut self) {
        self.rows.push(std::mem::take(&mut self.current));
        self.width = 0;
    }

    fn finish(mut self) -> Vec<Vec<Span<'static>>> {
        if !self.current.is_empty() || self.rows.is_empty() {
            self.rows.push(self.current);
        }
        self.rows
    }

    /// Adds a token grapheme by grapheme, breaking rows wherever the width runs out.
    fn push_split(&mut self, token: &Token, width: usize) {
        for (text, style) in &token.pieces {
            for grapheme in text.graphemes(true) {
                let grapheme_width = grapheme.width();
                if self.width + grapheme_width > width && self.width > 0 {
                    self.break_row();
                }
                self.push(grapheme, *style, grapheme_width);
            }
        }
    }
}

/// Prose wrapping: breaks at spaces, drops the spaces a break lands on.
pub fn wrap_words(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let mut rows = RowBuilder::default();
    for token in tokens(spans) {
        if token.is_space {
            if rows.width + token.width <= width {
                for (text, style) in &token.pieces {
                    rows.push(text, *style, text.width());
                }
            } else if rows.width > 0 {
                rows.break_row();
            }
            continue;
        }
        if rows.width + token.width <= width {
            for (text, style) in &token.pieces {
                rows.push(text, *style, text.width());
            }
            continue;
        }
        if rows.width > 0 {
            trim_trailing_space(&mut rows.current);
            rows.break_row();
        }
        if token.width <= width {
            for (text, style) in &token.pieces {
                rows.push(text, *style, text.width());
            }
        } else {
            rows.push_split(&token, width);
        }
    }
    let mut rows = rows.finish();
    for row in &mut rows {
        trim_trailing_space(row);
    }
    rows
}

/// Code wrapping: keeps every character and breaks at the width.
pub fn wrap_glyphs(spans: &[Span<'static>], width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let mut rows = RowBuilder::default();
    for span in spans {
        let token = Token {
            pieces: vec![(span.content.to_string(), span.style)],
            width: span.content.width(),
            is_space: false,
            is_wide_glyph: false,
        };
        rows.push_split(&token, width);
    }
    rows.finish()
}

fn trim_trailing_space(row: &mut Vec<Span<'static>>) {
    while let Some(last) = row.last_mut() {
        let trimmed_len = last.content.trim_end().len();
        if trimmed_len == last.content.len() {
            return;
        }
        if trimmed_len == 0 {
            row.pop();
        } else {
            last.content.to_mut().truncate(trimmed_len);
            return;
        }
    }
}

/// Tab width of the input editor (ratatui-textarea's default, which Cairn keeps).
const EDITOR_TAB_WIDTH: usize = 4;

/// Rows the input editor draws `lines` in at `width` columns.
///
/// The editor (ratatui-textarea with `WrapMode::WordOrGlyph`) wraps by its own rules, which
/// differ from [`LogicalLine::wrap`](crate::logical_line::LogicalLine::wrap): it breaks at Unicode word boundaries, splits a word
/// wider than the row between graphemes and starts the next word on a fresh row, and keeps
/// spaces at the start of a row. The box around it must be exactly as tall as what it draws,
/// or a row is hidden, so this follows the widget's algorithm step by step.
pub fn editor_rows(lines: &[String], width: usize) -> usize {
    let width = width.max(1);
    lines.iter().map(|line| editor_line_rows(line, width)).sum()
}

/// Rows one line of the editor takes (at least one, for an empty line).
fn editor_line_rows(line: &str, width: usize) -> usize {
    let mut rows = 0;
    // Width of the row being filled; zero means the row is empty.
    let mut row_width = 0;
    let mut row_used = false;
    let mut words = line.split_word_bounds().peekable();
    while let Some(&word) = words.peek() {
        let word_width = editor_width_to(word, row_width) - row_width;
        if row_width + word_width <= width {
            row_width += word_width;
            row_used = true;
            words.next();
        } else if row_used {
            // The word goes to a fresh row and is measured again from its start (tabs).
            rows += 1;
            row_width = 0;
            row_used = false;
        } else {
            rows += editor_glyph_rows(word, width);
            row_width = 0;
            row_used = false;
            words.next();
        }
    }
    rows + usize::from(row_used || rows == 0)
}

/// Rows a word wider than the row takes when split between graphemes; the widget starts
/// whatever follows on a new row.
fn editor_glyph_rows(word: &str, width: usize) -> usize {
    let mut rows = 0;
    let mut graphemes = word.graphemes(true).peekable();
    while graphemes.peek().is_some() {
        let mut row_width = 0;
        let mut taken = 0;
        while let Some(&grapheme) = graphemes.peek() {
            let next = editor_width_to(grapheme, row_width);
            if taken > 0 && next > width {
                break;
            }
            row_width = next;
            taken += 1;
            graphemes.next();
            if row_width > width {
                break;
            }
        }
        rows += 1;
    }
    rows
}

/// The column after drawing `text` from column `start`, as the editor counts it: tabs to
/// the next stop, control characters take nothing, everything else its cell width.
fn editor_width_to(text: &str, start: usize) -> usize {
    use ratatui::buffer::CellWidth;
    text.chars().fold(start, |column, c| {
        if c == '\t' {
            column + EDITOR_TAB_WIDTH - column % EDITOR_TAB_WIDTH
        } else if c.is_control() {
            column
        } else {
            column + usize::from(c.encode_utf8(&mut [0; 4]).cell_width())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn texts(rows: Vec<Vec<Span<'static>>>) -> Vec<String> {
        rows.into_iter()
            .map(|row| row.iter().map(|span| span.content.as_ref()).collect())
            .collect()
    }

    fn plain(text: &str) -> Vec<Span<'static>> {
        vec![Span::raw(text.to_owned())]
    }

    #[test]
    fn breaks_at_spaces() {
        assert_eq!(
            texts(wrap_words(&plain("the quick brown fox"), 10)),
            vec!["the quick", "brown fox"]
        );
    }

    #[test]
    fn long_words_are_split() {
        assert_eq!(
            texts(wrap_words(&plain("abcdefghijkl xy"), 5)),
            vec!["abcde", "fghij", "kl xy"]
        );
    }

    #[test]
    fn wide_characters_count_two_columns_and_break_between_them() {
        let rows = texts(wrap_words(&plain("你好世界，这是一个测试"), 7));
        for row in &rows {
            assert!(row.width() <= 7, "{row:?} is wider than 7");
        }
        assert_eq!(rows.concat(), "你好世界，这是一个测试");
        assert_eq!(rows[0], "你好世");
    }

    #[test]
    fn emoji_stay_whole() {
        let rows = texts(wrap_words(&plain("ab 👩‍👩‍👧 🎉🎉🎉"), 4));
        for row in &rows {
            assert!(row.width() <= 4, "{row:?}");
        }
        assert!(rows.contains(&"👩‍👩‍👧".to_owned()) || rows.iter().any(|r| r.contains("👩‍👩‍👧")));
    }

    #[test]
    fn styles_survive_wrapping() {
        let spans = vec![
            Span::styled("bold words", Style::new().bold()),
            Span::raw(" plain"),
        ];
        let rows = wrap_words(&spans, 6);
        assert_eq!(rows[0][0].style, Style::new().bold());
        assert_eq!(texts(rows), vec!["bold", "words", "plain"]);
    }

    #[test]
    fn code_keeps_indentation_and_breaks_anywhere() {
        assert_eq!(
            texts(wrap_glyphs(&plain("    let x = 1;"), 6)),
            vec!["    le", "t x = ", "1;"]
        );
    }

    /// A megabyte with no break opportunity: every row is full (the last one may be
    /// shorter), nothing is lost, and it finishes (it used to be quadratic).
    #[test]
    fn a_megabyte_without_spaces_wraps_at_the_width() {
        let text: String = "0123456789abcdef".repeat(64 * 1024);
        let width = 97;
        for rows in [
            texts(wrap_words(&plain(&text), width)),
            texts(wrap_glyphs(&plain(&text), width)),
        ] {
            assert_eq!(rows.len(), text.len().div_ceil(width));
            assert!(rows.iter().all(|row| row.width() <= width));
            assert_eq!(rows.concat(), text);
        }
    }

    #[test]
    fn a_megabyte_of_wide_characters_wraps_at_the_width() {
        let text: String = "漢字".repeat(256 * 1024 / 3);
        let rows = texts(wrap_words(&plain(&format!("see {text}")), 9));
        assert!(rows.iter().all(|row| row.width() <= 9));
        assert_eq!(rows.concat(), format!("see {text}"));
    }

    #[test]
    fn empty_input_is_one_empty_row() {
        assert_eq!(texts(wrap_words(&[], 10)), vec![""]);
    }

    /// Rows the real editor widget draws `text` in, read back from a tall buffer.
    fn widget_rows(text: &str, width: u16) -> usize {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        use ratatui::widgets::Widget;
        let mut editor = ratatui_textarea::TextArea::default();
        editor.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
        editor.insert_str(text);
        editor.move_cursor(ratatui_textarea::CursorMove::Top);
        let area = Rect::new(0, 0, width, 60);
        let mut buffer = Buffer::empty(area);
        (&editor).render(area, &mut buffer);
        (0..area.height)
            .rev()
            .find(|&y| (0..width).any(|x| buffer[(x, y)].symbol() != " "))
            .map_or(0, |y| usize::from(y) + 1)
    }

    #[test]
    fn editor_rows_match_what_the_editor_draws() {
        let hundred = "x".repeat(100);
        let cases = [
            format!("{} end", "x".repeat(104)),
            format!("see {hundred} tail words here"),
            "short".to_owned(),
            "two words\nand a second line".to_owned(),
            "tab\there and\tthere".to_owned(),
            "漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字 done".to_owned(),
            "a ".repeat(80) + "z",
            "word ".repeat(40),
        ];
        for text in &cases {
            for width in [7u16, 20, 98] {
                let lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                assert_eq!(
                    editor_rows(&lines, usize::from(width)),
                    widget_rows(text, width),
                    "{text:?} at {width}"
                );
            }
        }
        // The cases QA measured at 100 columns (98 for the text).
        let qa = |text: String| editor_rows(&[text], 98);
        assert_eq!(qa(format!("{} end", "x".repeat(104))), 3);
        assert_eq!(qa(format!("see {hundred} tail words here")), 4);
        assert_eq!(editor_rows(&[String::new()], 98), 1);
    }
}
