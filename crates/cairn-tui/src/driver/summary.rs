//! Making a summary in the background: the model is asked beside the conversation, and what
//! it wrote (or why it could not) comes back to the screen as
//! [`CompactionEvent::Generated`].

use std::sync::Arc;
use std::time::Duration;

use cairn_core::ModelRequest;
use cairn_core::compact::{SummaryInput, generate_summary};
use cairn_core::{ModelProvider, text::neutralize_controls};
use tokio::sync::mpsc::UnboundedSender;

use crate::app::{AppEvent, CompactionEvent};

/// How long a summary may take: a long conversation is a long read even for a fast model,
/// and a turn may be waiting on it.
const SUMMARY_TIMEOUT: Duration = Duration::from_secs(180);

pub(super) fn spawn_summary(
    provider: Arc<dyn ModelProvider>,
    events: UnboundedSender<AppEvent>,
    input: SummaryInput,
    request: ModelRequest,
    waiting_turn: Option<u64>,
) {
    // Not tracked: it writes nothing itself (the session task stores what comes back), and
    // one left running at exit ends with the runtime.
    tokio::spawn(async move {
        let result = match tokio::time::timeout(
            SUMMARY_TIMEOUT,
            generate_summary(provider.as_ref(), request),
        )
        .await
        {
            Ok(Ok(summary)) => Ok(summary),
            Ok(Err(error)) => Err(neutralize_controls(&error.to_string())),
            Err(_) => Err(format!(
                "the model took longer than {} seconds",
                SUMMARY_TIMEOUT.as_secs()
            )),
        };
        let _ = events.send(AppEvent::Compaction(CompactionEvent::Generated {
            input,
            waiting_turn,
            result,
        }));
    });
}
