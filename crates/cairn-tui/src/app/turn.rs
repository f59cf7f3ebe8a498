//! The turn lifecycle: a turn is one request to the model and the answer it streams back.
//! It begins when a message is sent (or retried), follows the model stream, and ends
//! exactly once: finished, failed, cancelled, or cut short by quitting.
//!
//! Invariants:
//! - At most one turn is active; stream events of any other turn are ignored.
//! - Ending a turn returns one persistence job with everything it produced (answer, tool
//!   calls, error), so nothing is written twice and nothing is lost on quit. Which events
//!   those are is decided by `cairn_core::turn::answer_events`, as for `cairn run`.

use cairn_core::lease::LEASE_RENEW_MS;
use cairn_core::provider::FinishReason;
use cairn_core::turn::{TurnEnd, answer_events, answer_events_with_tools};
use cairn_core::{EventKind, ProviderError, StreamEvent};

use super::stream::ActiveTurn;
use super::{App, Effect, SessionJob};
use crate::transcript::{Cell, CellKind, ToolCellView};

impl App {
    /// Starts turn number `next_turn` (the request is built by the session task) and
    /// returns its number.
    pub(super) fn begin_turn(&mut self) -> u64 {
        let id = self.next_turn;
        self.next_turn += 1;
        self.last_turn_failed = false;
        if let Some(tools) = self.tools.as_mut() {
            tools.new_turn();
        }
        self.turn = Some(ActiveTurn::new(id, self.now_ms));
        self.scroll = 0;
        id
    }

    /// Leaves, ending the active turn first so its partial answer is recorded.
    pub(super) fn quit(&mut self, effects: &mut Vec<Effect>) {
        self.leave_conversation(effects);
        effects.push(Effect::Quit);
    }

    /// Before another session replaces this one on screen (`/new`, the picker): the answer
    /// streaming and the tool calls running or waiting end here, recorded in this session.
    pub(super) fn leave_conversation(&mut self, effects: &mut Vec<Effect>) {
        if self.turn.is_some() {
            self.cancel_turn(effects);
        }
        self.quit_round(effects);
    }

    /// Stops the active turn, keeping (and recording) what arrived.
    pub(super) fn cancel_turn(&mut self, effects: &mut Vec<Effect>) {
        let Some(active) = &self.turn else {
            return;
        };
        if active.streaming {
            effects.push(Effect::CancelStream { turn: active.id });
        }
        self.finish_turn(/*interrupted*/ true, None, effects);
    }

    pub(super) fn on_stream(&mut self, turn: u64, event: StreamEvent, effects: &mut Vec<Effect>) {
        // A reader who scrolled up keeps their place while the answer grows below them.
        let held_height = (self.scroll > 0).then(|| self.content_height());
        self.apply_stream_event(turn, event, effects);
        if let Some(before) = held_height {
            self.scroll += self.content_height().saturating_sub(before);
            self.clamp_scroll();
        }
    }

    fn apply_stream_event(&mut self, turn: u64, event: StreamEvent, effects: &mut Vec<Effect>) {
        let Some(active) = self.turn.as_mut().filter(|active| active.id == turn) else {
            return;
        };
        if active.apply(event, &mut self.transcript, &mut self.live) {
            self.finish_turn(/*interrupted*/ false, None, effects);
        }
    }

    /// Asks the session task, about once a second while an answer streams, to renew the
    /// turn's lease and save the answer so far.
    pub(super) fn heartbeat_if_due(&mut self, effects: &mut Vec<Effect>) {
        let Some(active) = self.turn.as_mut().filter(|active| active.streaming) else {
            self.heartbeat_during_round(effects);
            return;
        };
        if self.now_ms - active.last_heartbeat_ms < LEASE_RENEW_MS {
            return;
        }
        active.last_heartbeat_ms = self.now_ms;
        effects.push(Effect::Job(SessionJob::Heartbeat {
            answer_so_far: active.answer.text.clone(),
            model: self.model.clone(),
        }));
    }

    /// Ends the active turn: commits what arrived, shows the error if any, and records one
    /// persistence job for the answer, tool calls and error.
    pub(super) fn finish_turn(
        &mut self,
        interrupted: bool,
        error: Option<ProviderError>,
        effects: &mut Vec<Effect>,
    ) {
        let Some(active) = self.turn.take() else {
            return;
        };
        self.live = None;
        let end = match &error {
            Some(error) => TurnEnd::Failed(error.to_string()),
            None if interrupted => TurnEnd::Cancelled,
            None => TurnEnd::Completed,
        };
        let produced = active.has_text() || !active.answer.tool_calls.is_empty();
        if self.tools_refused(active.declared_tools, produced, error.as_ref(), effects) {
            return;
        }
        let (record, calls) = match &self.tools {
            Some(_) => answer_events_with_tools(&active.answer, &end, &self.model),
            None => (answer_events(&active.answer, &end, &self.model), Vec::new()),
        };
        let tail = active.answer.text[active.committed..].trim_end();
        if !tail.is_empty() || (active.committed > 0 && interrupted) {
            self.transcript.push(Cell::new(
                CellKind::Assistant {
                    first: active.committed == 0,
                    interrupted,
                },
                tail,
            ));
        }
        if active.has_text() {
            if let Some(usage) = active.answer.usage {
                self.usage.last_input = usage.input_tokens;
                self.usage.output += usage.output_tokens;
            }
            self.last_answer = Some(active.answer.text.clone());
        }
        if calls.is_empty() {
            // Calls that will not run show with their results at once.
            for event in &record {
                if let EventKind::ToolCall {
                    call_id,
                    name,
                    arguments,
                } = event
                {
                    let view = ToolCellView::new(call_id, name, arguments);
                    self.transcript.push(Cell::tool(view, /*expanded*/ false));
                }
            }
            for event in &record {
                self.show_tool_event(event);
            }
        }
        match (&error, &active.answer.finish_reason) {
            (Some(error), _) => {
                // Stored as the provider gave it (as `cairn run` stores it); the hint is
                // for the screen.
                self.error(&format!(
                    "{error}. Press Enter on an empty line or type /retry to try again."
                ));
                self.last_turn_failed = true;
            }
            (None, Some(FinishReason::Length)) => {
                self.note("The answer stopped at the output token limit.");
            }
            (None, Some(FinishReason::ContentFilter)) => {
                self.note("The provider stopped the answer (content filter).");
            }
            (None, Some(FinishReason::Refusal)) => self.note("The model declined to answer."),
            (None, Some(FinishReason::Stop | FinishReason::ToolCalls | FinishReason::Other(_)))
            | (None, None) => {}
        }
        if interrupted && error.is_none() {
            if active.has_text() {
                self.hint = Some("answer cancelled; the partial text was kept".to_owned());
            } else {
                self.note("Cancelled.");
            }
        }
        if !calls.is_empty() {
            // The turn goes on: its lease is kept while the calls are worked through.
            effects.push(Effect::Job(SessionJob::RecordStep(record)));
            self.start_round(calls, effects);
            return;
        }
        if !record.is_empty() {
            effects.push(Effect::Job(SessionJob::Record(record)));
        }
        // After the record job, so the session task stores this answer before the next message.
        self.send_queued_after_turn(error.is_none() && !interrupted, effects);
    }
}
