//! Folding a stream's events into the answer they add up to.
//!
//! Invariants: text deltas concatenate in order; tool-call fragments merge by `index`, in
//! order of first appearance, `id` and `name` taken from the first fragment that has them and
//! `arguments` concatenated verbatim (never parsed: models produce invalid JSON); the last
//! usage wins; the finish reason is the one from `Finished`.

use crate::event::TokenUsage;
use crate::provider::{FinishReason, StreamEvent};

/// One tool call as assembled from its fragments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccumulatedToolCall {
    /// The stream's index for this call.
    pub index: u32,
    pub id: String,
    pub name: String,
    /// The raw argument text, as the model produced it.
    pub arguments: String,
}

/// The answer so far. Feed it every `Ok` item of a stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnswerAccumulator {
    pub text: String,
    pub tool_calls: Vec<AccumulatedToolCall>,
    pub usage: Option<TokenUsage>,
    pub finish_reason: Option<FinishReason>,
    /// How many `Retrying` events were seen.
    pub retries: u32,
}

impl AnswerAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::TextDelta(text) => self.text.push_str(text),
            StreamEvent::ToolCallDelta {
                index,
                id,
                name,
                arguments,
            } => {
                let position = match self.tool_calls.iter().position(|call| call.index == *index) {
                    Some(position) => position,
                    None => {
                        self.tool_calls.push(AccumulatedToolCall {
                            index: *index,
                            ..AccumulatedToolCall::default()
                        });
                        self.tool_calls.len() - 1
                    }
                };
                let call = &mut self.tool_calls[position];
                if let Some(id) = id
                    .as_deref()
                    .filter(|id| call.id.is_empty() && !id.is_empty())
                {
                    call.id = id.to_owned();
                }
                if let Some(name) = name
                    .as_deref()
                    .filter(|name| call.name.is_empty() && !name.is_empty())
                {
                    call.name = name.to_owned();
                }
                call.arguments.push_str(arguments);
            }
            StreamEvent::Usage(usage) => self.usage = Some(*usage),
            StreamEvent::Retrying { .. } => self.retries += 1,
            StreamEvent::Finished(reason) => self.finish_reason = Some(reason.clone()),
        }
    }

    /// Whether `Finished` arrived.
    pub fn is_finished(&self) -> bool {
        self.finish_reason.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn fragments_merge_by_index() {
        let mut answer = AnswerAccumulator::new();
        let delta = |index, id: Option<&str>, name: Option<&str>, arguments: &str| {
            StreamEvent::ToolCallDelta {
                index,
                id: id.map(str::to_owned),
                name: name.map(str::to_owned),
                arguments: arguments.to_owned(),
            }
        };
        for event in [
            StreamEvent::TextDelta("Hi".into()),
            delta(0, Some("a"), Some("ls"), ""),
            delta(1, Some("b"), Some("cat"), "{\"p\":"),
            delta(0, None, None, "{}"),
            delta(1, None, None, "1}"),
            StreamEvent::Usage(TokenUsage {
                input_tokens: 1,
                output_tokens: 2,
            }),
            StreamEvent::Usage(TokenUsage {
                input_tokens: 1,
                output_tokens: 5,
            }),
            StreamEvent::Finished(FinishReason::ToolCalls),
        ] {
            answer.push(&event);
        }
        assert_eq!(
            answer,
            AnswerAccumulator {
                text: "Hi".into(),
                tool_calls: vec![
                    AccumulatedToolCall {
                        index: 0,
                        id: "a".into(),
                        name: "ls".into(),
                        arguments: "{}".into()
                    },
                    AccumulatedToolCall {
                        index: 1,
                        id: "b".into(),
                        name: "cat".into(),
                        arguments: "{\"p\":1}".into()
                    },
                ],
                usage: Some(TokenUsage {
                    input_tokens: 1,
                    output_tokens: 5
                }),
                finish_reason: Some(FinishReason::ToolCalls),
                retries: 0,
            }
        );
    }
}
