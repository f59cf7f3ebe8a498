//! The rewind list, editing an earlier message, `/tree` and `/fork`: every key.

use cairn_core::tree::ConversationTree;
use cairn_core::{Event, EventId};
use crossterm::event::KeyCode;
use pretty_assertions::assert_eq;
use uuid::Uuid;

use super::texts;
use crate::app::{App, AppEvent, Effect, Origin, Overlay, SessionJob, TreeJob};
use crate::test_support::*;
use crate::transcript::CellKind;

/// q1 a1 q2 a2 q3 a3, stored.
fn three_turns() -> (App, Vec<Event>) {
    let kinds = vec![
        user("q1"),
        assistant("a1"),
        user("q2"),
        assistant("a2"),
        user("q3\nsecond line"),
        assistant("a3"),
    ];
    let events = events(kinds.clone());
    let mut app = app_with((80, 24), Origin::Resumed, kinds, &[]);
    app.session.stored = true;
    (app, events)
}

fn open_rewind(app: &mut App, branch: &[Event]) {
    assert_eq!(app.handle(key(KeyCode::Esc)), vec![]);
    assert_eq!(
        app.hint.as_deref(),
        Some("press Esc again to go back to an earlier message")
    );
    assert_eq!(
        app.handle(key(KeyCode::Esc)),
        vec![Effect::Job(SessionJob::Tree(TreeJob::ListBranch))]
    );
    app.handle(AppEvent::BranchListed(Ok(branch.to_vec())));
}

fn rewind_labels(app: &App) -> (Vec<String>, usize) {
    let Overlay::Rewind(list) = &app.overlay else {
        panic!("the rewind list is closed");
    };
    (
        list.visible()
            .iter()
            .map(|item| item.label.clone())
            .collect(),
        list.selected,
    )
}

#[test]
fn esc_twice_opens_the_rewind_list_with_the_newest_message_selected() {
    let (mut app, events) = three_turns();
    open_rewind(&mut app, &events);
    assert_eq!(
        rewind_labels(&app),
        (vec!["q3".into(), "q2".into(), "q1".into()], 0)
    );
}

#[test]
fn another_key_between_the_two_escs_does_not_open_it() {
    let (mut app, _) = three_turns();
    app.handle(key(KeyCode::Esc));
    app.handle(key(KeyCode::Left));
    assert_eq!(app.handle(key(KeyCode::Esc)), vec![]);
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn rewind_list_keys_move_filter_and_close_without_changes() {
    let (mut app, events) = three_turns();
    let before = texts(&app);
    open_rewind(&mut app, &events);
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Down));
    assert_eq!(rewind_labels(&app).1, 2, "stops at the oldest");
    app.handle(key(KeyCode::Up));
    assert_eq!(rewind_labels(&app).1, 1);
    type_text(&mut app, "Q1");
    assert_eq!(rewind_labels(&app), (vec!["q1".into()], 0));
    app.handle(key(KeyCode::Backspace));
    assert_eq!(rewind_labels(&app).0.len(), 3);
    assert_eq!(app.handle(key(KeyCode::Esc)), vec![]);
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(texts(&app), before);
    assert_eq!(app.input_text(), "");
    // `/rewind` opens it too.
    type_text(&mut app, "/rewind");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(effects.contains(&Effect::Job(SessionJob::Tree(TreeJob::ListBranch))));
}

#[test]
fn enter_edits_from_there_and_esc_returns_to_the_latest() {
    let (mut app, events) = three_turns();
    let before = texts(&app);
    open_rewind(&mut app, &events);
    app.handle(key(KeyCode::Down));
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![]);
    assert!(matches!(app.overlay, Overlay::None));
    assert_eq!(app.input_text(), "q2");
    assert_eq!(
        texts(&app),
        vec![(CellKind::User, "q1".into()), before[1].clone()],
        "the transcript as it was before q2"
    );
    assert_eq!(
        app.hint.as_deref(),
        Some("editing from here · Esc returns to the latest")
    );
    assert_eq!(app.handle(key(KeyCode::Esc)), vec![]);
    assert_eq!(texts(&app), before);
    assert_eq!(app.input_text(), "");
    assert!(app.editing.is_none());
}

#[test]
fn sending_an_edited_message_branches_from_the_originals_parent() {
    let (mut app, events) = three_turns();
    open_rewind(&mut app, &events);
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Enter));
    type_text(&mut app, " edited");
    // Esc with the input changed does not throw the edit away.
    app.handle(key(KeyCode::Esc));
    assert_eq!(app.input_text(), "q2 edited");
    let effects = app.handle(key(KeyCode::Enter));
    assert_eq!(
        effects,
        vec![
            Effect::SaveHistory("q2 edited".into()),
            Effect::Job(SessionJob::Tree(TreeJob::BranchAt(Some(events[1].id)))),
            Effect::Job(SessionJob::SendUserMessage {
                turn: 1,
                text: "q2 edited".into(),
                model: "echo".into(),
            }),
        ]
    );
    assert_eq!(
        texts(&app).last(),
        Some(&(CellKind::User, "q2 edited".into()))
    );
    assert_eq!(texts(&app).len(), 3, "q1 a1 and the edit");
    assert!(app.editing.is_none());
    assert_eq!(app.session.branches, 2);
}

/// The three turns plus an edit of q2 (the head), as a tree.
fn tree_of(events: &[Event]) -> (ConversationTree, Vec<Event>) {
    let mut all = events.to_vec();
    let edited = Event {
        id: EventId(Uuid::from_u128(0x2000)),
        parent_id: Some(events[1].id),
        created_at_ms: NOW_MS,
        kind: user("q2 edited"),
        ..events[2].clone()
    };
    let answer = Event {
        id: EventId(Uuid::from_u128(0x2001)),
        parent_id: Some(edited.id),
        created_at_ms: NOW_MS + 1,
        kind: assistant("a2 edited"),
        ..events[3].clone()
    };
    let head = answer.id;
    all.push(edited);
    all.push(answer);
    (ConversationTree::build(&all, Some(head)), all)
}

fn open_tree(app: &mut App, events: &[Event]) {
    type_text(app, "/tree");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(effects.contains(&Effect::Job(SessionJob::Tree(TreeJob::LoadTree))));
    let (tree, _) = tree_of(events);
    app.handle(AppEvent::TreeLoaded(Ok(tree)));
}

fn selected(app: &App) -> usize {
    let Overlay::Tree(view) = &app.overlay else {
        panic!("the tree is closed");
    };
    view.selected
}

#[test]
fn tree_keys_move_switch_fork_and_close() {
    let (mut app, events) = three_turns();
    open_tree(&mut app, &events);
    // Rows: q1, q2, q3, q2 edited (the head).
    assert_eq!(selected(&app), 3);
    assert_eq!(app.session.branches, 2, "the status line learns the count");
    app.handle(key(KeyCode::Down));
    assert_eq!(selected(&app), 3, "stays on the last row");
    app.handle(key(KeyCode::Left));
    assert_eq!(selected(&app), 0, "to the message it follows");
    app.handle(key(KeyCode::Right));
    assert_eq!(selected(&app), 1, "to the first that follows");
    app.handle(key(KeyCode::Down));
    assert_eq!(selected(&app), 2);
    app.handle(key(KeyCode::Up));
    assert_eq!(selected(&app), 1);

    assert_eq!(
        app.handle(key(KeyCode::Char('f'))),
        vec![Effect::Job(SessionJob::Tree(TreeJob::Fork {
            at: Some(events[5].id)
        }))],
        "forks the branch through the row, to its newest event"
    );
    assert!(matches!(app.overlay, Overlay::None));

    open_tree(&mut app, &events);
    app.handle(key(KeyCode::Up));
    app.handle(key(KeyCode::Up));
    assert_eq!(
        app.handle(key(KeyCode::Enter)),
        vec![Effect::Job(SessionJob::Tree(TreeJob::SwitchBranch(
            events[2].id
        )))]
    );
    assert!(matches!(app.overlay, Overlay::None));

    open_tree(&mut app, &events);
    assert_eq!(app.handle(key(KeyCode::Esc)), vec![]);
    assert!(matches!(app.overlay, Overlay::None));
}

#[test]
fn fork_needs_a_stored_session() {
    let mut app = new_app();
    type_text(&mut app, "/fork");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Job(_))));
    assert_eq!(
        texts(&app).last(),
        Some(&(CellKind::Note, "There is nothing to fork yet.".into()))
    );
    let (mut app, _) = three_turns();
    type_text(&mut app, "/fork");
    let effects = app.handle(key(KeyCode::Enter));
    assert!(effects.contains(&Effect::Job(SessionJob::Tree(TreeJob::Fork { at: None }))));
}

#[test]
fn editing_and_coming_back_keeps_the_fold_of_a_summary() {
    let mut kinds = vec![user("q1"), assistant("a1")];
    // Ids are given by position, so the second event's id is known before it is made.
    let through = events(kinds.clone())[1].id;
    kinds.extend([
        cairn_core::EventKind::Summary {
            text: "- Asked q1.".into(),
            through,
            messages: 2,
            continued_from: None,
        },
        user("q2"),
        assistant("a2"),
    ]);
    let all = events(kinds.clone());
    let mut app = app_with((80, 24), Origin::Resumed, kinds, &[]);
    app.session.stored = true;
    assert!(app.transcript.is_folded());
    open_rewind(&mut app, &all);
    assert_eq!(app.handle(key(KeyCode::Enter)), vec![]);
    assert_eq!(app.input_text(), "q2");
    // Esc back to the latest branch: still folded, as before the edit.
    assert_eq!(app.handle(key(KeyCode::Esc)), vec![]);
    assert!(app.editing.is_none());
    assert!(app.transcript.is_folded(), "the fold survives the edit");
}
