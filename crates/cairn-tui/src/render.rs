//! Drawing the screen from [`App`] state. Nothing here changes the state or does IO; each
//! part is a small function of an area, the buffer and what it shows, so any terminal size
//! (down to zero rows) draws without panicking: every area is clipped to the buffer.
//!
//! Colours come from the terminal's ANSI palette via `Stylize`, so themes are respected.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};
use unicode_width::UnicodeWidthStr;

use crate::app::{App, Origin, Overlay};
use crate::commands::{COMMANDS, CommandSpec};
use crate::picker::Picker;
use crate::sanitize::sanitize;

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/// Every key, for the help overlay. Descriptions stay short enough for an 80-column screen.
const KEYS: &[(&str, &str)] = &[
    ("Enter", "send (after an error: retry)"),
    ("Shift+Enter  Alt+Enter  Ctrl+J", "new line"),
    ("← → Home End  Ctrl+A  Ctrl+E", "move in the line"),
    ("Ctrl+← →  Alt+B  Alt+F", "move by word"),
    ("Ctrl+W  Ctrl+U  Ctrl+K", "delete word / to start / to end"),
    ("↑ ↓ (first/last line)", "earlier prompts here"),
    ("PageUp PageDown  wheel", "scroll the conversation"),
    ("End", "back to the bottom"),
    ("Esc", "cancel a streaming answer"),
    ("Ctrl+C", "cancel, clear, or quit (twice)"),
    ("Ctrl+D", "quit (on an empty line)"),
    ("Ctrl+L", "redraw the screen"),
    ("/  Tab", "commands, complete a command"),
    ("?", "this help (on an empty line)"),
];

/// Width of the key column in the help, spaces included.
const HELP_KEY_COLUMN: usize = 32;

/// The help overlay's text, one entry a row.
fn help_lines() -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = vec![Line::from("Keys".bold())];
    for (keys, what) in KEYS {
        lines.push(Line::from(vec![
            format!(" {keys:<width$}", width = HELP_KEY_COLUMN - 1).cyan(),
            Span::raw(*what),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from("Commands".bold()));
    for spec in COMMANDS {
        let name = format!("/{} {}", spec.name, spec.args);
        lines.push(Line::from(vec![
            format!(" {name:<width$}", width = HELP_KEY_COLUMN - 1).cyan(),
            Span::raw(spec.about),
        ]));
    }
    lines
}

/// Where the help box goes on `screen` and how many of its rows can show at once.
fn help_area(screen: Rect) -> Rect {
    let height = u16::try_from(help_lines().len()).unwrap_or(u16::MAX) + 2;
    centered(screen, 80, height)
}

/// The furthest the help scrolls on `screen`: its rows that do not fit.
pub fn help_max_scroll(screen: Rect) -> usize {
    let visible = usize::from(help_area(screen).height.saturating_sub(2));
    help_lines().len().saturating_sub(visible)
}

impl Widget for &App {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let areas = self.areas(area);
        render_transcript(self, areas.transcript, buf);
        render_activity(self, areas.activity, buf);
        render_rule(self, areas.rule, buf);
        render_input(self, areas.input, buf);
        render_status(self, areas.status, buf);
        let completions = self.completions();
        if !completions.is_empty() {
            render_completions(&completions, self.popup_selected, areas.rule, area, buf);
        }
        match &self.overlay {
            Overlay::None => {}
            Overlay::Help { scroll } => render_help(*scroll, area, buf),
            Overlay::Sessions(picker) => render_picker(picker, self.now_ms, area, buf),
        }
    }
}

fn render_transcript(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let lines = app.transcript.visible(
        app.live.as_ref(),
        area.width,
        usize::from(area.height),
        app.scroll,
    );
    for (line, y) in lines.iter().zip(area.y..area.bottom()) {
        buf.set_line(area.x, y, line, area.width);
    }
}

fn render_activity(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let line = if let Some(turn) = &app.turn {
        let elapsed_ms = (app.now_ms - turn.started_ms).max(0);
        let frame = SPINNER[usize::try_from(elapsed_ms / 100).unwrap_or(0) % SPINNER.len()];
        let seconds = elapsed_ms / 1000;
        let what = match (&turn.retrying, turn.has_text()) {
            (Some(retrying), _) => retrying.clone(),
            (None, false) => "thinking".to_owned(),
            (None, true) => "answering".to_owned(),
        };
        let mut spans = vec![
            Span::raw(" "),
            frame.cyan(),
            Span::raw(" "),
            what.into(),
            format!(" · {seconds}s").dim(),
        ];
        // A hint (Enter pressed while streaming) replaces the reminder, which it includes.
        match &app.hint {
            Some(hint) => spans.extend([" · ".dim(), hint.clone().yellow()]),
            None => spans.push(" · Esc to cancel".dim()),
        }
        Line::from(spans)
    } else if let Some(hint) = &app.hint {
        Line::from(vec![Span::raw(" "), hint.clone().yellow()])
    } else {
        Line::default()
    };
    buf.set_line(area.x, area.y, &line, area.width);
}

fn render_rule(app: &App, area: Rect, buf: &mut Buffer) {
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

fn render_input(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    buf.set_line(area.x, area.y, &Line::from("› ".cyan().bold()), area.width);
    if area.width > 2 {
        let text_area = Rect::new(area.x + 2, area.y, area.width - 2, area.height);
        (&app.input).render(text_area, buf);
    }
}

fn render_status(app: &App, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let width = usize::from(area.width);
    // Least important first: the title, the word "tokens", new/resumed, then the folder's
    // parents. The provider, model and token counts stay in view as long as they can.
    let mut line = Line::default();
    for level in 0..=4 {
        line = status_line(app, level, width);
        if line.width() <= width {
            break;
        }
    }
    buf.set_line(area.x, area.y, &line, area.width);
}

/// The status line with the first `dropped` of the optional parts left out or shortened.
fn status_line(app: &App, dropped: usize, width: usize) -> Line<'static> {
    let session = &app.session;
    let directory = if dropped >= 4 {
        match session.display_directory.rsplit_once('/') {
            Some((_, last)) => format!("…/{last}"),
            None => session.display_directory.clone(),
        }
    } else {
        session.display_directory.clone()
    };
    let head = vec![directory.blue(), " · ".dim(), session.id.short().bold()];
    let mut tail = Vec::new();
    if dropped < 3 {
        tail.push(" · ".dim());
        tail.push(match app.origin {
            Origin::New => "new".green(),
            Origin::Resumed => "resumed".yellow(),
        });
    }
    let unit = if dropped >= 2 { "" } else { " tokens" };
    tail.extend([
        " · ".dim(),
        app.provider_label().magenta(),
        " · ".dim(),
        format!(
            "{} in / {} out{unit}",
            compact(app.usage.last_input),
            compact(app.usage.output)
        )
        .dim(),
    ]);
    let mut spans = head;
    let room =
        width.saturating_sub(crate::wrap::spans_width(&spans) + crate::wrap::spans_width(&tail));
    let title = sanitize(&session.title).replace('\n', " ");
    // The title gets what room is left; too little room and it is left out.
    if dropped < 1 && !title.is_empty() && room >= 5 {
        spans.push(Span::raw(" "));
        spans.push(shorten(&title, room - 1).italic());
    }
    spans.extend(tail);
    Line::from(spans)
}

/// `text` cut to at most `width` columns, with `…` when cut.
fn shorten(text: &str, width: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    if text.width() <= width {
        return text.to_owned();
    }
    let mut shown = String::new();
    let mut used = 0;
    for grapheme in text.graphemes(true) {
        let grapheme_width = grapheme.width();
        if used + grapheme_width + 1 > width {
            break;
        }
        used += grapheme_width;
        shown.push_str(grapheme);
    }
    shown.push('…');
    shown
}

fn compact(count: u64) -> String {
    match count {
        0..1_000 => count.to_string(),
        1_000..1_000_000 => format!("{:.1}k", count as f64 / 1_000.0),
        _ => format!("{:.1}M", count as f64 / 1_000_000.0),
    }
}

/// Width of the command column in the popup.
const POPUP_NAME_COLUMN: usize = 18;

/// The command popup, drawn just above the rule over the transcript.
fn render_completions(
    completions: &[&CommandSpec],
    selected: usize,
    rule: Rect,
    screen: Rect,
    buf: &mut Buffer,
) {
    let rows = u16::try_from(completions.len()).unwrap_or(u16::MAX);
    let height = rows.min(rule.y.saturating_sub(screen.y));
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
    let area = Rect::new(screen.x, rule.y - height, width, height);
    Clear.render(area, buf);
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

/// A centred box of at most `width` x `height`, inside `screen`.
fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width);
    let height = height.min(screen.height);
    Rect::new(
        screen.x + (screen.width - width) / 2,
        screen.y + (screen.height - height) / 2,
        width,
        height,
    )
}

fn render_help(scroll: usize, screen: Rect, buf: &mut Buffer) {
    let lines = help_lines();
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

fn render_picker(picker: &Picker, now_ms: i64, screen: Rect, buf: &mut Buffer) {
    let area = centered(
        screen,
        screen.width.saturating_sub(4).max(20),
        screen.height.saturating_sub(2).max(5),
    );
    Clear.render(area, buf);
    let scope = if picker.all_workspaces {
        "all workspaces"
    } else {
        "this workspace"
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .title(format!(
            " sessions · {scope} · Tab toggles · Enter opens · Esc closes "
        ))
        .border_style(Style::new().cyan());
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let filter = Line::from(vec![
        "filter: ".dim(),
        picker.filter.clone().into(),
        "▏".dim(),
    ]);
    buf.set_line(inner.x, inner.y, &filter, inner.width);
    let list = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    if list.is_empty() {
        return;
    }
    let message = match (&picker.items, &picker.error) {
        (_, Some(error)) => Some(format!("could not list sessions: {error}").red()),
        (None, None) => Some("loading…".dim()),
        (Some(_), None) => None,
    };
    if let Some(message) = message {
        buf.set_line(list.x, list.y, &Line::from(message), list.width);
        return;
    }
    let rows = picker.rows(now_ms);
    if rows.is_empty() {
        let text = if picker.filter.is_empty() {
            "no sessions yet"
        } else {
            "no session matches"
        };
        buf.set_line(list.x, list.y, &Line::from(text.dim()), list.width);
        return;
    }
    // Two rows per session: title line and preview line.
    let visible = usize::from(list.height / 2).max(1);
    let first = picker.selected.saturating_sub(visible - 1);
    let mut y = list.y;
    for (index, row) in rows.iter().enumerate().skip(first) {
        if y >= list.bottom() {
            break;
        }
        let mut head = vec![
            row.title.clone().bold(),
            "  ".into(),
            row.age.clone().dim(),
            " · ".dim(),
            format!("{} messages", row.messages).dim(),
            " · ".dim(),
            row.id.short().dim(),
        ];
        if row.current {
            head.push(" (current)".green());
        }
        if picker.all_workspaces {
            head.push(" · ".dim());
            head.push(row.directory.clone().blue());
        }
        let mut head = Line::from(head);
        if index == picker.selected {
            head = head.reversed();
        }
        buf.set_line(list.x, y, &head, list.width);
        y += 1;
        if y < list.bottom() {
            let preview = Line::from(vec!["  ".into(), row.preview.clone().dim().italic()]);
            buf.set_line(list.x, y, &preview, list.width);
            y += 1;
        }
    }
}

#[cfg(test)]
mod tests;
