//! Writing the session, and what happens while the store will not take it: the events wait
//! in memory, the screen hears about the failure once, every watch tick tries again, and the
//! screen hears when they are saved. Events still unsaved when the chat ends go to a private
//! file whose path the user is given, so nothing said is lost to an outage.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cairn_core::private_file::{Overwrite, write_private};
use cairn_core::transcript;

use super::SessionTask;
use crate::app::{AppEvent, PersistReport};

/// How long leaving waits for a failing store before writing the events to a file.
const LEAVING_PATIENCE: Duration = Duration::from_secs(3);
const LEAVING_RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Events the store did not take before the chat ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsaved {
    pub count: usize,
    /// Why the store did not take them (untrusted: a server's words).
    pub error: String,
    /// The Markdown file holding them, or why it could not be written.
    pub file: Result<PathBuf, String>,
}

impl SessionTask {
    pub(super) async fn persist(&mut self) {
        let report = match self.manager.persist_pending().await {
            Ok(outcome) => {
                let saved_after_outage = std::mem::take(&mut self.store_failing)
                    .then_some(outcome.written)
                    .filter(|written| *written > 0);
                if outcome.merged_from_elsewhere.is_empty()
                    && !outcome.unarchived
                    && !outcome.moved_after_deletion
                    && saved_after_outage.is_none()
                {
                    return;
                }
                PersistReport {
                    error: None,
                    merged: (!outcome.merged_from_elsewhere.is_empty()).then(|| {
                        (
                            outcome.merged_from_elsewhere.len(),
                            self.manager.events().cloned().collect(),
                        )
                    }),
                    unarchived: outcome.unarchived,
                    moved_to: if outcome.moved_after_deletion {
                        Some(self.view().await)
                    } else {
                        None
                    },
                    saved_after_outage,
                }
            }
            Err(error) => {
                // Once per outage: the watch tick tries again every second.
                if std::mem::replace(&mut self.store_failing, true) {
                    return;
                }
                tracing::error!(%error, "persisting the session failed");
                PersistReport {
                    error: Some(error.to_string()),
                    ..PersistReport::default()
                }
            }
        };
        self.reply(AppEvent::Persisted(report));
    }

    /// Writes what is pending before the chat ends, waiting a little for a failing store;
    /// what it still will not take goes to a file.
    pub(super) async fn save_before_leaving(&mut self) -> Option<Unsaved> {
        let started = tokio::time::Instant::now();
        let error = loop {
            if self.manager.pending_count() == 0 {
                return None;
            }
            // One attempt can wait on the store far longer than the user waits to leave (a
            // pool's acquire timeout): it is cut at the patience left. A cut attempt writes
            // nothing (its transaction is dropped) and keeps the events pending.
            let left = LEAVING_PATIENCE
                .saturating_sub(started.elapsed())
                .max(LEAVING_RETRY_PAUSE);
            let error = match tokio::time::timeout(left, self.manager.persist_pending()).await {
                Ok(Ok(_)) => return None,
                Ok(Err(error)) => error.to_string(),
                Err(_) => "the session store did not answer in time".to_owned(),
            };
            if started.elapsed() >= LEAVING_PATIENCE {
                break error;
            }
            tokio::time::sleep(LEAVING_RETRY_PAUSE).await;
        };
        tracing::error!(error, "could not save the last events on exit");
        let pending = self.manager.pending_events();
        let markdown = transcript::to_markdown(self.manager.session(), pending.iter().copied());
        let file = match &self.unsaved_dir {
            Some(dir) => write_unsaved(
                dir,
                self.manager.session().id,
                self.manager.now_ms(),
                &markdown,
            )
            .await
            .map_err(|err| err.to_string()),
            None => Err("no folder to keep them in".to_owned()),
        };
        Some(Unsaved {
            count: pending.len(),
            error,
            file,
        })
    }
}

/// `<dir>/unsaved/<session id>-<milliseconds>.md`, private to the user.
async fn write_unsaved(
    dir: &Path,
    session: cairn_core::SessionId,
    now_ms: i64,
    markdown: &str,
) -> std::io::Result<PathBuf> {
    let folder = dir.join("unsaved");
    let path = folder.join(format!("{session}-{now_ms}.md"));
    let markdown = markdown.to_owned();
    let target = path.clone();
    tokio::task::spawn_blocking(move || {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&folder)?;
        write_private(&target, markdown.as_bytes(), Overwrite::Refuse)
    })
    .await
    .map_err(std::io::Error::other)??;
    Ok(path)
}
