//! Both HTTP providers against a loopback server: the request they send, retries, errors,
//! cancellation and streams that break.

// Helpers outside #[test] functions panic too: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/harness.rs"]
mod harness;
#[path = "support/loopback.rs"]
mod loopback;

use std::time::{Duration, Instant};

use cairn_core::config::ProviderKind;
use cairn_core::provider::{FinishReason, ModelProvider, ProviderError, StreamEvent};
use cairn_llm::{AnthropicProvider, OpenAiProvider, ProviderSettings};
use futures::StreamExt;
use harness::{TEST_KEY, drain, request, settings};
use loopback::{Framing, Reply, Server};
use pretty_assertions::assert_eq;
use serde_json::json;

const OPENAI_TEXT: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n\
: ping\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\n\n\
data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"},\"finish_reason\":\"stop\"}]}\n\n\
data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\n\
data: [DONE]\n\n";

fn openai(server: &Server) -> OpenAiProvider {
    OpenAiProvider::new(settings(
        ProviderKind::Openai,
        format!("{}/v1", server.url()),
    ))
    .unwrap()
}

fn openai_with(server: &Server, change: impl FnOnce(&mut ProviderSettings)) -> OpenAiProvider {
    let mut settings = settings(ProviderKind::Openai, format!("{}/v1", server.url()));
    change(&mut settings);
    OpenAiProvider::new(settings).unwrap()
}

fn anthropic(server: &Server) -> AnthropicProvider {
    AnthropicProvider::new(settings(ProviderKind::Anthropic, server.url())).unwrap()
}

/// `count` OpenAI text chunks of one word each, then finish, usage and `[DONE]`.
fn openai_words(count: usize) -> String {
    let mut body = String::new();
    for index in 0..count {
        body.push_str(&format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{index} \"}}}}]}}\n\n"
        ));
    }
    body.push_str(
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
    );
    body.push_str("data: [DONE]\n\n");
    body
}

#[tokio::test]
async fn openai_request_has_the_documented_shape() {
    let server = Server::start(vec![Reply::sse(OPENAI_TEXT)]).await;
    let drained = drain(openai(&server).stream(request()).await.unwrap()).await;
    assert_eq!(drained.error, None);
    assert_eq!(drained.answer.text, "Hello world");
    assert_eq!(drained.answer.finish_reason, Some(FinishReason::Stop));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/v1/chat/completions")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
    assert_eq!(
        sent.json(),
        json!({
            "model": "test-model",
            "messages": [
                {"role": "system", "content": "You are Cairn."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "first answer"},
                {"role": "user", "content": "[Cairn: The session was resumed.]\n\nsecond question"},
            ],
            "stream": true,
            "stream_options": {"include_usage": true},
        })
    );
}

#[tokio::test]
async fn no_key_means_no_authorization_header() {
    let server = Server::start(vec![Reply::sse(OPENAI_TEXT)]).await;
    let provider = openai_with(&server, |settings| settings.api_key = None);
    drain(provider.stream(request()).await.unwrap()).await;
    assert_eq!(server.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn anthropic_request_has_the_documented_shape() {
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/anthropic/basic_response.sse"
    ))
    .unwrap();
    let server = Server::start(vec![Reply::sse(body)]).await;
    let drained = drain(anthropic(&server).stream(request()).await.unwrap()).await;
    assert_eq!(drained.answer.text, "Hello there!");

    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(TEST_KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(
        sent.json(),
        json!({
            "model": "test-model",
            "max_tokens": 4096,
            "system": "You are Cairn.",
            "stream": true,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "first question"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "first answer"}]},
                {"role": "user", "content": [
                    {"type": "text", "text": "<system-context>\nThe session was resumed.\n</system-context>"},
                    {"type": "text", "text": "second question"},
                ]},
            ],
        })
    );
}

#[tokio::test]
async fn unauthorized_is_an_auth_error_after_one_request_and_never_shows_the_key() {
    let body = format!(
        "{{\"error\":{{\"message\":\"Incorrect API key provided: {TEST_KEY}\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}}}"
    );
    let server = Server::start(vec![Reply::status(401, "application/json", body)]).await;
    let err = openai(&server).stream(request()).await.err().unwrap();
    assert_eq!(
        err,
        ProviderError::Auth {
            status: 401,
            key_env: "OPENAI_API_KEY".into(),
            message: "Incorrect API key provided: ***".into(),
        }
    );
    let shown = err.to_string();
    assert!(
        shown.contains("check your API key (env var OPENAI_API_KEY)"),
        "{shown}"
    );
    assert!(!shown.contains(TEST_KEY), "{shown}");
    assert!(!format!("{err:?}").contains(TEST_KEY));
    assert_eq!(server.requests().len(), 1);

    let server = Server::start(vec![Reply::status(403, "text/plain", "forbidden")]).await;
    let err = anthropic(&server).stream(request()).await.err().unwrap();
    assert!(
        matches!(err, ProviderError::Auth { status: 403, ref key_env, .. } if key_env == "ANTHROPIC_API_KEY"),
        "{err:?}"
    );
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_retried_visibly() {
    let server = Server::start(vec![
        Reply::status(
            429,
            "application/json",
            r#"{"error":{"message":"slow down","type":"rate_limit"}}"#,
        )
        .header("Retry-After", "1"),
        Reply::sse(OPENAI_TEXT),
    ])
    .await;
    let started = Instant::now();
    let drained = drain(openai(&server).stream(request()).await.unwrap()).await;
    let elapsed = started.elapsed();
    assert_eq!(drained.error, None);
    assert_eq!(
        drained.events[0],
        StreamEvent::Retrying {
            attempt: 1,
            max_attempts: 2,
            delay: Duration::from_secs(1),
            reason: "429 rate limited".into(),
        }
    );
    assert_eq!(drained.answer.text, "Hello world");
    assert_eq!(drained.answer.retries, 1);
    // Honouring the server's delay is a lower bound; how much longer a busy machine takes
    // is not this test's business.
    assert!(elapsed >= Duration::from_millis(950), "{elapsed:?}");
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn server_errors_retry_then_succeed_or_give_up() {
    let failing = Reply::status(
        500,
        "application/json",
        r#"{"error":{"message":"oops","type":"server_error","code":500}}"#,
    );
    let server = Server::start(vec![
        failing.clone(),
        failing.clone(),
        failing.clone(),
        Reply::sse(OPENAI_TEXT),
    ])
    .await;
    let provider = openai_with(&server, |settings| settings.retry.max_retries = 3);
    let drained = drain(provider.stream(request()).await.unwrap()).await;
    assert_eq!(drained.error, None);
    assert_eq!(drained.answer.retries, 3);
    assert_eq!(drained.answer.text, "Hello world");
    assert_eq!(server.requests().len(), 4);

    let server = Server::start(vec![failing]).await;
    let drained = drain(openai(&server).stream(request()).await.unwrap()).await;
    assert_eq!(
        drained.error,
        Some(ProviderError::Server {
            status: 500,
            attempts: 3,
            message: "oops".into()
        })
    );
    let reasons: Vec<String> = drained
        .events
        .iter()
        .map(|event| match event {
            StreamEvent::Retrying {
                attempt,
                max_attempts,
                reason,
                ..
            } => format!("{reason} {attempt}/{max_attempts}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        reasons,
        vec!["500 server error 1/2", "500 server error 2/2"]
    );
    // max_retries + 1 requests, no more.
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn anthropic_529_is_retried_as_overloaded() {
    let overloaded = Reply::status(
        529,
        "application/json",
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    let server = Server::start(vec![overloaded]).await;
    let drained = drain(anthropic(&server).stream(request()).await.unwrap()).await;
    assert_eq!(
        drained.error,
        Some(ProviderError::Overloaded {
            attempts: 3,
            message: "Overloaded".into()
        })
    );
    assert!(
        matches!(&drained.events[0], StreamEvent::Retrying { reason, .. } if reason == "529 overloaded")
    );
}

#[tokio::test]
async fn plain_text_500_is_reported_as_such() {
    let server = Server::start(vec![Reply::status(
        500,
        "text/plain",
        "upstream exploded\n",
    )])
    .await;
    let provider = openai_with(&server, |settings| settings.retry.max_retries = 0);
    let err = provider.stream(request()).await.err().unwrap();
    assert_eq!(
        err,
        ProviderError::Server {
            status: 500,
            attempts: 1,
            message: "upstream exploded".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "the provider answered 500 after 1 attempts: upstream exploded"
    );
}

#[tokio::test]
async fn other_client_errors_are_bad_requests() {
    let server = Server::start(vec![Reply::status(
        404,
        "application/json",
        r#"{"error":{"message":"model 'nope' not found","type":"not_found_error"}}"#,
    )])
    .await;
    let err = openai(&server).stream(request()).await.err().unwrap();
    assert_eq!(
        err,
        ProviderError::BadRequest {
            status: 404,
            message: "model 'nope' not found".into()
        }
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_request_too_long_for_the_context_window_is_told_apart() {
    // As OpenAI, llama.cpp's server and Anthropic word it.
    let bodies = [
        (
            r#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#,
            "This model's maximum context length is 128000 tokens.",
        ),
        (
            r#"{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":9000,"n_ctx":8192}}"#,
            "the request exceeds the available context size, try increasing it",
        ),
        (
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 208000 tokens > 200000 maximum"}}"#,
            "prompt is too long: 208000 tokens > 200000 maximum",
        ),
    ];
    for (body, message) in bodies {
        let server = Server::start(vec![Reply::status(400, "application/json", body)]).await;
        let err = openai(&server).stream(request()).await.err().unwrap();
        assert_eq!(
            err,
            ProviderError::ContextTooLong {
                status: 400,
                message: message.into()
            }
        );
        assert!(
            err.to_string()
                .starts_with("the conversation is too long for the model's context window (400)"),
            "{err}"
        );
        // Sending it again as it was cannot help: it is not retried.
        assert_eq!(server.requests().len(), 1);
    }
    // Another invalid request stays a bad request.
    let server = Server::start(vec![Reply::status(
        400,
        "application/json",
        r#"{"error":{"message":"temperature is out of range","type":"invalid_request_error","code":"invalid_value"}}"#,
    )])
    .await;
    let err = openai(&server).stream(request()).await.err().unwrap();
    assert!(matches!(err, ProviderError::BadRequest { .. }), "{err:?}");
}

#[tokio::test]
async fn dropping_a_slow_stream_closes_the_connection() {
    let server = Server::start(vec![
        Reply::sse(openai_words(200)).in_writes_of(80, Duration::from_millis(20)),
    ])
    .await;
    let mut stream = openai(&server).stream(request()).await.unwrap();
    let mut text = String::new();
    while text.len() < 30 {
        match stream.next().await {
            Some(Ok(StreamEvent::TextDelta(delta))) => text.push_str(&delta),
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(stream);
    // The server takes about 7 s to write its body (80 bytes every 20 ms), so a hang-up
    // within 5 s can only be the client leaving.
    assert!(
        server.wait_for_hang_up(Duration::from_secs(5)).await,
        "the server never saw the client leave"
    );
}

#[tokio::test]
async fn a_stream_cut_mid_answer_keeps_the_text_and_ends_with_stream_dropped() {
    let body = openai_words(20);
    let cut = body.find("w10 ").unwrap();
    for framing in [Framing::Chunked, Framing::Close] {
        // Close framing cannot tell a cut from an end, so cut on an event boundary there.
        let cut = match framing {
            Framing::Chunked => cut,
            Framing::Close => body[..cut].rfind("\n\n").unwrap() + 2,
        };
        let server = Server::start(vec![
            Reply::sse(body.clone())
                .framing(framing)
                .in_writes_of(64, Duration::ZERO)
                .cut_after(cut),
        ])
        .await;
        let drained = drain(openai(&server).stream(request()).await.unwrap()).await;
        assert!(
            drained
                .answer
                .text
                .starts_with("w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 "),
            "{framing:?}: {:?}",
            drained.answer.text
        );
        assert!(
            matches!(drained.error, Some(ProviderError::StreamDropped { .. })),
            "{framing:?}: {:?}",
            drained.error
        );
        assert_eq!(drained.answer.finish_reason, None);
        assert_eq!(drained.after_error, 0);
    }
}

#[tokio::test]
async fn a_malformed_chunk_is_an_error_with_an_excerpt() {
    let body = format!(
        "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"ok\"}}}}]}}\n\ndata: {{\"choices\":[{{\"delta\":{{\"content\":\"{}\n\ndata: [DONE]\n\n",
        "x".repeat(300)
    );
    let server = Server::start(vec![Reply::sse(body)]).await;
    let drained = drain(openai(&server).stream(request()).await.unwrap()).await;
    assert_eq!(drained.answer.text, "ok");
    match drained.error {
        Some(ProviderError::Malformed { excerpt, .. }) => {
            assert!(excerpt.starts_with("{\"choices\":[{\"delta\""), "{excerpt}");
            assert!(excerpt.chars().count() <= 120, "{excerpt}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[tokio::test]
async fn error_objects_inside_streams() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"par\"}}]}\n\n\
data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"code\":null}}\n\n";
    let server = Server::start(vec![Reply::sse(body)]).await;
    let drained = drain(openai(&server).stream(request()).await.unwrap()).await;
    assert_eq!(drained.answer.text, "par");
    assert_eq!(
        drained.error,
        Some(ProviderError::Api {
            kind: "server_error".into(),
            message: "The server had an error".into()
        })
    );

    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n\
event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Partial\"}}\n\n\
event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let server = Server::start(vec![Reply::sse(body)]).await;
    let drained = drain(anthropic(&server).stream(request()).await.unwrap()).await;
    assert_eq!(drained.answer.text, "Partial");
    assert_eq!(
        drained.error,
        Some(ProviderError::Overloaded {
            attempts: 1,
            message: "Overloaded".into()
        })
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn connection_refused_names_the_url_and_hints_at_ollama() {
    // Bind then drop, so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut settings = settings(ProviderKind::Ollama, format!("http://127.0.0.1:{port}/v1"));
    settings.api_key = None;
    let err = OpenAiProvider::new(settings)
        .unwrap()
        .stream(request())
        .await
        .err()
        .unwrap();
    match &err {
        ProviderError::Connect { url, hint, .. } => {
            assert_eq!(url, &format!("http://127.0.0.1:{port}/v1/chat/completions"));
            assert_eq!(hint, " (is Ollama running?)");
        }
        other => panic!("expected Connect, got {other:?}"),
    }
}

#[tokio::test]
async fn silence_longer_than_the_idle_timeout_is_a_timeout() {
    let server = Server::start(vec![
        Reply::sse(openai_words(3)).in_writes_of(60, Duration::from_millis(1500)),
    ])
    .await;
    let provider = openai_with(&server, |settings| {
        settings.idle_timeout = Duration::from_millis(300)
    });
    let drained = drain(provider.stream(request()).await.unwrap()).await;
    assert!(
        matches!(drained.error, Some(ProviderError::Timeout { .. })),
        "{:?}",
        drained.error
    );
}
