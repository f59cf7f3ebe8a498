//! The help overlay's content: every key and every slash command, one entry a row.
//!
//! It lives apart from the drawing because two sides need it: the renderer draws these
//! lines, and the layout counts them to know how far the help can scroll.

use ratatui::style::Stylize;
use ratatui::text::{Line, Span};

use crate::commands::COMMANDS;
use crate::wrap::wrap_words;

/// Every key, for the help overlay. Descriptions stay short enough for an 80-column screen.
const KEYS: &[(&str, &str)] = &[
    ("Enter", "send; queue while answering; retry an error"),
    ("Enter (empty line)", "unfold / fold summarised messages"),
    ("Shift+Enter  Alt+Enter  Ctrl+J", "new line"),
    ("← → Home End  Ctrl+A  Ctrl+E", "move in the line"),
    ("Ctrl+← →  Alt+B  Alt+F", "move by word"),
    ("Ctrl+W  Ctrl+U  Ctrl+K", "delete word / to start / to end"),
    ("↑ ↓ (first/last line)", "earlier prompts here"),
    ("Ctrl+T", "expand a collapsed paste to edit it"),
    ("PageUp PageDown  wheel", "scroll the conversation"),
    ("Home End (empty line)", "top / bottom of the conversation"),
    ("Esc", "take back a queued message, else cancel"),
    ("Esc Esc", "edit an earlier message (/rewind)"),
    ("Ctrl+C", "cancel, clear, or quit (twice)"),
    ("Ctrl+D", "quit (on an empty line)"),
    ("Ctrl+L", "redraw the screen"),
    ("Ctrl+Z", "suspend (fg resumes)"),
    ("Ctrl+O", "show or fold the output of tool calls"),
    ("/  Tab", "commands, complete a command"),
    ("?", "this help (on an empty line)"),
];

/// Width of the key column in the help, spaces included.
const HELP_KEY_COLUMN: usize = 32;
/// Narrower than the key column and this much room for a description, and each entry takes
/// two rows: the keys, then what they do, indented.
const TWO_ROWS_BELOW: usize = HELP_KEY_COLUMN + 24;
const DESCRIPTION_INDENT: &str = "   ";

/// The help overlay's text for a box `width` columns wide inside its border.
pub(crate) fn help_lines(width: usize) -> Vec<Line<'static>> {
    let entries = |lines: &mut Vec<Line<'static>>,
                   rows: &mut dyn Iterator<Item = (String, &str)>| {
        for (keys, what) in rows {
            if width >= TWO_ROWS_BELOW {
                lines.push(Line::from(vec![
                    format!(" {keys:<column$}", column = HELP_KEY_COLUMN - 1).cyan(),
                    Span::raw(what.to_owned()),
                ]));
                continue;
            }
            lines.push(Line::from(format!(" {keys}").cyan()));
            let room = width.saturating_sub(DESCRIPTION_INDENT.len());
            for row in wrap_words(&[Span::raw(what.to_owned())], room) {
                let mut spans = vec![Span::raw(DESCRIPTION_INDENT)];
                spans.extend(row);
                lines.push(Line::from(spans));
            }
        }
    };
    let mut lines: Vec<Line<'static>> = vec![Line::from("Keys".bold())];
    entries(
        &mut lines,
        &mut KEYS.iter().map(|(keys, what)| ((*keys).to_owned(), *what)),
    );
    lines.push(Line::default());
    lines.push(Line::from("Commands".bold()));
    entries(
        &mut lines,
        &mut COMMANDS
            .iter()
            .map(|spec| (format!("/{} {}", spec.name, spec.args), spec.about)),
    );
    lines
}
