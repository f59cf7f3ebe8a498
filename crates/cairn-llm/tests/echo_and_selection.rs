//! The offline echo provider through the trait, and choosing a provider from overrides,
//! configuration and the environment.

// Helpers outside #[test] functions panic too: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/harness.rs"]
mod harness;
#[path = "support/loopback.rs"]
mod loopback;

use std::collections::HashMap;
use std::time::Duration;

use cairn_core::TokenUsage;
use cairn_core::config::{ProviderConfig, ProviderKind};
use cairn_core::provider::{
    FinishReason, Message, ModelProvider, ModelRequest, Part, ProviderError, ProviderInfo, Role,
    StreamEvent,
};
use cairn_llm::{EchoProvider, ProviderOverrides, select_provider};
use futures::StreamExt;
use harness::{TEST_KEY, drain, request};
use loopback::{Reply, Server};
use pretty_assertions::assert_eq;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    move |key| map.get(key).cloned()
}

/// An OLLAMA_HOST that nothing listens on, so auto-detection never finds a real Ollama.
fn closed_port() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

#[tokio::test]
async fn echo_repeats_the_latest_message_and_counts_user_messages() {
    let provider = EchoProvider::new(Duration::ZERO, 1_000_000);
    assert_eq!(
        provider.info(),
        ProviderInfo {
            kind: "echo".into(),
            model: "echo".into(),
            offline: true
        }
    );
    assert_eq!(provider.context_window(), 1_000_000);
    let mut request = request();
    request.messages.push(Message {
        role: Role::User,
        parts: vec![Part::ToolResult {
            call_id: "c".into(),
            output: "not the user".into(),
            is_error: false,
        }],
    });
    request
        .messages
        .push(Message::text(Role::User, "third  question,\nverbatim"));
    let drained = drain(provider.stream(request).await.unwrap()).await;
    assert_eq!(drained.error, None);
    assert_eq!(
        drained.answer.text,
        "echo: third  question,\nverbatim\n\n(offline echo provider: 3 user messages in context)"
    );
    let deltas = drained
        .events
        .iter()
        .filter(|event| matches!(event, StreamEvent::TextDelta(_)))
        .count();
    assert_eq!(deltas, 12, "one delta per word");
    assert_eq!(drained.answer.finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        drained.answer.usage,
        Some(TokenUsage {
            input_tokens: 3 + 2 + 2 + 4 + 2 + 3 + 3,
            output_tokens: 12
        })
    );
}

// Paused time: the delay is measured on tokio's clock, exactly, however loaded the machine.
#[tokio::test(start_paused = true)]
async fn echo_streams_word_by_word_and_stops_when_dropped() {
    let provider = EchoProvider::new(Duration::from_millis(30), 1000);
    let request = ModelRequest {
        model: "echo".into(),
        system: String::new(),
        messages: vec![Message::text(Role::User, "one two three four five six")],
        max_output_tokens: None,
        tools: Vec::new(),
    };
    let started = tokio::time::Instant::now();
    let mut stream = provider.stream(request).await.unwrap();
    assert_eq!(
        stream.next().await,
        Some(Ok(StreamEvent::TextDelta("echo: ".into())))
    );
    assert_eq!(
        stream.next().await,
        Some(Ok(StreamEvent::TextDelta("one ".into())))
    );
    assert!(started.elapsed() >= Duration::from_millis(30));
    // Nothing runs outside the stream: dropping it is the whole cancellation.
    drop(stream);
}

#[tokio::test]
async fn explicit_choices_win_and_say_why() {
    let ollama = closed_port();
    let env = env_of(&[
        ("ANTHROPIC_API_KEY", TEST_KEY),
        ("OPENAI_API_KEY", TEST_KEY),
        ("OLLAMA_HOST", &ollama),
    ]);
    let config = ProviderConfig {
        kind: Some(ProviderKind::Anthropic),
        model: Some("claude-x".into()),
        ..ProviderConfig::default()
    };

    let selection = select_provider(&config, &ProviderOverrides::default(), &env)
        .await
        .unwrap();
    assert_eq!(
        selection.reason,
        "using anthropic (kind = \"anthropic\" in config.toml)"
    );
    assert_eq!(selection.provider.info().model, "claude-x");
    assert_eq!(selection.provider.context_window(), 200_000);

    let overrides = ProviderOverrides {
        kind: Some(ProviderKind::Openai),
        model: Some("gpt-x".into()),
    };
    let selection = select_provider(&config, &overrides, &env).await.unwrap();
    assert_eq!(
        selection.reason,
        "using openai (chosen with --provider or CAIRN_PROVIDER)"
    );
    assert_eq!(selection.provider.info().model, "gpt-x");
    assert_eq!(selection.provider.context_window(), 128_000);

    // CAIRN_MODEL beats the config's model; a config model for anthropic does not leak to
    // another provider.
    let env = env_of(&[
        ("OPENAI_API_KEY", TEST_KEY),
        ("CAIRN_PROVIDER", "openai"),
        ("OLLAMA_HOST", &ollama),
    ]);
    let selection = select_provider(&config, &ProviderOverrides::default(), &env)
        .await
        .unwrap();
    assert_eq!(selection.reason, "using openai (CAIRN_PROVIDER is set)");
    assert_eq!(selection.provider.info().model, "gpt-4o-mini");
    let env = env_of(&[("ANTHROPIC_API_KEY", TEST_KEY), ("CAIRN_MODEL", "claude-y")]);
    let selection = select_provider(&config, &ProviderOverrides::default(), &env)
        .await
        .unwrap();
    assert_eq!(selection.provider.info().model, "claude-y");
}

// Paused time: "the probe gives up quickly" is a fact about the timeout, not about the
// machine's load.
#[tokio::test(start_paused = true)]
async fn auto_detection_order() {
    let ollama = closed_port();
    let none = ProviderConfig::default();
    let overrides = ProviderOverrides::default();
    let both = env_of(&[
        ("ANTHROPIC_API_KEY", TEST_KEY),
        ("OPENAI_API_KEY", TEST_KEY),
        ("OLLAMA_HOST", &ollama),
    ]);
    let selection = select_provider(&none, &overrides, &both).await.unwrap();
    assert_eq!(
        selection.reason,
        "using anthropic (ANTHROPIC_API_KEY is set)"
    );
    assert_eq!(selection.provider.info().model, "claude-sonnet-4-5");

    let openai = env_of(&[("OPENAI_API_KEY", TEST_KEY), ("OLLAMA_HOST", &ollama)]);
    let selection = select_provider(&none, &overrides, &openai).await.unwrap();
    assert_eq!(selection.reason, "using openai (OPENAI_API_KEY is set)");
    assert!(!format!("{selection:?}").contains(TEST_KEY));

    let nothing = env_of(&[("OLLAMA_HOST", &ollama)]);
    let started = tokio::time::Instant::now();
    let selection = select_provider(&none, &overrides, &nothing).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        selection.reason,
        format!(
            "using the offline echo provider: no ANTHROPIC_API_KEY or OPENAI_API_KEY and no \
             Ollama at http://{ollama}. Set a key or configure [provider] in config.toml"
        )
    );
    assert_eq!(selection.provider.info().kind, "echo");
    assert_eq!(selection.provider.context_window(), 1_000_000);
}

#[tokio::test]
async fn a_running_ollama_is_detected_and_its_first_model_used() {
    let server = Server::start(vec![Reply::status(
        200,
        "application/json",
        r#"{"models":[{"name":"qwen2.5:0.5b","size":1},{"name":"llama3.2:latest"}]}"#,
    )])
    .await;
    // `host:port` without a scheme, as people write OLLAMA_HOST.
    let host = server.addr.to_string();
    let env = env_of(&[("OLLAMA_HOST", &host)]);
    let selection = select_provider(
        &ProviderConfig::default(),
        &ProviderOverrides::default(),
        &env,
    )
    .await
    .unwrap();
    assert_eq!(
        selection.reason,
        format!("using ollama (an Ollama server answers at http://{host})")
    );
    assert_eq!(
        selection.provider.info(),
        ProviderInfo {
            kind: "ollama".into(),
            model: "qwen2.5:0.5b".into(),
            offline: false
        }
    );
    assert_eq!(selection.provider.context_window(), 8192);
    assert_eq!(server.requests()[0].path, "/api/tags");
}

#[tokio::test]
async fn keys_are_required_for_the_real_apis_only() {
    let config = ProviderConfig {
        kind: Some(ProviderKind::Openai),
        ..ProviderConfig::default()
    };
    let err = select_provider(&config, &ProviderOverrides::default(), &env_of(&[]))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(&err, ProviderError::Config(message) if message.contains("OPENAI_API_KEY")),
        "{err:?}"
    );

    let local = ProviderConfig {
        kind: Some(ProviderKind::Openai),
        base_url: Some("http://127.0.0.1:1234/v1".into()),
        model: Some("local-model".into()),
        ..ProviderConfig::default()
    };
    let selection = select_provider(&local, &ProviderOverrides::default(), &env_of(&[]))
        .await
        .unwrap();
    assert_eq!(selection.provider.info().model, "local-model");

    let anthropic = ProviderConfig {
        kind: Some(ProviderKind::Anthropic),
        api_key_env: Some("MY_CLAUDE_KEY".into()),
        ..ProviderConfig::default()
    };
    let err = select_provider(&anthropic, &ProviderOverrides::default(), &env_of(&[]))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("MY_CLAUDE_KEY"), "{err}");
    assert!(
        select_provider(
            &anthropic,
            &ProviderOverrides::default(),
            &env_of(&[("MY_CLAUDE_KEY", TEST_KEY)])
        )
        .await
        .is_ok()
    );

    let bad = env_of(&[("CAIRN_PROVIDER", "gpt")]);
    let err = select_provider(
        &ProviderConfig::default(),
        &ProviderOverrides::default(),
        &bad,
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, ProviderError::Config(_)), "{err:?}");
}

#[tokio::test(start_paused = true)]
async fn echo_from_config_uses_its_delay_and_window() {
    let config = ProviderConfig {
        kind: Some(ProviderKind::Echo),
        echo_word_delay_ms: Some(0),
        context_window: Some(5000),
        ..ProviderConfig::default()
    };
    let selection = select_provider(&config, &ProviderOverrides::default(), &env_of(&[]))
        .await
        .unwrap();
    assert_eq!(
        selection.reason,
        "using the offline echo provider (kind = \"echo\" in config.toml)"
    );
    assert_eq!(selection.provider.context_window(), 5000);
    let started = tokio::time::Instant::now();
    let drained = drain(selection.provider.stream(request()).await.unwrap()).await;
    // On tokio's paused clock a zero delay takes no time at all.
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(drained.answer.text.starts_with("echo: second question\n"));
}
