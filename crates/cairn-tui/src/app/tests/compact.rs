//! `/compact`: refused while an answer streams, made locally by the echo provider and by the
//! model otherwise, stored through the session task, folded on screen (nothing removed); a
//! "too long" error compacts once and asks again.

use cairn_core::compact::{summary_input, summary_request};
use cairn_core::{ProviderError, ProviderInfo};
use insta::assert_snapshot;
use pretty_assertions::assert_eq;

use super::*;
use crate::app::{CompactJob, CompactionEvent, Origin, SessionJob};

fn conversation() -> Vec<cairn_core::EventKind> {
    let mut kinds = Vec::new();
    for turn in 1..=3 {
        kinds.push(user(&format!("question {turn}")));
        kinds.push(assistant(&format!("answer {turn}")));
    }
    kinds
}

fn wanted(waiting_turn: Option<u64>, automatic: bool) -> (CompactionEvent, SummaryParts) {
    let input = summary_input(&events(conversation())).unwrap();
    let request = summary_request(&input, None, "echo", 100_000);
    (
        CompactionEvent::Wanted {
            input: input.clone(),
            request: request.clone(),
            waiting_turn,
            automatic,
        },
        (input, request),
    )
}

type SummaryParts = (cairn_core::compact::SummaryInput, cairn_core::ModelRequest);

fn online(app: &mut App) {
    app.provider = ProviderInfo {
        kind: "openai".into(),
        model: "gpt-test".into(),
        offline: false,
    };
    app.model = "gpt-test".into();
}

fn rendered(app: &App) -> String {
    format!("{:?}", draw(app).backend())
}

#[test]
fn compact_asks_the_session_task_with_the_instructions_and_shows_progress() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    type_text(&mut app, "/compact keep the SQL");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::SaveHistory("/compact keep the SQL".into()),
            Effect::Job(SessionJob::Compact(CompactJob::Prepare {
                instructions: Some("keep the SQL".into()),
                model: "echo".into(),
                waiting_turn: None,
            })),
        ]
    );
    assert!(app.is_busy());
    assert!(rendered(&app).contains("summarising the conversation for the model"));

    // A message typed meanwhile waits until the summary is stored.
    type_text(&mut app, "next");
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![Effect::SaveHistory("next".into())]
    );
    assert_eq!(app.queued.as_deref(), Some("next"));
}

#[test]
fn compact_is_refused_while_an_answer_streams_and_with_nothing_to_summarise() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    type_text(&mut app, "more");
    app.handle(key(KeyCode::Enter));
    type_text(&mut app, "/compact");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::SaveHistory("/compact".into())]);
    assert_eq!(
        texts(&app).last().unwrap().1,
        "An answer is being written: /compact once it has finished."
    );

    let mut app = new_app();
    type_text(&mut app, "/compact");
    app.handle(key(KeyCode::Enter));
    let effects = app.handle(AppEvent::Compaction(CompactionEvent::NothingToSummarise {
        waiting_turn: None,
    }));
    assert_eq!(effects, vec![]);
    assert!(!app.is_busy());
    assert_eq!(
        texts(&app).last().unwrap().1,
        "There is nothing new to summarise yet."
    );
}

#[test]
fn the_echo_provider_summarises_locally_and_never_waits_on_a_model() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    type_text(&mut app, "/compact");
    app.handle(key(KeyCode::Enter));
    let (event, (input, _)) = wanted(None, false);
    let effects = app.handle(AppEvent::Compaction(event));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Compact(CompactJob::Finish {
            summary: Some((input.clone(), cairn_core::compact::local_summary(&input))),
            waiting_turn: None,
            model: "echo".into(),
        }))]
    );
}

#[test]
fn a_real_provider_writes_the_summary_which_is_stored_and_folds_the_transcript() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    online(&mut app);
    type_text(&mut app, "/compact");
    app.handle(key(KeyCode::Enter));
    type_text(&mut app, "queued question");
    app.handle(key(KeyCode::Enter));
    let (event, (input, request)) = wanted(None, false);
    let effects = app.handle(AppEvent::Compaction(event));
    assert_eq!(
        effects,
        vec![Effect::GenerateSummary {
            input: input.clone(),
            request,
            waiting_turn: None,
        }]
    );
    let effects = app.handle(AppEvent::Compaction(CompactionEvent::Generated {
        input: input.clone(),
        waiting_turn: None,
        result: Ok(Some("- asked three questions".into())),
    }));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Compact(CompactJob::Finish {
            summary: Some((input, "- asked three questions".into())),
            waiting_turn: None,
            model: "gpt-test".into(),
        }))]
    );
    let cells_before = app.transcript.cells().len();
    let effects = app.handle(AppEvent::Compaction(CompactionEvent::Stored {
        messages: 6,
    }));
    // The queued message goes out now.
    assert!(
        matches!(&effects[..], [Effect::Job(SessionJob::SendUserMessage { text, .. })] if text == "queued question"),
        "{effects:?}"
    );
    // Nothing is removed: every earlier cell is still there, only folded.
    assert_eq!(app.transcript.cells().len(), cells_before + 2);
    assert!(app.transcript.is_folded());
    let screen = rendered(&app);
    assert!(
        screen.contains("6 earlier messages summarised · Enter to expand"),
        "{screen}"
    );
    assert!(
        screen.contains("Summarised 6 earlier messages."),
        "{screen}"
    );
    assert!(!screen.contains("question 1"), "{screen}");
}

#[test]
fn a_failed_summary_is_shown_and_ends_the_progress() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    online(&mut app);
    type_text(&mut app, "/compact");
    app.handle(key(KeyCode::Enter));
    let (_, (input, _)) = wanted(None, false);
    let effects = app.handle(AppEvent::Compaction(CompactionEvent::Generated {
        input,
        waiting_turn: None,
        result: Err("503 overloaded".into()),
    }));
    assert_eq!(effects, vec![]);
    assert!(!app.is_busy());
    assert_eq!(
        texts(&app).last().unwrap(),
        &(
            CellKind::Error,
            "could not summarise the conversation: 503 overloaded".into()
        )
    );
    assert!(!app.transcript.is_folded());
}

#[test]
fn a_context_too_long_error_compacts_once_and_asks_again() {
    let mut app = app_with((80, 20), Origin::Resumed, conversation(), &[]);
    online(&mut app);
    type_text(&mut app, "a long question");
    app.handle(key(KeyCode::Enter));
    app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    let too_long = || ProviderError::ContextTooLong {
        status: 400,
        message: "context_length_exceeded".into(),
    };
    let effects = app.handle(AppEvent::StreamFailed {
        turn: 1,
        error: too_long(),
    });
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Compact(CompactJob::Prepare {
            instructions: None,
            model: "gpt-test".into(),
            waiting_turn: Some(1),
        }))]
    );
    assert!(app.turn.is_some(), "the turn goes on");
    let (_, (input, _)) = wanted(Some(1), false);
    let effects = app.handle(AppEvent::Compaction(CompactionEvent::Generated {
        input: input.clone(),
        waiting_turn: Some(1),
        result: Ok(Some("summary".into())),
    }));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::Compact(CompactJob::Finish {
            summary: Some((input, "summary".into())),
            waiting_turn: Some(1),
            model: "gpt-test".into(),
        }))]
    );
    app.handle(AppEvent::Compaction(CompactionEvent::Stored {
        messages: 6,
    }));
    // The question stays below the fold.
    assert!(rendered(&app).contains("a long question"));
    let effects = app.handle(AppEvent::RequestReady {
        turn: 1,
        request: request(),
    });
    assert_eq!(
        effects,
        vec![Effect::StartStream {
            turn: 1,
            request: request()
        }]
    );
    // A second "too long" is the turn's end, with the error.
    let effects = app.handle(AppEvent::StreamFailed {
        turn: 1,
        error: too_long(),
    });
    assert!(
        matches!(&effects[..], [Effect::Job(SessionJob::Record(_))]),
        "{effects:?}"
    );
    assert!(app.turn.is_none());
}

#[test]
fn enter_on_an_empty_line_unfolds_and_folds_again() {
    let mut kinds = conversation();
    let through = events(conversation()).last().unwrap().id;
    kinds.push(cairn_core::EventKind::Summary {
        text: "s".into(),
        through,
        messages: 6,
        continued_from: None,
    });
    kinds.push(user("after the summary"));
    kinds.push(assistant("and its answer"));
    let mut app = app_with((80, 24), Origin::Resumed, kinds.clone(), &[]);
    assert_snapshot!("folded_80", rendered(&app));
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![]);
    assert!(!app.transcript.is_folded());
    assert_snapshot!("unfolded_80", rendered(&app));
    app.handle(key(KeyCode::Enter));
    assert!(app.transcript.is_folded());

    let app = app_with((40, 16), Origin::Resumed, kinds, &[]);
    assert_snapshot!("folded_40", rendered(&app));
}
