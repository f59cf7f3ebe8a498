//! The tools in `cairn run`: nobody can be asked, so reads inside the workspace run, and a
//! command runs only when `--allow` or the config's `[tools] allow` covers every part of it
//! (deny rules win); everything else is denied with a result saying why.
//!
//! Each call's decision and result are recorded and saved before the model is called again,
//! so a run killed in the middle leaves a session that resumes with that call marked
//! interrupted, never run twice.

use cairn_core::text::neutralize_controls;
use cairn_core::tool::{CommandPrefix, ToolPolicy, declarations};
use cairn_core::turn::{
    CallStep, PendingCall, StepBudget, decide_call, decision_events, interrupted_call_events,
    over_limit_events, parse_call,
};
use cairn_core::{EventKind, SessionManager, ToolVerdict};
use cairn_tools::{ToolOutput, Toolbox};
use eyre::{WrapErr, eyre};
use serde_json::json;

use super::{Output, StopSignals};
use crate::context::Context;
use crate::tool_setup::workspace_tools;

/// The tools of one `cairn run`.
pub(super) struct RunTools {
    toolbox: Toolbox,
    policy: ToolPolicy,
    pub(super) budget: StepBudget,
    /// The provider refused tools once: they are no longer declared.
    pub(super) refused: bool,
}

impl RunTools {
    /// `None` when `[tools] enabled = false`.
    pub(super) fn new(
        context: &Context,
        workspace: &cairn_core::Workspace,
        allow: &[String],
    ) -> eyre::Result<Option<Self>> {
        let Some(mut tools) = workspace_tools(context, workspace, /*can_ask*/ false)? else {
            return Ok(None);
        };
        for rule in allow {
            let prefix = CommandPrefix::parse(rule)
                .map_err(|refusal| eyre!("--allow {rule:?}: {refusal}"))?;
            tools.policy.allow.push(prefix);
        }
        Ok(Some(Self {
            toolbox: tools.toolbox,
            policy: tools.policy,
            budget: StepBudget::new(tools.max_steps),
            refused: false,
        }))
    }

    /// What to declare in the next request.
    pub(super) fn declarations(&self) -> Vec<cairn_core::tool::ToolDeclaration> {
        if self.refused {
            Vec::new()
        } else {
            declarations()
        }
    }

    /// Records the calls of an answer past the step limit as denied.
    pub(super) fn close_over_limit(&self, calls: &[PendingCall], manager: &mut SessionManager) {
        for event in over_limit_events(calls) {
            manager.push(event);
        }
    }

    /// Decides about, runs and records each call in order, saving the decision before a
    /// call runs and its result after, so a kill loses at most the call that was running
    /// (which the next resume marks interrupted). `false` when a signal stopped it.
    pub(super) async fn run_calls(
        &self,
        calls: &[PendingCall],
        manager: &mut SessionManager,
        out: &mut Output,
        signals: &mut StopSignals,
    ) -> eyre::Result<bool> {
        for (index, call) in calls.iter().enumerate() {
            out.tool_call(call);
            let request = match parse_call(call) {
                Ok(request) => request,
                Err(problem) => {
                    // The call could not be read: nothing to decide, the model is told why.
                    record_result(manager, out, call, as_output(problem));
                    save(manager).await?;
                    continue;
                }
            };
            let place = self.toolbox.place(&request);
            let (decision, not_run) =
                match decide_call(&call.call_id, &request, &self.policy, place) {
                    CallStep::Decided { decision, not_run } => (decision, not_run),
                    // `decide_call` never asks where `can_ask` is false; denying is the safe reading.
                    CallStep::Ask { .. } => decision_events(
                        &call.call_id,
                        ToolVerdict::Denied,
                        None,
                        Some("it needs the user's approval".to_owned()),
                    ),
                };
            out.tool_decision(call, &decision);
            manager.push(decision);
            save(manager).await?;
            let mut stopped = false;
            let result = match not_run {
                Some(not_run) => as_output(not_run),
                None => {
                    self.toolbox
                        .execute(&request, async {
                            signals.recv().await;
                            stopped = true;
                        })
                        .await
                }
            };
            record_result(manager, out, call, result);
            if stopped {
                for rest in &calls[index + 1..] {
                    for kind in interrupted_call_events(rest.call_id.clone()) {
                        manager.push(kind);
                    }
                }
                save(manager).await?;
                return Ok(false);
            }
            save(manager).await?;
        }
        Ok(true)
    }
}

/// A result event's text as the output printed and recorded.
fn as_output(result: EventKind) -> ToolOutput {
    match result {
        EventKind::ToolResult {
            output, is_error, ..
        } => ToolOutput {
            text: output,
            is_error,
        },
        other => ToolOutput::error(format!("unexpected event {other:?}")),
    }
}

fn record_result(
    manager: &mut SessionManager,
    out: &mut Output,
    call: &PendingCall,
    result: ToolOutput,
) {
    out.tool_result(call, &result);
    manager.push(EventKind::ToolResult {
        call_id: call.call_id.clone(),
        output: result.text,
        is_error: result.is_error,
    });
}

async fn save(manager: &mut SessionManager) -> eyre::Result<()> {
    manager
        .persist_pending()
        .await
        .wrap_err("could not save the tool call")?;
    Ok(())
}

impl Output {
    /// A call as the model made it (standard error shows it with its decision).
    fn tool_call(&mut self, call: &PendingCall) {
        if self.json {
            self.line(json!({
                "type": "tool_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            }));
        }
    }

    /// What was decided about a call: a JSON line, or a line on standard error.
    fn tool_decision(&mut self, call: &PendingCall, decision: &EventKind) {
        let EventKind::ToolDecision {
            decision: verdict,
            rule,
            reason,
            ..
        } = decision
        else {
            return;
        };
        if self.json {
            self.line(json!({
                "type": "tool_decision",
                "call_id": call.call_id,
                "decision": verdict,
                "rule": rule,
                "reason": reason,
            }));
        } else {
            let described =
                cairn_core::tool::describe_decision(*verdict, rule.as_deref(), reason.as_deref());
            errln!(
                "[{}] {}: {}",
                neutralize_controls(&call.name),
                neutralize_controls(&call.arguments),
                neutralize_controls(&described)
            );
        }
    }

    fn tool_result(&mut self, call: &PendingCall, result: &ToolOutput) {
        if self.json {
            self.line(json!({
                "type": "tool_result",
                "call_id": call.call_id,
                "output": result.text,
                "is_error": result.is_error,
            }));
        } else {
            let first = result.text.lines().next().unwrap_or_default();
            errln!(
                "[{}] {}",
                neutralize_controls(&call.name),
                neutralize_controls(first)
            );
        }
    }
}
