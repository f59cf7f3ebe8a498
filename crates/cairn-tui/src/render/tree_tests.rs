//! Snapshots of the rewind list and `/tree`, small and at 80x24, and of the status line of a
//! session with branches.

use cairn_core::tree::ConversationTree;
use cairn_core::{Event, EventId};
use crossterm::event::KeyCode;
use insta::assert_snapshot;
use uuid::Uuid;

use crate::app::{App, AppEvent, Origin};
use crate::test_support::*;

fn conversation() -> Vec<cairn_core::EventKind> {
    vec![
        user("How do I read a file in Rust?"),
        assistant("Use `std::fs::read_to_string`."),
        user("And line by line?"),
        assistant("Wrap it in a `BufReader`."),
        user("What about \u{1b}[31mbinary\u{1b}[0m files?\nWith more lines"),
        assistant("Use `std::fs::read`."),
    ]
}

fn app(size: (u16, u16)) -> (App, Vec<Event>) {
    let kinds = conversation();
    let mut app = app_with(size, Origin::Resumed, kinds.clone(), &[]);
    app.session.stored = true;
    (app, events(kinds))
}

/// The conversation, an edit of its second message (the head) and a retried first answer.
fn tree(events: &[Event]) -> (ConversationTree, Vec<Event>) {
    let mut all = events.to_vec();
    let mut add = |n: u128, parent: EventId, kind| {
        let event = Event {
            id: EventId(Uuid::from_u128(0x2000 + n)),
            parent_id: Some(parent),
            created_at_ms: NOW_MS + n as i64,
            kind,
            ..events[0].clone()
        };
        all.push(event.clone());
        event.id
    };
    let retried = add(
        0,
        events[0].id,
        assistant("Read it with `fs::read_to_string`."),
    );
    let _ = retried;
    let edited = add(1, events[1].id, user("And as bytes?"));
    let head = add(2, edited, assistant("`std::fs::read`."));
    (ConversationTree::build(&all, Some(head)), all)
}

fn with_tree(size: (u16, u16)) -> App {
    let (mut app, events) = app(size);
    type_text(&mut app, "/tree");
    app.handle(key(KeyCode::Enter));
    let (tree, _) = tree(&events);
    app.handle(AppEvent::TreeLoaded(Ok(tree)));
    app
}

#[test]
fn rewind_list_at_80_by_24() {
    let (mut app, events) = app((80, 24));
    app.handle(key(KeyCode::Esc));
    app.handle(key(KeyCode::Esc));
    app.handle(AppEvent::BranchListed(Ok(events)));
    app.handle(key(KeyCode::Down));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn editing_from_an_earlier_message() {
    let (mut app, events) = app((80, 16));
    app.handle(key(KeyCode::Esc));
    app.handle(key(KeyCode::Esc));
    app.handle(AppEvent::BranchListed(Ok(events)));
    app.handle(key(KeyCode::Down));
    app.handle(key(KeyCode::Enter));
    assert_snapshot!(draw(&app).backend());
}

#[test]
fn tree_at_80_by_24() {
    assert_snapshot!(draw(&with_tree((80, 24))).backend());
}

#[test]
fn tree_small() {
    assert_snapshot!(draw(&with_tree((40, 8))).backend());
}

#[test]
fn tree_tiny_does_not_panic() {
    for size in [(1, 1), (10, 3), (0, 0)] {
        draw(&with_tree(size));
    }
}

#[test]
fn sessions_picker_shows_a_branched_session() {
    use cairn_core::{Session, SessionId, SessionSummary};
    let mut app = new_app();
    type_text(&mut app, "/sessions");
    app.handle(key(KeyCode::Enter));
    let summary = |n: u128, title: &str, messages: u64, branches: u64| SessionSummary {
        session: Session {
            id: SessionId(Uuid::from_u128((0x0193_0000 + n) << 96)),
            directory: "/home/dev/projects/demo".into(),
            git_root: None,
            head_id: None,
            title: title.into(),
            created_at_ms: NOW_MS - 120_000,
            updated_at_ms: NOW_MS - 60_000 * n as i64,
            archived_at_ms: None,
            model: None,
            location: cairn_core::Location::default(),
        },
        message_count: messages,
        branch_count: branches,
        preview: "a question".into(),
        title_source: cairn_core::title::TitleSource::FirstMessage,
    };
    app.handle(AppEvent::SessionsListed {
        all_workspaces: false,
        result: Ok(vec![
            summary(1, "Branched", 6, 3),
            summary(2, "Straight", 4, 1),
        ]),
    });
    assert_snapshot!(draw(&app).backend());
}
