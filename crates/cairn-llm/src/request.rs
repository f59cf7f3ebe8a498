//! Turning a session's events into a dialect-neutral [`ModelRequest`].
//!
//! Invariants:
//! - Notes and errors never reach the model; everything else does, in chain order.
//! - An interrupted assistant message is sent with the partial text that arrived (an empty
//!   one is skipped: providers reject empty assistant turns).
//! - Tool calls ride on the assistant message they follow; tool results are `Role::User`
//!   messages made only of `Part::ToolResult` (the dialects regroup them as they require).
//! - Budgeting never separates a tool call from its results: a message holding tool results
//!   is always kept or dropped together with the message before it.
//! - When the history does not fit, the first exchange and the most recent messages are kept
//!   and exactly one `Role::System` message says how many were omitted.
//!
//! Token counts are estimates: about four characters per token (the usual rule of thumb for
//! English text with BPE tokenizers) plus a small per-message overhead for the role and
//! framing. That errs on the generous side for code, which is fine for a budget.

use cairn_core::provider::{Message, ModelRequest, Part, Role};
use cairn_core::{Event, EventKind, Workspace};

/// Tokens set aside for the answer when the caller gives no `max_output_tokens`.
const DEFAULT_OUTPUT_RESERVE: u64 = 4096;
/// Framing tokens per message (role, separators) on top of its text.
const PER_MESSAGE_OVERHEAD: u64 = 4;

/// Builds the request for the next answer from the session's events so far.
///
/// `today` is the local date as the user would write it (`2025-06-01`); it goes into the
/// system prompt so the model knows what "today" means.
pub fn build_request(
    events: &[Event],
    workspace: &Workspace,
    model: &str,
    max_output_tokens: Option<u32>,
    context_window: u64,
    today: &str,
) -> ModelRequest {
    let system = system_prompt(workspace, today);
    let messages = messages_from_events(events);
    let output_reserve = max_output_tokens
        .map(u64::from)
        .unwrap_or_else(|| DEFAULT_OUTPUT_RESERVE.min(context_window / 4));
    let budget = context_window
        .saturating_sub(output_reserve)
        .saturating_sub(estimate_text_tokens(&system));
    ModelRequest {
        model: model.to_owned(),
        system,
        messages: fit_to_budget(messages, budget),
        max_output_tokens,
    }
}

fn system_prompt(workspace: &Workspace, today: &str) -> String {
    let mut prompt = String::from(
        "You are Cairn, an assistant in the user's terminal. Answer concisely; use Markdown \
         with fenced code blocks for code. The user is working in the directory below.\n\n",
    );
    prompt.push_str(&format!("Directory: {}\n", workspace.directory.display()));
    match &workspace.git_root {
        Some(root) => {
            prompt.push_str(&format!("Git repository root: {}\n", root.display()));
            if let Some(branch) = &workspace.git_branch {
                prompt.push_str(&format!("Git branch: {branch}\n"));
            }
        }
        None => prompt.push_str("Not inside a git repository.\n"),
    }
    prompt.push_str(&format!("Operating system: {}\n", std::env::consts::OS));
    prompt.push_str(&format!("Today's date: {today}\n"));
    prompt
}

/// Maps events to neutral messages, in order.
fn messages_from_events(events: &[Event]) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    for event in events {
        match &event.kind {
            EventKind::UserMessage { text } => messages.push(Message::text(Role::User, text)),
            EventKind::AssistantMessage { text, .. } => {
                if !text.is_empty() {
                    messages.push(Message::text(Role::Assistant, text));
                }
            }
            EventKind::ToolCall {
                call_id,
                name,
                arguments,
            } => {
                let part = Part::ToolCall {
                    call_id: call_id.clone(),
                    name: name.clone(),
                    arguments: arguments.clone(),
                };
                match messages.last_mut() {
                    Some(last) if last.role == Role::Assistant => last.parts.push(part),
                    _ => messages.push(Message {
                        role: Role::Assistant,
                        parts: vec![part],
                    }),
                }
            }
            EventKind::ToolResult {
                call_id,
                output,
                is_error,
            } => {
                let part = Part::ToolResult {
                    call_id: call_id.clone(),
                    output: output.clone(),
                    is_error: *is_error,
                };
                match messages.last_mut() {
                    Some(last) if is_tool_results(last) => last.parts.push(part),
                    _ => messages.push(Message {
                        role: Role::User,
                        parts: vec![part],
                    }),
                }
            }
            EventKind::SystemContext { text } => messages.push(Message::text(Role::System, text)),
            EventKind::Note { .. } | EventKind::Error { .. } => {}
        }
    }
    messages
}

fn is_tool_results(message: &Message) -> bool {
    message.role == Role::User
        && !message.parts.is_empty()
        && message
            .parts
            .iter()
            .all(|part| matches!(part, Part::ToolResult { .. }))
}

fn has_user_text(message: &Message) -> bool {
    message.role == Role::User
        && message
            .parts
            .iter()
            .any(|part| matches!(part, Part::Text { .. }))
}

/// Estimated tokens of a text: one per four characters, rounded up.
pub(crate) fn estimate_text_tokens(text: &str) -> u64 {
    (text.chars().count() as u64).div_ceil(4)
}

pub(crate) fn estimate_message_tokens(message: &Message) -> u64 {
    let text_tokens: u64 = message
        .parts
        .iter()
        .map(|part| match part {
            Part::Text { text } => estimate_text_tokens(text),
            Part::ToolCall {
                call_id,
                name,
                arguments,
            } => {
                estimate_text_tokens(call_id)
                    + estimate_text_tokens(name)
                    + estimate_text_tokens(arguments)
            }
            Part::ToolResult {
                call_id, output, ..
            } => estimate_text_tokens(call_id) + estimate_text_tokens(output),
        })
        .sum();
    text_tokens + PER_MESSAGE_OVERHEAD
}

/// The text of the message that stands in for dropped history.
pub fn omission_notice(omitted: usize) -> String {
    let noun = if omitted == 1 {
        "message was"
    } else {
        "messages were"
    };
    format!("[Cairn: {omitted} earlier {noun} omitted to fit the model's context window]")
}

/// Keeps the first exchange and as many recent messages as fit in `budget` tokens.
fn fit_to_budget(messages: Vec<Message>, budget: u64) -> Vec<Message> {
    let total: u64 = messages.iter().map(estimate_message_tokens).sum();
    if total <= budget {
        return messages;
    }

    // Units are the smallest pieces budgeting may drop: a message plus the tool results
    // that answer it.
    let mut units: Vec<Vec<Message>> = Vec::new();
    for message in messages {
        match units.last_mut() {
            Some(unit) if is_tool_results(&message) => unit.push(message),
            _ => units.push(vec![message]),
        }
    }
    let unit_tokens =
        |unit: &Vec<Message>| -> u64 { unit.iter().map(estimate_message_tokens).sum() };

    // The first exchange runs up to (not including) the second unit that opens with user text.
    let head_len = units
        .iter()
        .enumerate()
        .filter(|(_, unit)| unit.first().is_some_and(has_user_text))
        .nth(1)
        .map(|(index, _)| index)
        .unwrap_or(units.len());
    // A reserve for the notice itself (its count has at most a few digits).
    let notice_tokens = estimate_text_tokens(&omission_notice(usize::MAX)) + PER_MESSAGE_OVERHEAD;

    let mut head_len = head_len.min(units.len().saturating_sub(1));
    let mut head_tokens: u64 = units[..head_len].iter().map(unit_tokens).sum();
    let last_tokens = units.last().map(unit_tokens).unwrap_or(0);
    if head_tokens + notice_tokens + last_tokens > budget {
        // The first exchange alone would crowd out the latest question: drop it too.
        head_len = 0;
        head_tokens = 0;
    }

    // Walk back from the newest unit while it fits; the newest one is kept regardless, since
    // a request without the user's question is useless.
    let mut remaining = budget.saturating_sub(head_tokens + notice_tokens);
    let mut tail_start = units.len();
    while tail_start > head_len {
        let cost = unit_tokens(&units[tail_start - 1]);
        if cost > remaining && tail_start < units.len() {
            break;
        }
        remaining = remaining.saturating_sub(cost);
        tail_start -= 1;
    }

    let omitted: usize = units[head_len..tail_start].iter().map(Vec::len).sum();
    let mut kept = Vec::new();
    for (index, unit) in units.into_iter().enumerate() {
        if index == head_len && omitted > 0 {
            kept.push(Message::text(Role::System, omission_notice(omitted)));
        }
        if index < head_len || index >= tail_start {
            kept.extend(unit);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::{EventId, InvocationId, SessionId};
    use pretty_assertions::assert_eq;
    use std::path::PathBuf;

    fn events(kinds: Vec<EventKind>) -> Vec<Event> {
        let session_id = SessionId::new();
        let invocation_id = InvocationId::new();
        let mut parent = None;
        kinds
            .into_iter()
            .enumerate()
            .map(|(index, kind)| {
                let id = EventId::new();
                let event = Event {
                    id,
                    session_id,
                    parent_id: parent,
                    invocation_id,
                    created_at_ms: index as i64,
                    kind,
                };
                parent = Some(id);
                event
            })
            .collect()
    }

    fn workspace() -> Workspace {
        Workspace {
            directory: PathBuf::from("/home/ada/src/engine/src"),
            git_root: Some(PathBuf::from("/home/ada/src/engine")),
            git_branch: Some("main".into()),
        }
    }

    fn user(text: &str) -> EventKind {
        EventKind::UserMessage { text: text.into() }
    }

    fn assistant(text: &str) -> EventKind {
        EventKind::AssistantMessage {
            text: text.into(),
            usage: None,
            interrupted: false,
            model: None,
        }
    }

    #[test]
    fn system_prompt_names_cairn_and_the_workspace() {
        let request = build_request(&[], &workspace(), "m", None, 100_000, "2025-06-01");
        let os = std::env::consts::OS;
        assert_eq!(
            request.system,
            format!(
                "You are Cairn, an assistant in the user's terminal. Answer concisely; use \
                 Markdown with fenced code blocks for code. The user is working in the \
                 directory below.\n\nDirectory: /home/ada/src/engine/src\nGit repository \
                 root: /home/ada/src/engine\nGit branch: main\nOperating system: {os}\n\
                 Today's date: 2025-06-01\n"
            )
        );
        assert_eq!(request.model, "m");
        assert_eq!(request.messages, vec![]);
    }

    #[test]
    fn notes_and_errors_are_not_sent_and_the_boundary_is_a_system_message() {
        let events = events(vec![
            user("first"),
            assistant("answer"),
            EventKind::Note {
                text: "resumed".into(),
            },
            EventKind::SystemContext {
                text: "The user came back after 3 hours.".into(),
            },
            EventKind::Error {
                message: "boom".into(),
            },
            user("second"),
            EventKind::AssistantMessage {
                text: "partial ans".into(),
                usage: None,
                interrupted: true,
                model: None,
            },
            EventKind::AssistantMessage {
                text: String::new(),
                usage: None,
                interrupted: true,
                model: None,
            },
        ]);
        let request = build_request(&events, &workspace(), "m", Some(1000), 100_000, "d");
        assert_eq!(
            request.messages,
            vec![
                Message::text(Role::User, "first"),
                Message::text(Role::Assistant, "answer"),
                Message::text(Role::System, "The user came back after 3 hours."),
                Message::text(Role::User, "second"),
                Message::text(Role::Assistant, "partial ans"),
            ]
        );
        assert_eq!(request.max_output_tokens, Some(1000));
    }

    #[test]
    fn tool_calls_join_the_assistant_message_and_results_follow() {
        let events = events(vec![
            user("list files"),
            assistant("Let me look."),
            EventKind::ToolCall {
                call_id: "c1".into(),
                name: "ls".into(),
                arguments: "{}".into(),
            },
            EventKind::ToolCall {
                call_id: "c2".into(),
                name: "pwd".into(),
                arguments: "{}".into(),
            },
            EventKind::ToolResult {
                call_id: "c1".into(),
                output: "a.rs".into(),
                is_error: false,
            },
            EventKind::ToolResult {
                call_id: "c2".into(),
                output: "/x".into(),
                is_error: true,
            },
            assistant("One file."),
        ]);
        let request = build_request(&events, &workspace(), "m", None, 100_000, "d");
        assert_eq!(
            request.messages,
            vec![
                Message::text(Role::User, "list files"),
                Message {
                    role: Role::Assistant,
                    parts: vec![
                        Part::Text {
                            text: "Let me look.".into()
                        },
                        Part::ToolCall {
                            call_id: "c1".into(),
                            name: "ls".into(),
                            arguments: "{}".into()
                        },
                        Part::ToolCall {
                            call_id: "c2".into(),
                            name: "pwd".into(),
                            arguments: "{}".into()
                        },
                    ],
                },
                Message {
                    role: Role::User,
                    parts: vec![
                        Part::ToolResult {
                            call_id: "c1".into(),
                            output: "a.rs".into(),
                            is_error: false
                        },
                        Part::ToolResult {
                            call_id: "c2".into(),
                            output: "/x".into(),
                            is_error: true
                        },
                    ],
                },
                Message::text(Role::Assistant, "One file."),
            ]
        );
    }

    /// 400 characters: 100 tokens of text, 104 with the message overhead.
    fn long(tag: &str) -> String {
        format!("{tag}{}", "x".repeat(400 - tag.len()))
    }

    #[test]
    fn over_budget_keeps_first_exchange_recent_messages_and_one_notice() {
        let mut kinds = Vec::new();
        for turn in 0..10 {
            kinds.push(user(&long(&format!("q{turn}"))));
            kinds.push(assistant(&long(&format!("a{turn}"))));
        }
        kinds.push(user("latest"));
        let events = events(kinds);
        let system_tokens = estimate_text_tokens(&system_prompt(&workspace(), "d"));
        // Room for the first exchange (2 x 104), the notice (~25) and four more messages
        // (4 x 104) plus the short latest one.
        let window = system_tokens + 1000 + 2 * 104 + 25 + 4 * 104 + 10 + 20;
        let request = build_request(&events, &workspace(), "m", Some(1000), window, "d");
        let texts: Vec<String> = request
            .messages
            .iter()
            .map(|message| match &message.parts[..] {
                [Part::Text { text }] => {
                    format!("{:?}:{}", message.role, &text[..text.len().min(2)])
                }
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                "User:q0",
                "Assistant:a0",
                "System:[C",
                "User:q8",
                "Assistant:a8",
                "User:q9",
                "Assistant:a9",
                "User:la",
            ]
        );
        assert_eq!(
            request.messages[2],
            Message::text(
                Role::System,
                "[Cairn: 14 earlier messages were omitted to fit the model's context window]"
            )
        );
    }

    #[test]
    fn budgeting_never_splits_a_tool_call_from_its_result() {
        let call = |id: &str| EventKind::ToolCall {
            call_id: id.into(),
            name: "read".into(),
            arguments: long("{"),
        };
        let result = |id: &str| EventKind::ToolResult {
            call_id: id.into(),
            output: long("r"),
            is_error: false,
        };
        let events = events(vec![
            user("first"),
            assistant("ok"),
            user(&long("q1")),
            call("c1"),
            result("c1"),
            call("c2"),
            result("c2"),
            assistant("done"),
            user("latest"),
        ]);
        let system_tokens = estimate_text_tokens(&system_prompt(&workspace(), "d"));
        // Fits the first exchange, the notice, "done", "latest" and one tool message but not
        // the call + result pair (~2 x 108): the pair must go as a whole.
        let window = system_tokens + 100 + 20 + 30 + 10 + 10 + 150;
        let request = build_request(&events, &workspace(), "m", Some(100), window, "d");
        assert_eq!(
            request.messages,
            vec![
                Message::text(Role::User, "first"),
                Message::text(Role::Assistant, "ok"),
                Message::text(
                    Role::System,
                    "[Cairn: 5 earlier messages were omitted to fit the model's context window]"
                ),
                Message::text(Role::Assistant, "done"),
                Message::text(Role::User, "latest"),
            ]
        );
    }

    #[test]
    fn a_huge_first_exchange_is_dropped_before_the_latest_question() {
        let events = events(vec![
            user(&long("q0").repeat(10)),
            assistant("a0"),
            user("q1"),
            assistant("a1"),
            user("latest"),
        ]);
        let request = build_request(&events, &workspace(), "m", Some(10), 400, "d");
        assert_eq!(
            request.messages,
            vec![
                Message::text(
                    Role::System,
                    "[Cairn: 1 earlier message was omitted to fit the model's context window]"
                ),
                Message::text(Role::Assistant, "a0"),
                Message::text(Role::User, "q1"),
                Message::text(Role::Assistant, "a1"),
                Message::text(Role::User, "latest"),
            ]
        );
    }
}
