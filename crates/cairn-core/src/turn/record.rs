//! What a finished turn writes to the session: `answer → events`.
//!
//! Invariants:
//! - The assistant message comes first, then every tool call of the answer in stream order,
//!   then a result for each call, so the request builder puts the calls on the assistant
//!   message and their results right after it (as every provider requires).
//! - A turn that produced nothing and did not complete writes no assistant message; a failed
//!   turn ends with one `Error` event holding the error as the provider gave it.
//! - Calls without an id or name get stable stand-ins (`call_<index>`, `unnamed`), since the
//!   providers refuse a history whose calls and results cannot be paired.

use crate::event::{EventKind, ToolVerdict};
use crate::tool::not_run_result;
use crate::turn::AnswerAccumulator;

/// The result recorded for a tool call while Cairn runs no tools: it keeps the history valid
/// for providers that require a result for every call.
pub const TOOLS_UNAVAILABLE_RESULT: &str =
    "Tools are not available in this version of Cairn; answer without them.";

/// How the answer's stream ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TurnEnd {
    /// The stream finished (or ended cleanly without a finish reason).
    Completed,
    /// The user stopped it (Esc, Ctrl+C, a signal, the terminal closing).
    Cancelled,
    /// The provider failed or the stream broke; the message is the error as shown.
    Failed(String),
}

impl TurnEnd {
    /// Whether the answer is partial.
    pub fn is_interrupted(&self) -> bool {
        match self {
            TurnEnd::Completed => false,
            TurnEnd::Cancelled | TurnEnd::Failed(_) => true,
        }
    }
}

/// A tool call of an answer, with the stand-ins for a missing id or name applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingCall {
    pub call_id: String,
    pub name: String,
    pub arguments: String,
}

/// The events a turn records once its stream has ended, in chain order, for a front end
/// that runs no tools: every call gets [`TOOLS_UNAVAILABLE_RESULT`].
pub fn answer_events(answer: &AnswerAccumulator, end: &TurnEnd, model: &str) -> Vec<EventKind> {
    let calls = pending_calls(answer);
    let mut events = assistant_and_calls(answer, end, model, &calls);
    for call in calls {
        events.push(EventKind::ToolResult {
            call_id: call.call_id,
            output: TOOLS_UNAVAILABLE_RESULT.to_owned(),
            is_error: true,
        });
    }
    push_failure(&mut events, end);
    events
}

/// The events a turn records once its stream has ended, for a front end that runs tools,
/// and the calls it must now decide about and run, in order (then record a decision and a
/// result for each). A call of an answer that did not complete never runs: it is recorded
/// as interrupted, with a result saying so.
pub fn answer_events_with_tools(
    answer: &AnswerAccumulator,
    end: &TurnEnd,
    model: &str,
) -> (Vec<EventKind>, Vec<PendingCall>) {
    let calls = pending_calls(answer);
    let mut events = assistant_and_calls(answer, end, model, &calls);
    if *end == TurnEnd::Completed {
        return (events, calls);
    }
    for call in calls {
        events.extend(interrupted_call_events(call.call_id));
    }
    push_failure(&mut events, end);
    (events, Vec::new())
}

/// What a call that never ran records: its decision and a result saying it was not run.
pub fn interrupted_call_events(call_id: String) -> [EventKind; 2] {
    [
        EventKind::ToolDecision {
            call_id: call_id.clone(),
            decision: ToolVerdict::Interrupted,
            rule: None,
            reason: None,
        },
        EventKind::ToolResult {
            call_id,
            output: not_run_result(ToolVerdict::Interrupted, None, None),
            is_error: true,
        },
    ]
}

fn pending_calls(answer: &AnswerAccumulator) -> Vec<PendingCall> {
    answer
        .tool_calls
        .iter()
        .map(|call| PendingCall {
            call_id: if call.id.is_empty() {
                format!("call_{}", call.index)
            } else {
                call.id.clone()
            },
            name: if call.name.is_empty() {
                "unnamed".to_owned()
            } else {
                call.name.clone()
            },
            arguments: call.arguments.clone(),
        })
        .collect()
}

fn assistant_and_calls(
    answer: &AnswerAccumulator,
    end: &TurnEnd,
    model: &str,
    calls: &[PendingCall],
) -> Vec<EventKind> {
    let mut events = Vec::new();
    let produced = !answer.text.is_empty() || !answer.tool_calls.is_empty();
    if produced || *end == TurnEnd::Completed {
        events.push(EventKind::AssistantMessage {
            text: answer.text.clone(),
            usage: answer.usage,
            interrupted: end.is_interrupted(),
            model: Some(model.to_owned()),
        });
    }
    for call in calls {
        events.push(EventKind::ToolCall {
            call_id: call.call_id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
        });
    }
    events
}

fn push_failure(events: &mut Vec<EventKind>, end: &TurnEnd) {
    if let TurnEnd::Failed(message) = end {
        events.push(EventKind::Error {
            message: message.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::TokenUsage;
    use crate::provider::{FinishReason, StreamEvent};
    use pretty_assertions::assert_eq;

    fn folded(events: &[StreamEvent]) -> AnswerAccumulator {
        let mut answer = AnswerAccumulator::new();
        for event in events {
            answer.push(event);
        }
        answer
    }

    fn call_delta(index: u32, id: &str, name: &str, arguments: &str) -> StreamEvent {
        StreamEvent::ToolCallDelta {
            index,
            id: (!id.is_empty()).then(|| id.to_owned()),
            name: (!name.is_empty()).then(|| name.to_owned()),
            arguments: arguments.to_owned(),
        }
    }

    fn assistant(text: &str, interrupted: bool, usage: Option<TokenUsage>) -> EventKind {
        EventKind::AssistantMessage {
            text: text.into(),
            usage,
            interrupted,
            model: Some("m".into()),
        }
    }

    fn unavailable(call_id: &str) -> EventKind {
        EventKind::ToolResult {
            call_id: call_id.into(),
            output: TOOLS_UNAVAILABLE_RESULT.into(),
            is_error: true,
        }
    }

    #[test]
    fn a_completed_text_answer_is_one_assistant_message() {
        let usage = TokenUsage {
            input_tokens: 3,
            output_tokens: 4,
        };
        let answer = folded(&[
            StreamEvent::TextDelta("Hel".into()),
            StreamEvent::TextDelta("lo".into()),
            StreamEvent::Usage(usage),
            StreamEvent::Finished(FinishReason::Stop),
        ]);
        assert_eq!(
            answer_events(&answer, &TurnEnd::Completed, "m"),
            vec![assistant("Hello", false, Some(usage))]
        );
    }

    #[test]
    fn parallel_calls_follow_the_answer_each_with_a_result() {
        let answer = folded(&[
            StreamEvent::TextDelta("Looking.".into()),
            call_delta(0, "a", "ls", "{}"),
            call_delta(1, "", "", "{\"p\":1}"),
            StreamEvent::Finished(FinishReason::ToolCalls),
        ]);
        assert_eq!(
            answer_events(&answer, &TurnEnd::Completed, "m"),
            vec![
                assistant("Looking.", false, None),
                EventKind::ToolCall {
                    call_id: "a".into(),
                    name: "ls".into(),
                    arguments: "{}".into()
                },
                EventKind::ToolCall {
                    call_id: "call_1".into(),
                    name: "unnamed".into(),
                    arguments: "{\"p\":1}".into()
                },
                unavailable("a"),
                unavailable("call_1"),
            ]
        );
    }

    #[test]
    fn a_broken_stream_keeps_the_partial_answer_and_the_error() {
        let answer = folded(&[StreamEvent::TextDelta("Part".into())]);
        assert_eq!(
            answer_events(&answer, &TurnEnd::Failed("connection reset".into()), "m"),
            vec![
                assistant("Part", true, None),
                EventKind::Error {
                    message: "connection reset".into()
                },
            ]
        );
    }

    #[test]
    fn a_turn_cancelled_before_any_text_records_nothing() {
        let answer = folded(&[]);
        assert_eq!(answer_events(&answer, &TurnEnd::Cancelled, "m"), vec![]);
        assert_eq!(
            answer_events(&answer, &TurnEnd::Failed("401".into()), "m"),
            vec![EventKind::Error {
                message: "401".into()
            }]
        );
    }
}
