//! Turning a session's events into a dialect-neutral [`ModelRequest`].
//!
//! The shape of every request is the one the strictest chat templates accept (many
//! open-weight models served by llama.cpp, Ollama or vLLM raise on anything else):
//! - one system prompt, first, and no system message after it: context notes (the resume
//!   boundary) are folded into the user turn that follows them, and the notice about omitted
//!   history into the system prompt;
//! - then user and assistant strictly alternating, starting with a user turn;
//! - tool calls ride on the assistant message they belong to, and the user message right
//!   after it holds a result for every one of them (a call left without one, by a crash, gets
//!   a result saying it was not run); tool results are `Role::User` messages whose
//!   `Part::ToolResult`s the dialects regroup as they require.
//!
//! Further invariants:
//! - Notes and errors never reach the model; everything else does, in chain order.
//! - An interrupted assistant message is sent with the partial text that arrived (an empty
//!   one is skipped: providers reject empty assistant turns).
//! - Budgeting never separates a tool call from its results: a message holding tool results
//!   is always kept or dropped together with the message before it.
//! - A summary (see `summarised`) replaces the events it stands for: the model gets the
//!   summary as the first user turn, then the events after it. Older events stay stored.
//! - When the history does not fit, the first exchange (or the summary) and the most recent
//!   messages are kept and the system prompt says how many were omitted; a summary too long
//!   to sit beside the latest question is dropped like a first exchange would be.
//!
//! Token counts are estimates: about four characters per token (the usual rule of thumb for
//! English text with BPE tokenizers) plus a small per-message overhead for the role and
//! framing. That errs on the generous side for code, which is fine for a budget.

use crate::event::{Event, EventKind};
use crate::provider::{Message, ModelRequest, Part, Role};
use crate::workspace::Workspace;

mod summarised;

pub use summarised::SUMMARY_HEADING;

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
    let mut system = system_prompt(workspace, today);
    let messages = history_messages(events);
    let output_reserve = max_output_tokens
        .map(u64::from)
        .unwrap_or_else(|| DEFAULT_OUTPUT_RESERVE.min(context_window / 4));
    let budget = context_window
        .saturating_sub(output_reserve)
        .saturating_sub(estimate_text_tokens(&system));
    let (messages, omitted) = fit_to_budget(messages, budget);
    if omitted > 0 {
        system.push('\n');
        system.push_str(&omission_notice(omitted));
        system.push('\n');
    }
    ModelRequest {
        model: model.to_owned(),
        system,
        messages: alternate_roles(messages),
        max_output_tokens,
        // Declared by the front end that can run them (see `turn::tools`).
        tools: Vec::new(),
    }
}

/// The messages `events` become before budgeting: the newest summary and what follows it, or
/// the whole history.
fn history_messages(events: &[Event]) -> Vec<Message> {
    match summarised::split_at_summary(events) {
        Some((summary, later)) => {
            let mut messages = vec![summarised::summary_message(summary)];
            messages.extend(messages_from_events(later));
            messages
        }
        None => messages_from_events(events),
    }
}

/// Estimated tokens of the history the next request would send, before any budgeting.
pub fn estimate_history_tokens(events: &[Event]) -> u64 {
    history_messages(events)
        .iter()
        .map(estimate_message_tokens)
        .sum()
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

/// Maps events to neutral messages, in order. Roles may repeat here (two user messages when
/// an answer failed between them); [`alternate_roles`] merges them once budgeting is done.
fn messages_from_events(events: &[Event]) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    // Calls of the latest assistant message still waiting for their result.
    let mut unanswered: Vec<String> = Vec::new();
    for event in events {
        let answers_a_call = matches!(
            &event.kind,
            EventKind::ToolResult { .. } | EventKind::ToolCall { .. }
        );
        if !answers_a_call && event.kind.goes_to_model() {
            answer_unanswered(&mut messages, &mut unanswered);
        }
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
                if messages.last().is_some_and(is_tool_results) {
                    // A call after results belongs to a new assistant step.
                    answer_unanswered(&mut messages, &mut unanswered);
                }
                unanswered.push(call_id.clone());
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
                let Some(position) = unanswered.iter().position(|id| id == call_id) else {
                    // A result for no call we sent would be rejected; it is not sent.
                    continue;
                };
                unanswered.remove(position);
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
            // Joins the user turn that follows in `alternate_roles`.
            EventKind::SystemContext { text } => messages.push(Message {
                role: Role::User,
                parts: vec![Part::Context { text: text.clone() }],
            }),
            // Older summaries stand for events the newest one covers too.
            EventKind::Summary { .. }
            | EventKind::ToolDecision { .. }
            | EventKind::Note { .. }
            | EventKind::Error { .. } => {}
        }
    }
    answer_unanswered(&mut messages, &mut unanswered);
    messages
}

/// Gives every call in `unanswered` a result saying it was not run (the answer was cut off,
/// or Cairn stopped, before it ran): providers reject a call without a result.
fn answer_unanswered(messages: &mut Vec<Message>, unanswered: &mut Vec<String>) {
    if unanswered.is_empty() {
        return;
    }
    let parts = unanswered.drain(..).map(|call_id| Part::ToolResult {
        call_id,
        output: UNANSWERED_CALL_RESULT.to_owned(),
        is_error: true,
    });
    match messages.last_mut() {
        Some(last) if is_tool_results(last) => last.parts.extend(parts),
        _ => messages.push(Message {
            role: Role::User,
            parts: parts.collect(),
        }),
    }
}

/// The result sent for a tool call that has none in the session.
pub const UNANSWERED_CALL_RESULT: &str = "This tool call was interrupted and was not run.";

/// Merges neighbours of the same role and drops what comes before the first user text (an
/// answer whose question is gone, with its tool results), so the messages alternate
/// user/assistant starting with the user, as strict chat templates demand.
fn alternate_roles(messages: Vec<Message>) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    for message in messages {
        if out.is_empty() && !has_user_text(&message) {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == message.role => merge_into(last, message),
            _ => out.push(message),
        }
    }
    out
}

/// Appends `next`'s parts to `last`, each text its own part; tool results stay before any
/// text, as the OpenAI dialect sends them as messages of their own first.
fn merge_into(last: &mut Message, next: Message) {
    for part in next.parts {
        if last.role == Role::User && matches!(part, Part::ToolResult { .. }) {
            let position = last
                .parts
                .iter()
                .position(|part| !matches!(part, Part::ToolResult { .. }))
                .unwrap_or(last.parts.len());
            last.parts.insert(position, part);
        } else {
            last.parts.push(part);
        }
    }
}

fn is_tool_results(message: &Message) -> bool {
    message.role == Role::User
        && !message.parts.is_empty()
        && message
            .parts
            .iter()
            .all(|part| matches!(part, Part::ToolResult { .. }))
}

/// A user turn with words in it (the user's or a context note), not only tool results.
fn has_user_text(message: &Message) -> bool {
    message.role == Role::User
        && message
            .parts
            .iter()
            .any(|part| matches!(part, Part::Text { .. } | Part::Context { .. }))
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
            Part::Text { text } | Part::Context { text } => estimate_text_tokens(text),
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

/// The line of the system prompt that says history was dropped.
pub fn omission_notice(omitted: usize) -> String {
    let noun = if omitted == 1 {
        "message was"
    } else {
        "messages were"
    };
    format!("[Cairn: {omitted} earlier {noun} omitted to fit the model's context window]")
}

/// Keeps the first exchange and as many recent messages as fit in `budget` tokens; returns
/// them with the number of messages left out. The kept recent part always starts with a
/// user turn, so no answer is sent without its question.
fn fit_to_budget(messages: Vec<Message>, budget: u64) -> (Vec<Message>, usize) {
    let total: u64 = messages.iter().map(estimate_message_tokens).sum();
    if total <= budget {
        return (messages, 0);
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
    let opens_with_user_text = |unit: &Vec<Message>| unit.first().is_some_and(has_user_text);

    // The first exchange runs up to (not including) the second unit that opens with user text.
    let head_len = units
        .iter()
        .enumerate()
        .filter(|(_, unit)| opens_with_user_text(unit))
        .nth(1)
        .map(|(index, _)| index)
        .unwrap_or(units.len());
    // A reserve for the notice in the system prompt (its count has at most a few digits).
    let notice_tokens = estimate_text_tokens(&omission_notice(usize::MAX)) + 1;

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
    // Never open the kept part with an answer whose question was dropped.
    while tail_start < units.len().saturating_sub(1)
        && tail_start > head_len
        && !opens_with_user_text(&units[tail_start])
    {
        tail_start += 1;
    }

    let omitted: usize = units[head_len..tail_start].iter().map(Vec::len).sum();
    let kept = units
        .into_iter()
        .enumerate()
        .filter(|(index, _)| *index < head_len || *index >= tail_start)
        .flat_map(|(_, unit)| unit)
        .collect();
    (kept, omitted)
}

/// The strict shape every built request keeps (see the module documentation), checked the
/// way a strict chat template would: `Err` names the first violation. Front ends and tests
/// use it to prove a history replays on any provider.
pub fn check_strict_shape(request: &ModelRequest) -> Result<(), String> {
    let mut pending_calls: Vec<&str> = Vec::new();
    for (index, message) in request.messages.iter().enumerate() {
        let expected = if index % 2 == 0 {
            Role::User
        } else {
            Role::Assistant
        };
        if message.role != expected {
            return Err(format!(
                "message {index} is {:?} where {expected:?} must come (roles must alternate, starting with the user)",
                message.role
            ));
        }
        if message.parts.is_empty() {
            return Err(format!("message {index} is empty"));
        }
        for part in &message.parts {
            match part {
                Part::Text { text } | Part::Context { text } if text.is_empty() => {
                    return Err(format!("message {index} has an empty text"));
                }
                Part::Text { .. } => {}
                Part::Context { .. } => {
                    if message.role != Role::User {
                        return Err(format!("message {index}: context outside a user turn"));
                    }
                }
                Part::ToolCall { call_id, .. } => {
                    if message.role != Role::Assistant {
                        return Err(format!("message {index}: a tool call outside an answer"));
                    }
                    pending_calls.push(call_id);
                }
                Part::ToolResult { call_id, .. } => {
                    if message.role != Role::User {
                        return Err(format!(
                            "message {index}: a tool result outside a user turn"
                        ));
                    }
                    let Some(position) = pending_calls.iter().position(|id| id == call_id) else {
                        return Err(format!(
                            "message {index}: result for {call_id}, which the answer before did not call"
                        ));
                    };
                    pending_calls.remove(position);
                }
            }
        }
        if message.role == Role::User && !pending_calls.is_empty() {
            return Err(format!(
                "message {index}: no result for tool call(s) {}",
                pending_calls.join(", ")
            ));
        }
    }
    if !pending_calls.is_empty() {
        return Err(format!(
            "the last answer's tool call(s) {} have no result",
            pending_calls.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
