//! Naming a session `cairn run` gave its first answer: after the answer is printed and
//! saved, so it delays nothing a script reads, and bounded by [`RUN_TITLE_TIMEOUT`], so the
//! command still ends promptly when the provider is slow. A signal, a failure or a timeout
//! leaves the first line as the title.

use std::time::Duration;

use cairn_core::title::{TitleSource, generate_title, title_input, title_request};
use cairn_core::{ModelProvider, SessionManager};

use super::StopSignals;

/// The longest `cairn run` waits for a title after the answer.
pub(super) const RUN_TITLE_TIMEOUT: Duration = Duration::from_secs(10);

/// Asks `provider` (with `model`) for a title when the session's branch has just received
/// its first complete answer; the offline echo provider is never asked.
pub(super) async fn name_if_first_answer(
    manager: &mut SessionManager,
    provider: &dyn ModelProvider,
    model: &str,
    signals: &mut StopSignals,
) {
    if provider.info().offline {
        return;
    }
    let branch: Vec<_> = manager.events().cloned().collect();
    let Some(input) = title_input(&branch) else {
        return;
    };
    let request = title_request(&input, model);
    let generated = tokio::select! {
        generated = tokio::time::timeout(RUN_TITLE_TIMEOUT, generate_title(provider, request)) => generated,
        () = signals.recv() => return,
    };
    let title = match generated {
        Ok(Ok(Some(title))) => title,
        Ok(Ok(None)) => return tracing::debug!("the model gave no usable title"),
        Ok(Err(error)) => return tracing::debug!(%error, "naming the session failed"),
        Err(_) => return tracing::debug!("naming the session timed out"),
    };
    if let Err(error) = manager
        .set_generated_title(&title, TitleSource::Model)
        .await
    {
        tracing::debug!(%error, "could not store the generated title");
    }
}
