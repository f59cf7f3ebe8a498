//! A chat resumed at start draws the session's newest events at once and takes over the
//! whole branch when the session task has loaded it: nothing typed meanwhile is lost or sent
//! too early.

use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;

use super::{last_text, texts};
use crate::app::{App, AppEvent, AppInit, Effect, Origin, SessionJob};
use crate::test_support::*;
use crate::transcript::CellKind;

const RESUME_NOTE: &str =
    "Continuing previous session (last active 2 hours ago) - /new starts a fresh one";

/// A chat showing only `recent` of a resumed session while the rest loads.
fn opening_app(recent: Vec<cairn_core::EventKind>) -> App {
    App::new(AppInit {
        session: view(),
        origin: Origin::Resumed,
        provider: echo_info(),
        model: "echo".to_owned(),
        events: events(recent),
        notes: vec![RESUME_NOTE.to_owned()],
        history: Vec::new(),
        now_ms: NOW_MS,
        size: (80, 20),
        loading_rest: true,
        store: None,
        title_model: None,
        tools: None,
    })
}

fn sends(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Job(SessionJob::SendUserMessage { text, .. }) => Some(text.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn the_whole_session_replaces_its_newest_events_and_keeps_the_notes() {
    let mut app = opening_app(vec![user("q3"), assistant("a3")]);
    assert_eq!(texts(&app).len(), 3);
    app.handle(AppEvent::SessionOpened {
        view: view(),
        events: events(vec![
            user("q1"),
            assistant("a1"),
            user("q2"),
            assistant("a2"),
            user("q3"),
            assistant("a3"),
        ]),
        notes: vec!["Recovered an answer that was interrupted when Cairn stopped".into()],
    });
    let texts = texts(&app);
    assert_eq!(texts.len(), 8, "{texts:?}");
    assert_eq!(texts[0], (CellKind::User, "q1".into()));
    assert_eq!(texts[6], (CellKind::Note, RESUME_NOTE.into()));
    assert!(last_text(&app).starts_with("Recovered an answer"));
    assert!(app.opening.is_none());
}

#[test]
fn a_message_typed_while_loading_waits_and_then_goes_out_once() {
    let mut app = opening_app(vec![user("q"), assistant("a")]);
    type_text(&mut app, "next question");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(sends(&effects), Vec::<String>::new(), "not before the load");
    assert_eq!(app.queued.as_deref(), Some("next question"));

    let effects = app.handle(AppEvent::SessionOpened {
        view: view(),
        events: events(vec![user("q0"), assistant("a0"), user("q"), assistant("a")]),
        notes: Vec::new(),
    });
    assert_eq!(sends(&effects), vec!["next question".to_owned()]);
    assert!(app.queued.is_none());
    assert_eq!(
        texts(&app)
            .iter()
            .filter(|(kind, _)| *kind == CellKind::User)
            .count(),
        3,
        "q0, q and the new message"
    );
}

#[test]
fn retry_waits_for_the_load() {
    let mut app = opening_app(vec![user("q"), assistant("a")]);
    type_text(&mut app, "/retry");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(
        !effects
            .iter()
            .any(|effect| matches!(effect, Effect::Job(SessionJob::Retry { .. }))),
        "{effects:?}"
    );
    assert_eq!(
        app.hint.as_deref(),
        Some("the session is still loading: try again in a moment")
    );
}

#[test]
fn a_session_that_cannot_be_opened_leaves_a_fresh_chat_and_the_message_in_the_input() {
    let mut app = opening_app(vec![user("q"), assistant("a")]);
    type_text(&mut app, "typed early");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::OpenFailed {
        view: view(),
        error: "session not found".into(),
    });
    assert_eq!(app.origin, Origin::New);
    assert_eq!(
        texts(&app),
        vec![(
            CellKind::Error,
            "could not open the session: session not found. This is a new session.".into()
        )]
    );
    assert_eq!(app.input_text(), "typed early");
    assert!(app.opening.is_none());
}
