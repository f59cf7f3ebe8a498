//! The sessions picker overlay: the filter line and two rows per session (title with age,
//! message count and id; then the passage that matched a search, or a preview), keeping the
//! highlighted session in view.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::layout::centered;
use crate::picker::{Picker, RowSnippet};

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
