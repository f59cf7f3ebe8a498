//! Resolved provider settings: what a provider needs to talk to one endpoint.
//!
//! Invariants: the API key lives only in [`ApiKey`], whose `Debug` and `Display` print `***`,
//! so a key never reaches a log line, an error message or a panic message. Every message that
//! came from a server goes through [`ProviderSettings::scrub`] before it reaches an error,
//! which also neutralises control characters, so an error body cannot act on the terminal it
//! is printed to (or break the JSON it is written into).

use std::fmt;
use std::time::Duration;

use cairn_core::config::ProviderKind;
use cairn_core::text::{is_terminal_safe, neutralize_controls};

pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
pub const DEFAULT_OLLAMA_HOST: &str = "http://127.0.0.1:11434";
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// Anthropic requires `max_tokens`; this is what we send when nothing is configured.
pub const DEFAULT_ANTHROPIC_MAX_TOKENS: u32 = 4096;
pub const DEFAULT_ECHO_WORD_DELAY: Duration = Duration::from_millis(20);

/// The default model of each provider kind.
pub fn default_model(kind: ProviderKind) -> &'static str {
    match kind {
        ProviderKind::Openai => "gpt-4o-mini",
        ProviderKind::Anthropic => "claude-sonnet-4-5",
        ProviderKind::Ollama => "llama3.2",
        ProviderKind::Echo => "echo",
    }
}

/// The default context window of each provider kind, in tokens.
pub fn default_context_window(kind: ProviderKind) -> u64 {
    match kind {
        ProviderKind::Openai => 128_000,
        ProviderKind::Anthropic => 200_000,
        // Ollama's own default context is small; 8192 is what most local models handle.
        ProviderKind::Ollama => 8192,
        ProviderKind::Echo => 1_000_000,
    }
}

/// An API key. Prints as `***` in every format so it cannot leak by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the one place that needs it: the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How long to wait between attempts when the provider answers with a retryable error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` requests at most).
    pub max_retries: u32,
    /// The first backoff; each retry doubles it, plus up to 25% random jitter.
    pub base_delay: Duration,
    /// The longest computed backoff.
    pub max_delay: Duration,
    /// The longest `Retry-After` we honour; a server asking for more gets this.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// Everything an HTTP provider needs, resolved from config, environment and defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// What the status line calls this provider (`ollama` runs the OpenAI dialect).
    pub kind: ProviderKind,
    pub model: String,
    /// OpenAI dialect: includes the version (`https://api.openai.com/v1`). Anthropic: the API
    /// root (`https://api.anthropic.com`).
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// The variable the key came from (or would have), for "check your API key" messages.
    pub api_key_env: String,
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for the response or the next chunk.
    pub idle_timeout: Duration,
    pub retry: RetryPolicy,
    pub max_output_tokens: Option<u32>,
    pub context_window: u64,
}

impl ProviderSettings {
    /// Defaults for `kind` (base URL, model, window, timeouts) with no key.
    pub fn new(kind: ProviderKind) -> Self {
        let (base_url, api_key_env) = match kind {
            ProviderKind::Openai => (DEFAULT_OPENAI_BASE_URL.to_owned(), "OPENAI_API_KEY"),
            ProviderKind::Anthropic => (DEFAULT_ANTHROPIC_BASE_URL.to_owned(), "ANTHROPIC_API_KEY"),
            ProviderKind::Ollama => (format!("{DEFAULT_OLLAMA_HOST}/v1"), "OLLAMA_API_KEY"),
            ProviderKind::Echo => (String::new(), ""),
        };
        Self {
            kind,
            model: default_model(kind).to_owned(),
            base_url,
            api_key: None,
            api_key_env: api_key_env.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            retry: RetryPolicy::default(),
            max_output_tokens: None,
            context_window: default_context_window(kind),
        }
    }

    /// The URL of `path` (starting with `/`) under the base URL, however many slashes the
    /// configured base ends with.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base_url.trim_end_matches('/'))
    }

    /// The model a request asks for, or the configured one when it names none.
    pub fn model_for<'a>(&'a self, requested: &'a str) -> &'a str {
        if requested.is_empty() {
            &self.model
        } else {
            requested
        }
    }

    /// `text` from a server, safe to show: the API key (if any) replaced by `***` (servers
    /// sometimes echo it back) and control characters made visible and harmless (an error
    /// page may carry `ESC ] ... BEL` or a clipboard write).
    pub(crate) fn scrub(&self, text: &str) -> String {
        let text = match &self.api_key {
            Some(key) if !key.expose().is_empty() => text.replace(key.expose(), "***"),
            _ => text.to_owned(),
        };
        if is_terminal_safe(&text) {
            text
        } else {
            neutralize_controls(&text)
        }
    }

    /// What a connection error adds after the reason.
    pub(crate) fn connect_hint(&self) -> String {
        match self.kind {
            ProviderKind::Ollama => " (is Ollama running?)".to_owned(),
            ProviderKind::Openai | ProviderKind::Anthropic | ProviderKind::Echo => String::new(),
        }
    }
}

/// `text` cut to at most `max` characters (on a character boundary), with `…` when cut.
/// `text` trimmed and cut to `max` columns with an ellipsis (an excerpt of a server's text).
pub(crate) fn shorten(text: &str, max: usize) -> String {
    cairn_core::shorten::ellipsize(text.trim(), max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn endpoints_join_the_base_with_one_slash_and_requests_default_to_the_model() {
        let mut settings = ProviderSettings::new(ProviderKind::Openai);
        settings.base_url = "http://127.0.0.1:8080/v1//".to_owned();
        assert_eq!(
            settings.endpoint("/chat/completions"),
            "http://127.0.0.1:8080/v1/chat/completions"
        );
        settings.model = "configured".to_owned();
        assert_eq!(settings.model_for(""), "configured");
        assert_eq!(settings.model_for("asked-for"), "asked-for");
    }

    #[test]
    fn key_never_prints() {
        let mut settings = ProviderSettings::new(ProviderKind::Openai);
        settings.api_key = Some(ApiKey::new("sk-secret"));
        let debug = format!("{settings:?}");
        assert!(!debug.contains("sk-secret"), "{debug}");
        assert!(debug.contains("api_key: Some(***)"), "{debug}");
        assert_eq!(settings.scrub("bad key sk-secret!"), "bad key ***!");
    }

    #[test]
    fn shorten_trims_and_cuts_with_an_ellipsis() {
        assert_eq!(shorten("  héllo  ", 10), "héllo");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }
}
