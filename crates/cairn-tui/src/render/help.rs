//! The help overlay: a centred box of every key and command, scrolled as the state says,
//! with a marker when more rows are above or below.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::layout::{help_area, help_lines_for, help_max_scroll};

pub(super) fn render_help(scroll: usize, screen: Rect, buf: &mut Buffer) {
    let lines = help_lines_for(screen);
    let area = help_area(screen);
    let scroll = scroll.min(help_max_scroll(screen));
    let visible = usize::from(area.height.saturating_sub(2));
    let mut block = Block::new()
        .borders(Borders::ALL)
        .title(" help · Esc closes ")
        .border_style(Style::new().cyan());
    let above = scroll > 0;
    let below = scroll + visible < lines.len();
    let more = match (above, below) {
        (true, true) => Some(" ↑↓ more "),
        (true, false) => Some(" ↑ more above "),
        (false, true) => Some(" ↓ more below "),
        (false, false) => None,
    };
    if let Some(more) = more {
        block = block.title_bottom(Line::from(more.yellow()).right_aligned());
    }
    Clear.render(area, buf);
    let inner = block.inner(area);
    block.render(area, buf);
    for (line, y) in lines.iter().skip(scroll).zip(inner.y..inner.bottom()) {
        buf.set_line(inner.x, y, line, inner.width);
    }
}
