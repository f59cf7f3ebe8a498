//! Scrolling the transcript: by pages and rows, to a message, and clamped to what there is.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::{App, Effect, Overlay};

impl App {
    /// Arrows that arrived together. Where arrows make a choice (an overlay, the approval
    /// prompt, the command popup) they are the keys they are, one by one, so a quick double
    /// press can never land on the wrong choice; on the conversation they are the wheel and
    /// scroll it, a row each, whatever is in the input.
    pub(super) fn on_arrows(&mut self, up: bool, count: usize, effects: &mut Vec<Effect>) {
        let choosing = !matches!(self.overlay, Overlay::None)
            || self
                .tools
                .as_ref()
                .and_then(|tools| tools.prompt())
                .is_some()
            || !self.completions().is_empty();
        if choosing {
            let code = if up { KeyCode::Up } else { KeyCode::Down };
            for _ in 0..count {
                self.on_key(KeyEvent::new(code, KeyModifiers::NONE), effects);
            }
        } else if up {
            self.scroll_up(count);
        } else {
            self.scroll = self.scroll.saturating_sub(count);
        }
    }

    pub(super) fn transcript_area(&self) -> Rect {
        self.areas(self.screen()).transcript
    }

    pub(super) fn page_rows(&self) -> usize {
        usize::from(self.transcript_area().height)
            .saturating_sub(2)
            .max(1)
    }

    /// Scrolls so that the message of `event_id` starts at the top of the transcript (or as
    /// near as the end of the conversation allows); nothing happens if it is not shown.
    pub(crate) fn focus_event(&mut self, event_id: cairn_core::EventId) {
        let cells = self.transcript.cells();
        let Some(index) = cells
            .iter()
            .position(|cell| cell.event_id == Some(event_id))
        else {
            return;
        };
        // A message folded behind a summary line is unfolded to be shown.
        self.transcript.reveal(index);
        let cells = self.transcript.cells();
        let area = self.transcript_area();
        let from_message: usize = self.live_cell().map_or(0, |live| live.height(area.width))
            + cells[index..]
                .iter()
                .map(|cell| cell.height(area.width))
                .sum::<usize>();
        self.scroll = from_message.saturating_sub(usize::from(area.height));
        self.clamp_scroll();
    }

    pub(super) fn scroll_up(&mut self, rows: usize) {
        self.scroll += rows;
        self.clamp_scroll();
    }

    pub(super) fn clamp_scroll(&mut self) {
        if self.scroll == 0 {
            return;
        }
        let area = self.transcript_area();
        let height = usize::from(area.height);
        let total =
            self.transcript
                .height_up_to(self.live_cell(), area.width, self.scroll + height);
        self.scroll = self.scroll.min(total.saturating_sub(height));
    }

    /// Rows the whole transcript (and the live answer) takes at the current width.
    pub(super) fn content_height(&self) -> usize {
        let width = self.transcript_area().width;
        self.transcript
            .height_up_to(self.live_cell(), width, usize::MAX)
    }
}
