//! The session task's share of the sessions picker: reading the highlighted session's newest
//! messages for the preview, and renaming, archiving or deleting a session that is not the
//! open one. Each answers with an [`AppEvent::Picker`]; the picker lists again afterwards.

use cairn_core::session::clean_title;
use cairn_core::title::TitleSource;

use super::SessionTask;
use crate::app::{AppEvent, PickerJob, PickerReply};
use crate::picker::edit::PREVIEW_MESSAGES;

/// Events read for a preview: enough to find the last few messages among tool calls.
const PREVIEW_EVENTS: usize = PREVIEW_MESSAGES * 8;

impl SessionTask {
    pub(super) async fn apply_picker_job(&mut self, job: PickerJob) {
        let service = self.manager.service().clone();
        let reply = match job {
            PickerJob::Preview(session_id) => PickerReply::Preview {
                session_id,
                result: service
                    .load_recent(session_id, PREVIEW_EVENTS)
                    .await
                    .map(|recent| recent.events)
                    .map_err(|error| error.to_string()),
            },
            PickerJob::Rename { session_id, title } => {
                let title = clean_title(&title);
                PickerReply::Changed(
                    service
                        .set_title(session_id, &title, TitleSource::User, self.manager.now_ms())
                        .await
                        .map(|_| format!("Renamed {} to “{title}”.", session_id.short()))
                        .map_err(|error| error.to_string()),
                )
            }
            PickerJob::SetArchived {
                session_id,
                archived,
            } => {
                let at = archived.then(|| self.manager.now_ms());
                PickerReply::Changed(
                    service
                        .set_archived(session_id, at)
                        .await
                        .map(|()| {
                            let done = if archived { "Archived" } else { "Restored" };
                            format!("{done} {}.", session_id.short())
                        })
                        .map_err(|error| error.to_string()),
                )
            }
            PickerJob::Delete(session_id) => PickerReply::Changed(
                service
                    .delete_session(session_id)
                    .await
                    .map(|()| format!("Deleted {}.", session_id.short()))
                    .map_err(|error| error.to_string()),
            ),
        };
        self.reply(AppEvent::Picker(reply));
    }
}
