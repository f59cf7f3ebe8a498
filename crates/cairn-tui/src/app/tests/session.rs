//! The conversation as a whole: loading and merging sessions, persistence failures, and
//! scrolling the transcript (page keys, wheel, resize).

use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;
use ratatui::layout::Rect;

use super::{last_text, texts};
use crate::app::{AppEvent, Effect, LiveUpdate, Origin, PersistReport, SessionJob};
use crate::test_support::*;
use crate::transcript::CellKind;

#[test]
fn page_keys_wheel_and_end_scroll_the_transcript() {
    let kinds = (0..40)
        .flat_map(|n| {
            [
                user(&format!("question {n}")),
                assistant(&format!("answer {n}")),
            ]
        })
        .collect();
    let mut app = app_with((60, 20), Origin::Resumed, kinds, &[]);
    app.handle(key(KeyCode::PageUp));
    let page = app.scroll;
    assert!(page > 0);
    app.handle(key(KeyCode::PageUp));
    assert_eq!(app.scroll, 2 * page);
    app.handle(key(KeyCode::PageDown));
    assert_eq!(app.scroll, page);
    app.handle(AppEvent::Wheel {
        up: true,
        rows: crate::app::WHEEL_ROWS,
    });
    assert_eq!(app.scroll, page + 3);
    app.handle(AppEvent::Wheel {
        up: false,
        rows: crate::app::WHEEL_ROWS,
    });
    assert_eq!(app.scroll, page);
    app.handle(key(KeyCode::End));
    assert_eq!(app.scroll, 0);
    for _ in 0..100 {
        app.handle(key(KeyCode::PageUp));
    }
    let top = app.scroll;
    let transcript = app.areas(Rect::new(0, 0, 60, 20)).transcript;
    let total = app.transcript.height_up_to(None, 60, usize::MAX);
    assert_eq!(top, total - usize::from(transcript.height));
    type_text(&mut app, "back to the bottom");
    app.handle(key(KeyCode::Enter));
    assert_eq!(app.scroll, 0);
}

#[test]
fn the_wheel_scrolls_whatever_is_in_the_input_and_leaves_the_history_alone() {
    let kinds = (0..40)
        .flat_map(|n| [user(&format!("q{n}")), assistant(&format!("a{n}"))])
        .collect();
    let mut app = app_with((60, 20), Origin::Resumed, kinds, &[]);
    app.replace_history(vec!["earlier prompt".to_owned()]);
    // Arrows the terminal sent together for a notch scroll, a row each.
    app.handle(AppEvent::Arrows { up: true, count: 3 });
    assert_eq!((app.scroll, app.input_text()), (3, String::new()));
    type_text(&mut app, "draft");
    app.handle(AppEvent::Arrows {
        up: false,
        count: 2,
    });
    assert_eq!((app.scroll, app.input_text()), (1, "draft".to_owned()));
    // Where arrows choose (the command popup here), they stay arrows.
    app.handle(ctrl('u'));
    type_text(&mut app, "/");
    app.handle(AppEvent::Arrows {
        up: false,
        count: 2,
    });
    assert_eq!((app.scroll, app.composer.popup_selected), (1, 2));
    // A pressed Up is still the history's.
    app.handle(ctrl('u'));
    app.handle(key(KeyCode::Up));
    assert_eq!(app.input_text(), "earlier prompt");
}

#[test]
fn home_and_end_on_an_empty_line_jump_to_the_top_and_bottom() {
    let kinds = (0..40)
        .flat_map(|n| [user(&format!("q{n}")), assistant(&format!("a{n}"))])
        .collect();
    let mut app = app_with((60, 20), Origin::Resumed, kinds, &[]);
    app.handle(key(KeyCode::Home));
    let transcript = app.areas(Rect::new(0, 0, 60, 20)).transcript;
    let total = app.transcript.height_up_to(None, 60, usize::MAX);
    assert_eq!(app.scroll, total - usize::from(transcript.height));
    let drawn = format!("{:?}", draw(&app).backend());
    assert!(drawn.contains("› q0 "), "{drawn}");
    app.handle(key(KeyCode::End));
    assert_eq!(app.scroll, 0);
    // With text typed, Home moves in the line instead.
    type_text(&mut app, "abc");
    app.handle(key(KeyCode::Home));
    assert_eq!(app.scroll, 0);
    type_text(&mut app, ">");
    assert_eq!(app.input_text(), ">abc");
}

#[test]
fn a_loaded_session_replaces_the_transcript() {
    let mut app = new_app();
    app.handle(AppEvent::SessionLoaded {
        view: view(),
        events: events(vec![user("q"), assistant("a")]),
        notes: vec![
            "Continuing previous session (last active 2 days ago) - /new starts a fresh one".into(),
        ],
    });
    assert_eq!(app.origin, Origin::Resumed);
    assert_eq!(texts(&app).len(), 3);
    assert_eq!(app.usage.output, 56);
}

#[test]
fn persistence_failures_are_shown() {
    let mut app = new_app();
    app.handle(AppEvent::Persisted(PersistReport {
        error: Some("disk full".into()),
        ..PersistReport::default()
    }));
    assert!(last_text(&app).starts_with("Could not save to the session store: disk full."));
    assert!(last_text(&app).contains("Nothing is lost"));
    app.handle(AppEvent::Persisted(PersistReport {
        saved_after_outage: Some(3),
        ..PersistReport::default()
    }));
    assert_eq!(
        last_text(&app),
        "The session store answers again: 3 events waiting here are saved."
    );
}

#[test]
fn writes_from_another_cairn_rebuild_the_transcript_with_a_note() {
    let mut app = app_with((80, 20), Origin::Resumed, vec![user("mine")], &[]);
    app.handle(AppEvent::Persisted(PersistReport {
        error: None,
        merged: Some((
            2,
            events(vec![
                user("theirs"),
                assistant("their answer"),
                user("mine"),
            ]),
        )),
        unarchived: false,
        moved_to: None,
        saved_after_outage: None,
    }));
    assert_eq!(
        texts(&app),
        vec![
            (CellKind::User, "theirs".into()),
            (
                CellKind::Assistant {
                    first: true,
                    interrupted: false
                },
                "their answer".into()
            ),
            (CellKind::User, "mine".into()),
            (
                CellKind::Note,
                "Another Cairn wrote 2 events to this session; yours follow them.".into()
            ),
        ]
    );
}

#[test]
fn resize_reflows_and_keeps_the_scroll_in_range() {
    let kinds = (0..10).map(|n| user(&format!("message {n}"))).collect();
    let mut app = app_with((40, 10), Origin::Resumed, kinds, &[]);
    for _ in 0..10 {
        app.handle(key(KeyCode::PageUp));
    }
    let before = app.scroll;
    app.handle(AppEvent::Resize {
        width: 40,
        height: 30,
    });
    assert!(app.scroll < before);
}

#[test]
fn the_resumed_transcript_ends_with_the_note_and_starts_at_the_bottom() {
    let note = "Continuing previous session (last active 12 minutes ago) - /new starts a fresh one";
    let app = app_with(
        (80, 20),
        Origin::Resumed,
        vec![user("q"), assistant("a")],
        &[note],
    );
    assert_eq!(last_text(&app), note);
    assert_eq!(app.scroll, 0);
    assert_eq!(app.origin, Origin::Resumed);
}

#[test]
fn another_terminals_turn_shows_while_it_answers_and_its_messages_follow_marked() {
    let mut app = app_with((80, 20), Origin::Resumed, vec![user("mine")], &[]);
    app.handle(AppEvent::LiveUpdate(LiveUpdate {
        appended: events(vec![user("theirs")]),
        other_turn: Some(("pid 7 on host".into(), "half an ans".into())),
        archived_elsewhere: false,
        deleted: None,
    }));
    assert!(
        app.is_busy(),
        "the spinner runs while another terminal answers"
    );
    assert_eq!(
        app.live_cell().map(|cell| cell.text.clone()),
        Some("half an ans".into())
    );
    app.handle(AppEvent::LiveUpdate(LiveUpdate {
        appended: events(vec![assistant("half an answer")]),
        other_turn: None,
        archived_elsewhere: false,
        deleted: None,
    }));
    assert!(!app.is_busy());
    assert!(app.live_cell().is_none());
    assert_eq!(
        texts(&app),
        vec![
            (CellKind::User, "mine".into()),
            (CellKind::Note, "From another terminal:".into()),
            (CellKind::User, "theirs".into()),
            (CellKind::Note, "From another terminal:".into()),
            (
                CellKind::Assistant {
                    first: true,
                    interrupted: false
                },
                "half an answer".into()
            ),
        ]
    );
}

#[test]
fn archive_and_delete_by_another_terminal_are_reported() {
    let mut app = app_with((80, 20), Origin::Resumed, vec![user("mine")], &[]);
    app.handle(AppEvent::LiveUpdate(LiveUpdate {
        archived_elsewhere: true,
        ..LiveUpdate::default()
    }));
    assert_eq!(
        last_text(&app),
        "Another terminal archived this session; writing to it here makes it active again."
    );
    app.handle(AppEvent::Persisted(PersistReport {
        error: None,
        merged: None,
        unarchived: true,
        moved_to: None,
        saved_after_outage: None,
    }));
    assert_eq!(
        last_text(&app),
        "Another terminal had archived this session; writing to it here made it active again."
    );
    let fresh = view();
    app.handle(AppEvent::LiveUpdate(LiveUpdate {
        deleted: Some((fresh.clone(), events(vec![user("unsaved")]))),
        ..LiveUpdate::default()
    }));
    assert_eq!(app.session, fresh);
    assert_eq!(app.origin, Origin::New);
    assert_eq!(
        texts(&app),
        vec![
            (CellKind::User, "unsaved".into()),
            (
                CellKind::Note,
                "Another terminal deleted this session. What you had not saved yet is kept in a new session, this one.".into()
            ),
        ]
    );
}

fn other_turn(answer: &str) -> AppEvent {
    AppEvent::LiveUpdate(LiveUpdate {
        other_turn: Some(("pid 7 on host".into(), answer.into())),
        ..LiveUpdate::default()
    })
}

#[test]
fn a_message_sent_while_another_terminal_answers_is_queued_and_esc_takes_it_back() {
    let mut app = app_with((80, 20), Origin::Resumed, vec![user("mine")], &[]);
    app.handle(other_turn(""));
    type_text(&mut app, "later");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(effects, vec![Effect::SaveHistory("later".into())]);
    assert_eq!(app.queued, Some("later".into()));
    assert!(app.turn.is_none());

    app.handle(key(KeyCode::Esc));
    assert_eq!(app.queued, None);
    assert_eq!(app.input_text(), "later");

    app.handle(key(KeyCode::Enter));
    let effects = app.handle(AppEvent::LiveUpdate(LiveUpdate {
        appended: events(vec![user("theirs"), assistant("their answer")]),
        ..LiveUpdate::default()
    }));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::SendUserMessage {
            turn: 1,
            text: "later".into(),
            model: app.model.clone(),
        })]
    );
    assert_eq!(app.queued, None);
    assert_eq!(texts(&app).last(), Some(&(CellKind::User, "later".into())));
}

#[test]
fn a_turn_the_session_task_could_not_start_becomes_a_queued_message() {
    let mut app = app_with((80, 20), Origin::Resumed, vec![user("mine")], &[]);
    type_text(&mut app, "now");
    app.handle(key(KeyCode::Enter));
    assert!(app.turn.is_some());
    app.handle(AppEvent::TurnWaiting {
        turn: 1,
        text: "now".into(),
        holder: "pid 7 on host".into(),
    });
    assert!(app.turn.is_none());
    assert_eq!(app.queued, Some("now".into()));
    assert_eq!(texts(&app), vec![(CellKind::User, "mine".into())]);
    assert!(app.is_busy(), "the other terminal's turn shows");
    let effects = app.handle(AppEvent::LiveUpdate(LiveUpdate::default()));
    assert_eq!(
        effects,
        vec![Effect::Job(SessionJob::SendUserMessage {
            turn: 2,
            text: "now".into(),
            model: app.model.clone(),
        })]
    );
}
