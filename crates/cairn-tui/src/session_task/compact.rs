//! The session task's part of compaction: what a summary of the branch would cover and the
//! request asking for it, compacting before a turn when the history fills the configured
//! share of the context window, and storing the summary as one more event (nothing is
//! deleted).

use cairn_core::compact::{compaction_due, summary_event, summary_input, summary_request};

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
                    self.manager.push(summary_event(&input, text));
                    self.persist().await;
                    self.reply(AppEvent::Compaction(CompactionEvent::Stored {
                        messages: input.messages,
                    }));
                    self.reply(AppEvent::SessionChanged(self.view().await));
                }
                if let Some(turn) = waiting_turn {
                    self.reply(self.request_for(turn, &model));
                }
            }
        }
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
