//! A server that sends what no sane server would: escape sequences in error bodies, absurd
//! numbers in headers and usage objects, one enormous event. Cairn must report, cap or carry
//! on, and never panic or pass a control sequence through.

// Helpers outside #[test] functions panic too: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/harness.rs"]
mod harness;
#[path = "support/loopback.rs"]
mod loopback;

use std::time::Duration;

use cairn_core::TokenUsage;
use cairn_core::config::ProviderKind;
use cairn_core::provider::{ModelProvider, ProviderError, StreamEvent};
use cairn_llm::{AnthropicProvider, OpenAiProvider, ProviderSettings};
use harness::{drain, request, settings};
use loopback::{Reply, Server};
use pretty_assertions::assert_eq;

/// A window title, a clear screen and an OSC 52 clipboard write.
const HOSTILE: &str = "\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZXZpbA==\x07gone";
const SHOWN: &str = "␛]0;pwned␇␛[2J␛]52;c;ZXZpbA==␇gone";

const OPENAI_TEXT: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":\"stop\"}]}\n\n\
data: [DONE]\n\n";

fn openai_with(server: &Server, change: impl FnOnce(&mut ProviderSettings)) -> OpenAiProvider {
    let mut settings = settings(ProviderKind::Openai, format!("{}/v1", server.url()));
    change(&mut settings);
    OpenAiProvider::new(settings).unwrap()
}

#[tokio::test]
async fn escape_sequences_in_error_bodies_arrive_neutralised() {
    let json_body = serde_json::json!({ "error": { "message": HOSTILE, "type": "x" } }).to_string();
    let server = Server::start(vec![
        Reply::status(500, "text/html", HOSTILE),
        Reply::status(400, "application/json", json_body),
    ])
    .await;
    let provider = openai_with(&server, |settings| settings.retry.max_retries = 0);
    let plain = provider.stream(request()).await.err().unwrap();
    assert_eq!(
        plain,
        ProviderError::Server {
            status: 500,
            attempts: 1,
            message: SHOWN.into()
        }
    );
    let json = provider.stream(request()).await.err().unwrap();
    assert_eq!(
        json,
        ProviderError::BadRequest {
            status: 400,
            message: SHOWN.into()
        }
    );

    // The same inside a stream, in both dialects.
    let chunk = serde_json::json!({ "error": { "message": HOSTILE, "type": HOSTILE } });
    let server = Server::start(vec![Reply::sse(format!("data: {chunk}\n\n"))]).await;
    let drained = drain(
        openai_with(&server, |_| {})
            .stream(request())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        drained.error,
        Some(ProviderError::Api {
            kind: SHOWN.into(),
            message: SHOWN.into()
        })
    );
    let event = serde_json::json!({ "type": "error", "error": { "type": "api_error", "message": HOSTILE } });
    let server = Server::start(vec![Reply::sse(format!("event: error\ndata: {event}\n\n"))]).await;
    let anthropic =
        AnthropicProvider::new(settings(ProviderKind::Anthropic, server.url())).unwrap();
    let drained = drain(anthropic.stream(request()).await.unwrap()).await;
    assert_eq!(
        drained.error,
        Some(ProviderError::Api {
            kind: "api_error".into(),
            message: SHOWN.into()
        })
    );
}

/// Every absurd `Retry-After` is either ignored (the usual backoff applies) or capped at the
/// retry policy's `max_retry_after`; none panics.
#[tokio::test]
async fn absurd_retry_after_values_are_capped_or_ignored() {
    let cap = Duration::from_millis(50);
    let cases = [
        ("retry-after-ms", "1e300", Some(cap)),
        ("retry-after-ms", "inf", None),
        ("retry-after-ms", "NaN", None),
        ("retry-after-ms", "-5", None),
        ("retry-after", "99999999999", Some(cap)),
        ("retry-after", "1e300", Some(cap)),
        ("retry-after", "NaN", None),
        ("retry-after", "-5", None),
        ("retry-after", "Fri, 31 Dec 9999 23:59:59 GMT", Some(cap)),
    ];
    for (header, value, expected) in cases {
        let server = Server::start(vec![
            Reply::status(429, "application/json", "{}").header(header, value),
            Reply::sse(OPENAI_TEXT),
        ])
        .await;
        let provider = openai_with(&server, |settings| settings.retry.max_retry_after = cap);
        let drained = drain(provider.stream(request()).await.unwrap()).await;
        assert_eq!(drained.error, None, "{header}: {value}");
        assert_eq!(drained.answer.text, "Hello", "{header}: {value}");
        let StreamEvent::Retrying { delay, .. } = drained.events[0] else {
            panic!(
                "{header}: {value}: expected a retry, got {:?}",
                drained.events
            );
        };
        match expected {
            Some(capped) => assert_eq!(delay, capped, "{header}: {value}"),
            // The harness's backoff: 10 ms plus up to 25% jitter.
            None => assert!(
                delay >= Duration::from_millis(10) && delay <= Duration::from_micros(12_500),
                "{header}: {value}: {delay:?}"
            ),
        }
    }
}

#[tokio::test]
async fn absurd_token_counts_are_clamped_not_errors() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ok\"},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":1e300}}\n\n\
data: [DONE]\n\n";
    let server = Server::start(vec![Reply::sse(body)]).await;
    let drained = drain(
        openai_with(&server, |_| {})
            .stream(request())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(drained.error, None);
    assert_eq!(
        drained.answer.usage,
        Some(TokenUsage {
            input_tokens: 0,
            output_tokens: u64::MAX
        })
    );

    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":18446744073709551615,\"cache_read_input_tokens\":18446744073709551615,\"output_tokens\":\"many\"}}}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let server = Server::start(vec![Reply::sse(body)]).await;
    let anthropic =
        AnthropicProvider::new(settings(ProviderKind::Anthropic, server.url())).unwrap();
    let drained = drain(anthropic.stream(request()).await.unwrap()).await;
    assert_eq!(drained.error, None);
    assert_eq!(
        drained.answer.usage,
        Some(TokenUsage {
            input_tokens: u64::MAX,
            output_tokens: 0
        })
    );
}

/// One 8 MB delta, written in 1,000-byte pieces: framed linearly (the old parser re-scanned
/// its buffer per piece, which took minutes at this size in a debug build).
#[tokio::test]
async fn one_huge_event_arrives_whole() {
    let text = "x".repeat(8 * 1024 * 1024);
    let body = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n"
    );
    let server = Server::start(vec![Reply::sse(body).in_writes_of(1000, Duration::ZERO)]).await;
    let drained = drain(
        openai_with(&server, |_| {})
            .stream(request())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(drained.error, None);
    assert!(drained.answer.text == text, "the text changed on the way");
}
