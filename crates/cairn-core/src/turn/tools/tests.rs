//! The tool loop's bookkeeping: budgets, decision events, interrupted calls.
use super::*;
use crate::ids::{EventId, InvocationId, SessionId};
use crate::provider::{FinishReason, StreamEvent};
use crate::turn::{AnswerAccumulator, TurnEnd, answer_events_with_tools};
use pretty_assertions::assert_eq;

fn events(kinds: Vec<(InvocationId, EventKind)>) -> Vec<Event> {
    let session_id = SessionId::new();
    let mut parent = None;
    kinds
        .into_iter()
        .enumerate()
        .map(|(index, (invocation_id, kind))| {
            let id = EventId::new();
            let event = Event {
                id,
                session_id,
                parent_id: parent,
                invocation_id,
                created_at_ms: index as i64,
                kind,
            };
            parent = Some(id);
            event
        })
        .collect()
}

fn call(id: &str) -> EventKind {
    EventKind::ToolCall {
        call_id: id.into(),
        name: "run_command".into(),
        arguments: r#"{"command":"ls"}"#.into(),
    }
}

fn result(id: &str) -> EventKind {
    EventKind::ToolResult {
        call_id: id.into(),
        output: "ok".into(),
        is_error: false,
    }
}

#[test]
fn the_budget_allows_max_steps_rounds() {
    let mut budget = StepBudget::new(2);
    assert!(budget.take_step());
    assert!(budget.take_step());
    assert!(!budget.take_step());
    assert!(budget.limit_note().contains("2 rounds"));
}

#[test]
fn a_denied_call_records_why_and_a_result_saying_so() {
    let (decision, result) = decision_events(
        "c1",
        ToolVerdict::Denied,
        None,
        Some("use cargo check instead".into()),
    );
    assert_eq!(
        decision,
        EventKind::ToolDecision {
            call_id: "c1".into(),
            decision: ToolVerdict::Denied,
            rule: None,
            reason: Some("use cargo check instead".into()),
        }
    );
    assert_eq!(
        result,
        Some(EventKind::ToolResult {
            call_id: "c1".into(),
            output: "Not run: denied: use cargo check instead".into(),
            is_error: true,
        })
    );
    let (_, result) = decision_events("c2", ToolVerdict::AllowedByRule, Some("ls".into()), None);
    assert_eq!(
        result, None,
        "an allowed call's result comes from running it"
    );
}

#[test]
fn calls_left_without_a_result_by_another_invocation_are_found() {
    let earlier = InvocationId::new();
    let now = InvocationId::new();
    let history = events(vec![
        (earlier, EventKind::UserMessage { text: "q".into() }),
        (earlier, call("old")),
        (earlier, EventKind::UserMessage { text: "q2".into() }),
        (earlier, call("a")),
        (earlier, call("b")),
        (earlier, result("a")),
        (now, call("mine")),
    ]);
    assert_eq!(unanswered_calls(&history, now), ["b"]);
    assert_eq!(unanswered_calls(&history, earlier), ["mine"]);
}

#[test]
fn only_a_completed_answer_has_calls_to_run() {
    let mut answer = AnswerAccumulator::new();
    for event in [
        StreamEvent::ToolCallDelta {
            index: 0,
            id: Some("c1".into()),
            name: Some("list_dir".into()),
            arguments: r#"{"path":"."}"#.into(),
        },
        StreamEvent::Finished(FinishReason::ToolCalls),
    ] {
        answer.push(&event);
    }
    let (recorded, calls) = answer_events_with_tools(&answer, &TurnEnd::Completed, "m");
    assert_eq!(recorded.len(), 2, "the answer and its call");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "list_dir");

    let (recorded, calls) = answer_events_with_tools(&answer, &TurnEnd::Cancelled, "m");
    assert!(calls.is_empty(), "a call of a cancelled answer never runs");
    assert_eq!(
        recorded[2..].to_vec(),
        crate::turn::interrupted_call_events("c1".into()).to_vec()
    );
}
