//! Events: the conversation is an append-only chain of them.
//!
//! Each event has a stable id from the moment it is created and points at its parent, so the
//! order of a session is the chain of parent links, never the order rows happen to come back
//! in. On disk an event is an `event_type` string plus a JSON `event_data` object; a type this
//! build does not know (written by a newer Cairn) is kept in the database and skipped on load.

use serde::{Deserialize, Serialize};

use crate::ids::{EventId, InvocationId, SessionId};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub session_id: SessionId,
    pub parent_id: Option<EventId>,
    pub invocation_id: InvocationId,
    pub created_at_ms: i64,
    pub kind: EventKind,
}

/// Token counts reported by a provider for one answer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// What happened. The serde names are the on-disk `event_type` values: never rename one that
/// has shipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "event_data", rename_all = "snake_case")]
pub enum EventKind {
    /// What the user typed.
    UserMessage { text: String },
    /// The model's answer. `interrupted` is set when the stream was cancelled or dropped and
    /// `text` holds only what arrived.
    AssistantMessage {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<TokenUsage>,
        #[serde(default)]
        interrupted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        model: Option<String>,
    },
    /// A tool the model asked to run. `arguments` is the raw JSON text the model produced,
    /// kept verbatim because models do produce invalid JSON.
    ToolCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// The answer to a [`EventKind::ToolCall`].
    ToolResult {
        call_id: String,
        output: String,
        #[serde(default)]
        is_error: bool,
    },
    /// How Cairn decided about a [`EventKind::ToolCall`] before running it (or not): kept
    /// so a session shows who allowed what; never sent to the model, whose result for a
    /// denied call says why.
    ToolDecision {
        call_id: String,
        decision: ToolVerdict,
        /// The `allow`/`deny` rule or session grant that decided, as written.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rule: Option<String>,
        /// Why a call was denied, when the user typed a reason or Cairn had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Shown to the user, never sent to the model.
    Note { text: String },
    /// Sent to the model, never shown: how a resume boundary reaches the model.
    SystemContext { text: String },
    /// A failure shown to the user (a provider error, say); never sent to the model.
    Error { message: String },
    /// What the model made of the conversation up to and including `through` (an earlier
    /// event of the same branch): from then on the model gets this text instead of those
    /// events, which stay stored and shown. `messages` is how many messages it stands for.
    ///
    /// With `continued_from` (`/new --summary`) it is the first event of a session that
    /// carries another one forward: `through` and `messages` are then that session's, and it
    /// stands for nothing before itself in this one.
    Summary {
        text: String,
        through: EventId,
        messages: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        continued_from: Option<Continuation>,
    },
}

/// The session a summary carries forward into a new one: its id, and its title when the new
/// one was started (shown as "continued from <id> · <title>").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continuation {
    pub session_id: SessionId,
    pub title: String,
}

/// What was decided about a tool call. Stored: never rename a variant that has shipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolVerdict {
    /// A read inside the workspace: no one needs to be asked.
    Automatic,
    /// An `allow` rule (config or `--allow`) covers every part of the command.
    AllowedByRule,
    /// A prefix the user allowed for this run of Cairn covers every part of the command.
    AllowedByGrant,
    /// The user allowed this one call.
    AllowedOnce,
    Denied,
    /// Never ran: the session stopped before it could (a crash, a kill, quitting while
    /// Cairn was asking).
    Interrupted,
}

impl ToolVerdict {
    /// Whether the call runs.
    pub fn runs(self) -> bool {
        match self {
            ToolVerdict::Automatic
            | ToolVerdict::AllowedByRule
            | ToolVerdict::AllowedByGrant
            | ToolVerdict::AllowedOnce => true,
            ToolVerdict::Denied | ToolVerdict::Interrupted => false,
        }
    }

    /// How a person would say it: `allowed by rule`.
    pub fn describe(self) -> &'static str {
        match self {
            ToolVerdict::Automatic => "allowed (workspace read)",
            ToolVerdict::AllowedByRule => "allowed by rule",
            ToolVerdict::AllowedByGrant => "allowed for this session",
            ToolVerdict::AllowedOnce => "allowed once",
            ToolVerdict::Denied => "denied",
            ToolVerdict::Interrupted => "interrupted, not run",
        }
    }
}

/// The `event_type` strings this build understands.
pub const KNOWN_EVENT_TYPES: &[&str] = &[
    "user_message",
    "assistant_message",
    "tool_call",
    "tool_result",
    "tool_decision",
    "note",
    "system_context",
    "error",
    "summary",
];

/// Why stored event data could not be turned back into an [`EventKind`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeEventError {
    /// Written by a newer build; keep it, skip it, warn.
    #[error("unknown event type `{0}`")]
    UnknownType(String),
    #[error("event data for `{event_type}` is malformed: {source}")]
    Malformed {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
}

impl EventKind {
    /// The on-disk type name.
    pub fn event_type(&self) -> &'static str {
        match self {
            EventKind::UserMessage { .. } => "user_message",
            EventKind::AssistantMessage { .. } => "assistant_message",
            EventKind::ToolCall { .. } => "tool_call",
            EventKind::ToolResult { .. } => "tool_result",
            EventKind::ToolDecision { .. } => "tool_decision",
            EventKind::Note { .. } => "note",
            EventKind::SystemContext { .. } => "system_context",
            EventKind::Error { .. } => "error",
            EventKind::Summary { .. } => "summary",
        }
    }

    /// The JSON object stored in `event_data`.
    pub fn data_json(&self) -> String {
        let tagged = serde_json::to_value(self).unwrap_or_default();
        tagged
            .get("event_data")
            .map(|data| data.to_string())
            .unwrap_or_else(|| "{}".to_owned())
    }

    /// Rebuilds a kind from its stored parts.
    pub fn from_parts(event_type: &str, data_json: &str) -> Result<Self, DecodeEventError> {
        if !KNOWN_EVENT_TYPES.contains(&event_type) {
            return Err(DecodeEventError::UnknownType(event_type.to_owned()));
        }
        // One parse of the stored text: wrap it in the tagged form serde expects. The type is
        // one of our own identifiers, so it needs no escaping; the tag comes first so serde
        // does not have to buffer the data.
        // Built by hand: `format!` was a tenth of decoding a long session.
        let mut tagged = String::with_capacity(event_type.len() + data_json.len() + 32);
        tagged.push_str(r#"{"event_type":""#);
        tagged.push_str(event_type);
        tagged.push_str(r#"","event_data":"#);
        tagged.push_str(data_json);
        tagged.push('}');
        serde_json::from_str(&tagged).map_err(|source| DecodeEventError::Malformed {
            event_type: event_type.to_owned(),
            source,
        })
    }

    /// Whether this event is part of what the model sees.
    pub fn goes_to_model(&self) -> bool {
        match self {
            EventKind::UserMessage { .. }
            | EventKind::AssistantMessage { .. }
            | EventKind::ToolCall { .. }
            | EventKind::ToolResult { .. }
            | EventKind::SystemContext { .. }
            | EventKind::Summary { .. } => true,
            EventKind::ToolDecision { .. } | EventKind::Note { .. } | EventKind::Error { .. } => {
                false
            }
        }
    }

    /// Whether this event counts as a message in listings (what a person would call one).
    pub fn is_message(&self) -> bool {
        matches!(
            self,
            EventKind::UserMessage { .. } | EventKind::AssistantMessage { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn every_kind_round_trips_through_its_stored_parts() {
        let kinds = vec![
            EventKind::UserMessage { text: "hi".into() },
            EventKind::AssistantMessage {
                text: "hello".into(),
                usage: Some(TokenUsage {
                    input_tokens: 3,
                    output_tokens: 1,
                }),
                interrupted: true,
                model: Some("m".into()),
            },
            EventKind::ToolCall {
                call_id: "c".into(),
                name: "n".into(),
                arguments: "{\"a\":".into(),
            },
            EventKind::ToolResult {
                call_id: "c".into(),
                output: "o".into(),
                is_error: false,
            },
            EventKind::ToolDecision {
                call_id: "c".into(),
                decision: ToolVerdict::AllowedByGrant,
                rule: Some("git status".into()),
                reason: None,
            },
            EventKind::Note { text: "n".into() },
            EventKind::SystemContext { text: "s".into() },
            EventKind::Error {
                message: "e".into(),
            },
            EventKind::Summary {
                text: "so far".into(),
                through: EventId::new(),
                messages: 12,
                continued_from: Some(Continuation {
                    session_id: SessionId::new(),
                    title: "Earlier work".into(),
                }),
            },
        ];
        assert_eq!(kinds.len(), KNOWN_EVENT_TYPES.len());
        for kind in kinds {
            let back = EventKind::from_parts(kind.event_type(), &kind.data_json()).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn a_summary_stored_before_continuations_reads_as_none() {
        let through = EventId::new();
        let stored = format!(r#"{{"messages":2,"text":"t","through":"{through}"}}"#);
        let kind = EventKind::from_parts("summary", &stored).unwrap();
        assert_eq!(
            kind,
            EventKind::Summary {
                text: "t".into(),
                through,
                messages: 2,
                continued_from: None,
            }
        );
        assert_eq!(kind.data_json(), stored);
    }

    #[test]
    fn malformed_data_is_an_error_not_a_panic() {
        for data in ["", "{", "{\"text\": 5}", "[1]", "{}}{"] {
            let err = EventKind::from_parts("user_message", data).unwrap_err();
            assert!(matches!(err, DecodeEventError::Malformed { .. }), "{data}");
        }
    }

    #[test]
    fn unknown_type_is_reported_not_guessed() {
        let err = EventKind::from_parts("hologram", "{}").unwrap_err();
        assert!(matches!(err, DecodeEventError::UnknownType(t) if t == "hologram"));
    }

    #[test]
    fn data_is_an_object_without_the_tag() {
        let kind = EventKind::UserMessage { text: "x".into() };
        assert_eq!(kind.data_json(), r#"{"text":"x"}"#);
    }
}
