//! A message sent while our own answer streams waits its turn: it goes out when the answer
//! finishes, comes back into the input when the answer fails or is cancelled, and Esc takes
//! it back before it cancels anything.

use cairn_core::provider::FinishReason;
use cairn_core::{EventKind, ProviderError, StreamEvent};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::{delta, streaming, texts};
use crate::app::{AppEvent, Effect, SessionJob};
use crate::test_support::*;
use crate::transcript::CellKind;

fn answered(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.into(),
        usage: None,
        interrupted: false,
        model: Some("echo".into()),
    }
}

/// Turn 1 streams "partial" and "follow-up" was sent meanwhile.
fn with_queued_follow_up() -> crate::app::App {
    let mut app = streaming("hi");
    delta(&mut app, "partial");
    type_text(&mut app, "follow-up");
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![Effect::SaveHistory("follow-up".into())]
    );
    app
}

#[test]
fn a_message_sent_while_the_answer_streams_goes_out_when_it_finishes() {
    let mut app = with_queued_follow_up();
    assert_eq!(app.input_text(), "", "the input is free for the next one");
    let drawn = draw(&app).backend().to_string();
    assert!(
        drawn.contains("answering") && drawn.contains("queued: follow-up · Esc to take back"),
        "{drawn}"
    );
    let effects = app.handle(AppEvent::Stream {
        turn: 1,
        event: StreamEvent::Finished(FinishReason::Stop),
    });
    // The answer is stored before the queued message, in that order.
    assert_eq!(
        effects,
        vec![
            Effect::Job(SessionJob::Record(vec![answered("partial")])),
            Effect::Job(SessionJob::SendUserMessage {
                turn: 2,
                text: "follow-up".into(),
                model: "echo".into()
            }),
        ]
    );
    assert_eq!(
        texts(&app).last().unwrap(),
        &(CellKind::User, "follow-up".into())
    );
    assert!(app.queued.is_none());
    assert!(app.is_busy(), "the follow-up's turn has begun");
}

#[test]
fn esc_takes_the_queued_message_back_before_cancelling_the_answer() {
    let mut app = with_queued_follow_up();
    assert!(
        app.handle(key(KeyCode::Esc)).is_empty(),
        "nothing is cancelled"
    );
    assert_eq!(app.input_text(), "follow-up");
    assert!(app.queued.is_none());
    assert!(app.is_busy(), "the answer still streams");
    // The second Esc cancels the answer.
    let effects = app.handle(key(KeyCode::Esc));
    assert!(
        effects.contains(&Effect::CancelStream { turn: 1 }),
        "{effects:?}"
    );
}

#[test]
fn a_failed_answer_gives_the_queued_message_back_unsent() {
    let mut app = with_queued_follow_up();
    let effects = app.handle(AppEvent::StreamFailed {
        turn: 1,
        error: ProviderError::Server {
            status: 500,
            attempts: 1,
            message: "boom".into(),
        },
    });
    assert!(
        !effects
            .iter()
            .any(|effect| matches!(effect, Effect::Job(SessionJob::SendUserMessage { .. }))),
        "{effects:?}"
    );
    assert_eq!(app.input_text(), "follow-up");
    assert_eq!(
        app.hint.as_deref(),
        Some("the queued message was not sent · Enter sends it")
    );
}

#[test]
fn a_cancelled_answer_never_overwrites_what_is_being_typed() {
    let mut app = with_queued_follow_up();
    type_text(&mut app, "draft");
    app.handle(ctrl('c'));
    assert_eq!(app.input_text(), "draft");
    assert_eq!(
        app.hint.as_deref(),
        Some("the queued message was not sent · Up recalls it")
    );
}

#[test]
fn only_one_message_waits_at_a_time() {
    let mut app = with_queued_follow_up();
    type_text(&mut app, "third");
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.input_text(), "third");
    assert_eq!(
        app.hint.as_deref(),
        Some("a message is queued already · Esc takes it back")
    );
}
