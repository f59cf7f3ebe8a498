//! Plain renderings of a conversation for people: Markdown for `/export` and
//! `cairn sessions export`, and readable text for `cairn sessions show`.
//!
//! Only what a person said or was shown is included: system-context events (the resume
//! boundaries the model sees) appear as a one-line marker, never verbatim, and in Markdown
//! only between two parts of the conversation: a marker with nothing after it says nothing.
//!
//! Where an export goes is decided here too, once for `/export` and `cairn sessions export`:
//! a folder means a file named after the session inside it.

use std::path::{Path, PathBuf};

use crate::event::{Event, EventKind};
use crate::ids::SessionId;
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
    // Written when the next shown event arrives, so the document never ends with one.
    let mut invocation_marker_pending = false;
    for event in events {
        if matches!(event.kind, EventKind::SystemContext { .. }) {
            invocation_marker_pending = true;
            continue;
        }
        if std::mem::take(&mut invocation_marker_pending) {
            out.push_str("---\n\n*(new invocation)*\n\n");
        }
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
            EventKind::ToolDecision {
                decision,
                rule,
                reason,
                ..
            } => out.push_str(&format!(
                "> {}\n\n",
                crate::tool::describe_decision(*decision, rule.as_deref(), reason.as_deref())
            )),
            EventKind::Note { text } => out.push_str(&format!("> {text}\n\n")),
            EventKind::Error { message } => out.push_str(&format!("> **Error:** {message}\n\n")),
            EventKind::Summary {
                text,
                continued_from: Some(from),
                ..
            } => out.push_str(&format!(
                "---\n\n**{}**: the summary of that session the model is given\n\n{}\n\n---\n\n",
                crate::compact::continuation_line(from),
                text.trim_end()
            )),
            EventKind::Summary { text, messages, .. } => out.push_str(&format!(
                "---\n\n**Summary of the {messages} earlier messages** (what the model is given \
                 instead of them; they are all above)\n\n{}\n\n---\n\n",
                text.trim_end()
            )),
            // Held back above until something follows it.
            EventKind::SystemContext { .. } => {}
        }
    }
    out
}

/// The file name an export of `session` gets when no file is named: `cairn-<short id>.md`
/// for `extension` `md`.
pub fn export_file_name(session: SessionId, extension: &str) -> String {
    format!("cairn-{}.{extension}", session.short())
}

/// Where an export asked to go to `requested` is written: inside it, under
/// [`export_file_name`], when it is an existing folder; `requested` itself otherwise.
pub fn export_target(requested: &Path, session: SessionId, extension: &str) -> PathBuf {
    if requested.is_dir() {
        requested.join(export_file_name(session, extension))
    } else {
        requested.to_path_buf()
    }
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
            EventKind::ToolDecision {
                decision,
                rule,
                reason,
                ..
            } => format!(
                "[tool decision] {}",
                crate::tool::describe_decision(*decision, rule.as_deref(), reason.as_deref())
            ),
            EventKind::Note { text } => format!("[note] {text}"),
            EventKind::Error { message } => format!("[error] {message}"),
            EventKind::SystemContext { .. } => "--- new invocation ---".to_owned(),
            EventKind::Summary { text, messages, .. } => {
                format!(
                    "[summary of {messages} earlier messages] {}",
                    text.trim_end()
                )
            }
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
            model: None,
            location: crate::Location::default(),
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

    fn user(text: &str) -> Event {
        event(EventKind::UserMessage { text: text.into() })
    }

    fn boundary() -> Event {
        event(EventKind::SystemContext {
            text: "resumed".into(),
        })
    }

    fn session() -> Session {
        Session {
            id: SessionId::new(),
            directory: "/tmp/project".into(),
            git_root: None,
            head_id: None,
            title: "t".into(),
            created_at_ms: 0,
            updated_at_ms: 0,
            archived_at_ms: None,
            model: None,
            location: crate::Location::default(),
        }
    }

    /// The Markdown after the session header.
    fn markdown_body(events: &[Event]) -> String {
        let session = session();
        let markdown = to_markdown(&session, events);
        let header = format!(
            "# t\n\n- Session: `{}`\n- Workspace: `/tmp/project`\n\n",
            session.id
        );
        markdown
            .strip_prefix(&header)
            .unwrap_or_else(|| panic!("unexpected header in {markdown}"))
            .to_owned()
    }

    #[test]
    fn the_invocation_marker_appears_only_between_parts_of_the_conversation() {
        assert_eq!(
            markdown_body(&[user("a"), boundary(), boundary(), user("b"), boundary()]),
            "## You\n\na\n\n---\n\n*(new invocation)*\n\n## You\n\nb\n\n"
        );
        assert_eq!(markdown_body(&[user("a"), boundary()]), "## You\n\na\n\n");
    }

    #[test]
    fn an_export_into_a_folder_is_named_after_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let id = SessionId::new();
        let file = dir.path().join("notes.md");
        assert_eq!(
            [
                export_target(dir.path(), id, "md"),
                export_target(&file, id, "json"),
            ],
            [
                dir.path().join(format!("cairn-{}.md", id.short())),
                file.clone(),
            ]
        );
        assert_eq!(
            export_file_name(id, "json"),
            format!("cairn-{}.json", id.short())
        );
    }
}
