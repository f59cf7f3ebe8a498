//! Checking an automatic title once, after a few more turns: the model either keeps it
//! (`SAME`) or names what the conversation has moved on to. Only a title the model made and
//! nobody checked ([`TitleSource::Model`](super::TitleSource::Model)) is checked; the
//! result, kept or not, is stored as [`TitleSource::Refreshed`](super::TitleSource::Refreshed),
//! so it happens at most once per session, and a title the user set is never touched.

use crate::event::{Event, EventKind};
use crate::provider::{ModelProvider, ModelRequest, ProviderError, after_thinking, reply_text};

use super::{MAX_REPLY_BYTES, TitleInput, clean_generated_title, naming_request, quote};

/// Messages on the branch (questions and complete answers) after which the title is checked:
/// four exchanges, three after the one the title was made from.
pub const REFRESH_AFTER_MESSAGES: usize = 8;

/// Starts like the title request (a server or a log can tell both apart from the
/// conversation the same way).
const REFRESH_INSTRUCTIONS: &str = "You name conversations. The conversation below was given \
a title after its first exchange. Read its latest exchange. If the title still says what the \
conversation is about, reply with the single word SAME. If the topic has moved on, reply with \
a new title of three to six words: the title only, no quotes, no trailing punctuation, no \
explanation.";

/// What the model said of the title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TitleRefresh {
    /// The title still fits.
    Same,
    /// A new title, cleaned as [`clean_generated_title`] cleans one.
    Retitle(String),
}

/// The latest exchange to check the title against, when `branch` (oldest first) has just
/// received a complete answer and holds at least [`REFRESH_AFTER_MESSAGES`] messages. The
/// caller asks only for a title of source `Model`, and only once.
pub fn refresh_input(branch: &[Event]) -> Option<TitleInput> {
    let mut messages = 0;
    let mut question: Option<&String> = None;
    let mut answer: Option<&String> = None;
    for event in branch {
        match &event.kind {
            EventKind::UserMessage { text } => {
                messages += 1;
                question = Some(text);
                answer = None;
            }
            EventKind::AssistantMessage {
                text, interrupted, ..
            } => {
                if *interrupted {
                    answer = None;
                } else {
                    messages += 1;
                    answer = Some(text);
                }
            }
            EventKind::ToolCall { .. }
            | EventKind::ToolResult { .. }
            | EventKind::ToolDecision { .. }
            | EventKind::Note { .. }
            | EventKind::SystemContext { .. }
            | EventKind::Summary { .. }
            | EventKind::Error { .. } => {}
        }
    }
    // The branch must end on the answer: a later question or error means the turn is over.
    let ends_on_answer = branch.last().is_some_and(|event| {
        matches!(&event.kind, EventKind::AssistantMessage { interrupted, .. } if !interrupted)
    });
    if messages < REFRESH_AFTER_MESSAGES || !ends_on_answer {
        return None;
    }
    let answer = answer.filter(|text| !text.trim().is_empty())?;
    Some(TitleInput {
        question: question?.clone(),
        answer: answer.clone(),
    })
}

/// The request that asks `model` whether `title` still fits `latest`: one system prompt and
/// one user turn, which any chat template accepts.
pub fn refresh_request(latest: &TitleInput, title: &str, model: &str) -> ModelRequest {
    let question = quote(&latest.question);
    let answer = quote(&latest.answer);
    naming_request(
        REFRESH_INSTRUCTIONS,
        format!(
            "<title>\n{}\n</title>\n<latest-question>\n{question}\n</latest-question>\n\
             <latest-answer>\n{answer}\n</latest-answer>",
            quote(title)
        ),
        model,
    )
}

/// Asks `provider` with `request` (see [`refresh_request`]); `Ok(None)` when the reply has
/// nothing usable.
pub async fn generate_refresh(
    provider: &dyn ModelProvider,
    request: ModelRequest,
) -> Result<Option<TitleRefresh>, ProviderError> {
    let reply = reply_text(provider, request, MAX_REPLY_BYTES).await?;
    Ok(parse_refresh_reply(&reply))
}

/// `SAME` (in any case, with or without quotes or a full stop) keeps the title; anything
/// else is read as a title; nothing usable is `None`.
pub fn parse_refresh_reply(reply: &str) -> Option<TitleRefresh> {
    let title = clean_generated_title(after_thinking(reply))?;
    if title.eq_ignore_ascii_case("same") {
        Some(TitleRefresh::Same)
    } else {
        Some(TitleRefresh::Retitle(title))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::turn::check_strict_shape;
    use crate::{EventId, InvocationId, SessionId};
    use pretty_assertions::assert_eq;

    fn branch(kinds: Vec<EventKind>) -> Vec<Event> {
        let session_id = SessionId::new();
        let invocation_id = InvocationId::new();
        let mut parent = None;
        kinds
            .into_iter()
            .enumerate()
            .map(|(index, kind)| {
                let event = Event {
                    id: EventId::new(),
                    session_id,
                    parent_id: parent,
                    invocation_id,
                    created_at_ms: index as i64,
                    kind,
                };
                parent = Some(event.id);
                event
            })
            .collect()
    }

    fn exchanges(count: usize) -> Vec<EventKind> {
        (0..count)
            .flat_map(|n| {
                [
                    EventKind::UserMessage {
                        text: format!("question {n}"),
                    },
                    EventKind::AssistantMessage {
                        text: format!("answer {n}"),
                        usage: None,
                        interrupted: false,
                        model: None,
                    },
                ]
            })
            .collect()
    }

    #[test]
    fn the_title_is_checked_after_four_complete_exchanges_on_the_latest_one() {
        assert_eq!(refresh_input(&branch(exchanges(3))), None);
        assert_eq!(
            refresh_input(&branch(exchanges(4))),
            Some(TitleInput {
                question: "question 3".to_owned(),
                answer: "answer 3".to_owned(),
            })
        );
        // Not while a question waits for its answer.
        let mut waiting = exchanges(4);
        waiting.push(EventKind::UserMessage {
            text: "question 4".to_owned(),
        });
        assert_eq!(refresh_input(&branch(waiting)), None);
        // An interrupted answer is no exchange.
        let mut cut = exchanges(3);
        cut.push(EventKind::UserMessage {
            text: "question 3".to_owned(),
        });
        cut.push(EventKind::AssistantMessage {
            text: "half an ans".to_owned(),
            usage: None,
            interrupted: true,
            model: None,
        });
        assert_eq!(refresh_input(&branch(cut)), None);
    }

    #[test]
    fn the_reply_keeps_the_title_or_names_a_new_one() {
        assert_eq!(parse_refresh_reply("SAME"), Some(TitleRefresh::Same));
        assert_eq!(
            parse_refresh_reply(" \"same.\"\n"),
            Some(TitleRefresh::Same)
        );
        assert_eq!(
            parse_refresh_reply("<think>moved</think>Title: Release \x1b]0;x\x07checklist."),
            Some(TitleRefresh::Retitle("Release ]0;x checklist".to_owned()))
        );
        assert_eq!(parse_refresh_reply("  \n"), None);
    }

    #[test]
    fn the_request_is_one_system_prompt_and_one_user_turn() {
        let request = refresh_request(
            &TitleInput {
                question: "and the release?".to_owned(),
                answer: "tag it".to_owned(),
            },
            "Fixing the build",
            "m",
        );
        assert!(request.system.starts_with("You name conversations"));
        assert_eq!(request.messages.len(), 1);
        assert!(check_strict_shape(&request).is_ok());
        assert!(request.tools.is_empty());
    }
}
