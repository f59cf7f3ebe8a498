//! The transcript: the conversation as a list of cells that render to lines for a width.
//!
//! Each cell memoises its wrapped lines for the last width it was drawn at (a `RefCell`
//! cache: it never changes what a cell shows, only how fast, so rendering through `&self`
//! stays free of observable mutation). Drawing walks the cells from the bottom up and stops
//! as soon as the screen is full, so the cost of a frame depends on the screen, not on the
//! length of the session. Cell text is sanitised when the cell is made, so nothing a model
//! wrote, or that was stored, can reach the terminal as a control sequence.
//!
//! The streaming tail is given whole on every delta, and one answer line can be a megabyte
//! (base64, minified JSON). So an answer that only grew is not laid out again from the start
//! when that is provably the same: only the appended bytes are sanitised, and when they
//! cannot change the Markdown structure (see [`Cell::can_continue`]) only the last row is
//! wrapped again with them. A frame then costs what was added and what is visible, not the
//! length of the line. Anything else lays the cell out again in full (linear in its text).

use std::cell::{Ref, RefCell};

use cairn_core::EventId;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};

pub use self::tool_cell::{FOLDED_OUTPUT_LINES, ToolCellView, ToolStatus};
use crate::logical_line::LogicalLine;
use crate::markdown::render_markdown;
use crate::sanitize::sanitize;
use crate::wrap::{wrap_glyphs, wrap_words};

/// What a cell shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CellKind {
    User,
    /// One piece of an answer. A streamed answer is committed paragraph by paragraph, so it
    /// can span several cells; `first` marks the one that opens it.
    Assistant {
        first: bool,
        interrupted: bool,
    },
    Note,
    Error,
    ToolCall,
    /// The line standing in for messages a summary covers (see `fold`).
    Fold,
}

#[derive(Debug)]
pub struct Cell {
    pub kind: CellKind,
    /// Sanitised text.
    pub text: String,
    /// The stored event this cell shows, when known (used to branch on `/retry`).
    pub event_id: Option<EventId>,
    /// The call a tool cell shows (see [`tool_cell`]).
    tool: Option<Box<ToolCellView>>,
    /// The text as given, before sanitising: comparing with it is how [`Cell::set_text`]
    /// recognises an answer that only grew.
    raw: String,
    cache: RefCell<Option<Wrapped>>,
}

#[derive(Debug)]
struct Wrapped {
    width: u16,
    /// Bytes of `text` these lines show (less than its length after an append).
    text_len: usize,
    lines: Vec<Line<'static>>,
    /// How the last row continues, for answers (`None` for other cells).
    last_row: Option<LastRow>,
}

/// What continuing the last row of a cell takes: its logical line's shape.
#[derive(Debug)]
struct LastRow {
    /// Spans at the start of the last row that are prefix, not content.
    prefix_spans: usize,
    /// The last line of the text is settled: appending inert bytes cannot change its block
    /// kind (see [`is_settled_line`]). Appends never start a new line, so this stays true.
    settled_line: bool,
    /// The prefix of every further row of that logical line.
    rest_prefix: Vec<Span<'static>>,
    /// Columns for content on those rows.
    available: usize,
    hard_wrap: bool,
}

/// Bytes that cannot change any Markdown structure before them: no emphasis delimiter,
/// escape, entity, bracket, backtick, HTML or line break. (`+ - = .` matter only at the start
/// of a line, which [`is_settled_line`] rules out.)
fn is_inert(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b" +/=-.,:%?".contains(&byte)
}

/// The shortest settled line: longer than a list marker and its space (nine digits, a dot).
const SETTLED_LINE_BYTES: usize = 11;

/// Whether appending inert bytes to the last line of `text` (which starts at `start`) leaves
/// its block kind as it is: long enough to be past any list marker, with a letter or digit
/// (so not a thematic break or setext underline), not opening a block by what follows (`<`
/// HTML, `[` a link definition, a fence, a heading, a quote), and not continuing a link
/// reference definition from the line before.
fn is_settled_line(text: &str, start: usize) -> bool {
    let line = text[start..].trim_start_matches(' ');
    let previous = text[..start.saturating_sub(1)]
        .rsplit('\n')
        .next()
        .unwrap_or("");
    line.len() >= SETTLED_LINE_BYTES
        && line.bytes().any(|byte| byte.is_ascii_alphanumeric())
        && !line.starts_with(['<', '[', '`', '~', '|', '#', '>'])
        && !previous.trim_start().starts_with('[')
}

impl Cell {
    pub fn new(kind: CellKind, text: &str) -> Self {
        Self {
            kind,
            text: sanitize(text).into_owned(),
            event_id: None,
            tool: None,
            raw: text.to_owned(),
            cache: RefCell::new(None),
        }
    }

    pub fn with_event_id(mut self, event_id: EventId) -> Self {
        self.event_id = Some(event_id);
        self
    }

    /// Adds `added` to the end of the text (a streaming tail that grew): the same as
    /// `set_text` with the longer text, without comparing what was there.
    pub fn append_text(&mut self, added: &str) {
        if !self.raw.ends_with('\r') && !added.contains('\t') {
            self.text.push_str(&sanitize(added));
            self.raw.push_str(added);
        } else {
            let mut text = std::mem::take(&mut self.raw);
            text.push_str(added);
            self.set_text(&text);
        }
    }

    /// Replaces the text (a streaming tail). Text that only grew keeps the cached lines,
    /// which [`Cell::lines`] then continues; anything else drops them.
    pub fn set_text(&mut self, text: &str) {
        if let Some(added) = text.strip_prefix(self.raw.as_str()) {
            // Sanitising is per character except for tab stops (which depend on the column)
            // and a CR that a LF turns into a line ending; those start over.
            if !self.raw.ends_with('\r') && !added.contains('\t') {
                self.text.push_str(&sanitize(added));
                self.raw.push_str(added);
                return;
            }
        }
        text.clone_into(&mut self.raw);
        self.text = sanitize(text).into_owned();
        *self.cache.get_mut() = None;
    }

    pub fn set_kind(&mut self, kind: CellKind) {
        if self.kind != kind {
            self.kind = kind;
            *self.cache.get_mut() = None;
        }
    }

    /// The cell's rows at `width` columns: a blank separator row, then the content.
    pub fn lines(&self, width: u16) -> Ref<'_, [Line<'static>]> {
        {
            let mut cache = self.cache.borrow_mut();
            let current = match cache.as_mut() {
                Some(wrapped) if wrapped.width == width => {
                    wrapped.text_len == self.text.len() || self.continue_last_row(wrapped)
                }
                Some(_) | None => false,
            };
            if !current {
                *cache = Some(self.layout(width));
            }
        }
        Ref::map(self.cache.borrow(), |cache| match cache {
            Some(wrapped) => wrapped.lines.as_slice(),
            None => &[],
        })
    }

    /// Whether appending `added` to `before` lays out as `before`'s lines with `added` put at
    /// the end of the last row, in the last span's style. True when nothing before can change:
    /// `before` ends in an inert byte other than a space (so no delimiter run, entity or
    /// escape is completed, and no trailing space was dropped), `added` is inert bytes only
    /// (no newline, no delimiter), and the last line is settled.
    fn can_continue(before: &str, added: &str, last_row: &LastRow) -> bool {
        !added.is_empty()
            && added.bytes().all(is_inert)
            && before
                .as_bytes()
                .last()
                .is_some_and(|&byte| byte != b' ' && is_inert(byte))
            && last_row.settled_line
    }

    /// Continues the cached lines with the text appended since; `false` when that would not
    /// give what a full layout gives (the caller then lays out again).
    fn continue_last_row(&self, wrapped: &mut Wrapped) -> bool {
        let Some(last_row) = &wrapped.last_row else {
            return false;
        };
        let Some((before, added)) = self.text.split_at_checked(wrapped.text_len) else {
            return false;
        };
        if !Self::can_continue(before, added, last_row) {
            return false;
        }
        let Some(row) = wrapped.lines.last() else {
            return false;
        };
        let Some(content) = row.spans.get(last_row.prefix_spans..) else {
            return false;
        };
        // The last content span must be where the text ends; anything after it (a link's
        // target, an "(interrupted)" line) means the structure is not the simple one.
        let last_char = before.chars().next_back();
        if !content
            .last()
            .is_some_and(|span| last_char.is_some_and(|c| span.content.ends_with(c)))
        {
            return false;
        }
        let Some(mut row) = wrapped.lines.pop() else {
            return false;
        };
        let mut content = row.spans.split_off(last_row.prefix_spans);
        let prefix = row.spans;
        if let Some(span) = content.last_mut() {
            span.content.to_mut().push_str(added);
        }
        let rows = if last_row.hard_wrap {
            wrap_glyphs(&content, last_row.available)
        } else {
            wrap_words(&content, last_row.available)
        };
        let count = rows.len();
        for (index, row) in rows.into_iter().enumerate() {
            let mut spans = if index == 0 {
                prefix.clone()
            } else {
                last_row.rest_prefix.clone()
            };
            spans.extend(row);
            wrapped.lines.push(Line::from(spans));
        }
        let rest_prefix_spans = last_row.rest_prefix.len();
        if count > 1
            && let Some(last_row) = &mut wrapped.last_row
        {
            last_row.prefix_spans = rest_prefix_spans;
        }
        wrapped.text_len = self.text.len();
        true
    }

    pub fn height(&self, width: u16) -> usize {
        self.lines(width).len()
    }

    fn layout(&self, width: u16) -> Wrapped {
        let columns = usize::from(width).max(1);
        let logical: Vec<LogicalLine> = match &self.kind {
            CellKind::User => with_marker(
                plain_lines(&self.text, |text| text.bold()),
                vec!["› ".cyan().bold()],
            ),
            CellKind::Assistant { first, interrupted } => {
                let mut lines = render_markdown(&self.text);
                if *interrupted {
                    lines.push(LogicalLine::plain(vec!["(interrupted)".dim().italic()]));
                }
                let marker = if *first {
                    "• ".magenta()
                } else {
                    Span::raw("  ")
                };
                with_marker(lines, vec![marker])
            }
            CellKind::Note => with_marker(
                plain_lines(&self.text, |text| text.dim().italic()),
                vec![Span::raw("  ")],
            ),
            CellKind::Error => with_marker(
                plain_lines(&self.text, |text| text.red()),
                vec!["✗ ".red().bold()],
            ),
            CellKind::ToolCall => {
                // The call on the first line, its status and output dimmed below.
                let mut lines = plain_lines(&self.text, |text| text.dim());
                if let Some(first) = lines.first_mut() {
                    let call = self.text.split('\n').next().unwrap_or_default();
                    *first = LogicalLine::plain(vec![call.to_owned().magenta()]);
                }
                with_marker(lines, vec!["⚙ ".magenta()])
            }
            CellKind::Fold => {
                with_marker(plain_lines(&self.text, |text| text.dim()), vec!["≡ ".dim()])
            }
        };
        let mut lines = vec![Line::default()];
        let mut last_row = None;
        let count = logical.len();
        for (index, line) in logical.into_iter().enumerate() {
            let rows_before = lines.len();
            line.wrap(columns, &mut lines);
            let is_answer = matches!(self.kind, CellKind::Assistant { .. });
            if is_answer && index + 1 == count {
                let prefix = if lines.len() - rows_before > 1 {
                    &line.rest_prefix
                } else {
                    &line.first_prefix
                };
                let line_start = self.text.rfind('\n').map_or(0, |index| index + 1);
                last_row = Some(LastRow {
                    prefix_spans: prefix.len(),
                    settled_line: is_settled_line(&self.text, line_start),
                    available: line.available(columns),
                    rest_prefix: line.rest_prefix,
                    hard_wrap: line.hard_wrap,
                });
            }
        }
        Wrapped {
            width,
            text_len: self.text.len(),
            lines,
            last_row,
        }
    }
}

fn plain_lines(text: &str, style: impl Fn(String) -> Span<'static>) -> Vec<LogicalLine> {
    text.split('\n')
        .map(|line| LogicalLine::plain(vec![style(line.to_owned())]))
        .collect()
}

fn with_marker(lines: Vec<LogicalLine>, marker: Vec<Span<'static>>) -> Vec<LogicalLine> {
    let indent_width = crate::wrap::spans_width(&marker);
    let indent = vec![Span::raw(" ".repeat(indent_width))];
    lines
        .into_iter()
        .enumerate()
        .map(|(index, line)| {
            let first = if index == 0 { &marker } else { &indent };
            line.with_outer_prefix(first, &indent)
        })
        .collect()
}

/// The cells of a conversation, oldest first.
#[derive(Debug, Default)]
pub struct Transcript {
    cells: Vec<Cell>,
    /// Earlier cells a summary stands for, folded behind one line (see `fold`).
    fold: Option<fold::Fold>,
}

impl Transcript {
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    pub fn cells_mut(&mut self) -> &mut Vec<Cell> {
        &mut self.cells
    }

    pub fn push(&mut self, cell: Cell) {
        self.cells.push(cell);
    }

    pub fn clear(&mut self) {
        self.cells.clear();
        self.fold = None;
    }

    /// How many rows the transcript (plus `live`) takes, counting from the bottom and
    /// stopping once `limit` is reached, so the answer costs at most what is asked for.
    pub fn height_up_to(&self, live: Option<&Cell>, width: u16, limit: usize) -> usize {
        let mut total = 0;
        for cell in live.into_iter().chain(self.shown_bottom_up()) {
            total += cell.height(width);
            if total >= limit {
                return total;
            }
        }
        total
    }

    /// The rows to show in a `height`-row window `scroll` rows up from the bottom. When the
    /// whole conversation is shorter than the window it is drawn from the top.
    pub fn visible(
        &self,
        live: Option<&Cell>,
        width: u16,
        height: usize,
        scroll: usize,
    ) -> Vec<Line<'static>> {
        let wanted = scroll + height;
        // Cells bottom-up, each cell's rows in order; collected until the window is full.
        let mut chunks: Vec<Ref<'_, [Line<'static>]>> = Vec::new();
        let mut total = 0;
        for cell in live.into_iter().chain(self.shown_bottom_up()) {
            let lines = cell.lines(width);
            total += lines.len();
            chunks.push(lines);
            if total >= wanted {
                break;
            }
        }
        let skip_bottom = scroll.min(total.saturating_sub(height));
        let end = total - skip_bottom;
        let start = end.saturating_sub(height);
        let mut out = Vec::with_capacity(end - start);
        let mut position = 0;
        for chunk in chunks.iter().rev() {
            let chunk_start = position;
            let chunk_end = position + chunk.len();
            position = chunk_end;
            if chunk_end <= start || chunk_start >= end {
                continue;
            }
            let from = start.saturating_sub(chunk_start);
            let to = (end - chunk_start).min(chunk.len());
            out.extend(chunk[from..to].iter().cloned());
        }
        out
    }
}

mod fold;
#[cfg(test)]
mod tests;
mod tool_cell;
