//! The [`SessionManager`]'s moves around the conversation tree over a real SQLite file:
//! asking again from an earlier point, switching branches, forking; the model only ever
//! receives the active branch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;

use cairn_core::provider::{Message, Part, Role};
use cairn_core::{
    Event, EventKind, ManualClock, ResumePolicy, SessionManager, SessionService, Workspace,
};
use cairn_store::SqliteSessionService;
use pretty_assertions::assert_eq;
use tempfile::TempDir;

const T0: i64 = 1_700_000_000_000;

async fn fixture() -> (TempDir, Arc<dyn SessionService>, ManualClock) {
    let dir = tempfile::tempdir().unwrap();
    let service = SqliteSessionService::open(&dir.path().join("sessions.db"))
        .await
        .unwrap();
    (dir, Arc::new(service), ManualClock::new(T0))
}

fn manager(service: &Arc<dyn SessionService>, clock: &ManualClock) -> SessionManager {
    SessionManager::new(
        service.clone(),
        Arc::new(clock.clone()),
        Workspace {
            directory: PathBuf::from("/work/tree"),
            git_root: None,
            git_branch: None,
            repository: None,
            host: "here".to_owned(),
        },
        ResumePolicy {
            continue_minutes: 60,
        },
    )
}

fn user(text: &str) -> EventKind {
    EventKind::UserMessage { text: text.into() }
}

fn assistant(text: &str) -> EventKind {
    EventKind::AssistantMessage {
        text: text.into(),
        usage: None,
        interrupted: false,
        model: None,
    }
}

fn texts<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<String> {
    events
        .into_iter()
        .filter_map(|event| match &event.kind {
            EventKind::UserMessage { text } | EventKind::AssistantMessage { text, .. } => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect()
}

fn request_texts(manager: &SessionManager) -> Vec<String> {
    manager
        .next_request("m", None, 100_000)
        .messages
        .iter()
        .flat_map(|message: &Message| {
            message.parts.iter().filter_map(move |part| match part {
                Part::Text { text } => Some(format!(
                    "{}: {text}",
                    if message.role == Role::User { "u" } else { "a" }
                )),
                _ => None,
            })
        })
        .collect()
}

/// Three turns, stored: q1 a1 q2 a2 q3 a3.
async fn three_turns(manager: &mut SessionManager, clock: &ManualClock) -> Vec<Event> {
    for turn in 1..=3 {
        manager.push(user(&format!("q{turn}")));
        clock.advance_ms(1_000);
        manager.push(assistant(&format!("a{turn}")));
        clock.advance_ms(1_000);
    }
    manager.persist_pending().await.unwrap();
    manager.events().cloned().collect()
}

#[tokio::test]
async fn editing_an_earlier_message_makes_a_branch_and_keeps_the_old_one() {
    let (_dir, service, clock) = fixture().await;
    let mut manager = manager(&service, &clock);
    let events = three_turns(&mut manager, &clock).await;
    let q2 = &events[2];

    // Edit q2: the new message follows q2's parent.
    manager.branch_at(q2.parent_id).await.unwrap();
    manager.push(user("q2, edited"));
    assert_eq!(
        request_texts(&manager),
        vec!["u: q1", "a: a1", "u: q2, edited"],
        "the model sees only the new branch"
    );
    manager.push(assistant("a2b"));
    manager.persist_pending().await.unwrap();

    let loaded = service.load_session(manager.session().id).await.unwrap();
    assert_eq!(texts(&loaded.events), vec!["q1", "a1", "q2, edited", "a2b"]);
    let tree = manager.tree().await.unwrap();
    assert_eq!(tree.branch_count, 2);
    assert_eq!(tree.active_messages, 4);
    let all = service.load_all_events(manager.session().id).await.unwrap();
    assert_eq!(all.events.len(), 8, "the old third turn is intact");

    // Back to the old branch through q2: its newest leaf, a3.
    let head = manager.switch_branch(q2.id).await.unwrap();
    assert_eq!(head, events[5].id);
    assert_eq!(
        texts(manager.events()),
        vec!["q1", "a1", "q2", "a2", "q3", "a3"]
    );
    manager.push(user("q4"));
    assert_eq!(request_texts(&manager).len(), 7);
    manager.persist_pending().await.unwrap();
    let loaded = service.load_session(manager.session().id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["q1", "a1", "q2", "a2", "q3", "a3", "q4"]
    );
}

#[tokio::test]
async fn asking_from_an_event_on_another_branch_loads_that_branch_first() {
    let (_dir, service, clock) = fixture().await;
    let mut manager = manager(&service, &clock);
    let events = three_turns(&mut manager, &clock).await;
    manager.branch_at(Some(events[1].id)).await.unwrap();
    manager.push(user("other q2"));
    manager.persist_pending().await.unwrap();

    // a2 is on the old branch now, not in memory.
    manager.branch_at(Some(events[3].id)).await.unwrap();
    manager.push(user("after a2"));
    manager.persist_pending().await.unwrap();
    let loaded = service.load_session(manager.session().id).await.unwrap();
    assert_eq!(
        texts(&loaded.events),
        vec!["q1", "a1", "q2", "a2", "after a2"]
    );
    assert_eq!(manager.tree().await.unwrap().branch_count, 3);
}

#[tokio::test]
async fn a_fork_becomes_the_current_session_and_leaves_the_original_alone() {
    let (_dir, service, clock) = fixture().await;
    let mut manager = manager(&service, &clock);
    let events = three_turns(&mut manager, &clock).await;
    let original = manager.session().id;
    let before = service.load_all_events(original).await.unwrap();

    clock.advance_ms(60_000);
    let forked_from = manager.fork(Some(events[3].id), None).await.unwrap();
    assert_eq!(forked_from, original);
    let fork = manager.session().clone();
    assert_ne!(fork.id, original);
    assert_eq!(texts(manager.events()), vec!["q1", "a1", "q2", "a2"]);
    let loaded = service.load_session(fork.id).await.unwrap();
    assert_eq!(
        loaded
            .forked_from
            .map(|origin| (origin.session_id, origin.event_id)),
        Some((original, events[3].id))
    );
    assert_eq!(loaded.session.title, "q1");
    assert_eq!(loaded.session.updated_at_ms, T0 + 66_000);
    manager.push(user("in the fork"));
    manager.persist_pending().await.unwrap();
    assert_eq!(service.load_all_events(original).await.unwrap(), before);
    assert_eq!(
        texts(&service.load_session(fork.id).await.unwrap().events),
        vec!["q1", "a1", "q2", "a2", "in the fork"]
    );
}

/// q1 a1 q2 a2 q3 a3, then q2 edited into a second branch (the head is on it).
async fn two_branches(manager: &mut SessionManager, clock: &ManualClock) -> Vec<Event> {
    let events = three_turns(manager, clock).await;
    manager.branch_at(events[2].parent_id).await.unwrap();
    manager.push(user("q2, edited"));
    clock.advance_ms(1_000);
    manager.push(assistant("a2b"));
    manager.persist_pending().await.unwrap();
    events
}

#[tokio::test]
async fn a_branch_picked_from_the_tree_on_screen_is_switched_to_without_reading_again() {
    let (_dir, service, clock) = fixture().await;
    let mut manager = manager(&service, &clock);
    let events = two_branches(&mut manager, &clock).await;
    let seen = manager.seen_tree().await.unwrap().unwrap();
    assert_eq!(seen.tree.branch_count, 2);
    let (head, branches) = manager
        .switch_branch_seen(Some(seen), events[2].id)
        .await
        .unwrap();
    assert_eq!((head, branches), (events[5].id, 2));
    assert_eq!(
        texts(manager.events()),
        vec!["q1", "a1", "q2", "a2", "q3", "a3"]
    );
    let stored = service.load_session(manager.session().id).await.unwrap();
    assert_eq!(stored.session.head_id, Some(events[5].id), "the head moved");
}

#[tokio::test]
async fn a_tree_seen_before_another_terminal_wrote_still_switches_to_what_is_stored_now() {
    let (_dir, service, clock) = fixture().await;
    let mut manager = manager(&service, &clock);
    let events = two_branches(&mut manager, &clock).await;
    let seen = manager.seen_tree().await.unwrap().unwrap();

    // Another terminal answers again under q3 (moving the head) while the tree is on screen.
    let mut other = self::manager(&service, &clock);
    other.resume(manager.session().id).await.unwrap();
    other.switch_branch(events[4].id).await.unwrap();
    clock.advance_ms(1_000);
    other.push(user("q4 from the other terminal"));
    other.persist_pending().await.unwrap();

    let (head, branches) = manager
        .switch_branch_seen(Some(seen), events[2].id)
        .await
        .unwrap();
    let newest = other.events().last().unwrap().id;
    assert_eq!(
        head, newest,
        "the newest leaf under q2 is the other terminal's"
    );
    assert_eq!(branches, 2);
    assert_eq!(
        texts(manager.events()),
        vec![
            "q1",
            "a1",
            "q2",
            "a2",
            "q3",
            "a3",
            "q4 from the other terminal"
        ]
    );
}

#[tokio::test]
async fn a_tree_seen_before_our_own_unsaved_message_is_read_again() {
    let (_dir, service, clock) = fixture().await;
    let mut manager = manager(&service, &clock);
    let events = two_branches(&mut manager, &clock).await;
    let seen = manager.seen_tree().await.unwrap().unwrap();
    manager.push(user("typed after opening the tree"));
    let (head, branches) = manager
        .switch_branch_seen(Some(seen), events[2].id)
        .await
        .unwrap();
    assert_eq!((head, branches), (events[5].id, 2));
    let all = service.load_all_events(manager.session().id).await.unwrap();
    assert!(
        texts(&all.events).contains(&"typed after opening the tree".to_owned()),
        "the pending message was stored on its own branch first"
    );
}
