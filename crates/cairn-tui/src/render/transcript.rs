//! The conversation: the visible window of transcript cells (and the live answer), and the
//! rule under it, which says how far the reader has scrolled up.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use unicode_width::UnicodeWidthStr;

use crate::app::App;

pub(super) fn render_transcript(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let lines = app.transcript.visible(
        app.live_cell(),
        area.width,
        usize::from(area.height),
        app.scroll,
    );
    for (line, y) in lines.iter().zip(area.y..area.bottom()) {
        buf.set_line(area.x, y, line, area.width);
    }
}

pub(super) fn render_rule(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let rule = "─".repeat(usize::from(area.width));
    buf.set_line(area.x, area.y, &Line::from(rule.dim()), area.width);
    if app.scroll > 0 {
        let label = format!(" ↑ {} rows up · End returns ", app.scroll);
        let width = u16::try_from(label.width()).unwrap_or(u16::MAX);
        let x = area.right().saturating_sub(width).max(area.x);
        buf.set_line(x, area.y, &Line::from(label.yellow()), area.right() - x);
    }
}
