//! The sessions picker overlay: the filter line (or the new title being typed, or the
//! question before a delete), two rows per session (title with age, message count and id;
//! then the passage that matched a search, or a preview) keeping the highlighted session in
//! view, the highlighted session's newest messages when there is room, and a footer with the
//! keys (or what the last change did).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::layout::centered;
use crate::picker::edit::PickerMode;
use crate::picker::{Picker, RowSnippet};

/// The picker needs this many rows for the list before a preview is drawn below it.
const PREVIEW_MIN_HEIGHT: u16 = 14;

pub(super) fn render_picker(picker: &Picker, now_ms: i64, screen: Rect, buf: &mut Buffer) {
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
            " sessions · {scope} · Enter opens · Tab scope · Esc closes "
        ))
        .border_style(Style::new().cyan());
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.is_empty() {
        return;
    }
    let input = match &picker.mode {
        PickerMode::Browse => Line::from(vec![
            "filter: ".dim(),
            picker.filter.clone().into(),
            "▏".dim(),
        ]),
        PickerMode::Rename { text, .. } => Line::from(vec![
            "new title: ".yellow(),
            crate::sanitize::sanitize(text).into_owned().into(),
            "▏".dim(),
            "  Enter saves · Esc cancels".dim(),
        ]),
        PickerMode::ConfirmDelete { title, .. } => Line::from(vec![
            format!("Delete “{title}” and all its messages? ")
                .red()
                .bold(),
            "y deletes · any other key keeps it".dim(),
        ]),
    };
    buf.set_line(inner.x, inner.y, &input, inner.width);
    let footer_y = inner.bottom().saturating_sub(1);
    if inner.height >= 3 {
        buf.set_line(inner.x, footer_y, &footer(picker), inner.width);
    }
    let mut list = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner
            .height
            .saturating_sub(if inner.height >= 3 { 2 } else { 1 }),
    );
    if list.is_empty() {
        return;
    }
    if list.height >= PREVIEW_MIN_HEIGHT {
        let preview_height = crate::picker::edit::PREVIEW_MESSAGES as u16 + 1;
        list.height -= preview_height;
        let area = Rect::new(list.x, list.bottom(), list.width, preview_height);
        render_preview(picker, area, buf);
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
        let text = match picker.search_error() {
            Some(error) => format!("search: {error}"),
            None if picker.filter.is_empty() => "no sessions yet".to_owned(),
            None => "no session matches".to_owned(),
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
        ];
        if let Some(messages) = row.messages {
            head.push(cairn_core::text::plural(messages, "message").dim());
            if row.branches > 1 {
                head.push(format!(" ⑂{}", row.branches).cyan());
            }
            head.push(" · ".dim());
        }
        head.push(row.short_id.clone().dim());
        if row.current {
            head.push(" (current)".green());
        }
        if row.archived {
            head.push(" (archived)".yellow());
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
            let second = match &row.snippet {
                Some(snippet) => snippet_line(snippet),
                None => Line::from(vec!["  ".into(), row.preview.clone().dim().italic()]),
            };
            buf.set_line(list.x, y, &second, list.width);
            y += 1;
        }
    }
}

/// The keys for changing sessions, or what the last change did; with how many archived
/// sessions are hidden.
fn footer(picker: &Picker) -> Line<'static> {
    if let Some(notice) = &picker.notice {
        return Line::from(crate::sanitize::sanitize(notice).into_owned().yellow());
    }
    let hidden = picker.hidden_archived();
    let archived = match (picker.show_archived, hidden) {
        (true, _) => "^V hides archived".to_owned(),
        (false, 0) => "^V shows archived".to_owned(),
        (false, hidden) => format!("^V shows {hidden} archived"),
    };
    Line::from(format!(
        "^R rename · ^X archive/restore · ^D delete · {archived} · ^U clears"
    ))
    .dim()
}

/// The highlighted session's newest messages under a rule.
fn render_preview(picker: &Picker, area: Rect, buf: &mut Buffer) {
    let rule = "─".repeat(usize::from(area.width));
    buf.set_line(area.x, area.y, &Line::from(rule.dim()), area.width);
    let lines: Vec<Line<'static>> = match picker.preview.as_ref().map(|preview| &preview.lines) {
        None => Vec::new(),
        Some(None) => vec![Line::from("loading the preview…".dim())],
        Some(Some(Err(error))) => vec![Line::from(
            format!(
                "could not read the session: {}",
                crate::sanitize::sanitize(error)
            )
            .red(),
        )],
        Some(Some(Ok(lines))) if lines.is_empty() => vec![Line::from("no messages yet".dim())],
        Some(Some(Ok(lines))) => lines
            .iter()
            .map(|line| {
                let who = match line.who {
                    "you" => format!("{:>5} ", line.who).cyan(),
                    _ => format!("{:>5} ", line.who).green(),
                };
                Line::from(vec![who, line.text.clone().into()])
            })
            .collect(),
    };
    for (offset, line) in (1..area.height).zip(lines.iter()) {
        buf.set_line(area.x, area.y + offset, line, area.width);
    }
}

/// A search passage, the words that matched in bold.
fn snippet_line(snippet: &RowSnippet) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = vec!["  ".into()];
    let mut at = 0;
    for range in &snippet.highlights {
        let (Some(before), Some(matched)) = (
            snippet.text.get(at..range.start),
            snippet.text.get(range.clone()),
        ) else {
            continue;
        };
        spans.push(before.to_owned().dim());
        spans.push(matched.to_owned().bold());
        at = range.end;
    }
    spans.push(snippet.text.get(at..).unwrap_or_default().to_owned().dim());
    Line::from(spans)
}
