//! Asking the model for a title, or whether its title still fits, in the background: what
//! comes back goes to the screen as [`AppEvent::TitleGenerated`], and a failure leaves the
//! title as it is (naming is a convenience, never in the way of the conversation).

use std::sync::Arc;
use std::time::Duration;

use cairn_core::title::{TitleRefresh, TitleSource, generate_refresh, generate_title};
use cairn_core::{ModelProvider, ModelRequest, SessionId};
use tokio::sync::mpsc::UnboundedSender;

use crate::app::AppEvent;

/// The longest a title may take: past it the title stays what it was.
const TITLE_TIMEOUT: Duration = Duration::from_secs(60);

/// `refresh_of` is the title being checked (the request is a `refresh_request`), `None` for
/// a first title.
pub(super) fn spawn_title(
    provider: Arc<dyn ModelProvider>,
    events: UnboundedSender<AppEvent>,
    session_id: SessionId,
    request: ModelRequest,
    refresh_of: Option<String>,
) {
    // Not tracked: it writes nothing itself, and one left running at exit ends with the
    // runtime.
    tokio::spawn(async move {
        let named = match refresh_of {
            None => tokio::time::timeout(TITLE_TIMEOUT, generate_title(provider.as_ref(), request))
                .await
                .map(|generated| {
                    generated.map(|title| title.map(|title| (title, TitleSource::Model)))
                }),
            // Kept or renamed, the title is marked checked, so it is not checked again.
            Some(current) => {
                tokio::time::timeout(TITLE_TIMEOUT, generate_refresh(provider.as_ref(), request))
                    .await
                    .map(|checked| {
                        checked.map(|answer| {
                            answer.map(|answer| match answer {
                                TitleRefresh::Same => current,
                                TitleRefresh::Retitle(title) => title,
                            })
                        })
                    })
                    .map(|checked| {
                        checked.map(|title| title.map(|title| (title, TitleSource::Refreshed)))
                    })
            }
        };
        match named {
            Ok(Ok(Some((title, source)))) => {
                // The screen may be gone by the time the model answers.
                let _ = events.send(AppEvent::TitleGenerated {
                    session_id,
                    title,
                    source,
                });
            }
            Ok(Ok(None)) => tracing::debug!("the model gave no usable title"),
            Ok(Err(error)) => tracing::debug!(%error, "naming the session failed"),
            Err(_) => tracing::debug!("naming the session timed out"),
        }
    });
}
