//! `/new --summary`: the summary is made like `/compact`'s (locally by the echo provider),
//! then the session task starts the new session from it; the screen shows what it
//! continues. A summary that fails keeps the user in the old session.

use cairn_core::compact::{continuation_event, local_summary, summary_input, summary_request};
use cairn_core::{Continuation, ProviderInfo, SessionId};
use pretty_assertions::assert_eq;

use super::*;
use crate::app::{CompactJob, CompactionEvent, Origin, SessionJob};

fn conversation() -> Vec<cairn_core::EventKind> {
    vec![
        user("how do I build"),
        assistant("cargo build"),
        user("and test?"),
        assistant("cargo test"),
    ]
}

fn wanted() -> (CompactionEvent, cairn_core::compact::SummaryInput) {
    let input = summary_input(&events(conversation())).unwrap();
    let event = CompactionEvent::Wanted {
        request: summary_request(&input, None, "echo", 100_000),
        input: input.clone(),
        waiting_turn: None,
        automatic: false,
    };
    (event, input)
}

#[test]
fn new_with_summary_carries_a_local_summary_into_a_linked_session() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    type_text(&mut app, "/new --summary");
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![
            Effect::SaveHistory("/new --summary".into()),
            Effect::Job(SessionJob::Compact(CompactJob::Prepare {
                instructions: None,
                model: "echo".into(),
                waiting_turn: None,
            })),
        ]
    );
    assert!(app.is_busy());
    assert_eq!(
        last_text(&app),
        "Summarising this session to carry it into a new one…"
    );
    // A message typed meanwhile goes to the new session.
    type_text(&mut app, "next step");
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.queued.as_deref(), Some("next step"));

    let (event, input) = wanted();
    let text = local_summary(&input);
    assert_eq!(
        app.handle(AppEvent::Compaction(event)),
        vec![Effect::Job(SessionJob::Compact(CompactJob::Continue {
            input: input.clone(),
            text: text.clone(),
        }))]
    );

    let old = app.session.id;
    let mut fresh = view();
    fresh.id = SessionId(uuid::Uuid::from_u128(42));
    let carried = events(vec![continuation_event(
        &input,
        text,
        Continuation {
            session_id: old,
            title: "Build \x1b[31mhelp".into(),
        },
    )]);
    let effects = app.handle(AppEvent::SessionReset {
        archived: Some("0193a1b2c3d4".into()),
        view: fresh.clone(),
        carried,
    });
    assert_eq!(app.session, fresh);
    assert!(app.compacting.is_none());
    assert_eq!(
        texts(&app),
        vec![
            (
                CellKind::Note,
                format!("continued from {} · Build ␛[31mhelp", old.short())
            ),
            (
                CellKind::Note,
                "Started a new session from a summary of the previous one; the model gets the summary before your next message. The previous one was archived; `cairn -s 0193a1b2c3d4` brings it back.".into()
            ),
            (CellKind::User, "next step".into()),
        ]
    );
    assert!(matches!(
        effects.as_slice(),
        [Effect::Job(SessionJob::SendUserMessage { text, .. })] if text == "next step"
    ));
}

#[test]
fn a_failed_summary_keeps_the_user_in_the_old_session() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    app.provider = ProviderInfo {
        kind: "openai".into(),
        model: "gpt-test".into(),
        offline: false,
    };
    app.model = "gpt-test".into();
    let before = app.session.clone();
    type_text(&mut app, "/new --summary");
    app.handle(key(KeyCode::Enter));
    let (event, input) = wanted();
    let effects = app.handle(AppEvent::Compaction(event));
    assert!(matches!(
        effects.as_slice(),
        [Effect::GenerateSummary {
            waiting_turn: None,
            ..
        }]
    ));
    let effects = app.handle(AppEvent::Compaction(CompactionEvent::Generated {
        input,
        waiting_turn: None,
        result: Err("HTTP 500".into()),
    }));
    assert_eq!(effects, vec![]);
    assert!(app.compacting.is_none());
    assert_eq!(app.session, before);
    let shown = texts(&app);
    assert_eq!(
        shown[shown.len() - 2..],
        [
            (
                CellKind::Error,
                "could not summarise the conversation: HTTP 500".into()
            ),
            (
                CellKind::Note,
                "You are still in this session; nothing was archived. /new starts a plain one."
                    .into()
            ),
        ]
    );
    // The conversation is still on screen.
    assert!(shown.contains(&(CellKind::User, "how do I build".into())));
}

#[test]
fn new_with_summary_waits_for_a_running_answer() {
    let mut app = streaming("hi");
    type_text(&mut app, "/new --summary");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::SaveHistory("/new --summary".into())]);
    assert!(app.compacting.is_none());
    assert_eq!(
        last_text(&app),
        "An answer is being written: /new --summary once it has finished."
    );
}
