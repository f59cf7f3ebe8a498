//! The OpenAI-compatible Chat Completions dialect: OpenAI, Ollama's `/v1`, LM Studio, vLLM,
//! llama.cpp's server, OpenRouter, Groq.
//!
//! Invariants:
//! - Requests go to `{base_url}/chat/completions` with `stream: true` and
//!   `stream_options.include_usage`; `Authorization: Bearer` only when there is a key.
//! - Only choice index 0 is read (a request never asks for more, but servers may send them).
//! - Chunks are parsed leniently: `choices` missing, `null`, `[]`; `content` missing or
//!   `null`; unknown fields. An `error` object in a chunk ends the stream with an error.
//! - `Finished` is the last item, after usage: the finish reason is held until `[DONE]` (or
//!   the end of the body, for servers that leave `[DONE]` out).

use std::collections::VecDeque;

use async_trait::async_trait;
use bytes::Bytes;
use cairn_core::TokenUsage;
use cairn_core::config::ProviderKind;
use cairn_core::provider::{
    FinishReason, Message, ModelProvider, ModelRequest, ModelStream, Part, ProviderError,
    ProviderInfo, Role, StreamEvent,
};
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{
    DialectParser, Driver, Exchange, Item, build_client, dropped_before_end, error_from_value,
    malformed, stream_headers,
};
use crate::models::{ModelList, fetch_model_names};
use crate::server_numbers::token_count;
use crate::settings::ProviderSettings;
use crate::sse::SseEvent;

/// A provider speaking OpenAI Chat Completions.
#[derive(Debug)]
pub struct OpenAiProvider {
    settings: ProviderSettings,
    client: reqwest::Client,
}

impl OpenAiProvider {
    pub fn new(settings: ProviderSettings) -> Result<Self, ProviderError> {
        let client = build_client(&settings)?;
        Ok(Self { settings, client })
    }

    pub fn settings(&self) -> &ProviderSettings {
        &self.settings
    }

    fn headers(&self) -> Result<HeaderMap, ProviderError> {
        stream_headers(&self.settings, AUTHORIZATION, "Bearer ")
    }
}

#[async_trait]
impl ModelProvider for OpenAiProvider {
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
        let base = self.settings.base_url.trim_end_matches('/');
        // Ollama's own list has every pulled model; its `/v1` may be older than `/models`.
        let list = match (self.settings.kind, base.strip_suffix("/v1")) {
            (ProviderKind::Ollama, Some(host)) => ModelList {
                url: format!("{host}/api/tags"),
                list: "models",
                field: "name",
            },
            _ => ModelList {
                url: format!("{base}/models"),
                list: "data",
                field: "id",
            },
        };
        fetch_model_names(&self.settings, &self.client, self.headers()?, list).await
    }

    async fn stream(&self, request: ModelRequest) -> Result<ModelStream, ProviderError> {
        let body = request_body(&request, &self.settings);
        let exchange = Exchange {
            client: self.client.clone(),
            url: self.settings.endpoint("/chat/completions"),
            headers: self.headers()?,
            body: Bytes::from(body.to_string()),
            settings: self.settings.clone(),
        };
        Driver::start(exchange, ChatParser::default()).await
    }
}

/// The JSON body of a streamed Chat Completions request.
pub(crate) fn request_body(request: &ModelRequest, settings: &ProviderSettings) -> Value {
    let model = settings.model_for(&request.model);
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.is_empty() {
        messages.push(json!({ "role": "system", "content": request.system }));
    }
    for message in &request.messages {
        push_message(&mut messages, message);
    }
    let mut body = json!({
        "model": model,
        "messages": messages,
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if let Some(max) = request.max_output_tokens.or(settings.max_output_tokens) {
        // OpenAI's newer models accept only `max_completion_tokens`; the local servers that
        // copy the API know only `max_tokens`.
        let field = if settings.base_url.contains("://api.openai.com") {
            "max_completion_tokens"
        } else {
            "max_tokens"
        };
        body[field] = json!(max);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

fn joined_text(message: &Message) -> String {
    message
        .parts
        .iter()
        .filter_map(|part| match part {
            Part::Text { text } => Some(text.clone()),
            Part::Context { text } => Some(format!("[Cairn: {text}]")),
            Part::ToolCall { .. } | Part::ToolResult { .. } => None,
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn push_message(out: &mut Vec<Value>, message: &Message) {
    let text = joined_text(message);
    match message.role {
        Role::User => {
            // Tool results are `tool` messages of their own, right after the assistant
            // message that asked for them.
            for part in &message.parts {
                if let Part::ToolResult {
                    call_id, output, ..
                } = part
                {
                    out.push(json!({ "role": "tool", "tool_call_id": call_id, "content": output }));
                }
            }
            if !text.is_empty() {
                out.push(json!({ "role": "user", "content": text }));
            }
        }
        Role::Assistant => {
            let tool_calls: Vec<Value> = message
                .parts
                .iter()
                .filter_map(|part| match part {
                    Part::ToolCall {
                        call_id,
                        name,
                        arguments,
                    } => Some(json!({
                        "id": call_id,
                        "type": "function",
                        "function": { "name": name, "arguments": arguments },
                    })),
                    Part::Text { .. } | Part::Context { .. } | Part::ToolResult { .. } => None,
                })
                .collect();
            let mut value = json!({ "role": "assistant", "content": text });
            if !tool_calls.is_empty() {
                if text.is_empty() {
                    value["content"] = Value::Null;
                }
                value["tool_calls"] = Value::Array(tool_calls);
            }
            out.push(value);
        }
    }
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Usage {
    #[serde(default, deserialize_with = "token_count")]
    prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "token_count")]
    completion_tokens: Option<u64>,
}

/// Folds Chat Completions chunks into stream events.
#[derive(Debug, Default)]
pub(crate) struct ChatParser {
    finish: Option<FinishReason>,
    refused: bool,
}

impl ChatParser {
    fn finish(&mut self, out: &mut VecDeque<Item>) {
        let reason = match self.finish.take() {
            Some(FinishReason::Stop) | None if self.refused => FinishReason::Refusal,
            Some(reason) => reason,
            // `[DONE]` without a finish reason: the server considers the answer complete.
            None => FinishReason::Stop,
        };
        out.push_back(Ok(StreamEvent::Finished(reason)));
    }
}

fn finish_reason(text: &str) -> FinishReason {
    match text {
        "stop" | "end_turn" | "eos" => FinishReason::Stop,
        "length" | "max_tokens" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        "content_filter" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

impl DialectParser for ChatParser {
    fn on_event(&mut self, event: &SseEvent, _attempts: u32, out: &mut VecDeque<Item>) -> bool {
        let data = event.data.trim();
        if data.is_empty() {
            return false;
        }
        if data == "[DONE]" {
            self.finish(out);
            return true;
        }
        let chunk: Chunk = match serde_json::from_str(data) {
            Ok(chunk) => chunk,
            Err(err) => {
                out.push_back(Err(malformed(err, data)));
                return true;
            }
        };
        if let Some(error) = chunk.error.as_ref().filter(|error| !error.is_null()) {
            let (kind, message) =
                error_from_value(error).unwrap_or_else(|| (String::new(), error.to_string()));
            out.push_back(Err(ProviderError::Api { kind, message }));
            return true;
        }
        for choice in chunk.choices.unwrap_or_default() {
            if choice.index != 0 {
                continue;
            }
            let delta = choice.delta.unwrap_or_default();
            if let Some(text) = delta.content.filter(|text| !text.is_empty()) {
                out.push_back(Ok(StreamEvent::TextDelta(text)));
            }
            if let Some(text) = delta.refusal.filter(|text| !text.is_empty()) {
                self.refused = true;
                out.push_back(Ok(StreamEvent::TextDelta(text)));
            }
            for call in delta.tool_calls.unwrap_or_default() {
                let (name, arguments) = match call.function {
                    Some(function) => (function.name, function.arguments.unwrap_or_default()),
                    None => (None, String::new()),
                };
                out.push_back(Ok(StreamEvent::ToolCallDelta {
                    index: call.index,
                    id: call.id,
                    name,
                    arguments,
                }));
            }
            if let Some(reason) = choice.finish_reason {
                self.finish = Some(finish_reason(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            out.push_back(Ok(StreamEvent::Usage(TokenUsage {
                input_tokens: usage.prompt_tokens.unwrap_or(0),
                output_tokens: usage.completion_tokens.unwrap_or(0),
            })));
        }
        false
    }

    fn on_eof(&mut self, out: &mut VecDeque<Item>) {
        if self.finish.is_some() {
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
    use pretty_assertions::assert_eq;

    fn events(chunks: &[&str]) -> Vec<Item> {
        let mut parser = ChatParser::default();
        let mut out = VecDeque::new();
        for data in chunks {
            let event = SseEvent {
                event: "message".into(),
                data: (*data).to_owned(),
            };
            if parser.on_event(&event, 1, &mut out) {
                return out.into_iter().collect();
            }
        }
        parser.on_eof(&mut out);
        out.into_iter().collect()
    }

    #[test]
    fn usage_chunks_in_every_shape() {
        for choices in [
            r#""choices":[],"#,
            "",
            r#""choices":null,"#,
            r#""choices":[{"delta":{}}],"#,
        ] {
            let usage =
                format!(r#"{{{choices}"usage":{{"prompt_tokens":3,"completion_tokens":2}}}}"#);
            assert_eq!(
                events(&[
                    r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null}}]}"#,
                    r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#,
                    &usage,
                    "[DONE]",
                ]),
                vec![
                    Ok(StreamEvent::TextDelta("Hi".into())),
                    Ok(StreamEvent::Usage(TokenUsage {
                        input_tokens: 3,
                        output_tokens: 2
                    })),
                    Ok(StreamEvent::Finished(FinishReason::Stop)),
                ],
                "{usage}"
            );
        }
    }

    #[test]
    fn only_choice_zero_is_read() {
        assert_eq!(
            events(&[
                r#"{"choices":[{"index":1,"delta":{"content":"B"}},{"index":0,"delta":{"content":"A"}}]}"#,
                "[DONE]",
            ]),
            vec![
                Ok(StreamEvent::TextDelta("A".into())),
                Ok(StreamEvent::Finished(FinishReason::Stop)),
            ]
        );
    }

    #[test]
    fn error_objects_with_numeric_or_string_codes() {
        assert_eq!(
            events(&[r#"{"error":{"code":500,"message":"boom","type":"server_error"}}"#]),
            vec![Err(ProviderError::Api {
                kind: "server_error".into(),
                message: "boom".into()
            })]
        );
        assert_eq!(
            events(&[r#"{"error":{"code":"context_length_exceeded","message":"too long"}}"#]),
            vec![Err(ProviderError::Api {
                kind: "context_length_exceeded".into(),
                message: "too long".into()
            })]
        );
    }

    #[test]
    fn request_maps_roles_and_tools() {
        let request = ModelRequest {
            model: "m".into(),
            system: "sys".into(),
            messages: vec![
                Message::text(Role::User, "hi"),
                Message {
                    role: Role::Assistant,
                    parts: vec![Part::ToolCall {
                        call_id: "c1".into(),
                        name: "ls".into(),
                        arguments: "{}".into(),
                    }],
                },
                Message {
                    role: Role::User,
                    parts: vec![
                        Part::ToolResult {
                            call_id: "c1".into(),
                            output: "a.rs".into(),
                            is_error: false,
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
            max_output_tokens: Some(7),
            tools: Vec::new(),
        };
        let mut settings = ProviderSettings::new(ProviderKind::Ollama);
        settings.base_url = "http://127.0.0.1:1/v1".into();
        assert_eq!(
            request_body(&request, &settings),
            json!({
                "model": "m",
                "messages": [
                    {"role": "system", "content": "sys"},
                    {"role": "user", "content": "hi"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "c1", "content": "a.rs"},
                    {"role": "user", "content": "[Cairn: resumed]\n\nnext"},
                ],
                "stream": true,
                "stream_options": {"include_usage": true},
                "max_tokens": 7,
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
    fn tools_are_declared_as_functions() {
        let request = ModelRequest {
            model: "m".into(),
            system: String::new(),
            messages: vec![Message::text(Role::User, "hi")],
            max_output_tokens: None,
            tools: list_dir_declaration(),
        };
        let body = request_body(&request, &ProviderSettings::new(ProviderKind::Openai));
        assert_eq!(
            body["tools"],
            json!([{
                "type": "function",
                "function": {
                    "name": "list_dir",
                    "description": request.tools[0].description,
                    "parameters": request.tools[0].parameters,
                },
            }])
        );
        assert_eq!(
            body["tools"][0]["function"]["parameters"]["required"],
            json!(["path"])
        );
        let mut without = request;
        without.tools.clear();
        let body = request_body(&without, &ProviderSettings::new(ProviderKind::Openai));
        assert_eq!(body.get("tools"), None);
    }
}
