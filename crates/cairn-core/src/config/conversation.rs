//! The `[conversation]` table: how long conversations are kept manageable. For now, which
//! model names sessions (`title_model`); unset, the session's own model does.

use serde::Deserialize;

use super::ConfigError;

/// The `[conversation]` table as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ConversationConfig {
    /// The model (of the configured provider) asked for a session's title after its first
    /// answer, when it should not be the session's own model (a smaller, cheaper one, say).
    pub title_model: Option<String>,
}

impl ConversationConfig {
    /// The model to ask for a title in a session that uses `session_model`.
    pub fn title_model<'a>(&'a self, session_model: &'a str) -> &'a str {
        self.title_model.as_deref().unwrap_or(session_model)
    }
}

/// Checks the file's `[conversation]` table; `invalid(key, message)` makes the error at the
/// key.
pub(super) fn validate(
    conversation: &ConversationConfig,
    invalid: &dyn Fn(&str, &str) -> ConfigError,
) -> Result<(), ConfigError> {
    if conversation
        .title_model
        .as_deref()
        .is_some_and(|model| model.trim().is_empty())
    {
        return Err(invalid(
            "conversation.title_model",
            "must not be empty (leave it out to use the session's model)",
        ));
    }
    Ok(())
}
