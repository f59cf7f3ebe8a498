//! Plain renderings of a conversation for people: Markdown for `/export` and
//! `cairn sessions export`, and readable text for `cairn sessions show`.
//!
//! Only what a person said or was shown is included: system-context events (the resume
//! boundaries the model sees) appear as a one-line marker, never verbatim.

use crate::event::{Event, EventKind};
use crate::session::Session;
use crate::workspace::shorten_home;

/// The conversation as a Markdown document.
pub fn to_markdown<'a>(session: &Session, events: impl IntoIterator<Item = &'a Event>) -> String {
    let title = if session.title.is_empty() {
        "Untitled session"
    } else {
        &session.title
    };
    let mut out = format!(
        "# {title}\n\n- Session: `{}`\n- Workspace: `{}`\n\n",
        session.id,
        shorten_home(&session.directory)
    );
    for event in events {
        match &event.kind {
            EventKind::UserMessage { text } => {
                out.push_str("## You\n\n");
                out.push_str(text.trim_end());
                out.push_str("\n\n");
            }
            EventKind::AssistantMessage {
                text, interrupted, ..
            } => {
                out.push_str("## Assistant\n\n");
                out.push_str(text.trim_end());
                if *interrupted {
                    out.push_str("\n\n*(interrupted)*");
                }
                out.push_str("\n\n");
            }
            EventKind::ToolCall {
                name, arguments, ..
            } => {
                out.push_str(&format!(
                    "**Tool call** `{name}`\n\n```json\n{arguments}\n```\n\n"
                ));
            }
            EventKind::ToolResult {
                output, is_error, ..
            } => {
                let label = if *is_error {
                    "Tool error"
                } else {
                    "Tool result"
                };
                out.push_str(&format!("**{label}**\n\n```\n{output}\n```\n\n"));
            }
            EventKind::Note { text } => out.push_str(&format!("> {text}\n\n")),
            EventKind::Error { message } => out.push_str(&format!("> **Error:** {message}\n\n")),
            EventKind::SystemContext { .. } => out.push_str("---\n\n*(new invocation)*\n\n"),
        }
    }
    out
}

/// The conversation as readable plain text, one block per message.
pub fn to_text<'a>(events: impl IntoIterator<Item = &'a Event>) -> String {
    let mut out = String::new();
    for event in events {
        let block = match &event.kind {
            EventKind::UserMessage { text } => {
                format!("> {}", text.trim_end().replace('\n', "\n> "))
            }
            EventKind::AssistantMessage {
                text, interrupted, ..
            } => {
                let mut block = text.trim_end().to_owned();
                if *interrupted {
                    block.push_str("\n[interrupted]");
                }
                block
            }
            EventKind::ToolCall {
                name, arguments, ..
            } => format!("[tool call] {name} {arguments}"),
            EventKind::ToolResult {
                output, is_error, ..
            } => {
                format!(
                    "[tool {}] {output}",
                    if *is_error { "error" } else { "result" }
                )
            }
            EventKind::Note { text } => format!("[note] {text}"),
            EventKind::Error { message } => format!("[error] {message}"),
            EventKind::SystemContext { .. } => "--- new invocation ---".to_owned(),
        };
        out.push_str(&block);
        out.push_str("\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, InvocationId, SessionId};

    fn event(kind: EventKind) -> Event {
        Event {
            id: EventId::new(),
            session_id: SessionId::new(),
            parent_id: None,
            invocation_id: InvocationId::new(),
            created_at_ms: 0,
            kind,
        }
    }

    #[test]
    fn markdown_has_both_sides_and_hides_system_context() {
        let session = Session {
            id: SessionId::new(),
            directory: "/tmp/project".into(),
            git_root: None,
            head_id: None,
            title: "fix the build".into(),
            created_at_ms: 0,
            updated_at_ms: 0,
            archived_at_ms: None,
        };
        let events = [
            event(EventKind::UserMessage {
                text: "why?".into(),
            }),
            event(EventKind::SystemContext {
                text: "secret boundary text".into(),
            }),
            event(EventKind::AssistantMessage {
                text: "because".into(),
                usage: None,
                interrupted: true,
                model: None,
            }),
        ];
        let markdown = to_markdown(&session, &events);
        assert!(markdown.starts_with("# fix the build\n"));
        assert!(markdown.contains("## You\n\nwhy?\n"));
        assert!(markdown.contains("## Assistant\n\nbecause\n\n*(interrupted)*"));
        assert!(!markdown.contains("secret boundary text"));
        let text = to_text(&events);
        assert_eq!(
            text,
            "> why?\n\n--- new invocation ---\n\nbecause\n[interrupted]\n\n"
        );
    }
}
