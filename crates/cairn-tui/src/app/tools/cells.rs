//! What the tool loop shows and keeps alive while it works: the calls' cells (their status,
//! the seconds a command has run, Ctrl+O to show whole outputs), and the turn's lease
//! renewed while calls wait or run.

use cairn_core::EventKind;

use super::{CurrentCall, Stage};
use crate::app::{App, Effect, SessionJob};
use crate::transcript::{ToolCellView, ToolStatus};

impl App {
    /// Ctrl+O: tool cells show their whole output, or fold it again.
    pub(in crate::app) fn toggle_tool_output(&mut self) {
        let Some(tools) = self.tools.as_mut() else {
            return;
        };
        tools.expanded = !tools.expanded;
        let expanded = tools.expanded;
        for cell in self.transcript.cells_mut() {
            cell.update_tool(expanded, |_| {});
        }
        self.clamp_scroll();
    }

    /// The running call's elapsed seconds, as the clock moves.
    pub(in crate::app) fn tick_tools(&mut self) {
        let Some(CurrentCall {
            call,
            stage: Stage::Running { started_ms },
            ..
        }) = self
            .tools
            .as_ref()
            .and_then(|tools| tools.round.as_ref())
            .and_then(|round| round.current.as_ref())
        else {
            return;
        };
        let seconds = u64::try_from((self.now_ms - started_ms) / 1000).unwrap_or(0);
        let call_id = call.call_id.clone();
        self.update_tool_cell(&call_id, |view| {
            if view.status != (ToolStatus::Running { seconds }) {
                view.status = ToolStatus::Running { seconds };
            }
        });
    }

    /// Keeps the turn's lease while calls wait for the user or run, about once a second, so
    /// another terminal does not take the session in the middle of the turn.
    pub(in crate::app) fn heartbeat_during_round(&mut self, effects: &mut Vec<Effect>) {
        let now_ms = self.now_ms;
        let Some(tools) = self.tools.as_mut().filter(|tools| tools.round.is_some()) else {
            return;
        };
        if now_ms - tools.last_heartbeat_ms < cairn_core::lease::LEASE_RENEW_MS {
            return;
        }
        tools.last_heartbeat_ms = now_ms;
        effects.push(Effect::Job(SessionJob::Heartbeat {
            // The answer is recorded already: no draft to keep.
            answer_so_far: String::new(),
            model: self.model.clone(),
        }));
    }

    /// Whether a round of calls is being worked through.
    pub(crate) fn in_tool_round(&self) -> bool {
        self.tools
            .as_ref()
            .is_some_and(|tools| tools.round.is_some())
    }

    pub(in crate::app) fn record_tool_events(
        &mut self,
        events: Vec<EventKind>,
        effects: &mut Vec<Effect>,
    ) {
        for event in &events {
            self.show_tool_event(event);
        }
        effects.push(Effect::Job(SessionJob::RecordStep(events)));
    }

    /// Shows a decision or a result on its call's cell (live, and when a session loads).
    pub(in crate::app) fn show_tool_event(&mut self, event: &EventKind) {
        match event {
            EventKind::ToolDecision {
                call_id,
                decision,
                rule,
                reason,
            } => self.update_tool_cell(call_id, |view| {
                view.decided(*decision, rule.as_deref(), reason.as_deref());
            }),
            EventKind::ToolResult {
                call_id,
                output,
                is_error,
            } => self.update_tool_cell(call_id, |view| view.finished(output, *is_error)),
            EventKind::UserMessage { .. }
            | EventKind::AssistantMessage { .. }
            | EventKind::ToolCall { .. }
            | EventKind::Note { .. }
            | EventKind::SystemContext { .. }
            | EventKind::Summary { .. }
            | EventKind::Error { .. } => {}
        }
    }

    pub(in crate::app) fn update_tool_cell(
        &mut self,
        call_id: &str,
        change: impl FnOnce(&mut ToolCellView),
    ) {
        let expanded = self.tools.as_ref().is_some_and(|tools| tools.expanded);
        if let Some(cell) = self
            .transcript
            .cells_mut()
            .iter_mut()
            .rev()
            .find(|cell| cell.tool_view().is_some_and(|view| view.call_id == call_id))
        {
            cell.update_tool(expanded, change);
        }
    }
}
