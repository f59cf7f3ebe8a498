//! The input box: a prompt marker and the composer's editor beside it.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::Line;
use ratatui::widgets::Widget;

use crate::app::App;

pub(super) fn render_input(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    buf.set_line(area.x, area.y, &Line::from("› ".cyan().bold()), area.width);
    if area.width > 2 {
        let text_area = Rect::new(area.x + 2, area.y, area.width - 2, area.height);
        (&app.composer.input).render(text_area, buf);
    }
}
