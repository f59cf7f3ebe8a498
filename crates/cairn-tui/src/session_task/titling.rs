//! The session task's share of titles: asking the screen to have the model name the session
//! after its first answer, and to check that name once a few turns later; storing what
//! comes back (never over a title the user set: the store decides, atomically).

use cairn_core::SessionId;
use cairn_core::title::{TitleSource, refresh_input, title_input};

use super::SessionTask;
use crate::app::AppEvent;

impl SessionTask {
    /// After an answer is stored: the first complete answer asks for a title; a later one,
    /// once the branch is long enough, asks the model whether its own title still fits. The
    /// check is asked once per process and stored once per session (as `Refreshed`, kept or
    /// renamed), so a session is checked at most once whatever the launches.
    pub(super) async fn ask_for_title(&mut self) {
        let branch: Vec<_> = self.manager.events().cloned().collect();
        let session_id = self.manager.session().id;
        if let Some(input) = title_input(&branch) {
            self.reply(AppEvent::TitleWanted {
                session_id,
                input,
                refresh_of: None,
            });
            return;
        }
        if self.title_checked == Some(session_id) {
            return;
        }
        let Some(latest) = refresh_input(&branch) else {
            return;
        };
        self.title_checked = Some(session_id);
        match self.manager.service().title_source(session_id).await {
            Ok(TitleSource::Model) => self.reply(AppEvent::TitleWanted {
                session_id,
                input: latest,
                refresh_of: Some(self.manager.session().title.clone()),
            }),
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "could not read where the title came from"),
        }
    }

    /// Stores a title the model made for `session_id` (no longer the current session, if
    /// the user moved on meanwhile); the status line follows when it was taken.
    pub(super) async fn set_generated_title(
        &mut self,
        session_id: SessionId,
        title: &str,
        source: TitleSource,
    ) {
        let applied = if self.manager.session().id == session_id {
            self.manager.set_generated_title(title, source).await
        } else {
            let now = self.manager.now_ms();
            self.manager
                .service()
                .set_title(session_id, title, source, now)
                .await
        };
        match applied {
            Ok(true) if self.manager.session().id == session_id => {
                self.reply(AppEvent::SessionChanged(self.view().await));
            }
            Ok(_) => {}
            // Naming is a convenience: the title stays what it was.
            Err(error) => tracing::debug!(%error, "could not store the generated title"),
        }
    }
}
