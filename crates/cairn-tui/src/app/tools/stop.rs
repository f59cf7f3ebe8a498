//! Stopping a round of calls: Esc/Ctrl+C (the running command is stopped and its result
//! comes back saying so; the rest never run) and quitting (what runs or waits is recorded as
//! interrupted). Either way every call ends with a decision and a result.

use cairn_core::EventKind;
use cairn_core::turn::interrupted_call_events;

use super::Stage;
use crate::app::{App, Effect, SessionJob};

impl App {
    /// Esc/Ctrl+C during the round (not at the prompt, which takes its own keys): the running
    /// command is stopped and its result comes back marked so; the rest never run.
    /// `false` when no round is active.
    pub(in crate::app) fn cancel_round(&mut self, effects: &mut Vec<Effect>) -> bool {
        let Some(round) = self.tools.as_mut().and_then(|tools| tools.round.as_mut()) else {
            return false;
        };
        if matches!(
            round.current.as_ref().map(|current| &current.stage),
            Some(Stage::Running { .. })
        ) {
            round.cancelled = true;
            effects.push(Effect::CancelTool);
            self.hint = Some("stopping the command…".to_owned());
            return true;
        }
        let events = self.close_round();
        for event in &events {
            self.show_tool_event(event);
        }
        effects.push(Effect::Job(SessionJob::Record(events)));
        self.note("Cancelled.");
        self.send_queued_after_turn(/*completed*/ false, effects);
        true
    }

    /// Leaving during the round (quitting, `/new`, opening another session): the call running
    /// or waiting and the rest are recorded as interrupted (never run again), the running
    /// command is stopped.
    pub(in crate::app) fn quit_round(&mut self, effects: &mut Vec<Effect>) {
        let running = self.running_call_id();
        let Some(round) = self.tools.as_mut().and_then(|tools| tools.round.as_mut()) else {
            return;
        };
        let mut events = Vec::new();
        if let Some(call_id) = running {
            round.current = None;
            effects.push(Effect::CancelTool);
            events.push(EventKind::ToolResult {
                call_id,
                output: "Stopped: the user left this conversation (quit, or opened another \
                         session) while this call ran. It will not be run again; ask the user \
                         if it is still needed."
                    .to_owned(),
                is_error: true,
            });
        }
        events.extend(self.close_round());
        effects.push(Effect::Job(SessionJob::Record(events)));
    }

    /// Ends the round: the current call (unless it has its result) and the waiting ones
    /// get events saying they were interrupted.
    pub(in crate::app) fn close_round(&mut self) -> Vec<EventKind> {
        let Some(round) = self.tools.as_mut().and_then(|tools| tools.round.take()) else {
            return Vec::new();
        };
        round
            .current
            .map(|current| current.call)
            .into_iter()
            .chain(round.waiting)
            .flat_map(|call| interrupted_call_events(call.call_id))
            .collect()
    }
}
