//! The turn lifecycle: sending starts a turn; Esc, Ctrl+C, Ctrl+D and quitting end it; errors
//! are recorded and Enter retries.

use cairn_core::{EventKind, ProviderError};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::{delta, last_text, request, streaming, texts};
use crate::app::{AppEvent, Effect, Origin, SessionJob};
use crate::test_support::*;
use crate::transcript::CellKind;

#[test]
fn enter_sends_the_message_and_persists_it_first() {
    let mut app = new_app();
    type_text(&mut app, "hello");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::SaveHistory("hello".into()),
            Effect::Job(SessionJob::SendUserMessage {
                turn: 1,
                text: "hello".into(),
                model: "echo".into()
            }),
        ]
    );
    assert_eq!(texts(&app), vec![(CellKind::User, "hello".into())]);
    assert_eq!(app.input_text(), "");
    assert!(app.is_busy());
}

#[test]
fn esc_cancels_a_streaming_answer_and_keeps_the_partial_text() {
    let mut app = streaming("hi");
    delta(&mut app, "partial ans");
    let effects = app.handle(key(KeyCode::Esc));
    assert_eq!(
        effects,
        vec![
            Effect::CancelStream { turn: 1 },
            Effect::Job(SessionJob::Record(vec![EventKind::AssistantMessage {
                text: "partial ans".into(),
                usage: None,
                interrupted: true,
                model: Some("echo".into()),
            }])),
        ]
    );
    assert_eq!(
        texts(&app).last().unwrap().0,
        CellKind::Assistant {
            first: true,
            interrupted: true
        }
    );
    // Late events of the cancelled turn are ignored.
    assert!(delta(&mut app, "more").is_empty());
    assert!(app.live.is_none());
}

#[test]
fn cancelling_before_the_first_token_records_nothing() {
    let mut app = new_app();
    type_text(&mut app, "hi");
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.handle(key(KeyCode::Esc)), Vec::new());
    assert_eq!(last_text(&app), "Cancelled.");
    // The request that arrives afterwards is not started.
    assert!(
        app.handle(AppEvent::RequestReady {
            turn: 1,
            request: request()
        })
        .is_empty()
    );
}

#[test]
fn ctrl_c_cancels_then_clears_then_asks_then_quits() {
    let mut app = streaming("hi");
    delta(&mut app, "x");
    let effects = app.handle(ctrl('c'));
    assert!(effects.contains(&Effect::CancelStream { turn: 1 }));
    type_text(&mut app, "typed");
    assert!(app.handle(ctrl('c')).is_empty());
    assert_eq!(app.input_text(), "");
    assert!(app.handle(ctrl('c')).is_empty());
    assert_eq!(app.hint.as_deref(), Some("press Ctrl+C again to quit"));
    assert_eq!(app.handle(ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn another_key_disarms_the_ctrl_c_quit() {
    let mut app = new_app();
    app.handle(ctrl('c'));
    app.handle(key(KeyCode::Left));
    assert_eq!(app.hint, None);
    assert!(app.handle(ctrl('c')).is_empty());
}

#[test]
fn ctrl_d_quits_only_on_an_empty_line() {
    let mut app = new_app();
    type_text(&mut app, "ab");
    app.handle(key(KeyCode::Left));
    assert!(app.handle(ctrl('d')).is_empty());
    assert_eq!(app.input_text(), "a");
    app.handle(ctrl('u'));
    app.handle(key(KeyCode::Backspace));
    assert_eq!(app.handle(ctrl('d')), vec![Effect::Quit]);
}

#[test]
fn quitting_while_streaming_saves_the_partial_answer_first() {
    let mut app = streaming("hi");
    delta(&mut app, "half");
    let effects = app.handle(AppEvent::Terminate);
    assert_eq!(effects.len(), 3);
    assert_eq!(effects[0], Effect::CancelStream { turn: 1 });
    assert!(matches!(
        &effects[1],
        Effect::Job(SessionJob::Record(kinds))
            if matches!(&kinds[0], EventKind::AssistantMessage { interrupted: true, text, .. } if text == "half")
    ));
    assert_eq!(effects[2], Effect::Quit);
}

#[test]
fn ctrl_l_redraws() {
    let mut app = new_app();
    assert_eq!(app.handle(ctrl('l')), vec![Effect::ClearScreen]);
}

#[test]
fn provider_errors_are_shown_and_recorded_and_enter_retries() {
    let mut app = streaming("hi");
    let effects = app.handle(AppEvent::StreamFailed {
        turn: 1,
        error: ProviderError::RateLimited {
            attempts: 4,
            message: "slow down".into(),
        },
    });
    // The error is stored as the provider gave it; the hint is for the screen only.
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Record(vec![EventKind::Error {
            message: "rate limited by the provider (429) after 4 attempts: slow down".into()
        }]))]
    );
    let message = "rate limited by the provider (429) after 4 attempts: slow down. Press Enter on an empty line or type /retry to try again.";
    assert_eq!(
        texts(&app).last().unwrap(),
        &(CellKind::Error, message.into())
    );
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Retry {
            turn: 2,
            model: "echo".into()
        })]
    );
    // The error is dropped from the screen, as from the branch.
    assert_eq!(texts(&app), vec![(CellKind::User, "hi".into())]);
}

#[test]
fn enter_on_an_empty_line_does_nothing_without_an_error() {
    let mut app = new_app();
    assert!(app.handle(key(KeyCode::Enter)).is_empty());
}

#[test]
fn errors_in_a_loaded_session_make_enter_retry() {
    let mut app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![
            user("q"),
            EventKind::Error {
                message: "boom".into(),
            },
        ],
        &[],
    );
    let effects = app.handle(key(KeyCode::Enter));
    assert!(matches!(
        effects.last(),
        Some(Effect::Job(SessionJob::Retry { .. }))
    ));
}
