//! The session task and compaction, against the real SQLite store: a summary is stored as one
//! more event (nothing removed), the next request holds exactly the system prompt, the
//! summary and the later turns, and a turn whose history fills the configured share of the
//! context window asks for a summary before its request.

use std::sync::Arc;

use cairn_core::compact::{SummaryInput, local_summary};
use cairn_core::provider::{Message, Part, Role};
use cairn_core::turn::SUMMARY_HEADING;
use cairn_core::{EventKind, SessionService};
use pretty_assertions::assert_eq;
use tokio::sync::mpsc;

use super::fixture::{Fixture, answer, fixture, wait_for};
use super::*;
use crate::app::{CompactJob, CompactionEvent};
use crate::test_support::NOW_MS;

/// A session task on a fresh store that compacts at `compact_at` of `context_window`. The
/// fixture keeps the store's folder.
async fn task(
    compact_at: f64,
    context_window: u64,
) -> (
    Fixture,
    Arc<dyn SessionService>,
    mpsc::UnboundedSender<SessionJob>,
    mpsc::UnboundedReceiver<AppEvent>,
) {
    let fixture = fixture().await;
    let service = fixture.service.clone();
    let (replies, events) = mpsc::unbounded_channel();
    let (jobs, receiver) = mpsc::unbounded_channel();
    // Dropped with the channel: the task ends when `jobs` does.
    let _task = SessionTask::new(fixture.manager(), context_window, Some(100), replies)
        .compact_at(compact_at)
        .spawn(receiver);
    (fixture, service, jobs, events)
}

fn send(jobs: &mpsc::UnboundedSender<SessionJob>, turn: u64, text: &str) {
    jobs.send(SessionJob::SendUserMessage {
        turn,
        text: text.into(),
        model: "m".into(),
    })
    .unwrap();
}

/// Stores one exchange and asks for a manual compaction; returns what the summary is to be
/// made of.
async fn compact_one_exchange(
    jobs: &mpsc::UnboundedSender<SessionJob>,
    events: &mut mpsc::UnboundedReceiver<AppEvent>,
    question: &str,
    reply: &str,
) -> SummaryInput {
    send(jobs, 1, question);
    jobs.send(SessionJob::Record(vec![answer(reply)])).unwrap();
    jobs.send(SessionJob::Compact(CompactJob::Prepare {
        instructions: None,
        model: "m".into(),
        waiting_turn: None,
    }))
    .unwrap();
    wait_for(events, |event| match event {
        AppEvent::Compaction(CompactionEvent::Wanted { input, .. }) => Some(input),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn a_stored_summary_replaces_the_earlier_turns_in_the_next_request_and_removes_nothing() {
    let (_dir, service, jobs, mut events) = task(0.0, 100_000).await;
    for (question, reply) in [("first question", "first answer"), ("second", "reply")] {
        send(&jobs, 1, question);
        jobs.send(SessionJob::Record(vec![answer(reply)])).unwrap();
    }
    jobs.send(SessionJob::Compact(CompactJob::Prepare {
        instructions: Some("keep names".into()),
        model: "m".into(),
        waiting_turn: None,
    }))
    .unwrap();
    let input = wait_for(&mut events, |event| match event {
        AppEvent::Compaction(CompactionEvent::Wanted {
            input,
            request,
            automatic,
            ..
        }) => {
            assert!(!automatic);
            assert_eq!(request.model, "m");
            Some(input)
        }
        _ => None,
    })
    .await;
    assert_eq!(input.messages, 4);
    let text = local_summary(&input);
    jobs.send(SessionJob::Compact(CompactJob::Finish {
        summary: Some((input, text.clone())),
        waiting_turn: None,
        model: "m".into(),
    }))
    .unwrap();
    let messages = wait_for(&mut events, |event| match event {
        AppEvent::Compaction(CompactionEvent::Stored { messages }) => Some(messages),
        _ => None,
    })
    .await;
    assert_eq!(messages, 4);

    send(&jobs, 2, "after the summary");
    let request = wait_for(&mut events, |event| match event {
        AppEvent::RequestReady { turn: 2, request } => Some(request),
        _ => None,
    })
    .await;
    assert_eq!(
        request.messages,
        vec![Message {
            role: Role::User,
            parts: vec![
                Part::Context {
                    text: format!("{SUMMARY_HEADING}\n\n{}", text.trim())
                },
                Part::Text {
                    text: "after the summary".into()
                },
            ],
        }]
    );
    // Every message is still stored, and the summary beside them.
    jobs.send(SessionJob::Record(vec![answer("ok")])).unwrap();
    drop(jobs);
    while events.recv().await.is_some() {}
    let sessions = service
        .list_sessions(&SessionFilter::default())
        .await
        .unwrap();
    let loaded = service.load_session(sessions[0].session.id).await.unwrap();
    let kinds: Vec<&str> = loaded
        .events
        .iter()
        .map(|event| event.kind.event_type())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "user_message",
            "assistant_message",
            "user_message",
            "assistant_message",
            "summary",
            "user_message",
            "assistant_message",
        ]
    );
}

#[tokio::test]
async fn a_turn_past_the_threshold_asks_for_a_summary_before_its_request() {
    // 1,000 tokens of window, compacting at half: the second question is past it.
    let (_dir, _service, jobs, mut events) = task(0.5, 1_000).await;
    send(&jobs, 1, &"q".repeat(1_200));
    let first = wait_for(&mut events, |event| match event {
        AppEvent::RequestReady { turn: 1, .. } => Some(true),
        AppEvent::Compaction(_) => Some(false),
        _ => None,
    })
    .await;
    assert!(first, "300 tokens are under the threshold");
    jobs.send(SessionJob::Record(vec![answer(&"a".repeat(1_200))]))
        .unwrap();
    send(&jobs, 2, "and now?");
    let (input, waiting_turn) = wait_for(&mut events, |event| match event {
        AppEvent::RequestReady { turn: 2, .. } => panic!("the request came before a summary"),
        AppEvent::Compaction(CompactionEvent::Wanted {
            input,
            waiting_turn,
            automatic,
            ..
        }) => {
            assert!(automatic);
            Some((input, waiting_turn))
        }
        _ => None,
    })
    .await;
    assert_eq!(waiting_turn, Some(2));
    // The question waiting for its answer is not part of the summary.
    assert_eq!(input.messages, 2);
    jobs.send(SessionJob::Compact(CompactJob::Finish {
        summary: Some((input, "a summary".into())),
        waiting_turn: Some(2),
        model: "m".into(),
    }))
    .unwrap();
    let request = wait_for(&mut events, |event| match event {
        AppEvent::RequestReady { turn: 2, request } => Some(request),
        _ => None,
    })
    .await;
    assert_eq!(
        request.messages,
        vec![Message {
            role: Role::User,
            parts: vec![
                Part::Context {
                    text: format!("{SUMMARY_HEADING}\n\na summary")
                },
                Part::Text {
                    text: "and now?".into()
                },
            ],
        }]
    );
}

#[tokio::test]
async fn new_with_summary_archives_the_session_and_starts_one_linked_to_it() {
    let (_dir, service, jobs, mut events) = task(0.0, 100_000).await;
    let input = compact_one_exchange(&jobs, &mut events, "how do I build", "cargo build").await;
    let old = service
        .list_sessions(&SessionFilter::default())
        .await
        .unwrap()
        .remove(0)
        .session;
    let text = local_summary(&input);
    jobs.send(SessionJob::Compact(CompactJob::Continue {
        input: input.clone(),
        text: text.clone(),
    }))
    .unwrap();
    let (archived, view, carried) = wait_for(&mut events, |event| match event {
        AppEvent::SessionReset {
            archived,
            view,
            carried,
        } => Some((archived, view, carried)),
        _ => None,
    })
    .await;
    assert!(
        old.id
            .0
            .simple()
            .to_string()
            .starts_with(&archived.unwrap())
    );
    assert_ne!(view.id, old.id);
    assert!(view.stored, "the link is written at once");
    let expected = EventKind::Summary {
        text: text.clone(),
        through: input.through,
        messages: 2,
        continued_from: Some(cairn_core::Continuation {
            session_id: old.id,
            title: "how do I build".into(),
        }),
    };
    assert_eq!(
        carried.iter().map(|e| &e.kind).collect::<Vec<_>>(),
        [&expected]
    );
    let old_row = service.get_session(old.id).await.unwrap().unwrap();
    assert!(old_row.archived_at_ms.is_some());
    assert_eq!(service.load_session(old.id).await.unwrap().events.len(), 2);

    send(&jobs, 2, "and now the tests");
    let request = wait_for(&mut events, |event| match event {
        AppEvent::RequestReady { turn: 2, request } => Some(request),
        _ => None,
    })
    .await;
    assert_eq!(
        request.messages,
        vec![Message {
            role: Role::User,
            parts: vec![
                Part::Context {
                    text: format!("{SUMMARY_HEADING}\n\n{}", text.trim())
                },
                Part::Text {
                    text: "and now the tests".into()
                },
            ],
        }]
    );
    drop(jobs);
    while events.recv().await.is_some() {}
    let loaded = service.load_session(view.id).await.unwrap();
    assert_eq!(loaded.events[0].kind, expected);
    // The first message names the new session, as in any session.
    assert_eq!(loaded.session.title, "and now the tests");
}

#[tokio::test]
async fn compact_takes_the_turn_lease_and_waits_for_another_terminals_turn() {
    let (_dir, service, jobs, mut events) = task(0.0, 100_000).await;
    let input = compact_one_exchange(&jobs, &mut events, "first question", "first answer").await;
    let id = service
        .list_sessions(&SessionFilter::default())
        .await
        .unwrap()[0]
        .session
        .id;
    let other = cairn_core::lease::LeaseHolder {
        invocation_id: cairn_core::InvocationId::new(),
        host: "elsewhere".into(),
        pid: 7,
    };
    service
        .acquire_lease(id, &other, NOW_MS, 60_000)
        .await
        .unwrap();
    let finish = || {
        SessionJob::Compact(CompactJob::Finish {
            summary: Some((input.clone(), local_summary(&input))),
            waiting_turn: None,
            model: "m".into(),
        })
    };
    jobs.send(finish()).unwrap();
    let refused = wait_for(&mut events, |event| match event {
        AppEvent::Compaction(CompactionEvent::Generated { result, .. }) => Some(result),
        _ => None,
    })
    .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|why| why.contains("another terminal")),
        "{refused:?}"
    );
    let stored = service.load_session(id).await.unwrap().events;
    assert!(
        stored
            .iter()
            .all(|event| event.kind.event_type() != "summary")
    );

    service
        .release_lease(id, other.invocation_id)
        .await
        .unwrap();
    jobs.send(finish()).unwrap();
    wait_for(&mut events, |event| match event {
        AppEvent::Compaction(CompactionEvent::Stored { messages }) => Some(messages),
        _ => None,
    })
    .await;
    // Given back once the summary is stored.
    assert_eq!(service.current_lease(id).await.unwrap(), None);
}
