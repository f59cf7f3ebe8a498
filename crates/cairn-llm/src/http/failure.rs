//! Sorting a failed response, or a failed send, into the [`ProviderError`] a user can act on:
//! which statuses and bodies are retried, what a provider's error body says, and the words of
//! the errors themselves (every text a server sent scrubbed first).

use cairn_core::provider::ProviderError;
use cairn_core::text::neutralize_controls;
use reqwest::StatusCode;

use super::EXCERPT_CHARS;
use crate::settings::{ProviderSettings, shorten};

/// A failed response, sorted.
pub(super) struct Failure {
    status: u16,
    /// `Some` for retryable failures: the short reason shown while retrying.
    pub(super) retry_reason: Option<String>,
    kind: FailureKind,
    message: String,
    key_env: String,
}

pub(super) enum FailureKind {
    Auth,
    RateLimited,
    Overloaded,
    Server,
    BadRequest,
    ContextTooLong,
}

impl Failure {
    pub(super) fn into_error(self, attempts: u32) -> ProviderError {
        let Failure {
            status,
            kind,
            message,
            key_env,
            ..
        } = self;
        match kind {
            FailureKind::Auth => ProviderError::Auth {
                status,
                key_env,
                message,
            },
            FailureKind::RateLimited => ProviderError::RateLimited { attempts, message },
            FailureKind::Overloaded => ProviderError::Overloaded { attempts, message },
            FailureKind::Server => ProviderError::Server {
                status,
                attempts,
                message,
            },
            FailureKind::BadRequest => ProviderError::BadRequest { status, message },
            FailureKind::ContextTooLong => ProviderError::ContextTooLong { status, message },
        }
    }
}

pub(super) fn classify_failure(
    settings: &ProviderSettings,
    status: StatusCode,
    body: &str,
) -> Failure {
    let (error_type, message) = match error_from_body(body) {
        Some((error_type, message)) => (error_type, message),
        // Not a JSON error: report the text itself (a proxy's HTML page, a plain-text 500).
        None if body.trim().is_empty() => (
            String::new(),
            status.canonical_reason().unwrap_or("no details").to_owned(),
        ),
        None => (String::new(), body.to_owned()),
    };
    let message = settings.scrub(&shorten(&message, 300));
    let code = status.as_u16();
    let (kind, retry_reason) = if cairn_core::provider::is_tools_rejection(&message) {
        // llama.cpp answers 500 when it cannot template tools: asking again cannot help,
        // and the turn is retried without tools at once instead.
        (FailureKind::BadRequest, None)
    } else if error_type == "overloaded_error" || code == 529 {
        (FailureKind::Overloaded, Some(format!("{code} overloaded")))
    } else if (400..500).contains(&code) && is_context_too_long(body) {
        (FailureKind::ContextTooLong, None)
    } else {
        match code {
            401 | 403 => (FailureKind::Auth, None),
            429 => (
                FailureKind::RateLimited,
                Some("429 rate limited".to_owned()),
            ),
            500..=599 => (FailureKind::Server, Some(format!("{code} server error"))),
            _ => (FailureKind::BadRequest, None),
        }
    };
    Failure {
        status: code,
        retry_reason,
        kind,
        message,
        key_env: settings.api_key_env.clone(),
    }
}

/// Whether an error body says the request exceeds the model's context window, in any of the
/// ways servers say it: OpenAI's `code` `context_length_exceeded`, llama.cpp's `type`
/// `exceed_context_size_error`, Anthropic's `invalid_request_error` "prompt is too long".
fn is_context_too_long(body: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body.trim()) else {
        return false;
    };
    let Some(error) = value.get("error") else {
        return false;
    };
    let field = |name: &str| error.get(name).and_then(serde_json::Value::as_str);
    ["code", "type"]
        .into_iter()
        .filter_map(field)
        .any(|value| value == "context_length_exceeded" || value == "exceed_context_size_error")
        || field("message").is_some_and(|message| message.starts_with("prompt is too long"))
}

/// `(type, message)` from the error bodies both dialects use:
/// `{"error": {"message", "type", "code"}}` (`code` a number or a string) and
/// `{"type": "error", "error": {"type", "message"}}`; also `{"error": "text"}`.
pub(crate) fn error_from_body(body: &str) -> Option<(String, String)> {
    let value: serde_json::Value = serde_json::from_str(body.trim()).ok()?;
    error_from_value(value.get("error")?)
}

///
/// Both parts are neutralised (no control characters): errors inside a stream reach the user
/// without passing through [`ProviderSettings::scrub`].
pub(crate) fn error_from_value(error: &serde_json::Value) -> Option<(String, String)> {
    let (error_type, message) = error_parts(error);
    Some((
        neutralize_controls(&error_type),
        neutralize_controls(&message),
    ))
}

fn error_parts(error: &serde_json::Value) -> (String, String) {
    if let Some(text) = error.as_str() {
        return (String::new(), text.to_owned());
    }
    let field = |name: &str| match error.get(name) {
        Some(serde_json::Value::String(text)) => Some(text.clone()),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let error_type = field("type").or_else(|| field("code")).unwrap_or_default();
    let message = field("message").unwrap_or_else(|| error.to_string());
    (error_type, message)
}

/// A transport error before any response, as the user should see it.
pub(crate) fn send_error(
    settings: &ProviderSettings,
    url: &str,
    err: &reqwest::Error,
) -> ProviderError {
    if err.is_timeout() {
        return ProviderError::Timeout {
            what: format!("connecting to {url}"),
            seconds: settings.connect_timeout.as_secs(),
        };
    }
    let reason = settings.scrub(&error_chain(err));
    if err.is_connect() {
        return ProviderError::Connect {
            url: url.to_owned(),
            reason,
            hint: settings.connect_hint(),
        };
    }
    ProviderError::StreamDropped {
        reason: format!("the request to {url} failed: {reason}"),
    }
}

/// The innermost cause of an error, which is the one that says what happened
/// ("Connection refused (os error 111)") rather than where.
pub(super) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

/// A malformed-chunk error for `data` (neutralised: it is the server's text).
pub(crate) fn malformed(reason: impl std::fmt::Display, data: &str) -> ProviderError {
    ProviderError::Malformed {
        reason: neutralize_controls(&shorten(&reason.to_string(), EXCERPT_CHARS)),
        excerpt: neutralize_controls(&shorten(data, EXCERPT_CHARS)),
    }
}

/// The error for a body that ended before the answer did.
pub(crate) fn dropped_before_end() -> ProviderError {
    ProviderError::StreamDropped {
        reason: "the connection closed before the answer was complete".into(),
    }
}
