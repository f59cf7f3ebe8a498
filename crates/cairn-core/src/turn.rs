//! One turn of the conversation, the same for every front end: the chat screen and
//! `cairn run` both build the request with [`build_request`], fold the answer's stream with
//! [`AnswerAccumulator`] and record it with [`answer_events`], so a session written by one
//! replays in the other and on any provider.
//!
//! Everything here is pure: no IO, no clock, no async. Driving the stream (cancellation,
//! signals, drawing) is the front ends' job.

mod answer;
mod record;
mod request;
mod tools;

pub use answer::{AccumulatedToolCall, AnswerAccumulator};
pub use record::{
    PendingCall, TOOLS_UNAVAILABLE_RESULT, TurnEnd, answer_events, answer_events_with_tools,
    interrupted_call_events,
};
pub use request::{
    SUMMARY_HEADING, UNANSWERED_CALL_RESULT, build_request, check_strict_shape,
    estimate_history_tokens, omission_notice,
};
pub use tools::{
    CallStep, StepBudget, TOOLS_REFUSED_NOTE, decide_call, decision_events, over_limit_events,
    parse_call, unanswered_calls,
};
