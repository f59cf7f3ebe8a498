//! Cairn's model providers and provider selection.
//!
//! [`select_provider`] picks a provider from overrides, configuration and the environment;
//! the providers speak the wire formats behind [`cairn_core::ModelProvider`]:
//! [`OpenAiProvider`] (OpenAI-compatible Chat Completions, which also serves Ollama and
//! other local servers), [`AnthropicProvider`] (Messages) and [`EchoProvider`] (offline).
//!
//! Streams: dropping a stream cancels its HTTP request at once; retries show up as
//! `StreamEvent::Retrying` items; a stream ends with `Finished` or one `Err`.

mod anthropic;
mod echo;
mod http;
mod models;
mod openai;
mod select;
mod server_numbers;
mod settings;
mod sse;

pub use anthropic::{ANTHROPIC_VERSION, AnthropicProvider};
pub use echo::EchoProvider;
pub use openai::OpenAiProvider;
pub use select::{ProviderOverrides, Selection, normalize_ollama_host, select_provider};
pub use settings::{ApiKey, ProviderSettings, RetryPolicy, default_context_window, default_model};
