//! `cairn run` compacts like the chat, with the same code in `cairn_core::compact`: before
//! the request when the history fills more than `[conversation] compact_at` of the context
//! window, and once more after the model says the conversation is too long for it. A note
//! (standard error, or a JSON note) says so. A summary that cannot be made is no dead end:
//! the request goes with the budgeted history.

use std::time::Duration;

use cairn_core::compact::{compaction_due, summarise, summary_input};
use cairn_core::text::{neutralize_controls, plural};
use cairn_core::{Event, EventKind, ModelProvider, SessionManager};

use super::Output;

/// How long a summary may take before the request goes without one.
const SUMMARY_TIMEOUT: Duration = Duration::from_secs(180);

/// Summarises the branch first when it is due, or when `too_long` (the model refused the
/// history as too long for its context window).
pub(super) async fn compact_if_needed(
    manager: &mut SessionManager,
    provider: &dyn ModelProvider,
    model: &str,
    compact_at: f64,
    too_long: bool,
    out: &mut Output,
) {
    let branch: Vec<Event> = manager.events().cloned().collect();
    if !too_long && !compaction_due(&branch, provider.context_window(), compact_at) {
        return;
    }
    if summary_input(&branch).is_none() {
        // Only the question so far: there is nothing a summary could stand for.
        return;
    }
    out.note(if too_long {
        "The conversation is too long for the model: summarising earlier messages, then asking again."
    } else {
        "The conversation nears the model's context window: summarising earlier messages first."
    });
    let summarised =
        tokio::time::timeout(SUMMARY_TIMEOUT, summarise(provider, &branch, None, model)).await;
    match summarised {
        Ok(Ok(Some(summary))) => {
            let messages = match &summary {
                EventKind::Summary { messages, .. } => *messages,
                _ => 0,
            };
            manager.push(summary);
            out.note(&format!(
                "Summarised {}.",
                plural(messages, "earlier message")
            ));
        }
        Ok(Ok(None)) => out.note("The model's summary had nothing usable."),
        Ok(Err(error)) => out.note(&format!(
            "Could not summarise the conversation: {}",
            neutralize_controls(&error.to_string())
        )),
        Err(_) => out.note(&format!(
            "Could not summarise the conversation in {} seconds.",
            SUMMARY_TIMEOUT.as_secs()
        )),
    }
}
