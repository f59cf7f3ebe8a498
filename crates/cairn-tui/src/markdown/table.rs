//! GFM tables: cells collected while parsing, laid out only once the width is known.
//!
//! Columns get their natural width (their widest cell) when the table fits; otherwise the
//! room is shared out so that narrow columns keep their width and wide ones split what is
//! left evenly, and cells wrap at words inside their column. Every row of a table row is
//! padded to the column widths, so the separators line up whatever the content.

use ratatui::style::{Style, Stylize};
use ratatui::text::Span;

use crate::wrap::{spans_width, wrap_words};

/// Between two columns.
const SEPARATOR: &str = " │ ";
const SEPARATOR_WIDTH: usize = 3;

/// How a column's cells sit in its width (`:--`, `:-:`, `--:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alignment {
    Left,
    Center,
    Right,
}

/// One cell: its styled content, on one logical line.
pub type TableCell = Vec<Span<'static>>;

/// A table as parsed: the header row, then the body rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub alignments: Vec<Alignment>,
    pub header: Vec<TableCell>,
    pub rows: Vec<Vec<TableCell>>,
}

impl Table {
    fn columns(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .chain([self.header.len(), self.alignments.len()])
            .max()
            .unwrap_or(0)
    }

    /// The table's rows at `width` columns: the header (bold), a rule, then the body.
    pub fn layout(&self, width: usize) -> Vec<Vec<Span<'static>>> {
        let columns = self.columns();
        if columns == 0 {
            return Vec::new();
        }
        let widths = self.column_widths(width);
        let mut out = Vec::new();
        self.push_row(&self.header, &widths, Style::new().bold(), &mut out);
        let rule: Vec<String> = widths.iter().map(|width| "─".repeat(*width)).collect();
        out.push(vec![rule.join("─┼─").dim()]);
        for row in &self.rows {
            self.push_row(row, &widths, Style::new(), &mut out);
        }
        out
    }

    /// Natural widths when they fit; else narrow columns keep theirs and the wide ones share
    /// the rest evenly (at least one column each).
    fn column_widths(&self, width: usize) -> Vec<usize> {
        let columns = self.columns();
        let mut natural = vec![1; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (index, cell) in row.iter().enumerate() {
                natural[index] = natural[index].max(spans_width(cell));
            }
        }
        let room = width.saturating_sub(SEPARATOR_WIDTH * (columns - 1));
        if natural.iter().sum::<usize>() <= room {
            return natural;
        }
        let mut widths = vec![0; columns];
        let mut open: Vec<usize> = (0..columns).collect();
        let mut left = room;
        // Settle every column narrower than an even share, then share again among the rest.
        loop {
            let share = (left / open.len().max(1)).max(1);
            let (narrow, wide): (Vec<usize>, Vec<usize>) =
                open.iter().partition(|&&index| natural[index] <= share);
            if narrow.is_empty() {
                let extra = left.saturating_sub(share * wide.len());
                for (position, index) in wide.iter().enumerate() {
                    widths[*index] = share + usize::from(position < extra);
                }
                return widths;
            }
            for index in narrow {
                widths[index] = natural[index];
                left = left.saturating_sub(natural[index]);
            }
            open = wide;
            if open.is_empty() {
                return widths;
            }
        }
    }

    fn push_row(
        &self,
        cells: &[TableCell],
        widths: &[usize],
        style: Style,
        out: &mut Vec<Vec<Span<'static>>>,
    ) {
        let wrapped: Vec<Vec<Vec<Span<'static>>>> = widths
            .iter()
            .enumerate()
            .map(|(index, width)| {
                let cell = cells.get(index).map(Vec::as_slice).unwrap_or_default();
                let styled: Vec<Span<'static>> = cell
                    .iter()
                    .map(|span| Span::styled(span.content.clone(), style.patch(span.style)))
                    .collect();
                wrap_words(&styled, *width)
            })
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
        for line in 0..height {
            let mut spans = Vec::new();
            for (index, width) in widths.iter().enumerate() {
                let content = wrapped[index].get(line).cloned().unwrap_or_default();
                let last = index + 1 == widths.len();
                if index > 0 {
                    // No trailing space when nothing follows.
                    let separator = if last && content.is_empty() {
                        SEPARATOR.trim_end()
                    } else {
                        SEPARATOR
                    };
                    spans.push(separator.dim());
                }
                let padding = width.saturating_sub(spans_width(&content));
                let alignment = self
                    .alignments
                    .get(index)
                    .copied()
                    .unwrap_or(Alignment::Left);
                let (before, after) = match alignment {
                    Alignment::Left => (0, padding),
                    Alignment::Right => (padding, 0),
                    Alignment::Center => (padding / 2, padding - padding / 2),
                };
                // The last column needs no padding after it, nor before nothing: no
                // separator follows to line up.
                if before > 0 && !(last && content.is_empty()) {
                    spans.push(Span::raw(" ".repeat(before)));
                }
                spans.extend(content);
                if after > 0 && !last {
                    spans.push(Span::raw(" ".repeat(after)));
                }
            }
            out.push(spans);
        }
    }
}
