//! Cairn's model providers and the request builder.
//!
//! [`build_request`] turns a session's events into a dialect-neutral request;
//! [`select_provider`] picks a provider from overrides, configuration and the environment;
//! the providers speak the wire formats behind [`cairn_core::ModelProvider`]:
//! [`OpenAiProvider`] (OpenAI-compatible Chat Completions, which also serves Ollama and
//! other local servers), [`AnthropicProvider`] (Messages) and [`EchoProvider`] (offline).
//! [`AnswerAccumulator`] folds a stream into the answer it adds up to.
//!
//! Streams: dropping a stream cancels its HTTP request at once; retries show up as
//! `StreamEvent::Retrying` items; a stream ends with `Finished` or one `Err`.

mod accumulator;
mod anthropic;
mod echo;
mod http;
mod openai;
mod request;
mod select;
mod server_numbers;
mod settings;
mod sse;

pub use accumulator::{AccumulatedToolCall, AnswerAccumulator};
pub use anthropic::{ANTHROPIC_VERSION, AnthropicProvider};
pub use echo::EchoProvider;
pub use openai::OpenAiProvider;
pub use request::{build_request, omission_notice};
pub use select::{ProviderOverrides, Selection, normalize_ollama_host, select_provider};
pub use settings::{ApiKey, ProviderSettings, RetryPolicy, default_context_window, default_model};
