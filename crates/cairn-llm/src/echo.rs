//! The offline echo provider: no key, no network, a predictable answer.
//!
//! Invariants: the reply's first line is `echo: ` and the user's latest message verbatim,
//! its last line `(offline echo provider: N user messages in context)` where N counts the
//! request's user messages that carry text (tool results and system context are not the
//! user speaking). Words arrive one per delay, each with the whitespace after it, so the
//! deltas concatenate to exactly the reply. Dropping the stream stops it: nothing runs
//! outside the stream's own polling.

use std::time::Duration;

use async_trait::async_trait;
use cairn_core::TokenUsage;
use cairn_core::provider::{
    FinishReason, ModelProvider, ModelRequest, ModelStream, Part, ProviderError, ProviderInfo,
    Role, StreamEvent,
};
use cairn_core::text::plural;
use futures::StreamExt;

use crate::settings::{DEFAULT_ECHO_WORD_DELAY, default_context_window};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EchoProvider {
    word_delay: Duration,
    context_window: u64,
}

impl Default for EchoProvider {
    fn default() -> Self {
        Self::new(
            DEFAULT_ECHO_WORD_DELAY,
            default_context_window(cairn_core::config::ProviderKind::Echo),
        )
    }
}

impl EchoProvider {
    pub fn new(word_delay: Duration, context_window: u64) -> Self {
        Self {
            word_delay,
            context_window,
        }
    }

    /// The full reply to `request`: the user's latest words (not Cairn's context notes) and
    /// how many things the user said, counted in text parts since a user turn can hold
    /// several (a question whose answer failed, then the next one).
    pub fn reply(request: &ModelRequest) -> String {
        let user_texts: Vec<&str> = request
            .messages
            .iter()
            .filter(|message| message.role == Role::User)
            .flat_map(|message| &message.parts)
            .filter_map(|part| match part {
                Part::Text { text } => Some(text.as_str()),
                Part::Context { .. } | Part::ToolCall { .. } | Part::ToolResult { .. } => None,
            })
            .collect();
        let latest = user_texts.last().copied().unwrap_or("");
        let count = plural(user_texts.len() as u64, "user message");
        format!("echo: {latest}\n\n(offline echo provider: {count} in context)")
    }
}

fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// `text` split after each run of whitespace: "a  b\nc" -> ["a  ", "b\n", "c"].
fn words_with_trailing_space(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_space = false;
    for ch in text.chars() {
        if in_space && !ch.is_whitespace() {
            words.push(std::mem::take(&mut current));
        }
        in_space = ch.is_whitespace();
        current.push(ch);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

#[async_trait]
impl ModelProvider for EchoProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            kind: "echo".into(),
            model: "echo".into(),
            offline: true,
        }
    }

    fn context_window(&self) -> u64 {
        self.context_window
    }

    async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        Ok(vec![self.info().model])
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ProviderError> {
        let reply = Self::reply(&request);
        let input_tokens = word_count(&request.system)
            + request
                .messages
                .iter()
                .flat_map(|message| &message.parts)
                .map(|part| match part {
                    Part::Text { text } | Part::Context { text } => word_count(text),
                    Part::ToolCall { arguments, .. } => word_count(arguments),
                    Part::ToolResult { output, .. } => word_count(output),
                })
                .sum::<u64>();
        let usage = TokenUsage {
            input_tokens,
            output_tokens: word_count(&reply),
        };
        let delay = self.word_delay;
        let words = futures::stream::iter(words_with_trailing_space(&reply))
            .enumerate()
            .then(move |(index, word)| async move {
                if index > 0 && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(StreamEvent::TextDelta(word))
            });
        let tail = futures::stream::iter([
            Ok(StreamEvent::Usage(usage)),
            Ok(StreamEvent::Finished(FinishReason::Stop)),
        ]);
        Ok(Box::pin(words.chain(tail)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn words_keep_their_whitespace() {
        assert_eq!(
            words_with_trailing_space("echo: a  b\n\n(c)"),
            vec!["echo: ", "a  ", "b\n\n", "(c)"]
        );
        assert_eq!(words_with_trailing_space(""), Vec::<String>::new());
    }
}
