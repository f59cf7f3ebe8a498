//! The rewind list and the `/tree` overlay: a bordered box over the chat, its keys in the
//! title, the highlighted row kept in view. Only the visible rows are drawn, so a tree of
//! thousands of rows draws as fast as a short one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::layout::centered;
use crate::tree_view::{RewindList, TreeView};

/// The box both overlays draw in, cleared; returns the inside.
fn frame(screen: Rect, title: String, buf: &mut Buffer) -> Rect {
    let area = centered(
        screen,
        screen.width.saturating_sub(4).max(20),
        screen.height.saturating_sub(2).max(5),
    );
    Clear.render(area, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .title(title)
        .border_style(Style::new().cyan());
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

/// The first of `height` visible rows so that `selected` is in view.
fn first_visible(selected: usize, height: usize) -> usize {
    selected.saturating_sub(height.max(1) - 1)
}

pub(super) fn render_rewind(list: &RewindList, screen: Rect, buf: &mut Buffer) {
    let inner = frame(
        screen,
        " rewind · type to filter · Enter edits from there · Esc closes ".to_owned(),
        buf,
    );
    if inner.is_empty() {
        return;
    }
    let filter = Line::from(vec![
        "filter: ".dim(),
        list.filter.clone().into(),
        "▏".dim(),
    ]);
    buf.set_line(inner.x, inner.y, &filter, inner.width);
    let rows = Rect::new(
        inner.x,
        inner.y + 1,
        inner.width,
        inner.height.saturating_sub(1),
    );
    if rows.is_empty() {
        return;
    }
    if list.items.is_none() {
        buf.set_line(rows.x, rows.y, &Line::from("loading…".dim()), rows.width);
        return;
    }
    let visible = list.visible();
    if visible.is_empty() {
        buf.set_line(
            rows.x,
            rows.y,
            &Line::from("no message matches".dim()),
            rows.width,
        );
        return;
    }
    let first = first_visible(list.selected, usize::from(rows.height));
    for (y, (index, item)) in (rows.y..rows.bottom()).zip(visible.iter().enumerate().skip(first)) {
        let number = visible.len() - index;
        let mut line = Line::from(vec![
            format!("{number:>3}  ").dim(),
            Span::raw(item.label.clone()),
        ]);
        if index == list.selected {
            line = line.reversed();
        }
        buf.set_line(rows.x, y, &line, rows.width);
    }
}

pub(super) fn render_tree(view: &TreeView, screen: Rect, buf: &mut Buffer) {
    let branches = view
        .tree
        .as_ref()
        .map_or(String::new(), |tree| match tree.branch_count {
            1 => " · 1 branch".to_owned(),
            count => format!(" · {count} branches"),
        });
    let inner = frame(
        screen,
        format!(" tree{branches} · ←↑↓→ move · Enter switches · f forks · Esc closes "),
        buf,
    );
    if inner.is_empty() {
        return;
    }
    let message = match (&view.tree, &view.error) {
        (_, Some(error)) => Some(format!("could not read the tree: {error}").red()),
        (None, None) => Some("loading…".dim()),
        (Some(tree), None) if tree.rows.is_empty() => Some("no messages yet".dim()),
        (Some(_), None) => None,
    };
    if let Some(message) = message {
        buf.set_line(inner.x, inner.y, &Line::from(message), inner.width);
        return;
    }
    let Some(tree) = &view.tree else {
        return;
    };
    let first = first_visible(view.selected, usize::from(inner.height));
    for (y, (index, row)) in (inner.y..inner.bottom()).zip(tree.rows.iter().enumerate().skip(first))
    {
        let mark = match (row.holds_head, row.active) {
            (true, _) => "● ".green().bold(),
            (false, true) => "* ".green(),
            (false, false) => "  ".into(),
        };
        let mut spans = vec![
            Span::raw("  ".repeat(row.depth.min(20))),
            mark,
            Span::raw(view.texts.get(index).cloned().unwrap_or_default()),
        ];
        if row.answers > 1 {
            spans.push(format!("  · {} answers", row.answers).dim());
        }
        if row.branch_point {
            spans.push("  ⑂".cyan());
        }
        if row.ends_branch {
            spans.push(format!("  ({} messages)", row.branch_messages).dim());
        }
        let mut line = Line::from(spans);
        if index == view.selected {
            line = line.reversed();
        }
        buf.set_line(inner.x, y, &line, inner.width);
    }
}
