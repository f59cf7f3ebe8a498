//! What the sessions picker does besides choosing: the preview of the highlighted session,
//! and renaming, archiving and deleting from the list. Pure state; previews and the outcome
//! of each change arrive from the session task.

use cairn_core::{Event, EventKind, SessionId};

use crate::sanitize::sanitize;

/// Messages shown in the preview, the newest ones.
pub const PREVIEW_MESSAGES: usize = 4;

/// What the picker's input line is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PickerMode {
    /// Typing filters the list.
    Browse,
    /// Typing edits the new title of `id`; Enter stores it, Esc keeps the old one.
    Rename { id: SessionId, text: String },
    /// `y` deletes `id` (titled `title`); any other key keeps it.
    ConfirmDelete { id: SessionId, title: String },
}

/// One message of the preview, sanitised and flat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreviewLine {
    /// `you` or `model`.
    pub who: &'static str,
    pub text: String,
}

/// The preview of one session: `None` while it is being read, else its lines or why it
/// could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    pub id: SessionId,
    pub lines: Option<Result<Vec<PreviewLine>, String>>,
}

/// The newest user and model messages of `events` (oldest first), at most
/// [`PREVIEW_MESSAGES`], made safe to draw on one line each.
pub fn preview_lines(events: &[Event]) -> Vec<PreviewLine> {
    let flat = |text: &str| {
        sanitize(text)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut lines: Vec<PreviewLine> = events
        .iter()
        .rev()
        .filter_map(|event| match &event.kind {
            EventKind::UserMessage { text } => Some(PreviewLine {
                who: "you",
                text: flat(text),
            }),
            EventKind::AssistantMessage { text, .. } if !text.trim().is_empty() => {
                Some(PreviewLine {
                    who: "model",
                    text: flat(text),
                })
            }
            EventKind::AssistantMessage { .. }
            | EventKind::ToolCall { .. }
            | EventKind::ToolResult { .. }
            | EventKind::ToolDecision { .. }
            | EventKind::Note { .. }
            | EventKind::SystemContext { .. }
            | EventKind::Summary { .. }
            | EventKind::Error { .. } => None,
        })
        .take(PREVIEW_MESSAGES)
        .collect();
    lines.reverse();
    lines
}
