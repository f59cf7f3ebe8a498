//! A logical line of the transcript (a paragraph, a list item's text, a row of code, a
//! table) and how it becomes screen rows at a width: prefixes on its first and following
//! rows, content wrapped at words (prose), anywhere (code) or laid out as a table.

use std::sync::Arc;

use ratatui::text::{Line, Span};

use crate::markdown::table::Table;
use crate::wrap::{spans_width, wrap_glyphs, wrap_words};

/// One logical line before wrapping: a prefix for its first row, a prefix for the rows it
/// wraps onto, and its content.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogicalLine {
    pub first_prefix: Vec<Span<'static>>,
    pub rest_prefix: Vec<Span<'static>>,
    pub content: Vec<Span<'static>>,
    /// Code keeps every space and breaks anywhere; prose breaks at spaces.
    pub hard_wrap: bool,
    /// A table, laid out at the width instead of `content`.
    pub table: Option<Arc<Table>>,
}

impl LogicalLine {
    pub fn plain(content: Vec<Span<'static>>) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }

    /// Adds an outer prefix (a cell's marker or indent) in front of both prefixes.
    pub fn with_outer_prefix(mut self, first: &[Span<'static>], rest: &[Span<'static>]) -> Self {
        let mut first_prefix = first.to_vec();
        first_prefix.append(&mut self.first_prefix);
        let mut rest_prefix = rest.to_vec();
        rest_prefix.append(&mut self.rest_prefix);
        self.first_prefix = first_prefix;
        self.rest_prefix = rest_prefix;
        self
    }

    /// Columns left for content on every row at `width` columns (at least one).
    pub fn available(&self, width: usize) -> usize {
        let first_width = spans_width(&self.first_prefix);
        let rest_width = spans_width(&self.rest_prefix);
        width.saturating_sub(first_width.max(rest_width)).max(1)
    }

    /// The rows this line takes at `width` columns.
    pub fn wrap(&self, width: usize, out: &mut Vec<Line<'static>>) {
        let avail = self.available(width);
        let rows = if let Some(table) = &self.table {
            table.layout(avail)
        } else if self.hard_wrap {
            wrap_glyphs(&self.content, avail)
        } else {
            wrap_words(&self.content, avail)
        };
        for (index, row) in rows.into_iter().enumerate() {
            let mut spans = if index == 0 {
                self.first_prefix.clone()
            } else {
                self.rest_prefix.clone()
            };
            spans.extend(row);
            out.push(Line::from(spans));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn plain(text: &str) -> Vec<Span<'static>> {
        vec![Span::raw(text.to_owned())]
    }

    #[test]
    fn prefixes_apply_to_first_and_following_rows() {
        let line = LogicalLine {
            first_prefix: vec![Span::raw("- ")],
            rest_prefix: vec![Span::raw("  ")],
            content: plain("one two three"),
            hard_wrap: false,
            table: None,
        };
        let mut out = Vec::new();
        line.wrap(9, &mut out);
        let rows: Vec<String> = out.iter().map(|l| l.to_string()).collect();
        assert_eq!(rows, vec!["- one two", "  three"]);
    }
}
