//! Shared helpers for the provider tests: settings pointed at a loopback server, a sample
//! request, and draining a stream into what it added up to.

// Test scaffolding: a panic here is how a broken test setup reports itself.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use cairn_core::config::ProviderKind;
use cairn_core::provider::{
    Message, ModelRequest, ModelStream, Part, ProviderError, Role, StreamEvent,
};
use cairn_core::turn::AnswerAccumulator;
use cairn_llm::{ApiKey, ProviderSettings};
use futures::StreamExt;

pub const TEST_KEY: &str = "sk-test-0123456789abcdef";

/// Settings for `kind` at `base_url`, with a key and fast retries.
pub fn settings(kind: ProviderKind, base_url: String) -> ProviderSettings {
    let mut settings = ProviderSettings::new(kind);
    settings.base_url = base_url;
    settings.api_key = Some(ApiKey::new(TEST_KEY));
    settings.connect_timeout = Duration::from_secs(2);
    settings.idle_timeout = Duration::from_secs(5);
    settings.retry.base_delay = Duration::from_millis(10);
    settings.retry.max_delay = Duration::from_millis(40);
    settings.retry.max_retries = 2;
    settings
}

pub fn request() -> ModelRequest {
    ModelRequest {
        model: "test-model".into(),
        system: "You are Cairn.".into(),
        messages: vec![
            Message::text(Role::User, "first question"),
            Message::text(Role::Assistant, "first answer"),
            Message {
                role: Role::User,
                parts: vec![
                    Part::Context {
                        text: "The session was resumed.".into(),
                    },
                    Part::Text {
                        text: "second question".into(),
                    },
                ],
            },
        ],
        max_output_tokens: None,
        tools: Vec::new(),
    }
}

/// Everything a stream produced.
#[derive(Debug)]
pub struct Drained {
    pub answer: AnswerAccumulator,
    pub events: Vec<StreamEvent>,
    pub error: Option<ProviderError>,
    /// Items after the first error (must be none).
    pub after_error: usize,
}

pub async fn drain(mut stream: ModelStream) -> Drained {
    let mut drained = Drained {
        answer: AnswerAccumulator::new(),
        events: Vec::new(),
        error: None,
        after_error: 0,
    };
    while let Some(item) = tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("the stream stalled")
    {
        if drained.error.is_some() {
            drained.after_error += 1;
            continue;
        }
        match item {
            Ok(event) => {
                drained.answer.push(&event);
                drained.events.push(event);
            }
            Err(err) => drained.error = Some(err),
        }
    }
    drained
}
