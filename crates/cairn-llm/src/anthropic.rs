//! The Anthropic Messages dialect.
//!
//! Invariants:
//! - Requests go to `{base_url}/v1/messages` with `x-api-key` (when there is a key),
//!   `anthropic-version: 2023-06-01`, `stream: true` and a `max_tokens` (which the API
//!   requires).
//! - Messages alternate strictly: consecutive same-role messages are merged, a
//!   mid-conversation system message becomes user text wrapped in `<system-context>`, and
//!   in a merged user message tool results come first (the API requires it).
//! - Only client `tool_use` blocks become tool-call deltas, numbered 0, 1, ... in order of
//!   appearance; server tools (web search...) run at Anthropic and are not ours to run.
//! - Usage: `input_tokens` counts cached input too (cache reads and writes), since that is
//!   what filled the context; `output_tokens` is a running total, so the last value wins.
//! - Unknown event and block types are ignored; an `error` event ends the stream.

use std::collections::{HashMap, VecDeque};

use async_trait::async_trait;
use bytes::Bytes;
use cairn_core::TokenUsage;
use cairn_core::provider::{
    FinishReason, ModelProvider, ModelRequest, ModelStream, Part, ProviderError, ProviderInfo,
    Role, StreamEvent,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{
    DialectParser, Driver, Exchange, Item, build_client, dropped_before_end, error_from_value,
    malformed, stream_headers,
};
use crate::models::{ModelList, fetch_model_names};
use crate::server_numbers::token_count;
use crate::settings::{DEFAULT_ANTHROPIC_MAX_TOKENS, ProviderSettings};
use crate::sse::SseEvent;

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// A provider speaking Anthropic Messages.
#[derive(Debug)]
pub struct AnthropicProvider {
    settings: ProviderSettings,
    client: reqwest::Client,
}

impl AnthropicProvider {
    pub fn new(settings: ProviderSettings) -> Result<Self, ProviderError> {
        let client = build_client(&settings)?;
        Ok(Self { settings, client })
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = stream_headers(
            &self.settings,
            HeaderName::from_static("x-api-key"),
            /*key_prefix*/ "",
        )?;
        headers.insert(
            "anthropic-version",
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
        Ok(headers)
    }
}

#[async_trait]
impl ModelProvider for AnthropicProvider {
    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            kind: self.settings.kind.as_str().to_owned(),
            model: self.settings.model.clone(),
            offline: false,
        }
    }

    fn context_window(&self) -> u64 {
        self.settings.context_window
    }

    async fn list_models(&self) -> Result<Vec<String>, ProviderError> {
        let list = ModelList {
            url: self.settings.endpoint("/v1/models?limit=1000"),
            list: "data",
            field: "id",
        };
        fetch_model_names(&self.settings, &self.client, self.headers()?, list).await
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ProviderError> {
        let body = request_body(&request, &self.settings);
        let exchange = Exchange {
            client: self.client.clone(),
            url: self.settings.endpoint("/v1/messages"),
            headers: self.headers()?,
            body: Bytes::from(body.to_string()),
            settings: self.settings.clone(),
        };
        Driver::start(exchange, MessagesParser::default()).await
    }
}

/// The JSON body of a streamed Messages request.
pub(crate) fn request_body(request: &ModelRequest, settings: &ProviderSettings) -> Value {
    let model = settings.model_for(&request.model);
    // (role, content blocks), merged as we go so roles alternate.
    let mut turns: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let role = match message.role {
            Role::User => "user",
            Role::Assistant => "assistant",
        };
        let blocks: Vec<Value> = message
            .parts
            .iter()
            .filter_map(|part| match part {
                Part::Text { text } if text.is_empty() => None,
                Part::Text { text } => Some(json!({ "type": "text", "text": text })),
                Part::Context { text } if text.is_empty() => None,
                Part::Context { text } => Some(json!({
                    "type": "text",
                    "text": format!("<system-context>\n{text}\n</system-context>"),
                })),
                Part::ToolCall {
                    call_id,
                    name,
                    arguments,
                } => Some(json!({
                    "type": "tool_use",
                    "id": call_id,
                    "name": name,
                    "input": tool_input(arguments),
                })),
                Part::ToolResult {
                    call_id,
                    output,
                    is_error,
                } => Some(json!({
                    "type": "tool_result",
                    "tool_use_id": call_id,
                    "content": output,
                    "is_error": is_error,
                })),
            })
            .collect();
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last_role, content)) if *last_role == role => content.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, mut content)| {
            // Stable: results keep their order, and so does the text after them.
            content.sort_by_key(|block| block["type"] != "tool_result");
            json!({ "role": role, "content": content })
        })
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": request
            .max_output_tokens
            .or(settings.max_output_tokens)
            .unwrap_or(DEFAULT_ANTHROPIC_MAX_TOKENS),
        "messages": messages,
        "stream": true,
    });
    if !request.system.is_empty() {
        body["system"] = json!(request.system);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": tool.parameters,
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

/// The API wants `input` as an object; models do produce invalid JSON, which is kept as a
/// string under `_raw` rather than lost.
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(value @ Value::Object(_)) => value,
        Ok(_) | Err(_) if arguments.trim().is_empty() => json!({}),
        Ok(_) | Err(_) => json!({ "_raw": arguments }),
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: u32,
        content_block: ContentBlock,
    },
    ContentBlockDelta {
        index: u32,
        delta: BlockDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        #[serde(default)]
        delta: Option<MessageDeltaBody>,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct MessageStart {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        #[serde(default)]
        id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        input: Option<Value>,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        #[serde(default)]
        text: String,
    },
    InputJsonDelta {
        #[serde(default)]
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Default, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default, deserialize_with = "token_count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "token_count")]
    output_tokens: Option<u64>,
    #[serde(default, deserialize_with = "token_count")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "token_count")]
    cache_read_input_tokens: Option<u64>,
}

/// A `tool_use` block in progress.
#[derive(Debug)]
struct OpenToolBlock {
    tool_index: u32,
    /// `input` from `content_block_start`, sent only if no `input_json_delta` follows.
    start_input: Option<String>,
    saw_delta: bool,
}

/// Folds Messages events into stream events.
#[derive(Debug, Default)]
pub(crate) struct MessagesParser {
    tool_blocks: HashMap<u32, OpenToolBlock>,
    tool_count: u32,
    usage: TokenUsage,
    saw_usage: bool,
    stop_reason: Option<FinishReason>,
}

fn stop_reason(text: &str) -> FinishReason {
    match text {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::Refusal,
        other => FinishReason::Other(other.to_owned()),
    }
}

impl MessagesParser {
    fn apply_usage(&mut self, usage: &WireUsage, out: &mut VecDeque<Item>) {
        // Saturating: the counts are the server's, and a sum must not overflow.
        let cached = usage
            .cache_creation_input_tokens
            .unwrap_or(0)
            .saturating_add(usage.cache_read_input_tokens.unwrap_or(0));
        if usage.input_tokens.is_some() || cached > 0 {
            self.usage.input_tokens = usage.input_tokens.unwrap_or(0).saturating_add(cached);
        }
        if let Some(output) = usage.output_tokens {
            self.usage.output_tokens = output;
        }
        self.saw_usage = true;
        out.push_back(Ok(StreamEvent::Usage(self.usage)));
    }

    /// Sends the start `input` of tool blocks that never got a delta.
    fn close_block(&mut self, index: u32, out: &mut VecDeque<Item>) {
        if let Some(OpenToolBlock {
            tool_index,
            start_input: Some(input),
            saw_delta: false,
        }) = self.tool_blocks.remove(&index)
        {
            out.push_back(Ok(StreamEvent::ToolCallDelta {
                index: tool_index,
                id: None,
                name: None,
                arguments: input,
            }));
        }
    }

    fn finish(&mut self, out: &mut VecDeque<Item>) {
        let mut open: Vec<u32> = self.tool_blocks.keys().copied().collect();
        open.sort_unstable();
        for index in open {
            self.close_block(index, out);
        }
        let reason = self.stop_reason.take().unwrap_or(FinishReason::Stop);
        out.push_back(Ok(StreamEvent::Finished(reason)));
    }
}

impl DialectParser for MessagesParser {
    fn on_event(&mut self, event: &SseEvent, attempts: u32, out: &mut VecDeque<Item>) -> bool {
        let data = event.data.trim();
        if data.is_empty() {
            return false;
        }
        let wire: WireEvent = match serde_json::from_str(data) {
            Ok(wire) => wire,
            Err(err) => {
                out.push_back(Err(malformed(err, data)));
                return true;
            }
        };
        match wire {
            WireEvent::MessageStart { message } => {
                if let Some(usage) = message.usage {
                    self.apply_usage(&usage, out);
                }
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                ContentBlock::Text { text } => {
                    if !text.is_empty() {
                        out.push_back(Ok(StreamEvent::TextDelta(text)));
                    }
                }
                ContentBlock::ToolUse { id, name, input } => {
                    let tool_index = self.tool_count;
                    self.tool_count = self.tool_count.saturating_add(1);
                    let start_input = input
                        .filter(|input| input.as_object().is_none_or(|map| !map.is_empty()))
                        .map(|input| input.to_string());
                    self.tool_blocks.insert(
                        index,
                        OpenToolBlock {
                            tool_index,
                            start_input,
                            saw_delta: false,
                        },
                    );
                    out.push_back(Ok(StreamEvent::ToolCallDelta {
                        index: tool_index,
                        id,
                        name,
                        arguments: String::new(),
                    }));
                }
                ContentBlock::Other => {}
            },
            WireEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => {
                    if !text.is_empty() {
                        out.push_back(Ok(StreamEvent::TextDelta(text)));
                    }
                }
                BlockDelta::InputJsonDelta { partial_json } => {
                    if let Some(block) = self.tool_blocks.get_mut(&index) {
                        block.saw_delta = true;
                        out.push_back(Ok(StreamEvent::ToolCallDelta {
                            index: block.tool_index,
                            id: None,
                            name: None,
                            arguments: partial_json,
                        }));
                    }
                }
                BlockDelta::Other => {}
            },
            WireEvent::ContentBlockStop { index } => self.close_block(index, out),
            WireEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.and_then(|delta| delta.stop_reason) {
                    self.stop_reason = Some(stop_reason(&reason));
                }
                if let Some(usage) = usage {
                    self.apply_usage(&usage, out);
                }
            }
            WireEvent::MessageStop => {
                self.finish(out);
                return true;
            }
            WireEvent::Ping | WireEvent::Unknown => {}
            WireEvent::Error { error } => {
                let (kind, message) =
                    error_from_value(&error).unwrap_or_else(|| (String::new(), error.to_string()));
                let err = if kind == "overloaded_error" {
                    // Not retried: part of the answer may already be on screen.
                    ProviderError::Overloaded { attempts, message }
                } else {
                    ProviderError::Api { kind, message }
                };
                out.push_back(Err(err));
                return true;
            }
        }
        false
    }

    fn on_eof(&mut self, out: &mut VecDeque<Item>) {
        if self.stop_reason.is_some() {
            self.finish(out);
        } else {
            out.push_back(Err(dropped_before_end()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::config::ProviderKind;
    use cairn_core::provider::Message;
    use pretty_assertions::assert_eq;

    #[test]
    fn request_wraps_context_notes_and_keeps_results_first() {
        let request = ModelRequest {
            model: String::new(),
            system: "sys".into(),
            messages: vec![
                Message::text(Role::User, "hi"),
                Message {
                    role: Role::Assistant,
                    parts: vec![
                        Part::Text {
                            text: "Looking.".into(),
                        },
                        Part::ToolCall {
                            call_id: "t1".into(),
                            name: "ls".into(),
                            arguments: "{\"dir\":".into(),
                        },
                    ],
                },
                Message {
                    role: Role::User,
                    parts: vec![
                        Part::ToolResult {
                            call_id: "t1".into(),
                            output: "a.rs".into(),
                            is_error: true,
                        },
                        Part::Context {
                            text: "resumed".into(),
                        },
                        Part::Text {
                            text: "next".into(),
                        },
                    ],
                },
            ],
            max_output_tokens: None,
            tools: Vec::new(),
        };
        let settings = ProviderSettings::new(ProviderKind::Anthropic);
        assert_eq!(
            request_body(&request, &settings),
            json!({
                "model": "claude-sonnet-4-5",
                "max_tokens": 4096,
                "system": "sys",
                "stream": true,
                "messages": [
                    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                    {"role": "assistant", "content": [
                        {"type": "text", "text": "Looking."},
                        {"type": "tool_use", "id": "t1", "name": "ls", "input": {"_raw": "{\"dir\":"}},
                    ]},
                    {"role": "user", "content": [
                        {"type": "tool_result", "tool_use_id": "t1", "content": "a.rs", "is_error": true},
                        {"type": "text", "text": "<system-context>\nresumed\n</system-context>"},
                        {"type": "text", "text": "next"},
                    ]},
                ],
            })
        );
    }

    fn list_dir_declaration() -> Vec<cairn_core::tool::ToolDeclaration> {
        cairn_core::tool::declarations()
            .into_iter()
            .filter(|tool| tool.name == cairn_core::tool::LIST_DIR)
            .collect()
    }

    #[test]
    fn tools_are_declared_with_input_schemas() {
        let request = ModelRequest {
            model: "m".into(),
            system: String::new(),
            messages: vec![Message::text(Role::User, "hi")],
            max_output_tokens: None,
            tools: list_dir_declaration(),
        };
        let body = request_body(&request, &ProviderSettings::new(ProviderKind::Anthropic));
        assert_eq!(
            body["tools"],
            json!([{
                "name": "list_dir",
                "description": request.tools[0].description,
                "input_schema": request.tools[0].parameters,
            }])
        );
        let mut without = request;
        without.tools.clear();
        let body = request_body(&without, &ProviderSettings::new(ProviderKind::Anthropic));
        assert_eq!(body.get("tools"), None);
    }
}
