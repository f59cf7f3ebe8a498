//! Compaction, the same for both front ends: what a summary covers ([`summary_input`]), what
//! to ask the model ([`summary_request`]), what to keep of its reply ([`clean_summary`]),
//! the offline stand-in ([`local_summary`]) and when to compact on our own
//! ([`compaction_due`]).
//!
//! Invariants: compaction deletes nothing. A summary is one more event on the branch
//! ([`EventKind::Summary`]) naming the last event it stands for; the request builder sends the
//! summary instead of those events, which stay stored, shown, exported and searchable. A
//! question still waiting for its answer is never folded into a summary: the model must
//! still see it as the user's latest turn.

use crate::event::{Continuation, Event, EventKind};
use crate::ids::EventId;
use crate::provider::{
    Message, ModelProvider, ModelRequest, ProviderError, Role, after_thinking, reply_text,
};
use crate::text::neutralize_controls;
use crate::turn::estimate_history_tokens;

/// The share of the context window a request may fill before the chat compacts first.
pub const DEFAULT_COMPACT_AT: f64 = 0.8;

/// Tokens the model may spend on a summary.
const SUMMARY_MAX_OUTPUT_TOKENS: u32 = 2_000;

/// The most of one message the summary request quotes, in characters: a long tool output
/// says what it is in its first lines.
const QUOTED_CHARS: usize = 2_000;

/// The most of a summary reply that is read and kept, in bytes.
const MAX_SUMMARY_BYTES: usize = 32 * 1024;

const SUMMARY_INSTRUCTIONS: &str = "You condense conversations between a user and an \
assistant working in the user's terminal, so the conversation can go on without them. Write \
a summary that lets the assistant continue as if it had read everything: what the user asked \
for, what was decided and why, what was produced (code, files, answers), the files, commands \
and names that were mentioned, and the questions still open. Use short Markdown bullet \
points under those headings. Leave out greetings and anything not needed to go on. Reply with \
the summary only.";

/// What a summary is made of: the previous summary (if any) and the messages after it, up to
/// and including `through`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryInput {
    /// The conversation to summarise, as plain text with one labelled block per message.
    pub conversation: String,
    /// The last event the summary stands for.
    pub through: EventId,
    /// How many messages of the branch, from its start, the summary stands for.
    pub messages: u64,
    /// The first lines of the user's questions it covers, for the offline stand-in.
    questions: Vec<String>,
}

/// What a summary of `branch` (oldest first) would cover; `None` when nothing new would be
/// summarised (no message since the newest summary). A trailing question without an answer
/// is left out, so it is still sent in full.
pub fn summary_input(branch: &[Event]) -> Option<SummaryInput> {
    let mut end = branch.len();
    // Skip back over what follows the last turn that goes to the model, then over a
    // trailing unanswered question.
    while end > 0 && !branch[end - 1].kind.goes_to_model() {
        end -= 1;
    }
    if end > 0 && matches!(branch[end - 1].kind, EventKind::UserMessage { .. }) {
        end -= 1;
    }
    let covered = &branch[..end];
    let through = covered.last()?.id;
    // A summary carrying another session forward stands for that session: it counts here.
    let previous = covered.iter().rposition(|event| {
        matches!(&event.kind, EventKind::Summary { through, continued_from, .. }
            if continued_from.is_some() || covered.iter().any(|covered| covered.id == *through))
    });
    let (mut conversation, start) = match previous {
        Some(index) => match &covered[index].kind {
            EventKind::Summary { text, .. } => (
                format!(
                    "[Summary of the conversation before this point]\n{}\n\n",
                    text.trim()
                ),
                index + 1,
            ),
            _ => (String::new(), 0),
        },
        None => (String::new(), 0),
    };
    let mut questions = Vec::new();
    let mut new_messages = 0;
    for event in &covered[start..] {
        let block = match &event.kind {
            EventKind::UserMessage { text } => {
                new_messages += 1;
                questions.push(text.lines().next().unwrap_or_default().trim().to_owned());
                format!("[User]\n{}", quote(text))
            }
            EventKind::AssistantMessage { text, .. } => {
                new_messages += 1;
                format!("[Assistant]\n{}", quote(text))
            }
            EventKind::ToolCall {
                name, arguments, ..
            } => format!("[Tool call] {name} {}", quote(arguments)),
            EventKind::ToolResult { output, .. } => format!("[Tool result]\n{}", quote(output)),
            EventKind::ToolDecision { .. }
            | EventKind::Note { .. }
            | EventKind::SystemContext { .. }
            | EventKind::Summary { .. }
            | EventKind::Error { .. } => continue,
        };
        conversation.push_str(&block);
        conversation.push_str("\n\n");
    }
    if new_messages == 0 {
        return None;
    }
    let messages = covered
        .iter()
        .filter(|event| event.kind.is_message())
        .count() as u64;
    Some(SummaryInput {
        conversation,
        through,
        messages,
        questions,
    })
}

/// The request that asks `model` for a summary of `input`, with the user's optional
/// `instructions` ("keep the SQL"): one system prompt and one user turn, which any chat
/// template accepts. The quoted conversation is cut from its start to fit `context_window`.
pub fn summary_request(
    input: &SummaryInput,
    instructions: Option<&str>,
    model: &str,
    context_window: u64,
) -> ModelRequest {
    let mut ask = String::from("Summarise the conversation above.");
    if let Some(instructions) = instructions.map(str::trim).filter(|text| !text.is_empty()) {
        ask.push_str(&format!(" The user adds: {instructions}"));
    }
    // About four characters a token, with room for the instructions and the reply.
    let room = context_window
        .saturating_sub(u64::from(SUMMARY_MAX_OUTPUT_TOKENS) + 512)
        .saturating_mul(4);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    let conversation = &input.conversation;
    let conversation = match conversation.char_indices().rev().nth(room) {
        Some((start, _)) => format!("[…the start is cut…]\n{}", &conversation[start..]),
        None => conversation.clone(),
    };
    ModelRequest {
        model: model.to_owned(),
        system: SUMMARY_INSTRUCTIONS.to_owned(),
        messages: vec![Message::text(
            Role::User,
            format!(
                "<conversation>\n{}\n</conversation>\n\n{ask}",
                conversation.trim_end()
            ),
        )],
        max_output_tokens: Some(SUMMARY_MAX_OUTPUT_TOKENS),
        // A summary needs no tools.
        tools: Vec::new(),
    }
}

/// Asks `provider` for a summary with `request` (see [`summary_request`]) and cleans the
/// reply; `Ok(None)` when the reply has nothing usable.
pub async fn generate_summary(
    provider: &dyn ModelProvider,
    request: ModelRequest,
) -> Result<Option<String>, ProviderError> {
    let reply = reply_text(provider, request, MAX_SUMMARY_BYTES).await?;
    Ok(clean_summary(&reply))
}

/// What to keep of the model's reply: without a reasoning model's `<think>` block, control
/// characters neutralised, at most [`MAX_SUMMARY_BYTES`]; `None` when no words are left.
pub fn clean_summary(reply: &str) -> Option<String> {
    let reply = after_thinking(reply);
    let mut text = neutralize_controls(reply.trim());
    if text.len() > MAX_SUMMARY_BYTES {
        let mut end = MAX_SUMMARY_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text.chars().any(char::is_alphanumeric).then_some(text)
}

/// The summary made without a model (the offline echo provider cannot write one): the
/// user's questions, first line each, so the model still knows what was asked.
pub fn local_summary(input: &SummaryInput) -> String {
    let mut text = String::from(
        "Offline summary (no model wrote it): the earlier messages are condensed to the \
         user's questions.\n",
    );
    if input
        .conversation
        .starts_with("[Summary of the conversation before this point]")
    {
        text.push_str("- (an earlier summary came before these)\n");
    }
    for question in &input.questions {
        text.push_str(&format!(
            "- Asked: {}\n",
            neutralize_controls(&quote_line(question))
        ));
    }
    text
}

/// Summarises `branch` with `provider` in one go (or, for the offline echo provider, from the
/// questions), for a front end that can wait for it (`cairn run`): the summary event to push,
/// `None` when there is nothing to summarise or the model's reply had nothing usable.
pub async fn summarise(
    provider: &dyn ModelProvider,
    branch: &[Event],
    instructions: Option<&str>,
    model: &str,
) -> Result<Option<EventKind>, ProviderError> {
    let Some(input) = summary_input(branch) else {
        return Ok(None);
    };
    let text = if provider.info().offline {
        Some(local_summary(&input))
    } else {
        let request = summary_request(&input, instructions, model, provider.context_window());
        generate_summary(provider, request).await?
    };
    Ok(text.map(|text| summary_event(&input, text)))
}

/// The event that stores `text` as the summary of `input`.
pub fn summary_event(input: &SummaryInput, text: String) -> EventKind {
    EventKind::Summary {
        text,
        through: input.through,
        messages: input.messages,
        continued_from: None,
    }
}

/// The first event of a session that carries `from` forward (`/new --summary`): `text`, the
/// summary of `input` (made from `from`'s branch), standing for that whole branch.
pub fn continuation_event(input: &SummaryInput, text: String, from: Continuation) -> EventKind {
    EventKind::Summary {
        text,
        through: input.through,
        messages: input.messages,
        continued_from: Some(from),
    }
}

/// The line a transcript shows where a session continues another one:
/// `continued from <short id> · <title>`, with nothing in it a terminal would act on.
pub fn continuation_line(from: &Continuation) -> String {
    let title = neutralize_controls(&from.title)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let id = from.session_id.short();
    if title.is_empty() {
        format!("continued from {id}")
    } else {
        format!("continued from {id} · {title}")
    }
}

/// Whether the history of `branch` (what the next request would send of it) fills more than
/// `compact_at` of `context_window`, so it should be compacted first. `compact_at` of `0` (or
/// anything not above it) turns automatic compaction off.
pub fn compaction_due(branch: &[Event], context_window: u64, compact_at: f64) -> bool {
    if compact_at <= 0.0 || context_window == 0 {
        return false;
    }
    // Whole tokens; precision beyond that is noise in an estimate.
    let threshold = (context_window as f64 * compact_at.min(1.0)) as u64;
    estimate_history_tokens(branch) > threshold
}

/// What the model is told where the user picked the conversation up again (`ago`: "3 hours
/// ago"), saying so when earlier turns reach it as a summary.
pub fn resume_boundary_text(ago: &str, branch: &[Event]) -> String {
    let mut text = format!(
        "The user has started a new Cairn session in the same conversation. The previous one \
         ended {ago}. Files and state in the workspace may have changed since then."
    );
    if branch
        .iter()
        .any(|event| matches!(event.kind, EventKind::Summary { .. }))
    {
        text.push_str(
            " The earlier part of the conversation is given as a summary: ask the user if a \
             detail it leaves out matters.",
        );
    }
    text
}

fn quote(text: &str) -> &str {
    match text.char_indices().nth(QUOTED_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn quote_line(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
