//! The chat's tool loop. After an answer with calls, each call in order is read
//! (`parse_call`), placed by the driver (where a read tool's path resolves), decided about
//! with the session's policy (`decide_call`, the same as `cairn run`) or put to the user in
//! the approval prompt, run by the driver off the UI thread, and its decision and result
//! recorded through the session task. Then the model is called again with a request built
//! from the stored branch, up to the step limit.
//!
//! Invariants:
//! - Every call of an answer ends with a decision and a result in the chain, whatever
//!   happens: denied, cancelled (Esc/Ctrl+C while it runs: the process group is killed and
//!   the result says so), quit (recorded as interrupted, never run again).
//! - Session grants live in [`ToolState::policy`] only: never stored, so a resumed session
//!   asks again.
//! - The turn's lease is kept from the answer to the last answer of the turn: steps are
//!   recorded with [`SessionJob::RecordStep`], the end with [`SessionJob::Record`].

use std::collections::VecDeque;

use cairn_core::tool::{Place, ToolPolicy, ToolRequest, declarations};
use cairn_core::turn::{
    CallStep, PendingCall, StepBudget, TOOLS_REFUSED_NOTE, decide_call, decision_events,
    over_limit_events, parse_call,
};
use cairn_core::{EventKind, ModelRequest, ProviderError, ToolVerdict};

use super::approval::{ApprovalPrompt, Choice};
use super::{App, Effect, SessionJob};
use crate::transcript::{Cell, ToolCellView, ToolStatus};

/// How the chat's tools are set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolSettings {
    /// The `[tools]` rules; `can_ask` is true in the chat.
    pub policy: ToolPolicy,
    /// Rounds of calls one turn may make (`[tools] max_steps`).
    pub max_steps: u32,
    /// Where commands run, for display.
    pub folder: String,
}

/// The tools' state for the chat.
#[derive(Debug)]
pub(crate) struct ToolState {
    pub(crate) policy: ToolPolicy,
    max_steps: u32,
    pub(crate) folder: String,
    /// The provider refused tools once: they are no longer declared.
    refused: bool,
    budget: StepBudget,
    /// The calls of the latest answer being worked through.
    pub(crate) round: Option<ToolRound>,
    /// Tool cells show their whole output.
    pub(crate) expanded: bool,
    /// When the session task was last asked to renew the turn's lease during the round.
    last_heartbeat_ms: i64,
}

/// The calls of one answer.
mod cells;
mod stop;

#[derive(Debug)]
pub(crate) struct ToolRound {
    waiting: VecDeque<PendingCall>,
    pub(crate) current: Option<CurrentCall>,
    /// Esc/Ctrl+C stopped the running call: the rest are not run.
    cancelled: bool,
}

#[derive(Debug)]
pub(crate) struct CurrentCall {
    call: PendingCall,
    request: ToolRequest,
    pub(crate) stage: Stage,
}

#[derive(Debug)]
pub(crate) enum Stage {
    /// The driver is finding where a read tool's path is.
    Placing,
    Asking(ApprovalPrompt),
    Running {
        started_ms: i64,
    },
}

impl ToolState {
    pub(crate) fn new(settings: ToolSettings) -> Self {
        Self {
            policy: settings.policy,
            max_steps: settings.max_steps,
            folder: settings.folder,
            refused: false,
            budget: StepBudget::new(settings.max_steps),
            round: None,
            expanded: false,
            last_heartbeat_ms: 0,
        }
    }

    /// A new turn from the user: the step limit counts again.
    pub(crate) fn new_turn(&mut self) {
        self.budget = StepBudget::new(self.max_steps);
    }

    /// Declares the tools in `request` unless the provider refused them; whether it did.
    pub(crate) fn declare(&self, request: &mut ModelRequest) -> bool {
        if !self.refused {
            request.tools = declarations();
        }
        !self.refused
    }

    /// The prompt on screen, if a call is waiting for the user.
    pub(crate) fn prompt(&self) -> Option<&ApprovalPrompt> {
        match &self.round.as_ref()?.current.as_ref()?.stage {
            Stage::Asking(prompt) => Some(prompt),
            Stage::Placing | Stage::Running { .. } => None,
        }
    }
}

impl App {
    /// Whether a turn that declared tools failed because the provider refuses them: then
    /// they are dropped for the rest of the run, noted once, and the turn goes on without.
    pub(super) fn tools_refused(
        &mut self,
        declared: bool,
        produced: bool,
        error: Option<&ProviderError>,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let Some(tools) = self.tools.as_mut() else {
            return false;
        };
        if !declared || produced || !error.is_some_and(ProviderError::rejects_tools) {
            return false;
        }
        tools.refused = true;
        self.note(TOOLS_REFUSED_NOTE);
        effects.push(Effect::Job(SessionJob::RecordStep(vec![EventKind::Note {
            text: TOOLS_REFUSED_NOTE.to_owned(),
        }])));
        self.continue_turn(effects);
        true
    }

    /// The answer just recorded made `calls`: show them and work through them, or close
    /// them when the step limit is reached.
    pub(super) fn start_round(&mut self, calls: Vec<PendingCall>, effects: &mut Vec<Effect>) {
        let expanded = self.tools.as_ref().is_some_and(|tools| tools.expanded);
        for call in &calls {
            let view = ToolCellView::new(&call.call_id, &call.name, &call.arguments);
            self.transcript.push(Cell::tool(view, expanded));
        }
        let Some(tools) = self.tools.as_mut() else {
            return;
        };
        if !tools.budget.take_step() {
            let note = tools.budget.limit_note();
            let mut events = over_limit_events(&calls);
            for event in &events {
                self.show_tool_event(event);
            }
            events.push(EventKind::Note { text: note.clone() });
            self.note(&note);
            effects.push(Effect::Job(SessionJob::Record(events)));
            self.send_queued_after_turn(/*completed*/ true, effects);
            return;
        }
        tools.last_heartbeat_ms = self.now_ms;
        tools.round = Some(ToolRound {
            waiting: calls.into(),
            current: None,
            cancelled: false,
        });
        self.next_call(effects);
    }

    /// Starts the next call of the round, or calls the model again when none is left.
    pub(in crate::app) fn next_call(&mut self, effects: &mut Vec<Effect>) {
        loop {
            let Some(round) = self.tools.as_mut().and_then(|tools| tools.round.as_mut()) else {
                return;
            };
            let Some(call) = round.waiting.pop_front() else {
                if let Some(tools) = self.tools.as_mut() {
                    tools.round = None;
                }
                self.continue_turn(effects);
                return;
            };
            match parse_call(&call) {
                Ok(request) => {
                    effects.push(Effect::PlaceTool {
                        call_id: call.call_id.clone(),
                        request: request.clone(),
                    });
                    round.current = Some(CurrentCall {
                        call,
                        request,
                        stage: Stage::Placing,
                    });
                    return;
                }
                Err(result) => self.record_tool_events(vec![result], effects),
            }
        }
    }

    /// The driver found where the current call's path is: decide about it.
    pub(super) fn on_tool_placed(
        &mut self,
        call_id: &str,
        place: Place,
        effects: &mut Vec<Effect>,
    ) {
        let Some(tools) = self.tools.as_mut() else {
            return;
        };
        let Some(current) = tools
            .round
            .as_mut()
            .and_then(|round| round.current.as_mut())
            .filter(|current| current.call.call_id == call_id)
        else {
            return;
        };
        match decide_call(call_id, &current.request, &tools.policy, place) {
            CallStep::Decided { decision, not_run } => {
                self.apply_decision(decision, not_run, effects)
            }
            CallStep::Ask { grant } => {
                current.stage =
                    Stage::Asking(ApprovalPrompt::new(&current.request, grant, &tools.folder));
                let call_id = call_id.to_owned();
                self.update_tool_cell(&call_id, |view| {
                    view.status = ToolStatus::WaitingForApproval
                });
                self.scroll = 0;
            }
        }
    }

    /// Keys while the approval prompt is shown; `false` when there is no prompt.
    pub(super) fn on_approval_key(
        &mut self,
        key: crossterm::event::KeyEvent,
        effects: &mut Vec<Effect>,
    ) -> bool {
        let Some(current) = self
            .tools
            .as_mut()
            .and_then(|tools| tools.round.as_mut())
            .and_then(|round| round.current.as_mut())
        else {
            return false;
        };
        let Stage::Asking(prompt) = &mut current.stage else {
            return false;
        };
        let Some(choice) = prompt.handle_key(key) else {
            return true;
        };
        let call_id = current.call.call_id.clone();
        let (verdict, rule, reason) = match choice {
            Choice::AllowOnce => (ToolVerdict::AllowedOnce, None, None),
            Choice::Grant(prefix) => {
                let rule = prefix.to_string();
                if let Some(tools) = self.tools.as_mut() {
                    tools.policy.grants.push(prefix);
                }
                (ToolVerdict::AllowedByGrant, Some(rule), None)
            }
            Choice::Deny { reason } => (ToolVerdict::Denied, None, reason),
        };
        let (decision, not_run) = decision_events(&call_id, verdict, rule, reason);
        self.apply_decision(decision, not_run, effects);
        true
    }

    /// A paste goes into the deny reason while it is typed; `false` when it is not.
    pub(super) fn on_approval_paste(&mut self, text: &str) -> bool {
        let Some(Stage::Asking(prompt)) = self
            .tools
            .as_mut()
            .and_then(|tools| tools.round.as_mut())
            .and_then(|round| round.current.as_mut())
            .map(|current| &mut current.stage)
        else {
            return false;
        };
        prompt.paste(text);
        true
    }

    pub(in crate::app) fn apply_decision(
        &mut self,
        decision: EventKind,
        not_run: Option<EventKind>,
        effects: &mut Vec<Effect>,
    ) {
        let now_ms = self.now_ms;
        let Some(round) = self.tools.as_mut().and_then(|tools| tools.round.as_mut()) else {
            return;
        };
        let Some(current) = round.current.as_mut() else {
            return;
        };
        let runs = not_run.is_none();
        if runs {
            current.stage = Stage::Running { started_ms: now_ms };
            effects.push(Effect::RunTool {
                call_id: current.call.call_id.clone(),
                request: current.request.clone(),
            });
        } else {
            round.current = None;
        }
        let mut events = vec![decision];
        events.extend(not_run);
        self.record_tool_events(events, effects);
        if runs {
            let call_id = self.running_call_id().unwrap_or_default();
            self.update_tool_cell(&call_id, |view| {
                view.status = ToolStatus::Running { seconds: 0 }
            });
        } else {
            self.next_call(effects);
        }
    }

    pub(in crate::app) fn running_call_id(&self) -> Option<String> {
        let current = self.tools.as_ref()?.round.as_ref()?.current.as_ref()?;
        matches!(current.stage, Stage::Running { .. }).then(|| current.call.call_id.clone())
    }

    /// A call the driver ran has ended.
    pub(super) fn on_tool_finished(
        &mut self,
        call_id: &str,
        output: String,
        is_error: bool,
        effects: &mut Vec<Effect>,
    ) {
        if self.running_call_id().as_deref() != Some(call_id) {
            return;
        }
        let Some(tools) = self.tools.as_mut() else {
            return;
        };
        let Some(round) = tools.round.as_mut() else {
            return;
        };
        round.current = None;
        let cancelled = round.cancelled;
        let result = EventKind::ToolResult {
            call_id: call_id.to_owned(),
            output,
            is_error,
        };
        if !cancelled {
            self.record_tool_events(vec![result], effects);
            self.next_call(effects);
            return;
        }
        let mut events = vec![result];
        events.extend(self.close_round());
        for event in &events {
            self.show_tool_event(event);
        }
        effects.push(Effect::Job(SessionJob::Record(events)));
        self.note("Cancelled.");
        self.send_queued_after_turn(/*completed*/ false, effects);
    }

    /// Calls the model again in the same turn (after the results, or without tools), with
    /// a request the session task builds from the stored branch.
    pub(in crate::app) fn continue_turn(&mut self, effects: &mut Vec<Effect>) {
        let budget = self.tools.as_ref().map(|tools| tools.budget);
        let turn = self.begin_turn();
        if let (Some(tools), Some(budget)) = (self.tools.as_mut(), budget) {
            tools.budget = budget;
        }
        effects.push(Effect::Job(SessionJob::NextRequest {
            turn,
            model: self.model.clone(),
        }));
    }
}
