//! The help overlay's content: every key and every slash command, one entry a row.
//!
//! It lives apart from the drawing because two sides need it: the renderer draws these
//! lines, and the layout counts them to know how far the help can scroll.

use ratatui::style::Stylize;
use ratatui::text::{Line, Span};

use crate::commands::COMMANDS;

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
pub(crate) fn help_lines() -> Vec<Line<'static>> {
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
