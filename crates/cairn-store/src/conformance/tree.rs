//! Behaviours of sessions as trees: every branch readable, the head moved to another branch
//! with the appends' compare-and-swap, forks that copy a branch and remember their origin.

use cairn_core::{Event, EventId, ForkOrigin, ServiceError, Session, SessionFilter, SessionId};
use pretty_assertions::assert_eq;

use super::{Service, assistant, chain, session, store, user};

/// A stored session with two branches: `q1 a1 q2 a2` and, edited from `a1`, `q2b a2b`, the
/// head. Returns the session as stored and the events of both, old branch first.
async fn two_branches(service: &Service) -> (Session, Vec<Event>, Vec<Event>) {
    let session = session("tree", None, 1_000);
    let old = chain(
        &session,
        None,
        1_000,
        vec![user("q1"), assistant("a1"), user("q2"), assistant("a2")],
    );
    let stored = store(service, &session, &old).await;
    let edited = chain(
        &session,
        Some(old[1].id),
        2_000,
        vec![user("q2b"), assistant("a2b")],
    );
    service
        .append_events(session.id, Some(old[3].id), &edited)
        .await
        .expect("append the edited branch");
    let stored = Session {
        head_id: Some(edited[1].id),
        updated_at_ms: 2_001,
        ..stored
    };
    (stored, old, edited)
}

fn sorted_by_id(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by_key(|event| event.id);
    events
}

async fn counts(service: &Service) -> (u64, u64) {
    let listed = service
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    (listed[0].message_count, listed[0].branch_count)
}

pub async fn every_event_of_every_branch_can_be_read(service: Service) {
    let (stored, old, edited) = two_branches(&service).await;
    let all = service.load_all_events(stored.id).await.expect("load all");
    assert_eq!(all.session, stored);
    assert_eq!(
        sorted_by_id(all.events),
        sorted_by_id([old, edited].concat())
    );
    assert_eq!(all.warnings, Vec::<String>::new());
    assert_eq!(all.forked_from, None);
    let missing = service.load_all_events(SessionId::new()).await;
    assert!(
        matches!(missing, Err(ServiceError::NotFound(_))),
        "got {missing:?}"
    );
}

pub async fn switching_the_head_changes_the_branch_and_the_counts(service: Service) {
    let (stored, old, edited) = two_branches(&service).await;
    assert_eq!(counts(&service).await, (4, 2));

    service
        .switch_head(stored.id, stored.head_id, old[3].id)
        .await
        .expect("switch to the old branch");
    let loaded = service.load_session(stored.id).await.expect("load");
    assert_eq!(loaded.events, old);
    assert_eq!(loaded.off_branch_events, 2);
    // A switch is a head move: `updated_at` stays, nothing else changes.
    assert_eq!(
        loaded.session,
        Session {
            head_id: Some(old[3].id),
            ..stored.clone()
        }
    );
    assert_eq!(counts(&service).await, (4, 2));

    // To the middle of a branch: the next append starts from there.
    service
        .switch_head(stored.id, Some(old[3].id), edited[0].id)
        .await
        .expect("switch to a middle event");
    assert_eq!(counts(&service).await, (3, 2));
    let retry = chain(&stored, Some(edited[0].id), 3_000, vec![assistant("a2c")]);
    service
        .append_events(stored.id, Some(edited[0].id), &retry)
        .await
        .expect("append after the switch");
    assert_eq!(counts(&service).await, (4, 3));
    let all = service.load_all_events(stored.id).await.expect("load all");
    assert_eq!(all.events.len(), 7, "nothing was removed");
}

pub async fn a_stale_or_concurrent_switch_conflicts_and_writes_nothing(service: Service) {
    let (stored, old, edited) = two_branches(&service).await;
    let err = service
        .switch_head(stored.id, Some(old[3].id), old[1].id)
        .await
        .expect_err("stale head");
    assert!(
        matches!(
            &err,
            ServiceError::Conflict { session_id, expected, actual }
                if *session_id == stored.id
                    && *expected == Some(old[3].id)
                    && *actual == Some(edited[1].id)
        ),
        "expected Conflict, got {err:?}"
    );
    assert_eq!(
        service.get_session(stored.id).await.expect("get"),
        Some(stored.clone())
    );

    // Two windows switch at once, both having seen the same head: one wins, the other
    // learns of it and changes nothing.
    let (first, second) = tokio::join!(
        service.switch_head(stored.id, stored.head_id, old[3].id),
        service.switch_head(stored.id, stored.head_id, old[1].id),
    );
    let winner = match (&first, &second) {
        (Ok(()), Err(ServiceError::Conflict { actual, .. })) => {
            assert_eq!(*actual, Some(old[3].id));
            old[3].id
        }
        (Err(ServiceError::Conflict { actual, .. }), Ok(())) => {
            assert_eq!(*actual, Some(old[1].id));
            old[1].id
        }
        other => panic!("expected one switch and one conflict, got {other:?}"),
    };
    let head = service.get_session(stored.id).await.expect("get");
    assert_eq!(head.and_then(|session| session.head_id), Some(winner));
}

pub async fn switching_to_an_event_of_another_session_is_refused(service: Service) {
    let (stored, _, _) = two_branches(&service).await;
    let other = session("other", None, 5_000);
    let other_events = chain(&other, None, 5_000, vec![user("elsewhere")]);
    store(&service, &other, &other_events).await;

    let err = service
        .switch_head(stored.id, stored.head_id, other_events[0].id)
        .await
        .expect_err("an event of another session");
    assert!(
        matches!(
            &err,
            ServiceError::EventNotFound { session_id, event_id }
                if *session_id == stored.id && *event_id == other_events[0].id
        ),
        "expected EventNotFound, got {err:?}"
    );
    assert_eq!(
        service.get_session(stored.id).await.expect("get"),
        Some(stored)
    );
    let err = service
        .switch_head(SessionId::new(), None, EventId::new())
        .await
        .expect_err("no such session");
    assert!(matches!(err, ServiceError::NotFound(_)), "got {err:?}");
}

pub async fn a_fork_copies_a_branch_and_records_its_origin(service: Service) {
    let (stored, old, _) = two_branches(&service).await;
    let before = service.load_all_events(stored.id).await.expect("load all");
    let fork = Session {
        title: "forked".to_owned(),
        ..session("tree", None, 9_000)
    };
    let copies = cairn_core::tree::copy_branch(&old[..3], fork.id);
    let origin = ForkOrigin {
        session_id: stored.id,
        event_id: old[2].id,
    };
    let fork_row = Session {
        head_id: Some(copies[2].id),
        ..fork
    };
    service
        .create_fork(&fork_row, &copies, origin)
        .await
        .expect("fork");

    let loaded = service.load_session(fork_row.id).await.expect("load fork");
    assert_eq!(loaded.session, fork_row);
    assert_eq!(loaded.events, copies);
    assert_eq!(loaded.forked_from, Some(origin));
    let all = service
        .load_all_events(fork_row.id)
        .await
        .expect("load all");
    assert_eq!(all.forked_from, Some(origin));
    // The original is untouched.
    assert_eq!(
        service.load_all_events(stored.id).await.expect("load all"),
        before
    );
    let listed = service
        .list_sessions(&SessionFilter::default())
        .await
        .expect("list");
    let fork_summary = listed
        .iter()
        .find(|summary| summary.session.id == fork_row.id)
        .expect("the fork is listed");
    assert_eq!(
        (fork_summary.message_count, fork_summary.branch_count),
        (3, 1)
    );
}

pub async fn a_fork_from_an_event_of_another_session_writes_nothing(service: Service) {
    let (stored, old, _) = two_branches(&service).await;
    let other = session("other", None, 5_000);
    let other_events = chain(&other, None, 5_000, vec![user("elsewhere")]);
    store(&service, &other, &other_events).await;

    let fork = session("tree", None, 9_000);
    let copies = cairn_core::tree::copy_branch(&old, fork.id);
    let err = service
        .create_fork(
            &fork,
            &copies,
            ForkOrigin {
                session_id: stored.id,
                event_id: other_events[0].id,
            },
        )
        .await
        .expect_err("origin event of another session");
    assert!(
        matches!(&err, ServiceError::EventNotFound { session_id, .. } if *session_id == stored.id),
        "expected EventNotFound, got {err:?}"
    );
    assert_eq!(service.get_session(fork.id).await.expect("get"), None);
}

/// For a backend that cannot switch branches or fork yet
/// (`conformance_tests!(..; without search, tree)`): both are errors that say so and write
/// nothing. Not part of the suite every backend runs (its signature takes the service by
/// another name).
pub async fn switching_and_forking_are_refused_clearly(backend: Service) {
    let session = session("tree", None, 1_000);
    let events = chain(&session, None, 1_000, vec![user("q"), assistant("a")]);
    let stored = store(&backend, &session, &events).await;
    let switch = backend
        .switch_head(session.id, stored.head_id, events[0].id)
        .await
        .expect_err("a backend that cannot switch says so");
    assert!(switch.to_string().contains("not available"), "{switch}");
    let loaded = backend.load_session(session.id).await.expect("load");
    assert_eq!(loaded.session.head_id, stored.head_id, "nothing written");
}
