//! The session task's part of compaction: what a summary of the branch would cover and the
//! request asking for it, compacting before a turn when the history fills the configured
//! share of the context window, and storing the summary as one more event (nothing is
//! deleted); and `/new --summary`, which archives the session and starts a new one whose
//! first event is the summary, linked to the archived session.

use cairn_core::Continuation;
use cairn_core::compact::{
    SummaryInput, compaction_due, continuation_event, summary_event, summary_input, summary_request,
};
use cairn_core::service::lasting_short_id;

use super::SessionTask;
use crate::app::{AppEvent, CompactJob, CompactionEvent};

impl SessionTask {
    pub(super) async fn apply_compact_job(&mut self, job: CompactJob) {
        match job {
            CompactJob::Prepare {
                instructions,
                model,
                waiting_turn,
            } => self.want_summary(instructions.as_deref(), &model, waiting_turn, false),
            CompactJob::Finish {
                summary,
                waiting_turn,
                model,
            } => {
                if let Some((input, text)) = summary {
                    // A turn waiting on the summary holds the lease already; `/compact` takes
                    // it as a turn does, so the summary never lands inside another
                    // terminal's turn.
                    let manual = waiting_turn.is_none();
                    if manual && let Some(holder) = self.other_holder().await {
                        self.reply(AppEvent::Compaction(CompactionEvent::Generated {
                            input,
                            waiting_turn,
                            result: Err(format!(
                                "another terminal ({holder}) is answering in this session; /compact once it has finished"
                            )),
                        }));
                        return;
                    }
                    self.manager.push(summary_event(&input, text));
                    self.persist().await;
                    if manual
                        && self.manager.pending_count() == 0
                        && let Err(error) = self.manager.release_turn().await
                    {
                        // It expires on its own within seconds.
                        tracing::warn!(%error, "could not release the turn lease");
                    }
                    self.reply(AppEvent::Compaction(CompactionEvent::Stored {
                        messages: input.messages,
                    }));
                    self.reply(AppEvent::SessionChanged(self.view().await));
                }
                if let Some(turn) = waiting_turn {
                    self.reply(self.request_for(turn, &model));
                }
            }
            CompactJob::Continue { input, text } => self.continue_in_new(input, text).await,
        }
    }

    /// Archives this session and starts a new one from `text`, the summary of `input`. The
    /// new session is written at once, so the link is stored even if nothing is said in it.
    /// If archiving fails, the user stays where they were and the screen hears why.
    async fn continue_in_new(&mut self, input: SummaryInput, text: String) {
        let session = self.manager.session();
        let from = Continuation {
            session_id: session.id,
            title: session.title.clone(),
        };
        let archived = match self.manager.archive_and_reset().await {
            Ok(archived) => archived,
            Err(error) => {
                self.reply(AppEvent::Compaction(CompactionEvent::Generated {
                    input,
                    waiting_turn: None,
                    result: Err(format!("the session could not be archived: {error}")),
                }));
                return;
            }
        };
        self.manager.push(continuation_event(&input, text, from));
        self.persist().await;
        let archived = match archived {
            Some(id) => Some(lasting_short_id(self.manager.service().as_ref(), id).await),
            None => None,
        };
        self.branches = 1;
        self.reply(AppEvent::SessionReset {
            archived,
            view: self.view().await,
            carried: self.manager.events().cloned().collect(),
        });
    }

    /// Replies with the request for `turn`, or first with the summary to make when the
    /// history fills more than the configured share of the context window.
    pub(super) fn request_or_compact(&self, turn: u64, model: &str) {
        let branch: Vec<_> = self.manager.events().cloned().collect();
        if compaction_due(&branch, self.context_window, self.compact_at)
            && summary_input(&branch).is_some()
        {
            self.want_summary(None, model, Some(turn), true);
        } else {
            self.reply(self.request_for(turn, model));
        }
    }

    fn want_summary(
        &self,
        instructions: Option<&str>,
        model: &str,
        waiting_turn: Option<u64>,
        automatic: bool,
    ) {
        let branch: Vec<_> = self.manager.events().cloned().collect();
        let event = match summary_input(&branch) {
            Some(input) => CompactionEvent::Wanted {
                request: summary_request(&input, instructions, model, self.context_window),
                input,
                waiting_turn,
                automatic,
            },
            None => CompactionEvent::NothingToSummarise { waiting_turn },
        };
        self.reply(AppEvent::Compaction(event));
    }
}
