//! The slash-command popup: the commands matching what is typed, just above the activity
//! line (so a hint about Tab stays readable) or the rule, with the highlighted one always in
//! view. Its rows are cleared across the whole screen so no transcript text shows beside
//! the entries; the highlight is as wide as the longest entry.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Stylize;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};
use unicode_width::UnicodeWidthStr;

use crate::commands::CommandSpec;

/// Width of the command column in the popup.
const POPUP_NAME_COLUMN: usize = 18;

/// The command popup, drawn over the transcript with its last row just above `bottom`.
pub(super) fn render_completions(
    completions: &[&CommandSpec],
    selected: usize,
    bottom: u16,
    screen: Rect,
    buf: &mut Buffer,
) {
    let rows = u16::try_from(completions.len()).unwrap_or(u16::MAX);
    let height = rows.min(bottom.saturating_sub(screen.y));
    if height == 0 {
        return;
    }
    // As wide as the longest entry, within the screen.
    let width = completions
        .iter()
        .map(|spec| POPUP_NAME_COLUMN + 1 + spec.about.width() + 1)
        .max()
        .unwrap_or(0);
    let width = u16::try_from(width).unwrap_or(u16::MAX).min(screen.width);
    let area = Rect::new(screen.x, bottom - height, width, height);
    Clear.render(Rect::new(screen.x, area.y, screen.width, height), buf);
    // Keep the selection visible when the list is taller than the room.
    let first = selected.saturating_sub(usize::from(height) - 1);
    for ((index, spec), y) in completions
        .iter()
        .enumerate()
        .skip(first)
        .zip(area.y..area.bottom())
    {
        let name = format!(" /{} {}", spec.name, spec.args);
        let mut line = Line::from(vec![
            format!("{name:<POPUP_NAME_COLUMN$}").cyan(),
            Span::raw(" "),
            spec.about.dim(),
        ]);
        if index == selected {
            line = line.reversed();
        }
        buf.set_line(area.x, y, &line, area.width);
    }
}
