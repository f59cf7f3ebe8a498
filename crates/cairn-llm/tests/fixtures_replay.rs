//! Every recorded stream under `tests/fixtures` replayed through the real providers over
//! HTTP, in 13-byte chunked writes so SSE frames and UTF-8 characters straddle writes.

// Helpers outside #[test] functions panic too: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/harness.rs"]
mod harness;
#[path = "support/loopback.rs"]
mod loopback;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_core::TokenUsage;
use cairn_core::config::ProviderKind;
use cairn_core::provider::{FinishReason, ModelProvider, ProviderError};
use cairn_core::turn::{AccumulatedToolCall, AnswerAccumulator};
use cairn_llm::{AnthropicProvider, OpenAiProvider};
use harness::{Drained, drain, request, settings};
use loopback::{Reply, Server};
use pretty_assertions::assert_eq;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// All fixture files, relative to the fixtures directory, sorted.
fn fixture_files() -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["openai-chat", "anthropic", "llamacpp"] {
        for entry in std::fs::read_dir(fixtures_dir().join(dir)).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.ends_with(".sse") || name.ends_with(".txt") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    files.sort();
    files
}

fn is_anthropic(file: &str) -> bool {
    file.starts_with("anthropic/") || file.contains("-messages-")
}

/// A `*.txt` capture is the body followed by ` HTTP <status>\n`.
fn split_status_trailer(bytes: &[u8]) -> (u16, Vec<u8>) {
    let text = std::str::from_utf8(bytes).unwrap();
    let (body, status) = text.trim_end_matches('\n').rsplit_once(" HTTP ").unwrap();
    (status.parse().unwrap(), body.as_bytes().to_vec())
}

async fn replay(file: &str) -> Drained {
    let bytes = std::fs::read(fixtures_dir().join(file)).unwrap();
    let reply = if file.ends_with(".txt") {
        let (status, body) = split_status_trailer(&bytes);
        Reply::status(status, "application/json", body)
    } else {
        Reply::sse(bytes).in_writes_of(13, Duration::ZERO)
    };
    let server = Server::start(vec![reply]).await;
    let result = if is_anthropic(file) {
        let mut settings = settings(ProviderKind::Anthropic, server.url());
        settings.retry.max_retries = 0;
        AnthropicProvider::new(settings)
            .unwrap()
            .stream(request())
            .await
    } else {
        let mut settings = settings(ProviderKind::Openai, format!("{}/v1", server.url()));
        settings.retry.max_retries = 0;
        OpenAiProvider::new(settings)
            .unwrap()
            .stream(request())
            .await
    };
    match result {
        Ok(stream) => drain(stream).await,
        Err(err) => Drained {
            answer: AnswerAccumulator::new(),
            events: Vec::new(),
            error: Some(err),
            after_error: 0,
        },
    }
}

fn usage(input_tokens: u64, output_tokens: u64) -> Option<TokenUsage> {
    Some(TokenUsage {
        input_tokens,
        output_tokens,
    })
}

fn call(index: u32, id: &str, name: &str, arguments: &str) -> AccumulatedToolCall {
    AccumulatedToolCall {
        index,
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    }
}

#[tokio::test]
async fn every_stream_fixture_parses_to_a_finished_answer() {
    let files = fixture_files();
    assert_eq!(files.len(), 84, "{files:?}");
    for file in files.iter().filter(|file| file.ends_with(".sse")) {
        let drained = replay(file).await;
        assert_eq!(drained.error, None, "{file}");
        assert_eq!(drained.after_error, 0, "{file}");
        let answer = &drained.answer;
        assert!(answer.finish_reason.is_some(), "{file}: {answer:?}");
        // `Finished` is the very last item.
        assert!(
            matches!(
                drained.events.last(),
                Some(cairn_core::StreamEvent::Finished(_))
            ),
            "{file}"
        );
        // out_of_order_response opens a text block and stops: nothing to show, by design.
        assert!(
            file.ends_with("out_of_order_response.sse")
                || !answer.text.is_empty()
                || !answer.tool_calls.is_empty()
                || answer.finish_reason != Some(FinishReason::Stop),
            "{file}: empty answer {answer:?}"
        );
        for call in &answer.tool_calls {
            assert!(
                !call.id.is_empty() && !call.name.is_empty(),
                "{file}: {call:?}"
            );
        }
    }
}

#[tokio::test]
async fn error_captures_give_the_right_errors() {
    assert_eq!(
        replay("llamacpp/ls-error.txt").await.error,
        Some(ProviderError::BadRequest {
            status: 400,
            message: "Expected 'messages' to be an array".into()
        })
    );
    let err = replay("llamacpp/ls-error2.txt").await.error.unwrap();
    assert!(
        matches!(&err, ProviderError::Server { status: 500, attempts: 1, message }
            if message.starts_with("[json.exception.parse_error.101] parse error")),
        "{err:?}"
    );
    let err = replay("llamacpp/lcp-error.txt").await.error.unwrap();
    assert!(
        matches!(&err, ProviderError::Server { status: 500, attempts: 1, message }
            if message.starts_with("1 validation error:")),
        "{err:?}"
    );
}

#[tokio::test]
async fn anthropic_fixtures_have_the_recorded_values() {
    let basic = replay("anthropic/basic_response.sse").await.answer;
    assert_eq!(
        basic,
        AnswerAccumulator {
            text: "Hello there!".into(),
            tool_calls: vec![],
            usage: usage(11, 6),
            finish_reason: Some(FinishReason::Stop),
            retries: 0,
        }
    );

    let tool = replay("anthropic/tool_use_response.sse").await.answer;
    assert_eq!(
        tool.tool_calls,
        vec![call(
            0,
            "toolu_01NRLabsLyVHZPKxbKvkfSMn",
            "get_weather",
            "{\"location\": \"Paris\"}"
        )]
    );
    assert_eq!(tool.finish_reason, Some(FinishReason::ToolCalls));
    assert_eq!(
        tool.text,
        "I'll check the current weather in Paris for you."
    );
    // `output_tokens` is a running total: 65 is the last value, not a sum.
    assert_eq!(tool.usage, usage(377, 65));

    let invalid = replay("anthropic/tool_use_invalid_json_response.sse")
        .await
        .answer;
    assert_eq!(
        invalid.tool_calls[0].arguments,
        "{\"location\": \"Paris\", \"unit\": celsius}"
    );

    let cut = replay("anthropic/incomplete_partial_json_response.sse")
        .await
        .answer;
    assert_eq!(cut.finish_reason, Some(FinishReason::Length));

    let refusal = replay("anthropic/refusal_response.sse").await.answer;
    assert_eq!(refusal.finish_reason, Some(FinishReason::Refusal));

    let llama = replay("llamacpp/ls-messages-stream.sse").await.answer;
    assert_eq!(llama.text, "Hello from a tiny GGUF model!");
    assert_eq!(llama.usage.map(|usage| usage.input_tokens), Some(28));

    let llama_tool = replay("llamacpp/ls-tool-messages-stream.sse").await.answer;
    assert_eq!(llama_tool.tool_calls.len(), 1);
    assert_eq!(llama_tool.tool_calls[0].name, "get_weather");
    assert_eq!(llama_tool.finish_reason, Some(FinishReason::ToolCalls));
}

#[tokio::test]
async fn openai_fixtures_have_the_recorded_values() {
    let tool = replay("openai-chat/tool-call.sse").await.answer;
    assert_eq!(
        tool,
        AnswerAccumulator {
            text: String::new(),
            tool_calls: vec![call(
                0,
                "call_c91SqDXlYFuETYv8mUHzz6pp",
                "GetWeatherArgs",
                "{\"city\":\"Edinburgh\",\"country\":\"UK\",\"units\":\"c\"}"
            )],
            usage: usage(76, 24),
            finish_reason: Some(FinishReason::ToolCalls),
            retries: 0,
        }
    );

    let parallel = replay("openai-chat/parallel-tool-calls.sse").await.answer;
    assert_eq!(parallel.tool_calls.len(), 2);
    assert_eq!(parallel.finish_reason, Some(FinishReason::ToolCalls));

    let length = replay("openai-chat/max-tokens-length.sse").await.answer;
    assert_eq!(length.text, "{\"");
    assert_eq!(length.finish_reason, Some(FinishReason::Length));

    let refusal = replay("openai-chat/refusal.sse").await.answer;
    assert_eq!(refusal.finish_reason, Some(FinishReason::Refusal));
    assert!(refusal.text.starts_with("I'm"), "{refusal:?}");

    let llama = replay("llamacpp/ls-chat-stream.sse").await.answer;
    assert_eq!(llama.text, "Hello from a tiny GGUF model!");
    assert_eq!(llama.finish_reason, Some(FinishReason::Stop));
    assert!(llama.usage.is_some());

    let lcp = replay("llamacpp/lcp-chat-stream.sse").await.answer;
    assert_eq!(lcp.text, "Hello from a tiny GGUF model!");
    assert_eq!(lcp.usage, None);

    let random = replay("llamacpp/ls-random-stream.sse").await.answer;
    assert_eq!(random.finish_reason, Some(FinishReason::Length));
    assert!(random.text.contains('\u{7f}') && random.text.contains('\u{1b}'));
    assert_eq!(random.text.matches('\u{fffd}').count(), 15);

    let llama_tool = replay("llamacpp/ls-tool-chat-stream.sse").await.answer;
    assert_eq!(llama_tool.tool_calls.len(), 1);
    assert_eq!(llama_tool.tool_calls[0].name, "get_weather");
}
