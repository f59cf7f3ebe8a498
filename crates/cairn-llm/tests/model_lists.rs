//! The model lists `/model` shows, read from a loopback server speaking each provider's
//! format: OpenAI's `/v1/models`, Ollama's `/api/tags`, Anthropic's `/v1/models`.

// Helpers outside #[test] functions panic too: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/harness.rs"]
mod harness;
#[path = "support/loopback.rs"]
mod loopback;

use cairn_core::config::ProviderKind;
use cairn_core::provider::{ModelProvider, ProviderError};
use cairn_llm::{AnthropicProvider, OpenAiProvider};
use harness::{TEST_KEY, settings};
use loopback::{Reply, Server};
use pretty_assertions::assert_eq;

fn json(body: &str) -> Reply {
    Reply::status(200, "application/json", body)
}

#[tokio::test]
async fn openai_lists_the_ids_of_v1_models_sorted() {
    let server = Server::start(vec![json(
        r#"{"object":"list","data":[{"id":"gpt-b","object":"model"},{"id":"gpt-a"},{"no":"id"}]}"#,
    )])
    .await;
    let provider = OpenAiProvider::new(settings(
        ProviderKind::Openai,
        format!("{}/v1", server.url()),
    ))
    .unwrap();
    assert_eq!(provider.list_models().await.unwrap(), ["gpt-a", "gpt-b"]);
    let sent = &server.requests()[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {TEST_KEY}").as_str())
    );
}

#[tokio::test]
async fn ollama_lists_its_tags() {
    let server = Server::start(vec![json(
        r#"{"models":[{"name":"qwen3:8b","size":1},{"name":"llama3.2:latest"}]}"#,
    )])
    .await;
    let mut settings = settings(ProviderKind::Ollama, format!("{}/v1", server.url()));
    settings.api_key = None;
    let provider = OpenAiProvider::new(settings).unwrap();
    assert_eq!(
        provider.list_models().await.unwrap(),
        ["llama3.2:latest", "qwen3:8b"]
    );
    assert_eq!(server.requests()[0].path, "/api/tags");
}

#[tokio::test]
async fn anthropic_lists_v1_models_with_its_headers() {
    let server = Server::start(vec![json(
        r#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude"}],"has_more":false}"#,
    )])
    .await;
    let provider = AnthropicProvider::new(settings(ProviderKind::Anthropic, server.url())).unwrap();
    assert_eq!(provider.list_models().await.unwrap(), ["claude-sonnet-4-5"]);
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/v1/models?limit=1000");
    assert_eq!(sent.header("x-api-key"), Some(TEST_KEY));
    assert!(sent.header("anthropic-version").is_some());
}

#[tokio::test]
async fn a_refused_key_says_which_variable_holds_it() {
    let server = Server::start(vec![Reply::status(
        401,
        "application/json",
        r#"{"error":{"message":"bad key"}}"#,
    )])
    .await;
    let provider = OpenAiProvider::new(settings(
        ProviderKind::Openai,
        format!("{}/v1", server.url()),
    ))
    .unwrap();
    let error = provider.list_models().await.unwrap_err();
    assert!(
        matches!(&error, ProviderError::Auth { status: 401, message, .. } if message.contains("bad key")),
        "{error:?}"
    );
}
