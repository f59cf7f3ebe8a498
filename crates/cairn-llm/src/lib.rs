//! Cairn's model providers and the request builder.
//!
//! [`build_request`] turns a session's events into a dialect-neutral request; the providers
//! speak the wire formats (OpenAI-compatible Chat Completions, Anthropic Messages) behind
//! [`cairn_core::ModelProvider`].

mod request;

pub use request::{build_request, omission_notice};
