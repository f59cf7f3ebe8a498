//! The transcript: the conversation as a list of cells that render to lines for a width.
//!
//! Each cell memoises its wrapped lines for the last width it was drawn at (a `RefCell`
//! cache: it never changes what a cell shows, only how fast, so rendering through `&self`
//! stays free of observable mutation). Drawing walks the cells from the bottom up and stops
//! as soon as the screen is full, so the cost of a frame depends on the screen, not on the
//! length of the session. Cell text is sanitised when the cell is made, so nothing a model
//! wrote, or that was stored, can reach the terminal as a control sequence.

use std::cell::{Ref, RefCell};

use cairn_core::EventId;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};

use crate::markdown::render_markdown;
use crate::sanitize::sanitize;
use crate::wrap::LogicalLine;

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
}

#[derive(Debug)]
pub struct Cell {
    pub kind: CellKind,
    /// Sanitised text.
    pub text: String,
    /// The stored event this cell shows, when known (used to branch on `/retry`).
    pub event_id: Option<EventId>,
    cache: RefCell<Option<Wrapped>>,
}

#[derive(Debug)]
struct Wrapped {
    width: u16,
    lines: Vec<Line<'static>>,
}

impl Cell {
    pub fn new(kind: CellKind, text: &str) -> Self {
        Self {
            kind,
            text: sanitize(text).into_owned(),
            event_id: None,
            cache: RefCell::new(None),
        }
    }

    pub fn with_event_id(mut self, event_id: EventId) -> Self {
        self.event_id = Some(event_id);
        self
    }

    /// Replaces the text (a streaming tail) and drops the cached lines.
    pub fn set_text(&mut self, text: &str) {
        self.text = sanitize(text).into_owned();
        *self.cache.get_mut() = None;
    }

    pub fn set_kind(&mut self, kind: CellKind) {
        self.kind = kind;
        *self.cache.get_mut() = None;
    }

    /// The cell's rows at `width` columns: a blank separator row, then the content.
    pub fn lines(&self, width: u16) -> Ref<'_, [Line<'static>]> {
        let fresh = matches!(&*self.cache.borrow(), Some(wrapped) if wrapped.width == width);
        if !fresh {
            let lines = self.layout(width);
            *self.cache.borrow_mut() = Some(Wrapped { width, lines });
        }
        Ref::map(self.cache.borrow(), |cache| match cache {
            Some(wrapped) => wrapped.lines.as_slice(),
            None => &[],
        })
    }

    pub fn height(&self, width: u16) -> usize {
        self.lines(width).len()
    }

    fn layout(&self, width: u16) -> Vec<Line<'static>> {
        let width = usize::from(width).max(1);
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
            CellKind::ToolCall => with_marker(
                plain_lines(&self.text, |text| text.magenta().dim()),
                vec!["⚙ ".magenta()],
            ),
        };
        let mut out = vec![Line::default()];
        for line in logical {
            line.wrap(width, &mut out);
        }
        out
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
    }

    /// How many rows the transcript (plus `live`) takes, counting from the bottom and
    /// stopping once `limit` is reached, so the answer costs at most what is asked for.
    pub fn height_up_to(&self, live: Option<&Cell>, width: u16, limit: usize) -> usize {
        let mut total = 0;
        for cell in live.into_iter().chain(self.cells.iter().rev()) {
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
        for cell in live.into_iter().chain(self.cells.iter().rev()) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn texts(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|line| line.to_string()).collect()
    }

    fn numbered(count: usize) -> Transcript {
        let mut transcript = Transcript::default();
        for index in 0..count {
            transcript.push(Cell::new(CellKind::Note, &format!("note {index}")));
        }
        transcript
    }

    #[test]
    fn bottom_window_shows_the_latest_rows() {
        let transcript = numbered(10);
        assert_eq!(
            texts(&transcript.visible(None, 20, 3, 0)),
            vec!["  note 8", "", "  note 9"]
        );
    }

    #[test]
    fn scrolling_moves_the_window_up_and_clamps_at_the_top() {
        let transcript = numbered(3);
        assert_eq!(
            texts(&transcript.visible(None, 20, 2, 2)),
            vec!["", "  note 1"]
        );
        assert_eq!(
            texts(&transcript.visible(None, 20, 2, 100)),
            vec!["", "  note 0"]
        );
    }

    #[test]
    fn short_conversations_start_at_the_top() {
        let transcript = numbered(1);
        assert_eq!(
            texts(&transcript.visible(None, 20, 5, 0)),
            vec!["", "  note 0"]
        );
    }

    #[test]
    fn live_cell_comes_last() {
        let transcript = numbered(1);
        let live = Cell::new(
            CellKind::Assistant {
                first: true,
                interrupted: false,
            },
            "stream",
        );
        assert_eq!(
            texts(&transcript.visible(Some(&live), 20, 4, 0)),
            vec!["", "  note 0", "", "• stream"]
        );
    }

    #[test]
    fn cache_follows_the_width() {
        let cell = Cell::new(CellKind::User, "one two three four");
        assert_eq!(cell.height(40), 2);
        assert_eq!(cell.height(8), 5);
        assert_eq!(cell.height(40), 2);
    }

    #[test]
    fn hostile_text_is_sanitised_when_the_cell_is_made() {
        let cell = Cell::new(CellKind::Note, "\x1b[2Jgone");
        assert_eq!(cell.text, "␛[2Jgone");
    }

    #[test]
    fn height_up_to_stops_early() {
        let transcript = numbered(1000);
        assert_eq!(transcript.height_up_to(None, 20, 5), 6);
    }
}
