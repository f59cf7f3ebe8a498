//! Compacting the conversation: `/compact [instructions]`, compacting on our own when the
//! history fills the configured share of the context window (the session task decides that
//! as it builds a turn's request), and once more when the model says the conversation is too
//! long for it.
//!
//! The steps: the session task says what a summary would cover and how to ask for it
//! ([`CompactionEvent::Wanted`]); the model writes it in the background (the offline echo
//! provider cannot: a summary of the user's questions is made here instead, at once); the
//! session task stores it and, for a turn waiting on it, builds that turn's request, which
//! then holds the summary and the turns after it. Nothing is deleted: the cells it stands
//! for fold behind one line. While a summary is being made, messages wait in the queue.
//!
//! A summary that fails is no dead end: the turn waiting on it goes ahead with the budgeted
//! history, and the error is shown.
//!
//! `/new --summary` makes the same summary, and then, instead of storing it here, has the
//! session task archive this session and start a new one from it. If no summary can be
//! made, the user stays in this session with nothing archived, and is told so.

use cairn_core::ProviderError;
use cairn_core::compact::{SummaryInput, local_summary};
use cairn_core::text::plural;

use super::{App, CompactJob, CompactionEvent, Effect, SessionJob};
use crate::transcript::CellKind;

/// A summary in the making.
#[derive(Debug, Default)]
pub(crate) struct Compacting {
    /// The model said the conversation is too long: shown if no summary can be made.
    too_long: Option<ProviderError>,
    /// `/new --summary`: the summary starts a new session instead of joining this one.
    pub(crate) continuing: bool,
}

impl App {
    /// `/compact [instructions]`.
    pub(super) fn compact(&mut self, instructions: Option<String>, effects: &mut Vec<Effect>) {
        if self.turn.is_some() || self.other_turn.is_some() {
            self.note("An answer is being written: /compact once it has finished.");
            return;
        }
        if self.opening.is_some() {
            self.note("The session is still loading: /compact in a moment.");
            return;
        }
        if self.compacting.is_some() {
            self.note("A summary is being made already.");
            return;
        }
        self.compacting = Some(Compacting::default());
        effects.push(Effect::Job(SessionJob::Compact(CompactJob::Prepare {
            instructions,
            model: self.model.clone(),
            waiting_turn: None,
        })));
    }

    /// `/new --summary`: summarise this session, then carry the summary into a new one.
    pub(super) fn continue_in_new(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() || self.other_turn.is_some() {
            self.note("An answer is being written: /new --summary once it has finished.");
            return;
        }
        if self.opening.is_some() {
            self.note("The session is still loading: /new --summary in a moment.");
            return;
        }
        if self.compacting.is_some() {
            self.note("A summary is being made already.");
            return;
        }
        self.compacting = Some(Compacting {
            too_long: None,
            continuing: true,
        });
        self.note("Summarising this session to carry it into a new one…");
        effects.push(Effect::Job(SessionJob::Compact(CompactJob::Prepare {
            instructions: None,
            model: self.model.clone(),
            waiting_turn: None,
        })));
    }

    /// The model stream failed: a first "too long for the context window" compacts the
    /// conversation and asks again; anything else ends the turn with the error.
    pub(super) fn on_turn_failed(&mut self, error: ProviderError, effects: &mut Vec<Effect>) {
        let retry = matches!(error, ProviderError::ContextTooLong { .. })
            && self.compacting.is_none()
            && self
                .turn
                .as_ref()
                .is_some_and(|active| !active.compacted && !active.has_text());
        let Some(active) = self.turn.as_mut().filter(|_| retry) else {
            self.finish_turn(/*interrupted*/ true, Some(error), effects);
            return;
        };
        active.compacted = true;
        active.streaming = false;
        active.retrying = Some("the conversation is too long for the model: summarising".into());
        let turn = active.id;
        self.compacting = Some(Compacting {
            too_long: Some(error),
            continuing: false,
        });
        effects.push(Effect::Job(SessionJob::Compact(CompactJob::Prepare {
            instructions: None,
            model: self.model.clone(),
            waiting_turn: Some(turn),
        })));
    }

    pub(super) fn on_compaction(&mut self, event: CompactionEvent, effects: &mut Vec<Effect>) {
        match event {
            CompactionEvent::Wanted {
                input,
                request,
                waiting_turn,
                automatic,
            } => {
                if automatic {
                    self.compacting.get_or_insert_with(Compacting::default);
                    if let Some(active) = self.turn.as_mut() {
                        active.retrying =
                            Some("the conversation nears the context window: summarising".into());
                    }
                    self.note(&format!(
                        "The conversation nears the model's context window: summarising {} first.",
                        plural(input.messages, "earlier message")
                    ));
                }
                if self.provider.offline {
                    // The echo provider writes no summaries: the questions make one, at once.
                    let text = local_summary(&input);
                    self.finish_compaction(Some((input, text)), waiting_turn, effects);
                } else {
                    effects.push(Effect::GenerateSummary {
                        input,
                        request,
                        waiting_turn,
                    });
                }
            }
            CompactionEvent::NothingToSummarise { waiting_turn } => {
                let continuing = self.is_continuing();
                let too_long = self.compacting.take().and_then(|state| state.too_long);
                match (waiting_turn, too_long) {
                    (Some(_), Some(error)) => {
                        self.finish_turn(/*interrupted*/ true, Some(error), effects)
                    }
                    (Some(turn), None) => self.finish_compaction(None, Some(turn), effects),
                    (None, _) if continuing => self
                        .note("There is nothing to carry over yet: /new starts a plain session."),
                    (None, _) => self.note("There is nothing new to summarise yet."),
                }
                self.send_queued(effects);
            }
            CompactionEvent::Generated {
                input,
                waiting_turn,
                result,
            } => match result {
                Ok(Some(text)) => {
                    self.finish_compaction(Some((input, text)), waiting_turn, effects)
                }
                Ok(None) | Err(_) => {
                    let why = match result {
                        Err(error) => error,
                        Ok(_) => "the model's reply had nothing usable".to_owned(),
                    };
                    self.error(&format!("could not summarise the conversation: {why}"));
                    if self.is_continuing() {
                        self.note("You are still in this session; nothing was archived. /new starts a plain one.");
                    }
                    let too_long = self.compacting.take().and_then(|state| state.too_long);
                    match (waiting_turn, too_long) {
                        (Some(_), Some(error)) => {
                            self.finish_turn(/*interrupted*/ true, Some(error), effects)
                        }
                        (Some(turn), None) => self.finish_compaction(None, Some(turn), effects),
                        (None, _) => {}
                    }
                    self.send_queued(effects);
                }
            },
            CompactionEvent::Stored { messages } => {
                self.compacting = None;
                // A turn waiting on the summary keeps its question below the fold.
                let cells = self.transcript.cells();
                let fold = match &self.turn {
                    Some(_) => cells
                        .iter()
                        .rposition(|cell| cell.kind == CellKind::User)
                        .unwrap_or(cells.len()),
                    None => cells.len(),
                };
                self.transcript.fold_first(fold, messages);
                if let Some(active) = self.turn.as_mut() {
                    active.retrying = None;
                }
                self.note(&format!(
                    "Summarised {}.",
                    plural(messages, "earlier message")
                ));
                self.send_queued(effects);
            }
        }
    }

    /// Has the session task store `summary` (if any) and build the waiting turn's request;
    /// for `/new --summary`, start the new session from it.
    fn finish_compaction(
        &mut self,
        summary: Option<(SummaryInput, String)>,
        waiting_turn: Option<u64>,
        effects: &mut Vec<Effect>,
    ) {
        if self.is_continuing()
            && let Some((input, text)) = summary
        {
            self.leave_conversation(effects);
            effects.push(Effect::Job(SessionJob::Compact(CompactJob::Continue {
                input,
                text,
            })));
            return;
        }
        if summary.is_none() {
            self.compacting = None;
        }
        effects.push(Effect::Job(SessionJob::Compact(CompactJob::Finish {
            summary,
            waiting_turn,
            model: self.model.clone(),
        })));
    }

    fn is_continuing(&self) -> bool {
        self.compacting
            .as_ref()
            .is_some_and(|state| state.continuing)
    }

    /// A message typed while the summary was made goes out now, unless a turn is running.
    pub(super) fn send_queued(&mut self, effects: &mut Vec<Effect>) {
        if !self.is_busy()
            && self.opening.is_none()
            && let Some(message) = self.queued.take()
        {
            self.send_message(message, effects);
        }
    }
}
