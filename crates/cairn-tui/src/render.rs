//! Drawing the screen from [`App`] state. Nothing here changes the state or does IO; each
//! part is a small function of an area, the buffer and what it shows, so any terminal size
//! (down to zero rows) draws without panicking: every area is clipped to the buffer.
//!
//! This file lays out the frame; the parts are:
//! - `transcript`: the conversation window and the rule under it;
//! - `status`: the activity line and the status line;
//! - `composer`: the input box;
//! - `popup`: the slash-command popup;
//! - `help`, `picker`, `models` and `tree` (the rewind list and `/tree`): the overlays.
//!
//! Colours come from the terminal's ANSI palette via `Stylize`, so themes are respected.

mod approval;
mod composer;
mod help;
mod models;
mod picker;
mod popup;
mod status;
mod transcript;
mod tree;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

use crate::app::{App, Overlay};

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let areas = self.areas(area);
        transcript::render_transcript(self, areas.transcript, buf);
        status::render_activity(self, areas.activity, buf);
        transcript::render_rule(self, areas.rule, buf);
        match self.tools.as_ref().and_then(|tools| tools.prompt()) {
            Some(prompt) => approval::render_approval(prompt, areas.input, buf),
            None => composer::render_input(self, areas.input, buf),
        }
        status::render_status(self, areas.status, buf);
        let completions = self.completions();
        if !completions.is_empty() {
            popup::render_completions(
                &completions,
                self.composer.popup_selected,
                areas.activity.y,
                area,
                buf,
            );
        }
        match &self.overlay {
            Overlay::None => {}
            Overlay::Help { scroll } => help::render_help(*scroll, area, buf),
            Overlay::Sessions(picker) => picker::render_picker(picker, self.now_ms, area, buf),
            Overlay::Models(picker) => models::render_models(picker, area, buf),
            Overlay::Rewind(list) => tree::render_rewind(list, area, buf),
            Overlay::Tree(view) => tree::render_tree(view, area, buf),
        }
    }
}

#[cfg(test)]
mod picker_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tool_tests;
#[cfg(test)]
mod tree_tests;
