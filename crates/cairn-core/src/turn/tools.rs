//! The tool loop of a turn, the same for every front end: after an answer with calls, each
//! call in order is decided about ([`crate::tool::ToolPolicy`]), the decision recorded, the
//! call run or not, its result recorded, and the model called again, up to a step limit.
//!
//! What is here is the bookkeeping both front ends share: the step budget, the events of a
//! decided call, and the calls a session left without a result (a crash, a kill, quitting
//! while Cairn was asking), which get a result saying they were interrupted and are never
//! run again.

use crate::event::{Event, EventKind, ToolVerdict};
use crate::tool::{CommandPrefix, Decision, Place, ToolPolicy, ToolRequest, not_run_result};
use crate::turn::PendingCall;

/// How many rounds of calls one turn may still make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StepBudget {
    max_steps: u32,
    taken: u32,
}

impl StepBudget {
    pub fn new(max_steps: u32) -> Self {
        Self {
            max_steps,
            taken: 0,
        }
    }

    /// Counts one more round of calls; `false` when the limit is reached and the model
    /// must not be called again in this turn.
    pub fn take_step(&mut self) -> bool {
        if self.taken >= self.max_steps {
            return false;
        }
        self.taken += 1;
        true
    }

    /// The note shown when the limit stops a turn.
    pub fn limit_note(&self) -> String {
        format!(
            "Stopped after {} of tool calls in one turn (the [tools] max_steps limit); \
             send a message to let the model go on.",
            crate::text::plural(u64::from(self.max_steps), "round")
        )
    }
}

/// The note said once when a provider refuses tools and the turn goes on without them.
pub const TOOLS_REFUSED_NOTE: &str =
    "This model or provider does not accept tools; continuing without them.";

/// The decision event for a decided call (by the policy, or by the user when it asked),
/// and the result to record when the call does not run.
pub fn decision_events(
    call_id: &str,
    verdict: ToolVerdict,
    rule: Option<String>,
    reason: Option<String>,
) -> (EventKind, Option<EventKind>) {
    let result = (!verdict.runs()).then(|| EventKind::ToolResult {
        call_id: call_id.to_owned(),
        output: not_run_result(verdict, rule.as_deref(), reason.as_deref()),
        is_error: true,
    });
    let event = EventKind::ToolDecision {
        call_id: call_id.to_owned(),
        decision: verdict,
        rule,
        reason,
    };
    (event, result)
}

/// What to do next with one call of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallStep {
    /// Decided without asking: record `decision`, then `not_run` when it does not run, or
    /// else run the call and record its result.
    Decided {
        decision: EventKind,
        not_run: Option<EventKind>,
    },
    /// Ask the user (only where someone can be asked), offering to allow commands
    /// starting with `grant` for the session when a prefix can cover the command.
    Ask { grant: Option<CommandPrefix> },
}

/// The call's arguments read into a request, or the result telling the model why they could
/// not be (nothing is decided about such a call: there is nothing to run).
pub fn parse_call(call: &PendingCall) -> Result<ToolRequest, EventKind> {
    ToolRequest::parse(&call.name, &call.arguments).map_err(|problem| EventKind::ToolResult {
        call_id: call.call_id.clone(),
        output: problem,
        is_error: true,
    })
}

/// Decides about a parsed call with `policy`; `place` is where a read tool's path resolved
/// to. Where nobody can be asked (`can_ask` false), what would ask is denied.
pub fn decide_call(
    call_id: &str,
    request: &ToolRequest,
    policy: &ToolPolicy,
    place: Place,
) -> CallStep {
    let (verdict, rule, reason) = match policy.decide(request, place) {
        Decision::Decided {
            verdict,
            rule,
            reason,
        } => (verdict, rule, reason),
        Decision::Ask { grant } if policy.can_ask => return CallStep::Ask { grant },
        // The policy never asks when `can_ask` is false; denying is the safe reading.
        Decision::Ask { .. } => (
            ToolVerdict::Denied,
            None,
            Some("it needs the user's approval".to_owned()),
        ),
    };
    let (decision, not_run) = decision_events(call_id, verdict, rule, reason);
    CallStep::Decided { decision, not_run }
}

/// What the calls of an answer past the step limit record: each denied, with a result
/// saying why, so the history stays valid and the model learns what happened next time.
pub fn over_limit_events(calls: &[PendingCall]) -> Vec<EventKind> {
    let mut events = Vec::new();
    for call in calls {
        let (decision, result) = decision_events(
            &call.call_id,
            ToolVerdict::Denied,
            None,
            Some("the turn reached its limit of rounds of tool calls".to_owned()),
        );
        events.push(decision);
        events.extend(result);
    }
    events
}

/// The calls at the end of the branch that have no result and were not written by
/// `current` (this invocation, which may still be running them): what a session stopped
/// in the middle of left behind. Calls before a later user message are left alone; the
/// request builder answers those for the model.
pub fn unanswered_calls(events: &[Event], current: crate::ids::InvocationId) -> Vec<&str> {
    let mut unanswered: Vec<&Event> = Vec::new();
    for event in events {
        match &event.kind {
            // Calls a summary stands for are never sent again.
            EventKind::UserMessage { .. } | EventKind::Summary { .. } => unanswered.clear(),
            EventKind::ToolCall { .. } => unanswered.push(event),
            EventKind::ToolResult { call_id, .. } => unanswered.retain(|call| {
                !matches!(&call.kind, EventKind::ToolCall { call_id: id, .. } if id == call_id)
            }),
            EventKind::AssistantMessage { .. }
            | EventKind::ToolDecision { .. }
            | EventKind::Note { .. }
            | EventKind::SystemContext { .. }
            | EventKind::Error { .. } => {}
        }
    }
    unanswered
        .into_iter()
        .filter(|call| call.invocation_id != current)
        .filter_map(|call| match &call.kind {
            EventKind::ToolCall { call_id, .. } => Some(call_id.as_str()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests;
