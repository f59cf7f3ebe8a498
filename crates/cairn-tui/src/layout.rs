//! Where things go on the screen. The state machine needs these sizes (to scroll by a page,
//! to clamp the help's scroll, to keep the reader's place) and the renderer needs them to
//! draw, so they are computed here, once, from plain numbers: this module knows neither the
//! state machine nor the renderer.
//!
//! Every region fits inside the screen it is given, down to a zero-sized one.

use ratatui::layout::Rect;

use crate::help_text::help_lines;

/// The most rows the input editor grows to.
pub(crate) const MAX_INPUT_ROWS: u16 = 8;

/// The screen's regions for a terminal size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Areas {
    pub(crate) transcript: Rect,
    /// Spinner, retry status or hint; zero height when there is none.
    pub(crate) activity: Rect,
    pub(crate) rule: Rect,
    pub(crate) input: Rect,
    pub(crate) status: Rect,
}

impl Areas {
    /// Splits `screen` from the bottom up: status line, an input box of `input_rows`, the
    /// rule, the activity line when `show_activity`, and the transcript gets what is left.
    pub(crate) fn new(screen: Rect, input_rows: u16, show_activity: bool) -> Self {
        let mut remaining = screen.height;
        let mut take = |rows: u16| {
            let rows = rows.min(remaining);
            remaining -= rows;
            rows
        };
        let status_rows = take(1);
        let input_rows = take(input_rows);
        let rule_rows = take(1);
        let activity_rows = take(u16::from(show_activity));
        let transcript_rows = remaining;
        let row = |y: u16, height: u16| Rect::new(screen.x, y, screen.width, height);
        let transcript = row(screen.y, transcript_rows);
        let activity = row(transcript.bottom(), activity_rows);
        let rule = row(activity.bottom(), rule_rows);
        let input = row(rule.bottom(), input_rows);
        let status = row(input.bottom(), status_rows);
        Self {
            transcript,
            activity,
            rule,
            input,
            status,
        }
    }
}

/// Rows the input needs when `lines` are soft-wrapped to `width` (minus its two-column
/// prompt), as the editor itself wraps. Capped at [`MAX_INPUT_ROWS`] and a third of a
/// terminal `terminal_height` rows tall; past the cap the editor scrolls to keep the cursor
/// in view.
pub(crate) fn input_rows(lines: &[String], width: u16, terminal_height: u16) -> u16 {
    let inner = usize::from(width.saturating_sub(2));
    let rows = crate::wrap::editor_rows(lines, inner);
    let cap = MAX_INPUT_ROWS.min((terminal_height / 3).max(1));
    u16::try_from(rows).unwrap_or(u16::MAX).clamp(1, cap)
}

/// A centred box of at most `width` x `height`, inside `screen`.
pub(crate) fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width);
    let height = height.min(screen.height);
    Rect::new(
        screen.x + (screen.width - width) / 2,
        screen.y + (screen.height - height) / 2,
        width,
        height,
    )
}

/// Where the help box goes on `screen` (its border included).
pub(crate) fn help_area(screen: Rect) -> Rect {
    let width = 80.min(screen.width);
    let lines = help_lines(usize::from(width.saturating_sub(2)));
    let height = u16::try_from(lines.len()).unwrap_or(u16::MAX) + 2;
    centered(screen, width, height)
}

/// The help's lines as they are drawn on `screen`.
pub(crate) fn help_lines_for(screen: Rect) -> Vec<ratatui::text::Line<'static>> {
    help_lines(usize::from(help_area(screen).width.saturating_sub(2)))
}

/// The furthest the help scrolls on `screen`: its rows that do not fit.
pub(crate) fn help_max_scroll(screen: Rect) -> usize {
    let visible = usize::from(help_area(screen).height.saturating_sub(2));
    help_lines_for(screen).len().saturating_sub(visible)
}
