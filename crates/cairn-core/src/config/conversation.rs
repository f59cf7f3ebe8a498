//! The `[conversation]` table: how long conversations are kept manageable: which model names
//! sessions (`title_model`; unset, the session's own model does) and the share of the context
//! window the history may fill before it is compacted (`compact_at`, default 0.8, `0`: never).

use serde::Deserialize;

use super::ConfigError;

/// The `[conversation]` table as written in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct ConversationConfig {
    /// The model (of the configured provider) asked for a session's title after its first
    /// answer, when it should not be the session's own model (a smaller, cheaper one, say).
    pub title_model: Option<String>,
    /// The share of the model's context window (0 to 1) the history may fill before the next
    /// request compacts it first; `0` turns automatic compaction off.
    pub compact_at: Option<Share>,
}

/// A share of something, from 0 to 1, as written in the file (validated on load, so never
/// NaN: that is what makes it `Eq`).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Share(pub f64);

impl Eq for Share {}

impl ConversationConfig {
    /// The model to ask for a title in a session that uses `session_model`.
    pub fn title_model<'a>(&'a self, session_model: &'a str) -> &'a str {
        self.title_model.as_deref().unwrap_or(session_model)
    }

    /// The share of the context window that triggers automatic compaction (`0`: never).
    pub fn compact_at(&self) -> f64 {
        self.compact_at
            .map_or(crate::compact::DEFAULT_COMPACT_AT, |share| share.0)
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
    if conversation
        .compact_at
        .is_some_and(|share| !(0.0..=1.0).contains(&share.0))
    {
        return Err(invalid(
            "conversation.compact_at",
            "must be between 0 and 1 (a share of the context window; 0 turns it off)",
        ));
    }
    Ok(())
}
