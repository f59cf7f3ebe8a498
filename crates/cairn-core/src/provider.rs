//! The model-provider boundary: a request in, a stream of deltas out.
//!
//! Providers live in their own crate; the front ends only see [`ModelProvider`]. Dropping a
//! [`ModelStream`] must cancel the underlying request at once (a real server stops
//! generating when its connection closes), which is how Esc and Ctrl+C cancel an answer.

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::event::TokenUsage;
use crate::tool::ToolDeclaration;

/// Who said a message, as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// One piece of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Part {
    Text {
        text: String,
    },
    /// A note from Cairn, not the user's words (the resume boundary), carried in the user
    /// turn it precedes: a system message there would break strict chat templates.
    /// Dialects send it as text marked as coming from Cairn.
    Context {
        text: String,
    },
    ToolCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    ToolResult {
        call_id: String,
        output: String,
        is_error: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub parts: Vec<Part>,
}

impl Message {
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Self {
            role,
            parts: vec![Part::Text { text: text.into() }],
        }
    }
}

/// A complete, dialect-neutral request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRequest {
    pub model: String,
    /// The system prompt (workspace context and instructions).
    pub system: String,
    pub messages: Vec<Message>,
    pub max_output_tokens: Option<u32>,
    /// The tools the model may call; empty means none are declared.
    #[serde(default)]
    pub tools: Vec<ToolDeclaration>,
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
    Refusal,
    Other(String),
}

impl FinishReason {
    /// The snake_case name used in JSON output.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Refusal => "refusal",
            FinishReason::Other(other) => other,
        }
    }
}

/// What a stream yields, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    TextDelta(String),
    /// A fragment of a tool call. Fragments with the same `index` belong to one call; `id` and
    /// `name` arrive with the first, `arguments` fragments are concatenated.
    ToolCallDelta {
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    /// Token usage so far; a later value replaces an earlier one.
    Usage(TokenUsage),
    /// The provider answered with a retryable error and the request will be sent again.
    Retrying {
        attempt: u32,
        max_attempts: u32,
        delay: Duration,
        reason: String,
    },
    Finished(FinishReason),
}

/// Provider failures, each with a message a user can act on.
/// Retryable (already retried inside the provider before surfacing): `RateLimited`,
/// `Server`, `Overloaded`. Never retried: everything else.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("authentication failed ({status}): check your API key (env var {key_env}). {message}")]
    Auth {
        status: u16,
        key_env: String,
        message: String,
    },
    #[error("rate limited by the provider (429) after {attempts} attempts: {message}")]
    RateLimited { attempts: u32, message: String },
    #[error("the provider is overloaded after {attempts} attempts: {message}")]
    Overloaded { attempts: u32, message: String },
    #[error("the provider answered {status} after {attempts} attempts: {message}")]
    Server {
        status: u16,
        attempts: u32,
        message: String,
    },
    /// A 4xx the request itself caused (bad model name...).
    #[error("the provider rejected the request ({status}): {message}")]
    BadRequest { status: u16, message: String },
    /// The request does not fit the model's context window (OpenAI's
    /// `context_length_exceeded`, Anthropic's "prompt is too long", llama.cpp's
    /// `exceed_context_size_error`). Not retryable as it was: only with less history.
    #[error("the conversation is too long for the model's context window ({status}): {message}")]
    ContextTooLong { status: u16, message: String },
    #[error("could not connect to {url}: {reason}{hint}")]
    Connect {
        url: String,
        reason: String,
        hint: String,
    },
    #[error("timed out {what} after {seconds}s")]
    Timeout { what: String, seconds: u64 },
    /// The stream ended early; the partial answer is kept and marked interrupted.
    #[error("the answer was cut off: {reason}")]
    StreamDropped { reason: String },
    /// The provider sent something we cannot parse.
    #[error("the provider sent a malformed chunk ({reason}): {excerpt}")]
    Malformed { reason: String, excerpt: String },
    /// An error object inside the stream.
    #[error("the provider reported an error: {message}")]
    Api { kind: String, message: String },
    #[error("provider configuration: {0}")]
    Config(String),
}

impl ProviderError {
    /// Whether the provider or model refused the request because it declared tools: then
    /// the turn is worth one more try without them. Matches what servers really answer:
    /// Ollama and OpenAI "does not support tools", llama.cpp "tools param requires --jinja
    /// flag" (a 500), vLLM "requires --enable-auto-tool-choice", and 4xx errors naming
    /// `tools` as an unknown or unsupported parameter.
    pub fn rejects_tools(&self) -> bool {
        match self {
            ProviderError::BadRequest { message, .. }
            | ProviderError::Server { message, .. }
            | ProviderError::Api { message, .. } => is_tools_rejection(message),
            ProviderError::Auth { .. }
            | ProviderError::RateLimited { .. }
            | ProviderError::Overloaded { .. }
            | ProviderError::Connect { .. }
            | ProviderError::Timeout { .. }
            | ProviderError::StreamDropped { .. }
            | ProviderError::Malformed { .. }
            | ProviderError::ContextTooLong { .. }
            | ProviderError::Config(_) => false,
        }
    }
}

/// Whether an error message says that tools are not supported (see
/// [`ProviderError::rejects_tools`]).
pub fn is_tools_rejection(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    if !message.contains("tool") {
        return false;
    }
    [
        "not support",
        "unsupported",
        "not supported",
        "--jinja",
        "enable-auto-tool-choice",
        "unknown",
        "unrecognized",
        "not allowed",
        "not permitted",
        "extra inputs",
        "extra_forbidden",
    ]
    .iter()
    .any(|sign| message.contains(sign))
}

pub type ModelStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>;

/// What the status line shows about the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderInfo {
    /// `openai`, `anthropic`, `ollama` or `echo`.
    pub kind: String,
    pub model: String,
    /// True for providers that never touch the network (echo).
    pub offline: bool,
}

impl ProviderInfo {
    /// `kind/model`, with `(offline)` for offline providers.
    pub fn label(&self) -> String {
        if self.offline {
            format!("{}/{} (offline)", self.kind, self.model)
        } else {
            format!("{}/{}", self.kind, self.model)
        }
    }
}

#[async_trait]
pub trait ModelProvider: Send + Sync {
    fn info(&self) -> ProviderInfo;

    /// The model's context window in tokens, used to budget the history.
    fn context_window(&self) -> u64;

    /// Starts a streamed answer. Errors before the first byte (auth, connect, retries
    /// exhausted) come back here; errors later come through the stream.
    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ProviderError>;

    /// The names of the models the provider offers, sorted, for `/model` to list.
    async fn list_models(&self) -> Result<Vec<String>, ProviderError>;
}

/// The text `provider` answers to `request`, read until the answer ends or passes
/// `max_bytes`: a model that rambles is cut off, not read to the end. For short requests
/// beside the conversation (a title, a summary), where tool calls and usage do not matter.
pub async fn reply_text(
    provider: &dyn ModelProvider,
    request: ModelRequest,
    max_bytes: usize,
) -> Result<String, ProviderError> {
    use futures::StreamExt;
    let mut stream = provider.stream(request).await?;
    let mut reply = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::TextDelta(text) => {
                if reply.len() > max_bytes {
                    break;
                }
                reply.push_str(&text);
            }
            StreamEvent::Finished(_) => break,
            StreamEvent::ToolCallDelta { .. }
            | StreamEvent::Usage(_)
            | StreamEvent::Retrying { .. } => {}
        }
    }
    Ok(reply)
}

/// `reply` without a reasoning model's `<think>…</think>` block before the answer.
pub fn after_thinking(reply: &str) -> &str {
    match reply.rfind("</think>") {
        Some(end) => &reply[end + "</think>".len()..],
        None => reply,
    }
}
